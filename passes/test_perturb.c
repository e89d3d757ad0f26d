/* test_perturb.c - the `test-perturb` pass, for testing only: it breaks numerics on purpose so
 * that `kiln-opt --check-numerics` has a culprit to find (as mlir-opt's test-* passes exist to
 * exercise the infrastructure, not to optimize).
 *
 * It adds `delta` to element 0 of the first weight, in module order, that is float (f32, f16,
 * bf16, f64; not quantized), holds data, has at least one element and is read by some op: one
 * element of one weight is the smallest change that still reaches an output. The weight's bytes
 * change in place (no copy; in f16/bf16 the sum is rounded to the type).
 *
 * Requires: nothing. Maintains: every structural property; only one weight's value changes.
 * A remark says so when no weight qualifies (then nothing changes). */
#include "pass.h"

static const PassOptionSpec options[] = {
    {"delta", PASS_OPT_FLOAT, "1e-3", "the amount added to the weight's first element"},
};

static bool perturbable(const Value *w) {
  return ir_dtype_is_float(w->type.dtype) && !w->type.quantized && w->tensor &&
         w->tensor->data && ir_type_numel(&w->type) > 0 && ir_value_has_uses(w);
}

static bool run(PassContext *pc) {
  Module *m = pc->m;
  double delta = pass_opt_float(pc, "delta");
  for (int i = 0; i < m->nweights; i++) {
    Value *w = m->weights[i];
    if (!perturbable(w))
      continue;
    void *p = w->tensor->data;
    switch (w->type.dtype) {
    case DT_F32: *(float *)p = (float)(*(float *)p + delta); break;
    case DT_F64: *(double *)p += delta; break;
    case DT_F16:
      *(uint16_t *)p = ir_f32_to_f16((float)(ir_f16_to_f32(*(uint16_t *)p) + delta));
      break;
    case DT_BF16:
      *(uint16_t *)p = ir_f32_to_bf16((float)(ir_bf16_to_f32(*(uint16_t *)p) + delta));
      break;
    default: continue;
    }
    return true;
  }
  pass_remark(pc, NULL, "no float weight with data that an op reads: nothing perturbed");
  return true;
}

const PassInfo pass_test_perturb = {
    "test-perturb",
    "for testing only: add delta to the first element of the first float weight (breaks numerics)",
    options, 1, run};
