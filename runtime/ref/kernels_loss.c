/* kernels_loss.c - negative_log_likelihood_loss, softmax_cross_entropy_loss, bit_shift, eye_like,
 * reverse_sequence, dynamic_quantize_linear, mean_variance_normalization and global_lp_pool
 * (ONNX semantics).
 *
 * The losses: scores X[N,C,d1..], targets T[N,d1..], optional weights W[C]. Each position's loss
 * is -X[n,T,d] * W[T] (W 1 when absent); a position whose target is ignore_index has loss 0 and
 * weight 0. reduction none keeps the per-position losses, sum adds them, mean divides that sum by
 * the sum of the weights. softmax_cross_entropy_loss computes the same on log_softmax(X) along
 * dimension 1, and returns that log-probability as its optional result 1. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kernels.h"

static int want_elem(const RtTensor *t, const char *what, RtElem e, char *err, size_t errlen) {
  if (t->elem == e)
    return RT_OK;
  return rt_ref_fail(err, errlen, RT_EUNSUPPORTED, "%s has element type %s, expected %s", what,
                     rt_elem_name(t->elem), rt_elem_name(e));
}

static int no_quantized(const RtTensor *in, int nin, char *err, size_t errlen) {
  for (int i = 0; i < nin; i++)
    if (in[i].quantized)
      return rt_ref_quantized(i, err, errlen);
  return RT_OK;
}

/* ---- losses ---- */

int rt_k_loss(const RtNode *n, const RtTensor *in, int nin, RtTensor *out, int nout, char *err,
              size_t errlen) {
  int st = rt_ref_check_call(n, in, nin, out, nout, err, errlen);
  if (st != RT_OK || (st = no_quantized(in, nin, err, errlen)) != RT_OK)
    return st;
  const RtTensor *x = &in[0], *t = &in[1], *w = nin > 2 ? &in[2] : NULL;
  if (!rt_elem_is_float(x->elem))
    return rt_ref_unsupported(x->elem, err, errlen);
  if (x->rank < 2)
    return rt_ref_fail(err, errlen, RT_ESHAPE, "operand 0 has rank %d, expected at least 2",
                       x->rank);
  if (t->elem != RT_ELEM_I32 && t->elem != RT_ELEM_I64)
    return rt_ref_fail(err, errlen, RT_EUNSUPPORTED,
                       "operand 1 has element type %s, expected i32 or i64", rt_elem_name(t->elem));
  int64_t tdims[RT_MAX_RANK];
  tdims[0] = x->dims[0];
  for (int i = 2; i < x->rank; i++)
    tdims[i - 1] = x->dims[i];
  bool same = t->rank == x->rank - 1;
  for (int i = 0; same && i < t->rank; i++)
    same = t->dims[i] == tdims[i];
  if (!same) {
    char a[128], b[128];
    return rt_ref_fail(err, errlen, RT_ESHAPE, "operand 1 has shape %s, expected %s",
                       rt_ref_dims_text(t->dims, t->rank, a, sizeof a),
                       rt_ref_dims_text(tdims, x->rank - 1, b, sizeof b));
  }
  int64_t c = x->dims[1];
  if (w && (w->rank != 1 || w->dims[0] != c || w->elem != x->elem))
    return rt_ref_fail(err, errlen, RT_ESHAPE, "operand 2 (the weights) is not [%lld] of %s",
                       (long long)c, rt_elem_name(x->elem));
  const char *red = rt_attr_string(n, "reduction", "mean");
  bool none = strcmp(red, "none") == 0, mean = strcmp(red, "mean") == 0;
  if (!none && !mean && strcmp(red, "sum") != 0)
    return rt_ref_fail(err, errlen, RT_EUNSUPPORTED,
                       "reduction \"%s\" is not one of none, sum, mean", red);
  if ((st = rt_ref_check_result(&out[0], 0, none ? t->rank : 0, tdims, err, errlen)) ||
      (st = want_elem(&out[0], "result 0", x->elem, err, errlen)))
    return st;
  bool sce = n->op == OP_SCE_LOSS;
  if (sce && nout > 1 && ((st = rt_ref_check_result(&out[1], 1, x->rank, x->dims, err, errlen)) ||
                          (st = want_elem(&out[1], "result 1", x->elem, err, errlen))))
    return st;
  const RtAttr *ii = rt_attr(n, "ignore_index");
  bool has_ii = ii && ii->kind == RT_ATTR_INT;
  int64_t ignore = has_ii ? ii->i : 0;
  int64_t batch = x->dims[0], inner = 1;
  for (int i = 2; i < x->rank; i++)
    inner *= x->dims[i];
  int64_t total = rt_tensor_numel(x);
  double *lp = malloc(sizeof(double) * (size_t)(total > 0 ? total : 1));
  if (!lp)
    return rt_ref_fail(err, errlen, RT_ENOMEM, "out of memory");
  for (int64_t i = 0; i < total; i++)
    lp[i] = rt_ref_get(x->elem, x->data, i);
  if (sce)
    for (int64_t b = 0; b < batch; b++)
      for (int64_t d = 0; d < inner; d++) {
        double mx = -INFINITY, sum = 0;
        for (int64_t k = 0; k < c; k++)
          mx = fmax(mx, lp[(b * c + k) * inner + d]);
        for (int64_t k = 0; k < c; k++)
          sum += exp(lp[(b * c + k) * inner + d] - mx);
        double ls = mx + log(sum);
        for (int64_t k = 0; k < c; k++) {
          int64_t at = (b * c + k) * inner + d;
          lp[at] -= ls;
          if (nout > 1)
            rt_ref_put(out[1].elem, out[1].data, at, lp[at]);
        }
      }
  double lsum = 0, wsum = 0;
  for (int64_t b = 0; b < batch; b++)
    for (int64_t d = 0; d < inner; d++) {
      int64_t pos = b * inner + d, tgt = rt_ref_geti(t->elem, t->data, pos);
      double loss = 0, wt = 0;
      if (!has_ii || tgt != ignore) {
        if (tgt < 0 || tgt >= c) {
          free(lp);
          return rt_ref_fail(err, errlen, RT_ERANGE, "target %lld is out of range for %lld classes",
                             (long long)tgt, (long long)c);
        }
        wt = w ? rt_ref_get(w->elem, w->data, tgt) : 1.0;
        loss = -lp[(b * c + tgt) * inner + d] * wt;
      }
      if (none)
        rt_ref_put(out[0].elem, out[0].data, pos, loss);
      lsum += loss;
      wsum += wt;
    }
  free(lp);
  if (!none)
    rt_ref_put(out[0].elem, out[0].data, 0, mean ? lsum / wsum : lsum);
  return RT_OK;
}

