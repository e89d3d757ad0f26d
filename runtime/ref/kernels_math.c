/* kernels_math.c - trigonometric, hyperbolic, rounding and activation-like unary ops, is_nan,
 * is_inf and not, and the binary mod, and, or, xor (ONNX semantics).
 *
 * Floats compute in double and round once when stored. sign, abs-like shrink and mod also take
 * integers (int64 arithmetic, unsigned types as unsigned); quantized operands are refused. */
#include <math.h>
#include <string.h>

#include "kernels.h"

/* ---- shared checks ---- */

/* The numpy broadcast of a's and b's shapes into dims and *rank; RT_ESHAPE when they do not. */
static int bcast2(const RtTensor *a, const RtTensor *b, int64_t *dims, int *rank, char *err,
                  size_t errlen) {
  int r = a->rank > b->rank ? a->rank : b->rank;
  for (int i = 0; i < r; i++) {
    int ja = i - (r - a->rank), jb = i - (r - b->rank);
    int64_t da = ja >= 0 ? a->dims[ja] : 1, db = jb >= 0 ? b->dims[jb] : 1;
    if (da != 1 && db != 1 && da != db) {
      char x[128], y[128];
      return rt_ref_fail(err, errlen, RT_ESHAPE, "shapes %s and %s do not broadcast",
                         rt_ref_dims_text(a->dims, a->rank, x, sizeof x),
                         rt_ref_dims_text(b->dims, b->rank, y, sizeof y));
    }
    dims[i] = da != 1 ? da : db;
  }
  *rank = r;
  return RT_OK;
}

static int want_elem(const RtTensor *t, const char *what, RtElem e, char *err, size_t errlen) {
  if (t->elem == e)
    return RT_OK;
  return rt_ref_fail(err, errlen, RT_EUNSUPPORTED, "%s has element type %s, expected %s", what,
                     rt_elem_name(t->elem), rt_elem_name(e));
}

/* ---- unary ---- */

/* op(x) in double; p holds the op's float attributes. */
static double math_unary(OpKind op, double x, const double *p) {
  switch (op) {
  case OP_SIN: return sin(x);
  case OP_COS: return cos(x);
  case OP_TAN: return tan(x);
  case OP_ASIN: return asin(x);
  case OP_ACOS: return acos(x);
  case OP_ATAN: return atan(x);
  case OP_SINH: return sinh(x);
  case OP_COSH: return cosh(x);
  case OP_ASINH: return asinh(x);
  case OP_ACOSH: return acosh(x);
  case OP_ATANH: return atanh(x);
  case OP_SIGN: return x > 0 ? 1.0 : x < 0 ? -1.0 : x == 0 ? 0.0 : x; /* NaN stays NaN */
  case OP_ROUND: return nearbyint(x); /* the default rounding mode: half to even */
  case OP_SOFTSIGN: return x / (1 + fabs(x));
  case OP_SELU: return x > 0 ? p[1] * x : p[1] * (p[0] * exp(x) - p[0]);
  case OP_CELU: return fmax(0, x) + fmin(0, p[0] * (exp(x / p[0]) - 1));
  case OP_THRESHOLDED_RELU: return x > p[0] ? x : 0;
  case OP_SHRINK: return x < -p[1] ? x + p[0] : x > p[1] ? x - p[0] : 0;
  default: return NAN;
  }
}

static int unary_bool(const RtNode *n, const RtTensor *x, RtTensor *y, int64_t count, char *err,
                      size_t errlen) {
  int st;
  if (n->op == OP_NOT) {
    if ((st = want_elem(x, "operand 0", RT_ELEM_BOOL, err, errlen)))
      return st;
    for (int64_t i = 0; i < count; i++)
      ((uint8_t *)y->data)[i] = !((const uint8_t *)x->data)[i];
    return RT_OK;
  }
  if (!rt_elem_is_float(x->elem))
    return rt_ref_unsupported(x->elem, err, errlen);
  bool neg = rt_attr_int(n, "detect_negative", 1) != 0, pos = rt_attr_int(n, "detect_positive", 1) != 0;
  for (int64_t i = 0; i < count; i++) {
    double v = rt_ref_get(x->elem, x->data, i);
    bool r = n->op == OP_IS_NAN ? v != v : isinf(v) && (v > 0 ? pos : neg);
    ((uint8_t *)y->data)[i] = r;
  }
  return RT_OK;
}

