/* test_parse.c - the textual IR parser: what it builds, print/parse round trips, and errors on
 * malformed input (including every truncation of a valid module). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "frontend/text/parse.h"

/* A module touching every construct of the grammar. */
static const char *full_module =
    "// every construct of the textual IR\n"
    "module @\"my model\" {\n"
    "  input %x : f32[N,3,8,8]\n"
    "  input %\"in\\\"put 2\" : i8<s=0.0213,z=-3>[16]\n"
    "  input %q : u8<s=0.5>[4]\n"
    "  input %7 : ?\n"
    "  weight $w : f32[2,3] = dense<[1.0, 2, -3.5, 1e-3, inf, nan]>\n"
    "  weight $h : f16[2] = dense<[0.1, -2.0]>\n"
    "  weight $bf : bf16[1] = dense<[3.14159]>\n"
    "  weight $d : f64[1] = dense<[0.1]>\n"
    "  weight $i : i64[3] = dense<[-9223372036854775808, 9223372036854775807, 0]>\n"
    "  weight $u : u64[1] = dense<[18446744073709551615]>\n"
    "  weight $b : bool[4] = dense<[true, false, 1, 0]>\n"
    "  weight $big : u8[20] = dense_resource<big>\n"
    "  weight $elided : f32[64] = dense_resource<__elided__>\n"
    "  weight $9 : i32[17] = dense_resource<\"9\">\n"
    "  %a, %b = split(%x) {axis = 1, split = [1, 2]} : f32[N,1,8,8], f32[N,2,8,8]\n"
    "  %y = fused @kernel0(%a, $w) : f32[N,1,8,8] {\n"
    "    %t = leaky_relu(%a) {alpha = 1} : f32[N,1,8,8]\n"
    "    %t2 = clip(%t) {max = 6.0, min = 0} : f32[N,1,8,8]\n"
    "    yield %t2\n"
    "  }\n"
    "  %r = resize(%b) {mode = \"nearest\", scales = [1, 2.5, 2, 2], sizes = []} : ?\n"
    "  %\"odd name\" = relu(%r) {s = [\"a\", \"b\\n\"], f = 0.1, "
    "\"quoted attr\" = 3, t = dense<[1, 2]> : i32[2], e = [], "
    "big = dense_resource<__attr0> : f32[4,5]} : ?\n"
    "  %12 = identity(%\"odd name\") : ?\n"
    "  output %12, %y, $b {names = [\"out\", \"y\", \"b\"]}\n"
    "}\n"
    "resources {\n"
    "  big = \"0x000102030405060708090a0b0c0d0e0f10111213\"\n"
    "  \"9\" = \"0x000000000100000002000000030000000400000005000000060000000700000008000000"
    "090000000A0000000B0000000C0000000D0000000E0000000F00000010000000\"\n"
    "  __attr0 = \"0x0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F"
    "0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F"
    "0000803F\"\n"
    "}\n";

/* Parses text, capturing diagnostics into *msgs (when not NULL; caller frees). */
static Module *parse(const char *src, size_t len, int *nerrors, char **msgs) {
  char *buf = NULL;
  size_t buflen = 0;
  FILE *out = open_memstream(&buf, &buflen);
  Diag d;
  ir_diag_init(&d, "t.kir", src, len);
  d.out = out;
  Module *m = fe_parse_text(src, len, &d);
  fclose(out);
  *nerrors = d.nerrors;
  if (msgs)
    *msgs = buf;
  else
    free(buf);
  return m;
}

static char *print(const Module *m, bool elide) {
  Buf b = {0};
  PrintOptions opt = {.elide_constants = elide};
  ir_print_module(m, &b, &opt);
  return b.data;
}

static Op *nth_op(Block *b, int n) {
  Op *op = b->first;
  while (op && n--)
    op = op->next;
  return op;
}

