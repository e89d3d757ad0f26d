/* kernels.h - what the reference kernels (kernels*.c) share: element access, failure messages,
 * argument checks and the per-family kernel entry points that kernels.c puts in rt_ref_kernels.
 * Private to runtime/ref.
 *
 * Element access goes through memcpy, so tensor data needs no particular alignment. Floats (f32,
 * f64, f16, bf16) are computed in double and rounded once when stored; integers in int64 with
 * wrapping arithmetic, narrowed by wrapping. */
#ifndef KILN_RUNTIME_REF_KERNELS_H
#define KILN_RUNTIME_REF_KERNELS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ref.h"

/* ---- element types ---- */

const char *rt_elem_name(RtElem e); /* "f32"; "?" when out of range */
bool rt_elem_is_float(RtElem e);   /* f32, f64, f16, bf16 */
bool rt_elem_is_int(RtElem e);     /* signed or unsigned integers, not bool */
bool rt_elem_is_unsigned(RtElem e);

/* Element i as a double (floats, integers, bool). */
double rt_ref_get(RtElem e, const void *p, int64_t i);
/* Stores v into element i of a float type (rounding once), or of an integer or bool type
 * (truncating toward zero; the caller has range-checked it or accepts wrapping of in-range
 * integers). */
void rt_ref_put(RtElem e, void *p, int64_t i, double v);
/* Element i of an integer or bool type as int64 (u64 above INT64_MAX wraps: compare unsigned
 * values with rt_elem_is_unsigned in mind). */
int64_t rt_ref_geti(RtElem e, const void *p, int64_t i);
/* Stores v into element i of an integer or bool type, wrapping to its width (bool: v != 0). */
void rt_ref_puti(RtElem e, void *p, int64_t i, int64_t v);

float rt_bf16_to_f32(uint16_t h);
uint16_t rt_f32_to_bf16(float f);

/* ---- failures ---- */