int rt_k_math_unary(const RtNode *n, const RtTensor *in, int nin, RtTensor *out, int nout,
                    char *err, size_t errlen) {
  int st = rt_ref_check_call(n, in, nin, out, nout, err, errlen);
  const RtTensor *x = &in[0];
  RtTensor *y = &out[0];
  if (st != RT_OK || (st = rt_ref_check_result(y, 0, x->rank, x->dims, err, errlen)) != RT_OK)
    return st;
  bool to_bool = n->op == OP_IS_NAN || n->op == OP_IS_INF || n->op == OP_NOT;
  if ((st = want_elem(y, "result 0", to_bool ? RT_ELEM_BOOL : x->elem, err, errlen)))
    return st;
  if (x->quantized)
    return rt_ref_quantized(0, err, errlen);
  int64_t count = rt_tensor_numel(x);
  if (to_bool)
    return unary_bool(n, x, y, count, err, errlen);
  double p[2] = {0, 0};
  switch (n->op) {
  case OP_SELU:
    p[0] = (float)rt_attr_float(n, "alpha", 1.67326319217681884765625f);
    p[1] = (float)rt_attr_float(n, "gamma", 1.05070102214813232421875f);
    break;
  case OP_CELU: p[0] = (float)rt_attr_float(n, "alpha", 1.0); break;
  case OP_THRESHOLDED_RELU: p[0] = (float)rt_attr_float(n, "alpha", 1.0); break;
  case OP_SHRINK:
    p[0] = (float)rt_attr_float(n, "bias", 0.0);
    p[1] = (float)rt_attr_float(n, "lambd", 0.5);
    break;
  default: break;
  }
  if (rt_elem_is_int(x->elem)) {
    bool u = rt_elem_is_unsigned(x->elem);
    if (n->op == OP_SIGN) {
      for (int64_t i = 0; i < count; i++) {
        int64_t v = rt_ref_geti(x->elem, x->data, i);
        rt_ref_puti(y->elem, y->data, i, u ? v != 0 : (v > 0) - (v < 0));
      }
      return RT_OK;
    }
    if (n->op != OP_SHRINK)
      return rt_ref_unsupported(x->elem, err, errlen);
    for (int64_t i = 0; i < count; i++) {
      int64_t v = rt_ref_geti(x->elem, x->data, i);
      double d = u ? (double)(uint64_t)v : (double)v;
      int64_t bias = fabs(p[0]) < 0x1p62 ? (int64_t)p[0] : 0; /* integral bias on integers */
      rt_ref_puti(y->elem, y->data, i, d < -p[1] ? v + bias : d > p[1] ? v - bias : 0);
    }
    return RT_OK;
  }
  if (!rt_elem_is_float(x->elem))
    return rt_ref_unsupported(x->elem, err, errlen);
  for (int64_t i = 0; i < count; i++)
    rt_ref_put(y->elem, y->data, i, math_unary(n->op, rt_ref_get(x->elem, x->data, i), p));
  return RT_OK;
}

/* ---- binary ---- */

/* a mod b on integers: fmod truncates (C's %), otherwise the sign follows the divisor (Python). */
static int mod_int(bool u, bool c_fmod, int64_t a, int64_t b, int64_t *y) {
  if (b == 0)
    return RT_EDIVZERO;
  if (u) {
    *y = (int64_t)((uint64_t)a % (uint64_t)b);
    return RT_OK;
  }
  int64_t r = b == -1 ? 0 : a % b;
  if (!c_fmod && r != 0 && (r < 0) != (b < 0))
    r += b;
  *y = r;
  return RT_OK;
}

/* mod (both operands one type, the result too) and and/or/xor (bool operands and result). */
int rt_k_math_binary(const RtNode *n, const RtTensor *in, int nin, RtTensor *out, int nout,
                     char *err, size_t errlen) {
  int st = rt_ref_check_call(n, in, nin, out, nout, err, errlen), rank = 0;
  if (st != RT_OK)
    return st;
  const RtTensor *a = &in[0], *b = &in[1];
  RtTensor *y = &out[0];
  int64_t dims[RT_MAX_RANK];
  bool logical = n->op != OP_MOD;
  if ((st = bcast2(a, b, dims, &rank, err, errlen)) ||
      (st = rt_ref_check_result(y, 0, rank, dims, err, errlen)) ||
      (st = want_elem(b, "operand 1", a->elem, err, errlen)) ||
      (st = want_elem(y, "result 0", a->elem, err, errlen)) ||
      (logical && (st = want_elem(a, "operand 0", RT_ELEM_BOOL, err, errlen))))
    return st;
  if (a->quantized || b->quantized)
    return rt_ref_quantized(a->quantized ? 0 : 1, err, errlen);
  bool c_fmod = rt_attr_int(n, "fmod", 0) != 0, f = rt_elem_is_float(a->elem);
  if (!logical && !f && !rt_elem_is_int(a->elem))
    return rt_ref_unsupported(a->elem, err, errlen);
  if (!logical && f && !c_fmod)
    return rt_ref_fail(err, errlen, RT_EUNSUPPORTED, "fmod is 0 with %s operands, expected 1",
                       rt_elem_name(a->elem));
  RtBcast it;
  if (rt_bcast_init(&it, rt_ref_shape_of(y), 2, (RtShape[]){rt_ref_shape_of(a), rt_ref_shape_of(b)}))
    return rt_ref_fail(err, errlen, RT_ESHAPE, "operands do not broadcast to the result");
  bool u = rt_elem_is_unsigned(a->elem);
  int64_t count = rt_tensor_numel(y);
  for (int64_t i = 0; i < count; i++, rt_bcast_next(&it)) {
    if (logical) {
      bool x = ((const uint8_t *)a->data)[it.off[0]] != 0;
      bool z = ((const uint8_t *)b->data)[it.off[1]] != 0;
      ((uint8_t *)y->data)[i] = n->op == OP_AND ? x && z : n->op == OP_OR ? x || z : x != z;
    } else if (f) {
      rt_ref_put(y->elem, y->data, i, fmod(rt_ref_get(a->elem, a->data, it.off[0]),
                                           rt_ref_get(b->elem, b->data, it.off[1])));
    } else {
      int64_t r;
      if ((st = mod_int(u, c_fmod, rt_ref_geti(a->elem, a->data, it.off[0]),
                        rt_ref_geti(b->elem, b->data, it.off[1]), &r)))
        return rt_ref_fail(err, errlen, st, "%s", rt_status_str(st));
      rt_ref_puti(y->elem, y->data, i, r);
    }
  }
  return RT_OK;
}
