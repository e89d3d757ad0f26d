/* kernels_reduce.c - reduce_min/prod/l1/l2/log_sum/log_sum_exp/sum_square, arg_max/arg_min,
 * log_softmax and hardmax.
 *
 * Floats compute in double and round once; integer min, prod, l1 and sum_square accumulate in
 * int64 with wrapping, the other reductions of integers compute in double and truncate. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kernels.h"

/* Operand 0 is a float or integer, not quantized (quantized allowed for allow_q); floats for
 * float_only. */
static int numeric0(const RtTensor *in, bool float_only, bool allow_q, char *err, size_t errlen) {
  if (in[0].quantized && !allow_q)
    return rt_ref_quantized(0, err, errlen);
  if (rt_elem_is_float(in[0].elem) || (!float_only && rt_elem_is_int(in[0].elem)))
    return RT_OK;
  return rt_ref_unsupported(in[0].elem, err, errlen);
}

/* Result 0's element type is e. */
static int result_is(const RtTensor *out, RtElem e, char *err, size_t errlen) {
  if (out[0].elem == e)
    return RT_OK;
  return rt_ref_fail(err, errlen, RT_EUNSUPPORTED, "result element type %s, expected %s",
                     rt_elem_name(out[0].elem), rt_elem_name(e));
}

/* Splits x around axis: outer elements before, len along it, inner after. */
static void split_axis(const RtTensor *x, int axis, int64_t *outer, int64_t *len,
                       int64_t *inner) {
  *outer = *len = *inner = 1;
  for (int i = 0; i < x->rank; i++)
    *(i < axis ? outer : i == axis ? len : inner) *= x->dims[i];
}

/* ---- reductions over axes ---- */

/* reduce_min, reduce_prod, reduce_l1, reduce_l2, reduce_log_sum, reduce_log_sum_exp and
 * reduce_sum_square over axes (absent or empty: all; negative count from the end), keeping
 * reduced dimensions as 1 when keepdims (default 1). An empty min is +inf (floats) or the
 * largest value; an empty prod 1; empty log sums -inf. */
