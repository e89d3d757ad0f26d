/* infer.c - the shape-inference table (ir_infer_fns), the helpers of infer.h, and the rules of the
 * elementwise, broadcasting and structural ops. Convolution-like, pooling, normalization and
 * reduction ops are in infer_nn.c; shape-changing ops in infer_shape.c. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dyn_form.h"
#include "infer.h"

/* ---- helpers (infer.h) ----------------------------------------------------------------------- */

/* "[a,b,...]", printing -1 as N when batch is set; long lists end in "...]". */
static InferText list_text(const int64_t *v, int n, bool batch) {
  InferText t;
  size_t len = 0;
  t.s[len++] = '[';
  for (int i = 0; i < n; i++) {
    if (len > sizeof t.s - 28) {
      len += (size_t)snprintf(t.s + len, sizeof t.s - len, "...");
      break;
    }
    if (i)
      t.s[len++] = ',';
    if (batch && v[i] == IR_DIM_N)
      t.s[len++] = 'N';
    else
      len += (size_t)snprintf(t.s + len, sizeof t.s - len, "%lld", (long long)v[i]);
  }
  snprintf(t.s + len, sizeof t.s - len, "]");
  return t;
}

InferText ir_infer_dims_text(const int64_t *dims, int rank) { return list_text(dims, rank, true); }

InferText ir_infer_ints_text(const int64_t *v, int n) { return list_text(v, n, false); }

InferText ir_infer_dim_text(int64_t dim) {
  InferText t;
  if (dim == IR_DIM_N)
    snprintf(t.s, sizeof t.s, "N");
  else
    snprintf(t.s, sizeof t.s, "%lld", (long long)dim);
  return t;
}

InferText ir_infer_type_text(const Type *ty) {
  InferText t;
  snprintf(t.s, sizeof t.s, "%s", ir_type_str(ty));
  return t;
}

InferText ir_infer_float_text(double v) {
  InferText t;
  Buf b = {0};
  ir_format_float(&b, v, DT_F32);
  snprintf(t.s, sizeof t.s, "%s", ir_buf_str(&b));
  ir_buf_free(&b);
  return t;
}

bool ir_infer_fail(char *err, size_t errlen, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  if (err && errlen)
    vsnprintf(err, errlen, fmt, ap);
  va_end(ap);
  return false;
}

const Type *ir_infer_operand(const Op *op, int i) { return &op->operands[i].value->type; }

Type ir_infer_plain(const Type *t, int rank, const int64_t *dims) {
  return ir_type_make(t->dtype, rank, dims);
}

Type ir_infer_like(const Type *t, int rank, const int64_t *dims) {
  Type r = *t;
  r.rank = rank;
  memset(r.dims, 0, sizeof r.dims);
  for (int i = 0; i < rank; i++)
    r.dims[i] = dims[i];
  return r;
}

bool ir_infer_same_dtype(const Type *a, const Type *b, char *err, size_t errlen) {
  if (a->dtype == b->dtype)
    return true;
  return ir_infer_fail(err, errlen, "operand types %s and %s differ", ir_dtype_name(a->dtype),
                       ir_dtype_name(b->dtype));
}

bool ir_infer_product_dtypes(const Type *a, const Type *b, char *err, size_t errlen) {
  if (ir_dtype_is_int(a->dtype) && ir_dtype_is_int(b->dtype))
    return true;
  return ir_infer_same_dtype(a, b, err, errlen);
}

bool ir_infer_axis(int64_t axis, int rank, int *out, char *err, size_t errlen) {
  if (axis < -rank || axis >= rank)
    return ir_infer_fail(err, errlen, "axis %lld is out of range for rank %d", (long long)axis,
                         rank);
  *out = (int)(axis < 0 ? axis + rank : axis);
  return true;
}

