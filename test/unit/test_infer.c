/* Unit tests of shape inference (ir/infer*.c): for every op a result it infers and, for every rule
 * that can fail, the exact message. Ops are built on fresh inputs in one module; types are
 * written in the IR's text form and results compared through ir_type_str. */
#include <stdint.h>
#include <stdlib.h>

#include "check.h"
#include "ir/ir.h"

static Module *m;
static Op *cur;                                     /* the op built last; attribute macros set it */
static bool ok_seen[OP_COUNT], err_seen[OP_COUNT]; /* kinds inferred with success / an error */

/* Parses a type in the IR's text form: f32, f32[N,3], i8<s=0.5,z=3>[2], ? */
static Type ty(const char *s) {
  char name[8] = "";
  size_t n = strcspn(s, "<[");
  memcpy(name, s, n < sizeof name ? n : sizeof name - 1);
  Type t = ir_type_scalar(ir_dtype_from_name(name));
  char *end;
  s += n;
  if (*s == '<') {
    t.quantized = true;
    t.scale = strtof(s + 3, &end);
    s = end;
    if (*s == ',') {
      t.zero_point = (int32_t)strtol(s + 3, &end, 10);
      s = end;
    }
    s++;
  }
  if (*s == '[')
    for (s++; *s && *s != ']'; s += *s == ',') {
      if (*s == 'N') {
        t.dims[t.rank++] = IR_DIM_N;
        s++;
      } else {
        t.dims[t.rank++] = strtoll(s, &end, 10);
        s = end;
      }
    }
  return t;
}

/* Builds an op of kind k with nres results on fresh inputs of the given types (NULL-terminated)
 * and makes it the current op. */
static Op *build(OpKind k, int nres, const char *const *types) {
  Value *vals[16];
  int n = 0;
  for (; types[n]; n++)
    vals[n] = ir_add_input(m, NULL, ty(types[n]));
  return cur = ir_op_create(m, k, n, vals, nres, NULL);
}

#define MKN(k, nres, ...) build(k, nres, (const char *const[]){__VA_ARGS__, NULL})
#define MK(k, ...) MKN(k, 1, __VA_ARGS__)
#define INTS(name, ...)                                                                            \
  ir_op_set_ints(m, cur, name, (const int64_t[]){__VA_ARGS__},                                   \
                 (int)(sizeof((const int64_t[]){__VA_ARGS__}) / sizeof(int64_t)))
#define FLOATS(name, ...)                                                                          \
  ir_op_set_floats(m, cur, name, (const double[]){__VA_ARGS__},                                  \
                   (int)(sizeof((const double[]){__VA_ARGS__}) / sizeof(double)))
#define INT(name, v) ir_op_set_int(m, cur, name, v)
#define FLOAT(name, v) ir_op_set_float(m, cur, name, v)
#define STR(name, v) ir_op_set_string(m, cur, name, v)
#define EMPTY(name) ir_op_set_ints(m, cur, name, (const int64_t[]){0}, 0)

/* Runs the op's inference function: its result types joined by ", ", or "error: " and the
 * message. Every result slot starts as garbage, so a slot left unset shows. */
static const char *infer(const Op *op) {
  static char text[1024];
  Type out[16];
  char err[256] = "";
  for (int i = 0; i < 16; i++)
    out[i] = ty("u64[7,7,7]");
  if (!ir_infer_fns[op->kind](op, out, err, sizeof err)) {
    err_seen[op->kind] = true;
    snprintf(text, sizeof text, "error: %s", err);
    return text;
  }
  ok_seen[op->kind] = true;
  size_t len = 0;
  text[0] = 0;
  for (int i = 0; i < op->nresults; i++)
    len += (size_t)snprintf(text + len, sizeof text - len, "%s%s", i ? ", " : "",
                            ir_type_str(&out[i]));
  return text;
}

#define EXPECT(want) CHECK_STR(infer(cur), want)

/* ---- the table and elementwise ops ----------------------------------------------------------- */

static void test_table(void) {
  for (int k = 0; k < OP_COUNT; k++) {
    if (!ir_infer_fns[k])
      fprintf(stderr, "op '%s' has no shape-inference function\n", ir_op_name((OpKind)k));
    CHECK(ir_infer_fns[k] != NULL);
  }
}

static void test_unary(void) {
  static const OpKind kinds[] = {OP_RELU,       OP_SIGMOID,    OP_TANH,    OP_EXP,  OP_LOG,
                                 OP_SQRT,       OP_ABS,        OP_NEG,     OP_RECIPROCAL,
                                 OP_FLOOR,      OP_CEIL,       OP_ERF,     OP_SOFTPLUS,
                                 OP_MISH,       OP_HARD_SWISH, OP_LEAKY_RELU, OP_ELU,
                                 OP_HARD_SIGMOID, OP_GELU,     OP_CLIP,    OP_IDENTITY,
                                 OP_DROPOUT};
  for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
    MK(kinds[i], "f32[N,3,4]");
    EXPECT("f32[N,3,4]");
    MK(kinds[i], "f16");
    EXPECT("f16");
  }
  /* relu, identity and dropout keep the quantization; the others drop it. */
  MK(OP_RELU, "i8<s=0.5,z=3>[2,3]");
  EXPECT("i8<s=0.5,z=3>[2,3]");
  Type q = ty("i8<s=0.5,z=3>[2,3]"), out;
  char err[64];
  CHECK(ir_infer_fns[OP_RELU](cur, &out, err, sizeof err) && ir_type_equal(&out, &q));
  MK(OP_IDENTITY, "u8<s=0.25>[4]");
  EXPECT("u8<s=0.25>[4]");
  MK(OP_SIGMOID, "i8<s=0.5,z=3>[2,3]");
  EXPECT("i8[2,3]");
  MK(OP_LEAKY_RELU, "f32[2]");
  FLOAT("alpha", 0.2);
  EXPECT("f32[2]");
  MK(OP_CLIP, "f32[2]");
  FLOAT("min", 0);
  FLOAT("max", 6);
  EXPECT("f32[2]");

  MK(OP_GELU, "f32[N,8]");
  STR("approximate", "tanh");
  EXPECT("f32[N,8]");
  STR("approximate", "erf");
  EXPECT("error: approximate \"erf\" is not one of none, tanh");
  /* A short err buffer is truncated, never overrun. */
  char small[8];
  CHECK(!ir_infer_fns[OP_GELU](cur, &out, small, sizeof small) && strlen(small) == 7);

  MK(OP_DROPOUT, "i8<s=0.5>[4]");
  FLOAT("ratio", 0.1);
  EXPECT("i8<s=0.5>[4]");
  FLOAT("ratio", 1.5);
  EXPECT("error: ratio 1.5 is out of range [0, 1)");
  FLOAT("ratio", -0.25);
  EXPECT("error: ratio -0.25 is out of range [0, 1)");
}

static void test_cast(void) {
  Value *x = ir_add_input(m, NULL, ty("f32[N,3]"));
  Type decl = ty("f16");
  cur = ir_op_create(m, OP_CAST, 1, &x, 1, &decl);
  EXPECT("f16[N,3]");
  decl = ty("i8<s=0.25>");
  cur = ir_op_create(m, OP_CAST, 1, &x, 1, &decl);
  EXPECT("i8<s=0.25>[N,3]");
  Value *q = ir_add_input(m, NULL, ty("u8<s=0.5,z=128>[2]"));
  decl = ty("f32");
  cur = ir_op_create(m, OP_CAST, 1, &q, 1, &decl);
  EXPECT("f32[2]");
  cur = ir_op_create(m, OP_CAST, 1, &x, 1, NULL);
  EXPECT("error: result type of cast must be given");
}

