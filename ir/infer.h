/* infer.h - private helpers shared by the shape-inference functions (infer.c, infer_nn.c,
 * infer_shape.c) and the functions the table in infer.c points at.
 *
 * Every inference function follows ir_infer_fn's contract (ir.h): it reads operand types and
 * attributes, fills out[0..op->nresults-1] and returns true, or writes a reason (without the op
 * name) into err and returns false. Operands are called "operand i" in messages, dimensions by
 * their 0-based index, and attribute lists by name with [i] for an element.
 *
 * Quantization: ops that only select or move values (relu, identity, dropout, max pools,
 * reduce_max, reshape-like, transpose, concat, split, slice, pad, gather, nearest resize) keep
 * operand 0's quantization; every other op gives a non-quantized result of operand 0's dtype. */
#ifndef KILN_IR_INFER_H
#define KILN_IR_INFER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ir.h"

/* Text of a shape or type, returned by value so that several fit in one printf. */
typedef struct InferText {
  char s[160];
} InferText;

InferText ir_infer_dims_text(const int64_t *dims, int rank); /* "[N,3,4]" */
InferText ir_infer_ints_text(const int64_t *v, int n);        /* "[-1,3,4]" (no N) */
InferText ir_infer_dim_text(int64_t dim);                    /* "N" or "3" */
InferText ir_infer_type_text(const Type *t);                 /* "f32[N,3,4]" */
InferText ir_infer_float_text(double v);                     /* "0.5", "2.0" */

/* Writes the message into err and returns false: callers `return ir_infer_fail(...)`. */
bool ir_infer_fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The type of operand i. */
const Type *ir_infer_operand(const Op *op, int i);
/* A non-quantized type of t's dtype with the given shape. */
Type ir_infer_plain(const Type *t, int rank, const int64_t *dims);
/* A type of t's dtype and quantization with the given shape. */
Type ir_infer_like(const Type *t, int rank, const int64_t *dims);

/* Operands a and b share a dtype: "operand types f32 and f16 differ". */
bool ir_infer_same_dtype(const Type *a, const Type *b, char *err, size_t errlen);
/* The dtype rule of conv, gemm and matmul operands: equal dtypes, except that two integer dtypes
 * (u8 activations with i8 weights) may mix. */
bool ir_infer_product_dtypes(const Type *a, const Type *b, char *err, size_t errlen);

/* Normalizes an axis in [-rank, rank) to [0, rank): "axis 4 is out of range for rank 4". */
bool ir_infer_axis(int64_t axis, int rank, int *out, char *err, size_t errlen);
/* Normalizes a list of axes into marks (mark[i] true: axis i listed); an axis out of range or
 * listed twice is an error ("axis 1 is listed twice"). */
bool ir_infer_axes(const int64_t *axes, int n, int rank, bool *mark, char *err, size_t errlen);
/* An int attribute that is a flag (absent: dflt) must be 0 or 1:
 * "ceil_mode is 2, expected 0 or 1". */
bool ir_infer_flag(const Op *op, const char *name, int64_t dflt, bool *out, char *err,
                   size_t errlen);
/* A string attribute (absent: dflt) must be one of the NULL-terminated list `allowed`:
 * "mode \"foo\" is not one of constant, reflect, edge, wrap". */
bool ir_infer_choice(const Op *op, const char *name, const char *dflt,
                     const char *const *allowed, const char **out, char *err, size_t errlen);
/* Operand i may not carry the batch dimension (weights, per-channel parameters). */
bool ir_infer_unbatched(const Op *op, int i, char *err, size_t errlen);
/* A result rank within IR_MAX_RANK: "result would have rank 9, more than the 8 kiln supports". */
bool ir_infer_rank_ok(int64_t rank, char *err, size_t errlen);
/* The symbolic batch N may only be dimension 0 of a result. */
bool ir_infer_batch_first(const Type *t, char *err, size_t errlen);
/* Numpy broadcast of two dimension lists (N broadcasts with 1 and N); false if they do not. */
bool ir_infer_broadcast_dims(const int64_t *a, int ra, const int64_t *b, int rb, int64_t *out,
                             int *rout);
/* Unidirectional broadcast: operand i's shape stretches to target (rank <= target's, each
 * right-aligned dimension 1 or equal): "operand 1 f32[5] does not broadcast to [3,4]". */
bool ir_infer_broadcasts_to(const Op *op, int i, const int64_t *target, int rank, char *err,
                            size_t errlen);

/* ---- the functions of the table (infer.c has the elementwise and structural ones) ---------- */

/* infer_nn.c */
bool ir_infer_conv(const Op *op, Type *out, char *err, size_t errlen);
bool ir_infer_conv_transpose(const Op *op, Type *out, char *err, size_t errlen);
bool ir_infer_gemm(const Op *op, Type *out, char *err, size_t errlen);
bool ir_infer_matmul(const Op *op, Type *out, char *err, size_t errlen);
bool ir_infer_max_pool(const Op *op, Type *out, char *err, size_t errlen);
bool ir_infer_avg_pool(const Op *op, Type *out, char *err, size_t errlen);
bool ir_infer_global_pool(const Op *op, Type *out, char *err, size_t errlen);
bool ir_infer_batch_norm(const Op *op, Type *out, char *err, size_t errlen);
bool ir_infer_layer_norm(const Op *op, Type *out, char *err, size_t errlen);
bool ir_infer_reduce(const Op *op, Type *out, char *err, size_t errlen);
bool ir_infer_softmax(const Op *op, Type *out, char *err, size_t errlen);

