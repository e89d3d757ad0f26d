/* test_ref_elementwise.c - the reference elementwise kernels against hand-computed values. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "runtime/ref/elementwise.h"

/* Relative tolerance for transcendental functions; exact ops are checked with ==. */
static int near(float got, double want) {
  return fabs(got - want) <= 1e-6 * fabs(want) + 1e-30;
}

static RtShape shape(int rank, int64_t d0, int64_t d1) {
  RtShape s = {.rank = rank};
  s.dims[0] = d0;
  s.dims[1] = d1;
  return s;
}

static const RtShape scalar = {0, {0}};

/* op applied to one value. */
static float un(RtUnary op, float x, const float *params) {
  float y = NAN;
  CHECK(rt_ref_unary_f32(op, &x, &y, 1, params) == RT_OK);
  return y;
}

static void test_unary(void) {
  float x[3] = {-1, 0, 2}, y[3];
  CHECK(rt_ref_unary_f32(RT_EW_RELU, x, y, 3, NULL) == RT_OK);
  CHECK(y[0] == 0 && y[1] == 0 && y[2] == 2);
  CHECK(un(RT_EW_SIGMOID, 0, NULL) == 0.5f);
  CHECK(near(un(RT_EW_SIGMOID, 2, NULL), 0.8807970779778823));
  CHECK(un(RT_EW_SIGMOID, -200, NULL) == 0);
  CHECK(near(un(RT_EW_TANH, 1, NULL), 0.7615941559557649));
  CHECK(near(un(RT_EW_EXP, 1, NULL), 2.718281828459045));
  CHECK(near(un(RT_EW_LOG, 2, NULL), 0.6931471805599453));
  CHECK(un(RT_EW_LOG, 0, NULL) == -INFINITY);
  CHECK(un(RT_EW_SQRT, 4, NULL) == 2);
  CHECK(near(un(RT_EW_SQRT, 2, NULL), 1.4142135623730951));
  CHECK(isnan(un(RT_EW_SQRT, -1, NULL)));
  CHECK(un(RT_EW_ABS, -3, NULL) == 3);
  CHECK(un(RT_EW_NEG, 2, NULL) == -2);
  CHECK(un(RT_EW_RECIPROCAL, 4, NULL) == 0.25f);
  CHECK(un(RT_EW_FLOOR, -1.5f, NULL) == -2);
  CHECK(un(RT_EW_CEIL, -1.5f, NULL) == -1);
  CHECK(near(un(RT_EW_ERF, 1, NULL), 0.8427007929497149));
  CHECK(near(un(RT_EW_SOFTPLUS, 0, NULL), 0.6931471805599453));
  CHECK(un(RT_EW_SOFTPLUS, 100, NULL) == 100); /* no overflow through exp(100) */
  CHECK(near(un(RT_EW_MISH, 1, NULL), 0.8650983882673103));
  CHECK(near(un(RT_EW_HARD_SWISH, 1, NULL), 2.0 / 3.0));
  CHECK(un(RT_EW_HARD_SWISH, -4, NULL) == 0 && un(RT_EW_HARD_SWISH, 4, NULL) == 4);
}

static void test_unary_params(void) {
  CHECK(near(un(RT_EW_LEAKY_RELU, -2, NULL), -0.02));
  CHECK(near(un(RT_EW_LEAKY_RELU, -2, (float[]){0.1f}), -0.2));
  CHECK(un(RT_EW_LEAKY_RELU, 3, NULL) == 3);
  CHECK(near(un(RT_EW_ELU, -1, NULL), -0.6321205588285577));
  CHECK(near(un(RT_EW_ELU, -1, (float[]){2}), -1.2642411176571153));
  CHECK(un(RT_EW_ELU, 2, NULL) == 2);
  CHECK(near(un(RT_EW_HARD_SIGMOID, 1, NULL), 0.7));
  CHECK(un(RT_EW_HARD_SIGMOID, -5, NULL) == 0 && un(RT_EW_HARD_SIGMOID, 5, NULL) == 1);
  CHECK(un(RT_EW_HARD_SIGMOID, 1, (float[]){0.5f, 0.25f}) == 0.75f);
  CHECK(near(un(RT_EW_GELU, 1, NULL), 0.8413447460685429));
  CHECK(near(un(RT_EW_GELU_TANH, 1, NULL), 0.8411919906082768));
  float x[3] = {-1, 3, 7}, y[3];
  CHECK(rt_ref_unary_f32(RT_EW_CLIP, x, y, 3, (float[]){0, 6}) == RT_OK);
  CHECK(y[0] == 0 && y[1] == 3 && y[2] == 6);
  CHECK(un(RT_EW_CLIP, -1e30f, NULL) == -1e30f); /* no bounds: +-inf */
  CHECK(rt_ref_unary_f32(RT_EW_UNARY_COUNT, x, y, 3, NULL) == RT_EUNSUPPORTED);
}

