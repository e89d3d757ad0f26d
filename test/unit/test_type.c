/* Unit tests of dtypes, shapes, broadcasting, float formatting and half conversions. */
#include <math.h>
#include <stdlib.h>

#include "check.h"
#include "ir/type.h"

static Type shape(DType dt, int rank, int64_t d0, int64_t d1, int64_t d2, int64_t d3) {
  int64_t dims[4] = {d0, d1, d2, d3};
  return ir_type_make(dt, rank, dims);
}

static void test_dtypes(void) {
  for (int dt = 1; dt < DT_COUNT; dt++) {
    CHECK((int)ir_dtype_from_name(ir_dtype_name((DType)dt)) == dt);
    CHECK(ir_dtype_size((DType)dt) > 0);
  }
  CHECK(ir_dtype_from_name("f33") == DT_UNKNOWN);
  CHECK(ir_dtype_size(DT_F16) == 2 && ir_dtype_size(DT_I64) == 8 && ir_dtype_size(DT_BOOL) == 1);
  CHECK(ir_dtype_is_float(DT_BF16) && !ir_dtype_is_float(DT_I32));
  CHECK(ir_dtype_is_int(DT_U8) && !ir_dtype_is_int(DT_BOOL));
}

static void test_print_and_numel(void) {
  Type t = shape(DT_F32, 4, IR_DIM_N, 3, 224, 224);
  CHECK_STR(ir_type_str(&t), "f32[N,3,224,224]");
  CHECK(ir_type_is_batched(&t));
  CHECK(ir_type_numel(&t) == -1);
  CHECK(ir_type_numel_per_item(&t) == 3 * 224 * 224);
  Type s = ir_type_scalar(DT_I64);
  CHECK_STR(ir_type_str(&s), "i64");
  CHECK(ir_type_numel(&s) == 1);
  Type q = shape(DT_I8, 1, 16, 0, 0, 0);
  q.quantized = true;
  q.scale = 0.0213f;
  CHECK_STR(ir_type_str(&q), "i8<s=0.0213>[16]");
  q.zero_point = -3;
  CHECK_STR(ir_type_str(&q), "i8<s=0.0213,z=-3>[16]");
  Type u = ir_type_unknown();
  CHECK_STR(ir_type_str(&u), "?");
  CHECK(!ir_type_is_known(&u));
  Type e = shape(DT_F32, 2, 0, 5, 0, 0);
  CHECK(ir_type_numel(&e) == 0);
}

static void test_equal(void) {
  Type a = shape(DT_F32, 2, 2, 3, 0, 0), b = a;
  CHECK(ir_type_equal(&a, &b));
  b.dims[1] = 4;
  CHECK(!ir_type_equal(&a, &b));
  b = a;
  b.dtype = DT_F16;
  CHECK(!ir_type_equal(&a, &b));
  Type q1 = shape(DT_U8, 1, 4, 0, 0, 0), q2 = q1;
  q1.quantized = q2.quantized = true;
  q1.scale = 0.5f;
  q2.scale = 0.25f;
  CHECK(!ir_type_equal(&q1, &q2));
}

static void test_broadcast(void) {
  char err[256];
  Type out;
  Type a = shape(DT_F32, 2, 2, 3, 0, 0), b = shape(DT_F32, 1, 3, 0, 0, 0);
  CHECK(ir_shape_broadcast(&a, &b, &out, err, sizeof err));
  CHECK_STR(ir_type_str(&out), "f32[2,3]");
  Type c = shape(DT_F32, 2, 2, 1, 0, 0), d = shape(DT_F32, 2, 1, 3, 0, 0);
  CHECK(ir_shape_broadcast(&c, &d, &out, err, sizeof err));
  CHECK_STR(ir_type_str(&out), "f32[2,3]");
  Type n = shape(DT_F32, 4, IR_DIM_N, 16, 8, 8), ch = shape(DT_F32, 3, 16, 1, 1, 0);
  CHECK(ir_shape_broadcast(&n, &ch, &out, err, sizeof err));
  CHECK_STR(ir_type_str(&out), "f32[N,16,8,8]");
  Type one = shape(DT_F32, 4, 1, 16, 8, 8);
  CHECK(ir_shape_broadcast(&one, &n, &out, err, sizeof err));
  CHECK_STR(ir_type_str(&out), "f32[N,16,8,8]");
  Type bad = shape(DT_F32, 1, 4, 0, 0, 0);
  CHECK(!ir_shape_broadcast(&a, &bad, &out, err, sizeof err));
  CHECK_STR(err, "shapes f32[2,3] and f32[4] do not broadcast");
  Type nb = shape(DT_F32, 2, IR_DIM_N, 3, 0, 0), lead = shape(DT_F32, 3, 2, 1, 3, 0);
  CHECK(!ir_shape_broadcast(&nb, &lead, &out, err, sizeof err));
}

