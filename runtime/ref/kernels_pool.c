/* kernels_pool.c - max_pool, avg_pool (ceil_mode, pads, dilations for max, count_include_pad
 * for the average), lp_pool and the global pools, over any spatial rank.
 *
 * Max pools take floats and integers (quantized ones too: the scale is positive, so the largest
 * stored value is the largest real value, and the result keeps the quantization). Averages take
 * floats only. */
#include <math.h>
#include <stdlib.h>

#include "kernels.h"

/* What a pool evaluation needs beyond the window. */
typedef struct Pool {
  RtWindow w;
  int64_t planes, isz, osz, ksz;
  int64_t idims[RT_MAX_RANK], odims[RT_MAX_RANK];
} Pool;

/* Checks X[N,C,...] and the result, reads kernel_shape (required), the window and ceil_mode. */
static int pool_setup(const RtNode *n, const RtTensor *in, int nin, RtTensor *out, int nout,
                      bool is_max, Pool *p, char *err, size_t errlen) {
  int st = rt_ref_check_call(n, in, nin, out, nout, err, errlen);
  if (st != RT_OK)
    return st;
  const RtTensor *x = &in[0];
  if (x->rank < 3)
    return rt_ref_fail(err, errlen, RT_ESHAPE, "operand 0 has rank %d, expected at least 3",
                   x->rank);
  const int64_t *ks;
  if (rt_attr_ints(n, "kernel_shape", &ks) < 0)
    return rt_ref_fail(err, errlen, RT_ESHAPE, "kernel_shape is required");
  int nsp = x->rank - 2;
  int64_t ceil_mode = rt_attr_int(n, "ceil_mode", 0);
  if (ceil_mode != 0 && ceil_mode != 1)
    return rt_ref_fail(err, errlen, RT_ESHAPE, "ceil_mode is %lld, expected 0 or 1",
                   (long long)ceil_mode);
  if ((st = rt_ref_spatial_ints(n, "kernel_shape", nsp, 1, 1, 1, p->w.kernel, err, errlen)) ||
      (st = rt_ref_window_read(n, nsp, is_max, &p->w, err, errlen)))
    return st;
  int64_t dims[RT_MAX_RANK] = {x->dims[0], x->dims[1]};
  p->planes = x->dims[0] * x->dims[1];
  p->isz = p->osz = p->ksz = 1;
  for (int i = 0; i < nsp; i++) {
    p->idims[i] = x->dims[i + 2];
    if ((st = rt_ref_window_out(&p->w, i, p->idims[i], ceil_mode, &p->odims[i], err, errlen)))
      return st;
    dims[i + 2] = p->odims[i];
    p->isz *= p->idims[i];
    p->osz *= p->odims[i];
    p->ksz *= p->w.kernel[i];
  }
  if ((st = rt_ref_check_result(&out[0], 0, x->rank, dims, err, errlen)))
    return st;
  if (out[0].elem != x->elem)
    return rt_ref_fail(err, errlen, RT_EUNSUPPORTED, "result element type %s, expected %s",
                   rt_elem_name(out[0].elem), rt_elem_name(x->elem));
  return RT_OK;
}

static void decode(int64_t flat, const int64_t *dims, int n, int64_t *pos) {
  for (int i = n - 1; i >= 0; i--) {
    pos[i] = flat % dims[i];
    flat /= dims[i];
  }
}

/* Visits the window of output position o: for each kernel position, its input offset (or -1
 * outside the input) and whether it lies inside the padded input. */
typedef struct WindowPos {
  int64_t off;
  bool padded;
} WindowPos;

static void window_positions(const Pool *p, const int64_t *opos, WindowPos *wp) {
  int nsp = p->w.n;
  int64_t kpos[RT_MAX_RANK];
  for (int64_t k = 0; k < p->ksz; k++) {
    decode(k, p->w.kernel, nsp, kpos);
    int64_t off = 0;
    bool inside = true, padded = true;
    for (int d = 0; d < nsp; d++) {
      int64_t q = opos[d] * p->w.strides[d] - p->w.pads[d] + kpos[d] * p->w.dilations[d];
      inside &= q >= 0 && q < p->idims[d];
      padded &= q >= -p->w.pads[d] && q < p->idims[d] + p->w.pads[nsp + d];
      off = off * p->idims[d] + q;
    }
    wp[k].off = inside ? off : -1;
    wp[k].padded = padded;
  }
}

