/* infer_loss_cases.h - shape-inference cases of ir/infer_loss.c, included by test_infer.c. */

static void test_loss(void) {
  MK(OP_NLL_LOSS, "f32[3,5]", "i64[3]");
  EXPECT("f32");
  STR("reduction", "none");
  EXPECT("f32[3]");
  STR("reduction", "avg");
  EXPECT("error: reduction \"avg\" is not one of none, sum, mean");
  MK(OP_NLL_LOSS, "f32[N,5,2,4]", "i32[N,2,4]", "f32[5]");
  STR("reduction", "none");
  INT("ignore_index", -1);
  EXPECT("f32[N,2,4]");
  STR("reduction", "sum");
  EXPECT("error: cannot reduce over the batch dimension N");
  MK(OP_NLL_LOSS, "f32[3,5]", "i64[3]", "f32[4]");
  EXPECT("error: operand 2 (the weights) is f32[4], expected shape [5]");
  MK(OP_NLL_LOSS, "f32[3,5]", "f32[3]");
  EXPECT("error: operand 1 (the targets) has dtype f32, expected i32 or i64");
  MK(OP_NLL_LOSS, "f32[3,5,2]", "i64[3,5]");
  EXPECT("error: operand 1 (the targets) is i64[3,5], expected shape [3,2]");
  MK(OP_NLL_LOSS, "i32[3,5]", "i64[3]");
  EXPECT("error: operand 0 has dtype i32, expected a float type");
  MK(OP_NLL_LOSS, "f32[5]", "i64[1]");
  EXPECT("error: operand 0 has rank 1, expected at least 2 (N, C, ...)");

  MKN(OP_SCE_LOSS, 2, "f32[3,5,2]", "i64[3,2]");
  EXPECT("f32, f32[3,5,2]");
  MK(OP_SCE_LOSS, "f16[3,5]", "i64[3]", "f16[5]");
  STR("reduction", "none");
  EXPECT("f16[3]");
  MK(OP_SCE_LOSS, "f16[3,5]", "i64[3]", "f32[5]");
  EXPECT("error: operand types f16 and f32 differ");

  MK(OP_BIT_SHIFT, "u8[2,3]", "u8[3]");
  STR("direction", "LEFT");
  EXPECT("u8[2,3]");
  STR("direction", "UP");
  EXPECT("error: direction \"UP\" is not one of LEFT, RIGHT");
  MK(OP_BIT_SHIFT, "u32[2]", "u32[2]");
  EXPECT("error: direction is required");
  MK(OP_BIT_SHIFT, "i32[2]", "i32[2]");
  STR("direction", "RIGHT");
  EXPECT("error: operand 0 has dtype i32, expected an unsigned integer type");
  MK(OP_BIT_SHIFT, "u16[2]", "u16[3]");
  STR("direction", "RIGHT");
  EXPECT("error: shapes u16[2] and u16[3] do not broadcast");

  MK(OP_EYE_LIKE, "f32[3,4]");
  EXPECT("f32[3,4]");
  STR("dtype", "i32");
  INT("k", -1);
  EXPECT("i32[3,4]");
  STR("dtype", "f128");
  EXPECT("error: dtype \"f128\" is not an element type");
  MK(OP_EYE_LIKE, "f32[3]");
  EXPECT("error: operand 0 has rank 1, expected 2");

  MK(OP_REVERSE_SEQUENCE, "f32[4,2,3]", "i64[2]");
  EXPECT("f32[4,2,3]");
  INT("batch_axis", 0);
  INT("time_axis", 1);
  EXPECT("error: operand 1 (sequence_lens) is i64[2], expected shape [4]");
  INT("time_axis", 0);
  EXPECT("error: batch_axis 0 and time_axis 0 must be 0 and 1 in some order");
  MK(OP_REVERSE_SEQUENCE, "f32[4,2]", "f32[2]");
  EXPECT("error: operand 1 (sequence_lens) has dtype f32, expected i64");
  MK(OP_REVERSE_SEQUENCE, "f32[4]", "i64[4]");
  EXPECT("error: operand 0 has rank 1, expected at least 2");

  MKN(OP_DYNAMIC_QUANTIZE_LINEAR, 3, "f32[2,3]");
  EXPECT("u8[2,3], f32, u8");
  MKN(OP_DYNAMIC_QUANTIZE_LINEAR, 3, "f16[2,3]");
  EXPECT("error: operand 0 has dtype f16, expected f32");
  MKN(OP_DYNAMIC_QUANTIZE_LINEAR, 3, "f32[N,3]");
  EXPECT("error: cannot reduce over the batch dimension N");

  MK(OP_MVN, "f32[2,3,4,5]");
  EXPECT("f32[2,3,4,5]");
  INTS("axes", 1, 1);
  EXPECT("error: axis 1 is listed twice");
  MK(OP_MVN, "f32[2,3]");
  EXPECT("error: axis 2 is out of range for rank 2");
  MK(OP_MVN, "i32[2,3]");
  EXPECT("error: operand 0 has dtype i32, expected a float type");

  MK(OP_GLOBAL_LP_POOL, "f32[N,3,4,5]");
  INT("p", 3);
  EXPECT("f32[N,3,1,1]");
  INT("p", 0);
  EXPECT("error: p is 0, expected at least 1");
  MK(OP_GLOBAL_LP_POOL, "f32[3]");
  EXPECT("error: operand 0 has rank 1, expected at least 2 (N, C, ...)");
}
