/* kernels_norm.c - instance_norm, lrn and einsum (floats; computed in double). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kernels.h"

/* Every operand and result is a non-quantized float; results have operand 0's type. */
static int floats_only(const RtTensor *in, int nin, const RtTensor *out, char *err,
                       size_t errlen) {
  for (int i = 0; i < nin; i++) {
    if (in[i].quantized)
      return rt_ref_quantized(i, err, errlen);
    if (!rt_elem_is_float(in[i].elem))
      return rt_ref_unsupported(in[i].elem, err, errlen);
  }
  if (out[0].elem != in[0].elem)
    return rt_ref_fail(err, errlen, RT_EUNSUPPORTED, "result element type %s, expected %s",
                       rt_elem_name(out[0].elem), rt_elem_name(in[0].elem));
  return RT_OK;
}

/* instance_norm: per (n, c), (x - mean) / sqrt(var + epsilon) * scale[c] + bias[c]. */
int rt_k_instance_norm(const RtNode *n, const RtTensor *in, int nin, RtTensor *out, int nout,
                       char *err, size_t errlen) {
  int st = rt_ref_check_call(n, in, nin, out, nout, err, errlen);
  if (st != RT_OK)
    return st;
  const RtTensor *x = &in[0];
  if (x->rank < 2)
    return rt_ref_fail(err, errlen, RT_ESHAPE, "operand 0 has rank %d, expected at least 2",
                       x->rank);
  for (int i = 1; i < 3; i++)
    if (in[i].rank != 1 || in[i].dims[0] != x->dims[1])
      return rt_ref_fail(err, errlen, RT_ESHAPE, "operand %d is not one value per channel", i);
  if ((st = rt_ref_check_result(&out[0], 0, x->rank, x->dims, err, errlen)) ||
      (st = floats_only(in, nin, out, err, errlen)))
    return st;
  double eps = rt_attr_float(n, "epsilon", 1e-5f);
  int64_t c = x->dims[1], planes = x->dims[0] * c, len = 1;
  for (int i = 2; i < x->rank; i++)
    len *= x->dims[i];
  for (int64_t p = 0; p < planes; p++) {
    int64_t base = p * len;
    double mean = 0, var = 0;
    for (int64_t i = 0; i < len; i++)
      mean += rt_ref_get(x->elem, x->data, base + i);
    mean /= (double)(len ? len : 1);
    for (int64_t i = 0; i < len; i++) {
      double d = rt_ref_get(x->elem, x->data, base + i) - mean;
      var += d * d;
    }
    var /= (double)(len ? len : 1);
    double inv = 1 / sqrt(var + eps), s = rt_ref_get(in[1].elem, in[1].data, p % c),
           b = rt_ref_get(in[2].elem, in[2].data, p % c);
    for (int64_t i = 0; i < len; i++)
      rt_ref_put(out[0].elem, out[0].data, base + i,
                 (rt_ref_get(x->elem, x->data, base + i) - mean) * inv * s + b);
  }
  return RT_OK;
}

/* lrn: y = x / (bias + alpha / size * sum of x^2 over channels [c - (size-1)/2,
 * c + ceil((size-1)/2)])^beta. */
