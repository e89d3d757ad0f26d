/* infer_index.c - shape inference of the indexing ops: gather_elements, gather_nd,
 * scatter_elements, scatter_nd, depth_to_space, space_to_depth, trilu, cum_sum, one_hot, top_k,
 * sum and mean (ONNX semantics; see infer.h for the conventions), and the checks of non_zero and
 * non_max_suppression, whose result shapes depend on the data (F_DATA_SHAPE). Ops that only
 * select or move values keep operand 0's quantization. */
#include <stdio.h>
#include <string.h>

#include "infer.h"

/* Operand i holds indices: i32 or i64. */
static bool index_dtype(const Op *op, int i, char *err, size_t errlen) {
  const Type *t = ir_infer_operand(op, i);
  if (t->dtype != DT_I32 && t->dtype != DT_I64)
    return ir_infer_fail(err, errlen, "operand %d (the indices) has dtype %s, expected i32 or i64",
                         i, ir_dtype_name(t->dtype));
  return true;
}

/* The reduction attribute of the scatter ops. */
static bool scatter_reduction(const Op *op, char *err, size_t errlen) {
  static const char *const allowed[] = {"none", "add", "mul", "max", "min", NULL};
  const char *r;
  return ir_infer_choice(op, "reduction", "none", allowed, &r, err, errlen);
}

/* gather_elements(data, indices): indices of data's rank; along every dimension but axis no
 * larger than data's; the result has the indices' shape and data's dtype. */
bool ir_infer_gather_elements(const Op *op, Type *out, char *err, size_t errlen) {
  const Type *x = ir_infer_operand(op, 0), *idx = ir_infer_operand(op, 1);
  int a = 0;
  if (!index_dtype(op, 1, err, errlen) ||
      !ir_infer_axis(ir_attr_int(op, "axis", 0), x->rank, &a, err, errlen))
    return false;
  if (idx->rank != x->rank)
    return ir_infer_fail(err, errlen, "indices have rank %d, expected %d (the rank of the data)",
                         idx->rank, x->rank);
  if (x->dims[a] == IR_DIM_N)
    return ir_infer_fail(err, errlen, "cannot gather along the batch dimension N");
  for (int i = 0; i < x->rank; i++) {
    if (i == a)
      continue;
    int64_t d = x->dims[i], k = idx->dims[i];
    if ((d == IR_DIM_N) != (k == IR_DIM_N) || (d != IR_DIM_N && k > d))
      return ir_infer_fail(err, errlen, "indices dimension %d is %s, larger than or unlike the "
                           "data's %s", i, ir_infer_dim_text(k).s, ir_infer_dim_text(d).s);
  }
  out[0] = ir_infer_like(x, idx->rank, idx->dims);
  return ir_infer_batch_first(&out[0], err, errlen);
}

/* gather_nd(data, indices) with batch_dims b: indices[..., L] address data dimensions b..b+L-1;
 * the result is indices.shape[:-1] + data.shape[b+L:]. */
bool ir_infer_gather_nd(const Op *op, Type *out, char *err, size_t errlen) {
  const Type *x = ir_infer_operand(op, 0), *idx = ir_infer_operand(op, 1);
  int64_t b = ir_attr_int(op, "batch_dims", 0);
  if (!index_dtype(op, 1, err, errlen))
    return false;
  if (x->rank < 1 || idx->rank < 1)
    return ir_infer_fail(err, errlen, "data and indices need rank 1 or more");
  if (b < 0 || b >= x->rank || b >= idx->rank)
    return ir_infer_fail(err, errlen, "batch_dims %lld is out of range: data has rank %d, "
                         "indices %d", (long long)b, x->rank, idx->rank);
  int64_t last = idx->dims[idx->rank - 1];
  if (last < 1 || last > x->rank - b)
    return ir_infer_fail(err, errlen, "the last indices dimension is %s, expected 1 to %lld",
                         ir_infer_dim_text(last).s, (long long)(x->rank - b));
  for (int i = 0; i < b; i++)
    if (x->dims[i] != idx->dims[i])
      return ir_infer_fail(err, errlen, "batch dimension %d differs: data %s, indices %s", i,
                           ir_infer_dim_text(x->dims[i]).s, ir_infer_dim_text(idx->dims[i]).s);
  if (x->dims[b] == IR_DIM_N)
    return ir_infer_fail(err, errlen, "cannot index the batch dimension N");
  int64_t rank = idx->rank - 1 + x->rank - b - last;
  if (!ir_infer_rank_ok(rank, err, errlen))
    return false;
  int64_t dims[IR_MAX_RANK];
  int k = 0;
  for (int i = 0; i < idx->rank - 1; i++)
    dims[k++] = idx->dims[i];
  for (int64_t i = b + last; i < x->rank; i++)
    dims[k++] = x->dims[i];
  out[0] = ir_infer_like(x, k, dims);
  return ir_infer_batch_first(&out[0], err, errlen);
}

