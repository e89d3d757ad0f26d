/* infer_nn.c - shape inference of convolutions, matrix products, pools, normalizations,
 * reductions and softmax (ONNX semantics; see infer.h for the conventions). */
#include <stdint.h>

#include "infer.h"

/* ---- sliding windows: conv, conv_transpose, max_pool, avg_pool ------------------------------- */

/* The per-spatial-dimension parameters of a window op; pads are all begins, then all ends. */
typedef struct Window {
  int n; /* spatial rank: operand 0's rank - 2 */
  int64_t kernel[IR_MAX_RANK], strides[IR_MAX_RANK], dilations[IR_MAX_RANK];
  int64_t pads[2 * IR_MAX_RANK];
} Window;

/* An ints attribute holding `per` values per spatial dimension (dflt each when absent); every
 * value lies in [min, INT32_MAX] (the bound keeps the size arithmetic from overflowing). */
static bool spatial_ints(const Op *op, const char *name, int n, int per, int64_t dflt,
                         int64_t min, int64_t *out, char *err, size_t errlen) {
  const int64_t *v;
  int len = ir_attr_ints(op, name, &v);
  if (len < 0) {
    for (int i = 0; i < n * per; i++)
      out[i] = dflt;
    return true;
  }
  if (len != n * per)
    return ir_infer_fail(err, errlen, "%s has %d value%s, expected %d (%s per spatial dimension)",
                         name, len, len == 1 ? "" : "s", n * per,
                         per == 2 ? "a begin and an end" : "one");
  for (int i = 0; i < len; i++) {
    if (v[i] < min)
      return ir_infer_fail(err, errlen, "%s[%d] is %lld, expected at least %lld", name, i,
                           (long long)v[i], (long long)min);
    if (v[i] > INT32_MAX)
      return ir_infer_fail(err, errlen, "%s[%d] is %lld, expected at most %ld", name, i,
                           (long long)v[i], (long)INT32_MAX);
    out[i] = v[i];
  }
  return true;
}

/* strides (default 1, >= 1), pads (default 0, >= 0) and, when the op has them, dilations
 * (default 1, >= 1) for n spatial dimensions. */
static bool read_window(const Op *op, int n, bool has_dilations, Window *w, char *err,
                        size_t errlen) {
  w->n = n;
  if (!spatial_ints(op, "strides", n, 1, 1, 1, w->strides, err, errlen) ||
      !spatial_ints(op, "pads", n, 2, 0, 0, w->pads, err, errlen))
    return false;
  if (has_dilations)
    return spatial_ints(op, "dilations", n, 1, 1, 1, w->dilations, err, errlen);
  for (int i = 0; i < n; i++)
    w->dilations[i] = 1;
  return true;
}

/* Spatial dimension i (of size in) after a window: with extent e = d*(k-1)+1 and padded size
 * p = in + pad_begin + pad_end, out = floor((p - e) / s) + 1; with ceil_mode the division rounds
 * up and a last window that would start in the end padding is dropped (ONNX). The window must
 * fit: p >= e. */
static bool window_out(const Window *w, int i, int64_t in, bool ceil_mode, int64_t *out,
                       char *err, size_t errlen) {
  int64_t ext = w->dilations[i] * (w->kernel[i] - 1) + 1;
  int64_t padded = in + w->pads[i] + w->pads[w->n + i], s = w->strides[i];
  if (padded < ext)
    return ir_infer_fail(err, errlen,
                         "dimension %d of operand 0 (size %lld, padded to %lld) is smaller than "
                         "the kernel extent %lld",
                         i + 2, (long long)in, (long long)padded, (long long)ext);
  int64_t o = (ceil_mode ? (padded - ext + s - 1) / s : (padded - ext) / s) + 1;
  if (ceil_mode && o > 1 && (o - 1) * s >= in + w->pads[i])
    o--;
  *out = o;
  return true;
}

/* X of a window op: rank at least 3 (N, C and a spatial dimension). */
static bool window_input(const Type *x, char *err, size_t errlen) {
  if (x->rank >= 3)
    return true;
  return ir_infer_fail(err, errlen,
                       "operand 0 has rank %d, expected at least 3 (N, C and spatial dimensions)",
                       x->rank);
}

/* ---- convolutions ---------------------------------------------------------------------------- */

/* What conv and conv_transpose share: X[N,C,...] and W of X's rank, dtypes, an unbatched W,
 * group >= 1 dividing C, and W's kernel (every size >= 1) with the window attributes. */
