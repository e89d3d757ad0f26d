/* test_ref_kernels.c - every reference kernel (runtime/ref) against values computed by hand from
 * ONNX's definitions, with the edge cases of each op and the exact text of its errors. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "runtime/ref/ref.h"

static char err[256];
static bool seen[OP_COUNT]; /* kinds run with success */

#define D(...) (const int64_t[]){__VA_ARGS__}, (int)(sizeof((const int64_t[]){__VA_ARGS__}) / 8)
#define F32(...) (float[]){__VA_ARGS__}

static RtTensor ten(RtElem e, const int64_t *dims, int rank, void *data) {
  RtTensor t = {.elem = e, .rank = rank, .data = data};
  if (rank > 0)
    memcpy(t.dims, dims, sizeof(int64_t) * (size_t)rank);
  return t;
}

/* ten() in one of a ring of slots, for a tensor passed by address. */
static RtTensor *tp(RtElem e, const int64_t *dims, int rank, void *data) {
  static RtTensor ring[16];
  static int next;
  RtTensor *t = &ring[next++ % 16];
  *t = ten(e, dims, rank, data);
  return t;
}

static RtAttr a_int(const char *name, int64_t v) { return (RtAttr){.name = name, .kind = RT_ATTR_INT, .i = v}; }
static RtAttr a_float(const char *name, double v) { return (RtAttr){.name = name, .kind = RT_ATTR_FLOAT, .f = v}; }
static RtAttr a_str(const char *name, const char *v) { return (RtAttr){.name = name, .kind = RT_ATTR_STRING, .s = v}; }
static RtAttr a_ints_(const char *name, const int64_t *v, int n) {
  return (RtAttr){.name = name, .kind = RT_ATTR_INTS, .n = n, .ints = v};
}
#define a_ints(name, ...) a_ints_(name, D(__VA_ARGS__))
static RtAttr a_floats_(const char *name, const double *v, int n) {
  return (RtAttr){.name = name, .kind = RT_ATTR_FLOATS, .n = n, .floats = v};
}
#define a_floats(name, ...)                                                                        \
  a_floats_(name, (const double[]){__VA_ARGS__},                                                   \
            (int)(sizeof((const double[]){__VA_ARGS__}) / 8))

/* Runs op k; attributes as a compound-literal array. */
static int run(OpKind k, const RtAttr *attrs, int nattrs, const RtTensor *in, int nin,
               RtTensor *out, int nout) {
  RtNode n = {k, attrs, nattrs};
  err[0] = 0;
  int st = rt_ref_kernels[k](&n, in, nin, out, nout, err, sizeof err);
  if (st == RT_OK)
    seen[k] = true;
  return st;
}
#define NOATTR NULL, 0
#define ATTRS(...) (const RtAttr[]){__VA_ARGS__}, (int)(sizeof((const RtAttr[]){__VA_ARGS__}) / sizeof(RtAttr))

static bool near(double got, double want) { return fabs(got - want) <= 1e-5 + 1e-5 * fabs(want); }

static bool all_near(const float *got, const double *want, int n) {
  bool ok = true;
  for (int i = 0; i < n; i++)
    if (!near(got[i], want[i])) {
      fprintf(stderr, "  [%d] got %.9g, want %.9g\n", i, got[i], want[i]);
      ok = false;
    }
  return ok;
}
#define NEAR(got, ...)                                                                             \
  CHECK(all_near(got, (const double[]){__VA_ARGS__},                                               \
                 (int)(sizeof((const double[]){__VA_ARGS__}) / 8)))

/* ---- elementwise ---- */

static void test_unary(void) {
  float y[4];
  RtTensor o = ten(RT_ELEM_F32, D(3), y);
  CHECK(run(OP_RELU, NOATTR, tp(RT_ELEM_F32, D(3), F32(-1, 0, 2)), 1, &o, 1) == RT_OK);
  NEAR(y, 0, 0, 2);
  CHECK(run(OP_LEAKY_RELU, NOATTR, tp(RT_ELEM_F32, D(3), F32(-2, 0, 2)), 1, &o, 1) == RT_OK);
  NEAR(y, -0.02, 0, 2);
  CHECK(run(OP_HARD_SIGMOID, ATTRS(a_float("alpha", 0.5), a_float("beta", 0.25)),
            tp(RT_ELEM_F32, D(3), F32(-1, 0, 2)), 1, &o, 1) == RT_OK);
  NEAR(y, 0, 0.25, 1);
  CHECK(run(OP_GELU, ATTRS(a_str("approximate", "tanh")), tp(RT_ELEM_F32, D(3), F32(1, 0, -1)),
            1, &o, 1) == RT_OK);
  NEAR(y, 0.8411919906082768, 0, -0.1588080093917232);
  int32_t iy[3];
  RtTensor io = ten(RT_ELEM_I32, D(3), iy);
  CHECK(run(OP_CLIP, ATTRS(a_float("max", 6), a_float("min", 0)),
            tp(RT_ELEM_I32, D(3), (int32_t[]){-3, 4, 9}), 1, &io, 1) == RT_OK);
  CHECK(iy[0] == 0 && iy[1] == 4 && iy[2] == 6);
  CHECK(run(OP_ABS, NOATTR, tp(RT_ELEM_I32, D(3), (int32_t[]){-3, 4, INT32_MIN}), 1, &io, 1) ==
        RT_OK);
  CHECK(iy[0] == 3 && iy[1] == 4 && iy[2] == INT32_MIN); /* wraps as two's complement */
  /* f16 computes through f32 and rounds once. */
  uint16_t h[1], hx[1] = {rt_f32_to_f16(1)};
  CHECK(run(OP_EXP, NOATTR, tp(RT_ELEM_F16, D(1), hx), 1, tp(RT_ELEM_F16, D(1), h), 1) ==
        RT_OK);
  CHECK(h[0] == rt_f32_to_f16(2.718281828f));
  /* Quantized relu clamps at the zero point. */
  int8_t q[2], qx[2] = {1, 5};
  RtTensor qi = ten(RT_ELEM_I8, D(2), qx), qo = ten(RT_ELEM_I8, D(2), q);
  qi.quantized = qo.quantized = true;
  qi.scale = qo.scale = 0.5f;
  qi.zero_point = qo.zero_point = 3;
  CHECK(run(OP_RELU, NOATTR, &qi, 1, &qo, 1) == RT_OK && q[0] == 3 && q[1] == 5);
  CHECK(run(OP_SIGMOID, NOATTR, &qi, 1, &qo, 1) == RT_EUNSUPPORTED);
  CHECK_STR(err, "operand 0 is quantized (no reference kernel)");
  CHECK(run(OP_SIGMOID, NOATTR, tp(RT_ELEM_I32, D(3), iy), 1, &io, 1) == RT_EUNSUPPORTED);
  CHECK_STR(err, "element type i32 has no reference kernel");
  CHECK(run(OP_RELU, NOATTR, tp(RT_ELEM_F32, D(2), y), 1, &o, 1) == RT_ESHAPE);
  CHECK_STR(err, "result 0 has shape [3], expected [2]");
}

static void test_cast_identity(void) {
  int32_t iy[3];
  CHECK(run(OP_CAST, NOATTR, tp(RT_ELEM_F32, D(3), F32(-2.5f, 2.5f, -0.5f)), 1,
            tp(RT_ELEM_I32, D(3), iy), 1) == RT_OK);
  CHECK(iy[0] == -2 && iy[1] == 2 && iy[2] == 0);
  CHECK(run(OP_CAST, NOATTR, tp(RT_ELEM_F32, D(1), F32(3e9f)), 1, tp(RT_ELEM_I32, D(1), iy),
            1) == RT_ERANGE);
  CHECK_STR(err, "value 3e+09 is out of range of i32");
  uint8_t b[3];
  CHECK(run(OP_CAST, NOATTR, tp(RT_ELEM_F32, D(3), F32(0, NAN, -1)), 1,
            tp(RT_ELEM_BOOL, D(3), b), 1) == RT_OK);
  CHECK(b[0] == 0 && b[1] == 1 && b[2] == 1);
  double d[2];
  CHECK(run(OP_CAST, NOATTR, tp(RT_ELEM_U64, D(2), (uint64_t[]){UINT64_MAX, 7}), 1,
            tp(RT_ELEM_F64, D(2), d), 1) == RT_OK);
  CHECK(d[0] == 18446744073709551615.0 && d[1] == 7);
  int16_t s[2];
  CHECK(run(OP_DROPOUT, ATTRS(a_float("ratio", 0.3)),
            tp(RT_ELEM_I16, D(2), (int16_t[]){-7, 9}), 1, tp(RT_ELEM_I16, D(2), s), 1) ==
        RT_OK);
  CHECK(s[0] == -7 && s[1] == 9);
  CHECK(run(OP_IDENTITY, NOATTR, tp(RT_ELEM_I16, D(2), (int16_t[]){3, 4}), 1,
            tp(RT_ELEM_I16, D(2), s), 1) == RT_OK && s[0] == 3 && s[1] == 4);
}

static void test_binary(void) {
  float y[6];
  RtTensor in[2] = {ten(RT_ELEM_F32, D(2, 3), F32(1, 2, 3, 4, 5, 6)),
                    ten(RT_ELEM_F32, D(3), F32(10, 20, 30))};
  CHECK(run(OP_ADD, NOATTR, in, 2, tp(RT_ELEM_F32, D(2, 3), y), 1) == RT_OK);
  NEAR(y, 11, 22, 33, 14, 25, 36);
  CHECK(run(OP_SUB, NOATTR, in, 2, tp(RT_ELEM_F32, D(2, 3), y), 1) == RT_OK);
  NEAR(y, -9, -18, -27, -6, -15, -24);
  CHECK(run(OP_MUL, NOATTR, in, 2, tp(RT_ELEM_F32, D(2, 3), y), 1) == RT_OK);
  NEAR(y, 10, 40, 90, 40, 100, 180);
  CHECK(run(OP_DIV, NOATTR, in, 2, tp(RT_ELEM_F32, D(2, 3), y), 1) == RT_OK);
  NEAR(y, 0.1, 0.1, 0.1, 0.4, 0.25, 0.2);
  /* pow with an i64 exponent */
  RtTensor pw[2] = {ten(RT_ELEM_F32, D(2), F32(2, 9)), ten(RT_ELEM_I64, D(1), (int64_t[]){2})};
  CHECK(run(OP_POW, NOATTR, pw, 2, tp(RT_ELEM_F32, D(2), y), 1) == RT_OK);
  NEAR(y, 4, 81);
  /* prelu: the slope [2,1] broadcasts to x [2,2] */
  RtTensor pr[2] = {ten(RT_ELEM_F32, D(2, 2), F32(-1, 2, -3, 4)),
                    ten(RT_ELEM_F32, D(2, 1), F32(0.1f, 0.5f))};
  CHECK(run(OP_PRELU, NOATTR, pr, 2, tp(RT_ELEM_F32, D(2, 2), y), 1) == RT_OK);
  NEAR(y, -0.1, 2, -1.5, 4);
  uint8_t u[2];
  RtTensor uu[2] = {ten(RT_ELEM_U8, D(2), (uint8_t[]){200, 1}),
                    ten(RT_ELEM_U8, D(2), (uint8_t[]){100, 3})};
  CHECK(run(OP_MAX, NOATTR, uu, 2, tp(RT_ELEM_U8, D(2), u), 1) == RT_OK);
  CHECK(u[0] == 200 && u[1] == 3);
  CHECK(run(OP_MIN, NOATTR, uu, 2, tp(RT_ELEM_U8, D(2), u), 1) == RT_OK);
  CHECK(u[0] == 100 && u[1] == 1);
  int32_t q[2];
  RtTensor dz[2] = {ten(RT_ELEM_I32, D(2), (int32_t[]){7, -7}),
                    ten(RT_ELEM_I32, D(2), (int32_t[]){2, 0})};
  CHECK(run(OP_DIV, NOATTR, dz, 2, tp(RT_ELEM_I32, D(2), q), 1) == RT_EDIVZERO);
  CHECK_STR(err, "integer division by zero");
  dz[1] = ten(RT_ELEM_I32, D(2), (int32_t[]){2, 2});
  CHECK(run(OP_DIV, NOATTR, dz, 2, tp(RT_ELEM_I32, D(2), q), 1) == RT_OK);
  CHECK(q[0] == 3 && q[1] == -3);
  CHECK(run(OP_MUL, NOATTR, (RtTensor[]){in[0], ten(RT_ELEM_F32, D(2), F32(1, 2))}, 2,
            tp(RT_ELEM_F32, D(2, 3), y), 1) == RT_ESHAPE);
  CHECK_STR(err, "shapes [2,3] and [2] do not broadcast");
  CHECK(run(OP_MUL, NOATTR, (RtTensor[]){in[0], dz[0]}, 2, tp(RT_ELEM_F32, D(2, 3), y), 1) ==
        RT_ESHAPE); /* the shapes fail first */
}