/* scatter_elements(data, indices, updates): indices of data's rank, updates of the indices'
 * shape and data's dtype; the result is data's type. */
bool ir_infer_scatter_elements(const Op *op, Type *out, char *err, size_t errlen) {
  const Type *x = ir_infer_operand(op, 0), *idx = ir_infer_operand(op, 1),
             *u = ir_infer_operand(op, 2);
  int a = 0;
  if (!index_dtype(op, 1, err, errlen) || !scatter_reduction(op, err, errlen) ||
      !ir_infer_same_dtype(x, u, err, errlen) ||
      !ir_infer_axis(ir_attr_int(op, "axis", 0), x->rank, &a, err, errlen))
    return false;
  if (idx->rank != x->rank)
    return ir_infer_fail(err, errlen, "indices have rank %d, expected %d (the rank of the data)",
                         idx->rank, x->rank);
  if (x->dims[a] == IR_DIM_N)
    return ir_infer_fail(err, errlen, "cannot scatter along the batch dimension N");
  if (u->rank != idx->rank || memcmp(u->dims, idx->dims, sizeof(int64_t) * (size_t)u->rank))
    return ir_infer_fail(err, errlen, "updates %s do not have the indices' shape %s",
                         ir_infer_type_text(u).s, ir_infer_dims_text(idx->dims, idx->rank).s);
  for (int i = 0; i < x->rank; i++) {
    int64_t d = x->dims[i], k = idx->dims[i];
    if (i != a && ((d == IR_DIM_N) != (k == IR_DIM_N) || (d != IR_DIM_N && k > d)))
      return ir_infer_fail(err, errlen, "indices dimension %d is %s, larger than or unlike the "
                           "data's %s", i, ir_infer_dim_text(k).s, ir_infer_dim_text(d).s);
  }
  out[0] = *x;
  return true;
}

/* scatter_nd(data, indices, updates): indices[..., L] address data dimensions 0..L-1; updates
 * have the shape indices.shape[:-1] + data.shape[L:]. */
bool ir_infer_scatter_nd(const Op *op, Type *out, char *err, size_t errlen) {
  const Type *x = ir_infer_operand(op, 0), *idx = ir_infer_operand(op, 1),
             *u = ir_infer_operand(op, 2);
  if (!index_dtype(op, 1, err, errlen) || !scatter_reduction(op, err, errlen) ||
      !ir_infer_same_dtype(x, u, err, errlen))
    return false;
  if (x->rank < 1 || idx->rank < 1)
    return ir_infer_fail(err, errlen, "data and indices need rank 1 or more");
  int64_t last = idx->dims[idx->rank - 1];
  if (last < 1 || last > x->rank)
    return ir_infer_fail(err, errlen, "the last indices dimension is %s, expected 1 to %d",
                         ir_infer_dim_text(last).s, x->rank);
  if (x->dims[0] == IR_DIM_N)
    return ir_infer_fail(err, errlen, "cannot scatter into the batch dimension N");
  int64_t dims[2 * IR_MAX_RANK];
  int k = 0;
  for (int i = 0; i < idx->rank - 1; i++)
    dims[k++] = idx->dims[i];
  for (int64_t i = last; i < x->rank; i++)
    dims[k++] = x->dims[i];
  if (u->rank != k || memcmp(u->dims, dims, sizeof(int64_t) * (size_t)k))
    return ir_infer_fail(err, errlen, "updates %s, expected shape %s", ir_infer_type_text(u).s,
                         ir_infer_dims_text(dims, k).s);
  out[0] = *x;
  return true;
}

