/* kernels_elementwise.c - unary, cast, identity/dropout, binary (with pow and prelu), comparisons,
 * where and batch_norm (inference), on the scalar semantics of elementwise.c (ONNX's).
 *
 * Floats compute in double and round once; integers compute in int64 and wrap to their width
 * (unsigned types compare and divide as unsigned). Quantized operands are refused except by relu,
 * which clamps at the zero point and keeps the quantization (as shape inference does). */
#include <math.h>
#include <string.h>

#include "kernels.h"

/* ---- shared checks ---- */

/* The numpy broadcast of n tensors' shapes into dims and *rank; RT_ESHAPE when they do not. */
static int broadcast_dims(const RtTensor *const *ts, int n, int64_t *dims, int *rank,
                          char *err, size_t errlen) {
  int r = 0;
  for (int k = 0; k < n; k++)
    r = ts[k]->rank > r ? ts[k]->rank : r;
  for (int i = 0; i < r; i++) {
    int64_t d = 1;
    for (int k = 0; k < n; k++) {
      int j = i - (r - ts[k]->rank);
      int64_t e = j >= 0 ? ts[k]->dims[j] : 1;
      if (e != 1 && d != 1 && e != d) {
        char a[128], b[128];
        return rt_ref_fail(err, errlen, RT_ESHAPE, "shapes %s and %s do not broadcast",
                       rt_ref_dims_text(ts[0]->dims, ts[0]->rank, a, sizeof a),
                       rt_ref_dims_text(ts[k]->dims, ts[k]->rank, b, sizeof b));
      }
      if (e != 1)
        d = e;
    }
    dims[i] = d;
  }
  *rank = r;
  return RT_OK;
}

/* Result 0 has element type e: RT_EUNSUPPORTED otherwise. */
static int check_result_elem(const RtTensor *y, RtElem e, char *err, size_t errlen) {
  if (y->elem == e)
    return RT_OK;
  return rt_ref_fail(err, errlen, RT_EUNSUPPORTED, "result element type %s, expected %s",
                 rt_elem_name(y->elem), rt_elem_name(e));
}

static int same_elems(const RtTensor *a, const RtTensor *b, char *err, size_t errlen) {
  if (a->elem == b->elem)
    return RT_OK;
  return rt_ref_fail(err, errlen, RT_EUNSUPPORTED, "operand element types %s and %s differ",
                 rt_elem_name(a->elem), rt_elem_name(b->elem));
}

/* ---- unary ---- */

static int unary_code(OpKind k) {
  switch (k) {
  case OP_RELU: return RT_EW_RELU;
  case OP_SIGMOID: return RT_EW_SIGMOID;
  case OP_TANH: return RT_EW_TANH;
  case OP_EXP: return RT_EW_EXP;
  case OP_LOG: return RT_EW_LOG;
  case OP_SQRT: return RT_EW_SQRT;
  case OP_ABS: return RT_EW_ABS;
  case OP_NEG: return RT_EW_NEG;
  case OP_RECIPROCAL: return RT_EW_RECIPROCAL;
  case OP_FLOOR: return RT_EW_FLOOR;
  case OP_CEIL: return RT_EW_CEIL;
  case OP_ERF: return RT_EW_ERF;
  case OP_SOFTPLUS: return RT_EW_SOFTPLUS;
  case OP_MISH: return RT_EW_MISH;
  case OP_HARD_SWISH: return RT_EW_HARD_SWISH;
  case OP_LEAKY_RELU: return RT_EW_LEAKY_RELU;
  case OP_ELU: return RT_EW_ELU;
  case OP_HARD_SIGMOID: return RT_EW_HARD_SIGMOID;
  case OP_GELU: return RT_EW_GELU;
  case OP_CLIP: return RT_EW_CLIP;
  default: return -1;
  }
}