/* ---- bit_shift ---- */

int rt_k_bit_shift(const RtNode *n, const RtTensor *in, int nin, RtTensor *out, int nout,
                   char *err, size_t errlen) {
  int st = rt_ref_check_call(n, in, nin, out, nout, err, errlen);
  if (st != RT_OK || (st = no_quantized(in, nin, err, errlen)) != RT_OK)
    return st;
  const RtTensor *a = &in[0], *b = &in[1];
  RtTensor *y = &out[0];
  if (!rt_elem_is_unsigned(a->elem))
    return rt_ref_unsupported(a->elem, err, errlen);
  if ((st = want_elem(b, "operand 1", a->elem, err, errlen)) ||
      (st = want_elem(y, "result 0", a->elem, err, errlen)))
    return st;
  const char *dir = rt_attr_string(n, "direction", "");
  bool left = strcmp(dir, "LEFT") == 0;
  if (!left && strcmp(dir, "RIGHT") != 0)
    return rt_ref_fail(err, errlen, RT_EUNSUPPORTED, "direction \"%s\" is not LEFT or RIGHT", dir);
  RtBcast it;
  if (rt_bcast_init(&it, rt_ref_shape_of(y), 2,
                    (RtShape[]){rt_ref_shape_of(a), rt_ref_shape_of(b)}))
    return rt_ref_fail(err, errlen, RT_ESHAPE, "operands do not broadcast to the result");
  unsigned bits = (unsigned)(8 * rt_elem_size(a->elem));
  int64_t count = rt_tensor_numel(y);
  for (int64_t i = 0; i < count; i++, rt_bcast_next(&it)) {
    uint64_t v = (uint64_t)rt_ref_geti(a->elem, a->data, it.off[0]);
    uint64_t s = (uint64_t)rt_ref_geti(b->elem, b->data, it.off[1]);
    uint64_t r = s >= bits ? 0 : left ? v << s : v >> s;
    rt_ref_puti(y->elem, y->data, i, (int64_t)r);
  }
  return RT_OK;
}