/* depth_to_space, space_to_depth: [N,C,H,W] with blocksize b >= 1. */
bool ir_infer_depth_space(const Op *op, Type *out, char *err, size_t errlen) {
  const Type *x = ir_infer_operand(op, 0);
  const Attr *ba = ir_op_attr(op, "blocksize");
  if (!ba)
    return ir_infer_fail(err, errlen, "blocksize is required");
  int64_t b = ba->i;
  if (b < 1 || b > 65536)
    return ir_infer_fail(err, errlen, "blocksize is %lld, expected 1 to 65536", (long long)b);
  if (x->rank != 4)
    return ir_infer_fail(err, errlen, "operand 0 has rank %d, expected 4 ([N,C,H,W])", x->rank);
  int64_t dims[4] = {x->dims[0], x->dims[1], x->dims[2], x->dims[3]};
  if (op->kind == OP_DEPTH_TO_SPACE) {
    static const char *const modes[] = {"DCR", "CRD", NULL};
    const char *mode;
    if (!ir_infer_choice(op, "mode", "DCR", modes, &mode, err, errlen))
      return false;
    if (dims[1] % (b * b))
      return ir_infer_fail(err, errlen, "channels %lld are not a multiple of blocksize^2 = %lld",
                           (long long)dims[1], (long long)(b * b));
    dims[1] /= b * b;
    dims[2] *= b;
    dims[3] *= b;
  } else {
    if (dims[2] % b || dims[3] % b)
      return ir_infer_fail(err, errlen, "height %lld and width %lld must be multiples of "
                           "blocksize %lld", (long long)dims[2], (long long)dims[3], (long long)b);
    dims[1] *= b * b;
    dims[2] /= b;
    dims[3] /= b;
  }
  out[0] = ir_infer_like(x, 4, dims);
  return true;
}

/* trilu: rank 2 or more; upper is a flag, k any diagonal offset. */
bool ir_infer_trilu(const Op *op, Type *out, char *err, size_t errlen) {
  const Type *x = ir_infer_operand(op, 0);
  bool upper;
  if (!ir_infer_flag(op, "upper", 1, &upper, err, errlen))
    return false;
  if (x->rank < 2)
    return ir_infer_fail(err, errlen, "operand 0 has rank %d, expected 2 or more", x->rank);
  out[0] = *x;
  return true;
}

/* cum_sum: along the required axis (not the batch dimension); exclusive and reverse are flags;
 * numbers only. */
bool ir_infer_cum_sum(const Op *op, Type *out, char *err, size_t errlen) {
  const Type *x = ir_infer_operand(op, 0);
  const Attr *aa = ir_op_attr(op, "axis");
  bool f;
  int a;
  if (!aa)
    return ir_infer_fail(err, errlen, "axis is required");
  if (!ir_infer_flag(op, "exclusive", 0, &f, err, errlen) ||
      !ir_infer_flag(op, "reverse", 0, &f, err, errlen) ||
      !ir_infer_axis(aa->i, x->rank, &a, err, errlen))
    return false;
  if (x->dtype == DT_BOOL)
    return ir_infer_fail(err, errlen, "operand 0 has dtype bool, expected a number type");
  if (x->dims[a] == IR_DIM_N)
    return ir_infer_fail(err, errlen, "cannot accumulate along the batch dimension N");
  out[0] = ir_infer_plain(x, x->rank, x->dims);
  return true;
}

/* one_hot(indices, values): values holds [off, on]; depth >= 1 is inserted at axis (default -1,
 * in [-(r+1), r]); the result has the values' dtype. */
bool ir_infer_one_hot(const Op *op, Type *out, char *err, size_t errlen) {
  const Type *idx = ir_infer_operand(op, 0), *v = ir_infer_operand(op, 1);
  const Attr *da = ir_op_attr(op, "depth");
  if (!da)
    return ir_infer_fail(err, errlen, "depth is required");
  if (da->i < 1)
    return ir_infer_fail(err, errlen, "depth is %lld, expected at least 1", (long long)da->i);
  if (idx->dtype == DT_BOOL)
    return ir_infer_fail(err, errlen, "operand 0 (the indices) has dtype bool, expected a number "
                         "type");
  if (v->rank != 1 || v->dims[0] != 2)
    return ir_infer_fail(err, errlen, "operand 1 (the values) is %s, expected 2 values [off, on]",
                         ir_infer_type_text(v).s);
  int a;
  if (!ir_infer_rank_ok(idx->rank + 1, err, errlen) ||
      !ir_infer_axis(ir_attr_int(op, "axis", -1), idx->rank + 1, &a, err, errlen))
    return false;
  int64_t dims[IR_MAX_RANK];
  int k = 0;
  for (int i = 0; i <= idx->rank; i++)
    dims[i] = i == a ? da->i : idx->dims[k++];
  out[0] = ir_infer_plain(v, idx->rank + 1, dims);
  return ir_infer_batch_first(&out[0], err, errlen);
}

/* top_k: the k (0 to the axis size) largest or smallest along axis (default -1, not the batch
 * dimension); results: the values (operand 0's type) and their i64 indices. */
