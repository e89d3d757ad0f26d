/* infer_shapes.c - the `infer-shapes` pass: fills in unknown (`?`) result types.
 *
 * Requires: every input has a known type. Maintains: known types (never changes one; a
 * disagreement is the verifier's to report). Creates: a known type for every result whose
 * operands' types are known, through the registry's inference functions, in program order and
 * innermost regions first (a region op's types come from its yield). An op whose result shapes
 * depend on its operand values (F_DATA_SHAPE) keeps unknown results, with a remark saying so;
 * the ops using them stay unknown too. */
#include <stdlib.h>

#include "pass.h"

static bool infer_block(PassContext *pc, Block *b) {
  for (Op *op = b->first; op; op = op->next) {
    if (op->body && !infer_block(pc, op->body))
      return false;
    if (ir_ops[op->kind].flags & F_TERMINATOR)
      continue;
    bool need = false, ready = true;
    for (int i = 0; i < op->nresults; i++)
      need |= !ir_type_is_known(&op->results[i]->type);
    for (int i = 0; i < op->noperands; i++)
      ready &= ir_type_is_known(&op->operands[i].value->type);
    if (!need)
      continue;
    if (!ready)
      continue; /* in program order only a failed inference leaves one unknown, and fails */
    char err[256] = "";
    Type *out = ir_infer_op(op, err, sizeof err);
    if (!out) {
      ir_error(pc->diag, op->loc, "'%s' op: %s", ir_op_name(op->kind), err);
      return false;
    }
    bool unknown = false;
    for (int i = 0; i < op->nresults; i++) {
      if (!ir_type_is_known(&op->results[i]->type))
        op->results[i]->type = out[i];
      unknown |= !ir_type_is_known(&op->results[i]->type);
    }
    free(out);
    if (unknown && (ir_ops[op->kind].flags & F_DATA_SHAPE))
      pass_remark(pc, op, "the result shape of '%s' depends on its operand values: kiln needs "
                  "static shapes (its results and their users stay '?')", ir_op_name(op->kind));
  }
  return true;
}

static bool run(PassContext *pc) { return infer_block(pc, &pc->m->body); }

const PassInfo pass_infer_shapes = {"infer-shapes", "infer the types of results printed as '?'",
                                    NULL, 0, run};
