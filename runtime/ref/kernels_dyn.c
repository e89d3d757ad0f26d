/* kernels_dyn.c - the shape computations (shape, size, constant_of_shape, range) and the
 * broadcasting copies expand and tile. Data movement works for every element type by element
 * size. The operand form of ops (extra operands for attributes) is resolved by the caller
 * (passes/interp.c): kernels see the attribute form. */
#include <math.h>
#include <string.h>

#include "kernels.h"

/* shape: operand 0's dims[start:end] as i64. */
int rt_k_shape(const RtNode *n, const RtTensor *in, int nin, RtTensor *out, int nout, char *err,
               size_t errlen) {
  int st = rt_ref_check_call(n, in, nin, out, nout, err, errlen);
  if (st != RT_OK)
    return st;
  int64_t r = in[0].rank, s = rt_attr_int(n, "start", 0), e = rt_attr_int(n, "end", r);
  s = s < 0 ? s + r : s, e = e < 0 ? e + r : e;
  s = s < 0 ? 0 : s > r ? r : s;
  e = e < 0 ? 0 : e > r ? r : e;
  int64_t len = e > s ? e - s : 0;
  if ((st = rt_ref_check_result(&out[0], 0, 1, &len, err, errlen)))
    return st;
  if (out[0].elem != RT_ELEM_I64)
    return rt_ref_fail(err, errlen, RT_EUNSUPPORTED, "result 0 has element type %s, expected i64",
                       rt_elem_name(out[0].elem));
  for (int64_t i = 0; i < len; i++)
    rt_ref_puti(RT_ELEM_I64, out[0].data, i, in[0].dims[s + i]);
  return RT_OK;
}

/* size: operand 0's element count as an i64 scalar. */
int rt_k_size(const RtNode *n, const RtTensor *in, int nin, RtTensor *out, int nout, char *err,
              size_t errlen) {
  int st = rt_ref_check_call(n, in, nin, out, nout, err, errlen);
  if (st != RT_OK || (st = rt_ref_check_result(&out[0], 0, 0, NULL, err, errlen)))
    return st;
  if (out[0].elem != RT_ELEM_I64)
    return rt_ref_fail(err, errlen, RT_EUNSUPPORTED, "result 0 has element type %s, expected i64",
                       rt_elem_name(out[0].elem));
  rt_ref_puti(RT_ELEM_I64, out[0].data, 0, rt_tensor_numel(&in[0]));
  return RT_OK;
}

/* constant_of_shape: every element is `value` (one element; absent: f32 0). */
int rt_k_constant_of_shape(const RtNode *n, const RtTensor *in, int nin, RtTensor *out, int nout,
                           char *err, size_t errlen) {
  int st = rt_ref_check_call(n, in, nin, out, nout, err, errlen);
  if (st != RT_OK)
    return st;
  const int64_t *shape;
  int ns = rt_attr_ints(n, "shape", &shape);
  if (ns < 0)
    return rt_ref_fail(err, errlen, RT_EUNSUPPORTED, "shape is required");
  if ((st = rt_ref_check_result(&out[0], 0, ns, shape, err, errlen)))
    return st;
  const RtAttr *v = rt_attr(n, "value");
  RtElem e = RT_ELEM_F32;
  const void *src = NULL;
  float zero = 0;
  if (v && v->kind == RT_ATTR_TENSOR) {
    if (rt_tensor_numel(v->tensor) != 1)
      return rt_ref_fail(err, errlen, RT_ESHAPE, "value has %lld elements, expected 1",
                         (long long)rt_tensor_numel(v->tensor));
    e = v->tensor->elem;
    src = v->tensor->data;
  } else {
    src = &zero;
  }
  if (out[0].elem != e)
    return rt_ref_fail(err, errlen, RT_EUNSUPPORTED, "result 0 has element type %s, expected %s",
                       rt_elem_name(out[0].elem), rt_elem_name(e));
  size_t sz = rt_elem_size(e);
  int64_t cnt = rt_tensor_numel(&out[0]);
  for (int64_t i = 0; i < cnt; i++)
    memcpy((char *)out[0].data + (size_t)i * sz, src, sz);
  return RT_OK;
}