/* The op's parameters from its attributes (ONNX's f32 defaults); gelu's mode picks its code. */
static int unary_params(const RtNode *n, RtUnary *code, double p[2], char *err, size_t errlen) {
  float given[2] = {0, 0};
  switch (*code) {
  case RT_EW_LEAKY_RELU: given[0] = (float)rt_attr_float(n, "alpha", 0.01f); break;
  case RT_EW_ELU: given[0] = (float)rt_attr_float(n, "alpha", 1.0); break;
  case RT_EW_HARD_SIGMOID:
    given[0] = (float)rt_attr_float(n, "alpha", 0.2f);
    given[1] = (float)rt_attr_float(n, "beta", 0.5f);
    break;
  case RT_EW_CLIP:
    given[0] = (float)rt_attr_float(n, "min", -INFINITY);
    given[1] = (float)rt_attr_float(n, "max", INFINITY);
    break;
  case RT_EW_GELU: {
    const char *mode = rt_attr_string(n, "approximate", "none");
    if (strcmp(mode, "tanh") == 0)
      *code = RT_EW_GELU_TANH;
    else if (strcmp(mode, "none") != 0)
      return rt_ref_fail(err, errlen, RT_EUNSUPPORTED, "approximate \"%s\" is not none or tanh",
                     mode);
    break;
  }
  default: break;
  }
  rt_ew_unary_params(*code, given, p);
  return RT_OK;
}

/* A double bound as an int64 (lower: ceil, upper: floor), saturating; NaN bounds nothing. */
static int64_t bound(double v, bool lower) {
  if (v != v)
    return lower ? INT64_MIN : INT64_MAX;
  v = lower ? ceil(v) : floor(v);
  return v >= 0x1p63 ? INT64_MAX : v < -0x1p63 ? INT64_MIN : (int64_t)v;
}

/* The same for unsigned 64-bit values. */
static uint64_t ubound(double v, bool lower) {
  if (v != v)
    return lower ? 0 : UINT64_MAX;
  v = lower ? ceil(v) : floor(v);
  return v >= 0x1p64 ? UINT64_MAX : v < 0 ? 0 : (uint64_t)v;
}

/* clip of an integer: min(max(v, lo), hi), as ONNX. */
static int64_t clip_int(int64_t v, bool u, const double *p) {
  if (u) {
    uint64_t x = (uint64_t)v, lo = ubound(p[0], true), hi = ubound(p[1], false);
    x = x < lo ? lo : x;
    return (int64_t)(x > hi ? hi : x);
  }
  int64_t lo = bound(p[0], true), hi = bound(p[1], false);
  v = v < lo ? lo : v;
  return v > hi ? hi : v;
}

/* relu, abs, neg and clip on integers; other unary ops have no integer kernel. */
static int unary_int(RtUnary code, const RtTensor *x, RtTensor *y, int64_t count,
                     const double *p, char *err, size_t errlen) {
  if (code != RT_EW_RELU && code != RT_EW_ABS && code != RT_EW_NEG && code != RT_EW_CLIP)
    return rt_ref_unsupported(x->elem, err, errlen);
  bool u = rt_elem_is_unsigned(x->elem);
  for (int64_t i = 0; i < count; i++) {
    int64_t v = rt_ref_geti(x->elem, x->data, i);
    if (code == RT_EW_RELU)
      v = !u && v < 0 ? 0 : v;
    else if (code == RT_EW_ABS)
      v = !u && v < 0 ? (int64_t)(0 - (uint64_t)v) : v;
    else if (code == RT_EW_NEG)
      v = (int64_t)(0 - (uint64_t)v);
    else
      v = clip_int(v, u, p);
    rt_ref_puti(y->elem, y->data, i, v);
  }
  return RT_OK;
}