static void test_build(void) {
  int nerr;
  char *msgs;
  Module *m = parse(full_module, strlen(full_module), &nerr, &msgs);
  CHECK(m != NULL);
  CHECK(nerr == 0);
  if (nerr)
    fputs(msgs, stderr);
  free(msgs);
  if (!m)
    return;
  CHECK_STR(m->name, "my model");
  CHECK(m->ninputs == 4 && m->nweights == 10);
  Value *x = m->inputs[0];
  CHECK_STR(x->name, "x");
  CHECK(x->loc.line == 3 && x->loc.col == 9);
  CHECK(x->type.dtype == DT_F32 && x->type.rank == 4 && x->type.dims[0] == IR_DIM_N &&
        x->type.dims[3] == 8);
  Value *q = m->inputs[1];
  CHECK_STR(q->name, "in\"put 2");
  CHECK(q->type.quantized && q->type.dtype == DT_I8 && q->type.scale == 0.0213f &&
        q->type.zero_point == -3 && q->type.rank == 1 && q->type.dims[0] == 16);
  CHECK(m->inputs[2]->type.quantized && m->inputs[2]->type.zero_point == 0);
  CHECK(m->inputs[3]->name == NULL && !ir_type_is_known(&m->inputs[3]->type));

  const float *w = m->weights[0]->tensor->data;
  CHECK(w[0] == 1.0f && w[1] == 2.0f && w[2] == -3.5f && w[3] == 1e-3f && isinf(w[4]) &&
        isnan(w[5]));
  const uint16_t *h = m->weights[1]->tensor->data;
  CHECK(h[0] == ir_f32_to_f16(0.1f) && h[1] == ir_f32_to_f16(-2.0f));
  CHECK(*(const uint16_t *)m->weights[2]->tensor->data == ir_f32_to_bf16(3.14159f));
  CHECK(*(const double *)m->weights[3]->tensor->data == 0.1);
  const int64_t *i64 = m->weights[4]->tensor->data;
  CHECK(i64[0] == INT64_MIN && i64[1] == INT64_MAX && i64[2] == 0);
  CHECK(*(const uint64_t *)m->weights[5]->tensor->data == UINT64_MAX);
  const unsigned char *b = m->weights[6]->tensor->data;
  CHECK(b[0] == 1 && b[1] == 0 && b[2] == 1 && b[3] == 0);
  const unsigned char *big = m->weights[7]->tensor->data;
  CHECK(m->weights[7]->tensor->nbytes == 20 && big[0] == 0 && big[10] == 10 && big[19] == 0x13);
  CHECK(m->weights[8]->tensor->data == NULL);
  CHECK(m->weights[9]->name == NULL && ((const int32_t *)m->weights[9]->tensor->data)[16] == 16);

  Op *split = nth_op(&m->body, 0);
  CHECK(split->kind == OP_SPLIT && split->nresults == 2 && split->noperands == 1);
  CHECK(split->loc.line == 17 && split->loc.col == 12);
  CHECK_STR(split->results[1]->name, "b");
  CHECK(split->results[1]->loc.line == 17 && split->results[1]->loc.col == 7);
  CHECK(ir_attr_int(split, "axis", -1) == 1);

  Op *fused = nth_op(&m->body, 1);
  CHECK(fused->kind == OP_FUSED && fused->body && fused->noperands == 2);
  CHECK_STR(fused->sym, "kernel0");
  CHECK(fused->operands[1].value == m->weights[0]);
  Op *lrelu = fused->body->first;
  CHECK(lrelu->kind == OP_LEAKY_RELU && lrelu->operands[0].value == split->results[0]);
  const Attr *alpha = ir_op_attr(lrelu, "alpha");
  CHECK(alpha && alpha->kind == ATTR_FLOAT && alpha->f == 1.0); /* int literal, float schema */
  CHECK(fused->body->last->kind == OP_YIELD);

  Op *resize = nth_op(&m->body, 2);
  const Attr *scales = ir_op_attr(resize, "scales"), *sizes = ir_op_attr(resize, "sizes");
  CHECK(scales && scales->kind == ATTR_FLOATS && scales->n == 4 && scales->floats[1] == 2.5);
  CHECK(sizes && sizes->kind == ATTR_INTS && sizes->n == 0);
  CHECK_STR(ir_attr_string(resize, "mode", ""), "nearest");

  Op *relu = nth_op(&m->body, 3);
  CHECK_STR(relu->results[0]->name, "odd name");
  const Attr *s = ir_op_attr(relu, "s"), *f = ir_op_attr(relu, "f"), *t = ir_op_attr(relu, "t");
  CHECK(s && s->kind == ATTR_STRINGS && s->n == 2 && strcmp(s->strings[1], "b\n") == 0);
  CHECK(f && f->kind == ATTR_FLOAT && f->f == (double)0.1f);
  CHECK(ir_attr_int(relu, "quoted attr", 0) == 3);
  CHECK(t && t->kind == ATTR_TENSOR && ((const int32_t *)t->tensor->data)[1] == 2);
  CHECK(ir_op_attr(relu, "e")->kind == ATTR_INTS);
  const Attr *bigattr = ir_op_attr(relu, "big");
  CHECK(bigattr && bigattr->tensor->nbytes == 80 &&
        ((const float *)bigattr->tensor->data)[19] == 1.0f);

  Op *ident = nth_op(&m->body, 4);
  CHECK(ident->results[0]->name == NULL);
  Op *out = ir_module_output(m);
  CHECK(out && out->noperands == 3 && out->operands[0].value == ident->results[0] &&
        out->operands[2].value == m->weights[6]);
  ir_module_free(m);
}

