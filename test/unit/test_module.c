/* Unit tests of the module API (build, rewrite, regions) and of the verifier on built IR. */
#include <stdio.h>

#include "check.h"
#include "ir/diag.h"
#include "ir/ir.h"

static Type f32v(int64_t n) { return ir_type_make(DT_F32, 1, (int64_t[]){n}); }

static Op *append(Module *m, Block *b, OpKind k, int n, Value **ops, Type t) {
  Op *op = ir_op_create(m, k, n, ops, 1, &t);
  ir_block_append(b, op);
  return op;
}

static void add_output(Module *m, Value *v, const char *name) {
  Op *out = ir_op_create(m, OP_OUTPUT, 1, &v, 0, NULL);
  ir_op_set_strings(m, out, "names", &name, 1);
  ir_block_append(&m->body, out);
}

/* Verifies m with errors captured into a memory stream; returns the error count. */
static int verify(Module *m, char *text, size_t n) {
  Diag d;
  ir_diag_init(&d, "t", NULL, 0);
  FILE *f = fmemopen(text, n, "w");
  d.out = f;
  int errors = ir_verify(m, &d);
  fclose(f);
  return errors;
}

static void test_build_and_uses(void) {
  Module *m = ir_module_new("t");
  Value *x = ir_add_input(m, "x", f32v(4));
  Op *r = append(m, &m->body, OP_RELU, 1, &x, f32v(4));
  Value *rv = r->results[0];
  Op *s = append(m, &m->body, OP_SIGMOID, 1, &rv, f32v(4));
  Value *two[2] = {rv, s->results[0]};
  Op *a = append(m, &m->body, OP_ADD, 2, two, f32v(4));
  add_output(m, a->results[0], "y");
  CHECK(ir_value_num_uses(rv) == 2);
  CHECK(ir_value_num_uses(x) == 1);
  char text[4096] = "";
  CHECK(verify(m, text, sizeof text) == 0);

  /* Replace all uses of relu by x, then erase relu. */
  ir_value_replace_all_uses(rv, x);
  CHECK(!ir_value_has_uses(rv));
  CHECK(ir_value_num_uses(x) == 3); /* relu's own operand, sigmoid, add */
  CHECK(a->operands[0].value == x && s->operands[0].value == x);
  ir_op_erase(r);
  CHECK(ir_value_num_uses(x) == 2);
  CHECK(m->body.first == s);
  CHECK(verify(m, text, sizeof text) == 0);

  /* set_operand moves one use. */
  ir_op_set_operand(a, 1, x);
  CHECK(ir_value_num_uses(x) == 3 && !ir_value_has_uses(s->results[0]));
  ir_op_erase(s);
  CHECK(m->body.first == a);
  CHECK(ir_lookup_value(m, '%', "x") == x);
  CHECK(ir_lookup_value(m, '%', "nope") == NULL);
  ir_module_free(m);
}

static void test_attrs_sorted(void) {
  Module *m = ir_module_new(NULL);
  Value *x = ir_add_input(m, "x", f32v(4));
  Op *op = ir_op_create(m, OP_CLIP, 1, &x, 1, NULL);
  ir_op_set_float(m, op, "min", 0.1);
  ir_op_set_float(m, op, "max", 6.0);
  CHECK(op->nattrs == 2);
  CHECK_STR(op->attrs[0].name, "max");
  CHECK_STR(op->attrs[1].name, "min");
  CHECK(op->attrs[1].f == (double)0.1f); /* float attributes hold f32 values */
  ir_op_set_float(m, op, "max", 4.0);
  CHECK(op->nattrs == 2 && ir_attr_float(op, "max", 0) == 4.0);
  CHECK(ir_attr_int(op, "max", -7) == -7); /* wrong kind: default */
  ir_op_remove_attr(op, "max");
  CHECK(op->nattrs == 1 && !ir_op_attr(op, "max"));
  int64_t ints[3] = {1, 2, 3};
  ir_op_set_ints(m, op, "k", ints, 3);
  ints[0] = 99; /* deep copy */
  const int64_t *got;
  CHECK(ir_attr_ints(op, "k", &got) == 3 && got[0] == 1);
  ir_module_free(m);
}