static void test_binary(void) {
  static const OpKind kinds[] = {OP_ADD, OP_SUB, OP_MUL, OP_DIV, OP_MAX, OP_MIN};
  for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
    MK(kinds[i], "f32[N,3,4]", "f32[4]");
    EXPECT("f32[N,3,4]");
    MK(kinds[i], "f32[2,1]", "f32[1,3]");
    EXPECT("f32[2,3]");
    MK(kinds[i], "f32[2,3]", "f32[4]");
    EXPECT("error: shapes f32[2,3] and f32[4] do not broadcast");
    MK(kinds[i], "f32[2,3]", "f16[2,3]");
    EXPECT("error: operand types f32 and f16 differ");
  }
  MK(OP_ADD, "f32[N,3]", "f32[1,3]");
  EXPECT("f32[N,3]");
  MK(OP_ADD, "f32[1,3]", "f32[N,1]");
  EXPECT("f32[N,3]");
  MK(OP_ADD, "i8<s=0.5>[2]", "i8<s=0.5>[2]");
  EXPECT("i8[2]");
  MK(OP_MUL, "f32[N,3]", "f32[2,3]");
  EXPECT("error: shapes f32[N,3] and f32[2,3] do not broadcast");
  MK(OP_ADD, "f32[N]", "f32[3,1]");
  EXPECT("error: broadcasting f32[N] with f32[3,1] moves the batch dimension N away from the front");

  MK(OP_POW, "f32[2,3]", "i32");
  EXPECT("f32[2,3]");
  MK(OP_POW, "f32[2,3]", "f32[2]");
  EXPECT("error: shapes f32[2,3] and f32[2] do not broadcast");

  static const OpKind cmps[] = {OP_EQUAL, OP_LESS, OP_GREATER};
  for (size_t i = 0; i < 3; i++) {
    MK(cmps[i], "f32[N,3]", "f32[3]");
    EXPECT("bool[N,3]");
    MK(cmps[i], "i64[2]", "i32[2]");
    EXPECT("error: operand types i64 and i32 differ");
    MK(cmps[i], "i64[2]", "i64[3]");
    EXPECT("error: shapes i64[2] and i64[3] do not broadcast");
  }

  MK(OP_PRELU, "f32[N,3,4,4]", "f32[3,1,1]");
  EXPECT("f32[N,3,4,4]");
  MK(OP_PRELU, "f32[2,3]", "f32");
  EXPECT("f32[2,3]");
  MK(OP_PRELU, "f32[N,3,4,4]", "f32[4,1,1]");
  EXPECT("error: operand 1 f32[4,1,1] does not broadcast to [N,3,4,4]");
  MK(OP_PRELU, "f32[3]", "f32[2,3]");
  EXPECT("error: operand 1 f32[2,3] does not broadcast to [3]");
  MK(OP_PRELU, "f32[3]", "f16[3]");
  EXPECT("error: operand types f32 and f16 differ");

  MK(OP_WHERE, "bool[2,1]", "f32[1,3]", "f32");
  EXPECT("f32[2,3]");
  MK(OP_WHERE, "bool[N,1]", "i64[4]", "i64[N,4]");
  EXPECT("i64[N,4]");
  MK(OP_WHERE, "f32[2]", "f32[2]", "f32[2]");
  EXPECT("error: operand 0 (the condition) has dtype f32, expected bool");
  MK(OP_WHERE, "bool[2]", "f32[2]", "f16[2]");
  EXPECT("error: operand types f32 and f16 differ");
  MK(OP_WHERE, "bool[4]", "f32[3]", "f32[3]");
  EXPECT("error: shapes bool[4] and f32[3] do not broadcast");
  MK(OP_WHERE, "bool[3]", "f32[1]", "f32[4]");
  EXPECT("error: shapes bool[3] and f32[4] do not broadcast");
}

/* ---- structural ops -------------------------------------------------------------------------- */

static void test_structural(void) {
  static const OpKind kinds[] = {OP_FUSED, OP_SEGMENT};
  for (int k = 0; k < 2; k++) {
    Value *x = ir_add_input(m, NULL, ty("f32[N,3]"));
    Op *f = ir_op_create(m, kinds[k], 1, &x, 2, NULL);
    Block *b = ir_op_add_body(m, f);
    Type rt = ty("bool[N,3]");
    Op *r = ir_op_create(m, OP_LESS, 2, (Value *[]){x, x}, 1, &rt);
    ir_block_append(b, r);
    cur = f;
    EXPECT("error: region has no yield");
    Op *y = ir_op_create(m, OP_YIELD, 2, (Value *[]){r->results[0], x}, 0, NULL);
    ir_block_append(b, y);
    EXPECT("bool[N,3], f32[N,3]");
    cur = y;
    EXPECT("");
    cur = ir_op_create(m, kinds[k], 1, &x, 1, NULL);
    ir_block_append(ir_op_add_body(m, cur), ir_op_create(m, OP_YIELD, 2, (Value *[]){x, x}, 0,
                                                         NULL));
    EXPECT("error: region yields 2 values, op has 1 result");
    cur = ir_op_create(m, kinds[k], 1, &x, 3, NULL);
    ir_block_append(ir_op_add_body(m, cur), ir_op_create(m, OP_YIELD, 1, &x, 0, NULL));
    EXPECT("error: region yields 1 value, op has 3 results");
    cur = ir_op_create(m, kinds[k], 1, &x, 1, NULL); /* no body at all */
    EXPECT("error: region has no yield");
  }
  MKN(OP_OUTPUT, 0, "f32[2]", "f32[3]");
  EXPECT("");
  MKN(OP_YIELD, 0, "f32[2]");
  EXPECT("");
}

/* ---- convolutions and matrix products -------------------------------------------------------- */

static void test_conv(void) {
  MK(OP_CONV, "f32[N,3,224,224]", "f32[64,3,7,7]", "f32[64]");
  INTS("strides", 2, 2);
  INTS("pads", 3, 3, 3, 3);
  EXPECT("f32[N,64,112,112]");
  MK(OP_CONV, "f32[1,32,10,10]", "f32[32,1,3,3]");
  INT("group", 32);
  INTS("dilations", 2, 2);
  EXPECT("f32[1,32,6,6]");
  MK(OP_CONV, "f32[2,4,10]", "f32[8,2,3]");
  INT("group", 2);
  INTS("strides", 3);
  EXPECT("f32[2,8,3]");
  MK(OP_CONV, "f32[1,2,5,6,7]", "f32[4,2,1,2,3]"); /* 3-D, asymmetric pads */
  INTS("pads", 0, 1, 0, 0, 0, 2);
  EXPECT("f32[1,4,5,6,7]");
  MK(OP_CONV, "u8<s=0.5>[1,3,4,4]", "i8<s=0.25>[2,3,3,3]", "i32[2]");
  EXPECT("u8[1,2,2,2]");

  MK(OP_CONV, "f32[2,3]", "f32[4,3]");
  EXPECT("error: operand 0 has rank 2, expected at least 3 (N, C and spatial dimensions)");
  MK(OP_CONV, "f32[1,3,8,8]", "f32[4,3,3]");
  EXPECT("error: operand 1 has rank 3, expected 4 (the rank of operand 0)");
  MK(OP_CONV, "f32[1,3,8,8]", "f16[4,3,3,3]");
  EXPECT("error: operand types f32 and f16 differ");
  MK(OP_CONV, "f32[1,3,8,8]", "f32[N,3,3,3]");
  EXPECT("error: operand 1 may not have the batch dimension N");
  MK(OP_CONV, "f32[1,3,8,8]", "f32[4,3,3,3]");
  INT("group", 0);
  EXPECT("error: group is 0, expected at least 1");
  INT("group", 2);
  EXPECT("error: group 2 does not divide the 3 input channels of operand 0");
  MK(OP_CONV, "f32[1,4,8,8]", "f32[6,1,3,3]");
  INT("group", 4);
  EXPECT("error: group 4 does not divide the 6 output channels of operand 1");
  MK(OP_CONV, "f32[1,4,8,8]", "f32[8,3,3,3]");
  EXPECT("error: operand 1 has 3 input channels per group, operand 0 has 4");
  MK(OP_CONV, "f32[1,4,8,8]", "f32[8,4,0,3]");
  EXPECT("error: operand 1 has kernel size 0 in dimension 2");
  MK(OP_CONV, "f32[N,4,8,8]", "f32[8,4,3,3]");
  INTS("strides", 1);
  EXPECT("error: strides has 1 value, expected 2 (one per spatial dimension)");
  INTS("strides", 1, 0);
  EXPECT("error: strides[1] is 0, expected at least 1");
  INTS("strides", 1, 4294967296);
  EXPECT("error: strides[1] is 4294967296, expected at most 2147483647");
  INTS("strides", 1, 1);
  INTS("pads", 1, 1);
  EXPECT("error: pads has 2 values, expected 4 (a begin and an end per spatial dimension)");
  INTS("pads", -1, 0, 0, 0);
  EXPECT("error: pads[0] is -1, expected at least 0");
  INTS("pads", 0, 0, 0, 0);
  INTS("dilations", 0, 1);
  EXPECT("error: dilations[0] is 0, expected at least 1");
  INTS("dilations", 4, 1);
  EXPECT("error: dimension 2 of operand 0 (size 8, padded to 8) is "
         "smaller than the kernel extent 9");
  MK(OP_CONV, "f32[1,4,3,3]", "f32[8,4,5,5]");
  INTS("pads", 1, 0, 0, 0);
  EXPECT("error: dimension 2 of operand 0 (size 3, padded to 4) is "
         "smaller than the kernel extent 5");
  MK(OP_CONV, "f32[1,4,8,8]", "f32[8,4,3,3]", "f32[4]");
  EXPECT("error: operand 2 has shape [4], expected [8] (one per output channel)");
  MK(OP_CONV, "f32[1,4,8,8]", "f32[8,4,3,3]", "f16[8]");
  EXPECT("error: operand types f32 and f16 differ");
}

