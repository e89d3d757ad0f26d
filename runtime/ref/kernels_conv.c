/* kernels_conv.c - conv and conv_transpose (any spatial rank, groups, dilations, asymmetric
 * pads, output_padding), and the sliding-window helpers the pools share.
 *
 * Float types only (ONNX's Conv has no integer form; ConvInteger is another op); operands are
 * converted to double once, accumulated in double, and rounded once into the result. */
#include <stdlib.h>
#include <string.h>

#include "kernels.h"

/* ---- windows ---- */

int rt_ref_spatial_ints(const RtNode *n, const char *name, int nsp, int per, int64_t dflt,
                    int64_t min, int64_t *out, char *err, size_t errlen) {
  const int64_t *v;
  int len = rt_attr_ints(n, name, &v);
  if (len < 0) {
    for (int i = 0; i < nsp * per; i++)
      out[i] = dflt;
    return RT_OK;
  }
  if (len != nsp * per)
    return rt_ref_fail(err, errlen, RT_ESHAPE, "%s has %d values, expected %d", name, len, nsp * per);
  for (int i = 0; i < len; i++) {
    if (v[i] < min || v[i] > INT32_MAX)
      return rt_ref_fail(err, errlen, RT_ESHAPE, "%s[%d] is %lld, out of range", name, i,
                     (long long)v[i]);
    out[i] = v[i];
  }
  return RT_OK;
}

int rt_ref_window_read(const RtNode *n, int nsp, bool has_dilations, RtWindow *w, char *err,
                   size_t errlen) {
  w->n = nsp;
  int st = rt_ref_spatial_ints(n, "strides", nsp, 1, 1, 1, w->strides, err, errlen);
  if (st == RT_OK)
    st = rt_ref_spatial_ints(n, "pads", nsp, 2, 0, 0, w->pads, err, errlen);
  if (st == RT_OK && has_dilations)
    return rt_ref_spatial_ints(n, "dilations", nsp, 1, 1, 1, w->dilations, err, errlen);
  for (int i = 0; i < nsp; i++)
    w->dilations[i] = 1;
  return st;
}

/* As ir/infer_nn.c: extent e = d*(k-1)+1, padded p = in + pads; out = (p - e) / s + 1, rounded
 * up with ceil_mode, dropping a last window that would start in the end padding. */
int rt_ref_window_out(const RtWindow *w, int i, int64_t in, bool ceil_mode, int64_t *out, char *err,
                  size_t errlen) {
  int64_t ext = w->dilations[i] * (w->kernel[i] - 1) + 1;
  int64_t padded = in + w->pads[i] + w->pads[w->n + i], s = w->strides[i];
  if (padded < ext)
    return rt_ref_fail(err, errlen, RT_ESHAPE, "spatial dimension %d (padded size %lld) is smaller "
                   "than the kernel extent %lld", i, (long long)padded, (long long)ext);
  int64_t o = (ceil_mode ? (padded - ext + s - 1) / s : (padded - ext) / s) + 1;
  if (ceil_mode && o > 1 && (o - 1) * s >= in + w->pads[i])
    o--;
  *out = o;
  return RT_OK;
}

double *rt_ref_to_double(const RtTensor *t) {
  int64_t count = rt_tensor_numel(t);
  double *d = malloc(sizeof *d * (size_t)(count > 0 ? count : 1));
  for (int64_t i = 0; d && i < count; i++)
    d[i] = rt_ref_get(t->elem, t->data, i);
  return d;
}

/* ---- shared by conv and conv_transpose ---- */

typedef struct ConvArgs {
  RtWindow w;
  int64_t group, batch, cin, cout; /* channels of X and of the result */
  int64_t isz, osz, ksz;           /* spatial element counts of X, the result and the kernel */
  int64_t idims[RT_MAX_RANK], odims[RT_MAX_RANK];
} ConvArgs;

/* Checks X[N,C,...], W of X's rank with kernel sizes >= 1, element types and group, and reads
 * the window. */
static int conv_common(const RtNode *n, const RtTensor *in, int nin, RtTensor *out, int nout,
                       ConvArgs *a, char *err, size_t errlen) {
  int st = rt_ref_check_call(n, in, nin, out, nout, err, errlen);
  if (st != RT_OK)
    return st;
  const RtTensor *x = &in[0], *w = &in[1];
  if (x->rank < 3 || w->rank != x->rank)
    return rt_ref_fail(err, errlen, RT_ESHAPE, "operands have ranks %d and %d, expected equal ranks "
                   "of at least 3", x->rank, w->rank);
  for (int i = 0; i < nin; i++) {
    if (in[i].quantized)
      return rt_ref_quantized(i, err, errlen);
    if (!rt_elem_is_float(in[i].elem))
      return rt_ref_unsupported(in[i].elem, err, errlen);
  }
  if (out[0].elem != x->elem)
    return rt_ref_fail(err, errlen, RT_EUNSUPPORTED, "result element type %s, expected %s",
                   rt_elem_name(out[0].elem), rt_elem_name(x->elem));
  a->group = rt_attr_int(n, "group", 1);
  if (a->group < 1 || x->dims[1] % a->group)
    return rt_ref_fail(err, errlen, RT_ESHAPE, "group %lld does not divide the %lld input channels",
                   (long long)a->group, (long long)x->dims[1]);
  int nsp = x->rank - 2;
  a->ksz = a->isz = 1;
  for (int i = 0; i < nsp; i++) {
    a->w.kernel[i] = w->dims[i + 2];
    if (a->w.kernel[i] < 1)
      return rt_ref_fail(err, errlen, RT_ESHAPE, "operand 1 has kernel size 0");
    a->ksz *= a->w.kernel[i];
    a->idims[i] = x->dims[i + 2];
    a->isz *= a->idims[i];
  }
  a->batch = x->dims[0];
  a->cin = x->dims[1];
  return rt_ref_window_read(n, nsp, true, &a->w, err, errlen);
}