/* lp_pool: (sum of |x|^p over each window)^(1/p), p >= 1 (default 2); padding adds nothing. */
int rt_k_lp_pool(const RtNode *n, const RtTensor *in, int nin, RtTensor *out, int nout,
                 char *err, size_t errlen) {
  Pool p;
  int st = pool_setup(n, in, nin, out, nout, true, &p, err, errlen);
  if (st != RT_OK)
    return st;
  const RtTensor *x = &in[0];
  RtTensor *y = &out[0];
  if (!rt_elem_is_float(x->elem))
    return rt_ref_unsupported(x->elem, err, errlen);
  int64_t power = rt_attr_int(n, "p", 2);
  if (power < 1)
    return rt_ref_fail(err, errlen, RT_ESHAPE, "p is %lld, expected at least 1",
                       (long long)power);
  WindowPos *wp = malloc(sizeof *wp * (size_t)p.ksz);
  if (!wp)
    return rt_ref_fail(err, errlen, RT_ENOMEM, "out of memory");
  int64_t opos[RT_MAX_RANK];
  for (int64_t o = 0; o < p.osz; o++) {
    decode(o, p.odims, p.w.n, opos);
    window_positions(&p, opos, wp);
    for (int64_t pl = 0; pl < p.planes; pl++) {
      double sum = 0;
      for (int64_t k = 0; k < p.ksz; k++)
        if (wp[k].off >= 0)
          sum += pow(fabs(rt_ref_get(x->elem, x->data, pl * p.isz + wp[k].off)), (double)power);
      rt_ref_put(y->elem, y->data, pl * p.osz + o, pow(sum, 1.0 / (double)power));
    }
  }
  free(wp);
  return RT_OK;
}

/* max_pool: the largest input in each window, padding ignored; the optional result 1 gets the
 * i64 flat index in X of the (first) maximum, its spatial part column-major for storage_order 1. */
int rt_k_max_pool(const RtNode *n, const RtTensor *in, int nin, RtTensor *out, int nout,
                  char *err, size_t errlen) {
  Pool p;
  int st = pool_setup(n, in, nin, out, nout, true, &p, err, errlen);
  if (st != RT_OK)
    return st;
  const RtTensor *x = &in[0];
  RtTensor *y = &out[0], *ix = nout > 1 ? &out[1] : NULL;
  bool f = rt_elem_is_float(x->elem), u = rt_elem_is_unsigned(x->elem);
  if (!f && !rt_elem_is_int(x->elem))
    return rt_ref_unsupported(x->elem, err, errlen);
  int64_t order = rt_attr_int(n, "storage_order", 0);
  if (order != 0 && order != 1)
    return rt_ref_fail(err, errlen, RT_ESHAPE, "storage_order is %lld, expected 0 or 1",
                       (long long)order);
  if (ix && (st = rt_ref_check_result(ix, 1, y->rank, y->dims, err, errlen)))
    return st;
  if (ix && ix->elem != RT_ELEM_I64)
    return rt_ref_fail(err, errlen, RT_EUNSUPPORTED, "result 1 element type %s, expected i64",
                       rt_elem_name(ix->elem));
  WindowPos *wp = malloc(sizeof *wp * (size_t)p.ksz);
  if (!wp)
    return rt_ref_fail(err, errlen, RT_ENOMEM, "out of memory");
  int64_t opos[RT_MAX_RANK];
  for (int64_t o = 0; o < p.osz; o++) {
    decode(o, p.odims, p.w.n, opos);
    window_positions(&p, opos, wp);
    for (int64_t pl = 0; pl < p.planes; pl++) {
      const int64_t base = pl * p.isz;
      double best = -INFINITY;
      int64_t ibest = 0, at = -1; /* at: the offset of the first maximum in the plane */
      bool any = false;
      for (int64_t k = 0; k < p.ksz; k++) {
        if (wp[k].off < 0)
          continue;
        if (f) {
          double v = rt_ref_get(x->elem, x->data, base + wp[k].off);
          if (at < 0 || v > best || (v != v && best == best)) /* NaN propagates */
            best = v, at = wp[k].off;
        } else {
          int64_t v = rt_ref_geti(x->elem, x->data, base + wp[k].off);
          if (!any || (u ? (uint64_t)v > (uint64_t)ibest : v > ibest))
            ibest = v, at = wp[k].off;
        }
        any = true;
      }
      if (f)
        rt_ref_put(y->elem, y->data, pl * p.osz + o, best);
      else
        rt_ref_puti(y->elem, y->data, pl * p.osz + o, ibest);
      if (ix) {
        int64_t idx = at < 0 ? 0 : at;
        if (at >= 0 && order == 1) { /* the spatial position counted column-major */
          int64_t pos[RT_MAX_RANK];
          decode(at, p.idims, p.w.n, pos);
          idx = 0;
          for (int d = p.w.n - 1; d >= 0; d--)
            idx = idx * p.idims[d] + pos[d];
        }
        rt_ref_puti(RT_ELEM_I64, ix->data, pl * p.osz + o, base + idx);
      }
    }
  }
  free(wp);
  return RT_OK;
}

