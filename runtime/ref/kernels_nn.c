/* kernels_nn.c - gemm, matmul (numpy batching, 1-D operands), reduce_mean/sum/max and
 * layer_norm (softmax is with log_softmax and hardmax in kernels_reduce.c).
 *
 * Floats accumulate in double and round once; integer products and sums accumulate in int64 with
 * wrapping (gemm on integers only with alpha = beta = 1). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kernels.h"

/* Operand i is a float or integer, not quantized; floats for float_only. */
static int numeric(const RtTensor *in, int i, bool float_only, char *err, size_t errlen) {
  if (in[i].quantized)
    return rt_ref_quantized(i, err, errlen);
  if (rt_elem_is_float(in[i].elem) || (!float_only && rt_elem_is_int(in[i].elem)))
    return RT_OK;
  return rt_ref_unsupported(in[i].elem, err, errlen);
}

/* Result 0's element type is operand 0's. */
static int result_elem(const RtTensor *in, const RtTensor *out, char *err, size_t errlen) {
  if (out[0].elem == in[0].elem)
    return RT_OK;
  return rt_ref_fail(err, errlen, RT_EUNSUPPORTED, "result element type %s, expected %s",
                 rt_elem_name(out[0].elem), rt_elem_name(in[0].elem));
}

/* ---- gemm ---- */

/* Y = alpha * A' B' + beta * C with A' = A or A^T (trans_a), B' likewise; C broadcasts one way to
 * [M,N]. alpha and beta default to 1. */
int rt_k_gemm(const RtNode *n, const RtTensor *in, int nin, RtTensor *out, int nout, char *err,
              size_t errlen) {
  int st = rt_ref_check_call(n, in, nin, out, nout, err, errlen);
  if (st != RT_OK)
    return st;
  const RtTensor *a = &in[0], *b = &in[1];
  if (a->rank != 2 || b->rank != 2)
    return rt_ref_fail(err, errlen, RT_ESHAPE, "operands have ranks %d and %d, expected 2", a->rank,
                   b->rank);
  int64_t ta = rt_attr_int(n, "trans_a", 0), tb = rt_attr_int(n, "trans_b", 0);
  double alpha = rt_attr_float(n, "alpha", 1.0), beta = rt_attr_float(n, "beta", 1.0);
  int64_t m = a->dims[ta ? 1 : 0], k = a->dims[ta ? 0 : 1];
  int64_t kb = b->dims[tb ? 1 : 0], p = b->dims[tb ? 0 : 1];
  if (k != kb)
    return rt_ref_fail(err, errlen, RT_ESHAPE, "inner dimensions differ: %lld and %lld",
                   (long long)k, (long long)kb);
  int64_t dims[2] = {m, p};
  if ((st = rt_ref_check_result(&out[0], 0, 2, dims, err, errlen)) ||
      (st = result_elem(in, out, err, errlen)))
    return st;
  for (int i = 0; i < nin; i++)
    if ((st = numeric(in, i, false, err, errlen)))
      return st;
  bool f = rt_elem_is_float(a->elem);
  if (f != rt_elem_is_float(b->elem))
    return rt_ref_fail(err, errlen, RT_EUNSUPPORTED, "operand element types %s and %s differ",
                   rt_elem_name(a->elem), rt_elem_name(b->elem));
  if (!f && (alpha != 1 || beta != 1))
    return rt_ref_fail(err, errlen, RT_EUNSUPPORTED, "integer gemm with alpha or beta other than 1 "
                   "has no reference kernel");
  RtBcast it = {0};
  if (nin > 2 && rt_bcast_init(&it, rt_ref_shape_of(&out[0]), 1, (RtShape[]){rt_ref_shape_of(&in[2])}))
    return rt_ref_fail(err, errlen, RT_ESHAPE, "operand 2 does not broadcast to [%lld,%lld]",
                   (long long)m, (long long)p);
  int64_t sa0 = ta ? 1 : k, sa1 = ta ? m : 1, sb0 = tb ? 1 : p, sb1 = tb ? k : 1;
  for (int64_t i = 0; i < m; i++)
    for (int64_t j = 0; j < p; j++, rt_bcast_next(&it)) {
      if (f) {
        double sum = 0;
        for (int64_t q = 0; q < k; q++)
          sum += rt_ref_get(a->elem, a->data, i * sa0 + q * sa1) *
                 rt_ref_get(b->elem, b->data, q * sb0 + j * sb1);
        double c = nin > 2 ? rt_ref_get(in[2].elem, in[2].data, it.off[0]) : 0;
        rt_ref_put(out[0].elem, out[0].data, i * p + j, alpha * sum + beta * c);
      } else {
        uint64_t sum = nin > 2 ? (uint64_t)rt_ref_geti(in[2].elem, in[2].data, it.off[0]) : 0;
        for (int64_t q = 0; q < k; q++)
          sum += (uint64_t)rt_ref_geti(a->elem, a->data, i * sa0 + q * sa1) *
                 (uint64_t)rt_ref_geti(b->elem, b->data, q * sb0 + j * sb1);
        rt_ref_puti(out[0].elem, out[0].data, i * p + j, (int64_t)sum);
      }
    }
  return RT_OK;
}

