/* kernels_shape.c - the data-movement ops: reshape, flatten, squeeze, unsqueeze (copies),
 * transpose, concat, split, slice, pad, gather. Every element type, by element size; results
 * keep operand 0's element type and quantization. */
#include <stdlib.h>
#include <string.h>

#include "kernels.h"

/* Result r has operand 0's element type. */
static int same_elem(const RtTensor *x, const RtTensor *y, int r, char *err, size_t errlen) {
  if (x->elem == y->elem)
    return RT_OK;
  return rt_ref_fail(err, errlen, RT_EUNSUPPORTED, "result %d has element type %s, expected %s", r,
                 rt_elem_name(y->elem), rt_elem_name(x->elem));
}

/* Walks every index of a shape in row-major order. */
static bool next_index(int64_t *idx, const int64_t *dims, int rank) {
  for (int d = rank - 1; d >= 0; d--) {
    if (++idx[d] < dims[d])
      return true;
    idx[d] = 0;
  }
  return false;
}

/* reshape, flatten, squeeze, unsqueeze: the same elements in the same order. The result shape is
 * the caller's (shape inference applied the attributes); only the element count is checked. */
int rt_k_reshape(const RtNode *n, const RtTensor *in, int nin, RtTensor *out, int nout,
                 char *err, size_t errlen) {
  int st = rt_ref_check_call(n, in, nin, out, nout, err, errlen);
  if (st != RT_OK || (st = same_elem(&in[0], &out[0], 0, err, errlen)))
    return st;
  int64_t count = rt_tensor_numel(&in[0]);
  if (count != rt_tensor_numel(&out[0]))
    return rt_ref_fail(err, errlen, RT_ESHAPE, "operand has %lld elements, result %lld",
                   (long long)count, (long long)rt_tensor_numel(&out[0]));
  if (count && out[0].data != in[0].data)
    memmove(out[0].data, in[0].data, (size_t)count * rt_elem_size(in[0].elem));
  return RT_OK;
}

/* transpose: result dimension i is operand dimension perm[i] (default: reversed). */
int rt_k_transpose(const RtNode *n, const RtTensor *in, int nin, RtTensor *out, int nout,
                   char *err, size_t errlen) {
  int st = rt_ref_check_call(n, in, nin, out, nout, err, errlen);
  if (st != RT_OK)
    return st;
  const RtTensor *x = &in[0];
  const int64_t *perm;
  int64_t rev[RT_MAX_RANK], dims[RT_MAX_RANK], istr[RT_MAX_RANK], str[RT_MAX_RANK];
  bool seen[RT_MAX_RANK] = {false};
  int np = rt_attr_ints(n, "perm", &perm);
  if (np < 0) {
    for (int i = 0; i < x->rank; i++)
      rev[i] = x->rank - 1 - i;
    perm = rev;
    np = x->rank;
  }
  if (np != x->rank)
    return rt_ref_fail(err, errlen, RT_ESHAPE, "perm has %d values, expected %d", np, x->rank);
  rt_ref_strides(x, istr);
  for (int i = 0; i < np; i++) {
    if (perm[i] < 0 || perm[i] >= np || seen[perm[i]])
      return rt_ref_fail(err, errlen, RT_ESHAPE, "perm is not a permutation of 0..%d", np - 1);
    seen[perm[i]] = true;
    dims[i] = x->dims[perm[i]];
    str[i] = istr[perm[i]];
  }
  if ((st = rt_ref_check_result(&out[0], 0, np, dims, err, errlen)) ||
      (st = same_elem(x, &out[0], 0, err, errlen)))
    return st;
  size_t size = rt_elem_size(x->elem);
  int64_t count = rt_tensor_numel(x), idx[RT_MAX_RANK] = {0};
  for (int64_t i = 0; i < count; i++) {
    int64_t off = 0;
    for (int d = 0; d < np; d++)
      off += idx[d] * str[d];
    memcpy((char *)out[0].data + (size_t)i * size, (const char *)x->data + (size_t)off * size,
           size);
    next_index(idx, dims, np);
  }
  return RT_OK;
}

/* The operand's size before dimension axis, and the bytes of one slab from axis on. */
static void slabs(const RtTensor *t, int axis, int64_t *outer, size_t *bytes) {
  int64_t o = 1, in = 1;
  for (int i = 0; i < t->rank; i++)
    if (i < axis)
      o *= t->dims[i];
    else
      in *= t->dims[i];
  *outer = o;
  *bytes = (size_t)in * rt_elem_size(t->elem);
}