/* avg_pool: the mean of each window over the input positions it covers, or, with
 * count_include_pad, over the positions inside the padded input (the padding counts as zeros;
 * positions past the end padding, from ceil_mode, never count). */
int rt_k_avg_pool(const RtNode *n, const RtTensor *in, int nin, RtTensor *out, int nout,
                  char *err, size_t errlen) {
  Pool p;
  int st = pool_setup(n, in, nin, out, nout, false, &p, err, errlen);
  if (st != RT_OK)
    return st;
  const RtTensor *x = &in[0];
  RtTensor *y = &out[0];
  int64_t cip = rt_attr_int(n, "count_include_pad", 0);
  if (cip != 0 && cip != 1)
    return rt_ref_fail(err, errlen, RT_ESHAPE, "count_include_pad is %lld, expected 0 or 1",
                   (long long)cip);
  if (x->quantized)
    return rt_ref_quantized(0, err, errlen);
  if (!rt_elem_is_float(x->elem))
    return rt_ref_unsupported(x->elem, err, errlen);
  WindowPos *wp = malloc(sizeof *wp * (size_t)p.ksz);
  if (!wp)
    return rt_ref_fail(err, errlen, RT_ENOMEM, "out of memory");
  int64_t opos[RT_MAX_RANK];
  for (int64_t o = 0; o < p.osz; o++) {
    decode(o, p.odims, p.w.n, opos);
    window_positions(&p, opos, wp);
    int64_t count = 0;
    for (int64_t k = 0; k < p.ksz; k++)
      count += cip ? wp[k].padded : wp[k].off >= 0;
    for (int64_t pl = 0; pl < p.planes; pl++) {
      double sum = 0;
      for (int64_t k = 0; k < p.ksz; k++)
        if (wp[k].off >= 0)
          sum += rt_ref_get(x->elem, x->data, pl * p.isz + wp[k].off);
      rt_ref_put(y->elem, y->data, pl * p.osz + o, count ? sum / (double)count : NAN);
    }
  }
  free(wp);
  return RT_OK;
}

/* global_avg_pool, global_max_pool: X[N,C,...] -> [N,C,1,...], over all spatial positions. */
int rt_k_global_pool(const RtNode *n, const RtTensor *in, int nin, RtTensor *out, int nout,
                     char *err, size_t errlen) {
  int st = rt_ref_check_call(n, in, nin, out, nout, err, errlen);
  if (st != RT_OK)
    return st;
  const RtTensor *x = &in[0];
  RtTensor *y = &out[0];
  if (x->rank < 2)
    return rt_ref_fail(err, errlen, RT_ESHAPE, "operand 0 has rank %d, expected at least 2",
                   x->rank);
  int64_t dims[RT_MAX_RANK], sz = 1;
  for (int i = 0; i < x->rank; i++) {
    dims[i] = i < 2 ? x->dims[i] : 1;
    sz *= i < 2 ? 1 : x->dims[i];
  }
  if ((st = rt_ref_check_result(y, 0, x->rank, dims, err, errlen)))
    return st;
  if (y->elem != x->elem)
    return rt_ref_fail(err, errlen, RT_EUNSUPPORTED, "result element type %s, expected %s",
                   rt_elem_name(y->elem), rt_elem_name(x->elem));
  bool is_max = n->op == OP_GLOBAL_MAX_POOL, f = rt_elem_is_float(x->elem);
  if (!is_max && x->quantized)
    return rt_ref_quantized(0, err, errlen);
  if (!f && !(is_max && rt_elem_is_int(x->elem)))
    return rt_ref_unsupported(x->elem, err, errlen);
  bool u = rt_elem_is_unsigned(x->elem);
  int64_t planes = x->dims[0] * x->dims[1];
  for (int64_t pl = 0; pl < planes; pl++) {
    double acc = is_max ? -INFINITY : 0;
    int64_t iacc = 0;
    for (int64_t i = 0; i < sz; i++) {
      if (!f) {
        int64_t v = rt_ref_geti(x->elem, x->data, pl * sz + i);
        if (i == 0 || (u ? (uint64_t)v > (uint64_t)iacc : v > iacc))
          iacc = v;
        continue;
      }
      double v = rt_ref_get(x->elem, x->data, pl * sz + i);
      acc = !is_max ? acc + v : v > acc || v != v ? v : acc;
    }
    if (!f)
      rt_ref_puti(y->elem, y->data, pl, iacc);
    else
      rt_ref_put(y->elem, y->data, pl, is_max ? acc : sz ? acc / (double)sz : NAN);
  }
  return RT_OK;
}
