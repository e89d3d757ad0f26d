/* kernels_index.c - the indexing ops: gather_elements, gather_nd, scatter_elements, scatter_nd,
 * depth_to_space, space_to_depth, trilu, one_hot and top_k move data (every element type, by
 * element size); cum_sum, sum, mean, variadic max and min, and the scatter reductions compute
 * (floats in double, integers in int64 with wrapping). Indices (i32 or i64) may be negative
 * (counting from the end); out of range is RT_ERANGE, checked before anything is read through
 * them. non_zero and non_max_suppression are in kernels_data_shape.c. */
#include <stdlib.h>
#include <string.h>

#include "kernels.h"

static int same_elem(const RtTensor *x, const RtTensor *y, int r, char *err, size_t errlen) {
  if (x->elem == y->elem)
    return RT_OK;
  return rt_ref_fail(err, errlen, RT_EUNSUPPORTED, "result %d has element type %s, expected %s", r,
                     rt_elem_name(y->elem), rt_elem_name(x->elem));
}

static int index_elem(const RtTensor *ix, char *err, size_t errlen) {
  if (ix->elem == RT_ELEM_I32 || ix->elem == RT_ELEM_I64)
    return RT_OK;
  return rt_ref_fail(err, errlen, RT_EUNSUPPORTED, "indices have element type %s, expected i32 "
                     "or i64", rt_elem_name(ix->elem));
}

/* Index j of ix, checked against a dimension of size d and made non-negative. */
static int get_index(const RtTensor *ix, int64_t j, int64_t d, int dim, int64_t *out, char *err,
                     size_t errlen) {
  int64_t v = rt_ref_geti(ix->elem, ix->data, j);
  if (v < -d || v >= d)
    return rt_ref_fail(err, errlen, RT_ERANGE, "index %lld is out of range for dimension %d of "
                       "size %lld", (long long)v, dim, (long long)d);
  *out = v < 0 ? v + d : v;
  return RT_OK;
}

static bool next_index(int64_t *idx, const int64_t *dims, int rank) {
  for (int d = rank - 1; d >= 0; d--) {
    if (++idx[d] < dims[d])
      return true;
    idx[d] = 0;
  }
  return false;
}

static void copy_elem(void *dst, int64_t di, const void *src, int64_t si, size_t es) {
  memcpy((char *)dst + (size_t)di * es, (const char *)src + (size_t)si * es, es);
}

/* ---- gather_elements, scatter_elements ---- */

/* The indices' shape fits data's (same rank; no larger off axis). */
static int check_elements_shape(const RtTensor *x, const RtTensor *ix, int axis, char *err,
                                size_t errlen) {
  if (ix->rank != x->rank)
    return rt_ref_fail(err, errlen, RT_ESHAPE, "indices have rank %d, expected %d", ix->rank,
                       x->rank);
  for (int i = 0; i < x->rank; i++)
    if (i != axis && ix->dims[i] > x->dims[i])
      return rt_ref_fail(err, errlen, RT_ESHAPE, "indices dimension %d is %lld, larger than the "
                         "data's %lld", i, (long long)ix->dims[i], (long long)x->dims[i]);
  return RT_OK;
}

/* Offset into x of the element at position pos of the indices, with index v along axis. */
static int64_t elements_offset(const int64_t *xstr, const int64_t *pos, int rank, int axis,
                               int64_t v) {
  int64_t off = 0;
  for (int i = 0; i < rank; i++)
    off += (i == axis ? v : pos[i]) * xstr[i];
  return off;
}

int rt_k_gather_elements(const RtNode *n, const RtTensor *in, int nin, RtTensor *out, int nout,
                         char *err, size_t errlen) {
  int st = rt_ref_check_call(n, in, nin, out, nout, err, errlen), axis = 0;
  if (st != RT_OK)
    return st;
  const RtTensor *x = &in[0], *ix = &in[1];
  if ((st = index_elem(ix, err, errlen)) ||
      (st = rt_ref_axis(rt_attr_int(n, "axis", 0), x->rank, &axis, err, errlen)) ||
      (st = check_elements_shape(x, ix, axis, err, errlen)) ||
      (st = rt_ref_check_result(&out[0], 0, ix->rank, ix->dims, err, errlen)) ||
      (st = same_elem(x, &out[0], 0, err, errlen)))
    return st;
  int64_t xstr[RT_MAX_RANK], pos[RT_MAX_RANK] = {0}, count = rt_tensor_numel(ix);
  rt_ref_strides(x, xstr);
  size_t es = rt_elem_size(x->elem);
  for (int64_t j = 0; j < count; j++, next_index(pos, ix->dims, ix->rank)) {
    int64_t v = 0;
    if ((st = get_index(ix, j, x->dims[axis], axis, &v, err, errlen)))
      return st;
    copy_elem(out[0].data, j, x->data, elements_offset(xstr, pos, x->rank, axis, v), es);
  }
  return RT_OK;
}

