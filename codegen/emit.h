/* emit.h - what the kernel emitters share (internal to codegen/).
 *
 * A kernel's source is built in a Buf. Every value of the fused op has a C name: operands and
 * results are tensors in the pools (cg_tensor_decl declares a typed pointer `tN` for each), body
 * values are private variables `vID` of the compute type (float for f32/f16, int/long for
 * integers). Emitters index tensors with cg_index_expr and compute elementwise ops with
 * cg_elementwise_expr, so that a conv, a reduction or an elementwise chain inlines the same
 * epilogue code.
 *
 * Files: emit.c (dispatch, tensor declarations, indexing), emit_elementwise.c (the expression of
 * every elementwise and broadcast op; elementwise chains), emit_injective.c (transpose, slice,
 * pad, gather, concat, resize, depth_to_space, ...), emit_reduce.c (pools, reductions, softmax,
 * normalizations), emit_conv.c (conv, conv_transpose, gemm, matmul; horizontal merges),
 * emit_conv_tiled.c (their tiled GEMM core), emit_conv_cpu.c (the conv kernel for CPUs). */
#ifndef KILN_CODEGEN_EMIT_H
#define KILN_CODEGEN_EMIT_H

#include "codegen.h"

typedef struct Emit {
  Buf *src;
  const Op *fused;
  CgTensorFn tensor_of;
  void *ctx;
  const CgOptions *opt;
  CgKernel *k; /* launch geometry to fill */
  char *err;
  size_t errlen;
} Emit;

/* false with a reason in e->err. */
bool cg_fail(Emit *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The C name of a value inside the kernel: "t<k>" for a tensor in a pool (an operand or a
 * result of the fused op), "v<id>" for a body value. Returns a static buffer per call slot
 * (valid for 8 calls). */
const char *cg_name(Emit *e, const Value *v);

/* Declares `__global [const] T *t<k> = (__global T *)(act|wts + offset);` for every operand and
 * result of the fused op (T the storage type of its dtype). */
void cg_tensor_decls(Emit *e);

/* The storage and compute C types of a dtype ("float"/"float" for f32, "half"/"float" for f16
 * through vload_half, "int"/"int" for i32, "long"/"long" for i64, "uchar"/"int" for bool, ...). */
const char *cg_storage_type(DType dt);
const char *cg_compute_type(DType dt);

/* The element offset expression of tensor v (an operand or result of the fused op) at the
 * coordinates of a domain shape: coords[j] names the C variable of domain axis j (rank drank).
 * v's shape is aligned to the domain from the right and broadcast (a dimension of 1 reads index 0),
 * as numpy broadcasting does. Writes the expression into out (e.g. "(c0*256 + c2*16 + c3)"). */
void cg_index_expr(Emit *e, const Value *v, int drank, const char *const *coords, Buf *out);

/* Loads element of v at those coordinates converted to its compute type: "t3[...]" or
 * "vload_half(..., t3)". */
void cg_load_expr(Emit *e, const Value *v, int drank, const char *const *coords, Buf *out);
/* Emits a store of the C expression val into result tensor v at those coordinates. */
void cg_store_stmt(Emit *e, const Value *v, int drank, const char *const *coords, const char *val);

/* The C expression computing elementwise or broadcast op from its operand expressions args
 * (already in the compute type): "fmax(a, 0.0f)" for relu, "(a + b)" for add, ... false when
 * the op has no expression (not elementwise, or an attribute value not handled). */
bool cg_elementwise_expr(const Op *op, const char *const *args, Buf *out);

/* Emits, for the ops of the fused body from `first` up to the yield, that are elementwise or
 * broadcast, `T vID = <expr>;` with operands read as: body values by name, tensors through
 * cg_load_expr at the coordinates. Used for epilogues (after an anchor that defined its own
 * value variables) and for whole elementwise chains. Stops at the first op that is not
 * elementwise and returns it (NULL at the yield). An elementwise op returned means it could not
 * be emitted (a batch_norm parameter computed in the kernel); the reason is in e->err. Operands
 * that are tensors are loaded once into `const T a<result id>_<operand index>`. */
const Op *cg_emit_elementwise_ops(Emit *e, const Op *first, int drank, const char *const *coords);

/* ---- helpers every emitter shares (emit.c) ---- */

/* The C names of domain coordinates: "c0".."c7". */
extern const char *const cg_coords[IR_MAX_RANK];

/* The fused op's module (for printing its ops). */
const Module *cg_module_of(const Op *op);

/* Whether v is defined inside the fused body (a private variable), not a tensor in a pool. */
bool cg_is_body_value(Emit *e, const Value *v);

/* A float literal of the compute type that reads back to (float)v: "0.5f", "INFINITY", ... */
void cg_float_lit(Buf *out, double v);

/* Writes the kernel's opening: the comment listing the body's ops, the signature, the tensor
 * declarations. The emitter then writes the body and closes it with "}\n". */
void cg_kernel_open(Emit *e);

/* One work-item per element of domain shape t (a leading N counts `batch` items): emits the
 * bound guard (threads past the end return) and `const int cK = ...;` for every axis, and sets
 * e->k's geometry (work_dim 1, global per batch item, batch_dim 0 when t is batched). */
void cg_emit_domain(Emit *e, const Type *t);

/* Emits the stores of the yield's operands into the fused op's results at the domain
 * coordinates (a yielded body value by name, a yielded tensor by loading it). */
void cg_emit_yield_stores(Emit *e, int drank, const char *const *coords);

/* The epilogue after anchor (the elementwise ops that follow it in the body, through
 * cg_emit_elementwise_ops) and then the yield's stores, at the domain coordinates. false with a
 * reason when an op after the anchor is not elementwise. */
bool cg_emit_epilogue(Emit *e, const Op *anchor, int drank, const char *const *coords);

/* The yield op of the fused body. */
const Op *cg_yield_of(const Op *fused);

/* The per-family halves of cg_op_supported (whether the emitter handles op's kind, attributes
 * and element types); why says what not. */
bool cg_elementwise_supported(const Op *op, char *why, size_t n);
bool cg_injective_supported(const Op *op, char *why, size_t n);
bool cg_reduce_supported(const Op *op, char *why, size_t n); /* reductions and pools */

/* Pools (max_pool, avg_pool, lp_pool): registry kind FK_CONV, emitted in emit_reduce.c. */
bool cg_emit_pool_kernel(Emit *e, const Op *op);

/* Emitters by body shape; each fills e->k's geometry and appends the kernel to e->src. */
bool cg_emit_elementwise_kernel(Emit *e);
bool cg_emit_injective_kernel(Emit *e, const Op *op);
bool cg_emit_reduce_kernel(Emit *e, const Op *op);
bool cg_emit_conv_kernel(Emit *e, const Op *op);

#endif