static bool conv_common(const Op *op, int64_t *group, Window *w, char *err, size_t errlen) {
  const Type *x = ir_infer_operand(op, 0), *wt = ir_infer_operand(op, 1);
  if (!window_input(x, err, errlen))
    return false;
  if (wt->rank != x->rank)
    return ir_infer_fail(err, errlen, "operand 1 has rank %d, expected %d (the rank of operand 0)",
                         wt->rank, x->rank);
  if (!ir_infer_product_dtypes(x, wt, err, errlen) || !ir_infer_unbatched(op, 1, err, errlen))
    return false;
  *group = ir_attr_int(op, "group", 1);
  if (*group < 1)
    return ir_infer_fail(err, errlen, "group is %lld, expected at least 1", (long long)*group);
  if (x->dims[1] % *group)
    return ir_infer_fail(err, errlen, "group %lld does not divide the %lld input channels of "
                         "operand 0", (long long)*group, (long long)x->dims[1]);
  int n = x->rank - 2;
  for (int i = 0; i < n; i++) {
    w->kernel[i] = wt->dims[i + 2];
    if (w->kernel[i] < 1)
      return ir_infer_fail(err, errlen, "operand 1 has kernel size 0 in dimension %d", i + 2);
  }
  return read_window(op, n, true, w, err, errlen);
}

/* The optional bias, operand 2: [M], of X's dtype when X is a float. */
static bool check_bias(const Op *op, int64_t m, char *err, size_t errlen) {
  if (op->noperands < 3)
    return true;
  const Type *x = ir_infer_operand(op, 0), *b = ir_infer_operand(op, 2);
  if (ir_dtype_is_float(x->dtype) && !ir_infer_same_dtype(x, b, err, errlen))
    return false;
  if (b->rank == 1 && b->dims[0] == m)
    return true;
  return ir_infer_fail(err, errlen, "operand 2 has shape %s, expected [%lld] (one per output "
                       "channel)", ir_infer_dims_text(b->dims, b->rank).s, (long long)m);
}

/* conv: X[N,C,in...] * W[M,C/group,k...] (+ B[M]) -> [N,M,out...], out by window_out; M must
 * divide by group. */
bool ir_infer_conv(const Op *op, Type *out, char *err, size_t errlen) {
  const Type *x = ir_infer_operand(op, 0), *wt = ir_infer_operand(op, 1);
  int64_t group, dims[IR_MAX_RANK];
  Window w;
  if (!conv_common(op, &group, &w, err, errlen))
    return false;
  int64_t m = wt->dims[0], cg = x->dims[1] / group;
  if (m % group)
    return ir_infer_fail(err, errlen, "group %lld does not divide the %lld output channels of "
                         "operand 1", (long long)group, (long long)m);
  if (wt->dims[1] != cg)
    return ir_infer_fail(err, errlen, "operand 1 has %lld input channels per group, operand 0 "
                         "has %lld", (long long)wt->dims[1], (long long)cg);
  if (!check_bias(op, m, err, errlen))
    return false;
  dims[0] = x->dims[0];
  dims[1] = m;
  for (int i = 0; i < w.n; i++)
    if (!window_out(&w, i, x->dims[i + 2], false, &dims[i + 2], err, errlen))
      return false;
  out[0] = ir_infer_plain(x, x->rank, dims);
  return true;
}

/* conv_transpose: X[N,C,in...] with W[C,M/group,k...] (+ B[M]) -> [N,M,out...] where
 * out = s*(in-1) + output_padding + d*(k-1)+1 - pad_begin - pad_end must be positive, and
 * output_padding (>= 0) is below the stride or the dilation. */