static void test_conv_transpose(void) {
  MK(OP_CONV_TRANSPOSE, "f32[N,16,7,7]", "f32[16,8,3,3]");
  INTS("strides", 2, 2);
  INTS("pads", 1, 1, 1, 1);
  INTS("output_padding", 1, 1);
  EXPECT("f32[N,8,14,14]");
  MK(OP_CONV_TRANSPOSE, "f32[1,4,5]", "f32[4,3,3]", "f32[6]");
  INT("group", 2);
  EXPECT("f32[1,6,7]");
  MK(OP_CONV_TRANSPOSE, "f32[1,2,4]", "f32[2,1,3]");
  INTS("dilations", 2);
  EXPECT("f32[1,1,8]");

  MK(OP_CONV_TRANSPOSE, "f32[1,4,5,5]", "f32[3,2,3,3]");
  EXPECT("error: operand 1 has 3 input channels, operand 0 has 4");
  MK(OP_CONV_TRANSPOSE, "f32[1,3,5]", "f32[3,2,3]");
  INT("group", 2);
  EXPECT("error: group 2 does not divide the 3 input channels of operand 0");
  MK(OP_CONV_TRANSPOSE, "f32[1,4,5]", "f32[4,3,3]", "f32[2]");
  INT("group", 2);
  EXPECT("error: operand 2 has shape [2], expected [6] (one per output channel)");
  MK(OP_CONV_TRANSPOSE, "f32[1,4,5,5]", "f32[4,2,3,3]");
  INTS("strides", 2, 2);
  INTS("output_padding", 1);
  EXPECT("error: output_padding has 1 value, expected 2 (one per spatial dimension)");
  INTS("output_padding", 2, 0);
  EXPECT("error: output_padding[0] is 2, expected less than stride 2 or dilation 1");
  INTS("output_padding", 0, -1);
  EXPECT("error: output_padding[1] is -1, expected at least 0");
  MK(OP_CONV_TRANSPOSE, "f32[1,4,1]", "f32[4,2,1]");
  INTS("pads", 1, 1);
  EXPECT("error: dimension 2 of the result would have size -1");
  MK(OP_CONV_TRANSPOSE, "f32[1,4]", "f32[4,2]");
  EXPECT("error: operand 0 has rank 2, expected at least 3 (N, C and spatial dimensions)");
}

static void test_gemm(void) {
  MK(OP_GEMM, "f32[N,512]", "f32[1000,512]", "f32[1000]");
  INT("trans_b", 1);
  EXPECT("f32[N,1000]");
  MK(OP_GEMM, "f32[3,2]", "f32[3,4]", "f32[2,1]");
  INT("trans_a", 1);
  FLOAT("alpha", 0.5);
  EXPECT("f32[2,4]");
  MK(OP_GEMM, "f32[N,3]", "f32[3,4]", "f32[N,4]");
  EXPECT("f32[N,4]");

  MK(OP_GEMM, "f32[2,3,4]", "f32[4,5]");
  EXPECT("error: operand 0 has rank 3, expected 2");
  MK(OP_GEMM, "f32[2,3]", "f32[3]");
  EXPECT("error: operand 1 has rank 1, expected 2");
  MK(OP_GEMM, "f32[2,3]", "f16[3,4]");
  EXPECT("error: operand types f32 and f16 differ");
  MK(OP_GEMM, "f32[2,3]", "f32[4,5]");
  EXPECT("error: inner dimensions differ: operand 0 has 3, operand 1 has 4");
  MK(OP_GEMM, "f32[N,3]", "f32[N,4]");
  EXPECT("error: operand 1 may not have the batch dimension N");
  MK(OP_GEMM, "f32[N,3]", "f32[3,4]");
  INT("trans_a", 1);
  EXPECT("error: cannot contract over the batch dimension N of operand 0");
  INT("trans_a", 0);
  INT("trans_b", 2);
  EXPECT("error: trans_b is 2, expected 0 or 1");
  MK(OP_GEMM, "f32[2,3]", "f32[3,4]", "f32[3]");
  EXPECT("error: operand 2 f32[3] does not broadcast to [2,4]");
  MK(OP_GEMM, "f32[2,3]", "f32[3,4]", "f32[N,4]");
  EXPECT("error: operand 2 f32[N,4] does not broadcast to [2,4]");
  MK(OP_GEMM, "f32[2,3]", "f32[3,4]", "f16[4]");
  EXPECT("error: operand types f32 and f16 differ");
}

static void test_matmul(void) {
  static const char *const ok[][3] = {
      {"f32[2,3]", "f32[3,4]", "f32[2,4]"},
      {"f32[N,8,64]", "f32[64,32]", "f32[N,8,32]"},
      {"f32[N,64]", "f32[64,32]", "f32[N,32]"},
      {"f32[3]", "f32[3]", "f32"},
      {"f32[3]", "f32[2,3,4]", "f32[2,4]"},
      {"f32[2,3]", "f32[3]", "f32[2]"},
      {"f32[N,4,3]", "f32[3]", "f32[N,4]"},
      {"f32[2,1,4,3]", "f32[5,3,6]", "f32[2,5,4,6]"},
      {"f32[N,4,3]", "f32[N,3,5]", "f32[N,4,5]"},
      {"f32[N,4,3]", "f32[1,3,5]", "f32[N,4,5]"},
      {"i8[2,3]", "u8[3,4]", "i8[2,4]"},
  };
  for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
    MK(OP_MATMUL, ok[i][0], ok[i][1]);
    EXPECT(ok[i][2]);
  }
  MK(OP_MATMUL, "f32", "f32[3]");
  EXPECT("error: operand 0 is a scalar, expected rank at least 1");
  MK(OP_MATMUL, "f32[3]", "f32");
  EXPECT("error: operand 1 is a scalar, expected rank at least 1");
  MK(OP_MATMUL, "f32[2,3]", "f32[4,5]");
  EXPECT("error: inner dimensions differ: operand 0 has 3, operand 1 has 4");
  MK(OP_MATMUL, "f32[3]", "f32[4]");
  EXPECT("error: inner dimensions differ: operand 0 has 3, operand 1 has 4");
  MK(OP_MATMUL, "f32[2,4,3]", "f32[5,3,6]");
  EXPECT("error: batch dimensions [2] of operand 0 and [5] of operand 1 do not broadcast");
  MK(OP_MATMUL, "f32[2,3]", "f32[N,4]");
  EXPECT("error: cannot contract over the batch dimension N of operand 1");
  MK(OP_MATMUL, "f32[N]", "f32[3,4]");
  EXPECT("error: cannot contract over the batch dimension N of operand 0");
  MK(OP_MATMUL, "f32[N,3]", "f32[2,3,4]");
  EXPECT("error: result [2,N,4] would have the batch dimension N at position 1, not first");
  MK(OP_MATMUL, "f32[2,3]", "f16[3,4]");
  EXPECT("error: operand types f32 and f16 differ");
}

/* ---- pools, normalizations, reductions ------------------------------------------------------- */

static void test_pools(void) {
  MK(OP_MAX_POOL, "f32[N,64,112,112]");
  INTS("kernel_shape", 3, 3);
  INTS("strides", 2, 2);
  INTS("pads", 1, 1, 1, 1);
  EXPECT("f32[N,64,56,56]");
  MK(OP_MAX_POOL, "f32[1,1,6,6]");
  INTS("kernel_shape", 3, 3);
  INTS("strides", 2, 2);
  EXPECT("f32[1,1,2,2]");
  INT("ceil_mode", 1);
  EXPECT("f32[1,1,3,3]");
  /* ceil_mode drops a last window that would start in the end padding. */
  MK(OP_MAX_POOL, "f32[1,1,5]");
  INTS("kernel_shape", 1);
  INTS("strides", 2);
  INTS("pads", 0, 1);
  INT("ceil_mode", 1);
  EXPECT("f32[1,1,3]");
  MK(OP_MAX_POOL, "f32[1,1,10]");
  INTS("kernel_shape", 3);
  INTS("dilations", 2);
  EXPECT("f32[1,1,6]");
  MK(OP_MAX_POOL, "i8<s=0.5,z=3>[1,1,4,4]");
  INTS("kernel_shape", 2, 2);
  INTS("strides", 2, 2);
  EXPECT("i8<s=0.5,z=3>[1,1,2,2]");

  MK(OP_MAX_POOL, "f32[1,1,4,4]");
  EXPECT("error: kernel_shape is required");
  INTS("kernel_shape", 2);
  EXPECT("error: kernel_shape has 1 value, expected 2 (one per spatial dimension)");
  INTS("kernel_shape", 2, 0);
  EXPECT("error: kernel_shape[1] is 0, expected at least 1");
  INTS("kernel_shape", 2, 2);
  INT("ceil_mode", 2);
  EXPECT("error: ceil_mode is 2, expected 0 or 1");
  INT("ceil_mode", 0);
  INTS("dilations", 1, 1, 1);
  EXPECT("error: dilations has 3 values, expected 2 (one per spatial dimension)");
  INTS("dilations", 1, 4);
  EXPECT("error: dimension 3 of operand 0 (size 4, padded to 4) is "
         "smaller than the kernel extent 5");
  MK(OP_MAX_POOL, "f32[1,4]");
  INTS("kernel_shape", 2);
  EXPECT("error: operand 0 has rank 2, expected at least 3 (N, C and spatial dimensions)");

  MK(OP_AVG_POOL, "f32[N,8,7,7]");
  INTS("kernel_shape", 7, 7);
  EXPECT("f32[N,8,1,1]");
  INT("count_include_pad", 1);
  INTS("pads", 1, 1, 1, 1);
  INTS("strides", 2, 2);
  INT("ceil_mode", 1);
  EXPECT("f32[N,8,2,2]");
  MK(OP_AVG_POOL, "i8<s=0.5>[1,1,4,4]");
  INTS("kernel_shape", 2, 2);
  EXPECT("i8[1,1,3,3]");
  INT("count_include_pad", 3);
  EXPECT("error: count_include_pad is 3, expected 0 or 1");
  MK(OP_AVG_POOL, "f32[1,1,4,4]");
  EXPECT("error: kernel_shape is required");
  INTS("kernel_shape", 2, 2);
  INTS("strides", 1, 1, 1);
  EXPECT("error: strides has 3 values, expected 2 (one per spatial dimension)");
  INTS("strides", 1, 1);
  INTS("kernel_shape", 5, 1);
  EXPECT("error: dimension 2 of operand 0 (size 4, padded to 4) is "
         "smaller than the kernel extent 5");

  static const OpKind globals[] = {OP_GLOBAL_AVG_POOL, OP_GLOBAL_MAX_POOL};
  for (int i = 0; i < 2; i++) {
    MK(globals[i], "f32[N,512,7,7]");
    EXPECT("f32[N,512,1,1]");
    MK(globals[i], "f32[2,5,3,4,6]");
    EXPECT("f32[2,5,1,1,1]");
    MK(globals[i], "f32[N,5]");
    EXPECT("f32[N,5]");
    MK(globals[i], "f32[5]");
    EXPECT("error: operand 0 has rank 1, expected at least 2 (N, C, ...)");
  }
  MK(OP_GLOBAL_MAX_POOL, "u8<s=0.5,z=128>[1,2,3,3]");
  EXPECT("u8<s=0.5,z=128>[1,2,1,1]");
  MK(OP_GLOBAL_AVG_POOL, "u8<s=0.5,z=128>[1,2,3,3]");
  EXPECT("u8[1,2,1,1]");
}

