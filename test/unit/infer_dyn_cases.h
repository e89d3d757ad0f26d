/* infer_dyn_cases.h - test_infer.c's cases of the shape computations and the operand form
 * (ir/infer_dyn.c); included by test_infer.c, which owns m, cur, MK and EXPECT. */
#include "ir/dyn_form.h"

/* A weight of type t holding the given int64 values converted to t's dtype (i64 or f32 only). */
static Value *w_of(const char *t, const double *v, int n) {
  Type ty_ = ty(t);
  unsigned char buf[8 * 16];
  for (int i = 0; i < n; i++) {
    if (ty_.dtype == DT_F32) {
      float f = (float)v[i];
      memcpy(buf + 4 * i, &f, 4);
    } else {
      int64_t x = (int64_t)v[i];
      memcpy(buf + 8 * i, &x, 8);
    }
  }
  return ir_add_weight(m, NULL, ty_, buf, (size_t)n * ir_dtype_size(ty_.dtype));
}
#define W(t, ...)                                                                                  \
  w_of(t, (const double[]){__VA_ARGS__}, (int)(sizeof((const double[]){__VA_ARGS__}) / 8))

/* Runs ir_infer_op (the operand form goes through ir_infer_dyn) on cur. */
static const char *infer_op_text(void) {
  static char text[300];
  char err[256] = "";
  Type *out = ir_infer_op(cur, err, sizeof err);
  if (!out) {
    snprintf(text, sizeof text, "error: %s", err);
    return text;
  }
  snprintf(text, sizeof text, "%s", ir_type_str(&out[0]));
  free(out);
  return text;
}

static Op *mk_ops(OpKind k, int n, Value *const *vals) {
  return cur = ir_op_create(m, k, n, vals, 1, NULL);
}
#define MKV(k, ...)                                                                                \
  mk_ops(k, (int)(sizeof((Value *const[]){__VA_ARGS__}) / sizeof(Value *)),                        \
         (Value *const[]){__VA_ARGS__})

/* The int operands (trilu's k, cum_sum's axis, one_hot's depth, top_k's k), cast's `to`,
 * reduce_sum's noop_with_empty_axes and max_pool's indices. */
static void test_dyn_gaps(void) {
  Value *x = ir_add_input(m, NULL, ty("f32[3,4]")), *idx = ir_add_input(m, NULL, ty("i64[3]"));
  MKV(OP_TRILU, x, W("i64", -1));
  CHECK_STR(infer_op_text(), "f32[3,4]");
  CHECK(ir_dyn_provides(cur, "k") && !ir_dyn_provides(cur, "upper"));
  MKV(OP_TRILU, x, ir_add_input(m, NULL, ty("i64")));
  CHECK_STR(infer_op_text(), "?");
  MKV(OP_CUM_SUM, x, W("i64[1]", -1));
  CHECK_STR(infer_op_text(), "f32[3,4]");
  MKV(OP_CUM_SUM, x, W("i64[2]", 0, 1));
  CHECK_STR(infer_op_text(), "error: operand 1 (axis) has 2 values, expected 1");
  MKV(OP_ONE_HOT, idx, W("f32[2]", 0, 1), W("f32", 4.7)); /* a float depth truncates */
  CHECK_STR(infer_op_text(), "f32[3,4]");
  MKV(OP_ONE_HOT, idx, W("f32[2]", 0, 1), W("f32", 1e30));
  CHECK_STR(infer_op_text(), "error: operand 2 (depth) is out of range");
  Value *tk[2] = {x, W("i64[1]", 3)};
  cur = ir_op_create(m, OP_TOP_K, 2, tk, 2, NULL);
  CHECK_STR(infer_op_text(), "f32[3,3]");
  tk[1] = ir_add_input(m, NULL, ty("i64[1]"));
  cur = ir_op_create(m, OP_TOP_K, 2, tk, 2, NULL);
  CHECK_STR(infer_op_text(), "?");

  /* cast: `to` gives the target while the result type is unknown */
  MK(OP_CAST, "i32[2,5]");
  STR("to", "f16");
  EXPECT("f16[2,5]");
  STR("to", "nope");
  EXPECT("error: to \"nope\" is not an element type");
  Type f32 = ty("f32");
  Value *ci = ir_add_input(m, NULL, ty("i32[2]"));
  cur = ir_op_create(m, OP_CAST, 1, &ci, 1, &f32);
  STR("to", "f16");
  EXPECT("error: to \"f16\" disagrees with the result type f32");

  /* reduce_sum with noop_with_empty_axes: no axes reduce nothing */
  MK(OP_REDUCE_SUM, "f32[2,3]");
  INT("noop_with_empty_axes", 1);
  EXPECT("f32[2,3]");
  INTS("axes", 1);
  EXPECT("f32[2,1]");
  MKV(OP_REDUCE_SUM, ir_add_input(m, NULL, ty("f32[2,3]")), w_of("i64[0]", NULL, 0));
  INT("noop_with_empty_axes", 1);
  CHECK_STR(infer_op_text(), "f32[2,3]");
  INT("noop_with_empty_axes", 0);
  CHECK_STR(infer_op_text(), "f32[1,1]");

  /* max_pool's optional indices */
  MKN(OP_MAX_POOL, 2, "f32[N,2,4,4]");
  INTS("kernel_shape", 2, 2);
  EXPECT("f32[N,2,3,3], i64[N,2,3,3]");
  INT("storage_order", 2);
  EXPECT("error: storage_order is 2, expected 0 or 1");

  /* resize's exclude_outside is a flag */
  MK(OP_RESIZE, "f32[1,1,2,2]");
  FLOATS("scales", 1, 1, 2, 2);
  STR("mode", "cubic");
  INT("exclude_outside", 1);
  EXPECT("f32[1,1,4,4]");
  INT("exclude_outside", 3);
  EXPECT("error: exclude_outside is 3, expected 0 or 1");
}