/* concat along axis (required): operands of one element type and rank, equal elsewhere. */
int rt_k_concat(const RtNode *n, const RtTensor *in, int nin, RtTensor *out, int nout, char *err,
                size_t errlen) {
  int st = rt_ref_check_call(n, in, nin, out, nout, err, errlen), axis = 0;
  if (st != RT_OK)
    return st;
  if (!rt_attr(n, "axis"))
    return rt_ref_fail(err, errlen, RT_ESHAPE, "axis is required");
  if ((st = rt_ref_axis(rt_attr_int(n, "axis", 0), in[0].rank, &axis, err, errlen)))
    return st;
  int64_t dims[RT_MAX_RANK];
  memcpy(dims, in[0].dims, sizeof dims);
  for (int k = 1; k < nin; k++) {
    bool same = in[k].rank == in[0].rank && in[k].elem == in[0].elem;
    for (int d = 0; same && d < in[0].rank; d++)
      same = d == axis || in[k].dims[d] == in[0].dims[d];
    if (!same)
      return rt_ref_fail(err, errlen, RT_ESHAPE, "operand %d does not match operand 0 outside axis "
                     "%d", k, axis);
    dims[axis] += in[k].dims[axis];
  }
  if ((st = rt_ref_check_result(&out[0], 0, in[0].rank, dims, err, errlen)) ||
      (st = same_elem(&in[0], &out[0], 0, err, errlen)))
    return st;
  int64_t outer;
  size_t ybytes, pos = 0;
  slabs(&out[0], axis, &outer, &ybytes);
  for (int k = 0; k < nin; k++) {
    size_t bytes;
    slabs(&in[k], axis, &outer, &bytes);
    for (int64_t o = 0; bytes && o < outer; o++)
      memcpy((char *)out[0].data + (size_t)o * ybytes + pos,
             (const char *)in[k].data + (size_t)o * bytes, bytes);
    pos += bytes;
  }
  return RT_OK;
}

/* split along axis (default 0) into the results, sized by their shapes, which must agree with
 * the split attribute when given and sum to the operand's dimension. */
int rt_k_split(const RtNode *n, const RtTensor *in, int nin, RtTensor *out, int nout, char *err,
               size_t errlen) {
  int st = rt_ref_check_call(n, in, nin, out, nout, err, errlen), axis = 0;
  const RtTensor *x = &in[0];
  if (st != RT_OK || (st = rt_ref_axis(rt_attr_int(n, "axis", 0), x->rank, &axis, err, errlen)))
    return st;
  const int64_t *split;
  int ns = rt_attr_ints(n, "split", &split);
  if (ns >= 0 && ns != nout)
    return rt_ref_fail(err, errlen, RT_ESHAPE, "split has %d sizes, op has %d results", ns, nout);
  int64_t sum = 0, dims[RT_MAX_RANK];
  memcpy(dims, x->dims, sizeof dims);
  for (int r = 0; r < nout; r++) {
    dims[axis] = out[r].rank == x->rank ? out[r].dims[axis] : 0;
    if (ns >= 0 && split[r] != dims[axis])
      return rt_ref_fail(err, errlen, RT_ESHAPE, "result %d has size %lld along axis %d, split "
                     "says %lld", r, (long long)dims[axis], axis, (long long)split[r]);
    if ((st = rt_ref_check_result(&out[r], r, x->rank, dims, err, errlen)) ||
        (st = same_elem(x, &out[r], r, err, errlen)))
      return st;
    sum += dims[axis];
  }
  if (sum != x->dims[axis])
    return rt_ref_fail(err, errlen, RT_ESHAPE, "results sum to %lld along axis %d, the operand has "
                   "%lld", (long long)sum, axis, (long long)x->dims[axis]);
  int64_t outer;
  size_t xbytes, pos = 0;
  slabs(x, axis, &outer, &xbytes);
  for (int r = 0; r < nout; r++) {
    size_t bytes;
    slabs(&out[r], axis, &outer, &bytes);
    for (int64_t o = 0; bytes && o < outer; o++)
      memcpy((char *)out[r].data + (size_t)o * bytes,
             (const char *)x->data + (size_t)o * xbytes + pos, bytes);
    pos += bytes;
  }
  return RT_OK;
}

/* ---- slice ---- */

/* ONNX's clamping of one sliced dimension of size d: start and end count from the end when
 * negative; step > 0 clamps them to [0, d], step < 0 start to [0, d-1] and end to [-1, d-1].
 * Sets *first and returns the length. */
static int64_t slice_dim(int64_t d, int64_t start, int64_t end, int64_t step, int64_t *first) {
  if (start < 0)
    start += d;
  if (end < 0)
    end += d;
  int64_t lo = step > 0 ? 0 : -1, hi = step > 0 ? d : d - 1;
  start = start < 0 ? 0 : start > hi ? hi : start;
  end = end < lo ? lo : end > hi ? hi : end;
  *first = start;
  if ((step > 0 && end <= start) || (step < 0 && start <= end))
    return 0;
  uint64_t span = step > 0 ? (uint64_t)(end - start) : (uint64_t)(start - end);
  uint64_t mag = step > 0 ? (uint64_t)step : (uint64_t)0 - (uint64_t)step;
  return (int64_t)((span - 1) / mag + 1);
}