static void test_norms(void) {
  MK(OP_BATCH_NORM, "f32[N,16,8,8]", "f32[16]", "f32[16]", "f32[16]", "f32[16]");
  FLOAT("epsilon", 1e-5);
  EXPECT("f32[N,16,8,8]");
  MK(OP_BATCH_NORM, "f32[4,3]", "f32[3]", "f32[3]", "f32[3]", "f32[3]");
  EXPECT("f32[4,3]");
  MK(OP_BATCH_NORM, "f32[N,16,8,8]", "f32[16]", "f32[16]", "f32[8]", "f32[16]");
  EXPECT("error: operand 3 (mean) has shape [8], expected [16] (one per channel)");
  MK(OP_BATCH_NORM, "f32[N,16,8,8]", "f32[1,16]", "f32[16]", "f32[16]", "f32[16]");
  EXPECT("error: operand 1 (scale) has shape [1,16], expected [16] (one per channel)");
  MK(OP_BATCH_NORM, "f32[16]", "f32[16]", "f32[16]", "f32[16]", "f32[16]");
  EXPECT("error: operand 0 has rank 1, expected at least 2 (N, C, ...)");

  MK(OP_LAYER_NORM, "f32[N,128,768]", "f32[768]", "f32[768]");
  EXPECT("f32[N,128,768]");
  MK(OP_LAYER_NORM, "f32[N,128,768]", "f32[1,768]");
  INT("axis", 1);
  EXPECT("f32[N,128,768]");
  MK(OP_LAYER_NORM, "f32[2,3,4]", "f32[2,3,4]", "f32[4]");
  INT("axis", -3);
  EXPECT("f32[2,3,4]");
  MK(OP_LAYER_NORM, "f32[N,128,768]", "f32[512]");
  EXPECT("error: operand 1 f32[512] does not broadcast to [768]");
  MK(OP_LAYER_NORM, "f32[N,128,768]", "f32[768]", "f32[128,768]");
  EXPECT("error: operand 2 f32[128,768] does not broadcast to [768]");
  MK(OP_LAYER_NORM, "f32[N,128,768]", "f16[768]");
  EXPECT("error: operand types f32 and f16 differ");
  INT("axis", 3);
  EXPECT("error: axis 3 is out of range for rank 3");
  INT("axis", -3);
  EXPECT("error: cannot normalize over the batch dimension N");
}

static void test_reduce(void) {
  static const OpKind kinds[] = {OP_REDUCE_MEAN,     OP_REDUCE_SUM,     OP_REDUCE_MAX,
                                 OP_REDUCE_MIN,      OP_REDUCE_PROD,    OP_REDUCE_L1,
                                 OP_REDUCE_L2,       OP_REDUCE_LOG_SUM, OP_REDUCE_LOG_SUM_EXP,
                                 OP_REDUCE_SUM_SQUARE};
  for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
    MK(kinds[k], "f32[N,64,7,7]");
    INTS("axes", 2, 3);
    EXPECT("f32[N,64,1,1]");
    INTS("axes", -1);
    INT("keepdims", 0);
    EXPECT("f32[N,64,7]");
    MK(kinds[k], "f32[2,3]");
    EXPECT("f32[1,1]");
    INT("keepdims", 0);
    EXPECT("f32");
    EMPTY("axes");
    EXPECT("f32");

    MK(kinds[k], "f32[N,3,4,5]");
    INTS("axes", 4);
    EXPECT("error: axis 4 is out of range for rank 4");
    INTS("axes", -5);
    EXPECT("error: axis -5 is out of range for rank 4");
    INTS("axes", 1, -3);
    EXPECT("error: axis 1 is listed twice");
    INTS("axes", 0, 1);
    EXPECT("error: cannot reduce over the batch dimension N");
    ir_op_remove_attr(cur, "axes");
    EXPECT("error: cannot reduce over the batch dimension N");
    INTS("axes", 1);
    INT("keepdims", 2);
    EXPECT("error: keepdims is 2, expected 0 or 1");
  }
  MK(OP_REDUCE_MAX, "i8<s=0.5>[2,3]");
  INTS("axes", 1);
  EXPECT("i8<s=0.5>[2,1]");
  MK(OP_REDUCE_MEAN, "i8<s=0.5>[2,3]");
  INTS("axes", 1);
  EXPECT("i8[2,1]");
  MK(OP_REDUCE_MIN, "i8<s=0.5>[2,3]");
  INTS("axes", 1);
  EXPECT("i8<s=0.5>[2,1]");
  MK(OP_REDUCE_PROD, "i8<s=0.5>[2,3]");
  EXPECT("i8[1,1]");

  static const OpKind args[] = {OP_ARG_MAX, OP_ARG_MIN};
  for (int k = 0; k < 2; k++) {
    MK(args[k], "f32[3,4,5]");
    EXPECT("i64[1,4,5]");
    INT("axis", -1);
    INT("keepdims", 0);
    EXPECT("i64[3,4]");
    INT("select_last_index", 1);
    EXPECT("i64[3,4]");
    MK(args[k], "i32[N,7]");
    INT("axis", 1);
    EXPECT("i64[N,1]");
    INT("axis", 0);
    EXPECT("error: cannot reduce over the batch dimension N");
    INT("axis", 2);
    EXPECT("error: axis 2 is out of range for rank 2");
    INT("axis", 1);
    INT("select_last_index", 2);
    EXPECT("error: select_last_index is 2, expected 0 or 1");
    MK(args[k], "f32[4]");
    INT("keepdims", 0);
    EXPECT("i64");
  }

  static const OpKind softs[] = {OP_LOG_SOFTMAX, OP_HARDMAX};
  for (int k = 0; k < 2; k++) {
    MK(softs[k], "f32[N,10]");
    EXPECT("f32[N,10]");
    INT("axis", 0);
    EXPECT("error: cannot take softmax over the batch dimension N");
    MK(softs[k], "f64[2,3,4]");
    INT("axis", 1);
    EXPECT("f64[2,3,4]");
    INT("axis", -4);
    EXPECT("error: axis -4 is out of range for rank 3");
  }

  MK(OP_SOFTMAX, "f32[N,1000]");
  EXPECT("f32[N,1000]");
  INT("axis", 1);
  EXPECT("f32[N,1000]");
  MK(OP_SOFTMAX, "f32[4,10]");
  INT("axis", 0);
  EXPECT("f32[4,10]");
  INT("axis", 2);
  EXPECT("error: axis 2 is out of range for rank 2");
  MK(OP_SOFTMAX, "f32[N,10]");
  INT("axis", -2);
  EXPECT("error: cannot take softmax over the batch dimension N");
  MK(OP_SOFTMAX, "f32");
  EXPECT("error: axis -1 is out of range for rank 0");
}

/* ---- shape-changing ops ---------------------------------------------------------------------- */

