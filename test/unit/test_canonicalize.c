/* test_canonicalize.c - the canonicalize pass on modules built through the ir.h API. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "passes/pass.h"

extern const PassInfo pass_canonicalize;

static const int64_t dims_4[] = {4}, dims_n4[] = {IR_DIM_N, 4}, dims_23[] = {2, 3}, dims_3[] = {3};

static Type f32(int rank, const int64_t *dims) { return ir_type_make(DT_F32, rank, dims); }

static Value *weight(Module *m, const char *name, Type t, const void *data) {
  size_t nbytes = (size_t)ir_type_numel(&t) * ir_dtype_size(t.dtype);
  return ir_add_weight(m, name, t, data, nbytes);
}

/* Appends an op with one result of type t (NULL: unknown) to block b. */
static Value *emit(Module *m, Block *b, OpKind k, int n, Value *const *operands, const Type *t) {
  Op *op = ir_op_create(m, k, n, operands, 1, t);
  ir_block_append(b, op);
  return op->results[0];
}

static Value *unary(Module *m, OpKind k, Value *x, Type t) {
  return emit(m, &m->body, k, 1, &x, &t);
}

static Value *binary(Module *m, OpKind k, Value *a, Value *b, Type t) {
  return emit(m, &m->body, k, 2, (Value *[]){a, b}, &t);
}

static Op *output(Module *m, int n, Value *const *vals, const char *const *names) {
  Op *op = ir_op_create(m, OP_OUTPUT, n, vals, 0, NULL);
  ir_op_set_strings(m, op, "names", names, n);
  ir_block_append(&m->body, op);
  return op;
}

static int count_ops(const Block *b) {
  int n = 0;
  for (const Op *op = b->first; op; op = op->next)
    n++;
  return n;
}

/* Runs the pass and the verifier, with remarks written to *remarks (caller frees); returns the
 * remark count. */
static int canonicalize(Module *m, char **remarks) {
  Diag d;
  ir_diag_init(&d, "test", NULL, 0);
  size_t len;
  char *text = NULL;
  d.out = open_memstream(&text, &len);
  d.remarks = true;
  PassContext pc = {m, &d, &pass_canonicalize, NULL, NULL};
  CHECK(pass_canonicalize.run(&pc));
  CHECK(ir_verify(m, &d) == 0);
  CHECK(d.nerrors == 0);
  fclose(d.out);
  if (remarks)
    *remarks = text;
  else
    free(text);
  return d.nremarks;
}

static char *print(const Module *m) {
  Buf b = {0};
  ir_print_module(m, &b, NULL);
  char *s = strdup(ir_buf_str(&b));
  ir_buf_free(&b);
  return s;
}

static const float *data_f32(const Value *w) { return w->tensor->data; }

static void test_fold_add(void) {
  Module *m = ir_module_new(NULL);
  Value *x = ir_add_input(m, "x", f32(2, dims_n4));
  Value *a = weight(m, "a", f32(1, dims_4), (float[]){1, 2, 3, 4});
  Value *b = weight(m, "b", f32(1, dims_4), (float[]){1, 1, 1, 1});
  Value *s = binary(m, OP_ADD, a, b, f32(1, dims_4));
  Value *y = binary(m, OP_MUL, x, s, f32(2, dims_n4));
  output(m, 1, &y, (const char *[]){"y"});
  CHECK(canonicalize(m, NULL) == 0);
  CHECK(count_ops(&m->body) == 2);
  Op *mul = m->body.first;
  CHECK(mul->kind == OP_MUL && mul->operands[0].value == x);
  Value *w = mul->operands[1].value;
  CHECK(w->kind == VAL_WEIGHT && w->name == NULL);
  CHECK(ir_type_equal(&w->type, &(Type){.dtype = DT_F32, .rank = 1, .dims = {4}}));
  const float *v = data_f32(w);
  CHECK(v[0] == 2 && v[1] == 3 && v[2] == 4 && v[3] == 5);
  /* $a and $b are dead now and dropped; the new weight is the only one left. */
  CHECK(m->nweights == 1 && m->weights[0] == w && w->index == 0);
  ir_module_free(m);
}