/* range: start + i * delta for i < max(ceil((limit - start) / delta), 0). */
int rt_k_range(const RtNode *n, const RtTensor *in, int nin, RtTensor *out, int nout, char *err,
               size_t errlen) {
  int st = rt_ref_check_call(n, in, nin, out, nout, err, errlen);
  if (st != RT_OK)
    return st;
  RtElem e = in[0].elem;
  for (int i = 0; i < 3; i++) {
    if (in[i].elem != e || rt_tensor_numel(&in[i]) != 1)
      return rt_ref_fail(err, errlen, RT_ESHAPE, "operand %d is not a scalar of type %s", i,
                         rt_elem_name(e));
  }
  if (out[0].elem != e)
    return rt_ref_fail(err, errlen, RT_EUNSUPPORTED, "result 0 has element type %s, expected %s",
                       rt_elem_name(out[0].elem), rt_elem_name(e));
  if (rt_elem_is_int(e)) {
    int64_t s = rt_ref_geti(e, in[0].data, 0), l = rt_ref_geti(e, in[1].data, 0);
    int64_t d = rt_ref_geti(e, in[2].data, 0);
    if (d == 0)
      return rt_ref_fail(err, errlen, RT_ESHAPE, "delta is 0");
    int64_t cnt = (l - s) / d + (((l - s) % d) != 0 && ((l - s) > 0) == (d > 0));
    cnt = cnt > 0 ? cnt : 0;
    if ((st = rt_ref_check_result(&out[0], 0, 1, &cnt, err, errlen)))
      return st;
    for (int64_t i = 0; i < cnt; i++)
      rt_ref_puti(e, out[0].data, i, s + i * d);
    return RT_OK;
  }
  if (!rt_elem_is_float(e))
    return rt_ref_unsupported(e, err, errlen);
  double s = rt_ref_get(e, in[0].data, 0), l = rt_ref_get(e, in[1].data, 0);
  double d = rt_ref_get(e, in[2].data, 0);
  if (d == 0)
    return rt_ref_fail(err, errlen, RT_ESHAPE, "delta is 0");
  double c = ceil((l - s) / d);
  int64_t cnt = c > 0 ? (int64_t)c : 0;
  if ((st = rt_ref_check_result(&out[0], 0, 1, &cnt, err, errlen)))
    return st;
  for (int64_t i = 0; i < cnt; i++)
    rt_ref_put(e, out[0].data, i, s + (double)i * d);
  return RT_OK;
}

/* Copies out[k] = x[src(k)] where each result index maps to x's index by map(dim, index). */
static int copy_mapped(const RtTensor *x, RtTensor *y, bool tile, char *err, size_t errlen) {
  if (x->elem != y->elem)
    return rt_ref_fail(err, errlen, RT_EUNSUPPORTED, "result 0 has element type %s, expected %s",
                       rt_elem_name(y->elem), rt_elem_name(x->elem));
  int off = y->rank - x->rank;
  if (off < 0)
    return rt_ref_fail(err, errlen, RT_ESHAPE, "result rank %d is below operand rank %d",
                       y->rank, x->rank);
  for (int d = 0; d < x->rank; d++) {
    int64_t xd = x->dims[d], yd = y->dims[d + off];
    bool ok = tile ? (xd == 0 ? yd == 0 : yd % xd == 0) : (xd == yd || xd == 1);
    if (!ok)
      return rt_ref_fail(err, errlen, RT_ESHAPE, "operand dimension %d (%lld) does not map to "
                         "result dimension %d (%lld)", d, (long long)xd, d + off, (long long)yd);
  }
  int64_t cnt = rt_tensor_numel(y), idx[RT_MAX_RANK] = {0}, xs[RT_MAX_RANK];
  rt_ref_strides(x, xs);
  size_t sz = rt_elem_size(x->elem);
  for (int64_t k = 0; k < cnt; k++) {
    int64_t src = 0;
    for (int d = 0; d < x->rank; d++) {
      int64_t i = idx[d + off];
      src += (tile ? i % x->dims[d] : (x->dims[d] == 1 ? 0 : i)) * xs[d];
    }
    memcpy((char *)y->data + (size_t)k * sz, (const char *)x->data + (size_t)src * sz, sz);
    for (int d = y->rank - 1; d >= 0; d--) {
      if (++idx[d] < y->dims[d])
        break;
      idx[d] = 0;
    }
  }
  return RT_OK;
}

/* expand: operand 0 broadcast to the result shape (shape inference applied `shape`). */
int rt_k_expand(const RtNode *n, const RtTensor *in, int nin, RtTensor *out, int nout, char *err,
                size_t errlen) {
  int st = rt_ref_check_call(n, in, nin, out, nout, err, errlen);
  if (st != RT_OK)
    return st;
  if (nin != 1)
    return rt_ref_fail(err, errlen, RT_EUNSUPPORTED, "shape as an operand is not supported");
  return copy_mapped(&in[0], &out[0], false, err, errlen);
}

/* tile: operand 0 repeated `repeats[d]` times along each dimension d. */
int rt_k_tile(const RtNode *n, const RtTensor *in, int nin, RtTensor *out, int nout, char *err,
              size_t errlen) {
  int st = rt_ref_check_call(n, in, nin, out, nout, err, errlen);
  if (st != RT_OK)
    return st;
  if (nin != 1)
    return rt_ref_fail(err, errlen, RT_EUNSUPPORTED, "repeats as an operand is not supported");
  const int64_t *rep;
  int nr = rt_attr_ints(n, "repeats", &rep);
  if (nr != in[0].rank)
    return rt_ref_fail(err, errlen, RT_ESHAPE, "repeats has %d values for rank %d", nr,
                       in[0].rank);
  int64_t dims[RT_MAX_RANK];
  for (int d = 0; d < nr; d++)
    dims[d] = in[0].dims[d] * rep[d];
  if ((st = rt_ref_check_result(&out[0], 0, nr, dims, err, errlen)))
    return st;
  return copy_mapped(&in[0], &out[0], true, err, errlen);
}
