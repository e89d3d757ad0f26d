/* opkind.h - the op-kind enum of the registry (ops.def), header only.
 *
 * The compiler (ir.h) and the runtime's reference kernels (runtime/ref) both index tables by op
 * kind; this header is all they share: no code, so libkilnrt links nothing of the compiler. */
#ifndef KILN_IR_OPKIND_H
#define KILN_IR_OPKIND_H

typedef enum OpKind {
  OP_INVALID = -1,
#define OP(id, name, onnx, min_in, max_in, min_out, max_out, fusion, flags, attrs) OP_##id,
#include "ops.def"
#undef OP
  OP_COUNT
} OpKind;

#endif