bool ir_infer_conv_transpose(const Op *op, Type *out, char *err, size_t errlen) {
  const Type *x = ir_infer_operand(op, 0), *wt = ir_infer_operand(op, 1);
  int64_t group, opad[IR_MAX_RANK], dims[IR_MAX_RANK];
  Window w;
  if (!conv_common(op, &group, &w, err, errlen))
    return false;
  if (wt->dims[0] != x->dims[1])
    return ir_infer_fail(err, errlen, "operand 1 has %lld input channels, operand 0 has %lld",
                         (long long)wt->dims[0], (long long)x->dims[1]);
  int64_t m = wt->dims[1] * group;
  if (!check_bias(op, m, err, errlen) ||
      !spatial_ints(op, "output_padding", w.n, 1, 0, 0, opad, err, errlen))
    return false;
  dims[0] = x->dims[0];
  dims[1] = m;
  for (int i = 0; i < w.n; i++) {
    int64_t s = w.strides[i], d = w.dilations[i];
    if (opad[i] >= s && opad[i] >= d)
      return ir_infer_fail(err, errlen, "output_padding[%d] is %lld, expected less than stride "
                           "%lld or dilation %lld", i, (long long)opad[i], (long long)s,
                           (long long)d);
    dims[i + 2] = s * (x->dims[i + 2] - 1) + opad[i] + d * (w.kernel[i] - 1) + 1 - w.pads[i] -
                  w.pads[w.n + i];
    if (dims[i + 2] < 1)
      return ir_infer_fail(err, errlen, "dimension %d of the result would have size %lld", i + 2,
                           (long long)dims[i + 2]);
  }
  out[0] = ir_infer_plain(x, x->rank, dims);
  return true;
}

/* ---- matrix products ------------------------------------------------------------------------- */

/* gemm: A[M,K] (A[K,M] with trans_a) times B[K,N] (B[N,K] with trans_b) -> [M,N]; the optional C
 * broadcasts one way to [M,N]. A may be batched (M = N); K may not be the batch dimension. */
bool ir_infer_gemm(const Op *op, Type *out, char *err, size_t errlen) {
  const Type *a = ir_infer_operand(op, 0), *b = ir_infer_operand(op, 1);
  bool ta, tb;
  for (int i = 0; i < 2; i++)
    if (ir_infer_operand(op, i)->rank != 2)
      return ir_infer_fail(err, errlen, "operand %d has rank %d, expected 2", i,
                           ir_infer_operand(op, i)->rank);
  if (!ir_infer_product_dtypes(a, b, err, errlen) || !ir_infer_unbatched(op, 1, err, errlen) ||
      !ir_infer_flag(op, "trans_a", 0, &ta, err, errlen) ||
      !ir_infer_flag(op, "trans_b", 0, &tb, err, errlen))
    return false;
  int64_t dims[2] = {a->dims[ta ? 1 : 0], b->dims[tb ? 0 : 1]};
  int64_t ka = a->dims[ta ? 0 : 1], kb = b->dims[tb ? 1 : 0];
  if (ka == IR_DIM_N)
    return ir_infer_fail(err, errlen, "cannot contract over the batch dimension N of operand 0");
  if (ka != kb)
    return ir_infer_fail(err, errlen, "inner dimensions differ: operand 0 has %lld, operand 1 "
                         "has %lld", (long long)ka, (long long)kb);
  if (op->noperands == 3) {
    if (ir_dtype_is_float(a->dtype) &&
        !ir_infer_same_dtype(a, ir_infer_operand(op, 2), err, errlen))
      return false;
    if (!ir_infer_broadcasts_to(op, 2, dims, 2, err, errlen))
      return false;
  }
  out[0] = ir_infer_plain(a, 2, dims);
  return true;
}

/* matmul (numpy): a 1-D a is [1,K] and a 1-D b is [K,1], the added dimension dropped from the
 * result; the leading (batch) dimensions broadcast; [...,M,K] x [...,K,P] -> [...,M,P]. */
bool ir_infer_matmul(const Op *op, Type *out, char *err, size_t errlen) {
  const Type *a = ir_infer_operand(op, 0), *b = ir_infer_operand(op, 1);
  for (int i = 0; i < 2; i++)
    if (ir_infer_operand(op, i)->rank == 0)
      return ir_infer_fail(err, errlen, "operand %d is a scalar, expected rank at least 1", i);
  if (!ir_infer_product_dtypes(a, b, err, errlen))
    return false;
  int ra = a->rank, rb = b->rank;
  int64_t ka = a->dims[ra - 1], kb = b->dims[rb == 1 ? 0 : rb - 2];
  if (ka == IR_DIM_N || kb == IR_DIM_N)
    return ir_infer_fail(err, errlen, "cannot contract over the batch dimension N of operand %d",
                         ka == IR_DIM_N ? 0 : 1);
  if (ka != kb)
    return ir_infer_fail(err, errlen, "inner dimensions differ: operand 0 has %lld, operand 1 "
                         "has %lld", (long long)ka, (long long)kb);
  int na = ra > 2 ? ra - 2 : 0, nb = rb > 2 ? rb - 2 : 0, rank;
  int64_t dims[IR_MAX_RANK + 2];
  if (!ir_infer_broadcast_dims(a->dims, na, b->dims, nb, dims, &rank))
    return ir_infer_fail(err, errlen, "batch dimensions %s of operand 0 and %s of operand 1 do "
                         "not broadcast", ir_infer_dims_text(a->dims, na).s,
                         ir_infer_dims_text(b->dims, nb).s);
  if (ra > 1)
    dims[rank++] = a->dims[ra - 2];
  if (rb > 1)
    dims[rank++] = b->dims[rb - 1];
  out[0] = ir_infer_plain(a, rank, dims);
  return ir_infer_batch_first(&out[0], err, errlen);
}