/* ---- eye_like ---- */

int rt_k_eye_like(const RtNode *n, const RtTensor *in, int nin, RtTensor *out, int nout,
                  char *err, size_t errlen) {
  int st = rt_ref_check_call(n, in, nin, out, nout, err, errlen);
  const RtTensor *x = &in[0];
  RtTensor *y = &out[0];
  if (st != RT_OK)
    return st;
  if (x->rank != 2)
    return rt_ref_fail(err, errlen, RT_ESHAPE, "operand 0 has rank %d, expected 2", x->rank);
  if ((st = rt_ref_check_result(y, 0, 2, x->dims, err, errlen)))
    return st;
  if (!rt_elem_is_float(y->elem) && !rt_elem_is_int(y->elem) && y->elem != RT_ELEM_BOOL)
    return rt_ref_unsupported(y->elem, err, errlen);
  int64_t k = rt_attr_int(n, "k", 0), rows = x->dims[0], cols = x->dims[1];
  for (int64_t r = 0; r < rows; r++)
    for (int64_t col = 0; col < cols; col++) {
      bool one = k > -cols && k < cols && col - r == k;
      if (rt_elem_is_float(y->elem))
        rt_ref_put(y->elem, y->data, r * cols + col, one ? 1.0 : 0.0);
      else
        rt_ref_puti(y->elem, y->data, r * cols + col, one);
    }
  return RT_OK;
}

/* ---- reverse_sequence ---- */

int rt_k_reverse_sequence(const RtNode *n, const RtTensor *in, int nin, RtTensor *out, int nout,
                          char *err, size_t errlen) {
  int st = rt_ref_check_call(n, in, nin, out, nout, err, errlen);
  const RtTensor *x = &in[0], *l = &in[1];
  RtTensor *y = &out[0];
  if (st != RT_OK)
    return st;
  int64_t ba = rt_attr_int(n, "batch_axis", 1), ta = rt_attr_int(n, "time_axis", 0);
  if (x->rank < 2 || (ba != 0 && ba != 1) || (ta != 0 && ta != 1) || ba == ta)
    return rt_ref_fail(err, errlen, RT_ESHAPE,
                       "batch_axis %lld and time_axis %lld must be 0 and 1 of rank %d >= 2",
                       (long long)ba, (long long)ta, x->rank);
  if (l->elem != RT_ELEM_I32 && l->elem != RT_ELEM_I64)
    return rt_ref_unsupported(l->elem, err, errlen);
  if (l->rank != 1 || l->dims[0] != x->dims[ba])
    return rt_ref_fail(err, errlen, RT_ESHAPE, "operand 1 has %lld lengths, expected %lld",
                       (long long)(l->rank == 1 ? l->dims[0] : -1), (long long)x->dims[ba]);
  if ((st = rt_ref_check_result(y, 0, x->rank, x->dims, err, errlen)) ||
      (st = want_elem(y, "result 0", x->elem, err, errlen)))
    return st;
  int64_t nb = x->dims[ba], nt = x->dims[ta], inner = rt_tensor_numel(x) / (nb * nt > 0 ? nb * nt : 1);
  for (int64_t b = 0; b < nb; b++) {
    int64_t len = rt_ref_geti(l->elem, l->data, b);
    if (len < 0 || len > nt)
      return rt_ref_fail(err, errlen, RT_ERANGE, "sequence length %lld is out of range [0, %lld]",
                         (long long)len, (long long)nt);
  }
  size_t es = rt_elem_size(x->elem);
  for (int64_t b = 0; b < nb; b++) {
    int64_t len = rt_ref_geti(l->elem, l->data, b);
    for (int64_t t = 0; t < nt; t++) {
      int64_t src = t < len ? len - 1 - t : t;
      int64_t dst_row = ba == 0 ? b * nt + t : t * nb + b;
      int64_t src_row = ba == 0 ? b * nt + src : src * nb + b;
      if (inner > 0)
        memcpy((char *)y->data + (size_t)(dst_row * inner) * es,
               (const char *)x->data + (size_t)(src_row * inner) * es, (size_t)inner * es);
    }
  }
  return RT_OK;
}

