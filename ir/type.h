/* type.h - element types and shapes.
 *
 * A Type is a small value (copied, never shared): a dtype, an optional quantization (scale and
 * zero point, i8/u8 only) and a shape of up to IR_MAX_RANK dimensions. The first dimension may be
 * the symbolic batch IR_DIM_N; every other dimension is a static size >= 0. DT_UNKNOWN marks a
 * type not yet inferred (printed `?`). */
#ifndef KILN_IR_TYPE_H
#define KILN_IR_TYPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define IR_MAX_RANK 8
#define IR_DIM_N (-1) /* the symbolic batch dimension, bounded by --max-batch */

typedef enum DType {
  DT_UNKNOWN,
  DT_F32,
  DT_F16,
  DT_BF16,
  DT_F64,
  DT_I8,
  DT_U8,
  DT_I16,
  DT_U16,
  DT_I32,
  DT_U32,
  DT_I64,
  DT_U64,
  DT_BOOL,
  DT_COUNT
} DType;

typedef struct Type {
  DType dtype;
  bool quantized;     /* i8/u8 only: real = scale * (q - zero_point) */
  float scale;
  int32_t zero_point;
  int rank;
  int64_t dims[IR_MAX_RANK];
} Type;

const char *ir_dtype_name(DType dt);      /* "f32"; "?" for DT_UNKNOWN */
DType ir_dtype_from_name(const char *s);  /* DT_UNKNOWN if none */
size_t ir_dtype_size(DType dt);           /* bytes per element; bool is 1 */
bool ir_dtype_is_float(DType dt);
bool ir_dtype_is_int(DType dt);           /* signed or unsigned integer, not bool */

Type ir_type_unknown(void);
Type ir_type_scalar(DType dt);
Type ir_type_make(DType dt, int rank, const int64_t *dims);
bool ir_type_is_known(const Type *t);
bool ir_type_equal(const Type *a, const Type *b);
bool ir_type_is_batched(const Type *t);   /* first dimension is N */
/* Elements of one tensor; -1 when the type is unknown or batched. */
int64_t ir_type_numel(const Type *t);
/* Elements per batch item: the product of all dimensions but a leading N. */
int64_t ir_type_numel_per_item(const Type *t);
void ir_type_print(Buf *b, const Type *t);
/* Writes the text form into a static buffer; for messages only. */
const char *ir_type_str(const Type *t);

/* Multidirectional (numpy) broadcast of two shapes into *out (dtype of a). Returns false and
 * writes the reason into err when the shapes do not broadcast. N broadcasts with 1 and with N. */
bool ir_shape_broadcast(const Type *a, const Type *b, Type *out, char *err, size_t errlen);

/* The shortest decimal form of v that reads back to the same value when stored as dt (f16, bf16,
 * f32, or f64 for anything else); always with '.', an exponent, "inf", "-inf" or "nan". */
void ir_format_float(Buf *b, double v, DType dt);

/* IEEE half and bfloat16 conversions (round to nearest even). */
float ir_f16_to_f32(uint16_t h);
uint16_t ir_f32_to_f16(float f);
float ir_bf16_to_f32(uint16_t h);
uint16_t ir_f32_to_bf16(float f);

#endif