static void test_compare_where(void) {
  uint8_t b[4];
  RtTensor in[2] = {ten(RT_ELEM_F32, D(2, 2), F32(1, NAN, 3, 4)), ten(RT_ELEM_F32, D(2), F32(3, 3))};
  CHECK(run(OP_LESS, NOATTR, in, 2, tp(RT_ELEM_BOOL, D(2, 2), b), 1) == RT_OK);
  CHECK(b[0] == 1 && b[1] == 0 && b[2] == 0 && b[3] == 0);
  CHECK(run(OP_GREATER, NOATTR, in, 2, tp(RT_ELEM_BOOL, D(2, 2), b), 1) == RT_OK);
  CHECK(b[0] == 0 && b[1] == 0 && b[2] == 0 && b[3] == 1);
  CHECK(run(OP_EQUAL, NOATTR, in, 2, tp(RT_ELEM_BOOL, D(2, 2), b), 1) == RT_OK);
  CHECK(b[0] == 0 && b[1] == 0 && b[2] == 1 && b[3] == 0);
  int64_t y[4];
  RtTensor w[3] = {ten(RT_ELEM_BOOL, D(2, 1), (uint8_t[]){1, 0}),
                   ten(RT_ELEM_I64, D(2), (int64_t[]){1, 2}), ten(RT_ELEM_I64, NULL, 0, (int64_t[]){9})};
  CHECK(run(OP_WHERE, NOATTR, w, 3, tp(RT_ELEM_I64, D(2, 2), y), 1) == RT_OK);
  CHECK(y[0] == 1 && y[1] == 2 && y[2] == 9 && y[3] == 9);
}

static void test_batch_norm(void) {
  float y[4];
  RtTensor in[5] = {ten(RT_ELEM_F32, D(1, 2, 1, 2), F32(1, 2, 3, 4)),
                    ten(RT_ELEM_F32, D(2), F32(1, 2)), ten(RT_ELEM_F32, D(2), F32(0, 1)),
                    ten(RT_ELEM_F32, D(2), F32(1, 3)), ten(RT_ELEM_F32, D(2), F32(4, 1))};
  CHECK(run(OP_BATCH_NORM, ATTRS(a_float("epsilon", 0)), in, 5,
            tp(RT_ELEM_F32, D(1, 2, 1, 2), y), 1) == RT_OK);
  NEAR(y, 0, 0.5, 1, 3);
}

/* ---- convolutions, products, pools ---- */

static void test_conv(void) {
  float x[18], y[8];
  for (int i = 0; i < 18; i++)
    x[i] = (float)(i + 1);
  /* group 2, dilation 2, pads top 1 / right 1: channel 0 with a diagonal kernel, channel 1 with
   * ones; see the hand computation in the notes of each value. */
  RtTensor in[3] = {ten(RT_ELEM_F32, D(1, 2, 3, 3), x),
                    ten(RT_ELEM_F32, D(2, 1, 2, 2), F32(1, 0, 0, 1, 1, 1, 1, 1)),
                    ten(RT_ELEM_F32, D(2), F32(0.5f, -1))};
  CHECK(run(OP_CONV, ATTRS(a_ints("dilations", 2, 2), a_int("group", 2), a_ints("pads", 1, 0, 0, 1)),
            in, 3, tp(RT_ELEM_F32, D(1, 2, 2, 2), y), 1) == RT_OK);
  NEAR(y, 6.5, 0.5, 10.5, 2.5, 27, 13, 55, 27);
  /* stride 2 without pads: [1,1,3,3] with a 2x2 box kernel -> [1,1,1,1] */
  CHECK(run(OP_CONV, ATTRS(a_ints("strides", 2, 2)),
            (RtTensor[]){ten(RT_ELEM_F32, D(1, 1, 3, 3), x), ten(RT_ELEM_F32, D(1, 1, 2, 2), F32(1, 1, 1, 1))},
            2, tp(RT_ELEM_F32, D(1, 1, 1, 1), y), 1) == RT_OK);
  NEAR(y, 1 + 2 + 4 + 5);
  CHECK(run(OP_CONV, NOATTR, in, 3, tp(RT_ELEM_F32, D(1, 2, 2, 2), y), 1) == RT_ESHAPE);
  CHECK_STR(err, "operand 1 has 2 output channels and 1 input channels per group; group 1 of 2 "
                 "input channels does not fit");
  CHECK(run(OP_CONV, NOATTR, (RtTensor[]){ten(RT_ELEM_I8, D(1, 1, 1), x), ten(RT_ELEM_I8, D(1, 1, 1), x)},
            2, tp(RT_ELEM_I8, D(1, 1, 1), y), 1) == RT_EUNSUPPORTED);
  CHECK_STR(err, "element type i8 has no reference kernel");
}

static void test_conv_transpose(void) {
  float y[6];
  /* 1-D, stride 2, output_padding 1, pads [1,0]: 2*(2-1) + 1 + 3 - 1 = 5 */
  CHECK(run(OP_CONV_TRANSPOSE,
            ATTRS(a_ints("output_padding", 1), a_ints("pads", 1, 0), a_ints("strides", 2)),
            (RtTensor[]){ten(RT_ELEM_F32, D(1, 1, 2), F32(1, 2)), ten(RT_ELEM_F32, D(1, 1, 3), F32(1, 2, 3))},
            2, tp(RT_ELEM_F32, D(1, 1, 5), y), 1) == RT_OK);
  NEAR(y, 2, 5, 4, 6, 0);
  /* without pads: [1,2,5,4,6,0] */
  CHECK(run(OP_CONV_TRANSPOSE, ATTRS(a_ints("output_padding", 1), a_ints("strides", 2)),
            (RtTensor[]){ten(RT_ELEM_F32, D(1, 1, 2), F32(1, 2)), ten(RT_ELEM_F32, D(1, 1, 3), F32(1, 2, 3))},
            2, tp(RT_ELEM_F32, D(1, 1, 6), y), 1) == RT_OK);
  NEAR(y, 1, 2, 5, 4, 6, 0);
  /* group 2 with bias */
  CHECK(run(OP_CONV_TRANSPOSE, ATTRS(a_int("group", 2)),
            (RtTensor[]){ten(RT_ELEM_F32, D(1, 2, 1, 1), F32(1, 2)),
                         ten(RT_ELEM_F32, D(2, 1, 1, 1), F32(3, 4)), ten(RT_ELEM_F32, D(2), F32(1, 1))},
            3, tp(RT_ELEM_F32, D(1, 2, 1, 1), y), 1) == RT_OK);
  NEAR(y, 4, 9);
}

static void test_gemm_matmul(void) {
  float y[8];
  /* A' = [[1,3],[2,4]], B' = [[1,1],[0,1]]: A'B' = [[1,4],[2,6]]; 2*that + 0.5*[10,20] */
  CHECK(run(OP_GEMM,
            ATTRS(a_float("alpha", 2), a_float("beta", 0.5), a_int("trans_a", 1), a_int("trans_b", 1)),
            (RtTensor[]){ten(RT_ELEM_F32, D(2, 2), F32(1, 2, 3, 4)),
                         ten(RT_ELEM_F32, D(2, 2), F32(1, 0, 1, 1)), ten(RT_ELEM_F32, D(2), F32(10, 20))},
            3, tp(RT_ELEM_F32, D(2, 2), y), 1) == RT_OK);
  NEAR(y, 7, 18, 9, 22);
  /* batched 3-D x 2-D */
  CHECK(run(OP_MATMUL, NOATTR,
            (RtTensor[]){ten(RT_ELEM_F32, D(2, 1, 2), F32(1, 2, 3, 4)),
                         ten(RT_ELEM_F32, D(2, 2), F32(1, 0, 0, 2))},
            2, tp(RT_ELEM_F32, D(2, 1, 2), y), 1) == RT_OK);
  NEAR(y, 1, 4, 3, 8);
  /* 2-D x 3-D broadcast: [2,2] x [2,2,1] -> [2,2,1] */
  CHECK(run(OP_MATMUL, NOATTR,
            (RtTensor[]){ten(RT_ELEM_F32, D(2, 2), F32(1, 2, 3, 4)),
                         ten(RT_ELEM_F32, D(2, 2, 1), F32(1, 1, 1, 0))},
            2, tp(RT_ELEM_F32, D(2, 2, 1), y), 1) == RT_OK);
  NEAR(y, 3, 7, 1, 3);
  CHECK(run(OP_MATMUL, NOATTR,
            (RtTensor[]){ten(RT_ELEM_F32, D(3), F32(1, 2, 3)), ten(RT_ELEM_F32, D(3), F32(4, 5, 6))},
            2, tp(RT_ELEM_F32, NULL, 0, y), 1) == RT_OK);
  NEAR(y, 32);
  CHECK(run(OP_MATMUL, NOATTR,
            (RtTensor[]){ten(RT_ELEM_F32, D(2), F32(1, 2)), ten(RT_ELEM_F32, D(2, 2), F32(1, 2, 3, 4))},
            2, tp(RT_ELEM_F32, D(2), y), 1) == RT_OK);
  NEAR(y, 7, 10);
  int32_t iy[2];
  CHECK(run(OP_MATMUL, NOATTR,
            (RtTensor[]){ten(RT_ELEM_I32, D(2, 2), (int32_t[]){1, 2, 3, 4}),
                         ten(RT_ELEM_I32, D(2), (int32_t[]){1, 1})},
            2, tp(RT_ELEM_I32, D(2), iy), 1) == RT_OK);
  CHECK(iy[0] == 3 && iy[1] == 7);
  CHECK(run(OP_MATMUL, NOATTR,
            (RtTensor[]){ten(RT_ELEM_F32, D(2, 3), y), ten(RT_ELEM_F32, D(2), y)}, 2,
            tp(RT_ELEM_F32, D(2), y), 1) == RT_ESHAPE);
  CHECK_STR(err, "inner dimensions differ: 3 and 2");
}

static void test_pools(void) {
  float x[16], y[9];
  for (int i = 0; i < 16; i++)
    x[i] = (float)(i + 1);
  /* kernel 3, stride 2 on 4x4: ceil_mode gives 2x2 where floor gives 1x1 */
  CHECK(run(OP_MAX_POOL, ATTRS(a_int("ceil_mode", 1), a_ints("kernel_shape", 3, 3), a_ints("strides", 2, 2)),
            tp(RT_ELEM_F32, D(1, 1, 4, 4), x), 1, tp(RT_ELEM_F32, D(1, 1, 2, 2), y), 1) == RT_OK);
  NEAR(y, 11, 12, 15, 16);
  CHECK(run(OP_MAX_POOL, ATTRS(a_ints("kernel_shape", 3, 3), a_ints("strides", 2, 2)),
            tp(RT_ELEM_F32, D(1, 1, 4, 4), x), 1, tp(RT_ELEM_F32, D(1, 1, 1, 1), y), 1) == RT_OK);
  NEAR(y, 11);
  /* 1-D [1,2,3,4], kernel 3, stride 2, pads 1/1, ceil_mode: windows at -1, 1, 3 */
  RtTensor x1 = ten(RT_ELEM_F32, D(1, 1, 4), F32(1, 2, 3, 4));
  RtTensor y1 = ten(RT_ELEM_F32, D(1, 1, 3), y);
  CHECK(run(OP_AVG_POOL, ATTRS(a_int("ceil_mode", 1), a_int("count_include_pad", 1), a_ints("kernel_shape", 3),
                               a_ints("pads", 1, 1), a_ints("strides", 2)),
            &x1, 1, &y1, 1) == RT_OK);
  NEAR(y, 1, 3, 2);
  CHECK(run(OP_AVG_POOL, ATTRS(a_int("ceil_mode", 1), a_ints("kernel_shape", 3), a_ints("pads", 1, 1),
                               a_ints("strides", 2)),
            &x1, 1, &y1, 1) == RT_OK);
  NEAR(y, 1.5, 3, 4);
  CHECK(run(OP_MAX_POOL, ATTRS(a_int("ceil_mode", 1), a_ints("kernel_shape", 3), a_ints("pads", 1, 1),
                               a_ints("strides", 2)),
            &x1, 1, &y1, 1) == RT_OK);
  NEAR(y, 2, 4, 4);
  /* dilation 2 on [1..4]: windows {1,3} and {2,4} */
  CHECK(run(OP_MAX_POOL, ATTRS(a_ints("dilations", 2), a_ints("kernel_shape", 2)), &x1, 1,
            tp(RT_ELEM_F32, D(1, 1, 2), y), 1) == RT_OK);
  NEAR(y, 3, 4);
  /* integers; a wrong result shape */
  int32_t iy[2];
  CHECK(run(OP_MAX_POOL, ATTRS(a_ints("kernel_shape", 2), a_ints("strides", 2)),
            tp(RT_ELEM_I32, D(1, 1, 4), (int32_t[]){-5, -9, 7, 2}), 1,
            tp(RT_ELEM_I32, D(1, 1, 2), iy), 1) == RT_OK);
  CHECK(iy[0] == -5 && iy[1] == 7);
  CHECK(run(OP_AVG_POOL, ATTRS(a_ints("kernel_shape", 3)), &x1, 1, &y1, 1) == RT_ESHAPE);
  CHECK_STR(err, "result 0 has shape [1,1,3], expected [1,1,2]");
  CHECK(run(OP_GLOBAL_AVG_POOL, NOATTR, tp(RT_ELEM_F32, D(1, 2, 2, 2), x), 1,
            tp(RT_ELEM_F32, D(1, 2, 1, 1), y), 1) == RT_OK);
  NEAR(y, 2.5, 6.5);
  CHECK(run(OP_GLOBAL_MAX_POOL, NOATTR, tp(RT_ELEM_F32, D(2, 1, 3), x), 1,
            tp(RT_ELEM_F32, D(2, 1, 1), y), 1) == RT_OK);
  NEAR(y, 3, 6);
}

