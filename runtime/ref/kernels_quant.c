/* kernels_quant.c - quantize_linear, dequantize_linear, matmul_integer, conv_integer,
 * qlinear_matmul, qlinear_conv (ONNX: scales and zero points as operands; rounding half to even,
 * saturation to the result type). Integer products accumulate in int64. */
#include <math.h>
#include <stdlib.h>

#include "kernels.h"

/* Operand p (a scale or zero point) at channel c: one value, or one per channel. */
static double qval(const RtTensor *p, int64_t c) {
  return rt_ref_get(p->elem, p->data, rt_tensor_numel(p) == 1 ? 0 : c);
}

/* Checks operand p holds one value or `len` values. */
static int qcheck(const RtTensor *in, int p, int64_t len, char *err, size_t errlen) {
  int64_t k = rt_tensor_numel(&in[p]);
  if (k == 1 || (len >= 0 && k == len && in[p].rank == 1))
    return RT_OK;
  return rt_ref_fail(err, errlen, RT_ESHAPE, "operand %d has %lld values, expected 1%s", p,
                     (long long)k, len >= 0 ? " or one per channel" : "");
}

static bool int_range(RtElem e, double *lo, double *hi) {
  switch (e) {
  case RT_ELEM_I8: *lo = -128, *hi = 127; return true;
  case RT_ELEM_U8: *lo = 0, *hi = 255; return true;
  case RT_ELEM_I16: *lo = -32768, *hi = 32767; return true;
  case RT_ELEM_U16: *lo = 0, *hi = 65535; return true;
  case RT_ELEM_I32: *lo = -2147483648.0, *hi = 2147483647.0; return true;
  default: return false;
  }
}

/* Rounds half to even and saturates v into e's range, then stores it. */
static void put_sat(RtElem e, void *p, int64_t i, double v) {
  double lo = 0, hi = 0;
  int_range(e, &lo, &hi);
  v = rint(v);
  if (isnan(v))
    v = 0;
  v = v < lo ? lo : v > hi ? hi : v;
  rt_ref_puti(e, p, i, (int64_t)v);
}

/* Channel of element i along axis (default 1) of x; 0 for a scalar. */
static int qaxis(const RtNode *n, const RtTensor *x, const RtTensor *scale, int64_t *len, int64_t *inner, char *err,
                 size_t errlen) {
  *len = 1;
  *inner = 1;
  if (x->rank == 0 || rt_tensor_numel(scale) == 1)
    return RT_OK;
  int axis;
  int st = rt_ref_axis(rt_attr_int(n, "axis", 1), x->rank, &axis, err, errlen);
  if (st)
    return st;
  *len = x->dims[axis];
  for (int i = axis + 1; i < x->rank; i++)
    *inner *= x->dims[i];
  return RT_OK;
}

static int linear(const RtNode *n, const RtTensor *in, int nin, RtTensor *out, int nout,
                  bool quantize, char *err, size_t errlen) {
  int st = rt_ref_check_call(n, in, nin, out, nout, err, errlen);
  if (st != RT_OK)
    return st;
  const RtTensor *x = &in[0];
  int64_t len, inner, num = rt_tensor_numel(x);
  double lo, hi;
  if ((st = rt_ref_check_result(&out[0], 0, x->rank, x->dims, err, errlen)) ||
      (st = qaxis(n, x, &in[1], &len, &inner, err, errlen)) || (st = qcheck(in, 1, len, err, errlen)) ||
      (nin > 2 && (st = qcheck(in, 2, len, err, errlen))))
    return st;
  if (!rt_elem_is_float(in[1].elem))
    return rt_ref_unsupported(in[1].elem, err, errlen);
  if (quantize ? !rt_elem_is_float(x->elem) || !int_range(out[0].elem, &lo, &hi)
               : !int_range(x->elem, &lo, &hi) || !rt_elem_is_float(out[0].elem))
    return rt_ref_unsupported(quantize ? out[0].elem : x->elem, err, errlen);
  for (int64_t i = 0; i < num; i++) {
    int64_t c = (i / inner) % len;
    double s = qval(&in[1], c), z = nin > 2 ? qval(&in[2], c) : 0;
    double v = rt_ref_get(x->elem, x->data, i);
    if (quantize)
      put_sat(out[0].elem, out[0].data, i, rint((float)(v / s)) + z); /* f32 division, as ONNX */
    else
      rt_ref_put(out[0].elem, out[0].data, i, (v - z) * s);
  }
  return RT_OK;
}

int rt_k_quantize_linear(const RtNode *n, const RtTensor *in, int nin, RtTensor *out, int nout,
                         char *err, size_t errlen) {
  return linear(n, in, nin, out, nout, true, err, errlen);
}

int rt_k_dequantize_linear(const RtNode *n, const RtTensor *in, int nin, RtTensor *out,
                           int nout, char *err, size_t errlen) {
  return linear(n, in, nin, out, nout, false, err, errlen);
}

