/* infer_shape.c - shape inference of the ops that rearrange data: reshape, flatten, squeeze,
 * unsqueeze, transpose, concat, split, slice, pad, gather, resize (ONNX semantics; see infer.h
 * for the conventions). All but resize in linear or cubic mode keep operand 0's quantization. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "infer.h"

/* ---- reshape-like ---------------------------------------------------------------------------- */

/* "6 elements" or, for a batched shape, "6 elements per batch item". */
static InferText count_text(int64_t n, bool batched) {
  InferText t;
  snprintf(t.s, sizeof t.s, "%lld element%s%s", (long long)n, n == 1 ? "" : "s",
           batched ? " per batch item" : "");
  return t;
}

/* Resolves shape[i] for i >= first into dims: 0 copies operand 0's dimension i, a single -1 is
 * left for the caller (its index in *infer_at), values below -1 are errors; *known accumulates
 * the product of the resolved dimensions. */
static bool reshape_dims(const Type *x, const int64_t *shape, int n, int first, int *infer_at,
                         int64_t *dims, int64_t *known, char *err, size_t errlen) {
  for (int i = first; i < n; i++) {
    int64_t v = shape[i];
    if (v < -1)
      return ir_infer_fail(err, errlen, "shape[%d] is %lld, expected a size, 0 or -1", i,
                           (long long)v);
    if (v == -1) {
      if (*infer_at >= 0)
        return ir_infer_fail(err, errlen, "shape[%d] is a second -1 (the first is shape[%d])", i,
                             *infer_at);
      *infer_at = i;
      dims[i] = -1;
      continue;
    }
    if (v == 0) {
      if (i >= x->rank)
        return ir_infer_fail(err, errlen, "shape[%d] is 0 (copy dimension %d) but operand 0 has "
                             "rank %d", i, i, x->rank);
      v = x->dims[i];
    }
    if (v > 0 && *known > INT64_MAX / v)
      return ir_infer_fail(err, errlen, "shape %s has too many elements",
                           ir_infer_ints_text(shape, n).s);
    dims[i] = v;
    *known *= v;
  }
  return true;
}

/* reshape (ONNX, allowzero 0): shape[i] = 0 copies dimension i, one -1 is inferred, and the
 * element count is kept. A batched operand stays batched: shape[0] must be 0 or -1 (both mean N;
 * a -1 there is the shape's one -1) and the rest holds the elements of one batch item. */
bool ir_infer_reshape(const Op *op, Type *out, char *err, size_t errlen) {
  const Type *x = ir_infer_operand(op, 0);
  const int64_t *shape;
  int64_t dims[IR_MAX_RANK], known = 1;
  int n = ir_attr_ints(op, "shape", &shape), first = 0, infer_at = -1;
  if (n < 0)
    return ir_infer_fail(err, errlen, "shape is required");
  if (!ir_infer_rank_ok(n, err, errlen))
    return false;
  bool batched = ir_type_is_batched(x);
  if (batched) {
    if (n == 0 || (shape[0] != 0 && shape[0] != -1))
      return ir_infer_fail(err, errlen, "reshape of a batched tensor must keep the batch "
                           "dimension first (shape[0] 0 or -1)");
    dims[0] = IR_DIM_N;
    first = 1;
    infer_at = shape[0] == -1 ? 0 : -1;
  }
  if (!reshape_dims(x, shape, n, first, &infer_at, dims, &known, err, errlen))
    return false;
  int64_t total = ir_type_numel_per_item(x);
  if (infer_at >= first) {
    if (known == 0)
      return ir_infer_fail(err, errlen, "cannot infer shape[%d] = -1 next to a dimension of size "
                           "0", infer_at);
    if (total % known)
      return ir_infer_fail(err, errlen, "cannot infer shape[%d] = -1: %s do not divide by %lld",
                           infer_at, count_text(total, batched).s, (long long)known);
    dims[infer_at] = total / known;
  } else if (known != total) {
    return ir_infer_fail(err, errlen, "cannot reshape %s (%s) into %s (%s)",
                         ir_infer_type_text(x).s, count_text(total, batched).s,
                         ir_infer_dims_text(dims, n).s, count_text(known, batched).s);
  }
  out[0] = ir_infer_like(x, n, dims);
  return true;
}