static void test_reshape(void) {
  MK(OP_RESHAPE, "f32[2,3,4]");
  INTS("shape", 4, -1);
  EXPECT("f32[4,6]");
  INTS("shape", 0, 12);
  EXPECT("f32[2,12]");
  INTS("shape", -1);
  EXPECT("f32[24]");
  INTS("shape", 0, 0, -1, 1);
  EXPECT("f32[2,3,4,1]");
  MK(OP_RESHAPE, "f32[N,3,4]");
  INTS("shape", -1, 12);
  EXPECT("f32[N,12]");
  INTS("shape", 0, 2, 6);
  EXPECT("f32[N,2,6]");
  INTS("shape", 0, -1);
  EXPECT("f32[N,12]");
  INTS("shape", 0, 0, 2, 2);
  EXPECT("f32[N,3,2,2]");
  INTS("shape", -1);
  EXPECT("error: cannot reshape f32[N,3,4] (12 elements per batch item) into [N] (1 element per "
         "batch item)");
  MK(OP_RESHAPE, "f32[1,1]");
  EMPTY("shape");
  EXPECT("f32");
  MK(OP_RESHAPE, "i8<s=0.5,z=1>[2,3]");
  INTS("shape", 3, 2);
  EXPECT("i8<s=0.5,z=1>[3,2]");
  MK(OP_RESHAPE, "f32[0,3]");
  INTS("shape", 0, 5);
  EXPECT("f32[0,5]");

  MK(OP_RESHAPE, "f32[2,3]");
  EXPECT("error: shape is required");
  INTS("shape", -1, -1);
  EXPECT("error: shape[1] is a second -1 (the first is shape[0])");
  INTS("shape", -2, 3);
  EXPECT("error: shape[0] is -2, expected a size, 0 or -1");
  INTS("shape", 1, 6, 0);
  EXPECT("error: shape[2] is 0 (copy dimension 2) but operand 0 has rank 2");
  INTS("shape", 4, 2);
  EXPECT("error: cannot reshape f32[2,3] (6 elements) into [4,2] (8 elements)");
  INTS("shape", 4, -1);
  EXPECT("error: cannot infer shape[1] = -1: 6 elements do not divide by 4");
  INTS("shape", 1, 1, 1, 1, 1, 1, 1, 1, 6);
  EXPECT("error: result would have rank 9, more than the 8 kiln supports");
  MK(OP_RESHAPE, "f32[0,3]");
  INTS("shape", 0, -1);
  EXPECT("error: cannot infer shape[1] = -1 next to a dimension of size 0");
  MK(OP_RESHAPE, "f32[N,3,4]");
  INTS("shape", 2, 6);
  EXPECT("error: reshape of a batched tensor must keep the batch dimension first (shape[0] 0 or "
         "-1)");
  EMPTY("shape");
  EXPECT("error: reshape of a batched tensor must keep the batch dimension first (shape[0] 0 or "
         "-1)");
  INTS("shape", -1, -1);
  EXPECT("error: shape[1] is a second -1 (the first is shape[0])");
  INTS("shape", 0, 5);
  EXPECT("error: cannot reshape f32[N,3,4] (12 elements per batch item) into [N,5] (5 elements "
         "per batch item)");
  INTS("shape", 0, 5, -1);
  EXPECT("error: cannot infer shape[2] = -1: 12 elements per batch item do not divide by 5");
}

static void test_flatten_squeeze(void) {
  MK(OP_FLATTEN, "f32[2,3,4,5]");
  EXPECT("f32[2,60]");
  INT("axis", 0);
  EXPECT("f32[1,120]");
  INT("axis", 4);
  EXPECT("f32[120,1]");
  INT("axis", -1);
  EXPECT("f32[24,5]");
  INT("axis", 5);
  EXPECT("error: axis 5 is out of range for rank 4");
  INT("axis", -5);
  EXPECT("error: axis -5 is out of range for rank 4");
  MK(OP_FLATTEN, "f32[N,3,4]");
  EXPECT("f32[N,12]");
  INT("axis", 3);
  EXPECT("error: flatten at axis 3 would fold dimensions [3,4] into the batch dimension N");
  INT("axis", 0);
  EXPECT("error: flatten at axis 0 would move the batch dimension N inward");
  INT("axis", -3);
  EXPECT("error: flatten at axis 0 would move the batch dimension N inward");
  MK(OP_FLATTEN, "u8<s=0.5>[N,1,4,5]");
  INT("axis", 2);
  EXPECT("u8<s=0.5>[N,20]");

  MK(OP_SQUEEZE, "f32[1,3,1,2]");
  EXPECT("f32[3,2]");
  INTS("axes", 0);
  EXPECT("f32[3,1,2]");
  INTS("axes", -2);
  EXPECT("f32[1,3,2]");
  EMPTY("axes");
  EXPECT("f32[1,3,1,2]");
  INTS("axes", 1);
  EXPECT("error: cannot squeeze dimension 1 of size 3");
  INTS("axes", 4);
  EXPECT("error: axis 4 is out of range for rank 4");
  INTS("axes", 0, -4);
  EXPECT("error: axis 0 is listed twice");
  MK(OP_SQUEEZE, "f32[N,1,5]");
  EXPECT("f32[N,5]");
  INTS("axes", 0);
  EXPECT("error: cannot squeeze the batch dimension N");

  MK(OP_UNSQUEEZE, "f32[3,4]");
  EXPECT("error: axes is required");
  INTS("axes", 0);
  EXPECT("f32[1,3,4]");
  INTS("axes", -1);
  EXPECT("f32[3,4,1]");
  INTS("axes", 3, 0);
  EXPECT("f32[1,3,4,1]");
  INTS("axes", 3);
  EXPECT("error: axis 3 is out of range for rank 3");
  INTS("axes", 1, -3);
  EXPECT("error: axis 1 is listed twice");
  MK(OP_UNSQUEEZE, "f32");
  INTS("axes", 0);
  EXPECT("f32[1]");
  MK(OP_UNSQUEEZE, "i8<s=2.0>[N,3]");
  INTS("axes", 1);
  EXPECT("i8<s=2.0>[N,1,3]");
  INTS("axes", 0);
  EXPECT("error: cannot insert a dimension before the batch dimension N");
  MK(OP_UNSQUEEZE, "f32[1,1,1,1,1,1,1,1]");
  INTS("axes", 0);
  EXPECT("error: result would have rank 9, more than the 8 kiln supports");
}

static void test_transpose_concat(void) {
  MK(OP_TRANSPOSE, "f32[2,3,4]");
  EXPECT("f32[4,3,2]");
  INTS("perm", 0, 2, 1);
  EXPECT("f32[2,4,3]");
  INTS("perm", 0, 2);
  EXPECT("error: perm has 2 values, expected 3 (the rank of operand 0)");
  INTS("perm", 0, 2, 2);
  EXPECT("error: perm [0,2,2] is not a permutation of 0..2");
  INTS("perm", -1, 0, 1);
  EXPECT("error: perm [-1,0,1] is not a permutation of 0..2");
  INTS("perm", 0, 1, 3);
  EXPECT("error: perm [0,1,3] is not a permutation of 0..2");
  MK(OP_TRANSPOSE, "i8<s=0.5>[N,3,4]");
  INTS("perm", 0, 2, 1);
  EXPECT("i8<s=0.5>[N,4,3]");
  ir_op_remove_attr(cur, "perm");
  EXPECT("error: transpose must keep the batch dimension N first (perm[0] is 2)");
  MK(OP_TRANSPOSE, "f32");
  EXPECT("f32");

  MK(OP_CONCAT, "f32[N,3,8]", "f32[N,5,8]");
  INT("axis", 1);
  EXPECT("f32[N,8,8]");
  MK(OP_CONCAT, "f32[2,3]", "f32[2,4]", "f32[2,1]");
  INT("axis", -1);
  EXPECT("f32[2,8]");
  MK(OP_CONCAT, "u8<s=0.5>[2,3]", "u8<s=0.5>[3,3]");
  INT("axis", 0);
  EXPECT("u8<s=0.5>[5,3]");
  MK(OP_CONCAT, "f32[2]");
  INT("axis", 0);
  EXPECT("f32[2]");

  MK(OP_CONCAT, "f32[2,3]", "f32[3,4]");
  EXPECT("error: axis is required");
  INT("axis", 1);
  EXPECT("error: operand 1 has size 3 in dimension 0, operand 0 has 2");
  INT("axis", 2);
  EXPECT("error: axis 2 is out of range for rank 2");
  MK(OP_CONCAT, "f32[2,3]", "f32[2]");
  INT("axis", 1);
  EXPECT("error: operand 1 has rank 1, operand 0 has rank 2");
  MK(OP_CONCAT, "f32[2,3]", "f16[2,3]");
  INT("axis", 1);
  EXPECT("error: operand types f32 and f16 differ");
  MK(OP_CONCAT, "f32[N,3]", "f32[2,3]");
  INT("axis", 1);
  EXPECT("error: operand 1 has size 2 in dimension 0, operand 0 has N");
  INT("axis", 0);
  EXPECT("error: cannot concatenate along the batch dimension N");
  MK(OP_CONCAT, "f32[2,3]", "f32[N,3]");
  INT("axis", -2);
  EXPECT("error: cannot concatenate along the batch dimension N");
}

static void test_split(void) {
  MKN(OP_SPLIT, 3, "f32[N,6,4]");
  INT("axis", 1);
  EXPECT("f32[N,2,4], f32[N,2,4], f32[N,2,4]");
  INTS("split", 1, 2, 3);
  EXPECT("f32[N,1,4], f32[N,2,4], f32[N,3,4]");
  INTS("split", 1, 5);
  EXPECT("error: split has 2 sizes, op has 3 results");
  INTS("split", 1, 2, 2);
  EXPECT("error: split sizes sum to 5, dimension 1 has size 6");
  INTS("split", -1, 3, 4);
  EXPECT("error: split[0] is -1, expected 0 to 6");
  INTS("split", 4611686018427387904LL, 4611686018427387904LL, 6); /* would overflow a sum */
  EXPECT("error: split[0] is 4611686018427387904, expected 0 to 6");
  INTS("split", 0, 6, 0);
  EXPECT("f32[N,0,4], f32[N,6,4], f32[N,0,4]");
  INT("axis", 0);
  EXPECT("error: cannot split along the batch dimension N");
  INT("axis", 3);
  EXPECT("error: axis 3 is out of range for rank 3");
  MKN(OP_SPLIT, 3, "i8<s=0.5>[7]");
  EXPECT("i8<s=0.5>[3], i8<s=0.5>[3], i8<s=0.5>[1]");
  MKN(OP_SPLIT, 1, "f32[2,5]");
  INT("axis", -1);
  EXPECT("f32[2,5]");
  MKN(OP_SPLIT, 4, "f32[5]");
  EXPECT("error: cannot split dimension 0 of size 5 into 4 parts");
}