int rt_k_unary(const RtNode *n, const RtTensor *in, int nin, RtTensor *out, int nout, char *err,
               size_t errlen) {
  int st = rt_ref_check_call(n, in, nin, out, nout, err, errlen);
  const RtTensor *x = &in[0];
  RtTensor *y = &out[0];
  if (st != RT_OK || (st = rt_ref_check_result(y, 0, x->rank, x->dims, err, errlen)) != RT_OK ||
      (st = check_result_elem(y, x->elem, err, errlen)) != RT_OK)
    return st;
  int c = unary_code(n->op);
  if (c < 0)
    return rt_ref_fail(err, errlen, RT_EUNSUPPORTED, "not a unary op");
  RtUnary code = (RtUnary)c;
  double p[2];
  if ((st = unary_params(n, &code, p, err, errlen)) != RT_OK)
    return st;
  int64_t count = rt_tensor_numel(x);
  if (x->quantized) {
    if (code != RT_EW_RELU || (x->elem != RT_ELEM_I8 && x->elem != RT_ELEM_U8))
      return rt_ref_quantized(0, err, errlen);
    for (int64_t i = 0; i < count; i++) {
      int64_t q = rt_ref_geti(x->elem, x->data, i);
      rt_ref_puti(y->elem, y->data, i, q < x->zero_point ? x->zero_point : q);
    }
    return RT_OK;
  }
  if (rt_elem_is_int(x->elem))
    return unary_int(code, x, y, count, p, err, errlen);
  if (!rt_elem_is_float(x->elem))
    return rt_ref_unsupported(x->elem, err, errlen);
  for (int64_t i = 0; i < count; i++)
    rt_ref_put(y->elem, y->data, i, rt_ew_unary(code, rt_ref_get(x->elem, x->data, i), p));
  return RT_OK;
}

/* ---- cast, identity ---- */

/* Converts one float to an integer type: truncation toward zero of a value the target holds. */
static bool float_to_int(RtElem to, double f, double *t) {
  int bits = (int)rt_elem_size(to) * 8;
  *t = trunc(f);
  if (rt_elem_is_unsigned(to))
    return *t > -1 && *t < ldexp(1, bits);
  return *t >= -ldexp(1, bits - 1) && *t < ldexp(1, bits - 1); /* NaN fails both */
}

int rt_k_cast(const RtNode *n, const RtTensor *in, int nin, RtTensor *out, int nout, char *err,
              size_t errlen) {
  int st = rt_ref_check_call(n, in, nin, out, nout, err, errlen);
  const RtTensor *x = &in[0];
  RtTensor *y = &out[0];
  if (st != RT_OK || (st = rt_ref_check_result(y, 0, x->rank, x->dims, err, errlen)) != RT_OK)
    return st;
  if (x->quantized || y->quantized)
    return rt_ref_fail(err, errlen, RT_EUNSUPPORTED, "a quantizing cast has no reference kernel");
  RtElem from = x->elem, to = y->elem;
  int64_t count = rt_tensor_numel(x);
  for (int64_t i = 0; i < count; i++) {
    if (rt_elem_is_float(from)) {
      double f = rt_ref_get(from, x->data, i), t;
      if (rt_elem_is_float(to) || to == RT_ELEM_BOOL)
        rt_ref_put(to, y->data, i, f);
      else if (float_to_int(to, f, &t))
        rt_ref_put(to, y->data, i, t);
      else
        return rt_ref_fail(err, errlen, RT_ERANGE, "value %g is out of range of %s", f,
                       rt_elem_name(to));
      continue;
    }
    int64_t v = rt_ref_geti(from, x->data, i);
    bool u64 = from == RT_ELEM_U64;
    if (to == RT_ELEM_F32 || to == RT_ELEM_F16 || to == RT_ELEM_BF16) {
      float f = u64 ? (float)(uint64_t)v : (float)v; /* one rounding, from the integer */
      rt_ref_put(to, y->data, i, f);
    } else if (to == RT_ELEM_F64) {
      rt_ref_put(to, y->data, i, u64 ? (double)(uint64_t)v : (double)v);
    } else {
      rt_ref_puti(to, y->data, i, v);
    }
  }
  return RT_OK;
}

/* identity and dropout (inference): a copy, any element type, quantization kept. */
int rt_k_identity(const RtNode *n, const RtTensor *in, int nin, RtTensor *out, int nout,
                  char *err, size_t errlen) {
  int st = rt_ref_check_call(n, in, nin, out, nout, err, errlen);
  if (st != RT_OK || (st = rt_ref_check_result(&out[0], 0, in[0].rank, in[0].dims, err, errlen)) ||
      (st = check_result_elem(&out[0], in[0].elem, err, errlen)))
    return st;
  size_t bytes = (size_t)rt_tensor_numel(&in[0]) * rt_elem_size(in[0].elem);
  if (bytes && out[0].data != in[0].data)
    memmove(out[0].data, in[0].data, bytes);
  return RT_OK;
}