/* flatten: axis in [-rank, rank] (default 1) splits the shape into [prod(dims[:axis]),
 * prod(dims[axis:])]. A batched operand gives [N, prod(dims[axis:])]: axis 0 is an error, and so
 * is folding dimensions of size other than 1 into N. */
bool ir_infer_flatten(const Op *op, Type *out, char *err, size_t errlen) {
  const Type *x = ir_infer_operand(op, 0);
  int64_t axis = ir_attr_int(op, "axis", 1), dims[2] = {1, 1};
  if (axis < -x->rank || axis > x->rank)
    return ir_infer_fail(err, errlen, "axis %lld is out of range for rank %d", (long long)axis,
                         x->rank);
  int a = (int)(axis < 0 ? axis + x->rank : axis);
  bool batched = ir_type_is_batched(x);
  if (batched && a == 0)
    return ir_infer_fail(err, errlen, "flatten at axis 0 would move the batch dimension N inward");
  for (int i = batched ? 1 : 0; i < x->rank; i++)
    dims[i >= a] *= x->dims[i];
  if (batched && dims[0] != 1)
    return ir_infer_fail(err, errlen, "flatten at axis %d would fold dimensions %s into the batch "
                         "dimension N", a, ir_infer_dims_text(x->dims + 1, a - 1).s);
  if (batched)
    dims[0] = IR_DIM_N;
  out[0] = ir_infer_like(x, 2, dims);
  return true;
}

/* squeeze: removes the listed axes, each of size 1 (never the batch dimension); without axes,
 * every dimension of size 1. */
bool ir_infer_squeeze(const Op *op, Type *out, char *err, size_t errlen) {
  const Type *x = ir_infer_operand(op, 0);
  const int64_t *axes;
  bool mark[IR_MAX_RANK];
  int64_t dims[IR_MAX_RANK];
  int n = ir_attr_ints(op, "axes", &axes), rank = 0;
  if (n >= 0 && !ir_infer_axes(axes, n, x->rank, mark, err, errlen))
    return false;
  for (int i = 0; i < x->rank; i++) {
    if (n < 0)
      mark[i] = x->dims[i] == 1;
    if (mark[i] && x->dims[i] == IR_DIM_N)
      return ir_infer_fail(err, errlen, "cannot squeeze the batch dimension N");
    if (mark[i] && x->dims[i] != 1)
      return ir_infer_fail(err, errlen, "cannot squeeze dimension %d of size %lld", i,
                           (long long)x->dims[i]);
    if (!mark[i])
      dims[rank++] = x->dims[i];
  }
  out[0] = ir_infer_like(x, rank, dims);
  return true;
}

/* unsqueeze: inserts dimensions of size 1 at axes (required; in [-r', r') for the result rank r';
 * no repeats), never in front of a batch dimension N. */
bool ir_infer_unsqueeze(const Op *op, Type *out, char *err, size_t errlen) {
  const Type *x = ir_infer_operand(op, 0);
  const int64_t *axes;
  bool mark[IR_MAX_RANK];
  int64_t dims[IR_MAX_RANK];
  int n = ir_attr_ints(op, "axes", &axes);
  if (n < 0)
    return ir_infer_fail(err, errlen, "axes is required");
  int rank = x->rank + n;
  if (!ir_infer_rank_ok(rank, err, errlen) ||
      !ir_infer_axes(axes, n, rank, mark, err, errlen))
    return false;
  if (mark[0] && ir_type_is_batched(x))
    return ir_infer_fail(err, errlen, "cannot insert a dimension before the batch dimension N");
  for (int i = 0, j = 0; i < rank; i++)
    dims[i] = mark[i] ? 1 : x->dims[j++];
  out[0] = ir_infer_like(x, rank, dims);
  return true;
}

/* transpose: dims[i] = x.dims[perm[i]]; perm (default reversed) is a permutation of 0..rank-1
 * that keeps a batch dimension first. */