int rt_k_lrn(const RtNode *n, const RtTensor *in, int nin, RtTensor *out, int nout, char *err,
             size_t errlen) {
  int st = rt_ref_check_call(n, in, nin, out, nout, err, errlen);
  if (st != RT_OK)
    return st;
  const RtTensor *x = &in[0];
  if (x->rank < 2)
    return rt_ref_fail(err, errlen, RT_ESHAPE, "operand 0 has rank %d, expected at least 2",
                       x->rank);
  if ((st = rt_ref_check_result(&out[0], 0, x->rank, x->dims, err, errlen)) ||
      (st = floats_only(in, nin, out, err, errlen)))
    return st;
  int64_t size = rt_attr_int(n, "size", 0);
  if (size < 1)
    return rt_ref_fail(err, errlen, RT_ESHAPE, "size is %lld, expected at least 1",
                       (long long)size);
  double alpha = rt_attr_float(n, "alpha", 1e-4f), beta = rt_attr_float(n, "beta", 0.75f),
         bias = rt_attr_float(n, "bias", 1.0);
  int64_t c = x->dims[1], len = 1, lo = (size - 1) / 2, hi = size - 1 - lo;
  for (int i = 2; i < x->rank; i++)
    len *= x->dims[i];
  for (int64_t b = 0; b < x->dims[0]; b++)
    for (int64_t ch = 0; ch < c; ch++)
      for (int64_t i = 0; i < len; i++) {
        double sq = 0;
        for (int64_t k = ch - lo; k <= ch + hi; k++)
          if (k >= 0 && k < c) {
            double v = rt_ref_get(x->elem, x->data, (b * c + k) * len + i);
            sq += v * v;
          }
        int64_t at = (b * c + ch) * len + i;
        rt_ref_put(out[0].elem, out[0].data, at,
                   rt_ref_get(x->elem, x->data, at) / pow(bias + alpha / (double)size * sq, beta));
      }
  return RT_OK;
}

/* ---- einsum ---- */

enum { EIN_LETTERS = 52, EIN_LABELS = EIN_LETTERS + RT_MAX_RANK };

static int ein_letter(char c) {
  if (c >= 'a' && c <= 'z')
    return c - 'a';
  if (c >= 'A' && c <= 'Z')
    return 26 + c - 'A';
  return -1;
}

/* Parses one term into per-dimension labels for a tensor of rank `rank` (ellipsis dimensions get
 * EIN_LETTERS + their distance from the right end of the ellipsis); rank < 0 (the result): the
 * ellipsis covers ell_rank dimensions. Returns the term's rank, or -1. */
static int ein_term(const char **s, int rank, int ell_rank, int *lab) {
  int pre[RT_MAX_RANK + 1], post[RT_MAX_RANK + 1], npre = 0, npost = 0;
  bool ell = false;
  for (const char *p = *s;; p++) {
    if (*p == ' ')
      continue;
    if (*p == '.') {
      if (p[1] != '.' || p[2] != '.' || ell)
        return -1;
      ell = true;
      p += 2;
      continue;
    }
    int l = ein_letter(*p);
    if (l < 0) {
      *s = p;
      break;
    }
    if (npre + npost > RT_MAX_RANK)
      return -1;
    if (ell)
      post[npost++] = l;
    else
      pre[npre++] = l;
  }
  int er = rank >= 0 ? rank - npre - npost : ell_rank;
  if (er < 0 || (!ell && er != 0) || npre + npost + er > RT_MAX_RANK)
    return -1;
  int k = 0;
  for (int i = 0; i < npre; i++)
    lab[k++] = pre[i];
  for (int e = er - 1; e >= 0; e--)
    lab[k++] = EIN_LETTERS + e;
  for (int i = 0; i < npost; i++)
    lab[k++] = post[i];
  return k;
}

/* einsum by explicit loops over every label: the result sums the product of the operands over
 * the labels it does not keep. */
