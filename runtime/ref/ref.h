/* ref.h - the reference kernels: one plain-C kernel per op kind, exact before fast.
 *
 * Used by the runtime for host fallback segments and by the compiler for constant folding,
 * calibration and numeric checks. It shares only the op-kind enum with the compiler
 * (ir/opkind.h, header only) and links nothing of it: tensors and attributes have their own
 * runtime types here, which the compiler fills from its IR (passes/interp.c) and the engine
 * loader will fill from a bundle.
 *
 * Calling convention: the caller knows every output's dtype and shape (shape inference ran) and
 * passes outputs with dtype, rank, dims and a data buffer of that size already set; the kernel
 * writes the data. A kernel returns RT_OK, or an RtStatus with a reason in err (no trap, abort
 * or undefined behaviour on any input; outputs may then be partly written). The reason does not
 * name the op (the caller does, as for shape inference): "element type i8 has no reference
 * kernel", "index 5 is out of range for dimension 0 of size 3".
 *
 * Ops whose result shapes depend on the data (F_DATA_SHAPE in ir/ir.h: non_zero,
 * non_max_suppression) are the exception: the caller sets each output to the upper bound that
 * rt_ref_bound gives (non_zero: i64[rank, numel]; non_max_suppression: i64[batches * classes *
 * min(max_output_boxes_per_class, boxes), 3]) with a buffer of that size; the kernel writes the
 * data contiguously for the actual shape and sets out[i].dims to it, only ever shrinking the
 * bound.
 *
 * Kernels check every size they rely on (operand counts, ranks, result shapes against what the
 * op's attributes give) and allocate nothing they do not free before returning. Attribute
 * defaults are ONNX's (at the opset ir/infer*.c follows). Element types: data movement works for
 * every type by element size; arithmetic covers the float types (f32, f64, f16, bf16; computed in
 * double, rounded once) and, where ONNX defines them, integers (int64 arithmetic, wrapping). */
#ifndef KILN_RUNTIME_REF_REF_H
#define KILN_RUNTIME_REF_REF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "elementwise.h"
#include "ir/opkind.h"

/* Element types, numbered as the compiler's DType (ir/type.h); passes/interp.c checks it. */
typedef enum RtElem {
  RT_ELEM_UNKNOWN,
  RT_ELEM_F32,
  RT_ELEM_F16,
  RT_ELEM_BF16,
  RT_ELEM_F64,
  RT_ELEM_I8,
  RT_ELEM_U8,
  RT_ELEM_I16,
  RT_ELEM_U16,
  RT_ELEM_I32,
  RT_ELEM_U32,
  RT_ELEM_I64,
  RT_ELEM_U64,
  RT_ELEM_BOOL,
  RT_ELEM_COUNT
} RtElem;

size_t rt_elem_size(RtElem e); /* bytes per element; 0 for RT_ELEM_UNKNOWN */
const char *rt_elem_name(RtElem e); /* "f32", as the IR prints it */

typedef struct RtTensor {
  RtElem elem;
  int rank;
  int64_t dims[RT_MAX_RANK];
  void *data;
  bool quantized; /* i8/u8: real = scale * (q - zero_point) */
  float scale;
  int32_t zero_point;
} RtTensor;

/* Elements of t (1 for rank 0); -1 if the rank or a dimension is out of range or the count
 * overflows. */
int64_t rt_tensor_numel(const RtTensor *t);

typedef enum RtAttrKind {
  RT_ATTR_INT,
  RT_ATTR_FLOAT,
  RT_ATTR_STRING,
  RT_ATTR_INTS,
  RT_ATTR_FLOATS,
  RT_ATTR_STRINGS,
  RT_ATTR_TENSOR,
} RtAttrKind;

typedef struct RtAttr {
  const char *name;
  RtAttrKind kind;
  int n; /* list length */
  union {
    int64_t i;
    double f; /* an f32 value, as the compiler's float attributes */
    const char *s;
    const int64_t *ints;
    const double *floats;
    const char *const *strings;
    const RtTensor *tensor;
  };
} RtAttr;

/* One op to evaluate: its kind and attributes (sorted by name, as in the IR). */
typedef struct RtNode {
  OpKind op;
  const RtAttr *attrs;
  int nattrs;
} RtNode;

/* Attribute getters with ONNX's defaults passed by the kernel. */
const RtAttr *rt_attr(const RtNode *n, const char *name);
int64_t rt_attr_int(const RtNode *n, const char *name, int64_t dflt);
double rt_attr_float(const RtNode *n, const char *name, double dflt);
const char *rt_attr_string(const RtNode *n, const char *name, const char *dflt);
int rt_attr_ints(const RtNode *n, const char *name, const int64_t **v); /* -1 if absent */
int rt_attr_floats(const RtNode *n, const char *name, const double **v);

typedef int (*RtKernel)(const RtNode *n, const RtTensor *in, int nin, RtTensor *out, int nout,
                        char *err, size_t errlen);

/* The kernel of every op kind; NULL only for structural ops (fused, segment, yield, output),
 * which the interpreter handles itself. A unit test checks the table is complete. */
extern const RtKernel rt_ref_kernels[OP_COUNT];

/* The upper-bound output types of an op whose result shapes depend on the data (see the calling
 * convention above) from its operands (shapes, and the values that bound the size, such as
 * non_max_suppression's max_output_boxes_per_class): out[i].elem, rank and dims are set, data
 * left NULL. RT_EUNSUPPORTED for any other op. */
int rt_ref_bound(OpKind op, const RtTensor *in, int nin, RtTensor *out, int nout, char *err,
                 size_t errlen);

#endif