static void test_broadcast(void) {
  float a[6] = {1, 2, 3, 4, 5, 6}, b[3] = {10, 20, 30}, y[6];
  /* [2,3] + [3] */
  CHECK(rt_ref_binary_f32(RT_EW_ADD, a, shape(2, 2, 3), b, shape(1, 3, 0), y, shape(2, 2, 3)) ==
        RT_OK);
  CHECK(y[0] == 11 && y[1] == 22 && y[2] == 33 && y[3] == 14 && y[4] == 25 && y[5] == 36);
  /* [2,1] + [1,3] */
  float c[2] = {1, 2};
  CHECK(rt_ref_binary_f32(RT_EW_ADD, c, shape(2, 2, 1), b, shape(2, 1, 3), y, shape(2, 2, 3)) ==
        RT_OK);
  CHECK(y[0] == 11 && y[1] == 21 && y[2] == 31 && y[3] == 12 && y[4] == 22 && y[5] == 32);
  /* scalar - [2,3] */
  float s = 100;
  CHECK(rt_ref_binary_f32(RT_EW_SUB, &s, scalar, a, shape(2, 2, 3), y, shape(2, 2, 3)) == RT_OK);
  CHECK(y[0] == 99 && y[5] == 94);
  /* scalar op scalar */
  float t = 4;
  CHECK(rt_ref_binary_f32(RT_EW_MUL, &s, scalar, &t, scalar, y, scalar) == RT_OK);
  CHECK(y[0] == 400);
  /* [2,3] + [2] does not broadcast; neither does a result smaller than an operand */
  CHECK(rt_ref_binary_f32(RT_EW_ADD, a, shape(2, 2, 3), c, shape(1, 2, 0), y, shape(2, 2, 3)) ==
        RT_ESHAPE);
  CHECK(rt_ref_binary_f32(RT_EW_ADD, a, shape(2, 2, 3), b, shape(1, 3, 0), y, shape(1, 3, 0)) ==
        RT_ESHAPE);
  /* malformed results: a negative dimension, more elements than int64 counts */
  CHECK(rt_ref_binary_f32(RT_EW_ADD, &s, scalar, &t, scalar, y, shape(1, -1, 0)) == RT_ESHAPE);
  CHECK(rt_ref_binary_f32(RT_EW_ADD, &s, scalar, &t, scalar, y, shape(2, INT64_MAX, 4)) ==
        RT_ESHAPE);
  CHECK(rt_shape_numel(shape(2, INT64_MAX, 0)) == 0 && rt_shape_numel(scalar) == 1);
  /* empty: [0,3] + [3] */
  CHECK(rt_ref_binary_f32(RT_EW_ADD, a, shape(2, 0, 3), b, shape(1, 3, 0), y, shape(2, 0, 3)) ==
        RT_OK);
}

static float bin(RtBinary op, float a, float b) {
  float y = NAN;
  CHECK(rt_ref_binary_f32(op, &a, scalar, &b, scalar, &y, scalar) == RT_OK);
  return y;
}