/* ---- binary ---- */

static int binary_code(OpKind k) {
  switch (k) {
  case OP_ADD: return RT_EW_ADD;
  case OP_SUB: return RT_EW_SUB;
  case OP_MUL: return RT_EW_MUL;
  case OP_DIV: return RT_EW_DIV;
  case OP_POW: return RT_EW_POW;
  case OP_MAX: return RT_EW_MAX;
  case OP_MIN: return RT_EW_MIN;
  case OP_PRELU: return RT_EW_PRELU;
  default: return -1;
  }
}

/* Integer power with wrapping for a non-negative integer exponent. */
static int64_t ipow(int64_t a, int64_t e) {
  uint64_t r = 1, b = (uint64_t)a;
  for (; e > 0; e >>= 1, b *= b)
    if (e & 1)
      r *= b;
  return (int64_t)r;
}

/* a op b on integers of type e; pow's exponent b is an integer, or the float fb when b_float. */
static int binary_int(RtBinary op, RtElem e, int64_t a, int64_t b, bool b_float, double fb,
                      int64_t *y) {
  bool u = rt_elem_is_unsigned(e);
  switch (op) {
  case RT_EW_POW:
    if (b_float || b < 0) {
      double r = trunc(pow(u ? (double)(uint64_t)a : (double)a, b_float ? fb : (double)b));
      if (!(r >= -0x1p63 && r < 0x1p63))
        return RT_ERANGE;
      *y = (int64_t)r;
    } else {
      *y = ipow(a, b);
    }
    return RT_OK;
  case RT_EW_PRELU: *y = !u && a < 0 ? (int64_t)((uint64_t)a * (uint64_t)b) : a; return RT_OK;
  case RT_EW_DIV:
    if (!u)
      return rt_ew_binary_int(op, a, b, y);
    if (b == 0)
      return RT_EDIVZERO;
    *y = (int64_t)((uint64_t)a / (uint64_t)b);
    return RT_OK;
  case RT_EW_MAX:
  case RT_EW_MIN:
    if (!u)
      return rt_ew_binary_int(op, a, b, y);
    *y = ((uint64_t)a > (uint64_t)b) == (op == RT_EW_MAX) ? a : b;
    return RT_OK;
  default: return rt_ew_binary_int(op, a, b, y);
  }
}

int rt_k_binary(const RtNode *n, const RtTensor *in, int nin, RtTensor *out, int nout, char *err,
                size_t errlen) {
  int st = rt_ref_check_call(n, in, nin, out, nout, err, errlen);
  if (st != RT_OK)
    return st;
  const RtTensor *a = &in[0], *b = &in[1];
  RtTensor *y = &out[0];
  int c = binary_code(n->op), rank = 0;
  if (c < 0)
    return rt_ref_fail(err, errlen, RT_EUNSUPPORTED, "not a binary op");
  RtBinary op = (RtBinary)c;
  int64_t dims[RT_MAX_RANK];
  if (op == RT_EW_PRELU) { /* the slope broadcasts one way: the result is x's shape */
    rank = a->rank;
    memcpy(dims, a->dims, sizeof dims);
  } else if ((st = broadcast_dims((const RtTensor *[]){a, b}, 2, dims, &rank, err, errlen))) {
    return st;
  }
  if ((st = rt_ref_check_result(y, 0, rank, dims, err, errlen)) ||
      (op != RT_EW_POW && (st = same_elems(a, b, err, errlen))) ||
      (st = check_result_elem(y, a->elem, err, errlen)))
    return st;
  if (a->quantized || b->quantized)
    return rt_ref_quantized(a->quantized ? 0 : 1, err, errlen);
  bool fa = rt_elem_is_float(a->elem);
  if (!fa && !rt_elem_is_int(a->elem))
    return rt_ref_unsupported(a->elem, err, errlen);
  if (!rt_elem_is_float(b->elem) && !rt_elem_is_int(b->elem))
    return rt_ref_unsupported(b->elem, err, errlen);
  RtBcast it;
  if (rt_bcast_init(&it, rt_ref_shape_of(y), 2, (RtShape[]){rt_ref_shape_of(a), rt_ref_shape_of(b)}))
    return rt_ref_fail(err, errlen, RT_ESHAPE, "operand 1 does not broadcast to the result");
  int64_t count = rt_tensor_numel(y);
  for (int64_t i = 0; i < count; i++, rt_bcast_next(&it)) {
    if (fa) {
      double r = rt_ew_binary_float(op, rt_ref_get(a->elem, a->data, it.off[0]),
                                    rt_ref_get(b->elem, b->data, it.off[1]));
      rt_ref_put(y->elem, y->data, i, r);
      continue;
    }
    bool bf = rt_elem_is_float(b->elem);
    int64_t bv = bf ? 0 : rt_ref_geti(b->elem, b->data, it.off[1]), r = 0;
    st = binary_int(op, a->elem, rt_ref_geti(a->elem, a->data, it.off[0]), bv, bf,
                    bf ? rt_ref_get(b->elem, b->data, it.off[1]) : 0, &r);
    if (st != RT_OK)
      return rt_ref_fail(err, errlen, st, "%s", st == RT_ERANGE ? "a power is out of range of int64"
                                                            : rt_status_str(st));
    rt_ref_puti(y->elem, y->data, i, r);
  }
  return RT_OK;
}