/* print(parse(print(parse(text)))) == print(parse(text)), with and without elided constants. */
static void test_round_trip(const char *src, bool elide) {
  int nerr;
  Module *m1 = parse(src, strlen(src), &nerr, NULL);
  CHECK(m1 != NULL);
  if (!m1)
    return;
  char *p1 = print(m1, elide);
  Module *m2 = parse(p1, strlen(p1), &nerr, NULL);
  CHECK(m2 != NULL);
  if (m2) {
    char *p2 = print(m2, elide);
    CHECK_STR(p1, p2);
    free(p2);
    ir_module_free(m2);
  }
  free(p1);
  ir_module_free(m1);
}

/* Output names: implied by operands as written, kept when explicit. */
static void test_output_names(void) {
  const char *src =
      "module {\n  input %5 : f32\n  input %\"a b\" : f32\n  output %5, %\"a b\"\n}\n";
  int nerr;
  Module *m = parse(src, strlen(src), &nerr, NULL);
  CHECK(m != NULL);
  if (!m)
    return;
  const Attr *names = ir_op_attr(ir_module_output(m), "names");
  CHECK(names && names->kind == ATTR_STRINGS && names->n == 2);
  CHECK_STR(names->strings[0], "5");
  CHECK_STR(names->strings[1], "a b");
  char *p = print(m, false);
  CHECK_STR(p, "module {\n  input %0 : f32\n  input %\"a b\" : f32\n"
               "  output %0, %\"a b\" {names = [\"5\", \"a b\"]}\n}\n");
  free(p);
  ir_module_free(m);
}

/* src must fail, with a diagnostic `t.kir:LINE:COL: LEVEL: WANT` among its messages. */
static void expect_diag(const char *src, int line, int col, const char *level, const char *want) {
  int nerr;
  char *msgs;
  Module *m = parse(src, strlen(src), &nerr, &msgs);
  CHECK(m == NULL);
  CHECK(nerr > 0);
  char head[600];
  snprintf(head, sizeof head, "t.kir:%d:%d: %s: %s", line, col, level, want);
  bool found = msgs && strstr(msgs, head);
  CHECK(found);
  if (!found)
    fprintf(stderr, "wanted: %s\ngot:\n%s\n", head, msgs ? msgs : "");
  ir_module_free(m);
  free(msgs);
}

static void expect_error(const char *src, int line, int col, const char *want) {
  expect_diag(src, line, col, "error", want);
}

