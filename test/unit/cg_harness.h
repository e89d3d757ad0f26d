/* cg_harness.h - a small OpenCL harness for codegen's unit test: one context on the first device
 * of the first platform (POCL here), program builds, single kernel launches on an activation and
 * a weights buffer; and a tiny memory planner that places a module's values contiguously
 * (inputs and kernel results in act, weights in wts, 64-byte aligned, sized for max_batch). */
#ifndef KILN_TEST_CG_HARNESS_H
#define KILN_TEST_CG_HARNESS_H

#include <stdbool.h>
#include <stddef.h>

#include "codegen/codegen.h"

typedef struct CgHarness CgHarness;

/* NULL with the reason in err when no OpenCL device can be used. */
CgHarness *cgh_open(char *err, size_t errlen);
void cgh_close(CgHarness *h);
const char *cgh_device_name(const CgHarness *h);

/* Builds source, runs kernel k (global sizes scaled by batch along k->batch_dim) on act
 * (act_bytes, read back into act afterwards) and wts. false with the OpenCL call, error name
 * and build log in err. */
bool cgh_run(CgHarness *h, const CgKernel *k, void *act, size_t act_bytes, const void *wts,
             size_t wts_bytes, int batch, char *err, size_t errlen);

#define CGH_MAX_VALUES 256

/* Where every planned value lives. */
typedef struct CgPlan {
  int n;
  const Value *values[CGH_MAX_VALUES];
  CgTensor tensors[CGH_MAX_VALUES];
  size_t act_bytes, wts_bytes;
} CgPlan;

/* Plans m's inputs and weights, then the results of every fused op at module level, in order. */
void cgh_plan_module(CgPlan *p, const Module *m, int max_batch);
/* The CgTensorFn of a plan (ctx: the CgPlan); NULL for a value it does not hold. */
const CgTensor *cgh_tensor_of(void *ctx, const Value *v);

#endif
