/* infer_nn2.c - shape inference of instance_norm, lrn, lp_pool and einsum (ONNX semantics; see
 * infer.h for the conventions). */
#include <string.h>

#include "infer.h"

/* instance_norm: X[N,C,...] (rank >= 3) with scale and bias [C] of X's dtype -> X's shape. */
bool ir_infer_instance_norm(const Op *op, Type *out, char *err, size_t errlen) {
  const Type *x = ir_infer_operand(op, 0);
  if (x->rank < 3)
    return ir_infer_fail(err, errlen, "operand 0 has rank %d, expected at least 3 (N, C and "
                         "spatial dimensions)", x->rank);
  for (int i = 1; i < 3; i++) {
    const Type *p = ir_infer_operand(op, i);
    if (!ir_infer_same_dtype(x, p, err, errlen))
      return false;
    if (p->rank != 1 || p->dims[0] != x->dims[1])
      return ir_infer_fail(err, errlen, "operand %d has shape %s, expected [%lld] (one per "
                           "channel)", i, ir_infer_dims_text(p->dims, p->rank).s,
                           (long long)x->dims[1]);
  }
  out[0] = ir_infer_plain(x, x->rank, x->dims);
  return true;
}

/* lrn: X[N,C,...] (rank >= 3) of a float type, size >= 1 (required) -> X's shape. */
bool ir_infer_lrn(const Op *op, Type *out, char *err, size_t errlen) {
  const Type *x = ir_infer_operand(op, 0);
  if (x->rank < 3)
    return ir_infer_fail(err, errlen, "operand 0 has rank %d, expected at least 3 (N, C and "
                         "spatial dimensions)", x->rank);
  int64_t size = ir_attr_int(op, "size", 0);
  if (size < 1)
    return ir_infer_fail(err, errlen, "size is %lld, expected at least 1", (long long)size);
  out[0] = ir_infer_plain(x, x->rank, x->dims);
  return true;
}

/* lp_pool: the window rules of max_pool (kernel_shape, strides, pads, dilations, ceil_mode);
 * p >= 1; a non-quantized result. */
bool ir_infer_lp_pool(const Op *op, Type *out, char *err, size_t errlen) {
  int64_t p = ir_attr_int(op, "p", 2);
  if (p < 1)
    return ir_infer_fail(err, errlen, "p is %lld, expected at least 1", (long long)p);
  if (!ir_infer_max_pool(op, out, err, errlen))
    return false;
  out[0] = ir_infer_plain(ir_infer_operand(op, 0), out[0].rank, out[0].dims);
  return true;
}

/* ---- einsum ---------------------------------------------------------------------------------- */

/* Label codes: letters 0..51; the dimensions an ellipsis covers 52.. (right-aligned). */
enum { EIN_LETTERS = 52, EIN_LABELS = EIN_LETTERS + IR_MAX_RANK };

static int ein_letter(char c) {
  if (c >= 'a' && c <= 'z')
    return c - 'a';
  if (c >= 'A' && c <= 'Z')
    return 26 + c - 'A';
  return -1;
}

/* One term: its labels before and after an ellipsis (ell < 0: none). */
typedef struct EinTerm {
  int n, ell;
  int lab[IR_MAX_RANK + 1];
} EinTerm;

static bool ein_term(const char **s, EinTerm *t, char *err, size_t errlen) {
  t->n = 0;
  t->ell = -1;
  for (const char *p = *s;; p++) {
    if (*p == ' ')
      continue;
    if (*p == '.') {
      if (p[1] != '.' || p[2] != '.' || t->ell >= 0)
        return ir_infer_fail(err, errlen, "equation has a malformed ellipsis");
      t->ell = t->n;
      p += 2;
      continue;
    }
    int l = ein_letter(*p);
    if (l < 0) {
      *s = p;
      return true;
    }
    if (t->n > IR_MAX_RANK)
      return ir_infer_fail(err, errlen, "equation has a term of more than %d labels",
                           IR_MAX_RANK);
    t->lab[t->n++] = l;
  }
}

