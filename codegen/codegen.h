/* codegen.h - OpenCL C for kiln's fused ops, the memory plan, and the engine plan.
 *
 * The compiler's back end (see codegen/README.md):
 *   cg_plan_memory   gives every tensor that crosses a kernel or host step its place: a pool
 *                    (activations or weights), a 64-byte aligned offset, strides (liveness-based
 *                    reuse of the activation pool; views alias their operand; in-place concats
 *                    give their producers a strided window of their output);
 *   cg_emit_kernel   writes one OpenCL C kernel for one `fused` op, specialized to the shapes,
 *                    strides, offsets, attributes and constants of its tensors, with the
 *                    epilogue inlined;
 *   cg_write_plan    writes the engine plan (runtime/README.md) that libkilnrt executes.
 * Precision and tile sizes are parameters (CgOptions), never constants in the emitters. */
#ifndef KILN_CODEGEN_CODEGEN_H
#define KILN_CODEGEN_CODEGEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ir/ir.h"

typedef enum CgPool { CG_POOL_ACT, CG_POOL_WEIGHTS } CgPool;

/* Where a tensor lives, as kernels and host steps address it. Element (i0, i1, ...) is at byte
 * offset + sum(ik * strides[k]) * dtype size of its pool. A leading N (type.dims[0] == IR_DIM_N)
 * is the batch; strides[0] is then the batch stride. Contiguous tensors have row-major strides;
 * an input of an in-place concat has its concat's strides and an offset inside it. */
typedef struct CgTensor {
  CgPool pool;
  uint64_t offset;
  Type type;
  int64_t strides[IR_MAX_RANK];
} CgTensor;

/* Fills strides with the row-major strides of t (a leading N counts as one item's extent). */
void cg_contiguous_strides(const Type *t, int64_t *strides);

typedef struct CgOptions {
  int max_batch;   /* the engine's largest batch: sizes the activation pool */
  int tile_m, tile_n, tile_k; /* conv/gemm tiles (0: the emitter's default) */
  /* The smallest tile the conv/gemm emitter shrinks to when the grid is small: 16 fills a GPU's
   * SMs (ResNet-50 1.21x faster on an H200); a CPU through POCL runs 16x16 work-groups slower
   * than 32x32 ones (ResNet-50 2.1 s -> 3.2 s), so 0 means 32. test/bench/NOTES.md. */
  int min_tile;
  /* The target is a CPU (POCL): convs get emit_conv_cpu.c's kernel, vectorized along the output
   * channels with their weights stored channel-fastest (cg_conv_cpu_weight_layout). */
  bool cpu;
} CgOptions;

/* Whether conv op gets the CPU kernel under opt (then the memory plan stores its weights in
 * cg_conv_cpu_weight_layout's layout). */
bool cg_conv_cpu_ok(const Op *op, const CgOptions *opt);
/* The CPU conv's weight layout: W[Cout, Cin, KH, KW] as a [Cin*KH*KW][Cp] matrix, Cp = Cout
 * rounded up to 16, the padding zero. Fills strides (element strides of W's four axes) and
 * returns the elements the storage spans (Cin*KH*KW*Cp). */
int64_t cg_conv_cpu_weight_layout(const Type *w, int64_t *strides);

/* One kernel: its source and its launch geometry. global[batch_dim] is multiplied by the batch at
 * run time (batch_dim -1: not batched); local all 0: the runtime chooses. */
typedef struct CgKernel {
  char *name;   /* the fused op's symbol, without '@' (malloc'd) */
  char *source; /* OpenCL C: one __kernel named name (malloc'd) */
  int work_dim;
  size_t global[3], local[3];
  int batch_dim;
} CgKernel;

void cg_kernel_free(CgKernel *k);

/* The tensor of a value the fused op reads (an operand) or yields (a result). */
typedef const CgTensor *(*CgTensorFn)(void *ctx, const Value *v);

/* Emits the kernel of one `fused` op. Every kernel has the signature
 *   __kernel void NAME(__global uchar *act, __global const uchar *wts, const int batch)
 * and reads weights from wts, everything else from act, at the offsets of tensor_of. The source
 * begins with a comment listing the IR ops it implements. Returns false with the reason in err
 * when no emitter handles the op's body (codegen's predicate, cg_op_supported, should have kept
 * it off the device). */
bool cg_emit_kernel(const Op *fused, CgTensorFn tensor_of, void *ctx, const CgOptions *opt,
                    CgKernel *out, char *err, size_t errlen);

/* Whether an emitter can implement op (outside a fused op too); why says what not. This is the
 * device predicate that segment asks through ir_op_device_ok. */
bool cg_op_supported(const Op *op, char *why, size_t n);

#endif
