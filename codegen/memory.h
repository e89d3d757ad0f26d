/* memory.h - the memory plan: where every tensor of an engine lives (internal to codegen/ and
 * kiln-compile).
 *
 * Steps: an engine runs, in module order, one kernel per `fused` op of a device segment and one
 * host step per op of a host segment. Views (reshape, flatten, squeeze, unsqueeze, identity,
 * dropout: F_NOOP ops) and in-place concats run nothing: a view's result is its operand's storage
 * seen with another shape (contiguous), a segment's result is the storage of the value its body
 * yields, and each input of an in-place concat is a strided window of the concat's output.
 *
 * Storage: the weights the engine reads, each 64-byte aligned, in module order, make the weights
 * pool. Every other storage is a buffer of the activation pool, sized for the max batch and live
 * from the first step that writes it to the last that reads it (graph inputs from the start,
 * graph outputs to the end). Offsets come from greedy best fit, largest buffer first (TFLite's
 * arena planner): a buffer goes at the lowest 64-byte aligned offset that overlaps no buffer live
 * at the same time. */
#ifndef KILN_CODEGEN_MEMORY_H
#define KILN_CODEGEN_MEMORY_H

#include "codegen.h"

typedef enum CgStepKind { CG_STEP_KERNEL, CG_STEP_HOST } CgStepKind;

typedef struct CgStep {
  CgStepKind kind;
  const Op *op; /* the fused op, or the host op */
} CgStep;

/* One buffer of the activation pool and the steps it is live for (-1: from the start, nsteps:
 * to the end). Every tensor of the pool lies inside one buffer. */
typedef struct CgBuffer {
  uint64_t offset, bytes;
  int first, last;
} CgBuffer;

typedef struct CgMemory {
  CgStep *steps;
  int nsteps;
  CgTensor *tensor; /* per value id; tensor[id].type.dtype == DT_UNKNOWN: no storage */
  int ntensor;
  uint64_t act_bytes;     /* the activation pool at max batch */
  uint64_t weights_bytes; /* the weights pool */
  uint64_t naive_bytes;   /* every activation buffer apart: what reuse saved, by comparison */
  CgBuffer *buffers;
  int nbuffers;
  int *buffer_of; /* per value id: its buffer, or -1 (weights, no storage) */
  /* Graph outputs that are constants (folded at compile time) live in the weights pool, but
   * bindings are read from the activation pool: each gets a buffer there, live throughout, that
   * the engine fills once per run with a copy. const_output[i] is that tensor for output i, or
   * has DT_UNKNOWN when output i is computed. */
  CgTensor *const_output;
  int noutputs;
} CgMemory;

/* Plans m (after segment and fuse: top-level segments, then the output op). false with a reason
 * in err: a value of unknown or data-dependent shape, a segment of an unknown target. */
bool cg_plan_memory(const Module *m, const CgOptions *opt, CgMemory *mem, char *err, size_t errlen);
void cg_memory_free(CgMemory *mem);

/* The tensor of v, or NULL when v has no storage (a body value of a fused op). */
const CgTensor *cg_memory_tensor(const CgMemory *mem, const Value *v);

#endif
