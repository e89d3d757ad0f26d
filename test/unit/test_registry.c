/* Unit tests of the op registry: every op complete, names unique, schemas well formed. */
#include "check.h"
#include "ir/ir.h"
#include "passes/pass.h"
#include "runtime/ref/ref.h"

static void test_complete(void) {
  for (int k = 0; k < OP_COUNT; k++) {
    const OpInfo *o = &ir_ops[k];
    if (!ir_infer_fns[k])
      fprintf(stderr, "op '%s' has no shape-inference function\n", o->name);
    CHECK(ir_infer_fns[k] != NULL);
    CHECK(o->name && *o->name);
    CHECK(o->onnx != NULL);
    CHECK(o->min_operands >= 0 && (o->max_operands < 0 || o->max_operands >= o->min_operands));
    CHECK(o->min_results >= 0 && (o->max_results < 0 || o->max_results >= o->min_results));
    CHECK(o->fusion >= FK_ELEMENTWISE && o->fusion <= FK_OPAQUE);
    /* Terminators have no results; region ops produce what their yield gives. */
    if (o->flags & F_TERMINATOR)
      CHECK(o->max_results == 0);
    if (o->flags & F_REGION)
      CHECK(o->min_results >= 1);
    /* Only structural ops lack an ONNX name. */
    if (!*o->onnx)
      CHECK(o->flags & (F_REGION | F_TERMINATOR));
  }
}

/* Every op but the structural ones (fused, segment, yield, output) has a reference kernel. */
static void test_kernels(void) {
  for (int k = 0; k < OP_COUNT; k++) {
    bool structural = ir_ops[k].flags & (F_REGION | F_TERMINATOR);
    if (!structural && !rt_ref_kernels[k])
      fprintf(stderr, "op '%s' has no reference kernel\n", ir_ops[k].name);
    CHECK(structural ? rt_ref_kernels[k] == NULL : rt_ref_kernels[k] != NULL);
  }
}

static void test_unique_names(void) {
  for (int a = 0; a < OP_COUNT; a++)
    for (int b = a + 1; b < OP_COUNT; b++) {
      CHECK(strcmp(ir_ops[a].name, ir_ops[b].name) != 0);
      if (*ir_ops[a].onnx)
        CHECK(strcmp(ir_ops[a].onnx, ir_ops[b].onnx) != 0);
    }
}

static void test_lookup(void) {
  for (int k = 0; k < OP_COUNT; k++)
    CHECK(ir_op_lookup(ir_ops[k].name) == k);
  CHECK(ir_op_lookup("frobnicate") == OP_INVALID);
  CHECK_STR(ir_op_name(OP_CONV), "conv");
  CHECK_STR(ir_ops[OP_CONV].onnx, "Conv");
  CHECK(ir_ops[OP_ADD].flags & F_COMMUTATIVE);
  CHECK(ir_ops[OP_RESHAPE].flags & F_NOOP);
  CHECK(ir_ops[OP_FUSED].flags & F_REGION);
}

static void test_schemas(void) {
  for (int k = 0; k < OP_COUNT; k++) {
    int n;
    const AttrSpec *s = ir_op_attr_specs((OpKind)k, &n);
    for (int i = 0; i < n; i++) {
      CHECK(ir_op_attr_spec((OpKind)k, s[i].name) == &s[i]);
      CHECK(s[i].kind < ATTR_KIND_COUNT);
      if (i) /* schemas list attributes sorted, as ops keep them */
        CHECK(strcmp(s[i - 1].name, s[i].name) < 0);
    }
  }
  const AttrSpec *g = ir_op_attr_spec(OP_CONV, "group");
  CHECK(g && g->kind == ATTR_INT && g->optional);
  const AttrSpec *ax = ir_op_attr_spec(OP_CONCAT, "axis");
  CHECK(ax && !ax->optional);
  CHECK(ir_op_attr_spec(OP_RELU, "alpha") == NULL);
}

static void test_passes(void) {
  for (int i = 0; i < pass_count; i++) {
    CHECK(pass_lookup(pass_table[i]->name) == pass_table[i]);
    CHECK(pass_table[i]->run != NULL && pass_table[i]->summary != NULL);
  }
  CHECK(pass_lookup("nope") == NULL);
}

int main(void) {
  test_complete();
  test_kernels();
  test_unique_names();
  test_lookup();
  test_schemas();
  test_passes();
  return check_finish();
}