typedef enum Reduction { RED_NONE, RED_ADD, RED_MUL, RED_MAX, RED_MIN } Reduction;

static int read_reduction(const RtNode *n, const RtTensor *x, Reduction *r, char *err,
                          size_t errlen) {
  static const char *const names[] = {"none", "add", "mul", "max", "min"};
  const char *s = rt_attr_string(n, "reduction", "none");
  for (int i = 0; i < 5; i++)
    if (!strcmp(s, names[i])) {
      *r = (Reduction)i;
      if (i != RED_NONE && !rt_elem_is_float(x->elem) && !rt_elem_is_int(x->elem))
        return rt_ref_unsupported(x->elem, err, errlen);
      return RT_OK;
    }
  return rt_ref_fail(err, errlen, RT_EUNSUPPORTED, "reduction \"%s\" is not one of none, add, "
                     "mul, max, min", s);
}

/* y[yi] = y[yi] (r) u[ui]. */
static void apply_update(Reduction r, RtElem e, void *y, int64_t yi, const void *u, int64_t ui) {
  if (r == RED_NONE) {
    copy_elem(y, yi, u, ui, rt_elem_size(e));
  } else if (rt_elem_is_float(e)) {
    double a = rt_ref_get(e, y, yi), b = rt_ref_get(e, u, ui);
    double v = r == RED_ADD ? a + b : r == RED_MUL ? a * b : r == RED_MAX ? (a > b ? a : b)
                                                                          : (a < b ? a : b);
    rt_ref_put(e, y, yi, v);
  } else {
    int64_t a = rt_ref_geti(e, y, yi), b = rt_ref_geti(e, u, ui), v;
    bool uns = rt_elem_is_unsigned(e);
    bool gt = uns ? (uint64_t)a > (uint64_t)b : a > b;
    if (r == RED_ADD)
      v = (int64_t)((uint64_t)a + (uint64_t)b);
    else if (r == RED_MUL)
      v = (int64_t)((uint64_t)a * (uint64_t)b);
    else
      v = (r == RED_MAX) == gt ? a : b;
    rt_ref_puti(e, y, yi, v);
  }
}

/* Copies data into the result (the starting point of the scatter ops). */
static void copy_data(const RtTensor *x, RtTensor *y) {
  int64_t count = rt_tensor_numel(x);
  if (count && y->data != x->data)
    memmove(y->data, x->data, (size_t)count * rt_elem_size(x->elem));
}

int rt_k_scatter_elements(const RtNode *n, const RtTensor *in, int nin, RtTensor *out, int nout,
                          char *err, size_t errlen) {
  int st = rt_ref_check_call(n, in, nin, out, nout, err, errlen), axis = 0;
  if (st != RT_OK)
    return st;
  const RtTensor *x = &in[0], *ix = &in[1], *u = &in[2];
  Reduction r;
  if ((st = index_elem(ix, err, errlen)) || (st = read_reduction(n, x, &r, err, errlen)) ||
      (st = rt_ref_axis(rt_attr_int(n, "axis", 0), x->rank, &axis, err, errlen)) ||
      (st = check_elements_shape(x, ix, axis, err, errlen)) ||
      (st = rt_ref_check_result(&out[0], 0, x->rank, x->dims, err, errlen)) ||
      (st = same_elem(x, u, 2, err, errlen)) || (st = same_elem(x, &out[0], 0, err, errlen)))
    return st;
  bool same = u->rank == ix->rank;
  for (int i = 0; same && i < u->rank; i++)
    same = u->dims[i] == ix->dims[i];
  if (!same)
    return rt_ref_fail(err, errlen, RT_ESHAPE, "updates do not have the indices' shape");
  int64_t xstr[RT_MAX_RANK], pos[RT_MAX_RANK] = {0}, count = rt_tensor_numel(ix), v = 0;
  rt_ref_strides(x, xstr);
  for (int64_t j = 0; j < count; j++)
    if ((st = get_index(ix, j, x->dims[axis], axis, &v, err, errlen)))
      return st;
  copy_data(x, &out[0]);
  for (int64_t j = 0; j < count; j++, next_index(pos, ix->dims, ix->rank)) {
    get_index(ix, j, x->dims[axis], axis, &v, err, errlen);
    apply_update(r, x->elem, out[0].data, elements_offset(xstr, pos, x->rank, axis, v), u->data,
                 j);
  }
  return RT_OK;
}