/* ---- pools ----------------------------------------------------------------------------------- */

/* max_pool, avg_pool: X[N,C,in...] -> [N,C,out...] by window_out over kernel_shape (required),
 * strides, pads, dilations (max_pool only) and ceil_mode; count_include_pad (avg_pool) is a
 * flag. max_pool keeps the quantization; its optional second result holds the i64 flat index of
 * each maximum in X (storage_order 1: the spatial dimensions counted column-major, as ONNX). */
static bool infer_pool(const Op *op, Type *out, bool is_max, char *err, size_t errlen) {
  const Type *x = ir_infer_operand(op, 0);
  const int64_t *ks;
  int64_t dims[IR_MAX_RANK];
  bool ceil_mode, count_pad;
  Window w;
  if (!window_input(x, err, errlen))
    return false;
  if (ir_attr_ints(op, "kernel_shape", &ks) < 0)
    return ir_infer_fail(err, errlen, "kernel_shape is required");
  int n = x->rank - 2;
  if (!spatial_ints(op, "kernel_shape", n, 1, 1, 1, w.kernel, err, errlen) ||
      !read_window(op, n, is_max, &w, err, errlen) ||
      !ir_infer_flag(op, "ceil_mode", 0, &ceil_mode, err, errlen) ||
      (!is_max && !ir_infer_flag(op, "count_include_pad", 0, &count_pad, err, errlen)))
    return false;
  dims[0] = x->dims[0];
  dims[1] = x->dims[1];
  for (int i = 0; i < n; i++)
    if (!window_out(&w, i, x->dims[i + 2], ceil_mode, &dims[i + 2], err, errlen))
      return false;
  out[0] = is_max ? ir_infer_like(x, x->rank, dims) : ir_infer_plain(x, x->rank, dims);
  if (op->kind == OP_MAX_POOL) {
    bool col;
    if (!ir_infer_flag(op, "storage_order", 0, &col, err, errlen))
      return false;
    if (op->nresults > 1) /* the indices: flat offsets into X, i64 */
      out[1] = ir_type_make(DT_I64, x->rank, dims);
  }
  return true;
}

/* max_pool: see infer_pool. */
bool ir_infer_max_pool(const Op *op, Type *out, char *err, size_t errlen) {
  return infer_pool(op, out, true, err, errlen);
}

/* avg_pool: see infer_pool. */
bool ir_infer_avg_pool(const Op *op, Type *out, char *err, size_t errlen) {
  return infer_pool(op, out, false, err, errlen);
}

/* global_avg_pool, global_max_pool: X[N,C,...] (rank >= 2) -> [N,C,1,...]; the max keeps the
 * quantization. */
bool ir_infer_global_pool(const Op *op, Type *out, char *err, size_t errlen) {
  const Type *x = ir_infer_operand(op, 0);
  if (x->rank < 2)
    return ir_infer_fail(err, errlen, "operand 0 has rank %d, expected at least 2 (N, C, ...)",
                         x->rank);
  int64_t dims[IR_MAX_RANK];
  for (int i = 0; i < x->rank; i++)
    dims[i] = i < 2 ? x->dims[i] : 1;
  out[0] = op->kind == OP_GLOBAL_MAX_POOL ? ir_infer_like(x, x->rank, dims)
                                          : ir_infer_plain(x, x->rank, dims);
  return true;
}

/* ---- normalizations, reductions, softmax ----------------------------------------------------- */