/* ---- comparisons, where ---- */

int rt_k_compare(const RtNode *n, const RtTensor *in, int nin, RtTensor *out, int nout,
                 char *err, size_t errlen) {
  int st = rt_ref_check_call(n, in, nin, out, nout, err, errlen), rank = 0;
  if (st != RT_OK)
    return st;
  const RtTensor *a = &in[0], *b = &in[1];
  RtTensor *y = &out[0];
  int64_t dims[RT_MAX_RANK];
  if ((st = broadcast_dims((const RtTensor *[]){a, b}, 2, dims, &rank, err, errlen)) ||
      (st = rt_ref_check_result(y, 0, rank, dims, err, errlen)) ||
      (st = same_elems(a, b, err, errlen)) ||
      (st = check_result_elem(y, RT_ELEM_BOOL, err, errlen)))
    return st;
  if (a->quantized || b->quantized)
    return rt_ref_quantized(a->quantized ? 0 : 1, err, errlen);
  bool f = rt_elem_is_float(a->elem), u = rt_elem_is_unsigned(a->elem);
  if (!f && !rt_elem_is_int(a->elem) && a->elem != RT_ELEM_BOOL)
    return rt_ref_unsupported(a->elem, err, errlen);
  RtBcast it;
  if (rt_bcast_init(&it, rt_ref_shape_of(y), 2, (RtShape[]){rt_ref_shape_of(a), rt_ref_shape_of(b)}))
    return rt_ref_fail(err, errlen, RT_ESHAPE, "operands do not broadcast to the result");
  int64_t count = rt_tensor_numel(y);
  for (int64_t i = 0; i < count; i++, rt_bcast_next(&it)) {
    int cmp; /* -1, 0, 1; 2 when unordered (NaN) */
    if (f) {
      double x = rt_ref_get(a->elem, a->data, it.off[0]), z = rt_ref_get(b->elem, b->data, it.off[1]);
      cmp = x < z ? -1 : x > z ? 1 : x == z ? 0 : 2;
    } else {
      int64_t x = rt_ref_geti(a->elem, a->data, it.off[0]), z = rt_ref_geti(b->elem, b->data, it.off[1]);
      cmp = u ? ((uint64_t)x < (uint64_t)z ? -1 : (uint64_t)x > (uint64_t)z)
              : (x < z ? -1 : x > z);
    }
    bool r = n->op == OP_EQUAL            ? cmp == 0
             : n->op == OP_LESS           ? cmp == -1
             : n->op == OP_LESS_OR_EQUAL  ? cmp == -1 || cmp == 0
             : n->op == OP_GREATER_OR_EQUAL ? cmp == 1 || cmp == 0
                                          : cmp == 1;
    ((uint8_t *)y->data)[i] = r;
  }
  return RT_OK;
}