/* ---- reductions, softmax, layer_norm ---- */

static void test_reduce(void) {
  float x[6] = {1, 2, 3, 4, 5, 6}, y[3];
  RtTensor in = ten(RT_ELEM_F32, D(2, 3), x);
  CHECK(run(OP_REDUCE_SUM, ATTRS(a_ints("axes", -1), a_int("keepdims", 0)), &in, 1,
            tp(RT_ELEM_F32, D(2), y), 1) == RT_OK);
  NEAR(y, 6, 15);
  CHECK(run(OP_REDUCE_MEAN, ATTRS(a_ints("axes", 0)), &in, 1, tp(RT_ELEM_F32, D(1, 3), y), 1) ==
        RT_OK);
  NEAR(y, 2.5, 3.5, 4.5);
  CHECK(run(OP_REDUCE_MAX, ATTRS(a_int("keepdims", 0)), &in, 1, tp(RT_ELEM_F32, NULL, 0, y), 1) ==
        RT_OK);
  NEAR(y, 6);
  CHECK(run(OP_REDUCE_SUM, ATTRS(a_ints_("axes", NULL, 0)), &in, 1,
            tp(RT_ELEM_F32, D(1, 1), y), 1) == RT_OK); /* empty axes: all */
  NEAR(y, 21);
  int64_t iy[2];
  CHECK(run(OP_REDUCE_MAX, ATTRS(a_ints("axes", 1), a_int("keepdims", 0)),
            tp(RT_ELEM_I64, D(2, 2), (int64_t[]){-4, -9, 3, 8}), 1, tp(RT_ELEM_I64, D(2), iy),
            1) == RT_OK);
  CHECK(iy[0] == -4 && iy[1] == 8);
  CHECK(run(OP_REDUCE_SUM, ATTRS(a_ints("axes", 2)), &in, 1, tp(RT_ELEM_F32, D(2), y), 1) ==
        RT_ESHAPE);
  CHECK_STR(err, "axis 2 is out of range for rank 2");
}

static void test_reduce_ext(void) {
  float x[6] = {1, 2, 3, 4, 5, 6}, xn[6] = {-1, 2, -3, 4, -5, 6}, y[3];
  RtTensor in = ten(RT_ELEM_F32, D(2, 3), x), inn = ten(RT_ELEM_F32, D(2, 3), xn);
  CHECK(run(OP_REDUCE_MIN, ATTRS(a_ints("axes", 1), a_int("keepdims", 0)), &in, 1,
            tp(RT_ELEM_F32, D(2), y), 1) == RT_OK);
  NEAR(y, 1, 4);
  CHECK(run(OP_REDUCE_PROD, ATTRS(a_ints("axes", 0)), &in, 1, tp(RT_ELEM_F32, D(1, 3), y), 1) ==
        RT_OK);
  NEAR(y, 4, 10, 18);
  CHECK(run(OP_REDUCE_L1, ATTRS(a_ints("axes", -1), a_int("keepdims", 0)), &inn, 1,
            tp(RT_ELEM_F32, D(2), y), 1) == RT_OK);
  NEAR(y, 6, 15);
  CHECK(run(OP_REDUCE_L2, ATTRS(a_ints("axes", 0), a_int("keepdims", 0)), &inn, 1,
            tp(RT_ELEM_F32, D(3), y), 1) == RT_OK);
  NEAR(y, 4.123105625617661, 5.385164807134504, 6.708203932499369);
  CHECK(run(OP_REDUCE_SUM_SQUARE, ATTRS(a_ints("axes", 1)), &inn, 1,
            tp(RT_ELEM_F32, D(2, 1), y), 1) == RT_OK);
  NEAR(y, 14, 77);
  CHECK(run(OP_REDUCE_LOG_SUM, ATTRS(a_ints("axes", 1), a_int("keepdims", 0)), &in, 1,
            tp(RT_ELEM_F32, D(2), y), 1) == RT_OK);
  NEAR(y, 1.791759469228055, 2.70805020110221);
  CHECK(run(OP_REDUCE_LOG_SUM_EXP, ATTRS(a_ints("axes", 1), a_int("keepdims", 0)), &in, 1,
            tp(RT_ELEM_F32, D(2), y), 1) == RT_OK);
  NEAR(y, 3.40760596444438, 6.40760596444438);
  CHECK(run(OP_REDUCE_LOG_SUM_EXP, ATTRS(a_int("keepdims", 0)),
            tp(RT_ELEM_F32, D(2), F32(1000, 1000)), 1, tp(RT_ELEM_F32, NULL, 0, y), 1) == RT_OK);
  NEAR(y, 1000.6931471805599); /* stable for large values */
  double dy[2];
  CHECK(run(OP_REDUCE_L2, ATTRS(a_ints("axes", 1), a_int("keepdims", 0)),
            tp(RT_ELEM_F64, D(2, 2), (double[]){3, 4, 5, 12}), 1, tp(RT_ELEM_F64, D(2), dy),
            1) == RT_OK);
  CHECK(dy[0] == 5 && dy[1] == 13);
  int32_t iy[2];
  CHECK(run(OP_REDUCE_MIN, ATTRS(a_ints("axes", 1), a_int("keepdims", 0)),
            tp(RT_ELEM_I32, D(2, 2), (int32_t[]){-4, -9, 3, 8}), 1, tp(RT_ELEM_I32, D(2), iy),
            1) == RT_OK);
  CHECK(iy[0] == -9 && iy[1] == 3);
  int64_t ly[1];
  CHECK(run(OP_REDUCE_PROD, ATTRS(a_int("keepdims", 0)),
            tp(RT_ELEM_I64, D(3), (int64_t[]){2, 3, -4}), 1, tp(RT_ELEM_I64, NULL, 0, ly),
            1) == RT_OK);
  CHECK(ly[0] == -24);
  CHECK(run(OP_REDUCE_MIN, ATTRS(a_ints("axes", 1, -1)), &in, 1, tp(RT_ELEM_F32, D(2, 1), y),
            1) == RT_ESHAPE);
  CHECK_STR(err, "axis 1 is listed twice");
  CHECK(run(OP_REDUCE_L2, NOATTR, tp(RT_ELEM_BOOL, D(1), (uint8_t[]){1}), 1,
            tp(RT_ELEM_BOOL, D(1), (uint8_t[]){0}), 1) == RT_EUNSUPPORTED);
  CHECK_STR(err, "element type bool has no reference kernel");
}

static void test_arg(void) {
  RtTensor in = ten(RT_ELEM_F32, D(2, 3), F32(1, 5, 5, 7, 2, 7));
  int64_t y[3];
  CHECK(run(OP_ARG_MAX, ATTRS(a_int("axis", 1), a_int("keepdims", 0)), &in, 1,
            tp(RT_ELEM_I64, D(2), y), 1) == RT_OK);
  CHECK(y[0] == 1 && y[1] == 0);
  CHECK(run(OP_ARG_MAX, ATTRS(a_int("axis", -1), a_int("select_last_index", 1)), &in, 1,
            tp(RT_ELEM_I64, D(2, 1), y), 1) == RT_OK);
  CHECK(y[0] == 2 && y[1] == 2);
  CHECK(run(OP_ARG_MIN, NOATTR, &in, 1, tp(RT_ELEM_I64, D(1, 3), y), 1) == RT_OK);
  CHECK(y[0] == 0 && y[1] == 1 && y[2] == 0);
  RtTensor iin = ten(RT_ELEM_I32, D(3), (int32_t[]){3, -1, -1});
  CHECK(run(OP_ARG_MIN, ATTRS(a_int("keepdims", 0)), &iin, 1, tp(RT_ELEM_I64, NULL, 0, y), 1) ==
        RT_OK);
  CHECK(y[0] == 1);
  CHECK(run(OP_ARG_MIN, ATTRS(a_int("keepdims", 0), a_int("select_last_index", 1)), &iin, 1,
            tp(RT_ELEM_I64, NULL, 0, y), 1) == RT_OK);
  CHECK(y[0] == 2);
  CHECK(run(OP_ARG_MAX, ATTRS(a_int("keepdims", 0)),
            tp(RT_ELEM_F64, D(3), (double[]){-1, 0.5, 0.25}), 1, tp(RT_ELEM_I64, NULL, 0, y),
            1) == RT_OK);
  CHECK(y[0] == 1);
  float fy[3];
  CHECK(run(OP_ARG_MAX, NOATTR, &in, 1, tp(RT_ELEM_F32, D(1, 3), fy), 1) == RT_EUNSUPPORTED);
  CHECK_STR(err, "result element type f32, expected i64");
  CHECK(run(OP_ARG_MAX, ATTRS(a_int("axis", 2)), &in, 1, tp(RT_ELEM_I64, D(1, 3), y), 1) ==
        RT_ESHAPE);
  CHECK_STR(err, "axis 2 is out of range for rank 2");
}

static void test_log_softmax_hardmax(void) {
  float y[4];
  RtTensor in = ten(RT_ELEM_F32, D(2, 2), F32(1, 2, 3, 4));
  CHECK(run(OP_LOG_SOFTMAX, NOATTR, &in, 1, tp(RT_ELEM_F32, D(2, 2), y), 1) == RT_OK);
  NEAR(y, -1.3132616875182228, -0.31326168751822286, -1.3132616875182228,
       -0.31326168751822286);
  CHECK(run(OP_LOG_SOFTMAX, ATTRS(a_int("axis", 0)), &in, 1, tp(RT_ELEM_F32, D(2, 2), y), 1) ==
        RT_OK);
  NEAR(y, -2.1269280110429727, -2.1269280110429727, -0.12692801104297263,
       -0.12692801104297263);
  double dy[2];
  CHECK(run(OP_LOG_SOFTMAX, NOATTR, tp(RT_ELEM_F64, D(2), (double[]){1000, 1000}), 1,
            tp(RT_ELEM_F64, D(2), dy), 1) == RT_OK);
  CHECK(fabs(dy[0] + 0.6931471805599453) < 1e-12 && dy[0] == dy[1]);
  CHECK(run(OP_HARDMAX, NOATTR, tp(RT_ELEM_F32, D(2, 2), F32(1, 3, 2, 2)), 1,
            tp(RT_ELEM_F32, D(2, 2), y), 1) == RT_OK);
  NEAR(y, 0, 1, 1, 0); /* ties: the first */
  CHECK(run(OP_HARDMAX, ATTRS(a_int("axis", 0)), &in, 1, tp(RT_ELEM_F32, D(2, 2), y), 1) ==
        RT_OK);
  NEAR(y, 0, 0, 1, 1);
  CHECK(run(OP_HARDMAX, NOATTR, tp(RT_ELEM_F64, D(3), (double[]){-5, -7, -6}), 1,
            tp(RT_ELEM_F64, D(3), (double[]){9, 9, 9}), 1) == RT_OK);
  CHECK(run(OP_LOG_SOFTMAX, NOATTR, tp(RT_ELEM_I32, D(2), (int32_t[]){1, 2}), 1,
            tp(RT_ELEM_I32, D(2), (int32_t[]){0, 0}), 1) == RT_EUNSUPPORTED);
  CHECK_STR(err, "element type i32 has no reference kernel");
  CHECK(run(OP_HARDMAX, NOATTR, &in, 1, tp(RT_ELEM_F32, D(4), y), 1) == RT_ESHAPE);
  CHECK_STR(err, "result 0 has shape [4], expected [2,2]");
}