/* batch_norm: X[N,C,...] (rank >= 2) with scale, bias, mean and var all [C] -> X's shape. */
bool ir_infer_batch_norm(const Op *op, Type *out, char *err, size_t errlen) {
  static const char *const names[] = {"", "scale", "bias", "mean", "var"};
  const Type *x = ir_infer_operand(op, 0);
  if (x->rank < 2)
    return ir_infer_fail(err, errlen, "operand 0 has rank %d, expected at least 2 (N, C, ...)",
                         x->rank);
  for (int i = 1; i < 5; i++) {
    const Type *p = ir_infer_operand(op, i);
    if (p->rank != 1 || p->dims[0] != x->dims[1])
      return ir_infer_fail(err, errlen, "operand %d (%s) has shape %s, expected [%lld] (one per "
                           "channel)", i, names[i], ir_infer_dims_text(p->dims, p->rank).s,
                           (long long)x->dims[1]);
  }
  out[0] = ir_infer_plain(x, x->rank, x->dims);
  return true;
}

/* layer_norm: normalizes X over dimensions [axis, rank) (axis default -1, not the batch
 * dimension); scale (operand 1) and bias (operand 2) have X's dtype and broadcast one way to
 * those dimensions. The result has X's shape. */
bool ir_infer_layer_norm(const Op *op, Type *out, char *err, size_t errlen) {
  const Type *x = ir_infer_operand(op, 0);
  int axis = 0;
  if (!ir_infer_axis(ir_attr_int(op, "axis", -1), x->rank, &axis, err, errlen))
    return false;
  if (axis == 0 && ir_type_is_batched(x))
    return ir_infer_fail(err, errlen, "cannot normalize over the batch dimension N");
  for (int i = 1; i < op->noperands; i++)
    if (!ir_infer_same_dtype(x, ir_infer_operand(op, i), err, errlen) ||
        !ir_infer_broadcasts_to(op, i, x->dims + axis, x->rank - axis, err, errlen))
      return false;
  out[0] = ir_infer_plain(x, x->rank, x->dims);
  /* Mean and InvStdDev (results 1, 2): f32 (ONNX's stash_type), normalized axes reduced to 1. */
  int64_t rdims[IR_MAX_RANK];
  for (int i = 0; i < x->rank; i++)
    rdims[i] = i < axis ? x->dims[i] : 1;
  for (int i = 1; i < op->nresults; i++)
    out[i] = ir_type_make(DT_F32, x->rank, rdims);
  return true;
}

/* reduce_mean, reduce_sum, reduce_max: reduce over axes (default, or an empty list: all, or none
 * with the flag noop_with_empty_axes, where an op has it; negative
 * allowed; no repeats; never the batch dimension), keeping them as size 1 when keepdims (default
 * 1) or dropping them. reduce_max keeps the quantization. */
bool ir_infer_reduce(const Op *op, Type *out, char *err, size_t errlen) {
  const Type *x = ir_infer_operand(op, 0);
  const int64_t *axes;
  bool keep, mark[IR_MAX_RANK];
  int n = ir_attr_ints(op, "axes", &axes), rank = 0;
  bool noop; /* noop_with_empty_axes: absent or empty axes reduce nothing */
  if (!ir_infer_flag(op, "keepdims", 1, &keep, err, errlen) ||
      !ir_infer_flag(op, "noop_with_empty_axes", 0, &noop, err, errlen))
    return false;
  if (n > 0 && !ir_infer_axes(axes, n, x->rank, mark, err, errlen))
    return false;
  for (int i = 0; n <= 0 && i < x->rank; i++)
    mark[i] = !noop;
  if (ir_type_is_batched(x) && mark[0])
    return ir_infer_fail(err, errlen, "cannot reduce over the batch dimension N");
  int64_t dims[IR_MAX_RANK];
  for (int i = 0; i < x->rank; i++)
    if (!mark[i])
      dims[rank++] = x->dims[i];
    else if (keep)
      dims[rank++] = 1;
  out[0] = op->kind == OP_REDUCE_MAX || op->kind == OP_REDUCE_MIN ? ir_infer_like(x, rank, dims)
                                                                  : ir_infer_plain(x, rank, dims);
  return true;
}

/* softmax: along axis (default -1; not the batch dimension); the result has X's shape. */
bool ir_infer_softmax(const Op *op, Type *out, char *err, size_t errlen) {
  const Type *x = ir_infer_operand(op, 0);
  int axis = 0;
  if (!ir_infer_axis(ir_attr_int(op, "axis", -1), x->rank, &axis, err, errlen))
    return false;
  if (axis == 0 && ir_type_is_batched(x))
    return ir_infer_fail(err, errlen, "cannot take softmax over the batch dimension N");
  out[0] = ir_infer_plain(x, x->rank, x->dims);
  return true;
}