bool ir_infer_top_k(const Op *op, Type *out, char *err, size_t errlen) {
  const Type *x = ir_infer_operand(op, 0);
  const Attr *ka = ir_op_attr(op, "k");
  bool f;
  int a;
  if (!ka)
    return ir_infer_fail(err, errlen, "k is required");
  if (!ir_infer_flag(op, "largest", 1, &f, err, errlen) ||
      !ir_infer_flag(op, "sorted", 1, &f, err, errlen) ||
      !ir_infer_axis(ir_attr_int(op, "axis", -1), x->rank, &a, err, errlen))
    return false;
  if (x->dims[a] == IR_DIM_N)
    return ir_infer_fail(err, errlen, "cannot select along the batch dimension N");
  if (ka->i < 0 || ka->i > x->dims[a])
    return ir_infer_fail(err, errlen, "k is %lld, expected 0 to %lld (dimension %d)",
                         (long long)ka->i, (long long)x->dims[a], a);
  int64_t dims[IR_MAX_RANK];
  memcpy(dims, x->dims, sizeof dims);
  dims[a] = ka->i;
  out[0] = ir_infer_like(x, x->rank, dims);
  out[1] = ir_type_make(DT_I64, x->rank, dims);
  return true;
}

/* sum, mean: one or more operands of one dtype broadcast together (mean: floats only). */
bool ir_infer_sum_mean(const Op *op, Type *out, char *err, size_t errlen) {
  const Type *x = ir_infer_operand(op, 0);
  if (op->kind == OP_MEAN && !ir_dtype_is_float(x->dtype))
    return ir_infer_fail(err, errlen, "operand 0 has dtype %s, expected a float type",
                         ir_dtype_name(x->dtype));
  if (x->dtype == DT_BOOL)
    return ir_infer_fail(err, errlen, "operand 0 has dtype bool, expected a number type");
  Type acc = ir_infer_plain(x, x->rank, x->dims);
  for (int i = 1; i < op->noperands; i++) {
    const Type *y = ir_infer_operand(op, i);
    Type next;
    if (!ir_infer_same_dtype(x, y, err, errlen) ||
        !ir_shape_broadcast(&acc, y, &next, err, errlen))
      return false;
    acc = next;
  }
  out[0] = ir_infer_plain(&acc, acc.rank, acc.dims);
  return true;
}

/* ---- ops whose result shapes depend on the operand values (F_DATA_SHAPE) ---- */

/* non_zero(x): i64[rank, count]; count is known only from x's values, so the result type stays
 * as given (canonicalize folds the op on a constant operand). */
bool ir_infer_non_zero(const Op *op, Type *out, char *err, size_t errlen) {
  (void)err, (void)errlen;
  out[0] = op->results[0]->type;
  return true;
}

/* Operand i of non_max_suppression, when present: one element of dtype dt. */
static bool nms_scalar(const Op *op, int i, DType dt, const char *what, char *err,
                       size_t errlen) {
  if (i >= op->noperands)
    return true;
  const Type *t = ir_infer_operand(op, i);
  if (t->dtype != dt || ir_type_numel(t) != 1)
    return ir_infer_fail(err, errlen, "operand %d (%s) is %s, expected one element of %s", i,
                         what, ir_infer_type_text(t).s, ir_dtype_name(dt));
  return true;
}

/* non_max_suppression(boxes f32[B,S,4], scores f32[B,C,S], max_output_boxes_per_class i64,
 * iou_threshold f32, score_threshold f32): i64[selected, 3], selected known only from the
 * values, so the result type stays as given. */
bool ir_infer_non_max_suppression(const Op *op, Type *out, char *err, size_t errlen) {
  out[0] = op->results[0]->type;
  const Type *b = ir_infer_operand(op, 0), *s = ir_infer_operand(op, 1);
  bool cpb;
  if (!ir_infer_flag(op, "center_point_box", 0, &cpb, err, errlen))
    return false;
  if (b->dtype != DT_F32 || s->dtype != DT_F32)
    return ir_infer_fail(err, errlen, "boxes and scores have dtypes %s and %s, expected f32",
                         ir_dtype_name(b->dtype), ir_dtype_name(s->dtype));
  if (b->rank != 3 || b->dims[2] != 4)
    return ir_infer_fail(err, errlen, "boxes have shape %s, expected [batches,boxes,4]",
                         ir_infer_dims_text(b->dims, b->rank).s);
  if (s->rank != 3 || s->dims[0] != b->dims[0] || s->dims[2] != b->dims[1])
    return ir_infer_fail(err, errlen, "scores have shape %s, expected [%s,classes,%s] for boxes "
                         "%s", ir_infer_dims_text(s->dims, s->rank).s,
                         ir_infer_dim_text(b->dims[0]).s, ir_infer_dim_text(b->dims[1]).s,
                         ir_infer_dims_text(b->dims, b->rank).s);
  return nms_scalar(op, 2, DT_I64, "max_output_boxes_per_class", err, errlen) &&
         nms_scalar(op, 3, DT_F32, "iou_threshold", err, errlen) &&
         nms_scalar(op, 4, DT_F32, "score_threshold", err, errlen);
}