static int q8(const RtTensor *in, int i, char *err, size_t errlen) {
  if (in[i].elem == RT_ELEM_I8 || in[i].elem == RT_ELEM_U8)
    return RT_OK;
  return rt_ref_unsupported(in[i].elem, err, errlen);
}

/* ---- matrix products ---- */

/* acc[batch, M, P] = sum_k (A - azp[row]) * (B - bzp[col]), numpy batch broadcasting; *m, *p:
 * the row and column counts. azp/bzp may be NULL. Returns a new array (free() it) or NULL with
 * the reason in err. */
static int64_t *qmatmul(const RtTensor *a, const RtTensor *b, const RtTensor *azp,
                        const RtTensor *bzp, const RtTensor *out, int64_t *m, int64_t *p,
                        char *err, size_t errlen) {
  int ra = a->rank, rb = b->rank;
  if (ra < 1 || rb < 1) {
    rt_ref_fail(err, errlen, RT_ESHAPE, "operands must have rank at least 1");
    return NULL;
  }
  int64_t M = ra > 1 ? a->dims[ra - 2] : 1, K = a->dims[ra - 1];
  int64_t Kb = rb > 1 ? b->dims[rb - 2] : b->dims[0], P = rb > 1 ? b->dims[rb - 1] : 1;
  if (K != Kb) {
    rt_ref_fail(err, errlen, RT_ESHAPE, "inner dimensions differ: %lld and %lld", (long long)K,
                (long long)Kb);
    return NULL;
  }
  int na = ra > 2 ? ra - 2 : 0, nb = rb > 2 ? rb - 2 : 0, nbd = na > nb ? na : nb;
  int64_t bd[RT_MAX_RANK], nbatch = 1;
  for (int i = 0; i < nbd; i++) {
    int ia = i - (nbd - na), ib = i - (nbd - nb);
    int64_t da = ia >= 0 ? a->dims[ia] : 1, db = ib >= 0 ? b->dims[ib] : 1;
    if (da != db && da != 1 && db != 1) {
      rt_ref_fail(err, errlen, RT_ESHAPE, "batch dimensions do not broadcast");
      return NULL;
    }
    bd[i] = da == 1 ? db : da;
    nbatch *= bd[i];
  }
  if ((azp && rt_tensor_numel(azp) != 1 && rt_tensor_numel(azp) != M) ||
      (bzp && rt_tensor_numel(bzp) != 1 && rt_tensor_numel(bzp) != P)) {
    rt_ref_fail(err, errlen, RT_ESHAPE, "a zero point has the wrong number of values");
    return NULL;
  }
  if (rt_tensor_numel(out) != nbatch * M * P) {
    rt_ref_fail(err, errlen, RT_ESHAPE, "result has %lld elements, expected %lld",
                (long long)rt_tensor_numel(out), (long long)(nbatch * M * P));
    return NULL;
  }
  int64_t *acc = calloc((size_t)(nbatch * M * P + 1), sizeof *acc);
  if (!acc) {
    rt_ref_fail(err, errlen, RT_ENOMEM, "out of memory");
    return NULL;
  }
  for (int64_t bt = 0; bt < nbatch; bt++) {
    int64_t f = bt, offa = 0, offb = 0, sa = M * K, sb = K * P;
    for (int i = nbd - 1; i >= 0; i--) {
      int64_t q = f % bd[i];
      f /= bd[i];
      int ia = i - (nbd - na), ib = i - (nbd - nb);
      if (ia >= 0) {
        offa += (a->dims[ia] == 1 ? 0 : q) * sa;
        sa *= a->dims[ia];
      }
      if (ib >= 0) {
        offb += (b->dims[ib] == 1 ? 0 : q) * sb;
        sb *= b->dims[ib];
      }
    }
    for (int64_t i = 0; i < M; i++)
      for (int64_t j = 0; j < P; j++) {
        int64_t za = azp ? (int64_t)qval(azp, i) : 0, zb = bzp ? (int64_t)qval(bzp, j) : 0, s = 0;
        for (int64_t k = 0; k < K; k++)
          s += (rt_ref_geti(a->elem, a->data, offa + i * K + k) - za) *
               (rt_ref_geti(b->elem, b->data, offb + k * P + j) - zb);
        acc[(bt * M + i) * P + j] = s;
      }
  }
  *m = M;
  *p = P;
  return acc;
}

