/* canonicalize_algebra.c - canonicalize's algebraic identities: neutral constants of binary ops,
 * chains of reshapes and of transposes, and reshapes, transposes and casts that change nothing
 * (see canonicalize_algebra.h).
 *
 * Every rewrite either replaces op's result by a value op already reads (which dominates every
 * use of the result) or rewrites op in place to read its operand's operand, keeping op's result
 * value and type; so the types users see never change and the output op keeps its names. The
 * inner op of a chain is never erased here: with no users left, DCE drops it; with other users,
 * it stays for them. */
#include <string.h>

#include "canonicalize_algebra.h"
#include "ir/dyn_form.h"

static bool is_known(const Value *v) { return ir_type_is_known(&v->type); }

/* v's type is known and equal to t, which is known too. */
static bool type_is(const Value *v, const Type *t) {
  return ir_type_is_known(t) && is_known(v) && ir_type_equal(&v->type, t);
}

static void replace_result(Op *op, Value *with) {
  ir_value_replace_all_uses(op->results[0], with);
  ir_op_erase(op);
}

/* ---- neutral constants: x*1, x+0, x-0, x/1, pow(x, 1) ---- */

/* One element of dtype dt at p equals v (0 or 1). Floats compare by value, so -0.0 counts as 0
 * (see binary_identity for what that costs); a NaN is never neutral. */
static bool element_is(const unsigned char *p, DType dt, int v) {
  switch (dt) {
  case DT_F32: {
    float f;
    memcpy(&f, p, sizeof f);
    return f == (float)v;
  }
  case DT_F64: {
    double d;
    memcpy(&d, p, sizeof d);
    return d == (double)v;
  }
  case DT_F16:
  case DT_BF16: {
    uint16_t h;
    memcpy(&h, p, sizeof h);
    return (dt == DT_F16 ? ir_f16_to_f32(h) : ir_bf16_to_f32(h)) == (float)v;
  }
  case DT_I8: return *(const int8_t *)p == v;
  case DT_U8: return *p == v;
  case DT_I16: case DT_U16: {
    uint16_t u;
    memcpy(&u, p, sizeof u);
    return u == (uint16_t)v;
  }
  case DT_I32: case DT_U32: {
    uint32_t u;
    memcpy(&u, p, sizeof u);
    return u == (uint32_t)v;
  }
  case DT_I64: case DT_U64: {
    uint64_t u;
    memcpy(&u, p, sizeof u);
    return u == (uint64_t)v;
  }
  default: return false;
  }
}

/* w is a weight with data, of a float or integer dtype and not quantized (a quantized 1 stands
 * for scale * (1 - zero_point)), whose elements all equal v. */
static bool weight_all(const Value *w, int v) {
  if (w->kind != VAL_WEIGHT || !w->tensor || !w->tensor->data || w->type.quantized)
    return false;
  DType dt = w->type.dtype;
  if (!ir_dtype_is_float(dt) && !ir_dtype_is_int(dt))
    return false;
  int64_t numel = ir_type_numel(&w->type);
  size_t size = ir_dtype_size(dt);
  if (numel < 0 || w->tensor->nbytes != (size_t)numel * size)
    return false;
  const unsigned char *p = w->tensor->data;
  for (int64_t i = 0; i < numel; i++)
    if (!element_is(p + (size_t)i * size, dt, v))
      return false;
  return true;
}

/* The operand that op computes unchanged, or NULL. Which constant is neutral where:
 *   mul: 1 on either side; add: 0 on either side; sub: 0 on the right; div and pow: 1 on the
 *   right (pow's exponent may be of another dtype than the base; x^1 is x in any).
 * The result type must equal x's: a constant of higher rank or larger dimensions broadcasts x
 * into a bigger tensor, and that is not x.
 * Exactness: x*1, x-0 (+0), x/1, x^1 and integer arithmetic give x bit for bit (a signalling NaN
 * aside, which comes out quiet). x+(+0) and x-(-0) turn an input of -0.0 into +0.0, which the
 * rewrite does not: inference compilers accept this (XLA's algebraic simplifier rewrites A+0 to A
 * as well), since the sign of a zero shows only through ops such as 1/x or atan2. */