static void test_fold_chain(void) {
  Module *m = ir_module_new(NULL);
  Value *a = weight(m, "a", f32(2, dims_23), (float[]){1, 2, 3, 4, 5, 6});
  Value *b = weight(m, "b", f32(1, dims_3), (float[]){3, 3, 3});
  Value *d = binary(m, OP_SUB, a, b, f32(2, dims_23)); /* broadcast [2,3] - [3] */
  Value *n = unary(m, OP_NEG, d, f32(2, dims_23));
  Value *r = unary(m, OP_RELU, n, f32(2, dims_23));
  Op *out = output(m, 1, &r, (const char *[]){"r"});
  CHECK(canonicalize(m, NULL) == 0);
  CHECK(count_ops(&m->body) == 1 && m->body.first == out);
  Value *w = out->operands[0].value;
  CHECK(w->kind == VAL_WEIGHT && m->nweights == 1);
  const float *v = data_f32(w);
  CHECK(v[0] == 2 && v[1] == 1 && v[2] == 0 && v[3] == 0 && v[4] == 0 && v[5] == 0);
  CHECK_STR(ir_op_attr(out, "names")->strings[0], "r");
  ir_module_free(m);
}

/* Compare, where and cast fold through their own kernels. */
static void test_fold_kinds(void) {
  Module *m = ir_module_new(NULL);
  Type i64_3 = ir_type_make(DT_I64, 1, dims_3), bool_3 = ir_type_make(DT_BOOL, 1, dims_3);
  Value *i = weight(m, "i", i64_3, (int64_t[]){1, 5, 9});
  Value *j = weight(m, "j", i64_3, (int64_t[]){1, 6, 8});
  Value *eq = binary(m, OP_EQUAL, i, j, bool_3);
  Value *gt = binary(m, OP_GREATER, i, j, bool_3);
  Value *f = unary(m, OP_CAST, i, f32(1, dims_3));
  Value *g = unary(m, OP_CAST, j, f32(1, dims_3));
  Type f32_3 = f32(1, dims_3);
  Value *sel = emit(m, &m->body, OP_WHERE, 3, (Value *[]){gt, f, g}, &f32_3);
  Op *out = output(m, 2, (Value *[]){eq, sel}, (const char *[]){"eq", "sel"});
  CHECK(canonicalize(m, NULL) == 0);
  CHECK(count_ops(&m->body) == 1);
  const uint8_t *e = out->operands[0].value->tensor->data;
  CHECK(e && e[0] == 1 && e[1] == 0 && e[2] == 0);
  CHECK(out->operands[0].value->type.dtype == DT_BOOL);
  const float *s = out->operands[1].value->tensor->data;
  CHECK(s && s[0] == 1 && s[1] == 6 && s[2] == 9);
  ir_module_free(m);
}

static void test_no_fold_elided(void) {
  Module *m = ir_module_new(NULL);
  Value *w = ir_add_weight(m, "w", f32(1, dims_4), NULL, 16);
  Value *b = weight(m, "b", f32(1, dims_4), (float[]){1, 2, 3, 4});
  Value *s = binary(m, OP_ADD, w, b, f32(1, dims_4));
  Value *anon = ir_add_weight(m, NULL, f32(1, dims_4), NULL, 16);
  Value *p = binary(m, OP_MUL, b, anon, f32(1, dims_4));
  output(m, 2, (Value *[]){s, p}, (const char *[]){"s", "p"});
  char *remarks;
  CHECK(canonicalize(m, &remarks) == 2);
  CHECK_STR(remarks, "test: remark: [canonicalize] not folding 'add': operand $w is elided\n"
                     "test: remark: [canonicalize] not folding 'mul': operand $0 is elided\n");
  free(remarks);
  CHECK(count_ops(&m->body) == 3 && m->body.first->kind == OP_ADD && m->nweights == 3);
  /* Still one remark per op and run, and nothing else changes. */
  CHECK(canonicalize(m, NULL) == 2);
  CHECK(count_ops(&m->body) == 3);
  ir_module_free(m);
}