/* ---- gather_nd, scatter_nd ---- */

/* Offset (in elements of x) of the slice that index tuple t of ix addresses, starting at data
 * dimension first with L = the last indices dimension. */
static int nd_offset(const RtTensor *x, const int64_t *xstr, const RtTensor *ix, int64_t t,
                     int first, int64_t *off, char *err, size_t errlen) {
  int64_t L = ix->dims[ix->rank - 1], o = 0;
  for (int64_t j = 0; j < L; j++) {
    int64_t v = 0;
    int d = first + (int)j, st = get_index(ix, t * L + j, x->dims[d], d, &v, err, errlen);
    if (st)
      return st;
    o += v * xstr[d];
  }
  *off = o;
  return RT_OK;
}

int rt_k_gather_nd(const RtNode *n, const RtTensor *in, int nin, RtTensor *out, int nout,
                   char *err, size_t errlen) {
  int st = rt_ref_check_call(n, in, nin, out, nout, err, errlen);
  if (st != RT_OK)
    return st;
  const RtTensor *x = &in[0], *ix = &in[1];
  int64_t b = rt_attr_int(n, "batch_dims", 0);
  if ((st = index_elem(ix, err, errlen)))
    return st;
  if (x->rank < 1 || ix->rank < 1 || b < 0 || b >= x->rank || b >= ix->rank)
    return rt_ref_fail(err, errlen, RT_ESHAPE, "batch_dims %lld does not fit ranks %d and %d",
                       (long long)b, x->rank, ix->rank);
  int64_t L = ix->dims[ix->rank - 1];
  if (L < 1 || L > x->rank - b)
    return rt_ref_fail(err, errlen, RT_ESHAPE, "the last indices dimension is %lld, expected 1 "
                       "to %lld", (long long)L, (long long)(x->rank - b));
  int64_t dims[2 * RT_MAX_RANK], B = 1, M = 1, S = 1;
  int k = 0;
  for (int i = 0; i < b; i++) {
    if (x->dims[i] != ix->dims[i])
      return rt_ref_fail(err, errlen, RT_ESHAPE, "batch dimension %d differs: %lld and %lld", i,
                         (long long)x->dims[i], (long long)ix->dims[i]);
    B *= x->dims[i];
  }
  for (int i = 0; i < ix->rank - 1; i++) {
    dims[k++] = ix->dims[i];
    if (i >= b)
      M *= ix->dims[i];
  }
  for (int64_t i = b + L; i < x->rank; i++)
    S *= dims[k++] = x->dims[i];
  if (k > RT_MAX_RANK)
    return rt_ref_fail(err, errlen, RT_ESHAPE, "result rank %d is more than %d", k, RT_MAX_RANK);
  if ((st = rt_ref_check_result(&out[0], 0, k, dims, err, errlen)) ||
      (st = same_elem(x, &out[0], 0, err, errlen)))
    return st;
  int64_t xstr[RT_MAX_RANK];
  rt_ref_strides(x, xstr);
  int64_t bstride = b > 0 ? xstr[b - 1] : 0;
  size_t es = rt_elem_size(x->elem);
  for (int64_t bi = 0; bi < B; bi++)
    for (int64_t mi = 0; mi < M; mi++) {
      int64_t off = 0;
      if ((st = nd_offset(x, xstr, ix, bi * M + mi, (int)b, &off, err, errlen)))
        return st;
      if (S)
        memcpy((char *)out[0].data + (size_t)((bi * M + mi) * S) * es,
               (const char *)x->data + (size_t)(bi * bstride + off) * es, (size_t)S * es);
    }
  return RT_OK;
}