static Value *binary_identity(const Op *op) {
  if (op->noperands != 2 || op->nresults != 1)
    return NULL;
  Value *a = op->operands[0].value, *b = op->operands[1].value;
  const Type *rt = &op->results[0]->type;
  switch (op->kind) {
  case OP_MUL:
    if (weight_all(b, 1) && type_is(a, rt))
      return a;
    if (weight_all(a, 1) && type_is(b, rt))
      return b;
    return NULL;
  case OP_ADD:
    if (weight_all(b, 0) && type_is(a, rt))
      return a;
    if (weight_all(a, 0) && type_is(b, rt))
      return b;
    return NULL;
  case OP_SUB: return weight_all(b, 0) && type_is(a, rt) ? a : NULL;
  case OP_DIV:
  case OP_POW: return weight_all(b, 1) && type_is(a, rt) ? a : NULL;
  default: return NULL;
  }
}

/* ---- reshapes ---- */

/* Ops whose result is operand 0's elements in the same (row-major) order: only the shape
 * changes, so one of them whose result type equals its operand's is the identity, and a chain of
 * them is one reshape. */
static bool is_reshape_like(OpKind k) {
  return k == OP_RESHAPE || k == OP_FLATTEN || k == OP_SQUEEZE || k == OP_UNSQUEEZE;
}

/* reshape(inner(x)) {shape} -> reshape(x) {shape'} where inner is reshape-like in attribute
 * form. shape may hold 0 (copy the operand's dimension) and -1 (infer), which would mean
 * something else for x, so shape' spells out the result type: its dimensions, with 0 for a
 * batch dimension N (reshape keeps N only as 0 or -1 in front). A result with a dimension of
 * size 0 cannot be spelled that way (0 means copy) and is left alone. x must have the result's
 * dtype and quantization and as many elements (per batch item), which a verified chain has. */
static bool fold_reshape_chain(Module *m, Op *op) {
  if (op->noperands != 1 || op->nresults != 1)
    return false;
  Value *mid = op->operands[0].value;
  if (mid->kind != VAL_RESULT || !is_reshape_like(mid->def->kind))
    return false;
  const Op *inner = mid->def;
  if (ir_dyn_has_operands(inner) || inner->noperands != 1)
    return false;
  Value *x = inner->operands[0].value;
  const Type *rt = &op->results[0]->type;
  if (!ir_type_is_known(rt) || !is_known(x))
    return false;
  bool batched = ir_type_is_batched(rt);
  if (batched != ir_type_is_batched(&x->type) ||
      ir_type_numel_per_item(rt) != ir_type_numel_per_item(&x->type))
    return false;
  Type like = x->type; /* x's dtype and quantization in the result's shape */
  like.rank = rt->rank;
  memcpy(like.dims, rt->dims, sizeof rt->dims[0] * (size_t)rt->rank);
  if (!ir_type_equal(&like, rt))
    return false;
  int64_t shape[IR_MAX_RANK];
  for (int i = 0; i < rt->rank; i++) {
    if (rt->dims[i] == 0)
      return false;
    shape[i] = rt->dims[i] == IR_DIM_N ? 0 : rt->dims[i];
  }
  ir_op_set_operand(op, 0, x);
  ir_op_set_ints(m, op, "shape", shape, rt->rank);
  return true;
}

/* ---- transposes ---- */

/* op's permutation into perm (ONNX: result dimension i is operand dimension perm[i]; absent, the
 * reverse of the operand's dimensions). False when it is not a permutation of the operand's rank,
 * which the verifier reports. */
static bool transpose_perm(const Op *op, int64_t *perm, int *rank) {
  const Type *x = &op->operands[0].value->type;
  if (op->noperands != 1 || op->nresults != 1 || !ir_type_is_known(x))
    return false;
  const int64_t *p;
  int n = ir_attr_ints(op, "perm", &p);
  if (n < 0) {
    for (int i = 0; i < x->rank; i++)
      perm[i] = x->rank - 1 - i;
    n = x->rank;
  } else if (n == x->rank) {
    memcpy(perm, p, sizeof *p * (size_t)n);
  } else {
    return false;
  }
  bool seen[IR_MAX_RANK] = {false};
  for (int i = 0; i < n; i++) {
    if (perm[i] < 0 || perm[i] >= n || seen[perm[i]])
      return false;
    seen[perm[i]] = true;
  }
  *rank = n;
  return true;
}