static const char *fmt(double v, DType dt) {
  static Buf b;
  ir_buf_clear(&b);
  ir_format_float(&b, v, dt);
  return ir_buf_str(&b);
}

static void test_format_float(void) {
  CHECK_STR(fmt(0.1f, DT_F32), "0.1");
  CHECK_STR(fmt(1.0, DT_F32), "1.0");
  CHECK_STR(fmt(-2.5, DT_F32), "-2.5");
  CHECK_STR(fmt(1e-5f, DT_F32), "1e-05");
  CHECK_STR(fmt(3e38f, DT_F32), "3e+38");
  CHECK_STR(fmt(10.0, DT_F32), "10.0"); /* moderate numbers without an exponent */
  CHECK_STR(fmt(-2500.0, DT_F32), "-2500.0");
  CHECK_STR(fmt(200.0, DT_BF16), "200.0");
  CHECK_STR(fmt(65504.0, DT_F16), "65504.0");
  CHECK_STR(fmt(1e16, DT_F64), "1e+16");
  CHECK_STR(fmt(INFINITY, DT_F32), "inf");
  CHECK_STR(fmt(-INFINITY, DT_F32), "-inf");
  CHECK_STR(fmt(NAN, DT_F32), "nan");
  CHECK_STR(fmt(0.1, DT_F64), "0.1");
  CHECK_STR(fmt(1.0 / 3.0, DT_F64), "0.3333333333333333");
  CHECK_STR(fmt(ir_f16_to_f32(ir_f32_to_f16(0.1f)), DT_F16), "0.1");
  /* Every f32 of a sweep reads back bit-exactly from its shortest form. */
  int exact = 1;
  for (float f = 1e-7f; f < 1e7f; f *= 1.37f) {
    Buf b = {0};
    ir_format_float(&b, f, DT_F32);
    exact &= (float)strtod(ir_buf_str(&b), NULL) == f;
    ir_buf_free(&b);
  }
  CHECK(exact);
}

static void test_half(void) {
  CHECK(ir_f32_to_f16(1.0f) == 0x3C00);
  CHECK(ir_f32_to_f16(-2.0f) == 0xC000);
  CHECK(ir_f32_to_f16(65504.0f) == 0x7BFF);
  CHECK(ir_f32_to_f16(1e6f) == 0x7C00);           /* overflow to inf */
  CHECK(ir_f32_to_f16(5.9604645e-8f) == 0x0001);   /* smallest subnormal */
  CHECK(ir_f16_to_f32(0x0001) == 5.9604645e-8f);
  CHECK(isnan(ir_f16_to_f32(ir_f32_to_f16(NAN))));
  int exact = 1; /* every finite half survives f16 -> f32 -> f16 */
  for (unsigned h = 0; h < 0x10000; h++)
    if ((h & 0x7C00) != 0x7C00)
      exact &= ir_f32_to_f16(ir_f16_to_f32((uint16_t)h)) == h;
  CHECK(exact);
  CHECK(ir_f32_to_bf16(1.0f) == 0x3F80);
  CHECK(ir_bf16_to_f32(0x3F80) == 1.0f);
  CHECK(ir_f32_to_bf16(1.00390625f) == 0x3F80); /* ties to even */
}

int main(void) {
  test_dtypes();
  test_print_and_numel();
  test_equal();
  test_broadcast();
  test_format_float();
  test_half();
  return check_finish();
}