int rt_k_matmul_integer(const RtNode *n, const RtTensor *in, int nin, RtTensor *out, int nout,
                        char *err, size_t errlen) {
  int st = rt_ref_check_call(n, in, nin, out, nout, err, errlen);
  if (st != RT_OK)
    return st;
  for (int i = 0; i < nin; i++)
    if ((st = q8(in, i, err, errlen)))
      return st;
  if (out[0].elem != RT_ELEM_I32)
    return rt_ref_unsupported(out[0].elem, err, errlen);
  int64_t m, p;
  int64_t *acc = qmatmul(&in[0], &in[1], nin > 2 ? &in[2] : NULL, nin > 3 ? &in[3] : NULL,
                         &out[0], &m, &p, err, errlen);
  if (!acc)
    return RT_ESHAPE;
  for (int64_t i = 0, e = rt_tensor_numel(&out[0]); i < e; i++)
    rt_ref_puti(RT_ELEM_I32, out[0].data, i, acc[i]);
  free(acc);
  return RT_OK;
}

/* Operands 1, 2, 4, 5, 6, 7 of the qlinear ops: scales floats, zero points of their tensor's
 * type; operand 4/5 one value or wlen. */
static int qlinear_check(const RtTensor *in, int64_t wlen, const RtTensor *out, char *err,
                         size_t errlen) {
  int st;
  if ((st = q8(in, 0, err, errlen)) || (st = q8(in, 3, err, errlen)) ||
      (st = q8(in, 7, err, errlen)))
    return st;
  if (out[0].elem != in[7].elem)
    return rt_ref_unsupported(out[0].elem, err, errlen);
  for (int i = 1; i < 8; i += i == 1 ? 3 : 2) /* the scales 1, 4, 6 */
    if (!rt_elem_is_float(in[i].elem))
      return rt_ref_unsupported(in[i].elem, err, errlen);
  if ((st = qcheck(in, 1, -1, err, errlen)) || (st = qcheck(in, 2, -1, err, errlen)) ||
      (st = qcheck(in, 4, wlen, err, errlen)) || (st = qcheck(in, 5, wlen, err, errlen)) ||
      (st = qcheck(in, 6, -1, err, errlen)) || (st = qcheck(in, 7, -1, err, errlen)))
    return st;
  return RT_OK;
}

/* Requantizes acc (scale sx * sw[c]) to y_scale/y_zero_point. */
static void requant(const RtTensor *in, RtTensor *out, int64_t i, int64_t c, double acc) {
  double s = qval(&in[1], 0) * qval(&in[4], c) / qval(&in[6], 0);
  put_sat(out[0].elem, out[0].data, i, rint(acc * s) + qval(&in[7], 0));
}

int rt_k_qlinear_matmul(const RtNode *n, const RtTensor *in, int nin, RtTensor *out, int nout,
                        char *err, size_t errlen) {
  int st = rt_ref_check_call(n, in, nin, out, nout, err, errlen);
  if (st != RT_OK)
    return st;
  const RtTensor *b = &in[3];
  if ((st = qlinear_check(in, b->rank > 1 ? b->dims[b->rank - 1] : 1, out, err, errlen)))
    return st;
  int64_t m, p;
  int64_t *acc = qmatmul(&in[0], &in[3], &in[2], &in[5], &out[0], &m, &p, err, errlen);
  if (!acc)
    return RT_ESHAPE;
  for (int64_t i = 0, e = rt_tensor_numel(&out[0]); i < e; i++)
    requant(in, out, i, i % p, (double)acc[i]);
  free(acc);
  return RT_OK;
}

/* ---- convolutions ---- */