/* ---- matmul ---- */

/* numpy matmul: [...,M,K] x [...,K,P] -> [...,M,P] with the leading dimensions broadcast; a 1-D
 * operand is a row (operand 0) or a column (operand 1) whose added dimension the result drops. */
int rt_k_matmul(const RtNode *n, const RtTensor *in, int nin, RtTensor *out, int nout, char *err,
                size_t errlen) {
  int st = rt_ref_check_call(n, in, nin, out, nout, err, errlen);
  if (st != RT_OK)
    return st;
  const RtTensor *a = &in[0], *b = &in[1];
  if (a->rank < 1 || b->rank < 1)
    return rt_ref_fail(err, errlen, RT_ESHAPE, "operand %d is a scalar", a->rank < 1 ? 0 : 1);
  for (int i = 0; i < 2; i++)
    if ((st = numeric(in, i, false, err, errlen)))
      return st;
  bool f = rt_elem_is_float(a->elem);
  if (f != rt_elem_is_float(b->elem))
    return rt_ref_fail(err, errlen, RT_EUNSUPPORTED, "operand element types %s and %s differ",
                   rt_elem_name(a->elem), rt_elem_name(b->elem));
  int ra = a->rank, rb = b->rank;
  int64_t m = ra > 1 ? a->dims[ra - 2] : 1, k = a->dims[ra - 1];
  int64_t kb = rb > 1 ? b->dims[rb - 2] : b->dims[0], p = rb > 1 ? b->dims[rb - 1] : 1;
  if (k != kb)
    return rt_ref_fail(err, errlen, RT_ESHAPE, "inner dimensions differ: %lld and %lld",
                   (long long)k, (long long)kb);
  RtShape as = {.rank = ra > 2 ? ra - 2 : 0}, bs = {.rank = rb > 2 ? rb - 2 : 0}, ys;
  memcpy(as.dims, a->dims, sizeof(int64_t) * (size_t)as.rank);
  memcpy(bs.dims, b->dims, sizeof(int64_t) * (size_t)bs.rank);
  ys.rank = as.rank > bs.rank ? as.rank : bs.rank;
  for (int i = 0; i < ys.rank; i++) {
    int ia = i - (ys.rank - as.rank), ib = i - (ys.rank - bs.rank);
    int64_t da = ia >= 0 ? as.dims[ia] : 1, db = ib >= 0 ? bs.dims[ib] : 1;
    if (da != db && da != 1 && db != 1)
      return rt_ref_fail(err, errlen, RT_ESHAPE, "batch dimensions do not broadcast");
    ys.dims[i] = da == 1 ? db : da;
  }
  int64_t dims[RT_MAX_RANK + 2];
  int rank = ys.rank;
  memcpy(dims, ys.dims, sizeof(int64_t) * (size_t)rank);
  if (ra > 1)
    dims[rank++] = m;
  if (rb > 1)
    dims[rank++] = p;
  if (rank > RT_MAX_RANK)
    return rt_ref_fail(err, errlen, RT_ESHAPE, "result rank %d is more than %d", rank, RT_MAX_RANK);
  if ((st = rt_ref_check_result(&out[0], 0, rank, dims, err, errlen)) ||
      (st = result_elem(in, out, err, errlen)))
    return st;
  RtBcast it;
  if (rt_bcast_init(&it, ys, 2, (RtShape[]){as, bs}))
    return rt_ref_fail(err, errlen, RT_ESHAPE, "batch dimensions do not broadcast");
  int64_t batches = rt_shape_numel(ys);
  for (int64_t t = 0; t < batches; t++, rt_bcast_next(&it)) {
    int64_t ao = it.off[0] * m * k, bo = it.off[1] * k * p, yo = t * m * p;
    for (int64_t i = 0; i < m; i++)
      for (int64_t j = 0; j < p; j++) {
        if (f) {
          double sum = 0;
          for (int64_t q = 0; q < k; q++)
            sum += rt_ref_get(a->elem, a->data, ao + i * k + q) *
                   rt_ref_get(b->elem, b->data, bo + q * p + j);
          rt_ref_put(out[0].elem, out[0].data, yo + i * p + j, sum);
        } else {
          uint64_t sum = 0;
          for (int64_t q = 0; q < k; q++)
            sum += (uint64_t)rt_ref_geti(a->elem, a->data, ao + i * k + q) *
                   (uint64_t)rt_ref_geti(b->elem, b->data, bo + q * p + j);
          rt_ref_puti(out[0].elem, out[0].data, yo + i * p + j, (int64_t)sum);
        }
      }
  }
  return RT_OK;
}