static void test_binary_f32(void) {
  CHECK(bin(RT_EW_ADD, 1.5f, 2) == 3.5f);
  CHECK(bin(RT_EW_SUB, 1.5f, 2) == -0.5f);
  CHECK(bin(RT_EW_MUL, 1.5f, 2) == 3);
  CHECK(bin(RT_EW_DIV, 1, 4) == 0.25f);
  CHECK(bin(RT_EW_DIV, 1, 0) == INFINITY);
  CHECK(bin(RT_EW_POW, 2, 10) == 1024);
  CHECK(bin(RT_EW_POW, 4, 0.5f) == 2);
  CHECK(bin(RT_EW_MAX, -1, 2) == 2 && bin(RT_EW_MIN, -1, 2) == -1);
  CHECK(isnan(bin(RT_EW_MAX, NAN, 2)) && isnan(bin(RT_EW_MIN, 2, NAN)));
  float a[3] = {-2, 3, -4}, slope[1] = {0.5f}, y[3];
  CHECK(rt_ref_binary_f32(RT_EW_PRELU, a, shape(1, 3, 0), slope, shape(1, 1, 0), y,
                          shape(1, 3, 0)) == RT_OK);
  CHECK(y[0] == -1 && y[1] == 3 && y[2] == -2);
}

static void test_binary_int(void) {
  int32_t a[4] = {7, -7, 7, INT32_MIN}, b[4] = {2, 2, -2, -1}, y[4];
  RtShape s4 = shape(1, 4, 0);
  CHECK(rt_ref_binary_i32(RT_EW_DIV, a, s4, b, s4, y, s4) == RT_OK);
  CHECK(y[0] == 3 && y[1] == -3 && y[2] == -3 && y[3] == INT32_MIN); /* truncation; wraps */
  CHECK(rt_ref_binary_i32(RT_EW_ADD, a, s4, b, s4, y, s4) == RT_OK);
  CHECK(y[0] == 9 && y[1] == -5 && y[2] == 5 && y[3] == INT32_MAX); /* INT32_MIN + -1 wraps */
  CHECK(rt_ref_binary_i32(RT_EW_SUB, a, s4, b, s4, y, s4) == RT_OK);
  CHECK(y[0] == 5 && y[1] == -9 && y[2] == 9 && y[3] == INT32_MIN + 1);
  CHECK(rt_ref_binary_i32(RT_EW_MUL, a, s4, b, s4, y, s4) == RT_OK);
  CHECK(y[0] == 14 && y[1] == -14 && y[2] == -14 && y[3] == INT32_MIN);
  CHECK(rt_ref_binary_i32(RT_EW_MAX, a, s4, b, s4, y, s4) == RT_OK);
  CHECK(y[0] == 7 && y[1] == 2 && y[2] == 7 && y[3] == -1);
  CHECK(rt_ref_binary_i32(RT_EW_MIN, a, s4, b, s4, y, s4) == RT_OK);
  CHECK(y[0] == 2 && y[1] == -7 && y[2] == -2 && y[3] == INT32_MIN);
  int32_t zero = 0;
  CHECK(rt_ref_binary_i32(RT_EW_DIV, a, s4, &zero, scalar, y, s4) == RT_EDIVZERO);
  CHECK(rt_ref_binary_i32(RT_EW_POW, a, s4, b, s4, y, s4) == RT_EUNSUPPORTED);

  int64_t p[3] = {INT64_MAX, INT64_MIN, -9}, q = 4, z[3];
  RtShape s3 = shape(1, 3, 0);
  CHECK(rt_ref_binary_i64(RT_EW_ADD, p, s3, &q, scalar, z, s3) == RT_OK);
  CHECK(z[0] == INT64_MIN + 3 && z[1] == INT64_MIN + 4 && z[2] == -5);
  CHECK(rt_ref_binary_i64(RT_EW_DIV, p, s3, &q, scalar, z, s3) == RT_OK);
  CHECK(z[0] == INT64_MAX / 4 && z[1] == INT64_MIN / 4 && z[2] == -2);
  int64_t m1 = -1, zero64 = 0;
  CHECK(rt_ref_binary_i64(RT_EW_DIV, p, s3, &m1, scalar, z, s3) == RT_OK);
  CHECK(z[0] == -INT64_MAX && z[1] == INT64_MIN && z[2] == 9);
  CHECK(rt_ref_binary_i64(RT_EW_MAX, p, s3, &q, scalar, z, s3) == RT_OK);
  CHECK(z[0] == INT64_MAX && z[1] == 4 && z[2] == 4);
  CHECK(rt_ref_binary_i64(RT_EW_DIV, p, s3, &zero64, scalar, z, s3) == RT_EDIVZERO);
  CHECK(strcmp(rt_status_str(RT_EDIVZERO), "integer division by zero") == 0);
}