static void test_no_fold_reasons(void) {
  Module *m = ir_module_new(NULL);
  Value *x = ir_add_input(m, "x", f32(1, dims_4));
  Value *a = weight(m, "a", f32(1, dims_4), (float[]){1, 2, 3, 4});
  Value *unknown = emit(m, &m->body, OP_ADD, 2, (Value *[]){a, a}, NULL);
  Type i32_2 = ir_type_make(DT_I32, 1, (int64_t[]){2});
  Value *p = weight(m, NULL, i32_2, (int32_t[]){7, 8});
  Value *z = weight(m, "z", i32_2, (int32_t[]){1, 0});
  Value *q = binary(m, OP_DIV, p, z, i32_2);
  Value *mixed = binary(m, OP_ADD, x, a, f32(1, dims_4)); /* not all weights: no remark */
  output(m, 3, (Value *[]){unknown, q, mixed}, (const char *[]){"u", "q", "mixed"});
  char *remarks;
  CHECK(canonicalize(m, &remarks) == 2);
  CHECK_STR(remarks, "test: remark: [canonicalize] not folding 'add': the result type is unknown\n"
                     "test: remark: [canonicalize] not folding 'div': integer division by zero\n");
  free(remarks);
  CHECK(count_ops(&m->body) == 4);
  ir_module_free(m);
}

static void test_cse(void) {
  Module *m = ir_module_new(NULL);
  Value *x = ir_add_input(m, "x", f32(1, dims_4));
  Value *r1 = unary(m, OP_RELU, x, f32(1, dims_4));
  Value *r2 = unary(m, OP_RELU, x, f32(1, dims_4));
  Value *s = binary(m, OP_ADD, r1, r2, f32(1, dims_4));
  output(m, 1, &s, (const char *[]){"s"});
  CHECK(canonicalize(m, NULL) == 0);
  CHECK(count_ops(&m->body) == 3);
  Op *add = m->body.first->next;
  CHECK(add->kind == OP_ADD && add->operands[0].value == r1 && add->operands[1].value == r1);
  ir_module_free(m);
}

static void test_cse_commutative(void) {
  Module *m = ir_module_new(NULL);
  Value *a = ir_add_input(m, "a", f32(1, dims_4));
  Value *b = ir_add_input(m, "b", f32(1, dims_4));
  Value *s1 = binary(m, OP_ADD, a, b, f32(1, dims_4));
  Value *s2 = binary(m, OP_ADD, b, a, f32(1, dims_4));
  Value *d1 = binary(m, OP_SUB, a, b, f32(1, dims_4));
  Value *d2 = binary(m, OP_SUB, b, a, f32(1, dims_4)); /* not commutative: stays */
  Op *out = output(m, 4, (Value *[]){s1, s2, d1, d2}, (const char *[]){"s1", "s2", "d1", "d2"});
  CHECK(canonicalize(m, NULL) == 0);
  CHECK(count_ops(&m->body) == 4);
  CHECK(out->operands[0].value == s1 && out->operands[1].value == s1);
  CHECK(out->operands[2].value == d1 && out->operands[3].value == d2);
  CHECK_STR(ir_op_attr(out, "names")->strings[1], "s2");
  ir_module_free(m);
}