/* slice: starts and ends (required) on axes (default 0, 1, ...) with steps (default 1, never
 * 0). */
int rt_k_slice(const RtNode *n, const RtTensor *in, int nin, RtTensor *out, int nout, char *err,
               size_t errlen) {
  int st = rt_ref_check_call(n, in, nin, out, nout, err, errlen);
  if (st != RT_OK)
    return st;
  const RtTensor *x = &in[0];
  const int64_t *starts, *ends, *axes = NULL, *steps = NULL;
  int ns = rt_attr_ints(n, "starts", &starts), ne = rt_attr_ints(n, "ends", &ends);
  int na = rt_attr_ints(n, "axes", &axes), nt = rt_attr_ints(n, "steps", &steps);
  if (ns < 0 || ne != ns || (na >= 0 && na != ns) || (nt >= 0 && nt != ns) ||
      (na < 0 && ns > x->rank))
    return rt_ref_fail(err, errlen, RT_ESHAPE, "starts, ends, axes and steps do not match");
  int64_t first[RT_MAX_RANK] = {0}, step[RT_MAX_RANK], dims[RT_MAX_RANK];
  bool seen[RT_MAX_RANK] = {false};
  for (int i = 0; i < x->rank; i++)
    step[i] = 1, dims[i] = x->dims[i];
  for (int i = 0; i < ns; i++) {
    int a = i;
    if (na >= 0 && (st = rt_ref_axis(axes[i], x->rank, &a, err, errlen)))
      return st;
    if (seen[a])
      return rt_ref_fail(err, errlen, RT_ESHAPE, "axis %d is listed twice", a);
    seen[a] = true;
    step[a] = nt >= 0 ? steps[i] : 1;
    if (step[a] == 0)
      return rt_ref_fail(err, errlen, RT_ESHAPE, "steps[%d] is 0", i);
    dims[a] = slice_dim(x->dims[a], starts[i], ends[i], step[a], &first[a]);
  }
  if ((st = rt_ref_check_result(&out[0], 0, x->rank, dims, err, errlen)) ||
      (st = same_elem(x, &out[0], 0, err, errlen)))
    return st;
  int64_t istr[RT_MAX_RANK], idx[RT_MAX_RANK] = {0}, count = rt_tensor_numel(&out[0]);
  size_t size = rt_elem_size(x->elem);
  rt_ref_strides(x, istr);
  for (int64_t i = 0; i < count; i++) {
    int64_t off = 0;
    for (int d = 0; d < x->rank; d++)
      off += (first[d] + idx[d] * step[d]) * istr[d];
    memcpy((char *)out[0].data + (size_t)i * size, (const char *)x->data + (size_t)off * size,
           size);
    next_index(idx, dims, x->rank);
  }
  return RT_OK;
}

/* ---- pad ---- */

typedef enum PadMode { PAD_CONSTANT, PAD_REFLECT, PAD_EDGE, PAD_WRAP } PadMode;

/* The source index for result index o along a dimension of size d padded by `before`, or -1 for
 * the constant value. */
static int64_t pad_source(PadMode mode, int64_t o, int64_t before, int64_t d) {
  int64_t s = o - before;
  if (s >= 0 && s < d)
    return s;
  switch (mode) {
  case PAD_EDGE: return s < 0 ? 0 : d - 1;
  case PAD_WRAP: return ((s % d) + d) % d;
  case PAD_REFLECT: {
    if (d == 1)
      return 0;
    int64_t period = 2 * (d - 1), m = ((s % period) + period) % period;
    return m < d ? m : period - m;
  }
  default: return -1;
  }
}

/* pad: pads holds all begins then all ends (negative ones crop); mode constant (default, with
 * value, default 0), reflect (mirror without the edge), edge (repeat it) or wrap (periodic). */