int rt_k_scatter_nd(const RtNode *n, const RtTensor *in, int nin, RtTensor *out, int nout,
                    char *err, size_t errlen) {
  int st = rt_ref_check_call(n, in, nin, out, nout, err, errlen);
  if (st != RT_OK)
    return st;
  const RtTensor *x = &in[0], *ix = &in[1], *u = &in[2];
  Reduction r;
  if ((st = index_elem(ix, err, errlen)) || (st = read_reduction(n, x, &r, err, errlen)) ||
      (st = same_elem(x, u, 2, err, errlen)) || (st = same_elem(x, &out[0], 0, err, errlen)) ||
      (st = rt_ref_check_result(&out[0], 0, x->rank, x->dims, err, errlen)))
    return st;
  if (x->rank < 1 || ix->rank < 1)
    return rt_ref_fail(err, errlen, RT_ESHAPE, "data and indices need rank 1 or more");
  int64_t L = ix->dims[ix->rank - 1];
  if (L < 1 || L > x->rank)
    return rt_ref_fail(err, errlen, RT_ESHAPE, "the last indices dimension is %lld, expected 1 "
                       "to %d", (long long)L, x->rank);
  int64_t dims[2 * RT_MAX_RANK], M = 1, S = 1;
  int k = 0;
  for (int i = 0; i < ix->rank - 1; i++)
    M *= dims[k++] = ix->dims[i];
  for (int64_t i = L; i < x->rank; i++)
    S *= dims[k++] = x->dims[i];
  bool same = u->rank == k;
  for (int i = 0; same && i < k; i++)
    same = u->dims[i] == dims[i];
  if (!same) {
    char want[128];
    return rt_ref_fail(err, errlen, RT_ESHAPE, "updates do not have the shape %s",
                       rt_ref_dims_text(dims, k, want, sizeof want));
  }
  int64_t xstr[RT_MAX_RANK], off = 0;
  rt_ref_strides(x, xstr);
  for (int64_t mi = 0; mi < M; mi++)
    if ((st = nd_offset(x, xstr, ix, mi, 0, &off, err, errlen)))
      return st;
  copy_data(x, &out[0]);
  for (int64_t mi = 0; mi < M; mi++) {
    nd_offset(x, xstr, ix, mi, 0, &off, err, errlen);
    for (int64_t s = 0; s < S; s++)
      apply_update(r, x->elem, out[0].data, off + s, u->data, mi * S + s);
  }
  return RT_OK;
}

/* ---- depth_to_space, space_to_depth ---- */

int rt_k_depth_space(const RtNode *n, const RtTensor *in, int nin, RtTensor *out, int nout,
                     char *err, size_t errlen) {
  int st = rt_ref_check_call(n, in, nin, out, nout, err, errlen);
  if (st != RT_OK)
    return st;
  const RtTensor *x = &in[0];
  int64_t b = rt_attr_int(n, "blocksize", 0);
  if (b < 1 || b > 65536)
    return rt_ref_fail(err, errlen, RT_ESHAPE, "blocksize is %lld, expected 1 to 65536",
                       (long long)b);
  if (x->rank != 4)
    return rt_ref_fail(err, errlen, RT_ESHAPE, "operand 0 has rank %d, expected 4", x->rank);
  bool d2s = n->op == OP_DEPTH_TO_SPACE;
  const char *mode = rt_attr_string(n, "mode", "DCR");
  bool crd = d2s && !strcmp(mode, "CRD");
  if (d2s && !crd && strcmp(mode, "DCR"))
    return rt_ref_fail(err, errlen, RT_EUNSUPPORTED, "mode \"%s\" is not one of DCR, CRD", mode);
  /* In the depth_to_space view: the deep tensor D [N, C*b*b, H, W], the spatial S [N, C, H*b,
   * W*b]. */
  int64_t N = x->dims[0], C, H, W;
  if (d2s) {
    if (x->dims[1] % (b * b))
      return rt_ref_fail(err, errlen, RT_ESHAPE, "channels %lld are not a multiple of %lld",
                         (long long)x->dims[1], (long long)(b * b));
    C = x->dims[1] / (b * b), H = x->dims[2], W = x->dims[3];
  } else {
    if (x->dims[2] % b || x->dims[3] % b)
      return rt_ref_fail(err, errlen, RT_ESHAPE, "height %lld and width %lld are not multiples "
                         "of %lld", (long long)x->dims[2], (long long)x->dims[3], (long long)b);
    C = x->dims[1], H = x->dims[2] / b, W = x->dims[3] / b;
  }
  int64_t want[4] = {N, d2s ? C : C * b * b, d2s ? H * b : H, d2s ? W * b : W};
  if ((st = rt_ref_check_result(&out[0], 0, 4, want, err, errlen)) ||
      (st = same_elem(x, &out[0], 0, err, errlen)))
    return st;
  size_t es = rt_elem_size(x->elem);
  for (int64_t ni = 0; ni < N; ni++)
    for (int64_t c = 0; c < C; c++)
      for (int64_t h = 0; h < H; h++)
        for (int64_t i = 0; i < b; i++)
          for (int64_t w = 0; w < W; w++)
            for (int64_t j = 0; j < b; j++) {
              int64_t dc = crd ? c * b * b + i * b + j : (i * b + j) * C + c;
              int64_t di = ((ni * C * b * b + dc) * H + h) * W + w;
              int64_t si = ((ni * C + c) * H * b + h * b + i) * W * b + w * b + j;
              if (d2s)
                copy_elem(out[0].data, si, x->data, di, es);
              else
                copy_elem(out[0].data, di, x->data, si, es);
            }
  return RT_OK;
}