int rt_k_reduce_ext(const RtNode *n, const RtTensor *in, int nin, RtTensor *out, int nout,
                    char *err, size_t errlen) {
  int st = rt_ref_check_call(n, in, nin, out, nout, err, errlen);
  if (st != RT_OK)
    return st;
  const RtTensor *x = &in[0];
  RtReducePlan plan;
  if ((st = rt_ref_reduce_plan(n, x, &plan, err, errlen)))
    return st;
  const int64_t *ostride = plan.ostride;
  OpKind k = n->op;
  bool is_min = k == OP_REDUCE_MIN;
  if ((st = rt_ref_check_result(&out[0], 0, plan.rank, plan.dims, err, errlen)) ||
      (st = result_is(out, x->elem, err, errlen)) ||
      (st = numeric0(in, false, is_min, err, errlen)))
    return st;
  bool f = rt_elem_is_float(x->elem), u = rt_elem_is_unsigned(x->elem);
  bool iacc_mode = !f && (is_min || k == OP_REDUCE_PROD || k == OP_REDUCE_L1 ||
                          k == OP_REDUCE_SUM_SQUARE);
  int64_t count = rt_tensor_numel(x), ocount = rt_tensor_numel(&out[0]);
  size_t oc = (size_t)(ocount ? ocount : 1);
  double *acc = malloc(sizeof *acc * oc), *mx = malloc(sizeof *mx * oc);
  int64_t *iacc = malloc(sizeof *iacc * oc);
  bool *seen = calloc(oc, 1);
  if (!acc || !mx || !iacc || !seen) {
    free(acc), free(mx), free(iacc), free(seen);
    return rt_ref_fail(err, errlen, RT_ENOMEM, "out of memory");
  }
  for (int64_t o = 0; o < ocount; o++) {
    acc[o] = is_min ? INFINITY : k == OP_REDUCE_PROD ? 1 : 0;
    iacc[o] = k == OP_REDUCE_PROD ? 1 : 0;
    mx[o] = -INFINITY;
  }
  for (int pass = k == OP_REDUCE_LOG_SUM_EXP ? 0 : 1; pass < 2; pass++) {
    int64_t idx[RT_MAX_RANK] = {0}, o = 0;
    for (int64_t i = 0; i < count; i++) {
      if (pass == 0) { /* log_sum_exp: the maximum of each group first */
        double v = rt_ref_get(x->elem, x->data, i);
        mx[o] = v > mx[o] || v != v ? v : mx[o];
      } else if (iacc_mode) {
        int64_t v = rt_ref_geti(x->elem, x->data, i);
        uint64_t a = (uint64_t)iacc[o], w = (uint64_t)v;
        if (is_min) {
          if (!seen[o] || (u ? w < a : v < iacc[o]))
            iacc[o] = v;
        } else if (k == OP_REDUCE_PROD) {
          iacc[o] = (int64_t)(a * w);
        } else if (k == OP_REDUCE_L1) {
          iacc[o] = (int64_t)(a + (!u && v < 0 ? (uint64_t)0 - w : w));
        } else {
          iacc[o] = (int64_t)(a + w * w);
        }
        seen[o] = true;
      } else {
        double v = rt_ref_get(x->elem, x->data, i);
        switch (k) {
        case OP_REDUCE_MIN: acc[o] = v < acc[o] || v != v ? v : acc[o]; break;
        case OP_REDUCE_PROD: acc[o] *= v; break;
        case OP_REDUCE_L1: acc[o] += fabs(v); break;
        case OP_REDUCE_LOG_SUM: acc[o] += v; break;
        case OP_REDUCE_LOG_SUM_EXP:
          acc[o] += isinf(mx[o]) ? exp(v) : exp(v - mx[o]);
          break;
        default: acc[o] += v * v; break; /* l2, sum_square */
        }
      }
      for (int d = x->rank - 1; d >= 0; d--) { /* next input index, and its output offset */
        o += ostride[d];
        if (++idx[d] < x->dims[d])
          break;
        o -= ostride[d] * x->dims[d];
        idx[d] = 0;
      }
    }
  }
  for (int64_t q = 0; q < ocount; q++) {
    if (iacc_mode) {
      int64_t v = iacc[q];
      if (is_min && !seen[q])
        v = u ? -1 : INT64_MAX;
      rt_ref_puti(out[0].elem, out[0].data, q, v);
      continue;
    }
    double v = acc[q];
    if (k == OP_REDUCE_L2)
      v = sqrt(v);
    else if (k == OP_REDUCE_LOG_SUM)
      v = log(v);
    else if (k == OP_REDUCE_LOG_SUM_EXP)
      v = log(v) + (isinf(mx[q]) ? 0 : mx[q]);
    if (f)
      rt_ref_put(out[0].elem, out[0].data, q, v);
    else
      rt_ref_puti(out[0].elem, out[0].data, q, (int64_t)v);
  }
  free(acc), free(mx), free(iacc), free(seen);
  return RT_OK;
}

/* ---- arg_max, arg_min ---- */

/* The index of the largest (arg_max) or smallest (arg_min) element along axis (default 0), the
 * first of equal ones or, with select_last_index, the last; the axis is kept as 1 when keepdims
 * (default 1). The result is i64. */
