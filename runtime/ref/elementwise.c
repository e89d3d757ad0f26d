/* elementwise.c - reference kernels of the elementwise and broadcast ops (see elementwise.h).
 *
 * Float kernels evaluate in double and round once to f32. Integer kernels evaluate in int64 with
 * wrapping (unsigned) arithmetic, so overflow wraps as two's complement instead of being undefined,
 * and narrow to i32 by wrapping. Elements are loaded and stored through memcpy, so buffers need no
 * particular alignment. */
#include "elementwise.h"

#include <math.h>
#include <stdbool.h>
#include <string.h>

/* ---- shapes and broadcasting ---- */

int64_t rt_shape_numel(RtShape s) {
  if (s.rank < 0 || s.rank > RT_MAX_RANK)
    return -1;
  int64_t n = 1;
  bool zero = false;
  for (int i = 0; i < s.rank; i++) {
    int64_t d = s.dims[i];
    if (d < 0)
      return -1;
    if (d == 0) {
      zero = true;
      continue;
    }
    if (n > INT64_MAX / d)
      return -1;
    n *= d;
  }
  return zero ? 0 : n;
}

const char *rt_status_str(int status) {
  switch (status) {
  case RT_OK: return "success";
  case RT_EUNSUPPORTED: return "no reference kernel for this op and element type";
  case RT_ESHAPE: return "shapes do not broadcast to the result";
  case RT_EDIVZERO: return "integer division by zero";
  case RT_ERANGE: return "value out of range of the target type";
  case RT_ENOMEM: return "out of memory";
  default: return "unknown status";
  }
}

int rt_bcast_init(RtBcast *it, RtShape ys, int nin, const RtShape *in) {
  if (rt_shape_numel(ys) < 0)
    return RT_ESHAPE;
  memset(it, 0, sizeof *it);
  it->rank = ys.rank;
  it->nin = nin;
  memcpy(it->dims, ys.dims, sizeof ys.dims);
  for (int k = 0; k < nin; k++) {
    if (in[k].rank < 0 || in[k].rank > ys.rank)
      return RT_ESHAPE;
    int64_t stride = 1;
    for (int d = in[k].rank - 1; d >= 0; d--) {
      int yd = d + ys.rank - in[k].rank;
      int64_t dim = in[k].dims[d];
      if (dim != ys.dims[yd] && dim != 1)
        return RT_ESHAPE;
      it->stride[k][yd] = dim == 1 ? 0 : stride;
      stride *= dim;
    }
  }
  return RT_OK;
}

void rt_bcast_next(RtBcast *it) {
  for (int d = it->rank - 1; d >= 0; d--) {
    for (int k = 0; k < it->nin; k++)
      it->off[k] += it->stride[k][d];
    if (++it->idx[d] < it->dims[d])
      return;
    for (int k = 0; k < it->nin; k++)
      it->off[k] -= it->stride[k][d] * it->dims[d];
    it->idx[d] = 0;
  }
}

/* ---- element access ---- */

typedef enum Elem { E_F32, E_I32, E_I64 } Elem;

static size_t elem_size(Elem e) { return e == E_I64 ? 8 : 4; }

static float load_f32(const void *p, int64_t i) {
  float v;
  memcpy(&v, (const char *)p + (size_t)i * 4, 4);
  return v;
}

static void store_f32(void *p, int64_t i, float v) { memcpy((char *)p + (size_t)i * 4, &v, 4); }

static int64_t load_int(Elem e, const void *p, int64_t i) {
  if (e == E_I32) {
    int32_t v;
    memcpy(&v, (const char *)p + (size_t)i * 4, 4);
    return v;
  }
  int64_t v;
  memcpy(&v, (const char *)p + (size_t)i * 8, 8);
  return v;
}

/* Stores v, wrapping it to 32 bits for i32. */
static void store_int(Elem e, void *p, int64_t i, int64_t v) {
  if (e == E_I32) {
    int32_t w = (int32_t)(uint32_t)(uint64_t)v;
    memcpy((char *)p + (size_t)i * 4, &w, 4);
  } else {
    memcpy((char *)p + (size_t)i * 8, &v, 8);
  }
}