static void test_no_cse_attrs(void) {
  Module *m = ir_module_new(NULL);
  Value *x = ir_add_input(m, "x", f32(1, dims_4));
  Value *v[4];
  double alphas[4] = {0.1, 0.2, 0.1, 0.1};
  for (int i = 0; i < 4; i++) {
    v[i] = unary(m, OP_LEAKY_RELU, x, f32(1, dims_4));
    if (i < 3)
      ir_op_set_float(m, v[i]->def, "alpha", alphas[i]);
  }
  Op *out = output(m, 4, v, (const char *[]){"a", "b", "c", "d"});
  CHECK(canonicalize(m, NULL) == 0);
  /* alpha 0.1 twice merge; 0.2 and the absent attribute (same default) do not. */
  CHECK(count_ops(&m->body) == 4);
  CHECK(out->operands[2].value == v[0]);
  CHECK(out->operands[0].value != out->operands[1].value);
  CHECK(out->operands[3].value == v[3] && out->operands[3].value != v[0]);
  ir_module_free(m);
}

static void test_dce(void) {
  Module *m = ir_module_new(NULL);
  Value *x = ir_add_input(m, "x", f32(1, dims_4));
  Value *unused_in = ir_add_input(m, "unused", f32(1, dims_4));
  Value *w = weight(m, "w", f32(1, dims_4), (float[]){1, 2, 3, 4});
  Value *a = binary(m, OP_MUL, x, w, f32(1, dims_4));
  Value *b = unary(m, OP_EXP, a, f32(1, dims_4));
  unary(m, OP_TANH, b, f32(1, dims_4));
  Value *n = unary(m, OP_NEG, x, f32(1, dims_4));
  output(m, 1, &n, (const char *[]){"n"});
  CHECK(canonicalize(m, NULL) == 0);
  CHECK(count_ops(&m->body) == 2 && m->body.first->kind == OP_NEG);
  CHECK(m->nweights == 0);
  CHECK(m->ninputs == 2 && m->inputs[1] == unused_in); /* inputs are never removed */
  ir_module_free(m);
}

static void test_identity(void) {
  Module *m = ir_module_new(NULL);
  Value *x = ir_add_input(m, "x", f32(1, dims_4));
  Value *i = unary(m, OP_IDENTITY, x, f32(1, dims_4));
  ir_value_set_name(m, i, "i");
  Value *d = unary(m, OP_DROPOUT, i, f32(1, dims_4));
  ir_value_set_name(m, d, "y");
  Op *out = output(m, 1, &d, (const char *[]){"y"});
  CHECK(canonicalize(m, NULL) == 0);
  CHECK(count_ops(&m->body) == 1 && out->operands[0].value == x);
  CHECK_STR(ir_op_attr(out, "names")->strings[0], "y");
  char *text = print(m);
  CHECK_STR(text, "module {\n  input %x : f32[4]\n  output %x {names = [\"y\"]}\n}\n");
  free(text);
  ir_module_free(m);
}

/* fused(%x, $a, $b) { add($a, $b); two equal relus; identity } : the body is canonicalized and
 * the capture list becomes (%x, $0). */
