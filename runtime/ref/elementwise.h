/* elementwise.h - plain-C reference kernels of kiln's elementwise and broadcast ops.
 *
 * Shared by the runtime (host fallback segments) and the compiler (constant folding), so it
 * depends on neither: no ir/ header, its own kernel codes. Semantics are ONNX's; the kernels
 * compute in double and round once to the storage type, and favour being exactly right over
 * being fast.
 *
 * Shapes broadcast the numpy way: operand shapes align at their last dimension, and each operand
 * dimension equals the result's or is 1. Tensors are dense, row-major.
 *
 * Every entry point returns RT_OK (0) or an RtStatus saying why it computed nothing useful; no
 * input makes a kernel trap, abort or run into undefined behaviour. On an error the output may
 * be partly written. */
#ifndef KILN_RUNTIME_REF_ELEMENTWISE_H
#define KILN_RUNTIME_REF_ELEMENTWISE_H

#include <stdint.h>

#define RT_MAX_RANK 8

typedef struct RtShape {
  int rank;
  int64_t dims[RT_MAX_RANK];
} RtShape;

typedef enum RtStatus {
  RT_OK = 0,
  RT_EUNSUPPORTED, /* op and element type have no kernel */
  RT_ESHAPE,       /* a shape is malformed or does not broadcast to the result */
  RT_EDIVZERO,     /* integer division by zero */
  RT_ERANGE,       /* a value out of range: a cast the target cannot hold, an index */
  RT_ENOMEM,       /* scratch memory could not be allocated */
} RtStatus;

typedef enum RtUnary {
  RT_EW_RELU,
  RT_EW_SIGMOID,
  RT_EW_TANH,
  RT_EW_EXP,
  RT_EW_LOG,
  RT_EW_SQRT,
  RT_EW_ABS,
  RT_EW_NEG,
  RT_EW_RECIPROCAL,
  RT_EW_FLOOR,
  RT_EW_CEIL,
  RT_EW_ERF,
  RT_EW_SOFTPLUS,
  RT_EW_MISH,
  RT_EW_HARD_SWISH,
  RT_EW_LEAKY_RELU,   /* params[0] alpha, default 0.01 */
  RT_EW_ELU,          /* params[0] alpha, default 1 */
  RT_EW_HARD_SIGMOID, /* params[0] alpha, params[1] beta, default 0.2, 0.5 */
  RT_EW_GELU,         /* approximate = "none" */
  RT_EW_GELU_TANH,    /* approximate = "tanh" */
  RT_EW_CLIP,         /* params[0] min, params[1] max, default -inf, inf */
  RT_EW_UNARY_COUNT
} RtUnary;

typedef enum RtBinary {
  RT_EW_ADD,
  RT_EW_SUB,
  RT_EW_MUL,
  RT_EW_DIV,   /* integers truncate toward zero; an integer zero divisor is RT_EDIVZERO */
  RT_EW_POW,   /* f32 only */
  RT_EW_MAX,   /* f32: NaN in either operand gives NaN */
  RT_EW_MIN,
  RT_EW_PRELU, /* f32 only: a < 0 ? a * b : a, b the slope */
  RT_EW_BINARY_COUNT
} RtBinary;

typedef enum RtCompare { RT_EW_EQUAL, RT_EW_LESS, RT_EW_GREATER, RT_EW_COMPARE_COUNT } RtCompare;

/* Element types of rt_ref_cast. RT_BOOL reads nonzero as 1 and writes 0 or 1. */
typedef enum RtDType { RT_F32, RT_F16, RT_I32, RT_I64, RT_U8, RT_BOOL, RT_DTYPE_COUNT } RtDType;

/* Elements of a shape (1 for rank 0); -1 if a dimension is negative or the rank out of range. */
int64_t rt_shape_numel(RtShape s);
/* A message for a status, e.g. "integer division by zero". */
const char *rt_status_str(int status);