static void test_softmax_layer_norm(void) {
  float y[4];
  RtTensor in = ten(RT_ELEM_F32, D(2, 2), F32(1, 2, 3, 4));
  CHECK(run(OP_SOFTMAX, ATTRS(a_int("axis", 0)), &in, 1, tp(RT_ELEM_F32, D(2, 2), y), 1) == RT_OK);
  NEAR(y, 0.11920292202211755, 0.11920292202211755, 0.8807970779778823, 0.8807970779778823);
  CHECK(run(OP_SOFTMAX, NOATTR, &in, 1, tp(RT_ELEM_F32, D(2, 2), y), 1) == RT_OK);
  NEAR(y, 0.2689414213699951, 0.7310585786300049, 0.2689414213699951, 0.7310585786300049);
  /* rows [1,3] (mean 2, var 1) and [2,2] (var 0): * [1,2] + [0.5,-0.5] */
  CHECK(run(OP_LAYER_NORM, NOATTR,
            (RtTensor[]){ten(RT_ELEM_F32, D(2, 2), F32(1, 3, 2, 2)), ten(RT_ELEM_F32, D(2), F32(1, 2)),
                         ten(RT_ELEM_F32, D(2), F32(0.5f, -0.5f))},
            3, tp(RT_ELEM_F32, D(2, 2), y), 1) == RT_OK);
  NEAR(y, -0.5 + 5e-6, 1.5 - 1e-5, 0.5, -0.5);
  /* axis 0 normalizes everything; no bias */
  CHECK(run(OP_LAYER_NORM, ATTRS(a_float("epsilon", 0), a_int("axis", 0)),
            (RtTensor[]){ten(RT_ELEM_F32, D(2, 2), F32(1, 3, 1, 3)), ten(RT_ELEM_F32, D(1), F32(2))}, 2,
            tp(RT_ELEM_F32, D(2, 2), y), 1) == RT_OK);
  NEAR(y, -2, 2, -2, 2);
}

static void test_norm_quant(void) {
  float y[8], mean[2], inv[2];
  /* layer_norm's Mean and InvStdDev: rows [1,3] and [2,2] */
  CHECK(run(OP_LAYER_NORM, ATTRS(a_float("epsilon", 0)),
            (RtTensor[]){ten(RT_ELEM_F32, D(2, 2), F32(1, 3, 2, 6)), ten(RT_ELEM_F32, D(2), F32(1, 1))},
            2,
            (RtTensor[]){ten(RT_ELEM_F32, D(2, 2), y), ten(RT_ELEM_F32, D(2, 1), mean),
                         ten(RT_ELEM_F32, D(2, 1), inv)},
            3) == RT_OK);
  NEAR(y, -1, 1, -1, 1);
  NEAR(mean, 2, 4);
  NEAR(inv, 1, 0.5);
  /* instance_norm over a plane [1,3] (mean 2, var 1) * 2 + 1 */
  CHECK(run(OP_INSTANCE_NORM, ATTRS(a_float("epsilon", 0)),
            (RtTensor[]){ten(RT_ELEM_F32, D(1, 1, 2), F32(1, 3)), ten(RT_ELEM_F32, D(1), F32(2)),
                         ten(RT_ELEM_F32, D(1), F32(1))},
            3, tp(RT_ELEM_F32, D(1, 1, 2), y), 1) == RT_OK);
  NEAR(y, -1, 3);
  /* lrn size 1: x / (1 + x^2)^0.5 with alpha 1, beta 0.5, bias 1 */
  CHECK(run(OP_LRN, ATTRS(a_float("alpha", 1), a_float("beta", 0.5), a_int("size", 1)),
            tp(RT_ELEM_F32, D(1, 2, 1), F32(1, 2)), 1, tp(RT_ELEM_F32, D(1, 2, 1), y), 1) == RT_OK);
  NEAR(y, 1 / sqrt(2.0), 2 / sqrt(5.0));
  /* lp_pool p=2 over [3,4] */
  CHECK(run(OP_LP_POOL, ATTRS(a_ints("kernel_shape", 2)), tp(RT_ELEM_F32, D(1, 1, 2), F32(3, -4)), 1,
            tp(RT_ELEM_F32, D(1, 1, 1), y), 1) == RT_OK);
  NEAR(y, 5);
  /* einsum: matmul, transpose, diagonal */
  CHECK(run(OP_EINSUM, ATTRS(a_str("equation", "ij,jk->ik")),
            (RtTensor[]){ten(RT_ELEM_F32, D(1, 2), F32(1, 2)), ten(RT_ELEM_F32, D(2, 2), F32(1, 2, 3, 4))},
            2, tp(RT_ELEM_F32, D(1, 2), y), 1) == RT_OK);
  NEAR(y, 7, 10);
  CHECK(run(OP_EINSUM, ATTRS(a_str("equation", "ij->ji")), tp(RT_ELEM_F32, D(2, 2), F32(1, 2, 3, 4)), 1,
            tp(RT_ELEM_F32, D(2, 2), y), 1) == RT_OK);
  NEAR(y, 1, 3, 2, 4);
  CHECK(run(OP_EINSUM, ATTRS(a_str("equation", "...ii->...i")), tp(RT_ELEM_F32, D(2, 2), F32(1, 2, 3, 4)), 1,
            tp(RT_ELEM_F32, D(2), y), 1) == RT_OK);
  NEAR(y, 1, 4);
  CHECK(run(OP_EINSUM, ATTRS(a_str("equation", "ij->k")), tp(RT_ELEM_F32, D(2, 2), F32(1, 2, 3, 4)), 1,
            tp(RT_ELEM_F32, D(2), y), 1) != RT_OK);

  /* quantize: half to even, saturate; per axis */
  uint8_t q[4];
  int8_t s8[4];
  CHECK(run(OP_QUANTIZE_LINEAR, NOATTR,
            (RtTensor[]){ten(RT_ELEM_F32, D(4), F32(1, 3, 1000, -5)), ten(RT_ELEM_F32, NULL, 0, F32(2)),
                         ten(RT_ELEM_U8, NULL, 0, (uint8_t[]){10})},
            3, tp(RT_ELEM_U8, D(4), q), 1) == RT_OK);
  CHECK(q[0] == 10 && q[1] == 12 && q[2] == 255 && q[3] == 8);
  CHECK(run(OP_QUANTIZE_LINEAR, ATTRS(a_int("axis", 0)),
            (RtTensor[]){ten(RT_ELEM_F32, D(2, 2), F32(1, 1, 1, 1)), ten(RT_ELEM_F32, D(2), F32(1, 0.5f))},
            2, tp(RT_ELEM_I8, D(2, 2), s8), 1) == RT_OK);
  CHECK(s8[0] == 1 && s8[1] == 1 && s8[2] == 2 && s8[3] == 2);
  CHECK(run(OP_DEQUANTIZE_LINEAR, NOATTR,
            (RtTensor[]){ten(RT_ELEM_U8, D(2), (uint8_t[]){10, 0}), ten(RT_ELEM_F32, NULL, 0, F32(0.5f)),
                         ten(RT_ELEM_U8, NULL, 0, (uint8_t[]){4})},
            3, tp(RT_ELEM_F32, D(2), y), 1) == RT_OK);
  NEAR(y, 3, -2);
  CHECK(run(OP_DEQUANTIZE_LINEAR, NOATTR,
            (RtTensor[]){ten(RT_ELEM_F32, D(2), F32(1, 2)), ten(RT_ELEM_F32, NULL, 0, F32(0.5f))}, 2,
            tp(RT_ELEM_F32, D(2), y), 1) != RT_OK);
  /* matmul_integer: [1,2] - 1 times [[2,3],[4,5]] - 2 */
  int32_t i32[4];
  CHECK(run(OP_MATMUL_INTEGER, NOATTR,
            (RtTensor[]){ten(RT_ELEM_U8, D(1, 2), (uint8_t[]){2, 3}), ten(RT_ELEM_U8, D(2, 2), (uint8_t[]){2, 3, 4, 5}),
                         ten(RT_ELEM_U8, NULL, 0, (uint8_t[]){1}), ten(RT_ELEM_U8, NULL, 0, (uint8_t[]){2})},
            4, tp(RT_ELEM_I32, D(1, 2), i32), 1) == RT_OK);
  CHECK(i32[0] == 1 * 0 + 2 * 2 && i32[1] == 1 * 1 + 2 * 3);
  /* conv_integer 1x1x2x2 input, 1x1x2x2 kernel of ones, x zero point 1 */
  CHECK(run(OP_CONV_INTEGER, NOATTR,
            (RtTensor[]){ten(RT_ELEM_U8, D(1, 1, 2, 2), (uint8_t[]){1, 2, 3, 4}),
                         ten(RT_ELEM_U8, D(1, 1, 2, 2), (uint8_t[]){1, 1, 1, 1}),
                         ten(RT_ELEM_U8, NULL, 0, (uint8_t[]){1})},
            3, tp(RT_ELEM_I32, D(1, 1, 1, 1), i32), 1) == RT_OK);
  CHECK(i32[0] == 6);
  /* qlinear_matmul: (2*3 + 4*5) * 0.5 * 1 / 2 = 6.5 -> 6 (half to even), + 1 */
  RtTensor qs[8] = {ten(RT_ELEM_U8, D(1, 2), (uint8_t[]){2, 4}), ten(RT_ELEM_F32, NULL, 0, F32(0.5f)),
                    ten(RT_ELEM_U8, NULL, 0, (uint8_t[]){0}), ten(RT_ELEM_U8, D(2, 1), (uint8_t[]){3, 5}),
                    ten(RT_ELEM_F32, NULL, 0, F32(1)), ten(RT_ELEM_U8, NULL, 0, (uint8_t[]){0}),
                    ten(RT_ELEM_F32, NULL, 0, F32(2)), ten(RT_ELEM_U8, NULL, 0, (uint8_t[]){1})};
  CHECK(run(OP_QLINEAR_MATMUL, NOATTR, qs, 8, tp(RT_ELEM_U8, D(1, 1), q), 1) == RT_OK);
  CHECK(q[0] == 7);
  /* qlinear_conv: 1x1 kernel 2, bias 3: (x*2 + 3) * 0.5 / 1 */
  RtTensor qc[9] = {ten(RT_ELEM_U8, D(1, 1, 1, 2), (uint8_t[]){1, 2}), ten(RT_ELEM_F32, NULL, 0, F32(0.5f)),
                    ten(RT_ELEM_U8, NULL, 0, (uint8_t[]){0}), ten(RT_ELEM_I8, D(1, 1, 1, 1), (int8_t[]){2}),
                    ten(RT_ELEM_F32, NULL, 0, F32(1)), ten(RT_ELEM_I8, NULL, 0, (int8_t[]){0}),
                    ten(RT_ELEM_F32, NULL, 0, F32(1)), ten(RT_ELEM_U8, NULL, 0, (uint8_t[]){0}),
                    ten(RT_ELEM_I32, D(1), (int32_t[]){3})};
  CHECK(run(OP_QLINEAR_CONV, NOATTR, qc, 9, tp(RT_ELEM_U8, D(1, 1, 1, 2), q), 1) == RT_OK);
  CHECK(q[0] == 2 && q[1] == 4); /* 2.5 -> 2, 3.5 -> 4 */
}

/* ---- data movement ---- */