/* ---- unary ---- */

static double softplus(double x) { return x > 0 ? x + log1p(exp(-x)) : log1p(exp(x)); }

static double clamp01(double x) { return x < 0 ? 0 : x > 1 ? 1 : x; }

double rt_ew_unary(RtUnary op, double x, const double *p) {
  switch (op) {
  case RT_EW_RELU: return x < 0 ? 0 : x;
  case RT_EW_SIGMOID: return 1 / (1 + exp(-x));
  case RT_EW_TANH: return tanh(x);
  case RT_EW_EXP: return exp(x);
  case RT_EW_LOG: return log(x);
  case RT_EW_SQRT: return sqrt(x);
  case RT_EW_ABS: return fabs(x);
  case RT_EW_NEG: return -x;
  case RT_EW_RECIPROCAL: return 1 / x;
  case RT_EW_FLOOR: return floor(x);
  case RT_EW_CEIL: return ceil(x);
  case RT_EW_ERF: return erf(x);
  case RT_EW_SOFTPLUS: return softplus(x);
  case RT_EW_MISH: return x * tanh(softplus(x));
  case RT_EW_HARD_SWISH: return x * clamp01(x / 6 + 0.5);
  case RT_EW_LEAKY_RELU: return x < 0 ? p[0] * x : x;
  case RT_EW_ELU: return x < 0 ? p[0] * expm1(x) : x;
  case RT_EW_HARD_SIGMOID: return clamp01(p[0] * x + p[1]);
  case RT_EW_GELU: return 0.5 * x * (1 + erf(x / sqrt(2.0)));
  case RT_EW_GELU_TANH:
    return 0.5 * x * (1 + tanh(0.7978845608028654 * (x + 0.044715 * x * x * x)));
  case RT_EW_CLIP: return x < p[0] ? p[0] : x > p[1] ? p[1] : x;
  default: return x;
  }
}

/* The op's parameters: those given, else ONNX's defaults. */
void rt_ew_unary_params(RtUnary op, const float *given, double p[2]) {
  p[0] = p[1] = 0;
  switch (op) {
  case RT_EW_LEAKY_RELU: p[0] = 0.01f; break; /* ONNX's defaults are f32 attributes */
  case RT_EW_ELU: p[0] = 1; break;
  case RT_EW_HARD_SIGMOID:
    p[0] = 0.2f;
    p[1] = 0.5f;
    break;
  case RT_EW_CLIP:
    p[0] = -INFINITY;
    p[1] = INFINITY;
    break;
  default: return;
  }
  if (given) {
    p[0] = given[0];
    if (op == RT_EW_HARD_SIGMOID || op == RT_EW_CLIP)
      p[1] = given[1];
  }
}

int rt_ref_unary_f32(RtUnary op, const float *x, float *y, int64_t n, const float *params) {
  if ((int)op < 0 || op >= RT_EW_UNARY_COUNT)
    return RT_EUNSUPPORTED;
  if (n < 0)
    return RT_ESHAPE;
  double p[2];
  rt_ew_unary_params(op, params, p);
  for (int64_t i = 0; i < n; i++)
    y[i] = (float)rt_ew_unary(op, x[i], p);
  return RT_OK;
}

/* ---- binary ---- */

double rt_ew_binary_float(RtBinary op, double a, double b) {
  switch (op) {
  case RT_EW_ADD: return a + b;
  case RT_EW_SUB: return a - b;
  case RT_EW_MUL: return a * b;
  case RT_EW_DIV: return a / b;
  case RT_EW_POW: return pow(a, b);
  case RT_EW_MAX: return isnan(a) || isnan(b) ? NAN : a > b ? a : b;
  case RT_EW_MIN: return isnan(a) || isnan(b) ? NAN : a < b ? a : b;
  case RT_EW_PRELU: return a < 0 ? a * b : a;
  default: return NAN;
  }
}

