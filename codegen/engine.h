/* engine.h - from an optimized module to the parts of an engine bundle: the memory plan, one
 * kernel per fused op, the engine plan text (runtime/README.md) and the weights blob.
 * kiln-compile writes them into a bundle (bundle_write.h). */
#ifndef KILN_CODEGEN_ENGINE_H
#define KILN_CODEGEN_ENGINE_H

#include "codegen.h"
#include "memory.h"

typedef struct CgEngine {
  CgMemory mem;
  CgKernel *kernels; /* in step order */
  int nkernels;
  Buf source;        /* every kernel's source, one OpenCL program */
  Buf plan;          /* the engine plan */
  unsigned char *weights; /* the weights pool, mem.weights_bytes */
} CgEngine;

/* Called once per kernel emitted (for kiln-compile -v): index, count, the kernel. */
typedef void (*CgProgressFn)(void *ctx, int index, int count, const CgKernel *k);

/* Builds the engine of m (after the default pipeline: segments holding fused ops and host ops).
 * false with a reason in err (a shape the engine cannot hold, an op no emitter handles, ...). */
bool cg_build_engine(const Module *m, const CgOptions *opt, CgEngine *e, CgProgressFn progress,
                     void *progress_ctx, char *err, size_t errlen);
void cg_engine_free(CgEngine *e);

/* Appends name to b percent-encoded as plan records need (no space, '%', control or non-ASCII
 * byte left bare). */
void cg_put_name(Buf *b, const char *name);

#endif