bool ir_infer_transpose(const Op *op, Type *out, char *err, size_t errlen) {
  const Type *x = ir_infer_operand(op, 0);
  const int64_t *perm;
  int64_t rev[IR_MAX_RANK], dims[IR_MAX_RANK];
  bool seen[IR_MAX_RANK] = {false};
  int n = ir_attr_ints(op, "perm", &perm);
  if (n < 0) {
    for (int i = 0; i < x->rank; i++)
      rev[i] = x->rank - 1 - i;
    perm = rev;
    n = x->rank;
  }
  if (n != x->rank)
    return ir_infer_fail(err, errlen, "perm has %d value%s, expected %d (the rank of operand 0)",
                         n, n == 1 ? "" : "s", x->rank);
  for (int i = 0; i < n; i++) {
    if (perm[i] < 0 || perm[i] >= n || seen[perm[i]])
      return ir_infer_fail(err, errlen, "perm %s is not a permutation of 0..%d",
                           ir_infer_ints_text(perm, n).s, n - 1);
    seen[perm[i]] = true;
    dims[i] = x->dims[perm[i]];
  }
  if (ir_type_is_batched(x) && perm[0] != 0)
    return ir_infer_fail(err, errlen, "transpose must keep the batch dimension N first (perm[0] "
                         "is %lld)", (long long)perm[0]);
  out[0] = ir_infer_like(x, n, dims);
  return true;
}

/* ---- concat, split, slice, pad --------------------------------------------------------------- */

/* concat: operands of one dtype and rank, equal but along axis (required; negative allowed;
 * not the batch dimension); the result's axis dimension is their sum. */
bool ir_infer_concat(const Op *op, Type *out, char *err, size_t errlen) {
  const Type *x = ir_infer_operand(op, 0);
  int a = 0;
  if (!ir_op_attr(op, "axis"))
    return ir_infer_fail(err, errlen, "axis is required");
  if (!ir_infer_axis(ir_attr_int(op, "axis", 0), x->rank, &a, err, errlen))
    return false;
  int64_t dims[IR_MAX_RANK];
  memcpy(dims, x->dims, sizeof dims);
  for (int i = 0; i < op->noperands; i++) {
    const Type *t = ir_infer_operand(op, i);
    if (a == 0 && ir_type_is_batched(t))
      return ir_infer_fail(err, errlen, "cannot concatenate along the batch dimension N");
    if (i == 0)
      continue;
    if (!ir_infer_same_dtype(x, t, err, errlen))
      return false;
    if (t->rank != x->rank)
      return ir_infer_fail(err, errlen, "operand %d has rank %d, operand 0 has rank %d", i,
                           t->rank, x->rank);
    for (int d = 0; d < x->rank; d++)
      if (d != a && t->dims[d] != x->dims[d])
        return ir_infer_fail(err, errlen, "operand %d has size %s in dimension %d, operand 0 "
                             "has %s", i, ir_infer_dim_text(t->dims[d]).s, d,
                             ir_infer_dim_text(x->dims[d]).s);
    dims[a] += t->dims[a];
  }
  out[0] = ir_infer_like(x, x->rank, dims);
  return true;
}

/* The part sizes of split along dimension axis (size d) into op->nresults parts, written into
 * out[i].dims[axis]: the `split` list (one size >= 0 per result, summing to d) or, without it,
 * equal parts (ONNX 18: when d does not divide, parts of ceil(d/k) and a smaller, non-empty last
 * one). */
static bool split_sizes(const Op *op, int axis, int64_t d, Type *out, char *err, size_t errlen) {
  const int64_t *v;
  int n = ir_attr_ints(op, "split", &v), k = op->nresults;
  if (n < 0) {
    int64_t chunk = (d + k - 1) / k, last = d - chunk * (k - 1);
    if (last < 1 && d % k)
      return ir_infer_fail(err, errlen, "cannot split dimension %d of size %lld into %d parts",
                           axis, (long long)d, k);
    for (int i = 0; i < k; i++)
      out[i].dims[axis] = i == k - 1 ? last : chunk;
    return true;
  }
  if (n != k)
    return ir_infer_fail(err, errlen, "split has %d size%s, op has %d result%s", n,
                         n == 1 ? "" : "s", k, k == 1 ? "" : "s");
  int64_t sum = 0;
  for (int i = 0; i < n; i++) {
    if (v[i] < 0 || v[i] > d)
      return ir_infer_fail(err, errlen, "split[%d] is %lld, expected 0 to %lld", i,
                           (long long)v[i], (long long)d);
    sum += v[i]; /* no overflow: at most n * d, both bounded */
    out[i].dims[axis] = v[i];
  }
  if (sum != d)
    return ir_infer_fail(err, errlen, "split sizes sum to %lld, dimension %d has size %lld",
                         (long long)sum, axis, (long long)d);
  return true;
}