/* Writes the reason into err and returns status: kernels `return rt_ref_fail(...)`. */
int rt_ref_fail(char *err, size_t errlen, int status, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* RT_EUNSUPPORTED: "element type i8 has no reference kernel". */
int rt_ref_unsupported(RtElem e, char *err, size_t errlen);
/* RT_EUNSUPPORTED for quantized operand i: "operand 0 is quantized (no reference kernel)". */
int rt_ref_quantized(int i, char *err, size_t errlen);

/* ---- argument checks ---- */

/* Checks what every kernel takes for granted: operand and result counts within the op's arity
 * (ops.def), ranks in [0, RT_MAX_RANK], dimensions >= 0 with a representable element count, and
 * data present for every non-empty tensor. Kernels call it first. */
int rt_ref_check_call(const RtNode *n, const RtTensor *in, int nin, const RtTensor *out, int nout,
                  char *err, size_t errlen);
/* Result r has the given dims: RT_ESHAPE "result 0 has shape [2,3], expected [3,2]" if not. */
int rt_ref_check_result(const RtTensor *out, int r, int rank, const int64_t *dims, char *err,
                    size_t errlen);
/* "[2,3]" into buf. */
const char *rt_ref_dims_text(const int64_t *dims, int rank, char *buf, size_t n);
/* Normalizes axis in [-rank, rank) into *out: RT_ESHAPE "axis 4 is out of range for rank 4". */
int rt_ref_axis(int64_t axis, int rank, int *out, char *err, size_t errlen);

/* How a reduction over the node's `axes` (absent or empty: all; negative count from the end)
 * with `keepdims` (default 1) maps x onto its result: the reduced axes, the result's rank and
 * dims, each kept input axis's stride in the result (0 for reduced axes), and the number of
 * input elements per result element. */
typedef struct RtReducePlan {
  bool mark[RT_MAX_RANK];
  int rank;
  int64_t dims[RT_MAX_RANK];
  int64_t ostride[RT_MAX_RANK];
  int64_t group;
} RtReducePlan;

int rt_ref_reduce_plan(const RtNode *n, const RtTensor *x, RtReducePlan *p, char *err,
                       size_t errlen);
/* Row-major element strides of t. */
void rt_ref_strides(const RtTensor *t, int64_t *strides);
/* An RtShape of t, for the broadcast kernels of elementwise.h. */
RtShape rt_ref_shape_of(const RtTensor *t);

/* ---- sliding windows (kernels_conv.c): conv, conv_transpose, max_pool, avg_pool ---- */

/* Per spatial dimension parameters; pads are all begins, then all ends. */
typedef struct RtWindow {
  int n; /* spatial rank */
  int64_t kernel[RT_MAX_RANK], strides[RT_MAX_RANK], dilations[RT_MAX_RANK];
  int64_t pads[2 * RT_MAX_RANK];
} RtWindow;

/* Reads the ints attribute name holding `per` values per spatial dimension (dflt each when
 * absent), each in [min, INT32_MAX]. */
int rt_ref_spatial_ints(const RtNode *n, const char *name, int nsp, int per, int64_t dflt,
                    int64_t min, int64_t *out, char *err, size_t errlen);
/* strides, pads and (has_dilations) dilations for nsp spatial dimensions; the caller sets
 * kernel. */
int rt_ref_window_read(const RtNode *n, int nsp, bool has_dilations, RtWindow *w, char *err,
                   size_t errlen);
/* Output size of spatial dimension i (input size in) as shape inference computes it. */
int rt_ref_window_out(const RtWindow *w, int i, int64_t in, bool ceil_mode, int64_t *out, char *err,
                  size_t errlen);
/* Converts a float tensor to a new double array (free() it); NULL when memory runs out. */
double *rt_ref_to_double(const RtTensor *t);

/* ---- kernels by family (the table in kernels.c points at them) ---- */

/* kernels_elementwise.c */
int rt_k_unary(const RtNode *n, const RtTensor *in, int nin, RtTensor *out, int nout, char *err,
               size_t errlen);
int rt_k_cast(const RtNode *n, const RtTensor *in, int nin, RtTensor *out, int nout, char *err,
              size_t errlen);
int rt_k_identity(const RtNode *n, const RtTensor *in, int nin, RtTensor *out, int nout,
                  char *err, size_t errlen);
int rt_k_binary(const RtNode *n, const RtTensor *in, int nin, RtTensor *out, int nout, char *err,
                size_t errlen);
int rt_k_compare(const RtNode *n, const RtTensor *in, int nin, RtTensor *out, int nout,
                 char *err, size_t errlen);
int rt_k_where(const RtNode *n, const RtTensor *in, int nin, RtTensor *out, int nout, char *err,
               size_t errlen);
int rt_k_batch_norm(const RtNode *n, const RtTensor *in, int nin, RtTensor *out, int nout,
                    char *err, size_t errlen);

/* kernels_math.c */
int rt_k_math_unary(const RtNode *n, const RtTensor *in, int nin, RtTensor *out, int nout,
                    char *err, size_t errlen);
int rt_k_math_binary(const RtNode *n, const RtTensor *in, int nin, RtTensor *out, int nout,
                     char *err, size_t errlen);

/* kernels_conv.c */
int rt_k_conv(const RtNode *n, const RtTensor *in, int nin, RtTensor *out, int nout, char *err,
              size_t errlen);
int rt_k_conv_transpose(const RtNode *n, const RtTensor *in, int nin, RtTensor *out, int nout,
                        char *err, size_t errlen);

/* kernels_pool.c */
int rt_k_max_pool(const RtNode *n, const RtTensor *in, int nin, RtTensor *out, int nout,
                  char *err, size_t errlen);
int rt_k_avg_pool(const RtNode *n, const RtTensor *in, int nin, RtTensor *out, int nout,
                  char *err, size_t errlen);
int rt_k_global_pool(const RtNode *n, const RtTensor *in, int nin, RtTensor *out, int nout,
                     char *err, size_t errlen);

/* kernels_nn.c */
int rt_k_gemm(const RtNode *n, const RtTensor *in, int nin, RtTensor *out, int nout, char *err,
              size_t errlen);
int rt_k_matmul(const RtNode *n, const RtTensor *in, int nin, RtTensor *out, int nout, char *err,
                size_t errlen);
int rt_k_reduce(const RtNode *n, const RtTensor *in, int nin, RtTensor *out, int nout, char *err,
                size_t errlen);
int rt_k_layer_norm(const RtNode *n, const RtTensor *in, int nin, RtTensor *out, int nout,
                    char *err, size_t errlen);

/* kernels_norm.c */
int rt_k_instance_norm(const RtNode *n, const RtTensor *in, int nin, RtTensor *out, int nout,
                       char *err, size_t errlen);
int rt_k_lrn(const RtNode *n, const RtTensor *in, int nin, RtTensor *out, int nout, char *err,
             size_t errlen);
int rt_k_lp_pool(const RtNode *n, const RtTensor *in, int nin, RtTensor *out, int nout,
                 char *err, size_t errlen);
int rt_k_einsum(const RtNode *n, const RtTensor *in, int nin, RtTensor *out, int nout, char *err,
                size_t errlen);

/* kernels_quant.c */
int rt_k_quantize_linear(const RtNode *n, const RtTensor *in, int nin, RtTensor *out, int nout,
                         char *err, size_t errlen);
int rt_k_dequantize_linear(const RtNode *n, const RtTensor *in, int nin, RtTensor *out,
                           int nout, char *err, size_t errlen);
int rt_k_matmul_integer(const RtNode *n, const RtTensor *in, int nin, RtTensor *out, int nout,
                        char *err, size_t errlen);
int rt_k_conv_integer(const RtNode *n, const RtTensor *in, int nin, RtTensor *out, int nout,
                      char *err, size_t errlen);
int rt_k_qlinear_matmul(const RtNode *n, const RtTensor *in, int nin, RtTensor *out, int nout,
                        char *err, size_t errlen);
int rt_k_qlinear_conv(const RtNode *n, const RtTensor *in, int nin, RtTensor *out, int nout,
                      char *err, size_t errlen);

/* kernels_reduce.c */
int rt_k_reduce_ext(const RtNode *n, const RtTensor *in, int nin, RtTensor *out, int nout,
                    char *err, size_t errlen);
int rt_k_arg(const RtNode *n, const RtTensor *in, int nin, RtTensor *out, int nout, char *err,
             size_t errlen);
/* softmax, log_softmax, hardmax. */
int rt_k_softmax_ext(const RtNode *n, const RtTensor *in, int nin, RtTensor *out, int nout,
                     char *err, size_t errlen);

/* kernels_shape.c */
int rt_k_reshape(const RtNode *n, const RtTensor *in, int nin, RtTensor *out, int nout,
                 char *err, size_t errlen);
int rt_k_transpose(const RtNode *n, const RtTensor *in, int nin, RtTensor *out, int nout,
                   char *err, size_t errlen);
int rt_k_concat(const RtNode *n, const RtTensor *in, int nin, RtTensor *out, int nout, char *err,
                size_t errlen);
int rt_k_split(const RtNode *n, const RtTensor *in, int nin, RtTensor *out, int nout, char *err,
               size_t errlen);
/* kernels_dyn.c */
int rt_k_shape(const RtNode *n, const RtTensor *in, int nin, RtTensor *out, int nout, char *err,
               size_t errlen);
int rt_k_size(const RtNode *n, const RtTensor *in, int nin, RtTensor *out, int nout, char *err,
              size_t errlen);
int rt_k_constant_of_shape(const RtNode *n, const RtTensor *in, int nin, RtTensor *out, int nout,
                           char *err, size_t errlen);
int rt_k_range(const RtNode *n, const RtTensor *in, int nin, RtTensor *out, int nout, char *err,
               size_t errlen);
int rt_k_expand(const RtNode *n, const RtTensor *in, int nin, RtTensor *out, int nout, char *err,
                size_t errlen);
int rt_k_tile(const RtNode *n, const RtTensor *in, int nin, RtTensor *out, int nout, char *err,
              size_t errlen);
int rt_k_slice(const RtNode *n, const RtTensor *in, int nin, RtTensor *out, int nout, char *err,
               size_t errlen);
int rt_k_pad(const RtNode *n, const RtTensor *in, int nin, RtTensor *out, int nout, char *err,
             size_t errlen);
int rt_k_gather(const RtNode *n, const RtTensor *in, int nin, RtTensor *out, int nout, char *err,
                size_t errlen);

/* kernels_index.c */
int rt_k_gather_elements(const RtNode *n, const RtTensor *in, int nin, RtTensor *out, int nout,
                         char *err, size_t errlen);
int rt_k_gather_nd(const RtNode *n, const RtTensor *in, int nin, RtTensor *out, int nout,
                   char *err, size_t errlen);
int rt_k_scatter_elements(const RtNode *n, const RtTensor *in, int nin, RtTensor *out, int nout,
                          char *err, size_t errlen);
int rt_k_scatter_nd(const RtNode *n, const RtTensor *in, int nin, RtTensor *out, int nout,
                    char *err, size_t errlen);
int rt_k_depth_space(const RtNode *n, const RtTensor *in, int nin, RtTensor *out, int nout,
                     char *err, size_t errlen);
int rt_k_trilu(const RtNode *n, const RtTensor *in, int nin, RtTensor *out, int nout, char *err,
               size_t errlen);
int rt_k_cum_sum(const RtNode *n, const RtTensor *in, int nin, RtTensor *out, int nout,
                 char *err, size_t errlen);
int rt_k_one_hot(const RtNode *n, const RtTensor *in, int nin, RtTensor *out, int nout,
                 char *err, size_t errlen);
int rt_k_non_zero(const RtNode *n, const RtTensor *in, int nin, RtTensor *out, int nout,
                  char *err, size_t errlen);
int rt_k_non_max_suppression(const RtNode *n, const RtTensor *in, int nin, RtTensor *out,
                             int nout, char *err, size_t errlen);
int rt_k_top_k(const RtNode *n, const RtTensor *in, int nin, RtTensor *out, int nout, char *err,
               size_t errlen);
/* max, min: two operands through rt_k_binary, any other count through rt_k_sum_mean's
 * broadcast of all operands. */
int rt_k_max_min(const RtNode *n, const RtTensor *in, int nin, RtTensor *out, int nout,
                 char *err, size_t errlen);
int rt_k_sum_mean(const RtNode *n, const RtTensor *in, int nin, RtTensor *out, int nout,
                  char *err, size_t errlen);

/* kernels_resize.c */
int rt_k_resize(const RtNode *n, const RtTensor *in, int nin, RtTensor *out, int nout, char *err,
                size_t errlen);

/* kernels_loss.c */
int rt_k_loss(const RtNode *n, const RtTensor *in, int nin, RtTensor *out, int nout, char *err,
              size_t errlen);
int rt_k_bit_shift(const RtNode *n, const RtTensor *in, int nin, RtTensor *out, int nout,
                   char *err, size_t errlen);
int rt_k_eye_like(const RtNode *n, const RtTensor *in, int nin, RtTensor *out, int nout,
                  char *err, size_t errlen);
int rt_k_reverse_sequence(const RtNode *n, const RtTensor *in, int nin, RtTensor *out, int nout,
                          char *err, size_t errlen);
int rt_k_dynamic_quantize(const RtNode *n, const RtTensor *in, int nin, RtTensor *out, int nout,
                          char *err, size_t errlen);
int rt_k_mvn(const RtNode *n, const RtTensor *in, int nin, RtTensor *out, int nout, char *err,
             size_t errlen);
int rt_k_global_lp_pool(const RtNode *n, const RtTensor *in, int nin, RtTensor *out, int nout,
                        char *err, size_t errlen);

#endif