bool ir_infer_axes(const int64_t *axes, int n, int rank, bool *mark, char *err, size_t errlen) {
  for (int i = 0; i < rank; i++)
    mark[i] = false;
  for (int i = 0; i < n; i++) {
    int a = 0;
    if (!ir_infer_axis(axes[i], rank, &a, err, errlen))
      return false;
    if (mark[a])
      return ir_infer_fail(err, errlen, "axis %d is listed twice", a);
    mark[a] = true;
  }
  return true;
}

bool ir_infer_flag(const Op *op, const char *name, int64_t dflt, bool *out, char *err,
                   size_t errlen) {
  int64_t v = ir_attr_int(op, name, dflt);
  if (v != 0 && v != 1)
    return ir_infer_fail(err, errlen, "%s is %lld, expected 0 or 1", name, (long long)v);
  *out = v == 1;
  return true;
}

bool ir_infer_choice(const Op *op, const char *name, const char *dflt,
                     const char *const *allowed, const char **out, char *err, size_t errlen) {
  const char *v = ir_attr_string(op, name, dflt);
  for (int i = 0; allowed[i]; i++)
    if (strcmp(v, allowed[i]) == 0) {
      *out = allowed[i];
      return true;
    }
  size_t n = (size_t)snprintf(err, errlen, "%s \"%s\" is not one of ", name, v);
  for (int i = 0; allowed[i] && n < errlen; i++)
    n += (size_t)snprintf(err + n, errlen - n, "%s%s", i ? ", " : "", allowed[i]);
  return false;
}

bool ir_infer_unbatched(const Op *op, int i, char *err, size_t errlen) {
  if (!ir_type_is_batched(ir_infer_operand(op, i)))
    return true;
  return ir_infer_fail(err, errlen, "operand %d may not have the batch dimension N", i);
}

bool ir_infer_rank_ok(int64_t rank, char *err, size_t errlen) {
  if (rank <= IR_MAX_RANK)
    return true;
  return ir_infer_fail(err, errlen, "result would have rank %lld, more than the %d kiln supports",
                       (long long)rank, IR_MAX_RANK);
}

bool ir_infer_batch_first(const Type *t, char *err, size_t errlen) {
  for (int i = 1; i < t->rank; i++)
    if (t->dims[i] == IR_DIM_N)
      return ir_infer_fail(err, errlen,
                           "result %s would have the batch dimension N at position %d, not first",
                           ir_infer_dims_text(t->dims, t->rank).s, i);
  return true;
}

bool ir_infer_broadcast_dims(const int64_t *a, int ra, const int64_t *b, int rb, int64_t *out,
                             int *rout) {
  int rank = ra > rb ? ra : rb;
  for (int i = 0; i < rank; i++) {
    int ia = i - (rank - ra), ib = i - (rank - rb);
    int64_t da = ia >= 0 ? a[ia] : 1, db = ib >= 0 ? b[ib] : 1;
    if (da != db && da != 1 && db != 1)
      return false;
    out[i] = da == 1 ? db : da;
  }
  *rout = rank;
  return true;
}

bool ir_infer_broadcasts_to(const Op *op, int i, const int64_t *target, int rank, char *err,
                            size_t errlen) {
  const Type *t = ir_infer_operand(op, i);
  bool ok = t->rank <= rank;
  for (int k = 0; ok && k < t->rank; k++) {
    int64_t d = t->dims[t->rank - 1 - k], want = target[rank - 1 - k];
    ok = d == 1 || d == want;
  }
  if (ok)
    return true;
  return ir_infer_fail(err, errlen, "operand %d %s does not broadcast to %s", i,
                       ir_infer_type_text(t).s, ir_infer_dims_text(target, rank).s);
}

/* ---- elementwise, one operand ---------------------------------------------------------------- */

/* The result has operand 0's dtype and shape, not quantized. */
static bool infer_unary(const Op *op, Type *out, char *err, size_t errlen) {
  (void)err, (void)errlen;
  const Type *x = ir_infer_operand(op, 0);
  out[0] = ir_infer_plain(x, x->rank, x->dims);
  return true;
}