/* ---- reductions ---- */

/* reduce_mean, reduce_sum, reduce_max over axes (absent or empty: all; negative count from the
 * end), keeping reduced dimensions as 1 when keepdims (default 1). Sums and means of integers
 * accumulate in int64 (a mean truncates); an empty max is -inf (floats) or 0. */
int rt_k_reduce(const RtNode *n, const RtTensor *in, int nin, RtTensor *out, int nout, char *err,
                size_t errlen) {
  int st = rt_ref_check_call(n, in, nin, out, nout, err, errlen);
  if (st != RT_OK)
    return st;
  const RtTensor *x = &in[0];
  RtReducePlan plan;
  if ((st = rt_ref_reduce_plan(n, x, &plan, err, errlen)))
    return st;
  const int64_t *ostride = plan.ostride;
  int64_t group = plan.group;
  bool is_max = n->op == OP_REDUCE_MAX;
  if ((st = rt_ref_check_result(&out[0], 0, plan.rank, plan.dims, err, errlen)) ||
      (st = result_elem(in, out, err, errlen)) ||
      (!(is_max && rt_elem_is_int(x->elem)) && (st = numeric(in, 0, false, err, errlen))))
    return st;
  bool f = rt_elem_is_float(x->elem), u = rt_elem_is_unsigned(x->elem);
  int64_t count = rt_tensor_numel(x), ocount = rt_tensor_numel(&out[0]);
  double *acc = malloc(sizeof *acc * (size_t)(ocount ? ocount : 1));
  int64_t *iacc = malloc(sizeof *iacc * (size_t)(ocount ? ocount : 1));
  bool *seen = calloc((size_t)(ocount ? ocount : 1), 1);
  if (!acc || !iacc || !seen) {
    free(acc), free(iacc), free(seen);
    return rt_ref_fail(err, errlen, RT_ENOMEM, "out of memory");
  }
  for (int64_t o = 0; o < ocount; o++)
    acc[o] = is_max ? -INFINITY : 0, iacc[o] = 0;
  int64_t idx[RT_MAX_RANK] = {0}, o = 0;
  for (int64_t i = 0; i < count; i++) {
    if (f) {
      double v = rt_ref_get(x->elem, x->data, i);
      acc[o] = !is_max ? acc[o] + v : v > acc[o] || v != v ? v : acc[o];
    } else {
      int64_t v = rt_ref_geti(x->elem, x->data, i);
      if (!is_max)
        iacc[o] = (int64_t)((uint64_t)iacc[o] + (uint64_t)v);
      else if (!seen[o] || (u ? (uint64_t)v > (uint64_t)iacc[o] : v > iacc[o]))
        iacc[o] = v;
      seen[o] = true;
    }
    for (int d = x->rank - 1; d >= 0; d--) { /* next input index, and its output offset */
      o += ostride[d];
      if (++idx[d] < x->dims[d])
        break;
      o -= ostride[d] * x->dims[d];
      idx[d] = 0;
    }
  }
  bool mean = n->op == OP_REDUCE_MEAN;
  for (int64_t q = 0; q < ocount; q++) {
    if (f)
      rt_ref_put(out[0].elem, out[0].data, q, mean ? acc[q] / (double)group : acc[q]);
    else
      rt_ref_puti(out[0].elem, out[0].data, q, mean && group ? iacc[q] / group : iacc[q]);
  }
  free(acc), free(iacc), free(seen);
  return RT_OK;
}