/* ---- trilu ---- */

int rt_k_trilu(const RtNode *n, const RtTensor *in, int nin, RtTensor *out, int nout, char *err,
               size_t errlen) {
  int st = rt_ref_check_call(n, in, nin, out, nout, err, errlen);
  if (st != RT_OK)
    return st;
  const RtTensor *x = &in[0];
  if (x->rank < 2)
    return rt_ref_fail(err, errlen, RT_ESHAPE, "operand 0 has rank %d, expected 2 or more",
                       x->rank);
  if ((st = rt_ref_check_result(&out[0], 0, x->rank, x->dims, err, errlen)) ||
      (st = same_elem(x, &out[0], 0, err, errlen)))
    return st;
  bool upper = rt_attr_int(n, "upper", 1) != 0;
  int64_t k = rt_attr_int(n, "k", 0), R = x->dims[x->rank - 2], C = x->dims[x->rank - 1];
  int64_t count = rt_tensor_numel(x);
  size_t es = rt_elem_size(x->elem);
  for (int64_t e = 0; e < count; e++) {
    int64_t col = e % C, row = (e / C) % R;
    bool keep = upper ? col - row >= k : col - row <= k;
    if (keep)
      copy_elem(out[0].data, e, x->data, e, es);
    else
      memset((char *)out[0].data + (size_t)e * es, 0, es);
  }
  return RT_OK;
}

/* ---- cum_sum ---- */

int rt_k_cum_sum(const RtNode *n, const RtTensor *in, int nin, RtTensor *out, int nout,
                 char *err, size_t errlen) {
  int st = rt_ref_check_call(n, in, nin, out, nout, err, errlen), axis = 0;
  if (st != RT_OK)
    return st;
  const RtTensor *x = &in[0];
  if (!rt_attr(n, "axis"))
    return rt_ref_fail(err, errlen, RT_ESHAPE, "axis is required");
  if ((st = rt_ref_axis(rt_attr_int(n, "axis", 0), x->rank, &axis, err, errlen)) ||
      (st = rt_ref_check_result(&out[0], 0, x->rank, x->dims, err, errlen)) ||
      (st = same_elem(x, &out[0], 0, err, errlen)))
    return st;
  bool fl = rt_elem_is_float(x->elem);
  if (!fl && !rt_elem_is_int(x->elem))
    return rt_ref_unsupported(x->elem, err, errlen);
  if (x->quantized)
    return rt_ref_quantized(0, err, errlen);
  bool excl = rt_attr_int(n, "exclusive", 0) != 0, rev = rt_attr_int(n, "reverse", 0) != 0;
  int64_t outer = 1, inner = 1, d = x->dims[axis];
  for (int i = 0; i < axis; i++)
    outer *= x->dims[i];
  for (int i = axis + 1; i < x->rank; i++)
    inner *= x->dims[i];
  for (int64_t o = 0; o < outer; o++)
    for (int64_t in_ = 0; in_ < inner; in_++) {
      double fs = 0;
      int64_t is = 0;
      for (int64_t t = 0; t < d; t++) {
        int64_t j = rev ? d - 1 - t : t, e = (o * d + j) * inner + in_;
        double fv = fl ? rt_ref_get(x->elem, x->data, e) : 0;
        int64_t iv = fl ? 0 : rt_ref_geti(x->elem, x->data, e);
        if (!excl) {
          fs += fv;
          is = (int64_t)((uint64_t)is + (uint64_t)iv);
        }
        if (fl)
          rt_ref_put(x->elem, out[0].data, e, fs);
        else
          rt_ref_puti(x->elem, out[0].data, e, is);
        if (excl) {
          fs += fv;
          is = (int64_t)((uint64_t)is + (uint64_t)iv);
        }
      }
    }
  return RT_OK;
}