static void test_region(void) {
  Module *m = ir_module_new(NULL);
  Value *x = ir_add_input(m, "x", f32v(4));
  Op *r = append(m, &m->body, OP_RELU, 1, &x, f32v(4));
  Op *f = ir_op_create(m, OP_FUSED, 1, &x, 1, (Type[]){f32v(4)});
  ir_op_set_sym(m, f, "k0");
  ir_op_insert_before(r, f);
  Block *body = ir_op_add_body(m, f);
  ir_op_move_into(r, body);
  Value *rv = r->results[0];
  Op *y = ir_op_create(m, OP_YIELD, 1, &rv, 0, NULL);
  ir_block_append(body, y);
  add_output(m, f->results[0], "y");
  CHECK(ir_op_parent_op(r) == f);
  char text[4096] = "";
  CHECK(verify(m, text, sizeof text) == 0);
  Buf b = {0};
  ir_print_module(m, &b, NULL);
  CHECK_STR(ir_buf_str(&b), "module {\n"
                            "  input %x : f32[4]\n"
                            "  %0 = fused @k0(%x) : f32[4] {\n"
                            "    %1 = relu(%x) : f32[4]\n"
                            "    yield %1\n"
                            "  }\n"
                            "  output %0 {names = [\"y\"]}\n"
                            "}\n");
  ir_buf_free(&b);

  /* Using the region's value outside it is a scoping error. */
  Op *bad = ir_op_create(m, OP_SIGMOID, 1, &rv, 1, (Type[]){f32v(4)});
  ir_op_insert_before(ir_module_output(m), bad);
  CHECK(verify(m, text, sizeof text) == 1);
  CHECK(strstr(text, "defined in a region that does not enclose this use") != NULL);
  ir_op_erase(bad);

  /* A body reading an outside value it does not capture. */
  Value *w = ir_add_weight(m, "w", f32v(4), (float[]){1, 2, 3, 4}, 16);
  Value *rw[2] = {rv, w};
  Op *add = ir_op_create(m, OP_ADD, 2, rw, 1, (Type[]){f32v(4)});
  ir_op_insert_before(y, add);
  CHECK(verify(m, text, sizeof text) == 1);
  CHECK(strstr(text, "'add' op: operand 1 ($w) comes from outside the region of 'fused'") != NULL);
  ir_module_free(m);
}

static void test_verifier_rules(void) {
  Module *m = ir_module_new(NULL);
  Value *x = ir_add_input(m, "x", f32v(4));
  Value *xx[2] = {x, x};
  Op *bad_arity = append(m, &m->body, OP_RELU, 2, xx, f32v(4));
  Op *conv = append(m, &m->body, OP_CONCAT, 1, &x, f32v(4));
  ir_op_set_string(m, conv, "mode", "x");
  Op *wrong_type = append(m, &m->body, OP_SIGMOID, 1, &x, f32v(5));
  add_output(m, wrong_type->results[0], "y");
  char text[4096] = "";
  int errors = verify(m, text, sizeof text);
  CHECK(errors == 4);
  CHECK(strstr(text, "t: error: 'relu' op: expects 1 operand, got 2") != NULL);
  CHECK(strstr(text, "'concat' op: unknown attribute 'mode' (known: axis, in_place)") != NULL);
  CHECK(strstr(text, "'concat' op: missing required attribute 'axis'") != NULL);
  CHECK(strstr(text, "'sigmoid' op: result 0 has type f32[5], but its operands give f32[4]") !=
        NULL);
  (void)bad_arity;
  ir_module_free(m);

  /* Duplicate names and a missing output. */
  m = ir_module_new(NULL);
  ir_add_input(m, "x", f32v(4));
  ir_add_input(m, "x", f32v(4));
  errors = verify(m, text, sizeof text);
  CHECK(errors == 2);
  CHECK(strstr(text, "value '%x' is defined twice") != NULL);
  CHECK(strstr(text, "module has no 'output'") != NULL);
  ir_module_free(m);
}

int main(void) {
  test_build_and_uses();
  test_attrs_sorted();
  test_region();
  test_verifier_rules();
  return check_finish();
}
