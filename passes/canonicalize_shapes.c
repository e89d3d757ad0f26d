/* canonicalize_shapes.c - canonicalize's rewrites of the ONNX shape subgraphs: Shape/Size of a
 * static tensor to constants, the operand form of ops to the attribute form, and type inference
 * of the results this makes known (see canonicalize_shapes.h). */
#include <stdlib.h>
#include <string.h>

#include "canonicalize_shapes.h"
#include "interp.h"
#include "ir/dyn_form.h"

static void replace_with_weight(Module *m, Op *op, const Type *t, const void *data,
                                size_t nbytes) {
  Value *w = ir_add_weight(m, NULL, *t, data, nbytes);
  ir_value_replace_all_uses(op->results[0], w);
  ir_op_erase(op);
}

static bool fold_shape_of(Module *m, Op *op) {
  const Type *x = &op->operands[0].value->type;
  if (!ir_type_is_known(x) || ir_type_is_batched(x) || op->nresults != 1)
    return false;
  if (op->kind == OP_SIZE) {
    int64_t n = ir_type_numel(x);
    Type t = ir_type_scalar(DT_I64);
    replace_with_weight(m, op, &t, &n, sizeof n);
    return true;
  }
  int64_t r = x->rank, s = ir_attr_int(op, "start", 0), e = ir_attr_int(op, "end", r);
  s = s < 0 ? s + r : s, e = e < 0 ? e + r : e;
  s = s < 0 ? 0 : s > r ? r : s;
  e = e < 0 ? 0 : e > r ? r : e;
  int64_t len = e > s ? e - s : 0;
  Type t = ir_type_make(DT_I64, 1, &len);
  replace_with_weight(m, op, &t, x->dims + s, sizeof(int64_t) * (size_t)len);
  return true;
}

/* Fills the unknown result types of op from inference; true when one became known. */
static bool infer_unknown(Op *op) {
  bool need = false;
  for (int i = 0; i < op->nresults; i++)
    need |= !ir_type_is_known(&op->results[i]->type);
  for (int i = 0; need && i < op->noperands; i++)
    if (!ir_type_is_known(&op->operands[i].value->type))
      return false;
  if (!need)
    return false;
  char err[256];
  Type *out = ir_infer_op(op, err, sizeof err);
  if (!out)
    return false; /* the verifier reports it */
  bool changed = false;
  for (int i = 0; i < op->nresults; i++)
    if (!ir_type_is_known(&op->results[i]->type) && ir_type_is_known(&out[i])) {
      op->results[i]->type = out[i];
      changed = true;
    }
  free(out);
  return changed;
}

static bool fold_constant_of_shape(Module *m, Op *op) {
  const Type *t = &op->results[0]->type;
  int64_t numel = ir_type_numel(t);
  if (op->noperands || !ir_type_is_known(t) || numel < 0 || numel > (1 << 24))
    return false;
  size_t nbytes = (size_t)numel * ir_dtype_size(t->dtype);
  Tensor out = {*t, malloc(nbytes ? nbytes : 1), nbytes};
  if (!out.data)
    abort();
  char why[200];
  bool ok = pass_eval_kernel(op, NULL, &out, why, sizeof why);
  if (ok)
    replace_with_weight(m, op, t, out.data, nbytes);
  free(out.data);
  return ok;
}

bool canon_shapes_rewrite(Module *m, Op *op) {
  if (op->body || (ir_ops[op->kind].flags & F_TERMINATOR))
    return false;
  if (op->kind == OP_SHAPE || op->kind == OP_SIZE)
    return fold_shape_of(m, op);
  if (ir_dyn_has_operands(op)) {
    char err[256];
    if (ir_dyn_to_attrs(m, op, err, sizeof err)) {
      infer_unknown(op);
      return true;
    }
  }
  if ((op->kind == OP_RANGE || op->kind == OP_CONSTANT_OF_SHAPE) && infer_unknown(op))
    return true;
  if (op->kind == OP_CONSTANT_OF_SHAPE)
    return fold_constant_of_shape(m, op);
  return false;
}