static void test_reshape_transpose(void) {
  int64_t x[24], y[24];
  for (int i = 0; i < 24; i++)
    x[i] = i;
  OpKind kinds[] = {OP_RESHAPE, OP_FLATTEN, OP_SQUEEZE, OP_UNSQUEEZE};
  for (int k = 0; k < 4; k++) {
    memset(y, 0, sizeof y);
    CHECK(run(kinds[k], NOATTR, tp(RT_ELEM_I64, D(2, 3, 4), x), 1, tp(RT_ELEM_I64, D(6, 4), y),
              1) == RT_OK);
    CHECK(y[0] == 0 && y[23] == 23);
  }
  CHECK(run(OP_RESHAPE, NOATTR, tp(RT_ELEM_I64, D(2, 3, 4), x), 1, tp(RT_ELEM_I64, D(5), y), 1) ==
        RT_ESHAPE);
  CHECK_STR(err, "operand has 24 elements, result 5");
  /* 4-D: out[0,c,a,b] = x[0,a,b,c] = 12a + 4b + c */
  CHECK(run(OP_TRANSPOSE, ATTRS(a_ints("perm", 0, 3, 1, 2)), tp(RT_ELEM_I64, D(1, 2, 3, 4), x), 1,
            tp(RT_ELEM_I64, D(1, 4, 2, 3), y), 1) == RT_OK);
  bool ok = true;
  for (int c = 0; c < 4; c++)
    for (int a = 0; a < 2; a++)
      for (int b = 0; b < 3; b++)
        ok &= y[(c * 2 + a) * 3 + b] == 12 * a + 4 * b + c;
  CHECK(ok);
  uint8_t bx[6] = {1, 2, 3, 4, 5, 6}, by[6];
  CHECK(run(OP_TRANSPOSE, NOATTR, tp(RT_ELEM_BOOL, D(2, 3), bx), 1, tp(RT_ELEM_BOOL, D(3, 2), by),
            1) == RT_OK);
  CHECK(by[0] == 1 && by[1] == 4 && by[2] == 2 && by[5] == 6);
}

static void test_concat_split(void) {
  int64_t y[6];
  CHECK(run(OP_CONCAT, ATTRS(a_int("axis", -1)),
            (RtTensor[]){ten(RT_ELEM_I64, D(2, 1), (int64_t[]){1, 2}),
                         ten(RT_ELEM_I64, D(2, 2), (int64_t[]){3, 4, 5, 6})},
            2, tp(RT_ELEM_I64, D(2, 3), y), 1) == RT_OK);
  CHECK(y[0] == 1 && y[1] == 3 && y[2] == 4 && y[3] == 2 && y[4] == 5 && y[5] == 6);
  uint16_t x[7] = {0, 1, 2, 3, 4, 5, 6}, a[3], b[3], c[3];
  RtTensor parts[3] = {ten(RT_ELEM_F16, D(2), a), ten(RT_ELEM_F16, D(3), b)};
  CHECK(run(OP_SPLIT, ATTRS(a_ints("split", 2, 3)), tp(RT_ELEM_F16, D(5), x), 1, parts, 2) ==
        RT_OK);
  CHECK(a[0] == 0 && a[1] == 1 && b[0] == 2 && b[2] == 4);
  /* uneven default parts, 3 + 3 + 1, by the results' shapes */
  parts[0] = ten(RT_ELEM_F16, D(3), a), parts[1] = ten(RT_ELEM_F16, D(3), b);
  parts[2] = ten(RT_ELEM_F16, D(1), c);
  CHECK(run(OP_SPLIT, NOATTR, tp(RT_ELEM_F16, D(7), x), 1, parts, 3) == RT_OK);
  CHECK(a[2] == 2 && b[0] == 3 && b[2] == 5 && c[0] == 6);
  CHECK(run(OP_SPLIT, ATTRS(a_ints("split", 3, 3, 2)), tp(RT_ELEM_F16, D(7), x), 1, parts, 3) ==
        RT_ESHAPE);
  CHECK_STR(err, "result 2 has size 1 along axis 0, split says 2");
}

static void test_slice(void) {
  int32_t x[12], y[4];
  for (int i = 0; i < 12; i++)
    x[i] = i;
  /* [0..4] from -1 down to past the front, step -2: 4, 2, 0 */
  CHECK(run(OP_SLICE, ATTRS(a_ints("ends", INT64_MIN), a_ints("starts", -1), a_ints("steps", -2)),
            tp(RT_ELEM_I32, D(5), x), 1, tp(RT_ELEM_I32, D(3), y), 1) == RT_OK);
  CHECK(y[0] == 4 && y[1] == 2 && y[2] == 0);
  /* [3,4]: rows 0..1 (axis 0), columns 1 and 3 with end 100 clamped (axis 1) */
  CHECK(run(OP_SLICE, ATTRS(a_ints("axes", 1, 0), a_ints("ends", 100, 2), a_ints("starts", 1, 0),
                            a_ints("steps", 2, 1)),
            tp(RT_ELEM_I32, D(3, 4), x), 1, tp(RT_ELEM_I32, D(2, 2), y), 1) == RT_OK);
  CHECK(y[0] == 1 && y[1] == 3 && y[2] == 5 && y[3] == 7);
  CHECK(run(OP_SLICE, ATTRS(a_ints("ends", 3), a_ints("starts", 5)), tp(RT_ELEM_I32, D(5), x), 1,
            tp(RT_ELEM_I32, D(0), y), 1) == RT_OK); /* empty */
  CHECK(run(OP_SLICE, ATTRS(a_ints("ends", 3), a_ints("starts", 0), a_ints("steps", 0)),
            tp(RT_ELEM_I32, D(5), x), 1, tp(RT_ELEM_I32, D(3), y), 1) == RT_ESHAPE);
  CHECK_STR(err, "steps[0] is 0");
}

static void test_pad(void) {
  float y[7];
  RtTensor x = ten(RT_ELEM_F32, D(3), F32(1, 2, 3)), o = ten(RT_ELEM_F32, D(7), y);
  CHECK(run(OP_PAD, ATTRS(a_str("mode", "reflect"), a_ints("pads", 2, 2)), &x, 1, &o, 1) == RT_OK);
  NEAR(y, 3, 2, 1, 2, 3, 2, 1);
  CHECK(run(OP_PAD, ATTRS(a_str("mode", "edge"), a_ints("pads", 2, 2)), &x, 1, &o, 1) == RT_OK);
  NEAR(y, 1, 1, 1, 2, 3, 3, 3);
  CHECK(run(OP_PAD, ATTRS(a_str("mode", "wrap"), a_ints("pads", 2, 2)), &x, 1, &o, 1) == RT_OK);
  NEAR(y, 2, 3, 1, 2, 3, 1, 2);
  CHECK(run(OP_PAD, ATTRS(a_ints("pads", -1, 1), a_float("value", 9)), &x, 1,
            tp(RT_ELEM_F32, D(3), y), 1) == RT_OK);
  NEAR(y, 2, 3, 9);
  int8_t q[9];
  CHECK(run(OP_PAD, ATTRS(a_ints("pads", 0, 1, 1, 0)), tp(RT_ELEM_I8, D(2, 2), (int8_t[]){1, 2, 3, 4}),
            1, tp(RT_ELEM_I8, D(3, 3), q), 1) == RT_OK);
  CHECK(q[0] == 0 && q[1] == 1 && q[2] == 2 && q[4] == 3 && q[5] == 4 && q[6] == 0 && q[8] == 0);
  CHECK(run(OP_PAD, ATTRS(a_str("mode", "mirror"), a_ints("pads", 2, 2)), &x, 1, &o, 1) ==
        RT_EUNSUPPORTED);
  CHECK_STR(err, "mode \"mirror\" is not one of constant, reflect, edge, wrap");
}

static void test_gather(void) {
  float y[4];
  RtTensor data = ten(RT_ELEM_F32, D(3, 2), F32(1, 2, 3, 4, 5, 6));
  CHECK(run(OP_GATHER, NOATTR, (RtTensor[]){data, ten(RT_ELEM_I64, D(2), (int64_t[]){-1, 0})}, 2,
            tp(RT_ELEM_F32, D(2, 2), y), 1) == RT_OK);
  NEAR(y, 5, 6, 1, 2);
  CHECK(run(OP_GATHER, ATTRS(a_int("axis", 1)),
            (RtTensor[]){data, ten(RT_ELEM_I32, D(1, 1), (int32_t[]){1})}, 2,
            tp(RT_ELEM_F32, D(3, 1, 1), y), 1) == RT_OK);
  NEAR(y, 2, 4, 6);
  CHECK(run(OP_GATHER, NOATTR, (RtTensor[]){data, ten(RT_ELEM_I64, D(1), (int64_t[]){3})}, 2,
            tp(RT_ELEM_F32, D(1, 2), y), 1) == RT_ERANGE);
  CHECK_STR(err, "index 3 is out of range for dimension 0 of size 3");
  CHECK(run(OP_GATHER, NOATTR, (RtTensor[]){data, ten(RT_ELEM_I64, D(1), (int64_t[]){-4})}, 2,
            tp(RT_ELEM_F32, D(1, 2), y), 1) == RT_ERANGE);
}

/* Resize of [1,2,3,4] along its one dimension. */
static int resize1(const RtAttr *attrs, int nattrs, int64_t out, float *y) {
  return run(OP_RESIZE, attrs, nattrs, tp(RT_ELEM_F32, D(4), F32(1, 2, 3, 4)), 1,
             tp(RT_ELEM_F32, (const int64_t[]){out}, 1, y), 1);
}

static void test_resize(void) {
  float y[8];
  /* linear, half_pixel (default), x2: x = (o + 0.5) / 2 - 0.5, clamped at the edges */
  CHECK(resize1(ATTRS(a_str("mode", "linear"), a_floats("scales", 2)), 8, y) == RT_OK);
  NEAR(y, 1, 1.25, 1.75, 2.25, 2.75, 3.25, 3.75, 4);
  /* align_corners: x = o * 3 / 7 */
  CHECK(resize1(ATTRS(a_str("coordinate_transformation_mode", "align_corners"), a_str("mode", "linear"),
                      a_floats("scales", 2)), 8, y) == RT_OK);
  NEAR(y, 1, 1 + 3.0 / 7, 1 + 6.0 / 7, 1 + 9.0 / 7, 1 + 12.0 / 7, 1 + 15.0 / 7, 1 + 18.0 / 7, 4);
  /* asymmetric: x = o / 2 */
  CHECK(resize1(ATTRS(a_str("coordinate_transformation_mode", "asymmetric"), a_str("mode", "linear"),
                      a_floats("scales", 2)), 8, y) == RT_OK);
  NEAR(y, 1, 1.5, 2, 2.5, 3, 3.5, 4, 4);
  /* pytorch_half_pixel to one element: x = 0; half_pixel to one element: x = 0.5*4 - 0.5 */
  CHECK(resize1(ATTRS(a_str("coordinate_transformation_mode", "pytorch_half_pixel"),
                      a_str("mode", "linear"), a_ints("sizes", 1)), 1, y) == RT_OK);
  NEAR(y, 1);
  CHECK(resize1(ATTRS(a_str("mode", "linear"), a_ints("sizes", 1)), 1, y) == RT_OK);
  NEAR(y, 2.5);
  /* half_pixel_symmetric, scale 1.7 -> 6 elements: offset = 2 * (1 - 6/6.8) */
  CHECK(resize1(ATTRS(a_str("coordinate_transformation_mode", "half_pixel_symmetric"),
                      a_str("mode", "linear"), a_floats("scales", 1.7)), 6, y) == RT_OK);
  double off = 2 * (1 - 6 / 6.8), want[6];
  for (int o = 0; o < 6; o++) {
    double s = off + (o + 0.5) / 1.7 - 0.5;
    want[o] = s < 0 ? 1 : s > 3 ? 4 : 1 + s;
  }
  CHECK(all_near(y, want, 6));
  CHECK(near(y[0], 1.0294117647) && near(y[5], 3.9705882353));
  /* nearest, asymmetric x2: round_prefer_floor (default) and round_prefer_ceil */
  CHECK(resize1(ATTRS(a_str("coordinate_transformation_mode", "asymmetric"), a_floats("scales", 2)), 8,
                y) == RT_OK);
  NEAR(y, 1, 1, 2, 2, 3, 3, 4, 4);
  CHECK(resize1(ATTRS(a_str("coordinate_transformation_mode", "asymmetric"),
                      a_str("nearest_mode", "round_prefer_ceil"), a_floats("scales", 2)), 8, y) == RT_OK);
  NEAR(y, 1, 2, 2, 3, 3, 4, 4, 4);
  /* nearest, half_pixel /2: x = 0.5, 2.5 under each nearest_mode */
  const char *nms[] = {"round_prefer_floor", "round_prefer_ceil", "floor", "ceil"};
  const double lo[] = {1, 2, 1, 2}, hi[] = {3, 4, 3, 4};
  for (int i = 0; i < 4; i++) {
    CHECK(resize1(ATTRS(a_str("nearest_mode", nms[i]), a_floats("scales", 0.5)), 2, y) == RT_OK);
    CHECK(y[0] == lo[i] && y[1] == hi[i]);
  }
  /* cubic, asymmetric x2: x = 0.5 reads 1,1,2,3 with weights -0.09375, 0.59375, 0.59375,
   * -0.09375 */
  CHECK(resize1(ATTRS(a_str("coordinate_transformation_mode", "asymmetric"), a_str("mode", "cubic"),
                      a_floats("scales", 2)), 8, y) == RT_OK);
  CHECK(near(y[0], 1) && near(y[1], 1.40625) && near(y[2], 2));
  /* 4-D nearest of a u8 image [1,1,2,2] -> [1,1,4,4] */
  uint8_t img[4] = {1, 2, 3, 4}, big[16];
  CHECK(run(OP_RESIZE, ATTRS(a_floats("scales", 1, 1, 2, 2)), tp(RT_ELEM_U8, D(1, 1, 2, 2), img), 1,
            tp(RT_ELEM_U8, D(1, 1, 4, 4), big), 1) == RT_OK);
  CHECK(big[0] == 1 && big[3] == 2 && big[5] == 1 && big[12] == 3 && big[15] == 4);
  CHECK(resize1(ATTRS(a_str("coordinate_transformation_mode", "tf_crop_and_resize"),
                      a_floats("scales", 2)), 8, y) == RT_EUNSUPPORTED);
  CHECK_STR(err, "coordinate_transformation_mode tf_crop_and_resize needs a roi, which resize "
                 "does not carry");
}