/* Integer arithmetic on int64 that wraps instead of overflowing. */
int rt_ew_binary_int(RtBinary op, int64_t a, int64_t b, int64_t *y) {
  switch (op) {
  case RT_EW_ADD: *y = (int64_t)((uint64_t)a + (uint64_t)b); return RT_OK;
  case RT_EW_SUB: *y = (int64_t)((uint64_t)a - (uint64_t)b); return RT_OK;
  case RT_EW_MUL: *y = (int64_t)((uint64_t)a * (uint64_t)b); return RT_OK;
  case RT_EW_DIV:
    if (b == 0)
      return RT_EDIVZERO;
    *y = b == -1 ? (int64_t)(0 - (uint64_t)a) : a / b; /* C division truncates toward zero */
    return RT_OK;
  case RT_EW_MAX: *y = a > b ? a : b; return RT_OK;
  case RT_EW_MIN: *y = a < b ? a : b; return RT_OK;
  default: return RT_EUNSUPPORTED;
  }
}

static int binary(RtBinary op, Elem e, const void *a, RtShape as, const void *b, RtShape bs,
                  void *y, RtShape ys) {
  if ((int)op < 0 || op >= RT_EW_BINARY_COUNT)
    return RT_EUNSUPPORTED;
  if (e != E_F32 && (op == RT_EW_POW || op == RT_EW_PRELU))
    return RT_EUNSUPPORTED;
  RtBcast it;
  int st = rt_bcast_init(&it, ys, 2, (RtShape[]){as, bs});
  int64_t n = rt_shape_numel(ys);
  for (int64_t i = 0; st == RT_OK && i < n; i++, rt_bcast_next(&it)) {
    if (e == E_F32) {
      double r = rt_ew_binary_float(op, load_f32(a, it.off[0]), load_f32(b, it.off[1]));
      store_f32(y, i, (float)r);
    } else {
      int64_t r = 0;
      st = rt_ew_binary_int(op, load_int(e, a, it.off[0]), load_int(e, b, it.off[1]), &r);
      store_int(e, y, i, r);
    }
  }
  return st;
}

int rt_ref_binary_f32(RtBinary op, const float *a, RtShape as, const float *b, RtShape bs, float *y,
                      RtShape ys) {
  return binary(op, E_F32, a, as, b, bs, y, ys);
}

int rt_ref_binary_i32(RtBinary op, const int32_t *a, RtShape as, const int32_t *b, RtShape bs,
                      int32_t *y, RtShape ys) {
  return binary(op, E_I32, a, as, b, bs, y, ys);
}

int rt_ref_binary_i64(RtBinary op, const int64_t *a, RtShape as, const int64_t *b, RtShape bs,
                      int64_t *y, RtShape ys) {
  return binary(op, E_I64, a, as, b, bs, y, ys);
}

/* ---- comparisons ---- */

static bool compare_float(RtCompare op, float a, float b) {
  return op == RT_EW_EQUAL ? a == b : op == RT_EW_LESS ? a < b : a > b;
}

static bool compare_int(RtCompare op, int64_t a, int64_t b) {
  return op == RT_EW_EQUAL ? a == b : op == RT_EW_LESS ? a < b : a > b;
}

static int compare(RtCompare op, Elem e, const void *a, RtShape as, const void *b, RtShape bs,
                   uint8_t *y, RtShape ys) {
  if ((int)op < 0 || op >= RT_EW_COMPARE_COUNT)
    return RT_EUNSUPPORTED;
  RtBcast it;
  int st = rt_bcast_init(&it, ys, 2, (RtShape[]){as, bs});
  if (st != RT_OK)
    return st;
  int64_t n = rt_shape_numel(ys);
  for (int64_t i = 0; i < n; i++, rt_bcast_next(&it)) {
    if (e == E_F32)
      y[i] = compare_float(op, load_f32(a, it.off[0]), load_f32(b, it.off[1]));
    else
      y[i] = compare_int(op, load_int(e, a, it.off[0]), load_int(e, b, it.off[1]));
  }
  return RT_OK;
}

