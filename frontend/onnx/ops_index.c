/* ops_index.c - ONNX import rules of the indexing ops whose scalar inputs kiln keeps as
 * attributes (Trilu k, CumSum axis, OneHot depth, TopK K), of CastLike and EyeLike, and of
 * NonZero on a constant input (folded at import). The rules table is in ops_onnx.c. */
#include <stdlib.h>
#include <string.h>

#include "frontend/onnx/fe_onnx.h"
#include "ir/dyn_form.h"

/* Input pos, a constant of one value (integer, or a float truncated), into the int attribute
 * attr of n->op; an absent input sets nothing unless required. */
static bool const_int_attr(FeNode *n, int pos, const char *param, const char *attr,
                           bool required) {
  const FeSym *s = pos < n->nin ? n->in[pos] : NULL;
  if (!s)
    return !required ||
           fe_fail(n->c, "input %d ('%s') of %s is missing", pos, param, fe_type_name(n));
  int cnt;
  int64_t val;
  if (s->k && ir_dtype_is_float(s->k->type.dtype)) {
    double *v;
    if (!fe_input_floats(n, pos, param, &v, &cnt))
      return false;
    double d = cnt == 1 ? v[0] : 0;
    free(v);
    if (cnt == 1 && !(d > -9.0e18 && d < 9.0e18))
      return fe_fail(n->c, "input %d ('%s') of %s is out of range", pos, param, fe_type_name(n));
    val = (int64_t)d;
  } else {
    int64_t *v;
    if (!fe_input_ints(n, pos, param, &v, &cnt))
      return false;
    val = cnt == 1 ? v[0] : 0;
    free(v);
  }
  if (cnt != 1)
    return fe_fail(n->c, "input %d ('%s') of %s has %d values, expected 1", pos, param,
                   fe_type_name(n), cnt);
  ir_op_set_int(n->c->m, n->op, attr, val);
  return true;
}

bool fe_convert_trilu(FeNode *n, OpKind k) {
  if (fe_inputs_dynamic(n, 1, 1)) /* the operand form (ir/dyn_form.h) */
    return fe_emit_operand_form(n, k, 1, 1, 1, 1, NULL);
  return fe_emit_inputs(n, k, 1, 1) && const_int_attr(n, 1, "k", "k", false);
}

bool fe_convert_cum_sum(FeNode *n, OpKind k) {
  if (fe_inputs_dynamic(n, 1, 1))
    return fe_emit_operand_form(n, k, 1, 1, 1, 1, NULL);
  return fe_emit_inputs(n, k, 1, 1) && const_int_attr(n, 1, "axis", "axis", true);
}

/* OneHot(indices, depth, values): depth becomes the attribute, values operand 1; a depth that is
 * not a constant is operand 2 (the operand form). */
bool fe_convert_one_hot(FeNode *n, OpKind k) {
  if (n->nin < 3 || !n->in[0] || !n->in[1] || !n->in[2])
    return fe_fail(n->c, "OneHot needs its three inputs indices, depth and values");
  bool dyn = fe_inputs_dynamic(n, 1, 1);
  Value *ops[3] = {fe_sym_value(n->c, n->in[0]), fe_sym_value(n->c, n->in[2]),
                   dyn ? fe_sym_value(n->c, n->in[1]) : NULL};
  if (dyn)
    return fe_node_emit(n, k, ops, 3, 1);
  return fe_node_emit(n, k, ops, 2, 1) && const_int_attr(n, 1, "depth", "depth", true);
}

/* TopK: k is an attribute before opset 10, then the input K (operand 1 when not a constant). */
bool fe_convert_top_k(FeNode *n, OpKind k) {
  if (n->c->opset < 10)
    return fe_convert_generic(n, k);
  if (fe_inputs_dynamic(n, 1, 1))
    return fe_emit_operand_form(n, k, 1, n->nout, 1, 1, NULL);
  return fe_emit_inputs(n, k, 1, n->nout) && const_int_attr(n, 1, "K", "k", true);
}

/* CastLike: kiln's cast to the dtype of input 1 (which is dropped). */
bool fe_convert_cast_like(FeNode *n, OpKind k) {
  int64_t sat;
  if (!fe_attr_take_int(n, "saturate", 1, &sat))
    return false;
  if (n->nin < 2 || !n->in[0] || !n->in[1])
    return fe_fail(n->c, "CastLike needs its two inputs input and target_type");
  const FeSym *t = n->in[1];
  DType dt = t->k ? t->k->type.dtype : t->v->type.dtype;
  if (!fe_emit_inputs(n, k, 1, 1))
    return false;
  fe_set_cast_target(n, dt);
  return true;
}

/* EyeLike: the ONNX dtype code becomes kiln's dtype name in the string attribute dtype. */
bool fe_convert_eye_like(FeNode *n, OpKind k) {
  int64_t to;
  DType dt = DT_UNKNOWN;
  if (!fe_attr_take_int(n, "dtype", -1, &to))
    return false;
  if (to >= 0 && (to > INT32_MAX || !fe_dtype_from_onnx((int32_t)to, &dt)))
    return fe_fail(n->c, "EyeLike dtype %s is not supported",
                   fe_onnx_type_name(to > INT32_MAX ? -1 : (int32_t)to));
  if (!fe_convert_generic(n, k))
    return false;
  if (to >= 0)
    ir_op_set_string(n->c->m, n->op, "dtype", ir_dtype_name(dt));
  return true;
}

/* NonZero: the result's shape depends on the data. A constant input folds here to a constant
 * [rank, count] of i64 coordinates; any other becomes non_zero, whose result type stays unknown
 * until canonicalize folds it on a constant operand (F_DATA_SHAPE). */
bool fe_convert_non_zero(FeNode *n, OpKind k) {
  const FeSym *s = n->nin > 0 ? n->in[0] : NULL;
  if (!s || !s->k)
    return fe_convert_generic(n, k);
  if (n->nout != 1)
    return fe_fail(n->c, "has %d outputs, expected 1", n->nout);
  const FeConst *x = s->k;
  int64_t numel = ir_type_numel(&x->type), count = 0;
  size_t es = ir_dtype_size(x->type.dtype);
  bool fl = ir_dtype_is_float(x->type.dtype);
  bool *nz = malloc((size_t)numel + 1);
  if (!nz)
    abort();
  for (int64_t i = 0; i < numel; i++) {
    const unsigned char *p = (const unsigned char *)x->data + (size_t)i * es;
    bool v = false;
    for (size_t b = 0; b < es; b++) /* floats: -0.0 is zero (ignore the sign bit) */
      v = v || (p[b] & (fl && b == es - 1 ? 0x7f : 0xff));
    nz[i] = v;
    count += v;
  }
  int rank = x->type.rank;
  int64_t dims[2] = {rank, count};
  size_t nbytes = sizeof(int64_t) * (size_t)(rank * count);
  int64_t *out = malloc(nbytes + 1);
  if (!out)
    abort();
  int64_t j = 0;
  for (int64_t i = 0; i < numel; i++) {
    if (!nz[i])
      continue;
    int64_t rest = i;
    for (int d = rank - 1; d >= 0; d--) {
      out[d * count + j] = rest % x->type.dims[d];
      rest /= x->type.dims[d];
    }
    j++;
  }
  free(nz);
  FeConst *kc = calloc(1, sizeof *kc);
  if (!kc)
    abort();
  *kc = (FeConst){ir_type_make(DT_I64, 2, dims), out, nbytes, out};
  return fe_sym_add(n->c, n->np->output[0], NULL, kc);
}