static void test_errors(void) {
  expect_error("module {\n  input %x : f32[2]\n  %y = frobnicate(%x) : f32[2]\n  output %y\n}\n",
               3, 8, "unknown op 'frobnicate'");
  expect_error("module {\n  %y = relu($w) : f32[2]\n  output %y\n}\n", 2, 13,
               "use of undefined value '$w'");
  expect_error("module {\n  input %x : f32\n  input %x : f32\n  output %x\n}\n", 3, 9,
               "redefinition of value '%x'");
  expect_diag("module {\n  input %x : f32\n  input %x : f32\n  output %x\n}\n", 2, 9, "note",
              "previous definition is here");
  expect_error("module {\n  input %x : f31\n  output %x\n}\n", 2, 14, "unknown type 'f31'");
  expect_error("module {\n  input %x : f32[3,N]\n  output %x\n}\n", 2, 20,
               "batch dimension 'N' is only allowed as the first dimension");
  expect_error("module {\n  input %x : i32<s=1.0>\n  output %x\n}\n", 2, 17,
               "quantization parameters are only allowed on i8 and u8, not 'i32'");
  expect_error("module {\n  input %x : f32\n  %a, %b = relu(%x) : f32\n  output %a\n}\n", 3, 23,
               "expected 2 types after ':', got 1");
  expect_error("module {\n  input %x : f32\n  %a = fused(%x) : f32\n  output %a\n}\n", 3, 8,
               "op 'fused' needs a region");
  expect_error("module {\n  input %x : f32\n  %a = relu(%x) : f32 {\n    yield %x\n  }\n"
               "  output %a\n}\n",
               3, 23, "op 'relu' takes no region");
  expect_error("module {\n  input %x : f32\n  %a = fused(%x) : f32 {\n  }\n  output %a\n}\n", 4,
               3, "region must end with 'yield'");
  expect_error("module {\n  input %x : f32\n  yield %x\n  output %x\n}\n", 3, 3,
               "'yield' is only allowed at the end of a region");
  expect_error("module {\n  input %x : f32\n  output %x\n  output %x\n}\n", 3, 3,
               "'output' is only allowed at the end of the module");
  expect_error("module {\n  input %x : f32\n}\n", 3, 1, "module has no 'output'");
  expect_error("module {\n  input %x : f32\n  %y = elu(%x) {alpha = 1.0, alpha = 2.0} : f32\n"
               "  output %y\n}\n",
               3, 30, "duplicate attribute 'alpha'");
  expect_error("module {\n  input %x : f32\n  %y = elu(%x) {alpha = [1.0]} : f32\n  output %y\n}\n",
               3, 25, "attribute 'alpha' of 'elu' must be float, got floats");
  expect_error("module {\n  input %x : f32\n  %y = relu(%x) {l = [1, \"a\"]} : f32\n"
               "  output %y\n}\n",
               3, 26, "list mixes int and string");
  expect_error("module {\n  weight $w : f32[3] = dense<[1.0]>\n  output $w\n}\n", 2, 24,
               "dense tensor has 1 elements, type f32[3] needs 3");
  expect_error("module {\n  weight $w : i8[1] = dense<[128]>\n  output $w\n}\n", 2, 30,
               "value 128 does not fit in i8");
  expect_error("module {\n  weight $w : u8[1] = dense<[-1]>\n  output $w\n}\n", 2, 30,
               "value -1 does not fit in u8");
  expect_error("module {\n  weight $w : i32[1] = dense<[1.0]>\n  output $w\n}\n", 2, 31,
               "value 1.0 does not fit in i32");
  expect_error("module {\n  weight $w : f32[1] = dense_resource<k>\n  output $w\n}\n", 2, 24,
               "resource 'k' is not defined");
  expect_error("module {\n  weight $w : f32[1] = dense_resource<k>\n  output $w\n}\n"
               "resources {\n  k = \"0x00\"\n}\n",
               2, 24, "resource 'k' has 1 bytes, type f32[1] needs 4");
  expect_error("module {\n  weight $w : u8[1] = dense_resource<k>\n  output $w\n}\n"
               "resources {\n  k = \"0x00\"\n  k = \"0x00\"\n}\n",
               7, 3, "resource 'k' is defined twice");
  expect_error("module {\n  input %x : f32\n  output %x\n}\nresources {\n  k = \"0x00\"\n}\n", 6,
               3, "resource 'k' is not used");
  expect_error("module {\n  weight $w : u8[1] = dense_resource<k>\n  output $w\n}\n"
               "resources {\n  k = \"0x0\"\n}\n",
               6, 7, "bad hex in resource 'k'");
  expect_error("module {\n  input %\"x : f32\n  output %x\n}\n", 2, 9, "unterminated string");
  expect_error("module {\n  input %x : f32 ~\n}\n", 2, 18, "unexpected character '~'");
  expect_error("module {\n  input %x : f32\x01\n}\n", 2, 17, "unexpected character '\\x01'");
  expect_error("module {\n  input %x : f32", 2, 17, "unexpected end of file");
  expect_error("module {\n  input %x f32\n}\n", 2, 12,
               "syntax error: expected ':', got identifier 'f32'");
  expect_error("module {\n  input %x : f32[1,2,3,4,5,6,7,8,9]\n  output %x\n}\n", 2, 34,
               "type has more than 8 dimensions");
  expect_error("module {\n  input %x : f32[-2]\n  output %x\n}\n", 2, 18,
               "negative dimension -2");
  /* Region scoping: a value of a closed region is gone; its name stays taken. */
  expect_error("module {\n  input %x : f32\n  %a = fused(%x) : f32 {\n    %t = relu(%x) : f32\n"
               "    yield %t\n  }\n  output %t\n}\n",
               7, 10, "use of undefined value '%t'");
  expect_error("module {\n  input %x : f32\n  %a = fused(%x) : f32 {\n    %t = relu(%x) : f32\n"
               "    yield %t\n  }\n  %t = relu(%a) : f32\n  output %t\n}\n",
               7, 3, "redefinition of value '%t'");
  /* An op's own results are not in scope in its region. */
  expect_error("module {\n  input %x : f32\n  %a = fused(%x) : f32 {\n    yield %a\n  }\n"
               "  output %a\n}\n",
               4, 11, "use of undefined value '%a'");
  /* NUL bytes, an empty input, garbage. */
  int nerr;
  Module *m = parse("module {\0}", 10, &nerr, NULL);
  CHECK(m == NULL && nerr > 0);
  m = parse("", 0, &nerr, NULL);
  CHECK(m == NULL && nerr == 1);
  m = parse("\xff\xfe", 2, &nerr, NULL);
  CHECK(m == NULL && nerr == 1);
}