/* ---- dynamic_quantize_linear ---- */

/* ONNX's formula in f32: scale = (max(0, max x) - min(0, min x)) / 255, zero point
 * saturate(round(0 - min / scale)), y = saturate(round(x / scale) + zero point); rounding half
 * to even. An all-zero x gives scale 0, zero point 0 and y 0. */
int rt_k_dynamic_quantize(const RtNode *n, const RtTensor *in, int nin, RtTensor *out, int nout,
                          char *err, size_t errlen) {
  int st = rt_ref_check_call(n, in, nin, out, nout, err, errlen);
  const RtTensor *x = &in[0];
  if (st != RT_OK || (st = no_quantized(in, nin, err, errlen)) != RT_OK)
    return st;
  if ((st = want_elem(x, "operand 0", RT_ELEM_F32, err, errlen)) ||
      (st = rt_ref_check_result(&out[0], 0, x->rank, x->dims, err, errlen)) ||
      (st = want_elem(&out[0], "result 0", RT_ELEM_U8, err, errlen)) ||
      (st = rt_ref_check_result(&out[1], 1, 0, NULL, err, errlen)) ||
      (st = want_elem(&out[1], "result 1", RT_ELEM_F32, err, errlen)) ||
      (st = rt_ref_check_result(&out[2], 2, 0, NULL, err, errlen)) ||
      (st = want_elem(&out[2], "result 2", RT_ELEM_U8, err, errlen)))
    return st;
  int64_t count = rt_tensor_numel(x);
  const float *xv = x->data;
  float lo = 0, hi = 0;
  for (int64_t i = 0; i < count; i++) {
    float v;
    memcpy(&v, xv + i, sizeof v);
    if (v < lo)
      lo = v;
    if (v > hi)
      hi = v;
  }
  float scale = (hi - lo) / 255.0f, zpf = 0;
  if (scale > 0) {
    zpf = nearbyintf(0.0f - lo / scale);
    zpf = zpf < 0 ? 0 : zpf > 255 ? 255 : zpf;
  }
  uint8_t zp = (uint8_t)zpf;
  uint8_t *y = out[0].data;
  for (int64_t i = 0; i < count; i++) {
    float v;
    memcpy(&v, xv + i, sizeof v);
    float q = scale > 0 ? nearbyintf(v / scale) + zpf : 0;
    y[i] = (uint8_t)(q != q ? 0 : q < 0 ? 0 : q > 255 ? 255 : q);
  }
  memcpy(out[1].data, &scale, sizeof scale);
  memcpy(out[2].data, &zp, 1);
  return RT_OK;
}

/* ---- mean_variance_normalization ---- */

