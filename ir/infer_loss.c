/* infer_loss.c - shape inference of the loss ops (negative_log_likelihood_loss,
 * softmax_cross_entropy_loss) and of bit_shift, eye_like, reverse_sequence,
 * dynamic_quantize_linear, mean_variance_normalization and global_lp_pool. */
#include <string.h>

#include "infer.h"

static bool want_float(const Type *t, int i, char *err, size_t errlen) {
  if (ir_dtype_is_float(t->dtype))
    return true;
  return ir_infer_fail(err, errlen, "operand %d has dtype %s, expected a float type", i,
                       ir_dtype_name(t->dtype));
}

/* What both losses share: scores X[N,C,d1..] (float), targets [N,d1..] (i32 or i64), an optional
 * weight [C] of X's dtype, reduction none/sum/mean (default mean), ignore_index any int. Result 0
 * is the loss: the targets' shape for none, a scalar otherwise. */
static bool infer_loss(const Op *op, Type *out, char *err, size_t errlen) {
  static const char *const reductions[] = {"none", "sum", "mean", NULL};
  const char *red;
  if (!ir_infer_choice(op, "reduction", "mean", reductions, &red, err, errlen))
    return false;
  const Type *x = ir_infer_operand(op, 0), *t = ir_infer_operand(op, 1);
  if (!want_float(x, 0, err, errlen))
    return false;
  if (x->rank < 2)
    return ir_infer_fail(err, errlen, "operand 0 has rank %d, expected at least 2 (N, C, ...)",
                         x->rank);
  if (t->dtype != DT_I32 && t->dtype != DT_I64)
    return ir_infer_fail(err, errlen, "operand 1 (the targets) has dtype %s, expected i32 or i64",
                         ir_dtype_name(t->dtype));
  int64_t dims[IR_MAX_RANK];
  dims[0] = x->dims[0];
  for (int i = 2; i < x->rank; i++)
    dims[i - 1] = x->dims[i];
  bool same = t->rank == x->rank - 1;
  for (int i = 0; same && i < t->rank; i++)
    same = t->dims[i] == dims[i];
  if (!same)
    return ir_infer_fail(err, errlen, "operand 1 (the targets) is %s, expected shape %s",
                         ir_infer_type_text(t).s, ir_infer_dims_text(dims, x->rank - 1).s);
  if (op->noperands > 2) {
    const Type *w = ir_infer_operand(op, 2);
    if (!ir_infer_same_dtype(x, w, err, errlen))
      return false;
    if (w->rank != 1 || w->dims[0] != x->dims[1])
      return ir_infer_fail(err, errlen, "operand 2 (the weights) is %s, expected shape [%s]",
                           ir_infer_type_text(w).s, ir_infer_dim_text(x->dims[1]).s);
  }
  bool none = strcmp(red, "none") == 0;
  if (!none && ir_type_is_batched(x))
    return ir_infer_fail(err, errlen, "cannot reduce over the batch dimension N");
  out[0] = none ? ir_infer_plain(x, x->rank - 1, dims) : ir_infer_plain(x, 0, dims);
  return true;
}

bool ir_infer_nll_loss(const Op *op, Type *out, char *err, size_t errlen) {
  return infer_loss(op, out, err, errlen);
}

/* softmax_cross_entropy_loss: as the loss above on log_softmax of X along dimension 1; the
 * optional result 1 is that log-probability, of X's type. */
bool ir_infer_sce_loss(const Op *op, Type *out, char *err, size_t errlen) {
  if (!infer_loss(op, out, err, errlen))
    return false;
  const Type *x = ir_infer_operand(op, 0);
  if (op->nresults > 1)
    out[1] = ir_infer_plain(x, x->rank, x->dims);
  return true;
}

/* bit_shift: two operands of one unsigned integer dtype, numpy broadcast; direction LEFT or
 * RIGHT (required). */
bool ir_infer_bit_shift(const Op *op, Type *out, char *err, size_t errlen) {
  static const char *const dirs[] = {"LEFT", "RIGHT", NULL};
  const char *dir;
  if (!ir_op_attr(op, "direction"))
    return ir_infer_fail(err, errlen, "direction is required");
  if (!ir_infer_choice(op, "direction", "LEFT", dirs, &dir, err, errlen))
    return false;
  const Type *a = ir_infer_operand(op, 0), *b = ir_infer_operand(op, 1);
  if (!ir_infer_same_dtype(a, b, err, errlen))
    return false;
  if (a->dtype != DT_U8 && a->dtype != DT_U16 && a->dtype != DT_U32 && a->dtype != DT_U64)
    return ir_infer_fail(err, errlen, "operand 0 has dtype %s, expected an unsigned integer type",
                         ir_dtype_name(a->dtype));
  return ir_shape_broadcast(a, b, &out[0], err, errlen);
}