/* acc[N, M, out...] of (X - xzp) * (W - wzp[m]) over each window (padding adds nothing). */
static int64_t *qconv(const RtNode *n, const RtTensor *x, const RtTensor *w, const RtTensor *xzp,
                      const RtTensor *wzp, const RtTensor *out, char *err, size_t errlen) {
  if (x->rank < 3 || w->rank != x->rank) {
    rt_ref_fail(err, errlen, RT_ESHAPE, "operands have ranks %d and %d, expected equal ranks of "
                "at least 3", x->rank, w->rank);
    return NULL;
  }
  int nsp = x->rank - 2;
  int64_t group = rt_attr_int(n, "group", 1), C = x->dims[1], M = w->dims[0];
  if (group < 1 || C % group || M % group || w->dims[1] != C / group) {
    rt_ref_fail(err, errlen, RT_ESHAPE, "group %lld does not fit the channels",
                (long long)group);
    return NULL;
  }
  RtWindow win;
  for (int i = 0; i < nsp; i++)
    win.kernel[i] = w->dims[i + 2];
  if (rt_ref_window_read(n, nsp, true, &win, err, errlen))
    return NULL;
  int64_t dims[RT_MAX_RANK] = {x->dims[0], M}, osz = 1, isz = 1, ksz = 1;
  for (int i = 0; i < nsp; i++) {
    if (rt_ref_window_out(&win, i, x->dims[i + 2], false, &dims[i + 2], err, errlen))
      return NULL;
    osz *= dims[i + 2];
    isz *= x->dims[i + 2];
    ksz *= win.kernel[i];
  }
  if (rt_ref_check_result(out, 0, x->rank, dims, err, errlen))
    return NULL;
  if ((wzp && rt_tensor_numel(wzp) != 1 && rt_tensor_numel(wzp) != M) ||
      (xzp && rt_tensor_numel(xzp) != 1)) {
    rt_ref_fail(err, errlen, RT_ESHAPE, "a zero point has the wrong number of values");
    return NULL;
  }
  int64_t *acc = calloc((size_t)(x->dims[0] * M * osz + 1), sizeof *acc);
  if (!acc) {
    rt_ref_fail(err, errlen, RT_ENOMEM, "out of memory");
    return NULL;
  }
  int64_t cg = C / group, mg = M / group, zx = xzp ? (int64_t)qval(xzp, 0) : 0;
  int64_t opos[RT_MAX_RANK], kpos[RT_MAX_RANK];
  for (int64_t b = 0; b < x->dims[0]; b++)
    for (int64_t mo = 0; mo < M; mo++) {
      int64_t g = mo / mg, zw = wzp ? (int64_t)qval(wzp, mo) : 0;
      for (int64_t o = 0; o < osz; o++) {
        int64_t f = o, s = 0;
        for (int d = nsp - 1; d >= 0; d--) {
          opos[d] = f % dims[d + 2];
          f /= dims[d + 2];
        }
        for (int64_t k = 0; k < ksz; k++) {
          int64_t h = k, off = 0;
          for (int d = nsp - 1; d >= 0; d--) {
            kpos[d] = h % win.kernel[d];
            h /= win.kernel[d];
          }
          bool inside = true;
          for (int d = 0; d < nsp; d++) {
            int64_t q = opos[d] * win.strides[d] - win.pads[d] + kpos[d] * win.dilations[d];
            inside &= q >= 0 && q < x->dims[d + 2];
            off = off * x->dims[d + 2] + q;
          }
          if (!inside)
            continue;
          for (int64_t c = 0; c < cg; c++) {
            int64_t xi = (b * C + g * cg + c) * isz + off, wi = (mo * cg + c) * ksz + k;
            s += (rt_ref_geti(x->elem, x->data, xi) - zx) * (rt_ref_geti(w->elem, w->data, wi) - zw);
          }
        }
        acc[(b * M + mo) * osz + o] = s;
      }
    }
  return acc;
}

int rt_k_conv_integer(const RtNode *n, const RtTensor *in, int nin, RtTensor *out, int nout,
                      char *err, size_t errlen) {
  int st = rt_ref_check_call(n, in, nin, out, nout, err, errlen);
  if (st != RT_OK)
    return st;
  for (int i = 0; i < nin; i++)
    if ((st = q8(in, i, err, errlen)))
      return st;
  if (out[0].elem != RT_ELEM_I32)
    return rt_ref_unsupported(out[0].elem, err, errlen);
  int64_t *acc = qconv(n, &in[0], &in[1], nin > 2 ? &in[2] : NULL, nin > 3 ? &in[3] : NULL,
                       &out[0], err, errlen);
  if (!acc)
    return RT_ESHAPE;
  for (int64_t i = 0, e = rt_tensor_numel(&out[0]); i < e; i++)
    rt_ref_puti(RT_ELEM_I32, out[0].data, i, acc[i]);
  free(acc);
  return RT_OK;
}

int rt_k_qlinear_conv(const RtNode *n, const RtTensor *in, int nin, RtTensor *out, int nout,
                      char *err, size_t errlen) {
  int st = rt_ref_check_call(n, in, nin, out, nout, err, errlen);
  if (st != RT_OK)
    return st;
  const RtTensor *w = &in[3];
  int64_t mch = w->rank > 0 ? w->dims[0] : 1;
  if ((st = qlinear_check(in, mch, out, err, errlen)))
    return st;
  if (nin > 8 && (in[8].elem != RT_ELEM_I32 || rt_tensor_numel(&in[8]) != mch))
    return rt_ref_fail(err, errlen, RT_ESHAPE, "operand 8 (bias) is not i32 with one value per "
                       "output channel");
  int64_t *acc = qconv(n, &in[0], w, &in[2], &in[5], &out[0], err, errlen);
  if (!acc)
    return RT_ESHAPE;
  int64_t plane = rt_tensor_numel(&out[0]) / (out[0].dims[0] * mch > 0 ? out[0].dims[0] * mch : 1);
  for (int64_t i = 0, e = rt_tensor_numel(&out[0]); i < e; i++) {
    int64_t c = (i / (plane ? plane : 1)) % mch;
    double v = (double)acc[i] + (nin > 8 ? (double)rt_ref_geti(RT_ELEM_I32, in[8].data, c) : 0);
    requant(in, out, i, c, v);
  }
  free(acc);
  return RT_OK;
}