bool ir_infer_einsum(const Op *op, Type *out, char *err, size_t errlen) {
  const char *eq = ir_attr_string(op, "equation", NULL);
  if (!eq)
    return ir_infer_fail(err, errlen, "equation is required");
  EinTerm in[64], res;
  int nin = 0;
  const char *s = eq;
  for (;;) {
    if (nin >= 64 || !ein_term(&s, &in[nin], err, errlen))
      return nin >= 64 ? ir_infer_fail(err, errlen, "too many terms") : false;
    nin++;
    if (*s != ',')
      break;
    s++;
  }
  if (nin != op->noperands)
    return ir_infer_fail(err, errlen, "equation has %d input terms for %d operands", nin,
                         op->noperands);
  int64_t size[EIN_LABELS];
  int count[EIN_LABELS] = {0}, ell_rank = 0;
  for (int i = 0; i < EIN_LABELS; i++)
    size[i] = -2;
  const Type *x0 = ir_infer_operand(op, 0);
  for (int i = 0; i < nin; i++) {
    const Type *x = ir_infer_operand(op, i);
    if (!ir_infer_same_dtype(x0, x, err, errlen))
      return false;
    int er = x->rank - in[i].n;
    if (er < 0 || (in[i].ell < 0 && er != 0))
      return ir_infer_fail(err, errlen, "operand %d has rank %d, its term has %d labels", i,
                           x->rank, in[i].n);
    if (er > ell_rank)
      ell_rank = er;
    for (int d = 0; d < x->rank; d++) {
      int ell = in[i].ell;
      int l = ell >= 0 && d >= ell && d < ell + er ? EIN_LETTERS + (er - 1 - (d - ell))
                                                   : in[i].lab[ell >= 0 && d >= ell + er ? d - er : d];
      int64_t v = x->dims[d];
      if (v == IR_DIM_N)
        return ir_infer_fail(err, errlen, "operand %d carries the batch dimension N", i);
      if (size[l] == -2 || size[l] == 1)
        size[l] = v;
      else if (v != size[l] && !(l >= EIN_LETTERS && v == 1))
        return ir_infer_fail(err, errlen, "dimension %d of operand %d has size %lld, expected "
                             "%lld", d, i, (long long)v, (long long)size[l]);
      count[l]++;
    }
  }
  while (*s == ' ')
    s++;
  int64_t dims[IR_MAX_RANK];
  int rank = 0;
  if (*s == '-' && s[1] == '>') {
    s += 2;
    if (!ein_term(&s, &res, err, errlen))
      return false;
    while (*s == ' ')
      s++;
    if (*s)
      return ir_infer_fail(err, errlen, "equation has an unexpected '%c'", *s);
    for (int j = 0; j <= res.n; j++) {
      if (j == res.ell)
        for (int e = ell_rank - 1; e >= 0; e--) {
          if (rank >= IR_MAX_RANK)
            return ir_infer_fail(err, errlen, "result has too many dimensions");
          dims[rank++] = size[EIN_LETTERS + e];
        }
      if (j == res.n)
        break;
      if (size[res.lab[j]] == -2)
        return ir_infer_fail(err, errlen, "result label '%c' is in no input term",
                             res.lab[j] < 26 ? 'a' + res.lab[j] : 'A' + res.lab[j] - 26);
      if (rank >= IR_MAX_RANK)
        return ir_infer_fail(err, errlen, "result has too many dimensions");
      dims[rank++] = size[res.lab[j]];
    }
  } else if (*s) {
    return ir_infer_fail(err, errlen, "equation has an unexpected '%c'", *s);
  } else {
    /* implicit: the ellipsis dimensions, then the labels seen once in alphabetical order */
    for (int e = ell_rank - 1; e >= 0; e--)
      dims[rank++] = size[EIN_LETTERS + e];
    for (int l = 0; l < EIN_LETTERS; l++)
      if (count[l] == 1) {
        if (rank >= IR_MAX_RANK)
          return ir_infer_fail(err, errlen, "result has too many dimensions");
        dims[rank++] = size[l];
      }
  }
  out[0] = ir_infer_plain(x0, rank, dims);
  return true;
}