/* ---- one_hot ---- */

/* Indices outside [-depth, depth) give a row of off values (ONNX). */
int rt_k_one_hot(const RtNode *n, const RtTensor *in, int nin, RtTensor *out, int nout,
                 char *err, size_t errlen) {
  int st = rt_ref_check_call(n, in, nin, out, nout, err, errlen), axis = 0;
  if (st != RT_OK)
    return st;
  const RtTensor *ix = &in[0], *v = &in[1];
  int64_t depth = rt_attr_int(n, "depth", 0);
  if (depth < 1)
    return rt_ref_fail(err, errlen, RT_ESHAPE, "depth is %lld, expected at least 1",
                       (long long)depth);
  if (v->rank != 1 || v->dims[0] != 2)
    return rt_ref_fail(err, errlen, RT_ESHAPE, "the values are not 2 elements [off, on]");
  if (!rt_elem_is_float(ix->elem) && !rt_elem_is_int(ix->elem))
    return rt_ref_unsupported(ix->elem, err, errlen);
  if (ix->rank + 1 > RT_MAX_RANK)
    return rt_ref_fail(err, errlen, RT_ESHAPE, "result rank %d is more than %d", ix->rank + 1,
                       RT_MAX_RANK);
  if ((st = rt_ref_axis(rt_attr_int(n, "axis", -1), ix->rank + 1, &axis, err, errlen)))
    return st;
  int64_t dims[RT_MAX_RANK], outer = 1, inner = 1;
  for (int i = 0, k = 0; i <= ix->rank; i++)
    dims[i] = i == axis ? depth : ix->dims[k++];
  for (int i = 0; i < axis; i++)
    outer *= ix->dims[i];
  for (int i = axis; i < ix->rank; i++)
    inner *= ix->dims[i];
  if ((st = rt_ref_check_result(&out[0], 0, ix->rank + 1, dims, err, errlen)) ||
      (st = same_elem(v, &out[0], 0, err, errlen)))
    return st;
  size_t es = rt_elem_size(v->elem);
  for (int64_t o = 0; o < outer; o++)
    for (int64_t t = 0; t < inner; t++) {
      int64_t e = o * inner + t, hot;
      if (rt_elem_is_float(ix->elem)) {
        double f = rt_ref_get(ix->elem, ix->data, e);
        hot = f >= -(double)depth && f < (double)depth ? (int64_t)f : depth;
      } else {
        hot = rt_ref_geti(ix->elem, ix->data, e);
        if (rt_elem_is_unsigned(ix->elem) && hot < 0)
          hot = depth;
      }
      if (hot < 0 && hot >= -depth)
        hot += depth;
      for (int64_t d = 0; d < depth; d++)
        copy_elem(out[0].data, (o * depth + d) * inner + t, v->data, d == hot ? 1 : 0, es);
    }
  return RT_OK;
}

/* ---- top_k ---- */

typedef struct TopKey {
  double f;
  int64_t i;
  int64_t pos;
} TopKey;

/* Whether a comes before b: larger (or smaller) first, NaN as the largest, ties by lower
 * position. */