int rt_k_where(const RtNode *n, const RtTensor *in, int nin, RtTensor *out, int nout, char *err,
               size_t errlen) {
  int st = rt_ref_check_call(n, in, nin, out, nout, err, errlen), rank = 0;
  if (st != RT_OK)
    return st;
  const RtTensor *c = &in[0], *a = &in[1], *b = &in[2];
  RtTensor *y = &out[0];
  int64_t dims[RT_MAX_RANK];
  if ((st = broadcast_dims((const RtTensor *[]){c, a, b}, 3, dims, &rank, err, errlen)) ||
      (st = rt_ref_check_result(y, 0, rank, dims, err, errlen)) ||
      (st = same_elems(a, b, err, errlen)) || (st = check_result_elem(y, a->elem, err, errlen)))
    return st;
  if (c->elem != RT_ELEM_BOOL)
    return rt_ref_fail(err, errlen, RT_EUNSUPPORTED, "the condition has element type %s, expected "
                   "bool", rt_elem_name(c->elem));
  RtBcast it;
  if (rt_bcast_init(&it, rt_ref_shape_of(y), 3,
                    (RtShape[]){rt_ref_shape_of(c), rt_ref_shape_of(a), rt_ref_shape_of(b)}))
    return rt_ref_fail(err, errlen, RT_ESHAPE, "operands do not broadcast to the result");
  size_t size = rt_elem_size(y->elem);
  int64_t count = rt_tensor_numel(y);
  for (int64_t i = 0; i < count; i++, rt_bcast_next(&it)) {
    const char *src = ((const uint8_t *)c->data)[it.off[0]]
                          ? (const char *)a->data + (size_t)it.off[1] * size
                          : (const char *)b->data + (size_t)it.off[2] * size;
    memcpy((char *)y->data + (size_t)i * size, src, size);
  }
  return RT_OK;
}

/* ---- batch_norm ---- */

/* y = (x - mean) / sqrt(var + epsilon) * scale + bias per channel (dimension 1); epsilon
 * defaults to 1e-5. Float types only. */
int rt_k_batch_norm(const RtNode *n, const RtTensor *in, int nin, RtTensor *out, int nout,
                    char *err, size_t errlen) {
  int st = rt_ref_check_call(n, in, nin, out, nout, err, errlen);
  const RtTensor *x = &in[0];
  RtTensor *y = &out[0];
  if (st != RT_OK || (st = rt_ref_check_result(y, 0, x->rank, x->dims, err, errlen)) ||
      (st = check_result_elem(y, x->elem, err, errlen)))
    return st;
  if (x->rank < 2)
    return rt_ref_fail(err, errlen, RT_ESHAPE, "operand 0 has rank %d, expected at least 2",
                   x->rank);
  int64_t ch = x->dims[1];
  for (int i = 0; i < 5; i++) {
    if (in[i].quantized)
      return rt_ref_quantized(i, err, errlen);
    if (!rt_elem_is_float(in[i].elem))
      return rt_ref_unsupported(in[i].elem, err, errlen);
    if (i && (in[i].rank != 1 || in[i].dims[0] != ch))
      return rt_ref_fail(err, errlen, RT_ESHAPE, "operand %d is not of shape [%lld] (one per channel)",
                     i, (long long)ch);
  }
  double eps = rt_attr_float(n, "epsilon", 1e-5f);
  int64_t inner = 1, count = rt_tensor_numel(x);
  for (int i = 2; i < x->rank; i++)
    inner *= x->dims[i];
  for (int64_t i = 0; count && i < count; i++) {
    int64_t c = (i / inner) % ch; /* count > 0: inner and ch are too */
    double scale = rt_ref_get(in[1].elem, in[1].data, c), bias = rt_ref_get(in[2].elem, in[2].data, c);
    double mean = rt_ref_get(in[3].elem, in[3].data, c), var = rt_ref_get(in[4].elem, in[4].data, c);
    double v = (rt_ref_get(x->elem, x->data, i) - mean) / sqrt(var + eps) * scale + bias;
    rt_ref_put(y->elem, y->data, i, v);
  }
  return RT_OK;
}