int rt_k_arg(const RtNode *n, const RtTensor *in, int nin, RtTensor *out, int nout, char *err,
             size_t errlen) {
  int st = rt_ref_check_call(n, in, nin, out, nout, err, errlen), axis = 0, rank = 0;
  if (st != RT_OK)
    return st;
  const RtTensor *x = &in[0];
  if ((st = rt_ref_axis(rt_attr_int(n, "axis", 0), x->rank, &axis, err, errlen)))
    return st;
  bool keep = rt_attr_int(n, "keepdims", 1) != 0, last = rt_attr_int(n, "select_last_index", 0);
  int64_t dims[RT_MAX_RANK];
  for (int i = 0; i < x->rank; i++)
    if (i != axis || keep)
      dims[rank++] = i == axis ? 1 : x->dims[i];
  if ((st = rt_ref_check_result(&out[0], 0, rank, dims, err, errlen)) ||
      (st = result_is(out, RT_ELEM_I64, err, errlen)) ||
      (st = numeric0(in, false, true, err, errlen)))
    return st;
  bool is_max = n->op == OP_ARG_MAX, f = rt_elem_is_float(x->elem);
  bool u = rt_elem_is_unsigned(x->elem);
  int64_t outer, len, inner;
  split_axis(x, axis, &outer, &len, &inner);
  for (int64_t o = 0; o < outer; o++)
    for (int64_t j = 0; j < inner; j++) {
      int64_t base = o * len * inner + j, best = 0;
      for (int64_t i = 1; i < len; i++) {
        int64_t p = base + i * inner, b = base + best * inner;
        int c; /* sign of x[p] - x[best] */
        if (f) {
          double v = rt_ref_get(x->elem, x->data, p), w = rt_ref_get(x->elem, x->data, b);
          c = v > w ? 1 : v < w ? -1 : 0;
        } else {
          int64_t v = rt_ref_geti(x->elem, x->data, p), w = rt_ref_geti(x->elem, x->data, b);
          c = u ? ((uint64_t)v > (uint64_t)w) - ((uint64_t)v < (uint64_t)w) : (v > w) - (v < w);
        }
        if (!is_max)
          c = -c;
        if (c > 0 || (c == 0 && last))
          best = i;
      }
      rt_ref_puti(RT_ELEM_I64, out[0].data, o * inner + j, best);
    }
  return RT_OK;
}

/* ---- softmax, log_softmax, hardmax ---- */

/* Along axis (default -1), floats computed in double: softmax exp(x - max) / sum exp(x - max);
 * log_softmax x - max - log(sum exp(x - max)); hardmax 1 at the first largest element of each
 * slice, 0 elsewhere (integers too). */
int rt_k_softmax_ext(const RtNode *n, const RtTensor *in, int nin, RtTensor *out, int nout,
                     char *err, size_t errlen) {
  int st = rt_ref_check_call(n, in, nin, out, nout, err, errlen), axis = 0;
  if (st != RT_OK)
    return st;
  const RtTensor *x = &in[0];
  bool hard = n->op == OP_HARDMAX;
  if ((st = rt_ref_axis(rt_attr_int(n, "axis", -1), x->rank, &axis, err, errlen)) ||
      (st = rt_ref_check_result(&out[0], 0, x->rank, x->dims, err, errlen)) ||
      (st = result_is(out, x->elem, err, errlen)) ||
      (st = numeric0(in, !hard, false, err, errlen)))
    return st;
  int64_t outer, len, inner;
  split_axis(x, axis, &outer, &len, &inner);
  for (int64_t o = 0; o < outer; o++)
    for (int64_t j = 0; j < inner; j++) {
      int64_t base = o * len * inner + j, arg = 0;
      double mx = -INFINITY, sum = 0;
      for (int64_t i = 0; i < len; i++) {
        double v = rt_ref_get(x->elem, x->data, base + i * inner);
        if (v > mx || i == 0)
          mx = v, arg = i;
      }
      if (hard) {
        for (int64_t i = 0; i < len; i++)
          rt_ref_put(out[0].elem, out[0].data, base + i * inner, i == arg ? 1 : 0);
        continue;
      }
      for (int64_t i = 0; i < len; i++)
        sum += exp(rt_ref_get(x->elem, x->data, base + i * inner) - mx);
      double lse = mx + log(sum);
      for (int64_t i = 0; i < len; i++) {
        double v = rt_ref_get(x->elem, x->data, base + i * inner);
        rt_ref_put(out[0].elem, out[0].data, base + i * inner,
                   n->op == OP_SOFTMAX ? exp(v - mx) / sum : v - lse);
      }
    }
  return RT_OK;
}