static void test_slice(void) {
  MK(OP_SLICE, "f32[10,20]");
  INTS("starts", 2);
  INTS("ends", 8);
  EXPECT("f32[6,20]");
  INTS("axes", 1);
  INTS("starts", -5);
  INTS("ends", INT64_MAX);
  EXPECT("f32[10,5]");
  INTS("starts", -1);
  INTS("ends", INT64_MIN);
  INTS("steps", -1);
  EXPECT("f32[10,20]");
  INTS("starts", 0);
  INTS("ends", 10);
  INTS("steps", 3);
  EXPECT("f32[10,4]");
  INTS("starts", 8);
  INTS("ends", 1);
  INTS("steps", -2);
  EXPECT("f32[10,4]");
  INTS("starts", 100);
  INTS("ends", -100);
  INTS("steps", -1);
  EXPECT("f32[10,20]");
  INTS("starts", 19);
  INTS("ends", INT64_MIN);
  INTS("steps", INT64_MIN);
  EXPECT("f32[10,1]");
  INTS("starts", 5);
  INTS("ends", 2);
  INTS("steps", 1);
  EXPECT("f32[10,0]");
  INTS("axes", -1, 0);
  INTS("starts", 1, -3);
  INTS("ends", -1, INT64_MAX);
  INTS("steps", 2, 1);
  EXPECT("f32[3,9]");
  MK(OP_SLICE, "i8<s=0.5>[N,10]");
  INTS("axes", 1);
  INTS("starts", 1);
  INTS("ends", 3);
  EXPECT("i8<s=0.5>[N,2]");
  INTS("axes", 0);
  EXPECT("error: cannot slice the batch dimension N");

  MK(OP_SLICE, "f32[10,20]");
  INTS("ends", 3);
  EXPECT("error: starts is required");
  ir_op_remove_attr(cur, "ends");
  INTS("starts", 1);
  EXPECT("error: ends is required");
  INTS("ends", 3, 4);
  EXPECT("error: ends has 2 values, starts has 1");
  INTS("ends", 3);
  INTS("axes", 0, 1);
  EXPECT("error: axes has 2 values, starts has 1");
  INTS("axes", 0);
  INTS("steps", 1, 1);
  EXPECT("error: steps has 2 values, starts has 1");
  INTS("steps", 0);
  EXPECT("error: steps[0] is 0");
  INTS("steps", 1);
  INTS("axes", 2);
  EXPECT("error: axis 2 is out of range for rank 2");
  INTS("axes", 1, -1);
  INTS("starts", 0, 0);
  INTS("ends", 1, 1);
  ir_op_remove_attr(cur, "steps");
  EXPECT("error: axis 1 is listed twice");
  ir_op_remove_attr(cur, "axes");
  INTS("starts", 0, 0, 0);
  INTS("ends", 1, 1, 1);
  EXPECT("error: starts has 3 values, more than the rank 2 of operand 0");
}

static void test_pad(void) {
  MK(OP_PAD, "f32[1,3,4,4]");
  INTS("pads", 0, 0, 1, 1, 0, 0, 1, 1);
  EXPECT("f32[1,3,6,6]");
  MK(OP_PAD, "f32[5]");
  INTS("pads", -1, -2);
  EXPECT("f32[2]");
  INTS("pads", -2, -3);
  EXPECT("f32[0]");
  INTS("pads", -2, -4);
  EXPECT("error: padding dimension 0 of size 5 by -2 and -4 leaves size -1");
  MK(OP_PAD, "i8<s=0.5>[N,3]");
  INTS("pads", 0, 1, 0, 1);
  STR("mode", "reflect");
  EXPECT("i8<s=0.5>[N,5]");
  STR("mode", "edge");
  EXPECT("i8<s=0.5>[N,5]");
  STR("mode", "wrap");
  EXPECT("i8<s=0.5>[N,5]");
  STR("mode", "mirror");
  EXPECT("error: mode \"mirror\" is not one of constant, reflect, edge, wrap");
  STR("mode", "constant");
  FLOAT("value", 1.0);
  INTS("pads", 1, 0, 0, 0);
  EXPECT("error: cannot pad the batch dimension N");
  INTS("pads", 0, 0, 1, 0);
  EXPECT("error: cannot pad the batch dimension N");
  INTS("pads", 0, 1);
  EXPECT("error: pads has 2 values, expected 4 (a begin and an end per dimension)");
  INTS("pads", 0, 0, 0, INT64_MIN);
  EXPECT("error: pads[3] is -9223372036854775808, expected a magnitude of at most 2147483647");
  ir_op_remove_attr(cur, "pads");
  EXPECT("error: pads is required");
}

static void test_gather(void) {
  MK(OP_GATHER, "f32[1000,64]", "i64[N,16]");
  EXPECT("f32[N,16,64]");
  MK(OP_GATHER, "f32[N,5,4]", "i32[3]");
  INT("axis", 1);
  EXPECT("f32[N,3,4]");
  MK(OP_GATHER, "f32[5,4]", "i64");
  EXPECT("f32[4]");
  MK(OP_GATHER, "u8<s=0.5>[2,3,4]", "i32[2,2]");
  INT("axis", -1);
  EXPECT("u8<s=0.5>[2,3,2,2]");

  MK(OP_GATHER, "f32[5,4]", "f32[2]");
  EXPECT("error: operand 1 (the indices) has dtype f32, expected i32 or i64");
  MK(OP_GATHER, "f32[N,4]", "i64[2]");
  EXPECT("error: cannot gather along the batch dimension N");
  MK(OP_GATHER, "f32[5,4]", "i64[N]");
  INT("axis", 1);
  EXPECT("error: result [5,N] would have the batch dimension N at position 1, not first");
  INT("axis", 2);
  EXPECT("error: axis 2 is out of range for rank 2");
  MK(OP_GATHER, "f32", "i64[2]");
  EXPECT("error: axis 0 is out of range for rank 0");
  MK(OP_GATHER, "f32[2,2,2,2,2]", "i64[2,2,2,2,2]");
  EXPECT("error: result would have rank 9, more than the 8 kiln supports");
}

static void test_resize(void) {
  MK(OP_RESIZE, "f32[N,3,16,16]");
  FLOATS("scales", 1, 1, 2, 2);
  EXPECT("f32[N,3,32,32]");
  MK(OP_RESIZE, "f32[1,1,5,5]");
  FLOATS("scales", 1, 1, 0.5, 1.5);
  STR("mode", "linear");
  STR("coordinate_transformation_mode", "align_corners");
  EXPECT("f32[1,1,2,7]");
  MK(OP_RESIZE, "f32[1,3,16,16]");
  INTS("sizes", 1, 3, 8, 8);
  STR("mode", "cubic");
  EXPECT("f32[1,3,8,8]");
  MK(OP_RESIZE, "u8<s=0.5>[N,3,4,4]");
  INTS("sizes", -1, 3, 8, 8);
  STR("nearest_mode", "floor");
  STR("coordinate_transformation_mode", "asymmetric");
  EXPECT("u8<s=0.5>[N,3,8,8]");
  STR("mode", "linear");
  EXPECT("u8[N,3,8,8]");
  FLOATS("scales", 1.0); /* an empty sizes or scales list counts as absent */
  EMPTY("sizes");
  STR("mode", "nearest");
  EXPECT("error: scales has 1 value, expected 4 (the rank of operand 0)");

  MK(OP_RESIZE, "f32[N,3,4,4]");
  EXPECT("error: exactly one of scales and sizes must be given");
  FLOATS("scales", 1, 1, 2, 2);
  INTS("sizes", -1, 3, 8, 8);
  EXPECT("error: exactly one of scales and sizes must be given");
  ir_op_remove_attr(cur, "sizes");
  FLOATS("scales", 1, 1, 2);
  EXPECT("error: scales has 3 values, expected 4 (the rank of operand 0)");
  FLOATS("scales", 2, 1, 2, 2);
  EXPECT("error: scales[0] is 2.0 but dimension 0 is the batch dimension N (expected 1.0)");
  FLOATS("scales", 1, 1, 0, 2);
  EXPECT("error: scales[2] is 0.0, expected a positive value");
  FLOATS("scales", 1, 1, 0.2, 2);
  EXPECT("error: scales[2] is 0.2, which shrinks dimension 2 of size 4 to 0");
  FLOATS("scales", 1, 1, 1e30, 2);
  EXPECT("error: scales[2] is 1e+30, which makes dimension 2 too large");
  FLOATS("scales", 1, 1, 2, 2);
  STR("mode", "bicubic");
  EXPECT("error: mode \"bicubic\" is not one of nearest, linear, cubic");
  STR("mode", "nearest");
  STR("coordinate_transformation_mode", "half");
  EXPECT("error: coordinate_transformation_mode \"half\" is not one of half_pixel, "
         "half_pixel_symmetric, pytorch_half_pixel, align_corners, asymmetric, "
         "tf_crop_and_resize");
  STR("coordinate_transformation_mode", "tf_crop_and_resize");
  STR("nearest_mode", "round");
  EXPECT("error: nearest_mode \"round\" is not one of round_prefer_floor, round_prefer_ceil, "
         "floor, ceil");
  ir_op_remove_attr(cur, "scales");
  STR("nearest_mode", "ceil");
  INTS("sizes", 4, 3, 8, 8);
  EXPECT("error: sizes[0] is 4 but dimension 0 is the batch dimension N (expected -1)");
  INTS("sizes", -1, 3, 0, 8);
  EXPECT("error: sizes[2] is 0, expected at least 1");
}