/* Walks a result shape in row-major order, tracking each operand's element offset (off[k]); a
 * broadcast dimension has stride 0 in its operand. rt_bcast_init returns RT_ESHAPE when an operand
 * does not broadcast to ys. */
#define RT_BCAST_MAX_IN 3
typedef struct RtBcast {
  int rank, nin;
  int64_t dims[RT_MAX_RANK], idx[RT_MAX_RANK];
  int64_t stride[RT_BCAST_MAX_IN][RT_MAX_RANK];
  int64_t off[RT_BCAST_MAX_IN];
} RtBcast;

int rt_bcast_init(RtBcast *it, RtShape ys, int nin, const RtShape *in);
void rt_bcast_next(RtBcast *it);

/* The scalar semantics the kernels share. rt_ew_unary_params fills p with the op's parameters
 * (given, or NULL for ONNX's defaults); rt_ew_unary applies op to x in double. */
void rt_ew_unary_params(RtUnary op, const float *given, double p[2]);
double rt_ew_unary(RtUnary op, double x, const double *p);
/* a op b in double (every RtBinary). */
double rt_ew_binary_float(RtBinary op, double a, double b);
/* a op b on int64 with wrapping (add, sub, mul, div, max, min); RT_EDIVZERO, RT_EUNSUPPORTED. */
int rt_ew_binary_int(RtBinary op, int64_t a, int64_t b, int64_t *y);

/* y[i] = op(x[i]) for n elements; x and y may alias. params: the op's parameters as listed at
 * RtUnary, or NULL for ONNX's defaults; ops without parameters ignore it. */
int rt_ref_unary_f32(RtUnary op, const float *x, float *y, int64_t n, const float *params);

/* y = op(a, b) with a and b broadcast to ys. */
int rt_ref_binary_f32(RtBinary op, const float *a, RtShape as, const float *b, RtShape bs, float *y,
                      RtShape ys);
int rt_ref_binary_i32(RtBinary op, const int32_t *a, RtShape as, const int32_t *b, RtShape bs,
                      int32_t *y, RtShape ys);
int rt_ref_binary_i64(RtBinary op, const int64_t *a, RtShape as, const int64_t *b, RtShape bs,
                      int64_t *y, RtShape ys);

/* y = (a op b) as 0 or 1 with a and b broadcast to ys. NaN compares false. */
int rt_ref_compare_f32(RtCompare op, const float *a, RtShape as, const float *b, RtShape bs,
                       uint8_t *y, RtShape ys);
int rt_ref_compare_i32(RtCompare op, const int32_t *a, RtShape as, const int32_t *b, RtShape bs,
                       uint8_t *y, RtShape ys);
int rt_ref_compare_i64(RtCompare op, const int64_t *a, RtShape as, const int64_t *b, RtShape bs,
                       uint8_t *y, RtShape ys);

/* y = cond ? a : b with all three broadcast to ys; cond is nonzero for true. */
int rt_ref_where_f32(const uint8_t *cond, RtShape cs, const float *a, RtShape as, const float *b,
                     RtShape bs, float *y, RtShape ys);
int rt_ref_where_i32(const uint8_t *cond, RtShape cs, const int32_t *a, RtShape as,
                     const int32_t *b, RtShape bs, int32_t *y, RtShape ys);
int rt_ref_where_i64(const uint8_t *cond, RtShape cs, const int64_t *a, RtShape as,
                     const int64_t *b, RtShape bs, int64_t *y, RtShape ys);

/* Converts n elements (ONNX Cast): floats to integers truncate toward zero, and NaN or a value
 * out of the target's range is RT_ERANGE; integers to narrower integers wrap (two's complement);
 * anything to bool is x != 0 (NaN is true); f16 rounds to nearest even. x and y must not
 * overlap unless from == to. */
int rt_ref_cast(RtDType from, const void *x, RtDType to, void *y, int64_t n);

/* IEEE binary16 conversions (round to nearest even). */
float rt_f16_to_f32(uint16_t h);
uint16_t rt_f32_to_f16(float f);

#endif