static void test_math(void) {
  static const struct {
    OpKind k;
    float x;
    double want;
  } trig[] = {
      {OP_SIN, 0.5f, 0.479425538604203},    {OP_COS, 0.5f, 0.8775825618903728},
      {OP_TAN, 0.5f, 0.5463024898437905},   {OP_ASIN, 0.5f, 0.5235987755982989},
      {OP_ACOS, 0.5f, 1.0471975511965979},  {OP_ATAN, 0.5f, 0.4636476090008061},
      {OP_SINH, 0.5f, 0.5210953054937474},  {OP_COSH, 0.5f, 1.1276259652063807},
      {OP_ASINH, 0.5f, 0.48121182505960347}, {OP_ACOSH, 1.5f, 0.9624236501192069},
      {OP_ATANH, 0.5f, 0.5493061443340549},
  };
  float y[4];
  for (size_t i = 0; i < sizeof trig / sizeof trig[0]; i++) {
    float x = trig[i].x;
    CHECK(run(trig[i].k, NOATTR, tp(RT_ELEM_F32, D(1), &x), 1, tp(RT_ELEM_F32, D(1), y), 1) ==
          RT_OK);
    CHECK(near(y[0], trig[i].want));
  }
  RtTensor o3 = ten(RT_ELEM_F32, D(3), y), o4 = ten(RT_ELEM_F32, D(4), y);
  CHECK(run(OP_SIGN, NOATTR, tp(RT_ELEM_F32, D(3), F32(-2, 0, 3)), 1, &o3, 1) == RT_OK);
  NEAR(y, -1, 0, 1);
  CHECK(run(OP_ROUND, NOATTR, tp(RT_ELEM_F32, D(4), F32(0.5f, 1.5f, 2.5f, -2.5f)), 1, &o4, 1) ==
        RT_OK);
  NEAR(y, 0, 2, 2, -2); /* half to even */
  CHECK(run(OP_SOFTSIGN, NOATTR, tp(RT_ELEM_F32, D(3), F32(-1, 0, 3)), 1, &o3, 1) == RT_OK);
  NEAR(y, -0.5, 0, 0.75);
  CHECK(run(OP_SELU, NOATTR, tp(RT_ELEM_F32, D(3), F32(-1, 0, 2)), 1, &o3, 1) == RT_OK);
  NEAR(y, -1.1113307412864781, 0, 2.1014020442962646);
  CHECK(run(OP_SELU, ATTRS(a_float("alpha", 2), a_float("gamma", 3)),
            tp(RT_ELEM_F32, D(3), F32(-1, 0, 2)), 1, &o3, 1) == RT_OK);
  NEAR(y, 3 * (2 * exp(-1) - 2), 0, 6);
  CHECK(run(OP_CELU, NOATTR, tp(RT_ELEM_F32, D(3), F32(-1, 0, 2)), 1, &o3, 1) == RT_OK);
  NEAR(y, exp(-1) - 1, 0, 2);
  CHECK(run(OP_CELU, ATTRS(a_float("alpha", 2)), tp(RT_ELEM_F32, D(3), F32(-1, 0, 2)), 1, &o3,
            1) == RT_OK);
  NEAR(y, 2 * (exp(-0.5) - 1), 0, 2);
  CHECK(run(OP_THRESHOLDED_RELU, NOATTR, tp(RT_ELEM_F32, D(3), F32(0.5f, 1, 2)), 1, &o3, 1) ==
        RT_OK);
  NEAR(y, 0, 0, 2);
  CHECK(run(OP_SHRINK, NOATTR, tp(RT_ELEM_F32, D(3), F32(-1, 0.3f, 2)), 1, &o3, 1) == RT_OK);
  NEAR(y, -1, 0, 2);
  CHECK(run(OP_SHRINK, ATTRS(a_float("bias", 1.5), a_float("lambd", 1.5)),
            tp(RT_ELEM_F32, D(3), F32(-2, 1, 2)), 1, &o3, 1) == RT_OK);
  NEAR(y, -0.5, 0, 0.5);

  int32_t iy[3];
  RtTensor io = ten(RT_ELEM_I32, D(3), iy);
  CHECK(run(OP_SIGN, NOATTR, tp(RT_ELEM_I32, D(3), (int32_t[]){-5, 0, 7}), 1, &io, 1) == RT_OK);
  CHECK(iy[0] == -1 && iy[1] == 0 && iy[2] == 1);
  CHECK(run(OP_SHRINK, ATTRS(a_float("bias", 1), a_float("lambd", 1.5)),
            tp(RT_ELEM_I32, D(3), (int32_t[]){-3, 1, 3}), 1, &io, 1) == RT_OK);
  CHECK(iy[0] == -2 && iy[1] == 0 && iy[2] == 2);
  CHECK(run(OP_SIN, NOATTR, tp(RT_ELEM_I32, D(3), iy), 1, &io, 1) == RT_EUNSUPPORTED);
  CHECK_STR(err, "element type i32 has no reference kernel");

  uint8_t b[4];
  RtTensor bo = ten(RT_ELEM_BOOL, D(4), b);
  CHECK(run(OP_IS_NAN, NOATTR, tp(RT_ELEM_F32, D(4), F32(NAN, 1, INFINITY, -INFINITY)), 1, &bo,
            1) == RT_OK);
  CHECK(b[0] == 1 && b[1] == 0 && b[2] == 0 && b[3] == 0);
  CHECK(run(OP_IS_INF, NOATTR, tp(RT_ELEM_F32, D(4), F32(-INFINITY, 1, INFINITY, NAN)), 1, &bo,
            1) == RT_OK);
  CHECK(b[0] == 1 && b[1] == 0 && b[2] == 1 && b[3] == 0);
  CHECK(run(OP_IS_INF, ATTRS(a_int("detect_negative", 0)),
            tp(RT_ELEM_F32, D(4), F32(-INFINITY, 1, INFINITY, NAN)), 1, &bo, 1) == RT_OK);
  CHECK(b[0] == 0 && b[1] == 0 && b[2] == 1 && b[3] == 0);
  CHECK(run(OP_IS_INF, ATTRS(a_int("detect_positive", 0)),
            tp(RT_ELEM_F32, D(4), F32(-INFINITY, 1, INFINITY, NAN)), 1, &bo, 1) == RT_OK);
  CHECK(b[0] == 1 && b[1] == 0 && b[2] == 0 && b[3] == 0);
  CHECK(run(OP_IS_NAN, NOATTR, tp(RT_ELEM_F32, D(4), y), 1, tp(RT_ELEM_F32, D(4), y), 1) ==
        RT_EUNSUPPORTED);
  CHECK_STR(err, "result 0 has element type f32, expected bool");
  CHECK(run(OP_NOT, NOATTR, tp(RT_ELEM_BOOL, D(4), (uint8_t[]){1, 0, 0, 1}), 1, &bo, 1) == RT_OK);
  CHECK(b[0] == 0 && b[1] == 1 && b[2] == 1 && b[3] == 0);

  RtTensor lg[2] = {ten(RT_ELEM_BOOL, D(4), (uint8_t[]){0, 0, 1, 1}),
                    ten(RT_ELEM_BOOL, D(4), (uint8_t[]){0, 1, 0, 1})};
  CHECK(run(OP_AND, NOATTR, lg, 2, &bo, 1) == RT_OK);
  CHECK(b[0] == 0 && b[1] == 0 && b[2] == 0 && b[3] == 1);
  CHECK(run(OP_OR, NOATTR, lg, 2, &bo, 1) == RT_OK);
  CHECK(b[0] == 0 && b[1] == 1 && b[2] == 1 && b[3] == 1);
  CHECK(run(OP_XOR, NOATTR, lg, 2, &bo, 1) == RT_OK);
  CHECK(b[0] == 0 && b[1] == 1 && b[2] == 1 && b[3] == 0);
  RtTensor lb[2] = {ten(RT_ELEM_BOOL, D(2, 1), (uint8_t[]){0, 1}),
                    ten(RT_ELEM_BOOL, D(2), (uint8_t[]){0, 1})};
  CHECK(run(OP_OR, NOATTR, lb, 2, tp(RT_ELEM_BOOL, D(2, 2), b), 1) == RT_OK); /* broadcast */
  CHECK(b[0] == 0 && b[1] == 1 && b[2] == 1 && b[3] == 1);

  RtTensor cmp[2] = {ten(RT_ELEM_F32, D(2, 2), F32(1, NAN, 3, 4)), ten(RT_ELEM_F32, D(2), F32(3, 3))};
  CHECK(run(OP_LESS_OR_EQUAL, NOATTR, cmp, 2, tp(RT_ELEM_BOOL, D(2, 2), b), 1) == RT_OK);
  CHECK(b[0] == 1 && b[1] == 0 && b[2] == 1 && b[3] == 0);
  CHECK(run(OP_GREATER_OR_EQUAL, NOATTR, cmp, 2, tp(RT_ELEM_BOOL, D(2, 2), b), 1) == RT_OK);
  CHECK(b[0] == 0 && b[1] == 0 && b[2] == 1 && b[3] == 1);

  int32_t my[4];
  RtTensor mo = ten(RT_ELEM_I32, D(4), my);
  RtTensor mi[2] = {ten(RT_ELEM_I32, D(4), (int32_t[]){-4, 7, 5, -5}),
                    ten(RT_ELEM_I32, D(4), (int32_t[]){3, -3, 3, -3})};
  CHECK(run(OP_MOD, NOATTR, mi, 2, &mo, 1) == RT_OK); /* sign of the divisor */
  CHECK(my[0] == 2 && my[1] == -2 && my[2] == 2 && my[3] == -2);
  CHECK(run(OP_MOD, ATTRS(a_int("fmod", 1)), mi, 2, &mo, 1) == RT_OK); /* sign of the dividend */
  CHECK(my[0] == -1 && my[1] == 1 && my[2] == 2 && my[3] == -2);
  RtTensor mz[2] = {ten(RT_ELEM_I32, D(4), (int32_t[]){1, 2, 3, 4}),
                    ten(RT_ELEM_I32, D(1), (int32_t[]){0})};
  CHECK(run(OP_MOD, NOATTR, mz, 2, &mo, 1) == RT_EDIVZERO);
  CHECK_STR(err, "integer division by zero");
  RtTensor mf[2] = {ten(RT_ELEM_F32, D(2), F32(5.5f, -5.5f)), ten(RT_ELEM_F32, NULL, 0, F32(2))};
  CHECK(run(OP_MOD, ATTRS(a_int("fmod", 1)), mf, 2, tp(RT_ELEM_F32, D(2), y), 1) == RT_OK);
  NEAR(y, 1.5, -1.5);
  CHECK(run(OP_MOD, NOATTR, mf, 2, tp(RT_ELEM_F32, D(2), y), 1) == RT_EUNSUPPORTED);
  CHECK_STR(err, "fmod is 0 with f32 operands, expected 1");
}