static bool is_identity_perm(const int64_t *perm, int n) {
  for (int i = 0; i < n; i++)
    if (perm[i] != i)
      return false;
  return true;
}

/* transpose(transpose(x) {perm = p}) {perm = q} reads x at dimension p[q[i]] for result
 * dimension i: it becomes transpose(x) {perm = c} with c[i] = p[q[i]], or x itself when c is the
 * identity. */
static bool fold_transpose(Module *m, Op *op) {
  int64_t q[IR_MAX_RANK], p[IR_MAX_RANK], c[IR_MAX_RANK];
  int n, np;
  if (!transpose_perm(op, q, &n))
    return false;
  Value *mid = op->operands[0].value;
  if (is_identity_perm(q, n)) {
    if (!type_is(mid, &op->results[0]->type))
      return false;
    replace_result(op, mid);
    return true;
  }
  if (mid->kind != VAL_RESULT || mid->def->kind != OP_TRANSPOSE ||
      !transpose_perm(mid->def, p, &np) || np != n)
    return false;
  for (int i = 0; i < n; i++)
    c[i] = p[q[i]];
  Value *x = mid->def->operands[0].value;
  if (is_identity_perm(c, n) && type_is(x, &op->results[0]->type)) {
    replace_result(op, x);
    return true;
  }
  ir_op_set_operand(op, 0, x);
  ir_op_set_ints(m, op, "perm", c, n);
  return true;
}

/* ---- the rewrites ---- */

/* ---- pad into conv ---- */

/* conv(pad(x)) with zeros padded around the spatial axes only: conv(x) with larger pads. */
static bool fold_pad_into_conv(Module *m, Op *conv) {
  Value *x = conv->operands[0].value;
  const Op *pad = x->kind == VAL_RESULT ? x->def : NULL;
  if (!pad || pad->kind != OP_PAD || pad->noperands != 1 || pad->parent != conv->parent ||
      strcmp(ir_attr_string(pad, "mode", "constant"), "constant") != 0 ||
      ir_attr_float(pad, "value", 0.0) != 0.0)
    return false;
  const int64_t *pp, *cp = NULL;
  int rank = x->type.rank, npp = ir_attr_ints(pad, "pads", &pp);
  int spatial = rank - 2;
  if (rank < 3 || npp != 2 * rank || pp[0] || pp[1] || pp[rank] || pp[rank + 1])
    return false;
  int ncp = ir_attr_ints(conv, "pads", &cp);
  if (ncp >= 0 && ncp != 2 * spatial)
    return false;
  int64_t pads[2 * IR_MAX_RANK];
  for (int i = 0; i < spatial; i++) {
    if (pp[2 + i] < 0 || pp[rank + 2 + i] < 0)
      return false; /* a negative pad crops: not a conv padding */
    pads[i] = pp[2 + i] + (ncp >= 0 ? cp[i] : 0);
    pads[spatial + i] = pp[rank + 2 + i] + (ncp >= 0 ? cp[spatial + i] : 0);
  }
  ir_op_set_ints(m, conv, "pads", pads, 2 * spatial);
  ir_op_set_operand(conv, 0, pad->operands[0].value);
  return true;
}

bool canon_algebra_rewrite(Module *m, Op *op) {
  if (op->body || (ir_ops[op->kind].flags & F_TERMINATOR) || op->nresults != 1 ||
      op->noperands == 0)
    return false;
  Value *x = op->operands[0].value;
  const Type *rt = &op->results[0]->type;
  switch (op->kind) {
  case OP_MUL:
  case OP_ADD:
  case OP_SUB:
  case OP_DIV:
  case OP_POW: {
    Value *with = binary_identity(op);
    if (with)
      replace_result(op, with);
    return with != NULL;
  }
  case OP_RESHAPE:
  case OP_FLATTEN:
  case OP_SQUEEZE:
  case OP_UNSQUEEZE:
  case OP_CAST:
    /* An op in operand form has the same data operand 0: equal types make it the identity. */
    if (type_is(x, rt)) {
      replace_result(op, x);
      return true;
    }
    return op->kind == OP_RESHAPE && fold_reshape_chain(m, op);
  case OP_TRANSPOSE: return fold_transpose(m, op);
  case OP_CONV: return fold_pad_into_conv(m, op);
  default: return false;
  }
}