static void test_compare(void) {
  float a[4] = {1, 2, 3, NAN}, b = 2;
  uint8_t y[6];
  RtShape s4 = shape(1, 4, 0);
  CHECK(rt_ref_compare_f32(RT_EW_EQUAL, a, s4, &b, scalar, y, s4) == RT_OK);
  CHECK(y[0] == 0 && y[1] == 1 && y[2] == 0 && y[3] == 0);
  CHECK(rt_ref_compare_f32(RT_EW_LESS, a, s4, &b, scalar, y, s4) == RT_OK);
  CHECK(y[0] == 1 && y[1] == 0 && y[2] == 0 && y[3] == 0);
  CHECK(rt_ref_compare_f32(RT_EW_GREATER, a, s4, &b, scalar, y, s4) == RT_OK);
  CHECK(y[0] == 0 && y[1] == 0 && y[2] == 1 && y[3] == 0);
  /* [2,1] < [3] */
  int32_t c[2] = {1, 5}, d[3] = {0, 3, 9};
  CHECK(rt_ref_compare_i32(RT_EW_LESS, c, shape(2, 2, 1), d, shape(1, 3, 0), y, shape(2, 2, 3)) ==
        RT_OK);
  CHECK(y[0] == 0 && y[1] == 1 && y[2] == 1 && y[3] == 0 && y[4] == 0 && y[5] == 1);
  int64_t e[2] = {INT64_MAX, INT64_MAX - 1}, f = INT64_MAX; /* differ only beyond double */
  CHECK(rt_ref_compare_i64(RT_EW_EQUAL, e, shape(1, 2, 0), &f, scalar, y, shape(1, 2, 0)) ==
        RT_OK);
  CHECK(y[0] == 1 && y[1] == 0);
  CHECK(rt_ref_compare_i64(RT_EW_GREATER, e, shape(1, 2, 0), &f, scalar, y, shape(1, 2, 0)) ==
        RT_OK);
  CHECK(y[0] == 0 && y[1] == 0);
}

static void test_where(void) {
  uint8_t cond[2] = {1, 0};
  float a[3] = {1, 2, 3}, b = -1, y[6];
  /* cond [2,1], a [3], b scalar -> [2,3] */
  CHECK(rt_ref_where_f32(cond, shape(2, 2, 1), a, shape(1, 3, 0), &b, scalar, y, shape(2, 2, 3)) ==
        RT_OK);
  CHECK(y[0] == 1 && y[1] == 2 && y[2] == 3 && y[3] == -1 && y[4] == -1 && y[5] == -1);
  uint8_t c3[3] = {0, 2, 1};
  int32_t p[3] = {1, 2, 3}, q[3] = {-1, -2, -3}, r[3];
  CHECK(rt_ref_where_i32(c3, shape(1, 3, 0), p, shape(1, 3, 0), q, shape(1, 3, 0), r,
                         shape(1, 3, 0)) == RT_OK);
  CHECK(r[0] == -1 && r[1] == 2 && r[2] == 3);
  int64_t u = INT64_MAX, v[3] = {4, 5, 6}, w[3];
  CHECK(rt_ref_where_i64(c3, shape(1, 3, 0), &u, scalar, v, shape(1, 3, 0), w, shape(1, 3, 0)) ==
        RT_OK);
  CHECK(w[0] == 4 && w[1] == INT64_MAX && w[2] == INT64_MAX);
  CHECK(rt_ref_where_i64(c3, shape(1, 2, 0), &u, scalar, v, shape(1, 3, 0), w, shape(1, 3, 0)) ==
        RT_ESHAPE);
}