static bool key_before(const TopKey *a, const TopKey *b, bool fl, bool uns, bool largest) {
  int c;
  if (fl) {
    bool an = a->f != a->f, bn = b->f != b->f;
    c = an || bn ? (an && bn ? 0 : an ? 1 : -1) : a->f > b->f ? 1 : a->f < b->f ? -1 : 0;
  } else if (uns) {
    c = (uint64_t)a->i > (uint64_t)b->i ? 1 : (uint64_t)a->i < (uint64_t)b->i ? -1 : 0;
  } else {
    c = a->i > b->i ? 1 : a->i < b->i ? -1 : 0;
  }
  if (c)
    return largest ? c > 0 : c < 0;
  return a->pos < b->pos;
}

static void merge_sort(TopKey *v, TopKey *tmp, int64_t n, bool fl, bool uns, bool largest) {
  if (n < 2)
    return;
  int64_t h = n / 2, i = 0, j = h, k = 0;
  merge_sort(v, tmp, h, fl, uns, largest);
  merge_sort(v + h, tmp, n - h, fl, uns, largest);
  while (i < h && j < n)
    tmp[k++] = key_before(&v[j], &v[i], fl, uns, largest) ? v[j++] : v[i++];
  while (i < h)
    tmp[k++] = v[i++];
  while (j < n)
    tmp[k++] = v[j++];
  memcpy(v, tmp, sizeof *v * (size_t)n);
}

int rt_k_top_k(const RtNode *n, const RtTensor *in, int nin, RtTensor *out, int nout, char *err,
               size_t errlen) {
  int st = rt_ref_check_call(n, in, nin, out, nout, err, errlen), axis = 0;
  if (st != RT_OK)
    return st;
  const RtTensor *x = &in[0];
  if ((st = rt_ref_axis(rt_attr_int(n, "axis", -1), x->rank, &axis, err, errlen)))
    return st;
  int64_t k = rt_attr_int(n, "k", -1), d = x->dims[axis];
  if (k < 0 || k > d)
    return rt_ref_fail(err, errlen, RT_ESHAPE, "k is %lld, expected 0 to %lld", (long long)k,
                       (long long)d);
  bool fl = rt_elem_is_float(x->elem);
  if (!fl && !rt_elem_is_int(x->elem))
    return rt_ref_unsupported(x->elem, err, errlen);
  int64_t dims[RT_MAX_RANK], outer = 1, inner = 1;
  memcpy(dims, x->dims, sizeof dims);
  dims[axis] = k;
  for (int i = 0; i < axis; i++)
    outer *= x->dims[i];
  for (int i = axis + 1; i < x->rank; i++)
    inner *= x->dims[i];
  if ((st = rt_ref_check_result(&out[0], 0, x->rank, dims, err, errlen)) ||
      (st = rt_ref_check_result(&out[1], 1, x->rank, dims, err, errlen)) ||
      (st = same_elem(x, &out[0], 0, err, errlen)))
    return st;
  if (out[1].elem != RT_ELEM_I64)
    return rt_ref_fail(err, errlen, RT_EUNSUPPORTED, "result 1 has element type %s, expected i64",
                       rt_elem_name(out[1].elem));
  if (d == 0 || k == 0)
    return RT_OK;
  TopKey *keys = malloc(sizeof *keys * (size_t)d * 2);
  if (!keys)
    return rt_ref_fail(err, errlen, RT_ENOMEM, "out of memory");
  bool uns = rt_elem_is_unsigned(x->elem), largest = rt_attr_int(n, "largest", 1) != 0;
  size_t es = rt_elem_size(x->elem);
  for (int64_t o = 0; o < outer; o++)
    for (int64_t t = 0; t < inner; t++) {
      for (int64_t j = 0; j < d; j++) {
        int64_t e = (o * d + j) * inner + t;
        keys[j].f = fl ? rt_ref_get(x->elem, x->data, e) : 0;
        keys[j].i = fl ? 0 : rt_ref_geti(x->elem, x->data, e);
        keys[j].pos = j;
      }
      merge_sort(keys, keys + d, d, fl, uns, largest);
      for (int64_t j = 0; j < k; j++) {
        int64_t oe = (o * k + j) * inner + t;
        copy_elem(out[0].data, oe, x->data, (o * d + keys[j].pos) * inner + t, es);
        rt_ref_puti(RT_ELEM_I64, out[1].data, oe, keys[j].pos);
      }
    }
  free(keys);
  return RT_OK;
}

/* ---- sum, mean ---- */