/* Every op was inferred with success at least once, and every op with a rule that can fail was
 * seen failing. */
static void test_math(void) {
  static const OpKind unary[] = {OP_SIN,  OP_COS,   OP_TAN,   OP_ASIN,  OP_ACOS,
                                 OP_ATAN, OP_SINH,  OP_COSH,  OP_ASINH, OP_ACOSH,
                                 OP_ATANH, OP_SIGN, OP_ROUND, OP_SOFTSIGN, OP_SELU,
                                 OP_CELU, OP_THRESHOLDED_RELU, OP_SHRINK};
  for (size_t i = 0; i < sizeof unary / sizeof unary[0]; i++) {
    MK(unary[i], "f32[N,3]");
    EXPECT("f32[N,3]");
    MK(unary[i], "i8<s=0.5>[2]");
    EXPECT("i8[2]");
  }
  MK(OP_SELU, "f32[2]");
  FLOAT("alpha", 2);
  FLOAT("gamma", 3);
  EXPECT("f32[2]");

  static const OpKind special[] = {OP_IS_NAN, OP_IS_INF};
  for (size_t i = 0; i < 2; i++) {
    MK(special[i], "f16[N,3]");
    EXPECT("bool[N,3]");
    MK(special[i], "i32[3]");
    EXPECT("error: operand 0 has dtype i32, expected a float type");
  }
  MK(OP_IS_INF, "f32[2]");
  INT("detect_negative", 0);
  EXPECT("bool[2]");
  INT("detect_positive", 2);
  EXPECT("error: detect_positive is 2, expected 0 or 1");

  MK(OP_NOT, "bool[N,2]");
  EXPECT("bool[N,2]");
  MK(OP_NOT, "f32[2]");
  EXPECT("error: operand 0 has dtype f32, expected bool");

  static const OpKind logical[] = {OP_AND, OP_OR, OP_XOR};
  for (size_t i = 0; i < 3; i++) {
    MK(logical[i], "bool[N,3]", "bool[3]");
    EXPECT("bool[N,3]");
    MK(logical[i], "bool[2]", "i32[2]");
    EXPECT("error: operand 1 has dtype i32, expected bool");
    MK(logical[i], "bool[2]", "bool[3]");
    EXPECT("error: shapes bool[2] and bool[3] do not broadcast");
  }

  static const OpKind cmps[] = {OP_LESS_OR_EQUAL, OP_GREATER_OR_EQUAL};
  for (size_t i = 0; i < 2; i++) {
    MK(cmps[i], "i32[N,3]", "i32[1]");
    EXPECT("bool[N,3]");
    MK(cmps[i], "f32[2]", "f16[2]");
    EXPECT("error: operand types f32 and f16 differ");
  }

  MK(OP_MOD, "i32[N,3]", "i32[3]");
  EXPECT("i32[N,3]");
  MK(OP_MOD, "f32[2,3]", "f32[3]");
  INT("fmod", 1);
  EXPECT("f32[2,3]");
  INT("fmod", 0);
  EXPECT("error: fmod is 0 with f32 operands, expected 1 for floats");
  INT("fmod", 3);
  EXPECT("error: fmod is 3, expected 0 or 1");
  MK(OP_MOD, "i32[2]", "i64[2]");
  EXPECT("error: operand types i32 and i64 differ");
}

static void test_norm_quant(void) {
  MKN(OP_LAYER_NORM, 3, "f32[2,3,4]", "f32[4]");
  EXPECT("f32[2,3,4], f32[2,3,1], f32[2,3,1]");
  INT("axis", 1);
  EXPECT("f32[2,3,4], f32[2,1,1], f32[2,1,1]");
  MK(OP_INSTANCE_NORM, "f32[N,3,4,4]", "f32[3]", "f32[3]");
  EXPECT("f32[N,3,4,4]");
  MK(OP_INSTANCE_NORM, "f32[N,3,4,4]", "f32[4]", "f32[3]");
  EXPECT("error: operand 1 has shape [4], expected [3] (one per channel)");
  MK(OP_LRN, "f32[1,5,4,4]");
  INT("size", 3);
  EXPECT("f32[1,5,4,4]");
  INT("size", 0);
  EXPECT("error: size is 0, expected at least 1");
  MK(OP_LP_POOL, "f32[1,3,8,8]");
  INTS("kernel_shape", 2, 2);
  INTS("strides", 2, 2);
  EXPECT("f32[1,3,4,4]");
  INT("p", 0);
  EXPECT("error: p is 0, expected at least 1");
  MK(OP_EINSUM, "f32[2,3,4]", "f32[2,4,5]");
  STR("equation", "bij, bjk -> bik");
  EXPECT("f32[2,3,5]");
  STR("equation", "bij,bjk");
  EXPECT("f32[3,5]");
  STR("equation", "bij,bkk->bik");
  EXPECT("error: dimension 2 of operand 1 has size 5, expected 4");
  MK(OP_EINSUM, "f32[2,3,3]");
  STR("equation", "...ii->...i");
  EXPECT("f32[2,3]");
  STR("equation", "ij->i");
  EXPECT("error: operand 0 has rank 3, its term has 2 labels");

  MK(OP_QUANTIZE_LINEAR, "f32[2,3]", "f32", "i8");
  EXPECT("i8[2,3]");
  MK(OP_QUANTIZE_LINEAR, "f32[2,3]", "f32[3]");
  INT("axis", 0);
  EXPECT("error: operand 1 has shape [3], expected one value or [2]");
  INT("axis", 1);
  EXPECT("u8[2,3]");
  MK(OP_DEQUANTIZE_LINEAR, "u8[2,3]", "f32", "u8");
  EXPECT("f32[2,3]");
  MK(OP_DEQUANTIZE_LINEAR, "u8[2,3]", "f32", "i8");
  EXPECT("error: operand 2 (a zero point) has type i8, expected u8");
  MK(OP_MATMUL_INTEGER, "u8[4,3]", "i8[3,2]", "u8", "i8[2]");
  EXPECT("i32[4,2]");
  MK(OP_MATMUL_INTEGER, "f32[4,3]", "i8[3,2]");
  EXPECT("error: operand 0 has type f32[4,3], expected i8 or u8");
  MK(OP_CONV_INTEGER, "u8[1,1,3,3]", "u8[1,1,2,2]", "u8");
  EXPECT("i32[1,1,2,2]");
  MK(OP_CONV_INTEGER, "u8[1,1,3,3]", "u8[1,1,2,2]", "i8");
  EXPECT("error: operand 2 (a zero point) has type i8, expected u8");
  MK(OP_QLINEAR_MATMUL, "u8[2,4]", "f32", "u8", "u8[4,3]", "f32", "u8", "f32", "u8");
  EXPECT("u8[2,3]");
  MK(OP_QLINEAR_MATMUL, "u8[2,4]", "f32", "u8", "u8[4,3]", "f32", "u8", "f32", "f32");
  EXPECT("error: operand 7 (a zero point) has type f32, expected i8 or u8");
  MK(OP_QLINEAR_CONV, "u8[1,1,3,3]", "f32", "u8", "i8[2,1,2,2]", "f32[2]", "i8[2]", "f32", "i8",
     "i32[2]");
  EXPECT("i8[1,2,2,2]");
  MK(OP_QLINEAR_CONV, "u8[1,1,3,3]", "f32", "u8", "i8[2,1,2,2]", "f32", "i8", "f32", "i8",
     "i32[3]");
  EXPECT("error: operand 8 (bias) is i32[3], expected i32[2]");
}