int rt_ref_compare_f32(RtCompare op, const float *a, RtShape as, const float *b, RtShape bs,
                       uint8_t *y, RtShape ys) {
  return compare(op, E_F32, a, as, b, bs, y, ys);
}

int rt_ref_compare_i32(RtCompare op, const int32_t *a, RtShape as, const int32_t *b, RtShape bs,
                       uint8_t *y, RtShape ys) {
  return compare(op, E_I32, a, as, b, bs, y, ys);
}

int rt_ref_compare_i64(RtCompare op, const int64_t *a, RtShape as, const int64_t *b, RtShape bs,
                       uint8_t *y, RtShape ys) {
  return compare(op, E_I64, a, as, b, bs, y, ys);
}

/* ---- where ---- */

static int where(Elem e, const uint8_t *cond, RtShape cs, const void *a, RtShape as, const void *b,
                 RtShape bs, void *y, RtShape ys) {
  RtBcast it;
  int st = rt_bcast_init(&it, ys, 3, (RtShape[]){cs, as, bs});
  if (st != RT_OK)
    return st;
  size_t size = elem_size(e);
  int64_t n = rt_shape_numel(ys);
  for (int64_t i = 0; i < n; i++, rt_bcast_next(&it)) {
    const char *src = cond[it.off[0]] ? (const char *)a + (size_t)it.off[1] * size
                                      : (const char *)b + (size_t)it.off[2] * size;
    memcpy((char *)y + (size_t)i * size, src, size);
  }
  return RT_OK;
}

int rt_ref_where_f32(const uint8_t *cond, RtShape cs, const float *a, RtShape as, const float *b,
                     RtShape bs, float *y, RtShape ys) {
  return where(E_F32, cond, cs, a, as, b, bs, y, ys);
}

int rt_ref_where_i32(const uint8_t *cond, RtShape cs, const int32_t *a, RtShape as,
                     const int32_t *b, RtShape bs, int32_t *y, RtShape ys) {
  return where(E_I32, cond, cs, a, as, b, bs, y, ys);
}

int rt_ref_where_i64(const uint8_t *cond, RtShape cs, const int64_t *a, RtShape as,
                     const int64_t *b, RtShape bs, int64_t *y, RtShape ys) {
  return where(E_I64, cond, cs, a, as, b, bs, y, ys);
}

/* ---- cast ---- */

float rt_f16_to_f32(uint16_t h) {
  int exp = (h >> 10) & 0x1f, man = h & 0x3ff;
  float v;
  if (exp == 0x1f)
    v = man ? NAN : INFINITY;
  else if (exp == 0)
    v = ldexpf((float)man, -24); /* zero or subnormal */
  else
    v = ldexpf((float)(man | 0x400), exp - 25);
  return h & 0x8000 ? -v : v;
}

uint16_t rt_f32_to_f16(float f) {
  uint32_t x;
  memcpy(&x, &f, 4);
  uint32_t sign = (x >> 16) & 0x8000, exp = (x >> 23) & 0xff, man = x & 0x7fffff;
  if (exp == 0xff) /* inf, or NaN kept quiet */
    return (uint16_t)(sign | 0x7c00 | (man ? 0x200 : 0));
  int e = (int)exp - 127 + 15; /* the biased f16 exponent */
  if (e >= 0x1f)
    return (uint16_t)(sign | 0x7c00);
  uint32_t half, rem, mid;
  if (e <= 0) { /* subnormal in f16: shift the significand with its implicit bit */
    if (e < -10)
      return (uint16_t)sign;
    int shift = 14 - e;
    uint32_t sig = man | 0x800000;
    half = sig >> shift;
    rem = sig & ((1u << shift) - 1);
    mid = 1u << (shift - 1);
  } else {
    half = ((uint32_t)e << 10) | (man >> 13);
    rem = man & 0x1fff;
    mid = 0x1000;
  }
  if (rem > mid || (rem == mid && (half & 1)))
    half++; /* a carry may ripple into the exponent, up to infinity: that is the right result */
  return (uint16_t)(sign | half);
}