/* The bias (operand 2, [cout]) or none; checks its shape. */
static int check_bias(const RtTensor *in, int nin, int64_t cout, char *err, size_t errlen) {
  if (nin < 3 || (in[2].rank == 1 && in[2].dims[0] == cout))
    return RT_OK;
  return rt_ref_fail(err, errlen, RT_ESHAPE, "operand 2 is not of shape [%lld] (one per output "
                 "channel)", (long long)cout);
}

/* The result's shape [N, cout, odims...] checked, and osz set. */
static int check_out(const RtTensor *y, ConvArgs *a, char *err, size_t errlen) {
  int64_t dims[RT_MAX_RANK] = {a->batch, a->cout};
  a->osz = 1;
  for (int i = 0; i < a->w.n; i++) {
    dims[i + 2] = a->odims[i];
    a->osz *= a->odims[i];
  }
  return rt_ref_check_result(y, 0, a->w.n + 2, dims, err, errlen);
}

/* Decodes a row-major flat index into coordinates of dims. */
static void decode(int64_t flat, const int64_t *dims, int n, int64_t *pos) {
  for (int i = n - 1; i >= 0; i--) {
    pos[i] = flat % dims[i];
    flat /= dims[i];
  }
}

/* The coordinates of every kernel position, ksz rows of n. */
static int64_t *kernel_positions(const ConvArgs *a) {
  int64_t *kp = malloc(sizeof *kp * (size_t)(a->ksz * a->w.n));
  for (int64_t k = 0; kp && k < a->ksz; k++)
    decode(k, a->w.kernel, a->w.n, kp + k * a->w.n);
  return kp;
}

/* Buffers of one evaluation, freed together. */
typedef struct ConvBufs {
  double *x, *w, *acc;
  int64_t *kp;
} ConvBufs;

static int bufs_fail(ConvBufs *b, char *err, size_t errlen) {
  free(b->x), free(b->w), free(b->acc), free(b->kp);
  return rt_ref_fail(err, errlen, RT_ENOMEM, "out of memory");
}

static void bufs_free(ConvBufs *b) { free(b->x), free(b->w), free(b->acc), free(b->kp); }

/* ---- conv ---- */

/* Y[b,m,o] = B[m] + sum over c in m's group, k: X[b,c,o*s - pad_begin + k*d] * W[m,c',k], with
 * positions in the padding contributing nothing. */
int rt_k_conv(const RtNode *n, const RtTensor *in, int nin, RtTensor *out, int nout, char *err,
              size_t errlen) {
  ConvArgs a;
  int st = conv_common(n, in, nin, out, nout, &a, err, errlen);
  if (st != RT_OK)
    return st;
  const RtTensor *wt = &in[1];
  a.cout = wt->dims[0];
  int64_t cg = a.cin / a.group, mg = a.cout / a.group;
  if (a.cout % a.group || wt->dims[1] != cg)
    return rt_ref_fail(err, errlen, RT_ESHAPE, "operand 1 has %lld output channels and %lld input "
                   "channels per group; group %lld of %lld input channels does not fit",
                   (long long)a.cout, (long long)wt->dims[1], (long long)a.group,
                   (long long)a.cin);
  for (int i = 0; i < a.w.n; i++)
    if ((st = rt_ref_window_out(&a.w, i, a.idims[i], false, &a.odims[i], err, errlen)))
      return st;
  if ((st = check_bias(in, nin, a.cout, err, errlen)) || (st = check_out(&out[0], &a, err, errlen)))
    return st;
  ConvBufs b = {rt_ref_to_double(&in[0]), rt_ref_to_double(wt), NULL, kernel_positions(&a)};
  if (!b.x || !b.w || !b.kp)
    return bufs_fail(&b, err, errlen);
  int nsp = a.w.n;
  int64_t istr[RT_MAX_RANK], opos[RT_MAX_RANK], s = 1;
  for (int i = nsp - 1; i >= 0; i--) {
    istr[i] = s;
    s *= a.idims[i];
  }
  for (int64_t bi = 0; bi < a.batch; bi++)
    for (int64_t m = 0; m < a.cout; m++) {
      int64_t g = m / mg;
      double bias = nin > 2 ? rt_ref_get(in[2].elem, in[2].data, m) : 0;
      for (int64_t o = 0; o < a.osz; o++) {
        decode(o, a.odims, nsp, opos);
        double sum = bias;
        for (int64_t k = 0; k < a.ksz; k++) {
          const int64_t *kp = b.kp + k * nsp;
          int64_t off = 0;
          bool inside = true;
          for (int d = 0; d < nsp && inside; d++) {
            int64_t p = opos[d] * a.w.strides[d] - a.w.pads[d] + kp[d] * a.w.dilations[d];
            inside = p >= 0 && p < a.idims[d];
            off += p * istr[d];
          }
          if (!inside)
            continue;
          for (int64_t cl = 0; cl < cg; cl++) {
            int64_t c = g * cg + cl;
            sum += b.x[(bi * a.cin + c) * a.isz + off] * b.w[(m * cg + cl) * a.ksz + k];
          }
        }
        rt_ref_put(out[0].elem, out[0].data, (bi * a.cout + m) * a.osz + o, sum);
      }
    }
  bufs_free(&b);
  return RT_OK;
}