static void test_index(void) {
  MK(OP_GATHER_ELEMENTS, "f32[3,3]", "i64[2,3]");
  EXPECT("f32[2,3]");
  MK(OP_GATHER_ELEMENTS, "u8<s=0.5>[N,4]", "i32[N,2]");
  INT("axis", 1);
  EXPECT("u8<s=0.5>[N,2]");
  MK(OP_GATHER_ELEMENTS, "f32[3,3]", "i64[2]");
  EXPECT("error: indices have rank 1, expected 2 (the rank of the data)");
  MK(OP_GATHER_ELEMENTS, "f32[3,3]", "i64[2,4]");
  EXPECT("error: indices dimension 1 is 4, larger than or unlike the data's 3");
  MK(OP_GATHER_ELEMENTS, "f32[N,3]", "i64[2,3]");
  EXPECT("error: cannot gather along the batch dimension N");

  MK(OP_GATHER_ND, "f32[2,3,4]", "i64[5,2]");
  EXPECT("f32[5,4]");
  MK(OP_GATHER_ND, "f32[2,3,4]", "i64[2,1]");
  INT("batch_dims", 1);
  EXPECT("f32[2,4]");
  MK(OP_GATHER_ND, "f32[2,3]", "i64[5,3]");
  EXPECT("error: the last indices dimension is 3, expected 1 to 2");
  MK(OP_GATHER_ND, "f32[2,3]", "i64[3,1]");
  INT("batch_dims", 1);
  EXPECT("error: batch dimension 0 differs: data 2, indices 3");
  INT("batch_dims", 2);
  EXPECT("error: batch_dims 2 is out of range: data has rank 2, indices 2");

  MK(OP_SCATTER_ELEMENTS, "f32[3,3]", "i64[2,3]", "f32[2,3]");
  STR("reduction", "add");
  EXPECT("f32[3,3]");
  STR("reduction", "sum");
  EXPECT("error: reduction \"sum\" is not one of none, add, mul, max, min");
  MK(OP_SCATTER_ELEMENTS, "f32[3,3]", "i64[2,3]", "f32[2,2]");
  EXPECT("error: updates f32[2,2] do not have the indices' shape [2,3]");
  MK(OP_SCATTER_ELEMENTS, "f32[3,3]", "i64[2,3]", "f16[2,3]");
  EXPECT("error: operand types f32 and f16 differ");

  MK(OP_SCATTER_ND, "f32[4,4,4]", "i64[2,1]", "f32[2,4,4]");
  EXPECT("f32[4,4,4]");
  MK(OP_SCATTER_ND, "f32[4,4,4]", "i64[2,1]", "f32[2,4]");
  EXPECT("error: updates f32[2,4], expected shape [2,4,4]");
  MK(OP_SCATTER_ND, "f32[4]", "f32[2,1]", "f32[2]");
  EXPECT("error: operand 1 (the indices) has dtype f32, expected i32 or i64");

  MK(OP_DEPTH_TO_SPACE, "f32[N,8,2,3]");
  INT("blocksize", 2);
  STR("mode", "CRD");
  EXPECT("f32[N,2,4,6]");
  STR("mode", "XYZ");
  EXPECT("error: mode \"XYZ\" is not one of DCR, CRD");
  MK(OP_DEPTH_TO_SPACE, "f32[1,6,2,3]");
  INT("blocksize", 2);
  EXPECT("error: channels 6 are not a multiple of blocksize^2 = 4");
  MK(OP_SPACE_TO_DEPTH, "f32[N,2,4,6]");
  INT("blocksize", 2);
  EXPECT("f32[N,8,2,3]");
  MK(OP_SPACE_TO_DEPTH, "f32[1,2,3,4]");
  INT("blocksize", 2);
  EXPECT("error: height 3 and width 4 must be multiples of blocksize 2");
  ir_op_remove_attr(cur, "blocksize");
  EXPECT("error: blocksize is required");

  MK(OP_TRILU, "f32[N,3,4]");
  INT("k", -1);
  EXPECT("f32[N,3,4]");
  MK(OP_TRILU, "f32[4]");
  EXPECT("error: operand 0 has rank 1, expected 2 or more");

  MK(OP_CUM_SUM, "i32[2,3]");
  INT("axis", -1);
  INT("reverse", 1);
  EXPECT("i32[2,3]");
  INT("exclusive", 2);
  EXPECT("error: exclusive is 2, expected 0 or 1");
  MK(OP_CUM_SUM, "f32[N,3]");
  EXPECT("error: axis is required");
  INT("axis", 0);
  EXPECT("error: cannot accumulate along the batch dimension N");

  MK(OP_ONE_HOT, "i64[N,3]", "f32[2]");
  INT("depth", 5);
  EXPECT("f32[N,3,5]");
  INT("axis", 1);
  EXPECT("f32[N,5,3]");
  INT("axis", 0);
  EXPECT("error: result [5,N,3] would have the batch dimension N at position 1, not first");
  INT("depth", 0);
  EXPECT("error: depth is 0, expected at least 1");
  MK(OP_ONE_HOT, "i64[3]", "f32[3]");
  INT("depth", 5);
  EXPECT("error: operand 1 (the values) is f32[3], expected 2 values [off, on]");

  MKN(OP_TOP_K, 2, "f32[N,10]");
  INT("k", 3);
  EXPECT("f32[N,3], i64[N,3]");
  INT("k", 11);
  EXPECT("error: k is 11, expected 0 to 10 (dimension 1)");
  INT("axis", 0);
  EXPECT("error: cannot select along the batch dimension N");

  MK(OP_SUM, "f32[N,3]", "f32[3]", "f32[1,1]");
  EXPECT("f32[N,3]");
  MK(OP_SUM, "i32[2]");
  EXPECT("i32[2]");
  MK(OP_SUM, "f32[2]", "f32[3]");
  EXPECT("error: shapes f32[2] and f32[3] do not broadcast");
  MK(OP_MEAN, "f16[2,3]", "f16[3]");
  EXPECT("f16[2,3]");
  MK(OP_MEAN, "i32[2]", "i32[2]");
  EXPECT("error: operand 0 has dtype i32, expected a float type");
  MK(OP_MAX, "f32[N,3]", "f32[3]", "f32[1,1]"); /* variadic, as ONNX's Max */
  EXPECT("f32[N,3]");
  MK(OP_MIN, "i64[4]");
  EXPECT("i64[4]");
  MK(OP_MIN, "f32[2]", "f32[2]", "f16[2]");
  EXPECT("error: operand types f32 and f16 differ");
}

#include "infer_dyn_cases.h"
#include "infer_loss_cases.h"

static void test_coverage(void) {
  static const OpKind cannot_fail[] = {
      OP_YIELD,  OP_OUTPUT,        OP_RELU,       OP_SIGMOID,    OP_TANH,       OP_EXP,
      OP_LOG,    OP_SQRT,          OP_ABS,        OP_NEG,        OP_RECIPROCAL, OP_FLOOR,
      OP_CEIL,   OP_ERF,           OP_SOFTPLUS,   OP_MISH,       OP_HARD_SWISH, OP_LEAKY_RELU,
      OP_ELU,    OP_HARD_SIGMOID,  OP_CLIP,       OP_IDENTITY,
      OP_SIN,    OP_COS,           OP_TAN,        OP_ASIN,       OP_ACOS,       OP_ATAN,
      OP_SINH,   OP_COSH,          OP_ASINH,      OP_ACOSH,      OP_ATANH,      OP_SIGN,
      OP_ROUND,  OP_SOFTSIGN,      OP_SELU,       OP_CELU,       OP_THRESHOLDED_RELU,
      OP_SHRINK, OP_SHAPE, OP_SIZE, OP_NON_ZERO,
  };
  for (int k = 0; k < OP_COUNT; k++) {
    bool can_fail = true;
    for (size_t i = 0; i < sizeof cannot_fail / sizeof cannot_fail[0]; i++)
      can_fail = can_fail && cannot_fail[i] != k;
    if (!ok_seen[k] || (can_fail && !err_seen[k]))
      fprintf(stderr, "op '%s' lacks a %s test\n", ir_op_name((OpKind)k),
              ok_seen[k] ? "negative" : "positive");
    CHECK(ok_seen[k]);
    CHECK(!can_fail || err_seen[k]);
  }
}

/* non_zero and non_max_suppression: result shapes that depend on the data stay as given. */
static void test_data_shape(void) {
  MK(OP_NON_ZERO, "f32[2,3]");
  EXPECT("?");
  CHECK(ir_ops[OP_NON_ZERO].flags & F_DATA_SHAPE);
  MK(OP_NON_MAX_SUPPRESSION, "f32[2,5,4]", "f32[2,3,5]", "i64[1]", "f32[1]", "f32");
  EXPECT("?");
  MK(OP_NON_MAX_SUPPRESSION, "f32[2,5,4]", "f32[2,3,5]");
  INT("center_point_box", 1);
  EXPECT("?");
  MK(OP_NON_MAX_SUPPRESSION, "f32[2,5,4]", "f32[2,3,5]");
  INT("center_point_box", 2);
  EXPECT("error: center_point_box is 2, expected 0 or 1");
  MK(OP_NON_MAX_SUPPRESSION, "f16[2,5,4]", "f32[2,3,5]");
  EXPECT("error: boxes and scores have dtypes f16 and f32, expected f32");
  MK(OP_NON_MAX_SUPPRESSION, "f32[2,5,3]", "f32[2,3,5]");
  EXPECT("error: boxes have shape [2,5,3], expected [batches,boxes,4]");
  MK(OP_NON_MAX_SUPPRESSION, "f32[2,5,4]", "f32[2,3,4]");
  EXPECT("error: scores have shape [2,3,4], expected [2,classes,5] for boxes [2,5,4]");
  MK(OP_NON_MAX_SUPPRESSION, "f32[2,5,4]", "f32[2,3,5]", "i32[1]");
  EXPECT("error: operand 2 (max_output_boxes_per_class) is i32[1], expected one element of i64");
  MK(OP_NON_MAX_SUPPRESSION, "f32[2,5,4]", "f32[2,3,5]", "i64", "f32[2]");
  EXPECT("error: operand 3 (iou_threshold) is f32[2], expected one element of f32");
}

int main(void) {
  m = ir_module_new("test_infer");
  test_table();
  test_data_shape();
  test_unary();
  test_cast();
  test_binary();
  test_structural();
  test_conv();
  test_conv_transpose();
  test_gemm();
  test_matmul();
  test_pools();
  test_norms();
  test_reduce();
  test_reshape();
  test_flatten_squeeze();
  test_transpose_concat();
  test_split();
  test_slice();
  test_pad();
  test_gather();
  test_resize();
  test_math();
  test_norm_quant();
  test_index();
  test_dyn();
  test_loss();
  test_coverage();
  ir_module_free(m);
  return check_finish();
}