/* gather_elements, gather_nd, scatter_elements, scatter_nd, depth_to_space, space_to_depth,
 * trilu, cum_sum, one_hot, top_k, sum, mean. */
static void test_index(void) {
  float y[16];
  RtTensor d22 = ten(RT_ELEM_F32, D(2, 2), F32(1, 2, 3, 4));
  CHECK(run(OP_GATHER_ELEMENTS, ATTRS(a_int("axis", 1)),
            (RtTensor[]){d22, ten(RT_ELEM_I64, D(2, 2), (int64_t[]){0, 0, 1, 0})}, 2,
            tp(RT_ELEM_F32, D(2, 2), y), 1) == RT_OK);
  NEAR(y, 1, 1, 4, 3);
  int16_t s[8];
  CHECK(run(OP_GATHER_ELEMENTS, NOATTR,
            (RtTensor[]){ten(RT_ELEM_I16, D(2, 2), (int16_t[]){1, 2, 3, 4}),
                         ten(RT_ELEM_I32, D(1, 2), (int32_t[]){1, -2})}, 2,
            tp(RT_ELEM_I16, D(1, 2), s), 1) == RT_OK);
  CHECK(s[0] == 3 && s[1] == 2);
  CHECK(run(OP_GATHER_ELEMENTS, ATTRS(a_int("axis", 1)),
            (RtTensor[]){d22, ten(RT_ELEM_I64, D(1, 1), (int64_t[]){2})}, 2,
            tp(RT_ELEM_F32, D(1, 1), y), 1) == RT_ERANGE);
  CHECK_STR(err, "index 2 is out of range for dimension 1 of size 2");

  CHECK(run(OP_GATHER_ND, NOATTR,
            (RtTensor[]){d22, ten(RT_ELEM_I64, D(2, 2), (int64_t[]){0, 0, 1, 1})}, 2,
            tp(RT_ELEM_F32, D(2), y), 1) == RT_OK);
  NEAR(y, 1, 4);
  RtTensor d222 = ten(RT_ELEM_F32, D(2, 2, 2), F32(0, 1, 2, 3, 4, 5, 6, 7));
  CHECK(run(OP_GATHER_ND, ATTRS(a_int("batch_dims", 1)),
            (RtTensor[]){d222, ten(RT_ELEM_I64, D(2, 1), (int64_t[]){1, 0})}, 2,
            tp(RT_ELEM_F32, D(2, 2), y), 1) == RT_OK);
  NEAR(y, 2, 3, 4, 5);
  CHECK(run(OP_GATHER_ND, NOATTR,
            (RtTensor[]){d22, ten(RT_ELEM_I64, D(1, 2), (int64_t[]){0, -3})}, 2,
            tp(RT_ELEM_F32, D(1), y), 1) == RT_ERANGE);
  CHECK_STR(err, "index -3 is out of range for dimension 1 of size 2");

  RtTensor se[3] = {ten(RT_ELEM_F32, D(3, 3), F32(0, 0, 0, 0, 0, 0, 0, 0, 0)),
                    ten(RT_ELEM_I64, D(2, 3), (int64_t[]){1, 0, 2, 0, 2, 1}),
                    ten(RT_ELEM_F32, D(2, 3), F32(1, 1.1f, 1.2f, 2, 2.1f, 2.2f))};
  CHECK(run(OP_SCATTER_ELEMENTS, NOATTR, se, 3, tp(RT_ELEM_F32, D(3, 3), y), 1) == RT_OK);
  NEAR(y, 2, 1.1, 0, 1, 0, 2.2, 0, 2.1, 1.2);
  RtTensor sa[3] = {ten(RT_ELEM_F32, D(1, 5), F32(1, 2, 3, 4, 5)),
                    ten(RT_ELEM_I64, D(1, 2), (int64_t[]){1, 1}),
                    ten(RT_ELEM_F32, D(1, 2), F32(1.1f, 2.1f))};
  CHECK(run(OP_SCATTER_ELEMENTS, ATTRS(a_int("axis", 1), a_str("reduction", "add")), sa, 3,
            tp(RT_ELEM_F32, D(1, 5), y), 1) == RT_OK);
  NEAR(y, 1, 5.2, 3, 4, 5);
  CHECK(run(OP_SCATTER_ELEMENTS, ATTRS(a_int("axis", 1), a_str("reduction", "max")), sa, 3,
            tp(RT_ELEM_F32, D(1, 5), y), 1) == RT_OK);
  NEAR(y, 1, 2.1, 3, 4, 5);
  sa[1] = ten(RT_ELEM_I64, D(1, 2), (int64_t[]){1, 5});
  CHECK(run(OP_SCATTER_ELEMENTS, ATTRS(a_int("axis", 1)), sa, 3, tp(RT_ELEM_F32, D(1, 5), y),
            1) == RT_ERANGE);
  CHECK_STR(err, "index 5 is out of range for dimension 1 of size 5");

  int32_t iy[8];
  RtTensor sn[3] = {ten(RT_ELEM_I32, D(8), (int32_t[]){1, 2, 3, 4, 5, 6, 7, 8}),
                    ten(RT_ELEM_I64, D(4, 1), (int64_t[]){4, 3, 1, 7}),
                    ten(RT_ELEM_I32, D(4), (int32_t[]){9, 10, 11, 12})};
  CHECK(run(OP_SCATTER_ND, NOATTR, sn, 3, tp(RT_ELEM_I32, D(8), iy), 1) == RT_OK);
  CHECK(iy[0] == 1 && iy[1] == 11 && iy[3] == 10 && iy[4] == 9 && iy[7] == 12 && iy[6] == 7);
  CHECK(run(OP_SCATTER_ND, ATTRS(a_str("reduction", "mul")), sn, 3, tp(RT_ELEM_I32, D(8), iy),
            1) == RT_OK);
  CHECK(iy[1] == 22 && iy[3] == 40 && iy[4] == 45 && iy[7] == 96 && iy[0] == 1);
  sn[1] = ten(RT_ELEM_I64, D(4, 1), (int64_t[]){4, 3, 1, 8});
  CHECK(run(OP_SCATTER_ND, NOATTR, sn, 3, tp(RT_ELEM_I32, D(8), iy), 1) == RT_ERANGE);
  CHECK_STR(err, "index 8 is out of range for dimension 0 of size 8");

  RtTensor deep = ten(RT_ELEM_F32, D(1, 8, 1, 1), F32(0, 1, 2, 3, 4, 5, 6, 7));
  CHECK(run(OP_DEPTH_TO_SPACE, ATTRS(a_int("blocksize", 2)), &deep, 1,
            tp(RT_ELEM_F32, D(1, 2, 2, 2), y), 1) == RT_OK);
  NEAR(y, 0, 2, 4, 6, 1, 3, 5, 7);
  CHECK(run(OP_DEPTH_TO_SPACE, ATTRS(a_int("blocksize", 2), a_str("mode", "CRD")), &deep, 1,
            tp(RT_ELEM_F32, D(1, 2, 2, 2), y), 1) == RT_OK);
  NEAR(y, 0, 1, 2, 3, 4, 5, 6, 7);
  CHECK(run(OP_SPACE_TO_DEPTH, ATTRS(a_int("blocksize", 2)),
            tp(RT_ELEM_F32, D(1, 2, 2, 2), F32(0, 2, 4, 6, 1, 3, 5, 7)), 1,
            tp(RT_ELEM_F32, D(1, 8, 1, 1), y), 1) == RT_OK);
  NEAR(y, 0, 1, 2, 3, 4, 5, 6, 7);
  CHECK(run(OP_SPACE_TO_DEPTH, ATTRS(a_int("blocksize", 3)),
            tp(RT_ELEM_F32, D(1, 2, 2, 2), y), 1, tp(RT_ELEM_F32, D(1, 8, 1, 1), y), 1) ==
        RT_ESHAPE);
  CHECK_STR(err, "height 2 and width 2 are not multiples of 3");

  RtTensor m33 = ten(RT_ELEM_F32, D(3, 3), F32(1, 2, 3, 4, 5, 6, 7, 8, 9));
  CHECK(run(OP_TRILU, NOATTR, &m33, 1, tp(RT_ELEM_F32, D(3, 3), y), 1) == RT_OK);
  NEAR(y, 1, 2, 3, 0, 5, 6, 0, 0, 9);
  CHECK(run(OP_TRILU, ATTRS(a_int("k", -1), a_int("upper", 0)), &m33, 1,
            tp(RT_ELEM_F32, D(3, 3), y), 1) == RT_OK);
  NEAR(y, 0, 0, 0, 4, 0, 0, 7, 8, 0);

  CHECK(run(OP_CUM_SUM, ATTRS(a_int("axis", 0)), tp(RT_ELEM_F32, D(3), F32(1, 2, 3)), 1,
            tp(RT_ELEM_F32, D(3), y), 1) == RT_OK);
  NEAR(y, 1, 3, 6);
  CHECK(run(OP_CUM_SUM, ATTRS(a_int("axis", -1), a_int("exclusive", 1), a_int("reverse", 1)),
            tp(RT_ELEM_I32, D(1, 3), (int32_t[]){1, 2, 3}), 1, tp(RT_ELEM_I32, D(1, 3), iy),
            1) == RT_OK);
  CHECK(iy[0] == 5 && iy[1] == 3 && iy[2] == 0);
  CHECK(run(OP_CUM_SUM, NOATTR, tp(RT_ELEM_F32, D(3), y), 1, tp(RT_ELEM_F32, D(3), y), 1) ==
        RT_ESHAPE);
  CHECK_STR(err, "axis is required");

  CHECK(run(OP_ONE_HOT, ATTRS(a_int("depth", 3)),
            (RtTensor[]){ten(RT_ELEM_I64, D(4), (int64_t[]){0, 2, -1, 5}),
                         ten(RT_ELEM_F32, D(2), F32(0, 1))}, 2,
            tp(RT_ELEM_F32, D(4, 3), y), 1) == RT_OK);
  NEAR(y, 1, 0, 0, 0, 0, 1, 0, 0, 1, 0, 0, 0);
  CHECK(run(OP_ONE_HOT, ATTRS(a_int("axis", 0), a_int("depth", 2)),
            (RtTensor[]){ten(RT_ELEM_F32, D(2), F32(1, 0)), ten(RT_ELEM_F32, D(2), F32(-1, 5))},
            2, tp(RT_ELEM_F32, D(2, 2), y), 1) == RT_OK);
  NEAR(y, -1, 5, 5, -1);

  int64_t ti[2];
  RtTensor tk = ten(RT_ELEM_F32, D(4), F32(3, 1, 3, 2));
  RtTensor to[2] = {ten(RT_ELEM_F32, D(2), y), ten(RT_ELEM_I64, D(2), ti)};
  CHECK(run(OP_TOP_K, ATTRS(a_int("k", 2)), &tk, 1, to, 2) == RT_OK);
  NEAR(y, 3, 3);
  CHECK(ti[0] == 0 && ti[1] == 2);
  CHECK(run(OP_TOP_K, ATTRS(a_int("k", 2), a_int("largest", 0)), &tk, 1, to, 2) == RT_OK);
  NEAR(y, 1, 2);
  CHECK(ti[0] == 1 && ti[1] == 3);
  CHECK(run(OP_TOP_K, ATTRS(a_int("k", 5)), &tk, 1, to, 2) == RT_ESHAPE);
  CHECK_STR(err, "k is 5, expected 0 to 4");

  CHECK(run(OP_SUM, NOATTR,
            (RtTensor[]){ten(RT_ELEM_F32, D(2), F32(1, 2)), ten(RT_ELEM_F32, D(2, 1), F32(10, 20)),
                         ten(RT_ELEM_F32, NULL, 0, F32(100))}, 3,
            tp(RT_ELEM_F32, D(2, 2), y), 1) == RT_OK);
  NEAR(y, 111, 112, 121, 122);
  CHECK(run(OP_MEAN, NOATTR,
            (RtTensor[]){ten(RT_ELEM_F32, D(2), F32(1, 2)), ten(RT_ELEM_F32, D(2), F32(3, 4))}, 2,
            tp(RT_ELEM_F32, D(2), y), 1) == RT_OK);
  NEAR(y, 2, 3);
  CHECK(run(OP_SUM, NOATTR, tp(RT_ELEM_I32, D(2), (int32_t[]){INT32_MAX, 1}), 1,
            tp(RT_ELEM_I32, D(2), iy), 1) == RT_OK);
  CHECK(iy[0] == INT32_MAX && iy[1] == 1);
  CHECK(run(OP_MEAN, NOATTR, tp(RT_ELEM_I32, D(2), iy), 1, tp(RT_ELEM_I32, D(2), iy), 1) ==
        RT_EUNSUPPORTED);
  CHECK_STR(err, "element type i32 has no reference kernel");
  CHECK(run(OP_SUM, NOATTR,
            (RtTensor[]){ten(RT_ELEM_F32, D(2), F32(1, 2)), ten(RT_ELEM_F32, D(3), F32(1, 2, 3))},
            2, tp(RT_ELEM_F32, D(3), y), 1) == RT_ESHAPE);
  CHECK_STR(err, "operand 1 [3] does not broadcast");

  /* max and min of one or three operands (ONNX's are variadic); NaN wins. */
  CHECK(run(OP_MAX, NOATTR,
            (RtTensor[]){ten(RT_ELEM_F32, D(3), F32(1, 5, 2)), ten(RT_ELEM_F32, D(1), F32(3)),
                         ten(RT_ELEM_F32, D(3), F32(0, NAN, 4))}, 3,
            tp(RT_ELEM_F32, D(3), y), 1) == RT_OK);
  CHECK(y[0] == 3 && isnan(y[1]) && y[2] == 4);
  CHECK(run(OP_MIN, NOATTR,
            (RtTensor[]){ten(RT_ELEM_F32, D(3), F32(1, 5, 2)), ten(RT_ELEM_F32, D(1), F32(3)),
                         ten(RT_ELEM_F32, D(3), F32(0, 6, 4))}, 3,
            tp(RT_ELEM_F32, D(3), y), 1) == RT_OK);
  NEAR(y, 0, 3, 2);
  CHECK(run(OP_MIN, NOATTR, tp(RT_ELEM_I32, D(2), (int32_t[]){-7, 9}), 1,
            tp(RT_ELEM_I32, D(2), iy), 1) == RT_OK);
  CHECK(iy[0] == -7 && iy[1] == 9);
}