static size_t dtype_size(RtDType t) {
  switch (t) {
  case RT_F32: case RT_I32: return 4;
  case RT_F16: return 2;
  case RT_I64: return 8;
  default: return 1;
  }
}

static bool dtype_is_float(RtDType t) { return t == RT_F32 || t == RT_F16; }

static float load_float_elem(RtDType t, const char *p) {
  if (t == RT_F16) {
    uint16_t h;
    memcpy(&h, p, 2);
    return rt_f16_to_f32(h);
  }
  float f;
  memcpy(&f, p, 4);
  return f;
}

static int64_t load_int_elem(RtDType t, const char *p) {
  switch (t) {
  case RT_I32: return load_int(E_I32, p, 0);
  case RT_I64: return load_int(E_I64, p, 0);
  case RT_U8: return *(const uint8_t *)p;
  default: return *(const uint8_t *)p != 0; /* RT_BOOL */
  }
}

static void store_int_elem(RtDType t, char *p, int64_t v) {
  switch (t) {
  case RT_I32: store_int(E_I32, p, 0, v); break;
  case RT_I64: store_int(E_I64, p, 0, v); break;
  case RT_U8: *(uint8_t *)p = (uint8_t)(uint64_t)v; break;
  default: *(uint8_t *)p = v != 0; break; /* RT_BOOL */
  }
}

/* Float to integer: truncation toward zero of a value the target holds after truncation. */
static int float_to_int(RtDType to, float f, int64_t *v) {
  double lo, hi; /* exclusive bounds */
  switch (to) {
  case RT_I32: lo = -2147483649.0, hi = 2147483648.0; break;
  case RT_I64: lo = -9223372036854777856.0, hi = 9223372036854775808.0; break; /* -2^63-2^11 */
  default: lo = -1.0, hi = 256.0; break; /* RT_U8 */
  }
  if (!(f > lo && f < hi)) /* NaN fails too */
    return RT_ERANGE;
  *v = (int64_t)f;
  return RT_OK;
}

static int cast_one(RtDType from, const char *x, RtDType to, char *y) {
  if (dtype_is_float(from)) {
    float f = load_float_elem(from, x);
    if (to == RT_F32) {
      memcpy(y, &f, 4);
    } else if (to == RT_F16) {
      uint16_t h = rt_f32_to_f16(f);
      memcpy(y, &h, 2);
    } else if (to == RT_BOOL) {
      *(uint8_t *)y = f != 0;
    } else {
      int64_t v;
      if (float_to_int(to, f, &v) != RT_OK)
        return RT_ERANGE;
      store_int_elem(to, y, v);
    }
    return RT_OK;
  }
  int64_t v = load_int_elem(from, x);
  if (to == RT_F32) {
    float f = (float)v; /* one rounding, straight from the integer */
    memcpy(y, &f, 4);
  } else if (to == RT_F16) {
    uint16_t h = rt_f32_to_f16((float)v); /* exact below 2^24, and f16 overflows at 65520 */
    memcpy(y, &h, 2);
  } else {
    store_int_elem(to, y, v);
  }
  return RT_OK;
}

int rt_ref_cast(RtDType from, const void *x, RtDType to, void *y, int64_t n) {
  if ((int)from < 0 || from >= RT_DTYPE_COUNT || (int)to < 0 || to >= RT_DTYPE_COUNT)
    return RT_EUNSUPPORTED;
  if (n < 0)
    return RT_ESHAPE;
  size_t fs = dtype_size(from), ts = dtype_size(to);
  for (int64_t i = 0; i < n; i++) {
    int st = cast_one(from, (const char *)x + (size_t)i * fs, to, (char *)y + (size_t)i * ts);
    if (st != RT_OK)
      return st;
  }
  return RT_OK;
}
