/* kernels.c - the kernel table (rt_ref_kernels), attribute getters, element access and the
 * argument checks every kernel starts with (see kernels.h). */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "kernels.h"

/* ---- the table ---- */

const RtKernel rt_ref_kernels[OP_COUNT] = {
    [OP_RELU] = rt_k_unary,
    [OP_SIGMOID] = rt_k_unary,
    [OP_TANH] = rt_k_unary,
    [OP_EXP] = rt_k_unary,
    [OP_LOG] = rt_k_unary,
    [OP_SQRT] = rt_k_unary,
    [OP_ABS] = rt_k_unary,
    [OP_NEG] = rt_k_unary,
    [OP_RECIPROCAL] = rt_k_unary,
    [OP_FLOOR] = rt_k_unary,
    [OP_CEIL] = rt_k_unary,
    [OP_ERF] = rt_k_unary,
    [OP_SOFTPLUS] = rt_k_unary,
    [OP_MISH] = rt_k_unary,
    [OP_HARD_SWISH] = rt_k_unary,
    [OP_LEAKY_RELU] = rt_k_unary,
    [OP_ELU] = rt_k_unary,
    [OP_HARD_SIGMOID] = rt_k_unary,
    [OP_GELU] = rt_k_unary,
    [OP_CLIP] = rt_k_unary,
    [OP_CAST] = rt_k_cast,
    [OP_IDENTITY] = rt_k_identity,
    [OP_DROPOUT] = rt_k_identity,
    [OP_SIN] = rt_k_math_unary,
    [OP_COS] = rt_k_math_unary,
    [OP_TAN] = rt_k_math_unary,
    [OP_ASIN] = rt_k_math_unary,
    [OP_ACOS] = rt_k_math_unary,
    [OP_ATAN] = rt_k_math_unary,
    [OP_SINH] = rt_k_math_unary,
    [OP_COSH] = rt_k_math_unary,
    [OP_ASINH] = rt_k_math_unary,
    [OP_ACOSH] = rt_k_math_unary,
    [OP_ATANH] = rt_k_math_unary,
    [OP_SIGN] = rt_k_math_unary,
    [OP_ROUND] = rt_k_math_unary,
    [OP_SOFTSIGN] = rt_k_math_unary,
    [OP_SELU] = rt_k_math_unary,
    [OP_CELU] = rt_k_math_unary,
    [OP_THRESHOLDED_RELU] = rt_k_math_unary,
    [OP_SHRINK] = rt_k_math_unary,
    [OP_IS_NAN] = rt_k_math_unary,
    [OP_IS_INF] = rt_k_math_unary,
    [OP_NOT] = rt_k_math_unary,

    [OP_ADD] = rt_k_binary,
    [OP_SUB] = rt_k_binary,
    [OP_MUL] = rt_k_binary,
    [OP_DIV] = rt_k_binary,
    [OP_POW] = rt_k_binary,
    [OP_MAX] = rt_k_max_min,
    [OP_MIN] = rt_k_max_min,
    [OP_PRELU] = rt_k_binary,
    [OP_EQUAL] = rt_k_compare,
    [OP_LESS] = rt_k_compare,
    [OP_GREATER] = rt_k_compare,
    [OP_WHERE] = rt_k_where,
    [OP_BATCH_NORM] = rt_k_batch_norm,
    [OP_MOD] = rt_k_math_binary,
    [OP_AND] = rt_k_math_binary,
    [OP_OR] = rt_k_math_binary,
    [OP_XOR] = rt_k_math_binary,
    [OP_LESS_OR_EQUAL] = rt_k_compare,
    [OP_GREATER_OR_EQUAL] = rt_k_compare,

    [OP_CONV] = rt_k_conv,
    [OP_CONV_TRANSPOSE] = rt_k_conv_transpose,
    [OP_GEMM] = rt_k_gemm,
    [OP_MATMUL] = rt_k_matmul,
    [OP_MAX_POOL] = rt_k_max_pool,
    [OP_AVG_POOL] = rt_k_avg_pool,

    [OP_GLOBAL_AVG_POOL] = rt_k_global_pool,
    [OP_GLOBAL_MAX_POOL] = rt_k_global_pool,
    [OP_REDUCE_MEAN] = rt_k_reduce,
    [OP_REDUCE_SUM] = rt_k_reduce,
    [OP_REDUCE_MAX] = rt_k_reduce,
    [OP_REDUCE_MIN] = rt_k_reduce_ext,
    [OP_REDUCE_PROD] = rt_k_reduce_ext,
    [OP_REDUCE_L1] = rt_k_reduce_ext,
    [OP_REDUCE_L2] = rt_k_reduce_ext,
    [OP_REDUCE_LOG_SUM] = rt_k_reduce_ext,
    [OP_REDUCE_LOG_SUM_EXP] = rt_k_reduce_ext,
    [OP_REDUCE_SUM_SQUARE] = rt_k_reduce_ext,
    [OP_ARG_MAX] = rt_k_arg,
    [OP_ARG_MIN] = rt_k_arg,
    [OP_SOFTMAX] = rt_k_softmax_ext,
    [OP_LOG_SOFTMAX] = rt_k_softmax_ext,
    [OP_HARDMAX] = rt_k_softmax_ext,
    [OP_LAYER_NORM] = rt_k_layer_norm,
    [OP_INSTANCE_NORM] = rt_k_instance_norm,
    [OP_LRN] = rt_k_lrn,
    [OP_LP_POOL] = rt_k_lp_pool,
    [OP_EINSUM] = rt_k_einsum,
    [OP_QUANTIZE_LINEAR] = rt_k_quantize_linear,
    [OP_DEQUANTIZE_LINEAR] = rt_k_dequantize_linear,
    [OP_MATMUL_INTEGER] = rt_k_matmul_integer,
    [OP_CONV_INTEGER] = rt_k_conv_integer,
    [OP_QLINEAR_MATMUL] = rt_k_qlinear_matmul,
    [OP_QLINEAR_CONV] = rt_k_qlinear_conv,

    [OP_RESHAPE] = rt_k_reshape,
    [OP_FLATTEN] = rt_k_reshape,
    [OP_SQUEEZE] = rt_k_reshape,
    [OP_UNSQUEEZE] = rt_k_reshape,
    [OP_TRANSPOSE] = rt_k_transpose,
    [OP_CONCAT] = rt_k_concat,
    [OP_SPLIT] = rt_k_split,
    [OP_SLICE] = rt_k_slice,
    [OP_PAD] = rt_k_pad,
    [OP_GATHER] = rt_k_gather,
    [OP_RESIZE] = rt_k_resize,

    [OP_GATHER_ELEMENTS] = rt_k_gather_elements,
    [OP_GATHER_ND] = rt_k_gather_nd,
    [OP_SCATTER_ELEMENTS] = rt_k_scatter_elements,
    [OP_SCATTER_ND] = rt_k_scatter_nd,
    [OP_DEPTH_TO_SPACE] = rt_k_depth_space,
    [OP_SPACE_TO_DEPTH] = rt_k_depth_space,
    [OP_TRILU] = rt_k_trilu,
    [OP_CUM_SUM] = rt_k_cum_sum,
    [OP_ONE_HOT] = rt_k_one_hot,
    [OP_TOP_K] = rt_k_top_k,
    [OP_NON_ZERO] = rt_k_non_zero,
    [OP_NON_MAX_SUPPRESSION] = rt_k_non_max_suppression,
    [OP_SUM] = rt_k_sum_mean,
    [OP_MEAN] = rt_k_sum_mean,
    [OP_EXPAND] = rt_k_expand,
    [OP_TILE] = rt_k_tile,
    [OP_SHAPE] = rt_k_shape,
    [OP_SIZE] = rt_k_size,
    [OP_CONSTANT_OF_SHAPE] = rt_k_constant_of_shape,
    [OP_RANGE] = rt_k_range,
    [OP_NLL_LOSS] = rt_k_loss,
    [OP_SCE_LOSS] = rt_k_loss,
    [OP_BIT_SHIFT] = rt_k_bit_shift,
    [OP_EYE_LIKE] = rt_k_eye_like,
    [OP_REVERSE_SEQUENCE] = rt_k_reverse_sequence,
    [OP_DYNAMIC_QUANTIZE_LINEAR] = rt_k_dynamic_quantize,
    [OP_MVN] = rt_k_mvn,
    [OP_GLOBAL_LP_POOL] = rt_k_global_lp_pool,
};