int rt_k_max_min(const RtNode *n, const RtTensor *in, int nin, RtTensor *out, int nout,
                 char *err, size_t errlen) {
  if (nin == 2)
    return rt_k_binary(n, in, nin, out, nout, err, errlen);
  return rt_k_sum_mean(n, in, nin, out, nout, err, errlen);
}

/* sum, mean, and max and min of other than two operands: every operand broadcast to the result,
 * floats accumulated in double (NaN wins a max or min), integers in int64. */
int rt_k_sum_mean(const RtNode *n, const RtTensor *in, int nin, RtTensor *out, int nout,
                  char *err, size_t errlen) {
  int st = rt_ref_check_call(n, in, nin, out, nout, err, errlen);
  if (st != RT_OK)
    return st;
  RtTensor *y = &out[0];
  bool fl = rt_elem_is_float(y->elem), u = rt_elem_is_unsigned(y->elem);
  bool extreme = n->op == OP_MAX || n->op == OP_MIN;
  if (!fl && !(n->op != OP_MEAN && rt_elem_is_int(y->elem)))
    return rt_ref_unsupported(y->elem, err, errlen);
  /* The result shape is the broadcast of all operands. */
  int rank = 0;
  int64_t dims[RT_MAX_RANK];
  for (int k = 0; k < nin; k++)
    if (in[k].rank > rank)
      rank = in[k].rank;
  for (int i = 0; i < rank; i++)
    dims[i] = 1;
  for (int k = 0; k < nin; k++) {
    if ((st = same_elem(&in[k], y, 0, err, errlen)))
      return st;
    if (in[k].quantized)
      return rt_ref_quantized(k, err, errlen);
    for (int i = 0; i < in[k].rank; i++) {
      int64_t dd = in[k].dims[i], *od = &dims[rank - in[k].rank + i];
      if (dd != 1 && *od != 1 && dd != *od) {
        char a[128];
        return rt_ref_fail(err, errlen, RT_ESHAPE, "operand %d %s does not broadcast", k,
                           rt_ref_dims_text(in[k].dims, in[k].rank, a, sizeof a));
      }
      if (dd != 1)
        *od = dd;
    }
  }
  if ((st = rt_ref_check_result(y, 0, rank, dims, err, errlen)))
    return st;
  int64_t count = rt_tensor_numel(y);
  if (count == 0)
    return RT_OK;
  double *fs = fl ? calloc((size_t)count, sizeof *fs) : NULL;
  int64_t *is = fl ? NULL : calloc((size_t)count, sizeof *is);
  if (!fs && !is)
    return rt_ref_fail(err, errlen, RT_ENOMEM, "out of memory");
  RtShape ys = rt_ref_shape_of(y);
  for (int k = 0; k < nin; k++) {
    RtShape s = rt_ref_shape_of(&in[k]);
    RtBcast it;
    if ((st = rt_bcast_init(&it, ys, 1, &s))) {
      free(fs);
      free(is);
      return rt_ref_fail(err, errlen, st, "operand %d does not broadcast to the result", k);
    }
    for (int64_t e = 0; e < count; e++, rt_bcast_next(&it)) {
      if (fl) {
        double v = rt_ref_get(in[k].elem, in[k].data, it.off[0]);
        if (!extreme)
          fs[e] += v;
        else if (k == 0 || v != v || (n->op == OP_MAX ? v > fs[e] : v < fs[e]))
          fs[e] = fs[e] != fs[e] && k ? fs[e] : v;
      } else {
        int64_t v = rt_ref_geti(in[k].elem, in[k].data, it.off[0]);
        if (!extreme)
          is[e] = (int64_t)((uint64_t)is[e] + (uint64_t)v);
        else if (k == 0 || (n->op == OP_MAX ? (u ? (uint64_t)v > (uint64_t)is[e] : v > is[e])
                                            : (u ? (uint64_t)v < (uint64_t)is[e] : v < is[e])))
          is[e] = v;
      }
    }
  }
  for (int64_t e = 0; e < count; e++) {
    if (fl)
      rt_ref_put(y->elem, y->data, e, n->op == OP_MEAN ? fs[e] / nin : fs[e]);
    else
      rt_ref_puti(y->elem, y->data, e, is[e]);
  }
  free(fs);
  free(is);
  return RT_OK;
}