/* split: op->nresults parts of operand 0 along axis (default 0; not the batch dimension), sized
 * by split_sizes. */
bool ir_infer_split(const Op *op, Type *out, char *err, size_t errlen) {
  const Type *x = ir_infer_operand(op, 0);
  int a = 0;
  if (!ir_infer_axis(ir_attr_int(op, "axis", 0), x->rank, &a, err, errlen))
    return false;
  if (x->dims[a] == IR_DIM_N)
    return ir_infer_fail(err, errlen, "cannot split along the batch dimension N");
  for (int i = 0; i < op->nresults; i++)
    out[i] = ir_infer_like(x, x->rank, x->dims);
  return split_sizes(op, a, x->dims[a], out, err, errlen);
}

/* The length of one sliced dimension of size d (ONNX): negative start and end count from the
 * end; with step > 0 they clamp to [0, d], with step < 0 start clamps to [0, d-1] and end to
 * [-1, d-1]; the length is ceil((end - start) / step), at least 0. */
static int64_t slice_len(int64_t d, int64_t start, int64_t end, int64_t step) {
  if (start < 0)
    start += d;
  if (end < 0)
    end += d;
  int64_t lo = step > 0 ? 0 : -1, hi = step > 0 ? d : d - 1;
  start = start < 0 ? 0 : start > hi ? hi : start;
  end = end < lo ? lo : end > hi ? hi : end;
  uint64_t span = step > 0 ? (uint64_t)(end - start) : (uint64_t)(start - end);
  uint64_t mag = step > 0 ? (uint64_t)step : (uint64_t)0 - (uint64_t)step;
  if ((step > 0 && end <= start) || (step < 0 && start <= end))
    return 0;
  return (int64_t)((span - 1) / mag + 1);
}

/* slice: starts and ends (required, equal lengths) on axes (default 0, 1, ...; no repeats; not
 * the batch dimension) with steps (default 1, never 0), by slice_len. */
bool ir_infer_slice(const Op *op, Type *out, char *err, size_t errlen) {
  const Type *x = ir_infer_operand(op, 0);
  const int64_t *starts, *ends, *axes = NULL, *steps = NULL;
  int ns = ir_attr_ints(op, "starts", &starts), ne = ir_attr_ints(op, "ends", &ends);
  int na = ir_attr_ints(op, "axes", &axes), nt = ir_attr_ints(op, "steps", &steps);
  bool mark[IR_MAX_RANK];
  if (ns < 0 || ne < 0)
    return ir_infer_fail(err, errlen, "%s is required", ns < 0 ? "starts" : "ends");
  if (ne != ns || (na >= 0 && na != ns) || (nt >= 0 && nt != ns))
    return ir_infer_fail(err, errlen, "%s has %d values, starts has %d",
                         ne != ns ? "ends" : na >= 0 && na != ns ? "axes" : "steps",
                         ne != ns ? ne : na >= 0 && na != ns ? na : nt, ns);
  if (na < 0 && ns > x->rank)
    return ir_infer_fail(err, errlen, "starts has %d values, more than the rank %d of operand 0",
                         ns, x->rank);
  int64_t dflt_axes[IR_MAX_RANK], dims[IR_MAX_RANK];
  for (int i = 0; na < 0 && i < ns; i++)
    dflt_axes[i] = i;
  if (na < 0)
    axes = dflt_axes;
  if (!ir_infer_axes(axes, ns, x->rank, mark, err, errlen))
    return false;
  memcpy(dims, x->dims, sizeof dims);
  for (int i = 0; i < ns; i++) {
    int a = (int)(axes[i] < 0 ? axes[i] + x->rank : axes[i]);
    int64_t step = nt >= 0 ? steps[i] : 1;
    if (step == 0)
      return ir_infer_fail(err, errlen, "steps[%d] is 0", i);
    if (x->dims[a] == IR_DIM_N)
      return ir_infer_fail(err, errlen, "cannot slice the batch dimension N");
    dims[a] = slice_len(x->dims[a], starts[i], ends[i], step);
  }
  out[0] = ir_infer_like(x, x->rank, dims);
  return true;
}

