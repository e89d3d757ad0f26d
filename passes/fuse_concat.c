/* fuse_concat.c - concat elimination: the producers of a concat write straight into their slice
 * of its output, and the concat itself moves no data.
 *
 * A concat qualifies when every input is the result of a kernel of the same block (not a graph
 * input, a weight, a view or another concat) that nothing else reads, and no input appears
 * twice. It is then marked `in_place = 1` and stays outside every kernel; codegen gives each
 * producer the concat's buffer at its offset along the axis, with the concat's strides, and the
 * memory planner allocates the concat's output only. Otherwise the concat is an ordinary copy
 * kernel, with a remark naming the input that stopped it. TensorRT calls this concat elision. */
#include <stdio.h>
#include <string.h>

#include "fuse_internal.h"

static const char *why_not(const Fuse *f, const Op *concat, int i) {
  const Value *v = concat->operands[i].value;
  for (int j = 0; j < i; j++)
    if (concat->operands[j].value == v)
      return "it is also input %d";
  if (v->kind == VAL_INPUT)
    return "it is a graph input";
  if (v->kind == VAL_WEIGHT)
    return "it is a constant";
  int d = fuse_def_pos(f, v);
  if (d < 0)
    return "it comes from outside the segment";
  const Op *p = f->ix.ops[d];
  if (p->kind == OP_CONCAT)
    return "it is another concat";
  if (ir_ops[p->kind].flags & (F_NOOP | F_REGION))
    return "its producer is a view, not a kernel";
  if (ir_value_num_uses(v) != 1)
    return "another op reads it too";
  return NULL;
}

bool fuse_concat_in_place(Fuse *f, Op *concat) {
  bool ok = true;
  for (int i = 0; i < concat->noperands; i++) {
    const char *why = why_not(f, concat, i);
    if (!why)
      continue;
    char name[64];
    ir_value_label(f->m, concat->operands[i].value, name, sizeof name);
    char reason[96];
    int dup = 0;
    for (int j = 0; j < i; j++)
      if (concat->operands[j].value == concat->operands[i].value)
        dup = j;
    snprintf(reason, sizeof reason, why, dup);
    pass_remark(f->pc, concat, "'concat' input %d (%s) is copied, not written in place: %s", i,
                name, reason);
    ok = false;
  }
  if (ok)
    ir_op_set_int(f->m, concat, "in_place", 1);
  return ok;
}