/* relu and identity: the result is operand 0's type, quantization included. */
static bool infer_unary_keep(const Op *op, Type *out, char *err, size_t errlen) {
  (void)err, (void)errlen;
  out[0] = *ir_infer_operand(op, 0);
  return true;
}

/* dropout (an identity at inference): ratio, when given, lies in [0, 1); the result is operand
 * 0's type. */
static bool infer_dropout(const Op *op, Type *out, char *err, size_t errlen) {
  double ratio = ir_attr_float(op, "ratio", 0.5);
  if (!(ratio >= 0 && ratio < 1))
    return ir_infer_fail(err, errlen, "ratio %s is out of range [0, 1)",
                         ir_infer_float_text(ratio).s);
  return infer_unary_keep(op, out, err, errlen);
}

/* gelu: approximate is "none" (default) or "tanh". */
static bool infer_gelu(const Op *op, Type *out, char *err, size_t errlen) {
  static const char *const modes[] = {"none", "tanh", NULL};
  const char *mode;
  if (!ir_infer_choice(op, "approximate", "none", modes, &mode, err, errlen))
    return false;
  return infer_unary(op, out, err, errlen);
}

/* cast: operand 0's shape with the declared result dtype (and quantization, for a quantizing
 * cast to i8/u8); the declaration is required. */
static bool infer_cast(const Op *op, Type *out, char *err, size_t errlen) {
  const Type *x = ir_infer_operand(op, 0), *decl = &op->results[0]->type;
  const char *to = ir_attr_string(op, "to", NULL); /* the target while the result is `?` */
  DType dt = to ? ir_dtype_from_name(to) : DT_UNKNOWN;
  if (to && dt == DT_UNKNOWN)
    return ir_infer_fail(err, errlen, "to \"%s\" is not an element type", to);
  if (to && decl->dtype != DT_UNKNOWN && decl->dtype != dt)
    return ir_infer_fail(err, errlen, "to \"%s\" disagrees with the result type %s", to,
                         ir_dtype_name(decl->dtype));
  if (decl->dtype == DT_UNKNOWN && dt == DT_UNKNOWN)
    return ir_infer_fail(err, errlen, "result type of cast must be given");
  out[0] = ir_type_make(dt != DT_UNKNOWN ? dt : decl->dtype, x->rank, x->dims);
  if (decl->quantized && (decl->dtype == DT_I8 || decl->dtype == DT_U8)) {
    out[0].quantized = true;
    out[0].scale = decl->scale;
    out[0].zero_point = decl->zero_point;
  }
  return true;
}

/* ---- elementwise with broadcasting ----------------------------------------------------------- */

/* add, sub, mul, div, max, min: operands share a dtype; the result is their numpy broadcast, of
 * that dtype, not quantized. */
static bool infer_binary(const Op *op, Type *out, char *err, size_t errlen) {
  const Type *a = ir_infer_operand(op, 0), *b = ir_infer_operand(op, 1);
  if (!ir_infer_same_dtype(a, b, err, errlen))
    return false;
  return ir_shape_broadcast(a, b, &out[0], err, errlen);
}

/* pow: as ONNX, the exponent may have another dtype than the base; the result is the broadcast
 * shape with the base's dtype. */
static bool infer_pow(const Op *op, Type *out, char *err, size_t errlen) {
  return ir_shape_broadcast(ir_infer_operand(op, 0), ir_infer_operand(op, 1), &out[0], err,
                            errlen);
}

/* equal, less, greater: as infer_binary, with a bool result. */
static bool infer_compare(const Op *op, Type *out, char *err, size_t errlen) {
  if (!infer_binary(op, out, err, errlen))
    return false;
  out[0].dtype = DT_BOOL;
  return true;
}

/* prelu: the slope (operand 1, operand 0's dtype) broadcasts one way to x; the result is x's
 * shape. */