/* infer_nn2.c */
bool ir_infer_instance_norm(const Op *op, Type *out, char *err, size_t errlen);
bool ir_infer_lrn(const Op *op, Type *out, char *err, size_t errlen);
bool ir_infer_lp_pool(const Op *op, Type *out, char *err, size_t errlen);
bool ir_infer_einsum(const Op *op, Type *out, char *err, size_t errlen);

/* infer_quant.c */
bool ir_infer_quantize_linear(const Op *op, Type *out, char *err, size_t errlen);
bool ir_infer_dequantize_linear(const Op *op, Type *out, char *err, size_t errlen);
bool ir_infer_matmul_integer(const Op *op, Type *out, char *err, size_t errlen);
bool ir_infer_conv_integer(const Op *op, Type *out, char *err, size_t errlen);
bool ir_infer_qlinear_matmul(const Op *op, Type *out, char *err, size_t errlen);
bool ir_infer_qlinear_conv(const Op *op, Type *out, char *err, size_t errlen);

/* infer_arg.c */
bool ir_infer_arg(const Op *op, Type *out, char *err, size_t errlen);

/* infer_shape.c */
bool ir_infer_reshape(const Op *op, Type *out, char *err, size_t errlen);
bool ir_infer_flatten(const Op *op, Type *out, char *err, size_t errlen);
bool ir_infer_squeeze(const Op *op, Type *out, char *err, size_t errlen);
bool ir_infer_unsqueeze(const Op *op, Type *out, char *err, size_t errlen);
bool ir_infer_transpose(const Op *op, Type *out, char *err, size_t errlen);
bool ir_infer_concat(const Op *op, Type *out, char *err, size_t errlen);
bool ir_infer_split(const Op *op, Type *out, char *err, size_t errlen);
bool ir_infer_slice(const Op *op, Type *out, char *err, size_t errlen);
bool ir_infer_pad(const Op *op, Type *out, char *err, size_t errlen);
bool ir_infer_gather(const Op *op, Type *out, char *err, size_t errlen);
bool ir_infer_resize(const Op *op, Type *out, char *err, size_t errlen);

/* infer_index.c */
bool ir_infer_gather_elements(const Op *op, Type *out, char *err, size_t errlen);
bool ir_infer_gather_nd(const Op *op, Type *out, char *err, size_t errlen);
bool ir_infer_scatter_elements(const Op *op, Type *out, char *err, size_t errlen);
bool ir_infer_scatter_nd(const Op *op, Type *out, char *err, size_t errlen);
bool ir_infer_depth_space(const Op *op, Type *out, char *err, size_t errlen);
bool ir_infer_trilu(const Op *op, Type *out, char *err, size_t errlen);
bool ir_infer_cum_sum(const Op *op, Type *out, char *err, size_t errlen);
bool ir_infer_one_hot(const Op *op, Type *out, char *err, size_t errlen);
bool ir_infer_top_k(const Op *op, Type *out, char *err, size_t errlen);
bool ir_infer_sum_mean(const Op *op, Type *out, char *err, size_t errlen);
bool ir_infer_non_zero(const Op *op, Type *out, char *err, size_t errlen);
bool ir_infer_non_max_suppression(const Op *op, Type *out, char *err, size_t errlen);

/* infer_math.c */
bool ir_infer_mod(const Op *op, Type *out, char *err, size_t errlen);
bool ir_infer_logical(const Op *op, Type *out, char *err, size_t errlen);
bool ir_infer_not(const Op *op, Type *out, char *err, size_t errlen);
bool ir_infer_is_special(const Op *op, Type *out, char *err, size_t errlen);

/* infer_dyn.c (the operand form of ops is in dyn_form.h) */
bool ir_infer_shape_of(const Op *op, Type *out, char *err, size_t errlen);
bool ir_infer_size(const Op *op, Type *out, char *err, size_t errlen);
bool ir_infer_constant_of_shape(const Op *op, Type *out, char *err, size_t errlen);
bool ir_infer_range(const Op *op, Type *out, char *err, size_t errlen);
bool ir_infer_expand(const Op *op, Type *out, char *err, size_t errlen);
bool ir_infer_tile(const Op *op, Type *out, char *err, size_t errlen);
bool ir_infer_dyn_unknown_operands(const Op *op);

/* infer_loss.c */
bool ir_infer_nll_loss(const Op *op, Type *out, char *err, size_t errlen);
bool ir_infer_sce_loss(const Op *op, Type *out, char *err, size_t errlen);
bool ir_infer_bit_shift(const Op *op, Type *out, char *err, size_t errlen);
bool ir_infer_eye_like(const Op *op, Type *out, char *err, size_t errlen);
bool ir_infer_reverse_sequence(const Op *op, Type *out, char *err, size_t errlen);
bool ir_infer_dynamic_quantize(const Op *op, Type *out, char *err, size_t errlen);
bool ir_infer_mvn(const Op *op, Type *out, char *err, size_t errlen);
bool ir_infer_global_lp_pool(const Op *op, Type *out, char *err, size_t errlen);

#endif