/* pad: pads (required) holds 2*rank values (magnitudes up to INT32_MAX), all begins then all
 * ends, negative ones cropping; every padded size must stay >= 0 and the batch dimension is never
 * padded; mode is constant (default), reflect, edge or wrap. */
bool ir_infer_pad(const Op *op, Type *out, char *err, size_t errlen) {
  static const char *const modes[] = {"constant", "reflect", "edge", "wrap", NULL};
  const Type *x = ir_infer_operand(op, 0);
  const int64_t *pads;
  const char *mode;
  int64_t dims[IR_MAX_RANK];
  int n = ir_attr_ints(op, "pads", &pads), r = x->rank;
  if (n < 0)
    return ir_infer_fail(err, errlen, "pads is required");
  if (n != 2 * r)
    return ir_infer_fail(err, errlen, "pads has %d values, expected %d (a begin and an end per "
                         "dimension)", n, 2 * r);
  if (!ir_infer_choice(op, "mode", "constant", modes, &mode, err, errlen))
    return false;
  for (int i = 0; i < n; i++)
    if (pads[i] < -INT32_MAX || pads[i] > INT32_MAX)
      return ir_infer_fail(err, errlen, "pads[%d] is %lld, expected a magnitude of at most %ld",
                           i, (long long)pads[i], (long)INT32_MAX);
  for (int i = 0; i < r; i++) {
    if (x->dims[i] == IR_DIM_N) {
      if (pads[i] || pads[r + i])
        return ir_infer_fail(err, errlen, "cannot pad the batch dimension N");
      dims[i] = IR_DIM_N;
      continue;
    }
    dims[i] = x->dims[i] + pads[i] + pads[r + i];
    if (dims[i] < 0)
      return ir_infer_fail(err, errlen, "padding dimension %d of size %lld by %lld and %lld "
                           "leaves size %lld", i, (long long)x->dims[i], (long long)pads[i],
                           (long long)pads[r + i], (long long)dims[i]);
  }
  out[0] = ir_infer_like(x, r, dims);
  return true;
}

/* ---- gather, resize -------------------------------------------------------------------------- */

/* gather: data.shape[:axis] + indices.shape + data.shape[axis+1:] with i32 or i64 indices and
 * axis (default 0) not the batch dimension of data; batched indices work along axis 0 only, where
 * their N comes first. */
bool ir_infer_gather(const Op *op, Type *out, char *err, size_t errlen) {
  const Type *x = ir_infer_operand(op, 0), *idx = ir_infer_operand(op, 1);
  int a = 0;
  if (idx->dtype != DT_I32 && idx->dtype != DT_I64)
    return ir_infer_fail(err, errlen, "operand 1 (the indices) has dtype %s, expected i32 or i64",
                         ir_dtype_name(idx->dtype));
  if (!ir_infer_axis(ir_attr_int(op, "axis", 0), x->rank, &a, err, errlen))
    return false;
  if (x->dims[a] == IR_DIM_N)
    return ir_infer_fail(err, errlen, "cannot gather along the batch dimension N");
  int rank = x->rank - 1 + idx->rank;
  if (!ir_infer_rank_ok(rank, err, errlen))
    return false;
  int64_t dims[IR_MAX_RANK];
  int k = 0;
  for (int i = 0; i < a; i++)
    dims[k++] = x->dims[i];
  for (int i = 0; i < idx->rank; i++)
    dims[k++] = idx->dims[i];
  for (int i = a + 1; i < x->rank; i++)
    dims[k++] = x->dims[i];
  out[0] = ir_infer_like(x, rank, dims);
  return ir_infer_batch_first(&out[0], err, errlen);
}

/* Dimension i of resize from scales: floor(d * scale) (in f32 arithmetic, as ONNX), scale > 0,
 * and not emptying a non-empty dimension; the batch dimension takes scale 1 only. */