/* Operand and result count ranges of every op, from the registry (-1: unbounded). */
static const struct {
  int min_in, max_in, min_out, max_out;
} arity[OP_COUNT] = {
#define OP(id, name, onnx, min_in, max_in, min_out, max_out, fusion, flags, attrs)                 \
  [OP_##id] = {min_in, max_in, min_out, max_out},
#include "ir/ops.def"
#undef OP
};

/* ---- attributes ---- */

const RtAttr *rt_attr(const RtNode *n, const char *name) {
  for (int i = 0; i < n->nattrs; i++)
    if (strcmp(n->attrs[i].name, name) == 0)
      return &n->attrs[i];
  return NULL;
}

int64_t rt_attr_int(const RtNode *n, const char *name, int64_t dflt) {
  const RtAttr *a = rt_attr(n, name);
  return a && a->kind == RT_ATTR_INT ? a->i : dflt;
}

double rt_attr_float(const RtNode *n, const char *name, double dflt) {
  const RtAttr *a = rt_attr(n, name);
  return a && a->kind == RT_ATTR_FLOAT ? a->f : dflt;
}

const char *rt_attr_string(const RtNode *n, const char *name, const char *dflt) {
  const RtAttr *a = rt_attr(n, name);
  return a && a->kind == RT_ATTR_STRING ? a->s : dflt;
}

int rt_attr_ints(const RtNode *n, const char *name, const int64_t **v) {
  const RtAttr *a = rt_attr(n, name);
  if (!a || a->kind != RT_ATTR_INTS)
    return -1;
  *v = a->ints;
  return a->n;
}

int rt_attr_floats(const RtNode *n, const char *name, const double **v) {
  const RtAttr *a = rt_attr(n, name);
  if (!a || a->kind != RT_ATTR_FLOATS)
    return -1;
  *v = a->floats;
  return a->n;
}

/* ---- element types ---- */

static const struct {
  const char *name;
  size_t size;
} elems[RT_ELEM_COUNT] = {
    [RT_ELEM_UNKNOWN] = {"?", 0}, [RT_ELEM_F32] = {"f32", 4}, [RT_ELEM_F16] = {"f16", 2},
    [RT_ELEM_BF16] = {"bf16", 2}, [RT_ELEM_F64] = {"f64", 8}, [RT_ELEM_I8] = {"i8", 1},
    [RT_ELEM_U8] = {"u8", 1},     [RT_ELEM_I16] = {"i16", 2}, [RT_ELEM_U16] = {"u16", 2},
    [RT_ELEM_I32] = {"i32", 4},   [RT_ELEM_U32] = {"u32", 4}, [RT_ELEM_I64] = {"i64", 8},
    [RT_ELEM_U64] = {"u64", 8},   [RT_ELEM_BOOL] = {"bool", 1},
};

size_t rt_elem_size(RtElem e) { return e >= 0 && e < RT_ELEM_COUNT ? elems[e].size : 0; }

const char *rt_elem_name(RtElem e) { return e >= 0 && e < RT_ELEM_COUNT ? elems[e].name : "?"; }

bool rt_elem_is_float(RtElem e) {
  return e == RT_ELEM_F32 || e == RT_ELEM_F64 || e == RT_ELEM_F16 || e == RT_ELEM_BF16;
}

bool rt_elem_is_int(RtElem e) { return e >= RT_ELEM_I8 && e <= RT_ELEM_U64; }

bool rt_elem_is_unsigned(RtElem e) {
  return e == RT_ELEM_U8 || e == RT_ELEM_U16 || e == RT_ELEM_U32 || e == RT_ELEM_U64;
}

float rt_bf16_to_f32(uint16_t h) {
  uint32_t x = (uint32_t)h << 16;
  float f;
  memcpy(&f, &x, 4);
  return f;
}

uint16_t rt_f32_to_bf16(float f) {
  uint32_t x;
  memcpy(&x, &f, 4);
  if ((x & 0x7fffffffu) > 0x7f800000u) /* NaN: keep it quiet */
    return (uint16_t)((x >> 16) | 0x40);
  x += 0x7fffu + ((x >> 16) & 1); /* round to nearest even */
  return (uint16_t)(x >> 16);
}

/* Truncates v into int64 without undefined behaviour (NaN gives 0, out of range saturates). */
static int64_t to_int64(double v) {
  if (!(v == v))
    return 0;
  if (v >= 0x1p63)
    return INT64_MAX;
  if (v < -0x1p63)
    return INT64_MIN;
  return (int64_t)v;
}

int64_t rt_ref_geti(RtElem e, const void *p, int64_t i) {
  const char *b = p;
  switch (e) {
  case RT_ELEM_I8: return (int8_t)b[i];
  case RT_ELEM_U8: return (uint8_t)b[i];
  case RT_ELEM_BOOL: return b[i] != 0;
  case RT_ELEM_I16: { int16_t v; memcpy(&v, b + 2 * i, 2); return v; }
  case RT_ELEM_U16: { uint16_t v; memcpy(&v, b + 2 * i, 2); return v; }
  case RT_ELEM_I32: { int32_t v; memcpy(&v, b + 4 * i, 4); return v; }
  case RT_ELEM_U32: { uint32_t v; memcpy(&v, b + 4 * i, 4); return v; }
  case RT_ELEM_I64: case RT_ELEM_U64: { int64_t v; memcpy(&v, b + 8 * i, 8); return v; }
  default: return rt_elem_is_float(e) ? to_int64(rt_ref_get(e, p, i)) : 0;
  }
}

void rt_ref_puti(RtElem e, void *p, int64_t i, int64_t v) {
  char *b = p;
  uint64_t u = (uint64_t)v;
  switch (e) {
  case RT_ELEM_I8: case RT_ELEM_U8: b[i] = (char)(uint8_t)u; break;
  case RT_ELEM_BOOL: b[i] = v != 0; break;
  case RT_ELEM_I16: case RT_ELEM_U16: { uint16_t w = (uint16_t)u; memcpy(b + 2 * i, &w, 2); break; }
  case RT_ELEM_I32: case RT_ELEM_U32: { uint32_t w = (uint32_t)u; memcpy(b + 4 * i, &w, 4); break; }
  case RT_ELEM_I64: case RT_ELEM_U64: memcpy(b + 8 * i, &u, 8); break;
  default:
    if (rt_elem_is_float(e))
      rt_ref_put(e, p, i, (double)v);
    break;
  }
}

double rt_ref_get(RtElem e, const void *p, int64_t i) {
  switch (e) {
  case RT_ELEM_F32: { float v; memcpy(&v, (const char *)p + 4 * i, 4); return v; }
  case RT_ELEM_F64: { double v; memcpy(&v, (const char *)p + 8 * i, 8); return v; }
  case RT_ELEM_F16: { uint16_t v; memcpy(&v, (const char *)p + 2 * i, 2); return rt_f16_to_f32(v); }
  case RT_ELEM_BF16: { uint16_t v; memcpy(&v, (const char *)p + 2 * i, 2); return rt_bf16_to_f32(v); }
  case RT_ELEM_U64: { uint64_t v; memcpy(&v, (const char *)p + 8 * i, 8); return (double)v; }
  default: return rt_elem_is_int(e) || e == RT_ELEM_BOOL ? (double)rt_ref_geti(e, p, i) : 0;
  }
}

void rt_ref_put(RtElem e, void *p, int64_t i, double v) {
  switch (e) {
  case RT_ELEM_F32: { float f = (float)v; memcpy((char *)p + 4 * i, &f, 4); break; }
  case RT_ELEM_F64: memcpy((char *)p + 8 * i, &v, 8); break;
  case RT_ELEM_F16: { uint16_t h = rt_f32_to_f16((float)v); memcpy((char *)p + 2 * i, &h, 2); break; }
  case RT_ELEM_BF16: { uint16_t h = rt_f32_to_bf16((float)v); memcpy((char *)p + 2 * i, &h, 2); break; }
  case RT_ELEM_U64:
    if (v >= 0x1p63 && v < 0x1p64) {
      uint64_t u = (uint64_t)v;
      memcpy((char *)p + 8 * i, &u, 8);
      break;
    }
    rt_ref_puti(e, p, i, to_int64(v));
    break;
  case RT_ELEM_BOOL: ((char *)p)[i] = v != 0; break;
  default:
    if (rt_elem_is_int(e))
      rt_ref_puti(e, p, i, to_int64(v));
    break;
  }
}

/* ---- failures ---- */

int rt_ref_fail(char *err, size_t errlen, int status, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  if (err && errlen)
    vsnprintf(err, errlen, fmt, ap);
  va_end(ap);
  return status;
}

int rt_ref_unsupported(RtElem e, char *err, size_t errlen) {
  return rt_ref_fail(err, errlen, RT_EUNSUPPORTED, "element type %s has no reference kernel",
                 rt_elem_name(e));
}

int rt_ref_quantized(int i, char *err, size_t errlen) {
  return rt_ref_fail(err, errlen, RT_EUNSUPPORTED, "operand %d is quantized (no reference kernel)", i);
}

/* ---- argument checks ---- */

int64_t rt_tensor_numel(const RtTensor *t) {
  if (t->rank < 0 || t->rank > RT_MAX_RANK)
    return -1;
  RtShape s = {.rank = t->rank};
  memcpy(s.dims, t->dims, sizeof s.dims);
  return rt_shape_numel(s);
}

const char *rt_ref_dims_text(const int64_t *dims, int rank, char *buf, size_t n) {
  size_t len = (size_t)snprintf(buf, n, "[");
  for (int i = 0; i < rank && len < n; i++)
    len += (size_t)snprintf(buf + len, n - len, "%s%lld", i ? "," : "", (long long)dims[i]);
  if (len < n)
    snprintf(buf + len, n - len, "]");
  return buf;
}

/* One tensor's rank, dims and data; what names it in messages ("operand 1", "result 0"). */
static int check_tensor(const RtTensor *t, const char *what, int i, char *err, size_t errlen) {
  if (t->rank < 0 || t->rank > RT_MAX_RANK)
    return rt_ref_fail(err, errlen, RT_ESHAPE, "%s %d has rank %d, expected at most %d", what, i,
                   t->rank, RT_MAX_RANK);
  if (rt_elem_size(t->elem) == 0)
    return rt_ref_fail(err, errlen, RT_EUNSUPPORTED, "%s %d has no element type", what, i);
  int64_t numel = rt_tensor_numel(t);
  if (numel < 0 || (uint64_t)numel > SIZE_MAX / 8)
    return rt_ref_fail(err, errlen, RT_ESHAPE, "%s %d has a malformed shape", what, i);
  if (numel > 0 && !t->data)
    return rt_ref_fail(err, errlen, RT_ESHAPE, "%s %d has no data", what, i);
  return RT_OK;
}

int rt_ref_check_call(const RtNode *n, const RtTensor *in, int nin, const RtTensor *out, int nout,
                  char *err, size_t errlen) {
  if ((int)n->op < 0 || n->op >= OP_COUNT)
    return rt_ref_fail(err, errlen, RT_EUNSUPPORTED, "op kind %d is unknown", (int)n->op);
  int mi = arity[n->op].min_in, xi = arity[n->op].max_in;
  int mo = arity[n->op].min_out, xo = arity[n->op].max_out;
  if (nin < mi || (xi >= 0 && nin > xi))
    return rt_ref_fail(err, errlen, RT_ESHAPE, "%d operands, expected %d to %d", nin, mi, xi);
  if (nout < mo || (xo >= 0 && nout > xo))
    return rt_ref_fail(err, errlen, RT_ESHAPE, "%d results, expected %d to %d", nout, mo, xo);
  for (int i = 0; i < nin; i++) {
    int st = check_tensor(&in[i], "operand", i, err, errlen);
    if (st != RT_OK)
      return st;
  }
  for (int i = 0; i < nout; i++) {
    int st = check_tensor(&out[i], "result", i, err, errlen);
    if (st != RT_OK)
      return st;
  }
  return RT_OK;
}

int rt_ref_check_result(const RtTensor *out, int r, int rank, const int64_t *dims, char *err,
                    size_t errlen) {
  bool same = out->rank == rank;
  for (int i = 0; same && i < rank; i++)
    same = out->dims[i] == dims[i];
  if (same)
    return RT_OK;
  char got[128], want[128];
  return rt_ref_fail(err, errlen, RT_ESHAPE, "result %d has shape %s, expected %s", r,
                 rt_ref_dims_text(out->dims, out->rank, got, sizeof got),
                 rt_ref_dims_text(dims, rank, want, sizeof want));
}

int rt_ref_axis(int64_t axis, int rank, int *out, char *err, size_t errlen) {
  if (axis < -rank || axis >= rank)
    return rt_ref_fail(err, errlen, RT_ESHAPE, "axis %lld is out of range for rank %d",
                   (long long)axis, rank);
  *out = (int)(axis < 0 ? axis + rank : axis);
  return RT_OK;
}

void rt_ref_strides(const RtTensor *t, int64_t *strides) {
  int64_t s = 1;
  for (int i = t->rank - 1; i >= 0; i--) {
    strides[i] = s;
    s *= t->dims[i];
  }
}

RtShape rt_ref_shape_of(const RtTensor *t) {
  RtShape s = {.rank = t->rank};
  memcpy(s.dims, t->dims, sizeof s.dims);
  return s;
}

int rt_ref_reduce_plan(const RtNode *n, const RtTensor *x, RtReducePlan *p, char *err,
                       size_t errlen) {
  *p = (RtReducePlan){.group = 1};
  const int64_t *axes;
  int na = rt_attr_ints(n, "axes", &axes), st;
  int64_t keep = rt_attr_int(n, "keepdims", 1);
  for (int i = 0; i < na; i++) {
    int a = 0;
    if ((st = rt_ref_axis(axes[i], x->rank, &a, err, errlen)))
      return st;
    if (p->mark[a])
      return rt_ref_fail(err, errlen, RT_ESHAPE, "axis %d is listed twice", a);
    p->mark[a] = true;
  }
  bool noop = rt_attr_int(n, "noop_with_empty_axes", 0) != 0; /* no axes: reduce none */
  for (int i = 0; na <= 0 && !noop && i < x->rank; i++)
    p->mark[i] = true;
  for (int i = 0; i < x->rank; i++)
    if (!p->mark[i] || keep)
      p->dims[p->rank++] = p->mark[i] ? 1 : x->dims[i];
  int64_t s = 1;
  for (int i = x->rank - 1; i >= 0; i--) {
    if (p->mark[i]) {
      p->group *= x->dims[i];
      continue;
    }
    p->ostride[i] = s;
    s *= x->dims[i];
  }
  return RT_OK;
}