static void test_region(void) {
  Module *m = ir_module_new(NULL);
  Type t = f32(1, dims_4);
  Value *x = ir_add_input(m, "x", t);
  Value *a = weight(m, "a", t, (float[]){1, 2, 3, 4});
  Value *b = weight(m, "b", t, (float[]){4, 3, 2, 1});
  Op *fused = ir_op_create(m, OP_FUSED, 3, (Value *[]){x, a, b}, 1, &t);
  ir_op_set_sym(m, fused, "k0");
  Block *body = ir_op_add_body(m, fused);
  Value *s = emit(m, body, OP_ADD, 2, (Value *[]){a, b}, &t);
  Value *r1 = emit(m, body, OP_RELU, 1, &x, &t);
  Value *r2 = emit(m, body, OP_RELU, 1, &x, &t);
  Value *p = emit(m, body, OP_MUL, 2, (Value *[]){r1, s}, &t);
  Value *q = emit(m, body, OP_ADD, 2, (Value *[]){p, r2}, &t);
  Value *i = emit(m, body, OP_IDENTITY, 1, &q, &t);
  ir_block_append(body, ir_op_create(m, OP_YIELD, 1, &i, 0, NULL));
  ir_block_append(&m->body, fused);
  Value *k = fused->results[0];
  ir_value_set_name(m, k, "k");
  output(m, 1, &k, (const char *[]){"k"});
  CHECK(canonicalize(m, NULL) == 0);
  Op *f = m->body.first;
  CHECK(f->kind == OP_FUSED && f->results[0] == k && k->def == f && f->body->parent == f);
  CHECK_STR(f->sym, "k0");
  CHECK(f->noperands == 2 && f->operands[0].value == x);
  Value *w = f->operands[1].value;
  CHECK(w->kind == VAL_WEIGHT && m->nweights == 1 && m->weights[0] == w);
  CHECK(data_f32(w)[0] == 5 && data_f32(w)[3] == 5);
  char *text = print(m);
  CHECK_STR(text, "module {\n"
                  "  input %x : f32[4]\n"
                  "  weight $0 : f32[4] = dense<[5.0, 5.0, 5.0, 5.0]>\n"
                  "  %k = fused @k0(%x, $0) : f32[4] {\n"
                  "    %0 = relu(%x) : f32[4]\n"
                  "    %1 = mul(%0, $0) : f32[4]\n"
                  "    %2 = add(%1, %0) : f32[4]\n"
                  "    yield %2\n"
                  "  }\n"
                  "  output %k\n"
                  "}\n");
  free(text);
  ir_module_free(m);
}

/* A module exercising every rewrite, built the same way each time. */
static Module *build_mixed(void) {
  Module *m = ir_module_new("mixed");
  Type t = f32(1, dims_4);
  Value *x = ir_add_input(m, "x", t);
  Value *a = weight(m, "a", t, (float[]){1, 2, 3, 4});
  Value *e = ir_add_weight(m, "e", t, NULL, 16);
  Value *c1 = unary(m, OP_SQRT, a, t);
  Value *c2 = unary(m, OP_SQRT, a, t);
  Value *k = binary(m, OP_MUL, c1, c2, t);
  Value *el = binary(m, OP_ADD, e, a, t);
  Value *i = unary(m, OP_IDENTITY, x, t);
  Value *y1 = binary(m, OP_ADD, i, k, t);
  Value *y2 = binary(m, OP_ADD, k, x, t);
  Value *z = binary(m, OP_MUL, y1, y2, t);
  unary(m, OP_EXP, z, t);
  output(m, 2, (Value *[]){z, el}, (const char *[]){"z", "el"});
  return m;
}

static void test_idempotent(void) {
  Module *m1 = build_mixed(), *m2 = build_mixed();
  CHECK(canonicalize(m1, NULL) == 1);
  CHECK(canonicalize(m2, NULL) == 1);
  char *once = print(m1), *other = print(m2);
  CHECK_STR(once, other); /* deterministic */
  CHECK(canonicalize(m1, NULL) == 1);
  char *twice = print(m1);
  CHECK_STR(once, twice);
  /* sqrt($a) CSE'd, folded with the mul; add(%x, k) and add(k, %x) merged. */
  CHECK(strstr(once, "dense<[1.0, 2.0, 3.0, 4.0]>") != NULL);
  CHECK(strstr(once, "sqrt") == NULL && strstr(once, "identity") == NULL);
  CHECK(strstr(once, "exp") == NULL);
  CHECK(count_ops(&m1->body) == 4); /* add(e,a), add(x,k), mul, output */
  free(once);
  free(other);
  free(twice);
  ir_module_free(m1);
  ir_module_free(m2);
}

int main(void) {
  test_fold_add();
  test_fold_chain();
  test_fold_kinds();
  test_no_fold_elided();
  test_no_fold_reasons();
  test_cse();
  test_cse_commutative();
  test_no_cse_attrs();
  test_dce();
  test_identity();
  test_region();
  test_idempotent();
  return check_finish();
}
