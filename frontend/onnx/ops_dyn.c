/* ops_dyn.c - the operand form of ops (ir/dyn_form.h) in the importer: when an input that kiln
 * keeps as an attribute (Reshape's shape, Slice's starts, ...) is not a constant, the op takes
 * it as an extra operand and canonicalize turns it into the attribute once it folds. Also
 * ConstantOfShape, whose shape is its only input, and the --bind constants of graph inputs. */
#include <stdlib.h>
#include <string.h>

#include "frontend/onnx/fe_onnx.h"

bool fe_inputs_dynamic(const FeNode *n, int first, int count) {
  for (int i = first; i < first + count && i < n->nin; i++)
    if (n->in[i] && !n->in[i]->k)
      return true;
  return false;
}

/* A weight with no elements: an absent optional input between present ones. */
static Value *empty_weight(FeCtx *c, DType dt) {
  static const int64_t dummy;
  int64_t zero = 0;
  return ir_add_weight(c->m, NULL, ir_type_make(dt, 1, &zero), &dummy, 0);
}

bool fe_emit_operand_form(FeNode *n, OpKind k, int base, int nres, int first, int count,
                          const DType *absent) {
  Value *ops[FE_MAX_NODE_IO];
  int nops = 0, last = -1;
  for (int i = 0; i < base; i++) {
    if (i >= n->nin || !n->in[i])
      return fe_fail(n->c, "input %d of %s is missing", i, fe_str(n->np->op_type));
    ops[nops++] = fe_sym_value(n->c, n->in[i]);
  }
  for (int i = first; i < first + count && i < n->nin; i++)
    if (n->in[i])
      last = i;
  for (int i = first; i <= last; i++)
    ops[nops++] = n->in[i] ? fe_sym_value(n->c, n->in[i])
                           : empty_weight(n->c, absent ? absent[i - first] : DT_I64);
  return fe_node_emit(n, k, ops, nops, nres);
}

bool fe_convert_constant_of_shape(FeNode *n, OpKind k) {
  if (n->nin < 1 || !n->in[0])
    return fe_fail(n->c, "input 0 ('input') of ConstantOfShape is missing");
  if (fe_inputs_dynamic(n, 0, 1))
    return fe_emit_operand_form(n, k, 0, 1, 0, 1, NULL);
  int64_t *v;
  int cnt;
  if (!fe_input_ints(n, 0, "input", &v, &cnt))
    return false;
  bool ok = fe_node_emit(n, k, NULL, 0, 1);
  if (ok)
    ir_op_set_ints(n->c->m, n->op, "shape", v, cnt);
  free(v);
  return ok;
}

const Tensor *fe_binding(const FeCtx *c, const char *name) {
  for (int i = 0; c->opt && i < c->opt->nbindings; i++)
    if (!strcmp(c->opt->bindings[i].name, name))
      return c->opt->bindings[i].tensor;
  return NULL;
}