/* Every strict prefix of a valid module that cuts before its last '}' fails cleanly. */
static void test_truncations(const char *src) {
  size_t len = strlen(src), last = (size_t)(strrchr(src, '}') - src);
  int failures = 0;
  for (size_t n = 0; n < len; n++) {
    int nerr;
    Module *m = parse(src, n, &nerr, NULL);
    bool ok = n <= last ? (m == NULL && nerr > 0) : (m != NULL && nerr == 0);
    if (!ok && failures++ < 5)
      fprintf(stderr, "truncation to %zu bytes: module %p, %d errors\n", n, (void *)m, nerr);
    CHECK(ok);
    ir_module_free(m);
  }
}

/* A long resource string (4 MB of hex) parses in one piece. */
static void test_long_string(void) {
  const size_t nbytes = 2u << 20;
  Buf b = {0};
  ir_buf_printf(&b, "module {\n  weight $w : u8[%zu] = dense_resource<w>\n  output $w\n}\n"
                    "resources {\n  w = \"0x",
                nbytes);
  for (size_t i = 0; i < nbytes; i++)
    ir_buf_puts(&b, i % 2 ? "AB" : "cd");
  ir_buf_puts(&b, "\"\n}\n");
  int nerr;
  Module *m = parse(b.data, b.len, &nerr, NULL);
  CHECK(m != NULL);
  if (m) {
    const unsigned char *d = m->weights[0]->tensor->data;
    CHECK(m->weights[0]->tensor->nbytes == nbytes && d[0] == 0xcd && d[nbytes - 1] == 0xab);
    char *p = print(m, false);
    CHECK(strstr(p, "0xCDABCDAB") != NULL);
    free(p);
    ir_module_free(m);
  }
  /* The same string, unterminated: one error at its opening quote. */
  b.len -= 4;
  m = parse(b.data, b.len, &nerr, NULL);
  CHECK(m == NULL && nerr == 1);
  ir_buf_free(&b);
}

int main(void) {
  test_build();
  test_round_trip(full_module, false);
  test_round_trip(full_module, true);
  test_output_names();
  test_errors();
  test_truncations(full_module);
  test_long_string();
  return check_finish();
}