static void test_dyn(void) {
  MK(OP_SHAPE, "f32[N,3,4]");
  EXPECT("i64[3]");
  INT("start", -2);
  EXPECT("i64[2]");
  INT("end", -5);
  EXPECT("i64[0]");
  MK(OP_SIZE, "u8[2,3]");
  EXPECT("i64");

  MKN(OP_CONSTANT_OF_SHAPE, 1, NULL);
  INTS("shape", 2, 3);
  EXPECT("f32[2,3]");
  int32_t seven = 7;
  Tensor tv = {ty("i32[1]"), &seven, 4};
  ir_op_set_attr(m, cur, &(Attr){.name = "value", .kind = ATTR_TENSOR, .tensor = &tv});
  EXPECT("i32[2,3]");
  INTS("shape", 2, -3);
  EXPECT("error: shape[1] is -3, expected >= 0");

  Value *x = ir_add_input(m, NULL, ty("f32[3,1]"));
  MKV(OP_RANGE, W("i64", 0), W("i64", 10), W("i64", 3));
  EXPECT("i64[4]");
  MKV(OP_RANGE, W("f32", 1), W("f32", 0), W("f32", -0.25));
  EXPECT("f32[4]");
  MKV(OP_RANGE, W("i64", 0), ir_add_input(m, NULL, ty("i64")), W("i64", 1));
  CHECK_STR(infer_op_text(), "?");
  MKV(OP_RANGE, W("i64", 0), W("f32", 10), W("i64", 1));
  EXPECT("error: operand types i64 and f32 differ");

  MK(OP_EXPAND, "f32[3,1]");
  INTS("shape", 2, 1, 4);
  EXPECT("f32[2,3,4]");
  MK(OP_EXPAND, "f32[3,2]");
  INTS("shape", 4);
  EXPECT("error: f32[3,2] does not broadcast with shape [4]");
  MKV(OP_EXPAND, x, W("i64[2]", 2, 5));
  CHECK_STR(infer_op_text(), "error: f32[3,1] does not broadcast with shape [2,5]");
  MKV(OP_EXPAND, x, W("i64[2]", 3, 5));
  CHECK_STR(infer_op_text(), "f32[3,5]");
  MKV(OP_EXPAND, x, ir_add_input(m, NULL, ty("i64[2]")));
  CHECK_STR(infer_op_text(), "?");

  MK(OP_TILE, "f32[2,3]");
  INTS("repeats", 2, 1);
  EXPECT("f32[4,3]");
  MK(OP_TILE, "f32[N,3]");
  INTS("repeats", 2, 1);
  EXPECT("error: the batch dimension can only repeat once");
  INTS("repeats", 1);
  EXPECT("error: repeats has 1 values for rank 2");
  MKV(OP_TILE, x, W("i64[2]", 1, 3));
  CHECK_STR(infer_op_text(), "f32[3,3]");

  /* The operand form of the older ops: reshape, slice, clip, resize. */
  MKV(OP_RESHAPE, x, W("i64[1]", -1));
  CHECK_STR(infer_op_text(), "f32[3]");
  MKV(OP_RESHAPE, x, ir_add_input(m, NULL, ty("i64[1]")));
  CHECK_STR(infer_op_text(), "?");
  MKV(OP_RESHAPE, x, W("f32[1]", 3));
  CHECK_STR(infer_op_text(), "error: operand 1 (shape) is f32, expected an integer tensor");
  MKV(OP_SLICE, x, W("i64[1]", 1), W("i64[1]", 3));
  CHECK_STR(infer_op_text(), "f32[2,1]");
  MKV(OP_CLIP, x, W("f32", 0), W("f32", 6));
  CHECK_STR(infer_op_text(), "f32[3,1]");
  MKV(OP_RESIZE, ir_add_input(m, NULL, ty("f32[1,1,2,2]")), w_of("f32[0]", NULL, 0),
      W("i64[4]", 1, 1, 4, 6));
  CHECK_STR(infer_op_text(), "f32[1,1,4,6]");
  CHECK(ir_dyn_provides(cur, "sizes") && !ir_dyn_provides(cur, "mode"));
  test_dyn_gaps();
}