int rt_k_pad(const RtNode *n, const RtTensor *in, int nin, RtTensor *out, int nout, char *err,
             size_t errlen) {
  int st = rt_ref_check_call(n, in, nin, out, nout, err, errlen);
  if (st != RT_OK)
    return st;
  const RtTensor *x = &in[0];
  const int64_t *pads;
  int np = rt_attr_ints(n, "pads", &pads), r = x->rank;
  if (np != 2 * r)
    return rt_ref_fail(err, errlen, RT_ESHAPE, "pads has %d values, expected %d", np, 2 * r);
  const char *ms = rt_attr_string(n, "mode", "constant");
  static const char *const names[] = {"constant", "reflect", "edge", "wrap"};
  int mode = -1;
  for (int i = 0; i < 4; i++)
    if (strcmp(ms, names[i]) == 0)
      mode = i;
  if (mode < 0)
    return rt_ref_fail(err, errlen, RT_EUNSUPPORTED, "mode \"%s\" is not one of constant, reflect, "
                   "edge, wrap", ms);
  int64_t dims[RT_MAX_RANK];
  for (int i = 0; i < r; i++) {
    if (pads[i] < -INT32_MAX || pads[i] > INT32_MAX || pads[r + i] < -INT32_MAX ||
        pads[r + i] > INT32_MAX)
      return rt_ref_fail(err, errlen, RT_ESHAPE, "pads of dimension %d are out of range", i);
    dims[i] = x->dims[i] + pads[i] + pads[r + i];
    if (dims[i] < 0)
      return rt_ref_fail(err, errlen, RT_ESHAPE, "padding leaves dimension %d negative", i);
    if (mode != PAD_CONSTANT && x->dims[i] == 0 && dims[i] > 0)
      return rt_ref_fail(err, errlen, RT_ESHAPE, "cannot pad the empty dimension %d in mode %s", i,
                     ms);
  }
  if ((st = rt_ref_check_result(&out[0], 0, r, dims, err, errlen)) ||
      (st = same_elem(x, &out[0], 0, err, errlen)))
    return st;
  size_t size = rt_elem_size(x->elem);
  char value[8] = {0}; /* the constant, in the element type */
  rt_ref_put(x->elem, value, 0, rt_attr_float(n, "value", 0.0));
  int64_t istr[RT_MAX_RANK], idx[RT_MAX_RANK] = {0}, count = rt_tensor_numel(&out[0]);
  rt_ref_strides(x, istr);
  for (int64_t i = 0; i < count; i++) {
    int64_t off = 0;
    for (int d = 0; d < r && off >= 0; d++) {
      int64_t s = pad_source((PadMode)mode, idx[d], pads[d], x->dims[d]);
      off = s < 0 ? -1 : off + s * istr[d];
    }
    memcpy((char *)out[0].data + (size_t)i * size,
           off < 0 ? value : (const char *)x->data + (size_t)off * size, size);
    next_index(idx, dims, r);
  }
  return RT_OK;
}

/* ---- gather ---- */

/* gather along axis (default 0): data.shape[:axis] + indices.shape + data.shape[axis+1:];
 * indices (i32 or i64) may be negative (counting from the end); out of range is RT_ERANGE. */
int rt_k_gather(const RtNode *n, const RtTensor *in, int nin, RtTensor *out, int nout, char *err,
                size_t errlen) {
  int st = rt_ref_check_call(n, in, nin, out, nout, err, errlen), axis = 0;
  if (st != RT_OK)
    return st;
  const RtTensor *x = &in[0], *ix = &in[1];
  if (ix->elem != RT_ELEM_I32 && ix->elem != RT_ELEM_I64)
    return rt_ref_fail(err, errlen, RT_EUNSUPPORTED, "indices have element type %s, expected i32 or "
                   "i64", rt_elem_name(ix->elem));
  if ((st = rt_ref_axis(rt_attr_int(n, "axis", 0), x->rank, &axis, err, errlen)))
    return st;
  int rank = x->rank - 1 + ix->rank, k = 0;
  if (rank > RT_MAX_RANK)
    return rt_ref_fail(err, errlen, RT_ESHAPE, "result rank %d is more than %d", rank, RT_MAX_RANK);
  int64_t dims[RT_MAX_RANK], outer = 1, inner = 1, d = x->dims[axis];
  for (int i = 0; i < axis; i++)
    outer *= dims[k++] = x->dims[i];
  for (int i = 0; i < ix->rank; i++)
    dims[k++] = ix->dims[i];
  for (int i = axis + 1; i < x->rank; i++)
    inner *= dims[k++] = x->dims[i];
  if ((st = rt_ref_check_result(&out[0], 0, rank, dims, err, errlen)) ||
      (st = same_elem(x, &out[0], 0, err, errlen)))
    return st;
  int64_t nidx = rt_tensor_numel(ix);
  for (int64_t j = 0; j < nidx; j++) {
    int64_t v = rt_ref_geti(ix->elem, ix->data, j);
    if (v < -d || v >= d)
      return rt_ref_fail(err, errlen, RT_ERANGE, "index %lld is out of range for dimension %d of "
                     "size %lld", (long long)v, axis, (long long)d);
  }
  size_t bytes = (size_t)inner * rt_elem_size(x->elem);
  for (int64_t o = 0; bytes && o < outer; o++)
    for (int64_t j = 0; j < nidx; j++) {
      int64_t v = rt_ref_geti(ix->elem, ix->data, j);
      v = v < 0 ? v + d : v;
      memcpy((char *)out[0].data + (size_t)(o * nidx + j) * bytes,
             (const char *)x->data + (size_t)(o * d + v) * bytes, bytes);
    }
  return RT_OK;
}