/* ---- conv_transpose ---- */

/* The adjoint of conv: every X[b,c,i] scatters X * W[c,m',k] into
 * Y[b, g*M/group + m', i*s - pad_begin + k*d] where that lies inside the result; then + B[m].
 * The result's size is s*(in-1) + output_padding + d*(k-1)+1 - pad_begin - pad_end. */
int rt_k_conv_transpose(const RtNode *n, const RtTensor *in, int nin, RtTensor *out, int nout,
                        char *err, size_t errlen) {
  ConvArgs a;
  int st = conv_common(n, in, nin, out, nout, &a, err, errlen);
  if (st != RT_OK)
    return st;
  const RtTensor *wt = &in[1];
  int64_t opad[RT_MAX_RANK];
  if (wt->dims[0] != a.cin)
    return rt_ref_fail(err, errlen, RT_ESHAPE, "operand 1 has %lld input channels, operand 0 has "
                   "%lld", (long long)wt->dims[0], (long long)a.cin);
  int64_t mg = wt->dims[1], cg = a.cin / a.group;
  a.cout = mg * a.group;
  if ((st = rt_ref_spatial_ints(n, "output_padding", a.w.n, 1, 0, 0, opad, err, errlen)))
    return st;
  for (int i = 0; i < a.w.n; i++) {
    a.odims[i] = a.w.strides[i] * (a.idims[i] - 1) + opad[i] +
                 a.w.dilations[i] * (a.w.kernel[i] - 1) + 1 - a.w.pads[i] - a.w.pads[a.w.n + i];
    if (a.odims[i] < 1)
      return rt_ref_fail(err, errlen, RT_ESHAPE, "spatial dimension %d of the result would have "
                     "size %lld", i, (long long)a.odims[i]);
  }
  if ((st = check_bias(in, nin, a.cout, err, errlen)) || (st = check_out(&out[0], &a, err, errlen)))
    return st;
  int64_t total = a.batch * a.cout * a.osz;
  ConvBufs b = {rt_ref_to_double(&in[0]), rt_ref_to_double(wt),
                calloc((size_t)(total > 0 ? total : 1), sizeof(double)), kernel_positions(&a)};
  if (!b.x || !b.w || !b.acc || !b.kp)
    return bufs_fail(&b, err, errlen);
  int nsp = a.w.n;
  int64_t ostr[RT_MAX_RANK], ipos[RT_MAX_RANK], s = 1;
  for (int i = nsp - 1; i >= 0; i--) {
    ostr[i] = s;
    s *= a.odims[i];
  }
  for (int64_t bi = 0; bi < a.batch; bi++)
    for (int64_t c = 0; c < a.cin; c++) {
      int64_t g = c / cg;
      for (int64_t i = 0; i < a.isz; i++) {
        decode(i, a.idims, nsp, ipos);
        double xv = b.x[(bi * a.cin + c) * a.isz + i];
        for (int64_t k = 0; k < a.ksz; k++) {
          const int64_t *kp = b.kp + k * nsp;
          int64_t off = 0;
          bool inside = true;
          for (int d = 0; d < nsp && inside; d++) {
            int64_t p = ipos[d] * a.w.strides[d] - a.w.pads[d] + kp[d] * a.w.dilations[d];
            inside = p >= 0 && p < a.odims[d];
            off += p * ostr[d];
          }
          if (!inside)
            continue;
          for (int64_t ml = 0; ml < mg; ml++)
            b.acc[(bi * a.cout + g * mg + ml) * a.osz + off] +=
                xv * b.w[(c * mg + ml) * a.ksz + k];
        }
      }
    }
  for (int64_t i = 0; i < total; i++) {
    int64_t m = (i / a.osz) % a.cout;
    double bias = nin > 2 ? rt_ref_get(in[2].elem, in[2].data, m) : 0;
    rt_ref_put(out[0].elem, out[0].data, i, b.acc[i] + bias);
  }
  bufs_free(&b);
  return RT_OK;
}