/* ---- softmax, layer_norm ---- */

/* Splits x around [axis, end): outer elements before, len along it, inner after. */
static void split_at(const RtTensor *x, int axis, int end, int64_t *outer, int64_t *len,
                     int64_t *inner) {
  *outer = *len = *inner = 1;
  for (int i = 0; i < x->rank; i++)
    *(i < axis ? outer : i < end ? len : inner) *= x->dims[i];
}

/* layer_norm over dimensions [axis, rank) (axis default -1, epsilon 1e-5): (x - mean) /
 * sqrt(var + epsilon) * scale (+ bias), the variance the population one; scale and bias
 * broadcast one way to the normalized dimensions. */
int rt_k_layer_norm(const RtNode *n, const RtTensor *in, int nin, RtTensor *out, int nout,
                    char *err, size_t errlen) {
  int st = rt_ref_check_call(n, in, nin, out, nout, err, errlen), axis = 0;
  if (st != RT_OK)
    return st;
  const RtTensor *x = &in[0];
  if ((st = rt_ref_axis(rt_attr_int(n, "axis", -1), x->rank, &axis, err, errlen)) ||
      (st = rt_ref_check_result(&out[0], 0, x->rank, x->dims, err, errlen)) ||
      (st = result_elem(in, out, err, errlen)))
    return st;
  for (int i = 0; i < nin; i++)
    if ((st = numeric(in, i, true, err, errlen)))
      return st;
  double eps = rt_attr_float(n, "epsilon", 1e-5f);
  int64_t outer, len, inner;
  split_at(x, axis, x->rank, &outer, &len, &inner);
  RtShape ns = {.rank = x->rank - axis};
  memcpy(ns.dims, x->dims + axis, sizeof(int64_t) * (size_t)ns.rank);
  RtBcast it;
  RtShape ps[2] = {rt_ref_shape_of(&in[1]), nin > 2 ? rt_ref_shape_of(&in[2]) : rt_ref_shape_of(&in[1])};
  if (rt_bcast_init(&it, ns, 2, ps))
    return rt_ref_fail(err, errlen, RT_ESHAPE, "scale or bias does not broadcast to the normalized "
                   "dimensions");
  int64_t rdims[RT_MAX_RANK];
  for (int i = 0; i < x->rank; i++)
    rdims[i] = i < axis ? x->dims[i] : 1;
  for (int r = 1; r < nout; r++) {
    if ((st = rt_ref_check_result(&out[r], r, x->rank, rdims, err, errlen)))
      return st;
    if (!rt_elem_is_float(out[r].elem))
      return rt_ref_unsupported(out[r].elem, err, errlen);
  }
  double *sb = malloc(sizeof *sb * 2 * (size_t)(len ? len : 1));
  if (!sb)
    return rt_ref_fail(err, errlen, RT_ENOMEM, "out of memory");
  for (int64_t i = 0; i < len; i++, rt_bcast_next(&it)) {
    sb[2 * i] = rt_ref_get(in[1].elem, in[1].data, it.off[0]);
    sb[2 * i + 1] = nin > 2 ? rt_ref_get(in[2].elem, in[2].data, it.off[1]) : 0;
  }
  for (int64_t o = 0; o < outer; o++) {
    int64_t base = o * len;
    double mean = 0, var = 0;
    for (int64_t i = 0; i < len; i++)
      mean += rt_ref_get(x->elem, x->data, base + i);
    mean /= (double)len;
    for (int64_t i = 0; i < len; i++) {
      double d = rt_ref_get(x->elem, x->data, base + i) - mean;
      var += d * d;
    }
    var /= (double)len;
    double inv = 1 / sqrt(var + eps);
    if (nout > 1)
      rt_ref_put(out[1].elem, out[1].data, o, mean);
    if (nout > 2)
      rt_ref_put(out[2].elem, out[2].data, o, inv);
    for (int64_t i = 0; i < len; i++) {
      double v = (rt_ref_get(x->elem, x->data, base + i) - mean) * inv * sb[2 * i] + sb[2 * i + 1];
      rt_ref_put(out[0].elem, out[0].data, base + i, v);
    }
  }
  free(sb);
  return RT_OK;
}