static bool infer_prelu(const Op *op, Type *out, char *err, size_t errlen) {
  const Type *x = ir_infer_operand(op, 0);
  if (!ir_infer_same_dtype(x, ir_infer_operand(op, 1), err, errlen) ||
      !ir_infer_broadcasts_to(op, 1, x->dims, x->rank, err, errlen))
    return false;
  return infer_unary(op, out, err, errlen);
}

/* where(cond, a, b): cond is bool, a and b share a dtype; all three broadcast together (checked
 * pairwise, which is equivalent and names the two shapes at fault); the result has a's dtype. */
static bool infer_where(const Op *op, Type *out, char *err, size_t errlen) {
  const Type *c = ir_infer_operand(op, 0), *a = ir_infer_operand(op, 1),
             *b = ir_infer_operand(op, 2);
  if (c->dtype != DT_BOOL)
    return ir_infer_fail(err, errlen, "operand 0 (the condition) has dtype %s, expected bool",
                         ir_dtype_name(c->dtype));
  Type ab, tmp;
  if (!ir_infer_same_dtype(a, b, err, errlen) || !ir_shape_broadcast(a, b, &ab, err, errlen) ||
      !ir_shape_broadcast(c, a, &tmp, err, errlen) || !ir_shape_broadcast(c, b, &tmp, err, errlen))
    return false;
  return ir_shape_broadcast(&ab, c, &out[0], err, errlen);
}

/* ---- structural ops -------------------------------------------------------------------------- */

/* fused, segment: the results are the operands of the yield that ends the body, one for one. */
static bool infer_region(const Op *op, Type *out, char *err, size_t errlen) {
  const Op *y = op->body ? op->body->last : NULL;
  if (!y || y->kind != OP_YIELD)
    return ir_infer_fail(err, errlen, "region has no yield");
  if (y->noperands != op->nresults)
    return ir_infer_fail(err, errlen, "region yields %d value%s, op has %d result%s",
                         y->noperands, y->noperands == 1 ? "" : "s", op->nresults,
                         op->nresults == 1 ? "" : "s");
  for (int i = 0; i < y->noperands; i++)
    out[i] = *ir_infer_operand(y, i);
  return true;
}

/* yield, output: terminators without results. */
static bool infer_none(const Op *op, Type *out, char *err, size_t errlen) {
  (void)op, (void)out, (void)err, (void)errlen;
  return true;
}

/* ---- the table ------------------------------------------------------------------------------- */

/* max, min: ONNX's are variadic; two operands follow the binary rule, any other count the
 * rule of sum (one dtype, all broadcast together). */
static bool infer_max_min(const Op *op, Type *out, char *err, size_t errlen) {
  return op->noperands == 2 ? infer_binary(op, out, err, errlen)
                            : ir_infer_sum_mean(op, out, err, errlen);
}