static bool resize_by_scale(int i, int64_t d, double scale, int64_t *out, char *err,
                            size_t errlen) {
  if (!(scale > 0))
    return ir_infer_fail(err, errlen, "scales[%d] is %s, expected a positive value", i,
                         ir_infer_float_text(scale).s);
  if (d == IR_DIM_N) {
    if (scale != 1)
      return ir_infer_fail(err, errlen, "scales[%d] is %s but dimension %d is the batch "
                           "dimension N (expected 1.0)", i, ir_infer_float_text(scale).s, i);
    *out = IR_DIM_N;
    return true;
  }
  float prod = (float)d * (float)scale;
  if (prod >= 0x1p62f)
    return ir_infer_fail(err, errlen, "scales[%d] is %s, which makes dimension %d too large", i,
                         ir_infer_float_text(scale).s, i);
  *out = (int64_t)floorf(prod);
  if (*out < 1 && d > 0)
    return ir_infer_fail(err, errlen, "scales[%d] is %s, which shrinks dimension %d of size %lld "
                         "to 0", i, ir_infer_float_text(scale).s, i, (long long)d);
  return true;
}

/* Dimension i of resize from sizes: a size >= 1, or -1 (keep N) for the batch dimension. */
static bool resize_by_size(int i, int64_t d, int64_t size, int64_t *out, char *err,
                           size_t errlen) {
  if (d == IR_DIM_N && size != -1)
    return ir_infer_fail(err, errlen, "sizes[%d] is %lld but dimension %d is the batch dimension "
                         "N (expected -1)", i, (long long)size, i);
  if (d != IR_DIM_N && size < 1)
    return ir_infer_fail(err, errlen, "sizes[%d] is %lld, expected at least 1", i,
                         (long long)size);
  *out = d == IR_DIM_N ? IR_DIM_N : size;
  return true;
}

/* resize: exactly one of scales and sizes (an empty list counts as absent), one value per
 * dimension; mode nearest (default, keeps the quantization), linear or cubic;
 * coordinate_transformation_mode and nearest_mode from ONNX's lists. */
bool ir_infer_resize(const Op *op, Type *out, char *err, size_t errlen) {
  static const char *const modes[] = {"nearest", "linear", "cubic", NULL};
  static const char *const ctms[] = {"half_pixel", "half_pixel_symmetric", "pytorch_half_pixel",
                                     "align_corners", "asymmetric", "tf_crop_and_resize", NULL};
  static const char *const nearest[] = {"round_prefer_floor", "round_prefer_ceil", "floor",
                                        "ceil", NULL};
  const Type *x = ir_infer_operand(op, 0);
  const double *scales;
  const int64_t *sizes;
  const char *mode, *ctm, *nm;
  int ns = ir_attr_floats(op, "scales", &scales), nz = ir_attr_ints(op, "sizes", &sizes);
  if ((ns > 0) == (nz > 0))
    return ir_infer_fail(err, errlen, "exactly one of scales and sizes must be given");
  int n = ns > 0 ? ns : nz;
  if (n != x->rank)
    return ir_infer_fail(err, errlen, "%s has %d value%s, expected %d (the rank of operand 0)",
                         ns > 0 ? "scales" : "sizes", n, n == 1 ? "" : "s", x->rank);
  if (!ir_infer_choice(op, "mode", "nearest", modes, &mode, err, errlen) ||
      !ir_infer_choice(op, "coordinate_transformation_mode", "half_pixel", ctms, &ctm, err,
                       errlen) ||
      !ir_infer_choice(op, "nearest_mode", "round_prefer_floor", nearest, &nm, err, errlen))
    return false;
  bool exclude; /* exclude_outside (cubic): taps outside the input get no weight */
  if (!ir_infer_flag(op, "exclude_outside", 0, &exclude, err, errlen))
    return false;
  int64_t dims[IR_MAX_RANK];
  for (int i = 0; i < n; i++)
    if (!(ns > 0 ? resize_by_scale(i, x->dims[i], scales[i], &dims[i], err, errlen)
                 : resize_by_size(i, x->dims[i], sizes[i], &dims[i], err, errlen)))
      return false;
  out[0] = strcmp(mode, "nearest") == 0 ? ir_infer_like(x, n, dims) : ir_infer_plain(x, n, dims);
  return true;
}