/* eye_like: a rank-2 operand; the result has its shape and the dtype named by the dtype
 * attribute (kiln's names; absent: the operand's). */
bool ir_infer_eye_like(const Op *op, Type *out, char *err, size_t errlen) {
  const Type *x = ir_infer_operand(op, 0);
  if (x->rank != 2)
    return ir_infer_fail(err, errlen, "operand 0 has rank %d, expected 2", x->rank);
  DType dt = x->dtype;
  const char *name = ir_attr_string(op, "dtype", NULL);
  if (name) {
    dt = ir_dtype_from_name(name);
    if (dt == DT_UNKNOWN)
      return ir_infer_fail(err, errlen, "dtype \"%s\" is not an element type", name);
  }
  out[0] = ir_type_make(dt, x->rank, x->dims);
  return true;
}

/* reverse_sequence: X of rank >= 2; batch_axis (default 1) and time_axis (default 0) are 0 or 1
 * and differ; sequence_lens (i32 or i64) has shape [X.dims[batch_axis]]. The result is X's type. */
bool ir_infer_reverse_sequence(const Op *op, Type *out, char *err, size_t errlen) {
  const Type *x = ir_infer_operand(op, 0), *l = ir_infer_operand(op, 1);
  int64_t ba = ir_attr_int(op, "batch_axis", 1), ta = ir_attr_int(op, "time_axis", 0);
  if (x->rank < 2)
    return ir_infer_fail(err, errlen, "operand 0 has rank %d, expected at least 2", x->rank);
  if ((ba != 0 && ba != 1) || (ta != 0 && ta != 1) || ba == ta)
    return ir_infer_fail(err, errlen,
                         "batch_axis %lld and time_axis %lld must be 0 and 1 in some order",
                         (long long)ba, (long long)ta);
  if (l->dtype != DT_I32 && l->dtype != DT_I64)
    return ir_infer_fail(err, errlen, "operand 1 (sequence_lens) has dtype %s, expected i64",
                         ir_dtype_name(l->dtype));
  if (l->rank != 1 || l->dims[0] != x->dims[ba])
    return ir_infer_fail(err, errlen, "operand 1 (sequence_lens) is %s, expected shape [%s]",
                         ir_infer_type_text(l).s, ir_infer_dim_text(x->dims[ba]).s);
  out[0] = ir_infer_like(x, x->rank, x->dims);
  return true;
}

/* dynamic_quantize_linear: an f32 operand; results y (u8, its shape), y_scale (f32 scalar) and
 * y_zero_point (u8 scalar). */
bool ir_infer_dynamic_quantize(const Op *op, Type *out, char *err, size_t errlen) {
  const Type *x = ir_infer_operand(op, 0);
  if (x->dtype != DT_F32)
    return ir_infer_fail(err, errlen, "operand 0 has dtype %s, expected f32",
                         ir_dtype_name(x->dtype));
  if (ir_type_is_batched(x))
    return ir_infer_fail(err, errlen, "cannot reduce over the batch dimension N");
  out[0] = ir_type_make(DT_U8, x->rank, x->dims);
  out[1] = ir_type_scalar(DT_F32);
  out[2] = ir_type_scalar(DT_U8);
  return true;
}

/* mean_variance_normalization: a float operand normalized over axes (default [0,2,3]); the
 * result has its shape. */
bool ir_infer_mvn(const Op *op, Type *out, char *err, size_t errlen) {
  static const int64_t dflt[] = {0, 2, 3};
  const Type *x = ir_infer_operand(op, 0);
  if (!want_float(x, 0, err, errlen))
    return false;
  const int64_t *axes = dflt;
  int n = ir_attr_ints(op, "axes", &axes);
  if (n < 0) {
    axes = dflt;
    n = 3;
  }
  bool mark[IR_MAX_RANK];
  if (!ir_infer_axes(axes, n, x->rank, mark, err, errlen))
    return false;
  out[0] = ir_infer_plain(x, x->rank, x->dims);
  return true;
}

/* global_lp_pool: X[N,C,...] (float, rank >= 2) -> [N,C,1,...]; p (default 2) at least 1. */
bool ir_infer_global_lp_pool(const Op *op, Type *out, char *err, size_t errlen) {
  const Type *x = ir_infer_operand(op, 0);
  int64_t p = ir_attr_int(op, "p", 2);
  if (p < 1)
    return ir_infer_fail(err, errlen, "p is %lld, expected at least 1", (long long)p);
  if (!want_float(x, 0, err, errlen))
    return false;
  if (x->rank < 2)
    return ir_infer_fail(err, errlen, "operand 0 has rank %d, expected at least 2 (N, C, ...)",
                         x->rank);
  int64_t dims[IR_MAX_RANK];
  for (int i = 0; i < x->rank; i++)
    dims[i] = i < 2 ? x->dims[i] : 1;
  out[0] = ir_infer_plain(x, x->rank, dims);
  return true;
}