int rt_k_einsum(const RtNode *n, const RtTensor *in, int nin, RtTensor *out, int nout, char *err,
                size_t errlen) {
  int st = rt_ref_check_call(n, in, nin, out, nout, err, errlen);
  if (st != RT_OK)
    return st;
  if ((st = floats_only(in, nin, out, err, errlen)))
    return st;
  const char *s = rt_attr_string(n, "equation", NULL);
  if (!s)
    return rt_ref_fail(err, errlen, RT_ESHAPE, "equation is required");
  int lab[64][RT_MAX_RANK + 1], olab[RT_MAX_RANK + 1], orank = 0, ell_rank = 0;
  int64_t size[EIN_LABELS];
  bool used[EIN_LABELS] = {false};
  for (int i = 0; i < EIN_LABELS; i++)
    size[i] = 1;
  if (nin > 64)
    return rt_ref_fail(err, errlen, RT_ESHAPE, "too many operands");
  for (int i = 0; i < nin; i++) {
    if (ein_term(&s, in[i].rank, 0, lab[i]) != in[i].rank)
      return rt_ref_fail(err, errlen, RT_ESHAPE, "term %d of the equation does not fit operand %d",
                         i, i);
    for (int d = 0; d < in[i].rank; d++) {
      int l = lab[i][d];
      if (l >= EIN_LETTERS && l - EIN_LETTERS + 1 > ell_rank)
        ell_rank = l - EIN_LETTERS + 1;
      if (used[l] && size[l] != in[i].dims[d] && size[l] != 1 && in[i].dims[d] != 1)
        return rt_ref_fail(err, errlen, RT_ESHAPE, "operand %d dimension %d does not match", i, d);
      if (!used[l] || size[l] == 1)
        size[l] = in[i].dims[d];
      used[l] = true;
    }
    if (*s != ',')
      break;
    s++;
  }
  while (*s == ' ')
    s++;
  if (*s == '-' && s[1] == '>') {
    s += 2;
    if ((orank = ein_term(&s, -1, ell_rank, olab)) < 0)
      return rt_ref_fail(err, errlen, RT_ESHAPE, "the result term is malformed");
  } else {
    int count[EIN_LABELS] = {0};
    for (int i = 0; i < nin; i++)
      for (int d = 0; d < in[i].rank; d++)
        count[lab[i][d]]++;
    for (int e = ell_rank - 1; e >= 0; e--)
      olab[orank++] = EIN_LETTERS + e;
    for (int l = 0; l < EIN_LETTERS; l++)
      if (count[l] == 1 && orank < RT_MAX_RANK)
        olab[orank++] = l;
  }
  int64_t odims[RT_MAX_RANK];
  for (int d = 0; d < orank; d++)
    odims[d] = size[olab[d]];
  if ((st = rt_ref_check_result(&out[0], 0, orank, odims, err, errlen)))
    return st;
  /* all labels in use: the result's first, then the summed ones */
  int all[EIN_LABELS], nall = 0;
  bool in_out[EIN_LABELS] = {false};
  for (int d = 0; d < orank; d++)
    if (!in_out[olab[d]]) {
      in_out[olab[d]] = true;
      all[nall++] = olab[d];
    }
  for (int l = 0; l < EIN_LABELS; l++)
    if (used[l] && !in_out[l])
      all[nall++] = l;
  int64_t total = 1, onum = 1;
  for (int i = 0; i < nall; i++)
    total *= size[all[i]];
  for (int d = 0; d < orank; d++)
    onum *= odims[d];
  double *acc = calloc((size_t)(onum ? onum : 1), sizeof *acc);
  if (!acc)
    return rt_ref_fail(err, errlen, RT_ENOMEM, "out of memory");
  int64_t idx[EIN_LABELS] = {0};
  for (int64_t t = 0; t < total; t++) {
    int64_t f = t;
    for (int i = nall - 1; i >= 0; i--) {
      idx[all[i]] = f % size[all[i]];
      f /= size[all[i]];
    }
    double prod = 1;
    for (int i = 0; i < nin; i++) {
      int64_t off = 0;
      for (int d = 0; d < in[i].rank; d++)
        off = off * in[i].dims[d] + (in[i].dims[d] == 1 ? 0 : idx[lab[i][d]]);
      prod *= rt_ref_get(in[i].elem, in[i].data, off);
    }
    int64_t o = 0;
    for (int d = 0; d < orank; d++)
      o = o * odims[d] + idx[olab[d]];
    acc[o] += prod;
  }
  for (int64_t o = 0; o < onum; o++)
    rt_ref_put(out[0].elem, out[0].data, o, acc[o]);
  free(acc);
  return RT_OK;
}