const ir_infer_fn ir_infer_fns[OP_COUNT] = {
    [OP_FUSED] = infer_region,
    [OP_SEGMENT] = infer_region,
    [OP_YIELD] = infer_none,
    [OP_OUTPUT] = infer_none,

    [OP_RELU] = infer_unary_keep,
    [OP_SIGMOID] = infer_unary,
    [OP_TANH] = infer_unary,
    [OP_EXP] = infer_unary,
    [OP_LOG] = infer_unary,
    [OP_SQRT] = infer_unary,
    [OP_ABS] = infer_unary,
    [OP_NEG] = infer_unary,
    [OP_RECIPROCAL] = infer_unary,
    [OP_FLOOR] = infer_unary,
    [OP_CEIL] = infer_unary,
    [OP_ERF] = infer_unary,
    [OP_SOFTPLUS] = infer_unary,
    [OP_MISH] = infer_unary,
    [OP_HARD_SWISH] = infer_unary,
    [OP_LEAKY_RELU] = infer_unary,
    [OP_ELU] = infer_unary,
    [OP_HARD_SIGMOID] = infer_unary,
    [OP_GELU] = infer_gelu,
    [OP_CLIP] = infer_unary,
    [OP_CAST] = infer_cast,
    [OP_IDENTITY] = infer_unary_keep,
    [OP_DROPOUT] = infer_dropout,
    [OP_SIN] = infer_unary,
    [OP_COS] = infer_unary,
    [OP_TAN] = infer_unary,
    [OP_ASIN] = infer_unary,
    [OP_ACOS] = infer_unary,
    [OP_ATAN] = infer_unary,
    [OP_SINH] = infer_unary,
    [OP_COSH] = infer_unary,
    [OP_ASINH] = infer_unary,
    [OP_ACOSH] = infer_unary,
    [OP_ATANH] = infer_unary,
    [OP_SIGN] = infer_unary,
    [OP_ROUND] = infer_unary,
    [OP_SOFTSIGN] = infer_unary,
    [OP_SELU] = infer_unary,
    [OP_CELU] = infer_unary,
    [OP_THRESHOLDED_RELU] = infer_unary,
    [OP_SHRINK] = infer_unary,
    [OP_IS_NAN] = ir_infer_is_special,
    [OP_IS_INF] = ir_infer_is_special,
    [OP_NOT] = ir_infer_not,

    [OP_ADD] = infer_binary,
    [OP_SUB] = infer_binary,
    [OP_MUL] = infer_binary,
    [OP_DIV] = infer_binary,
    [OP_POW] = infer_pow,
    [OP_MAX] = infer_max_min,
    [OP_MIN] = infer_max_min,
    [OP_PRELU] = infer_prelu,
    [OP_EQUAL] = infer_compare,
    [OP_LESS] = infer_compare,
    [OP_GREATER] = infer_compare,
    [OP_WHERE] = infer_where,
    [OP_BATCH_NORM] = ir_infer_batch_norm,
    [OP_MOD] = ir_infer_mod,
    [OP_AND] = ir_infer_logical,
    [OP_OR] = ir_infer_logical,
    [OP_XOR] = ir_infer_logical,
    [OP_LESS_OR_EQUAL] = infer_compare,
    [OP_GREATER_OR_EQUAL] = infer_compare,

    [OP_CONV] = ir_infer_conv,
    [OP_CONV_TRANSPOSE] = ir_infer_conv_transpose,
    [OP_GEMM] = ir_infer_gemm,
    [OP_MATMUL] = ir_infer_matmul,
    [OP_MAX_POOL] = ir_infer_max_pool,
    [OP_AVG_POOL] = ir_infer_avg_pool,

    [OP_GLOBAL_AVG_POOL] = ir_infer_global_pool,
    [OP_GLOBAL_MAX_POOL] = ir_infer_global_pool,
    [OP_REDUCE_MEAN] = ir_infer_reduce,
    [OP_REDUCE_SUM] = ir_infer_reduce,
    [OP_REDUCE_MAX] = ir_infer_reduce,
    [OP_REDUCE_MIN] = ir_infer_reduce,
    [OP_REDUCE_PROD] = ir_infer_reduce,
    [OP_REDUCE_L1] = ir_infer_reduce,
    [OP_REDUCE_L2] = ir_infer_reduce,
    [OP_REDUCE_LOG_SUM] = ir_infer_reduce,
    [OP_REDUCE_LOG_SUM_EXP] = ir_infer_reduce,
    [OP_REDUCE_SUM_SQUARE] = ir_infer_reduce,
    [OP_ARG_MAX] = ir_infer_arg,
    [OP_ARG_MIN] = ir_infer_arg,
    [OP_SOFTMAX] = ir_infer_softmax,
    [OP_LOG_SOFTMAX] = ir_infer_softmax,
    [OP_HARDMAX] = ir_infer_softmax,
    [OP_LAYER_NORM] = ir_infer_layer_norm,
    [OP_INSTANCE_NORM] = ir_infer_instance_norm,
    [OP_LRN] = ir_infer_lrn,
    [OP_QUANTIZE_LINEAR] = ir_infer_quantize_linear,
    [OP_DEQUANTIZE_LINEAR] = ir_infer_dequantize_linear,
    [OP_LP_POOL] = ir_infer_lp_pool,
    [OP_MATMUL_INTEGER] = ir_infer_matmul_integer,
    [OP_CONV_INTEGER] = ir_infer_conv_integer,
    [OP_QLINEAR_MATMUL] = ir_infer_qlinear_matmul,
    [OP_QLINEAR_CONV] = ir_infer_qlinear_conv,
    [OP_EINSUM] = ir_infer_einsum,

    [OP_RESHAPE] = ir_infer_reshape,
    [OP_FLATTEN] = ir_infer_flatten,
    [OP_SQUEEZE] = ir_infer_squeeze,
    [OP_UNSQUEEZE] = ir_infer_unsqueeze,
    [OP_TRANSPOSE] = ir_infer_transpose,
    [OP_CONCAT] = ir_infer_concat,
    [OP_SPLIT] = ir_infer_split,
    [OP_SLICE] = ir_infer_slice,
    [OP_PAD] = ir_infer_pad,
    [OP_GATHER] = ir_infer_gather,
    [OP_RESIZE] = ir_infer_resize,
    [OP_EXPAND] = ir_infer_expand,
    [OP_TILE] = ir_infer_tile,
    [OP_SHAPE] = ir_infer_shape_of,
    [OP_SIZE] = ir_infer_size,
    [OP_CONSTANT_OF_SHAPE] = ir_infer_constant_of_shape,
    [OP_RANGE] = ir_infer_range,

    [OP_GATHER_ELEMENTS] = ir_infer_gather_elements,
    [OP_GATHER_ND] = ir_infer_gather_nd,
    [OP_SCATTER_ELEMENTS] = ir_infer_scatter_elements,
    [OP_SCATTER_ND] = ir_infer_scatter_nd,
    [OP_DEPTH_TO_SPACE] = ir_infer_depth_space,
    [OP_SPACE_TO_DEPTH] = ir_infer_depth_space,
    [OP_TRILU] = ir_infer_trilu,
    [OP_CUM_SUM] = ir_infer_cum_sum,
    [OP_ONE_HOT] = ir_infer_one_hot,
    [OP_TOP_K] = ir_infer_top_k,
    [OP_SUM] = ir_infer_sum_mean,
    [OP_MEAN] = ir_infer_sum_mean,
    [OP_NON_ZERO] = ir_infer_non_zero,
    [OP_NON_MAX_SUPPRESSION] = ir_infer_non_max_suppression,

    [OP_NLL_LOSS] = ir_infer_nll_loss,
    [OP_SCE_LOSS] = ir_infer_sce_loss,
    [OP_BIT_SHIFT] = ir_infer_bit_shift,
    [OP_EYE_LIKE] = ir_infer_eye_like,
    [OP_REVERSE_SEQUENCE] = ir_infer_reverse_sequence,
    [OP_DYNAMIC_QUANTIZE_LINEAR] = ir_infer_dynamic_quantize,
    [OP_MVN] = ir_infer_mvn,
    [OP_GLOBAL_LP_POOL] = ir_infer_global_lp_pool,
};

Type *ir_infer_op(const Op *op, char *err, size_t errlen) {
  Type *out = malloc(sizeof(Type) * (size_t)(op->nresults ? op->nresults : 1));
  if (!out)
    abort();
  for (int i = 0; i < op->nresults; i++)
    out[i] = op->results[i]->type;
  if (!(ir_dyn_has_operands(op) ? ir_infer_dyn : ir_infer_fns[op->kind])(op, out, err, errlen)) {
    free(out);
    return NULL;
  }
  return out;
}
