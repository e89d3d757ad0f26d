/* plan.h - the engine plan (runtime/README.md, "Engine plan"): parsed and validated.
 *
 * rt_plan_parse checks every record before anything runs: counts, dtypes, tensor ids defined
 * before use, offsets and extents (at max batch) inside their pool, kernel geometry, host op
 * names and attribute kinds. The parsed plan owns all its memory (rt_plan_free). */
#ifndef KILN_RUNTIME_PLAN_H
#define KILN_RUNTIME_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ref/ref.h"

#ifndef RT_MAX_RANK
#define RT_MAX_RANK 8
#endif

typedef enum RtPool { RT_POOL_ACT, RT_POOL_WEIGHTS } RtPool;

typedef struct RtPlanTensor {
  RtPool pool;
  uint64_t offset;             /* bytes */
  int dtype;                   /* ir/type.h DType numbering (RtTensor's) */
  bool batched;                /* dims[0] is the batch */
  int rank;
  int64_t dims[RT_MAX_RANK];   /* dims[0] of a batched tensor: the max batch */
  int64_t strides[RT_MAX_RANK]; /* elements */
  bool contiguous;             /* strides are the row-major ones */
  uint64_t item_bytes;         /* contiguous: bytes of one batch item (batched) or of all */
  uint64_t extent;             /* bytes from offset to one past the last element, at max batch */
} RtPlanTensor;

typedef enum RtStepKind { RT_STEP_KERNEL, RT_STEP_HOST } RtStepKind;

typedef struct RtStep {
  RtStepKind kind;
  char *name;                  /* kernel name, or host op name */
  /* kernel */
  int work_dim;
  size_t global[3], local[3];
  int batch_dim;               /* -1: not batched */
  /* host */
  int op;                      /* OpKind (ir/opkind.h) */
  int ninputs, noutputs;
  int *tensors;                /* inputs then outputs */
  RtAttr *attrs;               /* sorted by name, as the reference kernels expect; the names,
                                  strings and lists are owned by the plan */
  int nattrs;
  int line;                    /* plan line, for run-time messages */
} RtStep;

typedef struct RtBinding {
  char *name;
  int tensor;
} RtBinding;

typedef struct RtPlan {
  int max_batch;
  uint64_t act_bytes, weights_bytes;
  RtPlanTensor *tensors;
  int ntensors;
  RtBinding *inputs, *outputs;
  int ninputs, noutputs;
  RtStep *steps;
  int nsteps;
} RtPlan;

/* Parses text[len] into plan; false with "plan line N: reason" in err, plan then left empty
 * (rt_plan_free on it is harmless). Never reads past text[len-1]; text need not end in NUL. */
bool rt_plan_parse(const char *text, size_t len, RtPlan *plan, char *err, size_t errlen);
void rt_plan_free(RtPlan *plan);

#endif