/* y = (x - mean) / (sqrt(mean(x^2) - mean^2) + 1e-9) over axes (default [0,2,3]). */
int rt_k_mvn(const RtNode *n, const RtTensor *in, int nin, RtTensor *out, int nout, char *err,
             size_t errlen) {
  int st = rt_ref_check_call(n, in, nin, out, nout, err, errlen);
  const RtTensor *x = &in[0];
  RtTensor *y = &out[0];
  if (st != RT_OK || (st = no_quantized(in, nin, err, errlen)) != RT_OK)
    return st;
  if (!rt_elem_is_float(x->elem))
    return rt_ref_unsupported(x->elem, err, errlen);
  if ((st = rt_ref_check_result(y, 0, x->rank, x->dims, err, errlen)) ||
      (st = want_elem(y, "result 0", x->elem, err, errlen)))
    return st;
  static const int64_t dflt[] = {0, 2, 3};
  const int64_t *axes = dflt;
  int na = rt_attr_ints(n, "axes", &axes);
  if (na < 0) {
    axes = dflt;
    na = 3;
  }
  bool mark[RT_MAX_RANK] = {false};
  for (int i = 0; i < na; i++) {
    int a = 0;
    if ((st = rt_ref_axis(axes[i], x->rank, &a, err, errlen)))
      return st;
    if (mark[a])
      return rt_ref_fail(err, errlen, RT_ESHAPE, "axis %d is listed twice", a);
    mark[a] = true;
  }
  /* Each element's group: its index with the reduced axes dropped. */
  int64_t strides[RT_MAX_RANK], gstride[RT_MAX_RANK], ngroups = 1;
  rt_ref_strides(x, strides);
  for (int i = x->rank - 1; i >= 0; i--) {
    gstride[i] = mark[i] ? 0 : ngroups;
    if (!mark[i])
      ngroups *= x->dims[i];
  }
  int64_t count = rt_tensor_numel(x);
  double *acc = calloc((size_t)(2 * ngroups + 1), sizeof(double));
  int64_t *cnt = calloc((size_t)(ngroups + 1), sizeof(int64_t));
  if (!acc || !cnt) {
    free(acc);
    free(cnt);
    return rt_ref_fail(err, errlen, RT_ENOMEM, "out of memory");
  }
  for (int pass = 0; pass < 2; pass++)
    for (int64_t i = 0; i < count; i++) {
      int64_t g = 0, rem = i;
      for (int d = 0; d < x->rank; d++) {
        g += (rem / strides[d]) * gstride[d];
        rem %= strides[d];
      }
      double v = rt_ref_get(x->elem, x->data, i);
      if (pass == 0) {
        acc[2 * g] += v;
        acc[2 * g + 1] += v * v;
        cnt[g]++;
      } else {
        double mu = acc[2 * g] / (double)cnt[g], var = acc[2 * g + 1] / (double)cnt[g] - mu * mu;
        rt_ref_put(y->elem, y->data, i, (v - mu) / (sqrt(var > 0 ? var : 0) + 1e-9));
      }
    }
  free(acc);
  free(cnt);
  return RT_OK;
}

/* ---- global_lp_pool ---- */

int rt_k_global_lp_pool(const RtNode *n, const RtTensor *in, int nin, RtTensor *out, int nout,
                        char *err, size_t errlen) {
  int st = rt_ref_check_call(n, in, nin, out, nout, err, errlen);
  const RtTensor *x = &in[0];
  RtTensor *y = &out[0];
  if (st != RT_OK || (st = no_quantized(in, nin, err, errlen)) != RT_OK)
    return st;
  if (!rt_elem_is_float(x->elem))
    return rt_ref_unsupported(x->elem, err, errlen);
  if (x->rank < 2)
    return rt_ref_fail(err, errlen, RT_ESHAPE, "operand 0 has rank %d, expected at least 2",
                       x->rank);
  int64_t p = rt_attr_int(n, "p", 2), dims[RT_MAX_RANK];
  if (p < 1)
    return rt_ref_fail(err, errlen, RT_ESHAPE, "p is %lld, expected at least 1", (long long)p);
  for (int i = 0; i < x->rank; i++)
    dims[i] = i < 2 ? x->dims[i] : 1;
  if ((st = rt_ref_check_result(y, 0, x->rank, dims, err, errlen)) ||
      (st = want_elem(y, "result 0", x->elem, err, errlen)))
    return st;
  int64_t groups = x->dims[0] * x->dims[1], inner = groups ? rt_tensor_numel(x) / groups : 0;
  for (int64_t g = 0; g < groups; g++) {
    double s = 0;
    for (int64_t j = 0; j < inner; j++)
      s += pow(fabs(rt_ref_get(x->elem, x->data, g * inner + j)), (double)p);
    rt_ref_put(y->elem, y->data, g, pow(s, 1.0 / (double)p));
  }
  return RT_OK;
}