static void test_cast(void) {
  float f[4] = {-2.7f, 2.7f, 0, NAN};
  int32_t i[4];
  CHECK(rt_ref_cast(RT_F32, f, RT_I32, i, 3) == RT_OK);
  CHECK(i[0] == -2 && i[1] == 2 && i[2] == 0);
  CHECK(rt_ref_cast(RT_F32, f, RT_I32, i, 4) == RT_ERANGE); /* NaN */
  float big = 3e9f;
  CHECK(rt_ref_cast(RT_F32, &big, RT_I32, i, 1) == RT_ERANGE);
  int64_t l;
  CHECK(rt_ref_cast(RT_F32, &big, RT_I64, &l, 1) == RT_OK && l == 3000000000);
  uint8_t bo[4];
  CHECK(rt_ref_cast(RT_F32, f, RT_BOOL, bo, 4) == RT_OK);
  CHECK(bo[0] == 1 && bo[1] == 1 && bo[2] == 0 && bo[3] == 1);
  int64_t wide[2] = {((int64_t)1 << 32) + 5, -1};
  CHECK(rt_ref_cast(RT_I64, wide, RT_I32, i, 2) == RT_OK);
  CHECK(i[0] == 5 && i[1] == -1);
  CHECK(rt_ref_cast(RT_I64, wide, RT_U8, bo, 2) == RT_OK);
  CHECK(bo[0] == 5 && bo[1] == 255);
  int32_t n[2] = {-3, 16777217};
  float g[2];
  CHECK(rt_ref_cast(RT_I32, n, RT_F32, g, 2) == RT_OK);
  CHECK(g[0] == -3 && g[1] == 16777216); /* rounds to nearest even */
  uint8_t bools[2] = {0, 7};
  CHECK(rt_ref_cast(RT_BOOL, bools, RT_F32, g, 2) == RT_OK);
  CHECK(g[0] == 0 && g[1] == 1);
  CHECK(rt_ref_cast(RT_U8, bools, RT_I64, wide, 2) == RT_OK);
  CHECK(wide[0] == 0 && wide[1] == 7);
  CHECK(rt_ref_cast(RT_DTYPE_COUNT, f, RT_F32, g, 1) == RT_EUNSUPPORTED);
}

static void test_f16(void) {
  float f[5] = {1, 65504, 65520, 1.0f / 3, -0.0f};
  uint16_t h[5];
  CHECK(rt_ref_cast(RT_F32, f, RT_F16, h, 5) == RT_OK);
  CHECK(h[0] == 0x3C00 && h[1] == 0x7BFF && h[2] == 0x7C00 && h[3] == 0x3555 && h[4] == 0x8000);
  CHECK(rt_f16_to_f32(0x3555) == 0.333251953125f);
  CHECK(rt_f16_to_f32(0x0001) == 5.9604644775390625e-08f); /* smallest subnormal, 2^-24 */
  CHECK(rt_f32_to_f16(5.9604644775390625e-08f) == 0x0001);
  CHECK(rt_f32_to_f16(2.98023223876953125e-08f) == 0x0000); /* 2^-25: a tie, to even */
  CHECK(rt_f16_to_f32(0xFC00) == -INFINITY && isnan(rt_f16_to_f32(0x7E00)));
  float back;
  CHECK(rt_ref_cast(RT_F16, &h[3], RT_F32, &back, 1) == RT_OK && back == 0.333251953125f);
  int32_t i;
  uint16_t minus_two = 0xC000;
  CHECK(rt_ref_cast(RT_F16, &minus_two, RT_I32, &i, 1) == RT_OK && i == -2);
}

int main(void) {
  test_unary();
  test_unary_params();
  test_broadcast();
  test_binary_f32();
  test_binary_int();
  test_compare();
  test_where();
  test_cast();
  test_f16();
  return check_finish();
}