/* ---- ops whose result shapes depend on the data ---- */

/* Runs an F_DATA_SHAPE op the way callers must: the bound from rt_ref_bound, a buffer of that
 * size, then the shape the kernel trims it to. Returns the status; *y the result. */
static int64_t ybuf[64];
static int run_bounded(OpKind k, const RtAttr *attrs, int nattrs, const RtTensor *in, int nin,
                       RtTensor *y, int64_t want_bound_rows) {
  int st = rt_ref_bound(k, in, nin, y, 1, err, sizeof err);
  if (st != RT_OK)
    return st;
  CHECK(y->elem == RT_ELEM_I64 && y->rank == 2);
  CHECK(y->dims[k == OP_NON_ZERO ? 1 : 0] == want_bound_rows);
  CHECK(rt_tensor_numel(y) <= 64);
  memset(ybuf, 0x7f, sizeof ybuf);
  y->data = ybuf;
  return run(k, attrs, nattrs, in, nin, y, 1);
}

static bool ints_eq(const int64_t *got, const int64_t *want, int n) {
  for (int i = 0; i < n; i++)
    if (got[i] != want[i]) {
      fprintf(stderr, "element %d: got %lld, want %lld\n", i, (long long)got[i],
              (long long)want[i]);
      return false;
    }
  return true;
}
#define INTS_EQ(got, ...)                                                                          \
  ints_eq(got, (const int64_t[]){__VA_ARGS__},                                                     \
          (int)(sizeof((const int64_t[]){__VA_ARGS__}) / sizeof(int64_t)))

static void test_data_shape(void) {
  RtTensor y;
  /* non_zero: row-major coordinates, [rank, count] from the bound [rank, numel]. */
  int32_t xi[] = {0, 5, 0, -1, 0, 2};
  CHECK(run_bounded(OP_NON_ZERO, NOATTR, tp(RT_ELEM_I32, D(2, 3), xi), 1, &y, 6) == RT_OK);
  CHECK(y.dims[0] == 2 && y.dims[1] == 3);
  CHECK(INTS_EQ(ybuf, 0, 1, 1, 1, 0, 2));
  float xf[] = {-0.0f, NAN, 0.0f, 1.0f}; /* -0.0 is zero, NaN is not */
  CHECK(run_bounded(OP_NON_ZERO, NOATTR, tp(RT_ELEM_F32, D(4), xf), 1, &y, 4) == RT_OK);
  CHECK(y.dims[0] == 1 && y.dims[1] == 2);
  CHECK(INTS_EQ(ybuf, 1, 3));
  uint8_t xb[] = {0, 0};
  CHECK(run_bounded(OP_NON_ZERO, NOATTR, tp(RT_ELEM_BOOL, D(2), xb), 1, &y, 2) == RT_OK);
  CHECK(y.dims[0] == 1 && y.dims[1] == 0);
  int64_t small[2];
  RtTensor ys = ten(RT_ELEM_I64, D(2, 1), small); /* a buffer below the count */
  CHECK(run(OP_NON_ZERO, NOATTR, tp(RT_ELEM_I32, D(2, 3), xi), 1, &ys, 1) == RT_ESHAPE);
  CHECK_STR(err, "result 0 has shape [2,1], too small for 3 entries");

  /* non_max_suppression, corners [y1,x1,y2,x2]: box 3 is box 0 flipped, box 1 overlaps box 0 by
   * IoU 0.9 / 1.1, box 4 scores under the threshold. By score: 2 kept, 0 kept, 3 and 1
   * suppressed by 0. */
  float boxes[] = {0, 0, 1, 1, 0, 0.1f, 1, 1.1f, 0, 10, 1, 11, 1, 1, 0, 0, 0, 100, 1, 101};
  float scores[] = {0.9f, 0.75f, 0.95f, 0.8f, 0.3f};
  int64_t max10[] = {10}, max1[] = {1}, max0[] = {0};
  float iou[] = {0.5f}, thr[] = {0.4f}, bad_iou[] = {1.5f};
  RtTensor in[5] = {ten(RT_ELEM_F32, D(1, 5, 4), boxes), ten(RT_ELEM_F32, D(1, 1, 5), scores),
                    ten(RT_ELEM_I64, D(1), max10), ten(RT_ELEM_F32, D(1), iou),
                    ten(RT_ELEM_F32, D(1), thr)};
  CHECK(run_bounded(OP_NON_MAX_SUPPRESSION, NOATTR, in, 5, &y, 5) == RT_OK);
  CHECK(y.dims[0] == 2 && y.dims[1] == 3);
  CHECK(INTS_EQ(ybuf, 0, 0, 2, 0, 0, 0));
  /* Without a score threshold box 4 is kept too (it overlaps nothing). */
  CHECK(run_bounded(OP_NON_MAX_SUPPRESSION, NOATTR, in, 4, &y, 5) == RT_OK);
  CHECK(y.dims[0] == 3 && INTS_EQ(ybuf, 0, 0, 2, 0, 0, 0, 0, 0, 4));
  in[2].data = max1; /* at most one per class */
  CHECK(run_bounded(OP_NON_MAX_SUPPRESSION, NOATTR, in, 5, &y, 1) == RT_OK);
  CHECK(y.dims[0] == 1 && INTS_EQ(ybuf, 0, 0, 2));
  in[2].data = max0; /* 0: none */
  CHECK(run_bounded(OP_NON_MAX_SUPPRESSION, NOATTR, in, 5, &y, 0) == RT_OK);
  CHECK(y.dims[0] == 0 && y.dims[1] == 3);
  CHECK(run_bounded(OP_NON_MAX_SUPPRESSION, NOATTR, in, 2, &y, 0) == RT_OK); /* absent: 0 */
  CHECK(y.dims[0] == 0);
  in[2].data = max10;
  in[3].data = bad_iou;
  CHECK(run_bounded(OP_NON_MAX_SUPPRESSION, NOATTR, in, 4, &y, 5) == RT_ESHAPE);
  CHECK_STR(err, "iou_threshold is 1.5, expected 0 to 1");
  RtTensor y1 = ten(RT_ELEM_I64, D(1, 3), small);
  in[3].data = iou;
  CHECK(run(OP_NON_MAX_SUPPRESSION, NOATTR, in, 5, &y1, 1) == RT_ESHAPE);
  CHECK_STR(err, "result 0 has shape [1,3], too small for 5 entries");

  /* center_point_box = 1, [xc,yc,w,h], two classes: class 0 keeps 0 (suppressing 1, IoU 0.9 /
   * 1.1) and 2; class 1 by score keeps 2 and 1, and 1 suppresses 0. Equal scores keep the
   * lower index first. */
  float cboxes[] = {0.5f, 0.5f, 1, 1, 0.6f, 0.5f, 1, 1, 5, 5, 1, 1};
  float cscores[] = {0.9f, 0.8f, 0.7f, 0.7f, 0.8f, 0.9f};
  RtTensor cin[4] = {ten(RT_ELEM_F32, D(1, 3, 4), cboxes), ten(RT_ELEM_F32, D(1, 2, 3), cscores),
                     ten(RT_ELEM_I64, D(1), max10), ten(RT_ELEM_F32, D(1), iou)};
  CHECK(run_bounded(OP_NON_MAX_SUPPRESSION, ATTRS(a_int("center_point_box", 1)), cin, 4, &y, 6) ==
        RT_OK);
  CHECK(y.dims[0] == 4 && INTS_EQ(ybuf, 0, 0, 0, 0, 0, 2, 0, 1, 2, 0, 1, 1));
  float tie[] = {0.5f, 0.5f, 0.5f, 0.5f, 0.5f, 0.5f};
  cin[1].data = tie;
  CHECK(run_bounded(OP_NON_MAX_SUPPRESSION, ATTRS(a_int("center_point_box", 1)), cin, 4, &y, 6) ==
        RT_OK);
  CHECK(y.dims[0] == 4 && INTS_EQ(ybuf, 0, 0, 0, 0, 0, 2, 0, 1, 0, 0, 1, 2));
  CHECK(rt_ref_bound(OP_RELU, in, 1, &y, 1, err, sizeof err) == RT_EUNSUPPORTED);
}

/* Never trap: wrong operand counts, ranks past RT_MAX_RANK and missing data are errors. */
static void test_bad_calls(void) {
  for (int k = 0; k < OP_COUNT; k++)
    if (rt_ref_kernels[k]) {
      RtNode n = {(OpKind)k, NULL, 0};
      CHECK(rt_ref_kernels[k](&n, NULL, 0, NULL, 0, err, sizeof err) != RT_OK);
    }
  float y[2];
  RtTensor big = ten(RT_ELEM_F32, D(1, 1), y);
  big.rank = RT_MAX_RANK + 1;
  CHECK(run(OP_RELU, NOATTR, &big, 1, tp(RT_ELEM_F32, D(2), y), 1) == RT_ESHAPE);
  CHECK_STR(err, "operand 0 has rank 9, expected at most 8");
  CHECK(run(OP_RELU, NOATTR, tp(RT_ELEM_F32, D(2), NULL), 1, tp(RT_ELEM_F32, D(2), y), 1) ==
        RT_ESHAPE);
  CHECK_STR(err, "operand 0 has no data");
  CHECK(run(OP_ADD, NOATTR, tp(RT_ELEM_F32, D(2), y), 1, tp(RT_ELEM_F32, D(2), y), 1) ==
        RT_ESHAPE);
  CHECK_STR(err, "1 operands, expected 2 to 2");
}

#include "ref_dyn_cases.h"
#include "ref_loss_cases.h"

int main(void) {
  test_dyn();
  test_unary();
  test_cast_identity();
  test_binary();
  test_compare_where();
  test_batch_norm();
  test_conv();
  test_conv_transpose();
  test_gemm_matmul();
  test_pools();
  test_reduce();
  test_reduce_ext();
  test_arg();
  test_log_softmax_hardmax();
  test_softmax_layer_norm();
  test_norm_quant();
  test_reshape_transpose();
  test_concat_split();
  test_slice();
  test_pad();
  test_gather();
  test_resize();
  test_math();
  test_index();
  test_bad_calls();
  test_data_shape();
  test_loss_kernels();
  /* Every kernel ran with success at least once; unary ops share one kernel. */
  for (int k = 0; k < OP_COUNT; k++)
    if (rt_ref_kernels[k] && rt_ref_kernels[k] != rt_ref_kernels[OP_RELU]) {
      if (!seen[k])
        fprintf(stderr, "op kind %d never ran\n", k);
      CHECK(seen[k]);
    }
  return check_finish();
}
