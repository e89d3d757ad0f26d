/* test_codegen.c - codegen's kernel emitters against the reference interpreter.
 *
 * Each case is a small module: parsed, fused by the `fuse` pass unless it already holds `fused`
 * ops, planned contiguously (cg_harness), every fused op emitted (cg_emit_kernel) and run on the
 * first OpenCL device in module order, the outputs compared with pass_interp_module's on the same
 * pseudo-random inputs: floats to a relative error of 1e-5 (of max(|ref|, 1)), integers and bools
 * exactly. A sweep then checks that cg_op_supported and cg_emit_kernel agree for every op kind
 * on a generated one-op module. No OpenCL device: the test says so and fails. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cg_harness.h"
#include "check.h"
#include "frontend/text/parse.h"
#include "passes/interp.h"
#include "passes/pass.h"

static CgHarness *harness;
static bool verbose;

typedef struct Case {
  const char *name;
  const char *text;
  int batch;       /* the batch of N inputs (0: 1) */
  float lo, hi;    /* float inputs in [lo, hi) (both 0: [-2, 2)) */
  int ilo, ihi;    /* integer inputs in [ilo, ihi] (both 0: [-5, 5]) */
} Case;

static uint32_t rng_state;
static uint32_t rng(void) {
  rng_state = rng_state * 1664525u + 1013904223u;
  return rng_state >> 8;
}

static void fill(Tensor *t, const Case *c) {
  int64_t n = ir_type_numel(&t->type);
  float lo = c->lo, hi = c->hi;
  if (lo == 0 && hi == 0)
    lo = -2, hi = 2;
  int ilo = c->ilo, ihi = c->ihi;
  if (ilo == 0 && ihi == 0)
    ilo = -5, ihi = 5;
  for (int64_t i = 0; i < n; i++) {
    double u = (double)(rng() & 0xffffff) / 0x1000000;
    int64_t iv = ilo + (int64_t)(rng() % (uint32_t)(ihi - ilo + 1));
    switch (t->type.dtype) {
    case DT_F32: ((float *)t->data)[i] = (float)(lo + (hi - lo) * u); break;
    case DT_I32: ((int32_t *)t->data)[i] = (int32_t)iv; break;
    case DT_I64: ((int64_t *)t->data)[i] = iv; break;
    case DT_BOOL: ((uint8_t *)t->data)[i] = rng() & 1; break;
    default: abort();
    }
  }
}

/* Compares n elements of got with want; returns the mismatch count and prints the first ones. */
static int compare(const char *name, DType dt, const void *got, const void *want, int64_t n) {
  int bad = 0;
  for (int64_t i = 0; i < n; i++) {
    double g, w;
    bool ok;
    if (dt == DT_F32) {
      g = ((const float *)got)[i], w = ((const float *)want)[i];
      ok = (g != g && w != w) || g == w || fabs(g - w) <= 1e-5 * fmax(fabs(w), 1.0);
    } else {
      g = dt == DT_I32 ? ((const int32_t *)got)[i]
        : dt == DT_I64 ? (double)((const int64_t *)got)[i] : ((const uint8_t *)got)[i];
      w = dt == DT_I32 ? ((const int32_t *)want)[i]
        : dt == DT_I64 ? (double)((const int64_t *)want)[i] : ((const uint8_t *)want)[i];
      ok = g == w;
    }
    if (!ok && bad++ < 4)
      fprintf(stderr, "  %s: element %lld: got %.9g, want %.9g\n", name, (long long)i, g, w);
  }
  return bad;
}

/* Runs one case; false (with the reason printed) when anything fails. skip_unsupported: a body
 * op that cg_op_supported refuses makes the case pass untested (for the sweep). */
static bool run_module(const char *name, const char *text, const Case *c, bool sweep,
                       bool *skipped) {
  Diag d;
  ir_diag_init(&d, name, text, strlen(text));
  d.out = sweep && !verbose ? fopen("/dev/null", "w") : stderr;
  Module *m = fe_parse_text(text, strlen(text), &d);
  bool ok = m && ir_verify(m, &d) == 0;
  char err[8192] = "";
  bool has_fused = false;
  for (Op *op = m ? m->body.first : NULL; op; op = op->next)
    has_fused = has_fused || op->kind == OP_FUSED;
  if (ok && !has_fused) {
    Pipeline pl = {0};
    PassManagerOptions pm = {.verify_each = true};
    ok = pass_pipeline_parse(sweep ? "infer-shapes,fuse" : "fuse", &pl, err, sizeof err) &&
         pass_pipeline_run(&pl, m, &d, &pm);
    pass_pipeline_free(&pl);
  }
  if (d.out != stderr)
    fclose(d.out);
  if (!ok) {
    if (!sweep)
      fprintf(stderr, "%s: parse/verify/fuse failed %s\n", name, err);
    *skipped = true;
    ir_module_free(m);
    return sweep;
  }
  int batch = c->batch > 0 ? c->batch : 1;
  /* Only fused ops and the output at module level: the harness is no runtime. */
  for (Op *op = m->body.first; op; op = op->next) {
    if (op->kind == OP_OUTPUT || op->kind == OP_FUSED)
      continue;
    if (!sweep)
      fprintf(stderr, "%s: '%s' op left outside a kernel\n", name, ir_op_name(op->kind));
    *skipped = true;
    ir_module_free(m);
    return sweep;
  }
  Tensor *in = calloc((size_t)m->ninputs + 1, sizeof *in);
  for (int i = 0; i < m->ninputs; i++) {
    in[i].type = m->inputs[i]->type;
    if (ir_type_is_batched(&in[i].type))
      in[i].type.dims[0] = batch;
    in[i].nbytes = (size_t)ir_type_numel(&in[i].type) * ir_dtype_size(in[i].type.dtype);
    in[i].data = calloc(1, in[i].nbytes + 1);
    fill(&in[i], c);
  }
  Op *out_op = ir_module_output(m);
  int nout = out_op->noperands;
  Tensor *want = calloc((size_t)nout, sizeof *want);
  if (!pass_interp_module(m, in, m->ninputs, want, nout, err, sizeof err)) {
    if (!sweep)
      fprintf(stderr, "%s: reference failed: %s\n", name, err);
    ok = sweep;
    *skipped = true;
    goto done;
  }
  CgPlan plan;
  cgh_plan_module(&plan, m, batch);
  unsigned char *act = malloc(plan.act_bytes + 1), *wts = calloc(1, plan.wts_bytes + 1);
  memset(act, 0xff, plan.act_bytes + 1); /* unwritten f32 results read as NaN */
  for (int i = 0; i < m->ninputs; i++)
    memcpy(act + cgh_tensor_of(&plan, m->inputs[i])->offset, in[i].data, in[i].nbytes);
  for (int i = 0; i < m->nweights; i++)
    if (m->weights[i]->tensor && m->weights[i]->tensor->data)
      memcpy(wts + cgh_tensor_of(&plan, m->weights[i])->offset, m->weights[i]->tensor->data,
             m->weights[i]->tensor->nbytes);
  for (Op *op = m->body.first; ok && op; op = op->next) {
    if (op->kind != OP_FUSED)
      continue;
    char why[256];
    bool supported = true;
    for (Op *b = op->body->first; b && b->kind != OP_YIELD; b = b->next)
      supported = supported && cg_op_supported(b, why, sizeof why);
    if (sweep && !supported) {
      *skipped = true;
      break;
    }
    CgKernel k;
    CgOptions opt = {.max_batch = batch};
    if (!cg_emit_kernel(op, cgh_tensor_of, &plan, &opt, &k, err, sizeof err)) {
      fprintf(stderr, "%s: cg_emit_kernel: %s\n", name, err);
      ok = false;
      break;
    }
    if (verbose)
      fprintf(stderr, "%s", k.source);
    if (!cgh_run(harness, &k, act, plan.act_bytes, wts, plan.wts_bytes, batch, err, sizeof err)) {
      fprintf(stderr, "%s: %s\n", name, err);
      ok = false;
    }
    cg_kernel_free(&k);
  }
  for (int j = 0; ok && !*skipped && j < nout; j++) {
    const Value *v = out_op->operands[j].value;
    const CgTensor *t = cgh_tensor_of(&plan, v);
    int64_t n = ir_type_numel(&want[j].type);
    int bad = compare(name, v->type.dtype, act + t->offset, want[j].data, n);
    if (bad) {
      fprintf(stderr, "%s: output %d: %d of %lld elements differ\n", name, j, bad, (long long)n);
      ok = false;
    }
  }
  free(act);
  free(wts);
done:
  for (int i = 0; i < m->ninputs; i++)
    free(in[i].data);
  free(in);
  free(want);
  ir_module_free(m);
  return ok;
}

/* ---- cases ---- */

/* Elementwise and broadcast chains. */
static const Case cases[] = {
    {.name = "unary_chain", .text = "module {\n input %x : f32[2,3,4]\n"
     " %a = relu(%x) : f32[2,3,4]\n %b = sigmoid(%a) : f32[2,3,4]\n"
     " %c = tanh(%b) : f32[2,3,4]\n %d = exp(%c) : f32[2,3,4]\n %e = log(%d) : f32[2,3,4]\n"
     " %f = softplus(%e) : f32[2,3,4]\n %g = mish(%f) : f32[2,3,4]\n"
     " %h = hard_swish(%g) : f32[2,3,4]\n %i = erf(%h) : f32[2,3,4]\n output %i\n}\n"},
    {.name = "activations_attrs", .text = "module {\n input %x : f32[4,5]\n"
     " %a = leaky_relu(%x) {alpha = 0.2} : f32[4,5]\n %b = elu(%a) : f32[4,5]\n"
     " %c = hard_sigmoid(%b) {alpha = 0.3, beta = 0.4} : f32[4,5]\n"
     " %d = gelu(%x) : f32[4,5]\n %e = gelu(%x) {approximate = \"tanh\"} : f32[4,5]\n"
     " %f = add(%c, %d) : f32[4,5]\n %g = sub(%f, %e) : f32[4,5]\n"
     " %h = clip(%g) {min = -0.5, max = 0.75} : f32[4,5]\n output %h\n}\n"},
    {.name = "math_unary", .text = "module {\n input %x : f32[3,7]\n"
     " %a = sin(%x) : f32[3,7]\n %b = cos(%a) : f32[3,7]\n %c = atan(%b) : f32[3,7]\n"
     " %d = sinh(%c) : f32[3,7]\n %e = asinh(%d) : f32[3,7]\n %f = tanh(%e) : f32[3,7]\n"
     " %g = atanh(%f) : f32[3,7]\n %h = softsign(%g) : f32[3,7]\n %i = asin(%h) : f32[3,7]\n"
     " %j = acos(%h) : f32[3,7]\n %k = add(%i, %j) : f32[3,7]\n %l = cosh(%k) : f32[3,7]\n"
     " %m = acosh(%l) : f32[3,7]\n %t = tan(%h) : f32[3,7]\n %n = add(%m, %t) : f32[3,7]\n"
     " output %n\n}\n",.batch = 0, .lo = -1.5f, .hi = 1.5f},
    {.name = "rounding_sign", .text = "module {\n input %x : f32[40]\n weight $s : f32[1] = dense<[2.0]>\n"
     " %m = mul(%x, $s) : f32[40]\n %a = round(%m) : f32[40]\n %b = floor(%m) : f32[40]\n"
     " %c = ceil(%m) : f32[40]\n %d = sign(%m) : f32[40]\n %e = add(%a, %b) : f32[40]\n"
     " %f = add(%c, %d) : f32[40]\n %g = sub(%e, %f) : f32[40]\n %h = abs(%g) : f32[40]\n"
     " %i = neg(%h) : f32[40]\n output %i\n}\n"},
    {.name = "selu_celu_shrink", .text = "module {\n input %x : f32[2,10]\n"
     " %a = selu(%x) : f32[2,10]\n %b = celu(%x) {alpha = 0.5} : f32[2,10]\n"
     " %c = thresholded_relu(%x) {alpha = 0.3} : f32[2,10]\n %d = shrink(%x) {bias = 0.25, lambd = 0.6} : f32[2,10]\n"
     " %e = add(%a, %b) : f32[2,10]\n %f = mul(%c, %d) : f32[2,10]\n %g = sub(%e, %f) : f32[2,10]\n"
     " %h = selu(%g) {alpha = 1.5, gamma = 2.0} : f32[2,10]\n output %h\n}\n"},
    {.name = "sqrt_recip_pow", .text = "module {\n input %x : f32[3,4]\n input %y : f32[3,4]\n"
     " %a = sqrt(%x) : f32[3,4]\n %b = reciprocal(%a) : f32[3,4]\n %c = pow(%b, %y) : f32[3,4]\n"
     " %d = div(%c, %x) : f32[3,4]\n output %d\n}\n",.batch = 0, .lo = 0.5f, .hi = 2.0f},
    {.name = "broadcast_bias", .text = "module {\n input %x : f32[2,3,4,5]\n input %b : f32[3,1,1]\n"
     " input %r : f32[5]\n %a = add(%x, %b) : f32[2,3,4,5]\n %m = mul(%a, %r) : f32[2,3,4,5]\n"
     " %t = relu(%m) : f32[2,3,4,5]\n output %t\n}\n"},
    {.name = "broadcast_both_sides", .text = "module {\n input %x : f32[4,1]\n input %y : f32[1,6]\n"
     " %a = sub(%x, %y) : f32[4,6]\n %b = max(%a, %x) : f32[4,6]\n %c = min(%b, %y) : f32[4,6]\n"
     " output %c\n}\n"},
    {.name = "batched_n", .text = "module {\n input %x : f32[N,3,2,2]\n weight $w : f32[3,1,1] = dense<[0.5, -1.0, 2.0]>\n"
     " %a = mul(%x, $w) : f32[N,3,2,2]\n %b = sigmoid(%a) : f32[N,3,2,2]\n output %b\n}\n",.batch = 2},
    {.name = "batched_two_inputs", .text = "module {\n input %x : f32[N,8]\n input %y : f32[N,8]\n"
     " %a = add(%x, %y) : f32[N,8]\n %b = mul(%a, %a) : f32[N,8]\n output %b\n}\n",.batch = 3},
    {.name = "prelu_bn", .text = "module {\n input %x : f32[2,3,2,2]\n weight $sl : f32[3,1,1] = dense<[0.1, 0.2, 0.3]>\n"
     " weight $g : f32[3] = dense<[1.0, 2.0, 0.5]>\n weight $be : f32[3] = dense<[0.0, 0.1, -0.1]>\n"
     " weight $mu : f32[3] = dense<[0.5, -0.5, 0.0]>\n weight $va : f32[3] = dense<[1.0, 0.25, 4.0]>\n"
     " %a = batch_norm(%x, $g, $be, $mu, $va) {epsilon = 0.001} : f32[2,3,2,2]\n"
     " %b = prelu(%a, $sl) : f32[2,3,2,2]\n output %b\n}\n"},
    {.name = "compare_where", .text = "module {\n input %x : f32[3,4]\n input %y : f32[4]\n"
     " %l = less(%x, %y) : bool[3,4]\n %g = greater_or_equal(%x, %y) : bool[3,4]\n"
     " %n = not(%g) : bool[3,4]\n %e = xor(%l, %n) : bool[3,4]\n"
     " %w = where(%l, %x, %y) : f32[3,4]\n output %w, %e\n}\n"},
    {.name = "logical", .text = "module {\n input %a : bool[2,5]\n input %b : bool[5]\n"
     " %x = and(%a, %b) : bool[2,5]\n %y = or(%x, %b) : bool[2,5]\n %z = xor(%y, %a) : bool[2,5]\n"
     " output %z\n}\n"},
    {.name = "int_div_mod", .text = "module {\n input %a : i32[4,6]\n input %b : i32[6]\n"
     " %d = div(%a, %b) : i32[4,6]\n %m = mod(%a, %b) : i32[4,6]\n %f = mod(%a, %b) {fmod = 1} : i32[4,6]\n"
     " %s = add(%d, %m) : i32[4,6]\n %t = mul(%s, %f) : i32[4,6]\n output %t, %m\n}\n",.batch = 0, .lo = 0, .hi = 0, .ilo = 1, .ihi = 9},
    {.name = "int_neg_mod", .text = "module {\n input %a : i64[30]\n weight $b : i64[3,1] = dense<[-3, 4, -7]>\n"
     " %m = mod(%a, $b) : i64[3,30]\n %d = div(%a, $b) : i64[3,30]\n %s = sub(%m, %d) : i64[3,30]\n"
     " %r = abs(%s) : i64[3,30]\n %c = clip(%r) {min = 1.5, max = 6.0} : i64[3,30]\n output %c\n}\n",.batch = 0, .lo = 0, .hi = 0, .ilo = -20, .ihi = 20},
    {.name = "cast_chain", .text = "module {\n input %x : f32[3,5]\n %i = cast(%x) {to = \"i32\"} : i32[3,5]\n"
     " %j = relu(%i) : i32[3,5]\n %l = cast(%j) {to = \"i64\"} : i64[3,5]\n"
     " %f = cast(%l) {to = \"f32\"} : f32[3,5]\n %b = cast(%x) {to = \"bool\"} : bool[3,5]\n"
     " %g = cast(%b) {to = \"f32\"} : f32[3,5]\n %h = add(%f, %g) : f32[3,5]\n output %h\n}\n",.batch = 0, .lo = -10, .hi = 10},
    {.name = "fmod_float", .text = "module {\n input %x : f32[16]\n input %y : f32[16]\n"
     " %m = mod(%x, %y) {fmod = 1} : f32[16]\n output %m\n}\n",.batch = 0, .lo = 0.5f, .hi = 3.0f},
    {.name = "is_nan_inf", .text = "module {\n input %x : f32[12]\n input %y : f32[12]\n"
     " %d = div(%x, %y) : f32[12]\n %l = log(%d) : f32[12]\n %n = is_nan(%l) : bool[12]\n"
     " %i = is_inf(%l) {detect_negative = 0} : bool[12]\n %o = or(%n, %i) : bool[12]\n output %o, %n\n}\n",.batch = 0, .lo = -1, .hi = 1},
    {.name = "variadic_sum_mean", .text = "module {\n input %a : f32[2,3]\n input %b : f32[3]\n input %c : f32[2,1]\n"
     " %s = sum(%a, %b, %c) : f32[2,3]\n %m = mean(%a, %b, %c) : f32[2,3]\n"
     " %x = max(%a, %b, %c) : f32[2,3]\n %n = min(%s, %m, %x) : f32[2,3]\n output %n\n}\n"},
    {.name = "multi_output", .text = "module {\n input %x : f32[4,4]\n"
     " %r0, %r1 = fused @k_two(%x) : f32[4,4], f32[4,4] {\n"
     "   %a = relu(%x) : f32[4,4]\n   %b = neg(%a) : f32[4,4]\n   %c = exp(%x) : f32[4,4]\n"
     "   yield %b, %c\n }\n output %r0, %r1\n}\n"},
    /* Dispatch to emit_conv.c: an anchor with its epilogue. */
    {.name = "conv_relu_dispatch", .text = "module {\n input %x : f32[N,2,4,4]\n"
     " weight $w : f32[2,2,1,1] = dense<[1.0, -0.5, 0.25, 2.0]>\n weight $b : f32[2] = dense<[0.1, -0.2]>\n"
     " %c = conv(%x, $w, $b) : f32[N,2,4,4]\n %r = relu(%c) : f32[N,2,4,4]\n output %r\n}\n", .batch = 2},
    {.name = "gemm_dispatch", .text = "module {\n input %x : f32[3,4]\n"
     " weight $w : f32[4,2] = dense<[1.0, -0.5, 0.25, 2.0, 0.5, 0.5, -1.0, 1.5]>\n"
     " %g = gemm(%x, $w) : f32[3,2]\n %t = tanh(%g) : f32[3,2]\n output %t\n}\n"},
    {.name = "scalar_and_rank0", .text = "module {\n input %x : f32[]\n input %y : f32[2,2]\n"
     " %a = add(%y, %x) : f32[2,2]\n output %a\n}\n"},
    /* Injective ops. */
    {.name = "transpose", .text = "module {\n input %x : f32[2,3,4]\n"
     " %t = transpose(%x) {perm = [2, 0, 1]} : f32[4,2,3]\n output %t\n}\n"},
    {.name = "transpose_batched", .text = "module {\n input %x : f32[N,3,5]\n"
     " %t = transpose(%x) {perm = [0, 2, 1]} : f32[N,5,3]\n output %t\n}\n", .batch = 2},
    {.name = "slice_steps", .text = "module {\n input %x : f32[6,8]\n"
     " %s = slice(%x) {starts = [1, -1], ends = [5, -9], axes = [0, 1], steps = [2, -2]} : f32[2,4]\n"
     " output %s\n}\n"},
    {.name = "pad_constant", .text = "module {\n input %x : f32[3,4]\n"
     " %p = pad(%x) {pads = [0, 1, 2, 0], value = 1.5} : f32[5,5]\n output %p\n}\n"},
    {.name = "pad_reflect", .text = "module {\n input %x : f32[1,2,3,3]\n"
     " %p = pad(%x) {mode = \"reflect\", pads = [0, 0, 2, 1, 0, 0, 1, 2]} : f32[1,2,6,6]\n output %p\n}\n"},
    {.name = "pad_edge_batched", .text = "module {\n input %x : f32[N,2,3]\n"
     " %p = pad(%x) {mode = \"edge\", pads = [0, 1, 2, 0, 0, 1]} : f32[N,3,6]\n output %p\n}\n", .batch = 2},
    {.name = "concat_batched", .text = "module {\n input %a : f32[N,2,3]\n input %b : f32[N,1,3]\n"
     " input %c : f32[N,3,3]\n %y = concat(%a, %b, %c) {axis = 1} : f32[N,6,3]\n output %y\n}\n", .batch = 2},
    {.name = "gather_weights", .text = "module {\n input %x : f32[3,5,2]\n"
     " weight $i : i64[2,2] = dense<[4, -1, 0, -5]>\n %g = gather(%x, $i) {axis = 1} : f32[3,2,2,2]\n"
     " output %g\n}\n"},
    {.name = "gather_input_i32", .text = "module {\n input %x : f32[4,3]\n input %i : i32[5]\n"
     " %g = gather(%x, %i) : f32[5,3]\n output %g\n}\n", .ilo = -4, .ihi = 3},
    {.name = "gather_elements", .text = "module {\n input %x : f32[3,4]\n input %i : i64[3,2]\n"
     " %g = gather_elements(%x, %i) {axis = 1} : f32[3,2]\n output %g\n}\n", .ilo = -4, .ihi = 3},
    {.name = "depth_to_space_dcr", .text = "module {\n input %x : f32[1,8,2,3]\n"
     " %y = depth_to_space(%x) {blocksize = 2} : f32[1,2,4,6]\n output %y\n}\n"},
    {.name = "depth_to_space_crd", .text = "module {\n input %x : f32[N,8,2,3]\n"
     " %y = depth_to_space(%x) {blocksize = 2, mode = \"CRD\"} : f32[N,2,4,6]\n output %y\n}\n", .batch = 2},
    {.name = "space_to_depth", .text = "module {\n input %x : f32[1,2,4,6]\n"
     " %y = space_to_depth(%x) {blocksize = 2} : f32[1,8,2,3]\n output %y\n}\n"},
    {.name = "expand", .text = "module {\n input %x : f32[3,1]\n"
     " %y = expand(%x) {shape = [2, 3, 4]} : f32[2,3,4]\n output %y\n}\n"},
    {.name = "tile", .text = "module {\n input %x : f32[2,3]\n"
     " %y = tile(%x) {repeats = [2, 3]} : f32[4,9]\n output %y\n}\n"},
    {.name = "trilu", .text = "module {\n input %x : f32[2,4,5]\n"
     " %y = trilu(%x) {k = -1, upper = 0} : f32[2,4,5]\n output %y\n}\n"},
    {.name = "split", .text = "module {\n input %x : f32[2,7]\n"
     " %a, %b = split(%x) {axis = 1, split = [3, 4]} : f32[2,3], f32[2,4]\n output %a, %b\n}\n"},
    {.name = "resize_nearest", .text = "module {\n input %x : f32[1,2,3,4]\n"
     " %y = resize(%x) {coordinate_transformation_mode = \"asymmetric\", nearest_mode = \"floor\","
     " scales = [1.0, 1.0, 2.0, 1.5]} : f32[1,2,6,6]\n output %y\n}\n"},
    {.name = "resize_nearest_half_pixel", .text = "module {\n input %x : f32[N,1,5,5]\n"
     " %y = resize(%x) {sizes = [-1, 1, 3, 8]} : f32[N,1,3,8]\n output %y\n}\n", .batch = 2},
    {.name = "resize_linear", .text = "module {\n input %x : f32[1,2,3,4]\n"
     " %y = resize(%x) {mode = \"linear\", sizes = [1, 2, 5, 7]} : f32[1,2,5,7]\n output %y\n}\n"},
    {.name = "resize_cubic_align", .text = "module {\n input %x : f32[1,1,4,4]\n"
     " %k = fused @k_cubic(%x) : f32[1,1,8,8] {\n"
     "   %y = resize(%x) {mode = \"cubic\", coordinate_transformation_mode = \"align_corners\","
     " scales = [1.0, 1.0, 2.0, 2.0]} : f32[1,1,8,8]\n   yield %y\n }\n output %k\n}\n"},
    {.name = "reshape_in_kernel", .text = "module {\n input %x : f32[N,2,6]\n"
     " %k = fused @k_reshape(%x) : f32[N,3,4] {\n"
     "   %r = reshape(%x) {shape = [0, 3, 4]} : f32[N,3,4]\n   %s = sigmoid(%r) : f32[N,3,4]\n"
     "   yield %s\n }\n output %k\n}\n", .batch = 2},
    {.name = "transpose_epilogue", .text = "module {\n input %x : f32[3,4]\n input %b : f32[3]\n"
     " %k = fused @k_tr(%x, %b) : f32[4,3] {\n"
     "   %t = transpose(%x) : f32[4,3]\n   %a = add(%t, %b) : f32[4,3]\n   %r = relu(%a) : f32[4,3]\n"
     "   yield %r\n }\n output %k\n}\n"},
    /* Reductions, normalizations, pools. */
    {.name = "global_avg_pool_epilogue", .text = "module {\n input %x : f32[N,3,4,5]\n"
     " weight $b : f32[3,1,1] = dense<[0.5, -0.5, 1.0]>\n %p = global_avg_pool(%x) : f32[N,3,1,1]\n"
     " %a = add(%p, $b) : f32[N,3,1,1]\n %r = relu(%a) : f32[N,3,1,1]\n output %r\n}\n", .batch = 2},
    {.name = "global_max_pool", .text = "module {\n input %x : f32[2,3,3,3]\n"
     " %p = global_max_pool(%x) : f32[2,3,1,1]\n output %p\n}\n"},
    {.name = "reduce_mean_prologue", .text = "module {\n input %x : f32[4,6,5]\n input %s : f32[6,1]\n"
     " %m = mul(%x, %s) : f32[4,6,5]\n %q = mul(%m, %m) : f32[4,6,5]\n"
     " %r = reduce_mean(%q) {axes = [0, 2], keepdims = 0} : f32[6]\n %t = sqrt(%r) : f32[6]\n"
     " output %t\n}\n"},
    {.name = "reduce_sum_keepdims", .text = "module {\n input %x : f32[N,4,6]\n"
     " %r = reduce_sum(%x) {axes = [-1]} : f32[N,4,1]\n output %r\n}\n", .batch = 2},
    {.name = "reduce_all_default", .text = "module {\n input %x : f32[3,4]\n"
     " %r = reduce_max(%x) : f32[1,1]\n output %r\n}\n"},
    {.name = "reduce_ext", .text = "module {\n input %x : f32[3,4,5]\n"
     " %a = reduce_min(%x) {axes = [1]} : f32[3,1,5]\n %b = reduce_l1(%x) {axes = [1]} : f32[3,1,5]\n"
     " %c = reduce_l2(%x) {axes = [1]} : f32[3,1,5]\n %d = reduce_log_sum_exp(%x) {axes = [1]} : f32[3,1,5]\n"
     " %e = reduce_sum_square(%x) {axes = [1]} : f32[3,1,5]\n %f = reduce_prod(%x) {axes = [1]} : f32[3,1,5]\n"
     " output %a, %b, %c, %d, %e, %f\n}\n"},
    {.name = "reduce_log_sum", .text = "module {\n input %x : f32[2,7]\n"
     " %r = reduce_log_sum(%x) {axes = [1], keepdims = 0} : f32[2]\n output %r\n}\n", .lo = 0.1f, .hi = 2.0f},
    {.name = "arg_max_min", .text = "module {\n input %x : f32[3,5,4]\n"
     " %a = arg_max(%x) {axis = 1} : i64[3,1,4]\n %b = arg_min(%x) {axis = -1, keepdims = 0} : i64[3,5]\n"
     " output %a, %b\n}\n"},
    {.name = "arg_max_last", .text = "module {\n input %x : f32[4,6]\n weight $s : f32[1] = dense<[2.0]>\n"
     " %m = mul(%x, $s) : f32[4,6]\n %f = floor(%m) : f32[4,6]\n"
     " %a = arg_max(%f) {axis = 1, select_last_index = 1} : i64[4,1]\n output %a\n}\n"},
    {.name = "softmax_batched", .text = "module {\n input %x : f32[N,10]\n"
     " %s = softmax(%x) {axis = 1} : f32[N,10]\n output %s\n}\n", .batch = 2},
    {.name = "softmax_mid_axis_prologue", .text = "module {\n input %x : f32[2,5,3]\n input %t : f32[1]\n"
     " %d = div(%x, %t) : f32[2,5,3]\n %s = softmax(%d) {axis = 1} : f32[2,5,3]\n"
     " %l = log_softmax(%x) {axis = -1} : f32[2,5,3]\n output %s, %l\n}\n", .lo = 0.5f, .hi = 2.0f},
    {.name = "hardmax", .text = "module {\n input %x : f32[3,6]\n"
     " %h = hardmax(%x) : f32[3,6]\n output %h\n}\n"},
    {.name = "layer_norm_epilogue", .text = "module {\n input %x : f32[N,4,8]\n"
     " weight $g : f32[8] = dense<[1.0, 0.5, 2.0, -1.0, 1.5, 0.25, 1.0, 0.75]>\n"
     " weight $b : f32[8] = dense<[0.0, 0.1, 0.2, 0.3, -0.1, -0.2, -0.3, 0.5]>\n"
     " %l = layer_norm(%x, $g, $b) {axis = -1, epsilon = 0.001} : f32[N,4,8]\n"
     " %r = gelu(%l) : f32[N,4,8]\n output %r\n}\n", .batch = 2},
    {.name = "layer_norm_two_axes", .text = "module {\n input %x : f32[2,3,4]\n"
     " weight $g : f32[4] = dense<[1.0, 0.5, 2.0, -1.0]>\n"
     " %l = layer_norm(%x, $g) {axis = 1} : f32[2,3,4]\n output %l\n}\n"},
    {.name = "instance_norm", .text = "module {\n input %x : f32[2,3,3,4]\n"
     " weight $g : f32[3] = dense<[1.0, 0.5, 2.0]>\n weight $b : f32[3] = dense<[0.0, 0.1, -0.2]>\n"
     " %y = instance_norm(%x, $g, $b) : f32[2,3,3,4]\n output %y\n}\n"},
    {.name = "lrn", .text = "module {\n input %x : f32[1,6,2,3]\n"
     " %y = lrn(%x) {size = 3, alpha = 0.001, beta = 0.6, bias = 2.0} : f32[1,6,2,3]\n output %y\n}\n"},
    {.name = "max_pool_pads_epilogue", .text = "module {\n input %x : f32[N,2,5,5]\n"
     " %p = max_pool(%x) {kernel_shape = [3, 3], pads = [1, 1, 1, 1], strides = [2, 2]} : f32[N,2,3,3]\n"
     " %r = sigmoid(%p) : f32[N,2,3,3]\n output %r\n}\n", .batch = 2},
    {.name = "max_pool_dilated_ceil", .text = "module {\n input %x : f32[1,1,6,7]\n"
     " %p = max_pool(%x) {ceil_mode = 1, dilations = [2, 1], kernel_shape = [2, 3], strides = [2, 2]} : f32[1,1,3,3]\n"
     " output %p\n}\n"},
    {.name = "avg_pool_count_pad", .text = "module {\n input %x : f32[1,2,5,5]\n"
     " %a = avg_pool(%x) {count_include_pad = 1, kernel_shape = [3, 3], pads = [1, 1, 1, 1]} : f32[1,2,5,5]\n"
     " %b = avg_pool(%x) {ceil_mode = 1, kernel_shape = [2, 2], strides = [2, 2]} : f32[1,2,3,3]\n"
     " output %a, %b\n}\n"},
    {.name = "lp_pool_1d", .text = "module {\n input %x : f32[2,3,9]\n"
     " %a = lp_pool(%x) {kernel_shape = [3], strides = [2]} : f32[2,3,4]\n"
     " %b = lp_pool(%x) {kernel_shape = [2], p = 3} : f32[2,3,8]\n output %a, %b\n}\n"},
};

/* ---- refusals ---- */

/* A fused op whose body cg_op_supported refuses: the predicate says why, and cg_emit_kernel
 * fails with a reason instead of emitting. */
static void refuse(const char *text, const char *want) {
  Diag d;
  ir_diag_init(&d, "refuse", text, strlen(text));
  Module *m = fe_parse_text(text, strlen(text), &d);
  CHECK(m != NULL);
  Op *fused = m ? m->body.first : NULL;
  while (fused && fused->kind != OP_FUSED)
    fused = fused->next;
  CHECK(fused != NULL);
  if (!fused) {
    ir_module_free(m);
    return;
  }
  char why[256] = "", err[256] = "";
  CHECK(!cg_op_supported(fused, why, sizeof why));
  CHECK(strstr(why, want) != NULL);
  CgPlan plan;
  cgh_plan_module(&plan, m, 1);
  CgKernel k;
  CHECK(!cg_emit_kernel(fused, cgh_tensor_of, &plan, &(CgOptions){.max_batch = 1}, &k, err,
                        sizeof err));
  CHECK(strstr(err, want) != NULL);
  if (!strstr(err, want))
    fprintf(stderr, "refuse: got \"%s\" / \"%s\", want \"%s\"\n", why, err, want);
  ir_module_free(m);
}

static void refusals(void) {
  refuse("module {\n input %x : f32[4]\n input %y : f32[4]\n %k = fused @k(%x, %y) : f32[4] {\n"
         "  %m = mod(%x, %y) : f32[4]\n  yield %m\n }\n output %k\n}\n",
         "fmod is 0 with f32 operands");
  refuse("module {\n input %x : bf16[4]\n %k = fused @k(%x) : bf16[4] {\n"
         "  %r = relu(%x) : bf16[4]\n  yield %r\n }\n output %k\n}\n", "element type bf16");
  refuse("module {\n input %x : f32[N,4]\n %k = fused @k(%x) : f32[1,4] {\n"
         "  %r = reduce_sum(%x) {axes = [0]} : f32[1,4]\n  yield %r\n }\n output %k\n}\n",
         "batch axis N");
  refuse("module {\n input %x : f32[2,3]\n %k = fused @k(%x) : f32[2,3] {\n"
         "  %r = einsum(%x) {equation = \"ij->ij\"} : f32[2,3]\n  yield %r\n }\n output %k\n}\n",
         "no emitter for 'einsum'");
}

/* ---- the predicate sweep ---- */

/* For every op kind, a one-op module on f32 operands (one or two, default attributes): when the
 * fused op's body is supported, it must emit and agree with the reference. */
static void sweep(void) {
  int emitted = 0, prev = -1;
  for (int k = 0; k < OP_COUNT; k++) {
    const OpInfo *info = &ir_ops[k];
    if (info->fusion == FK_OPAQUE || (info->flags & F_NOOP))
      continue;
    for (int s = 0; s < 3; s++) {
      int nin = s == 0 ? 1 : 2;
      if (nin < info->min_operands || (info->max_operands >= 0 && nin > info->max_operands))
        continue;
      char text[512];
      snprintf(text, sizeof text,
               "module {\n  input %%a : %s\n%s  %%y = %s(%%a%s) : ?\n  output %%y\n}\n",
               "f32[2,3,4]",
               nin == 2 ? (s == 1 ? "  input %b : f32[2,3,4]\n" : "  input %b : f32[4]\n") : "",
               info->name, nin == 2 ? ", %b" : "");
      bool skipped = false;
      Case c = {.lo = 0.1f, .hi = 0.9f};
      bool ok = run_module(info->name, text, &c, true, &skipped);
      if (!ok)
        fprintf(stderr, "sweep: '%s' with %d operand(s) is supported but failed\n", info->name,
                nin);
      CHECK(ok);
      if (ok && !skipped && (s == 0 || nin == 2) && (s != 2 || k != prev))
        printf("%s%s", emitted ? " " : "sweep ops: ", info->name);
      prev = ok && !skipped ? k : prev;
      emitted += ok && !skipped;
    }
  }
  printf("\nsweep: %d one-op modules emitted and matched\n", emitted);
  CHECK(emitted > 60);
}

int main(int argc, char **argv) {
  verbose = argc > 1 && strcmp(argv[1], "-v") == 0;
  const char *only = argc > 1 && !verbose ? argv[1] : argc > 2 ? argv[2] : NULL;
  char err[512];
  harness = cgh_open(err, sizeof err);
  if (!harness) {
    fprintf(stderr, "test_codegen: no OpenCL device: %s\n", err);
    CHECK(harness != NULL);
    return check_finish();
  }
  printf("device: %s\n", cgh_device_name(harness));
  int ncases = (int)(sizeof cases / sizeof cases[0]), run = 0;
  for (int i = 0; i < ncases; i++) {
    if (only && strcmp(only, cases[i].name) != 0)
      continue;
    rng_state = 12345u + (uint32_t)i;
    bool skipped = false;
    bool ok = run_module(cases[i].name, cases[i].text, &cases[i], false, &skipped);
    if (!ok)
      fprintf(stderr, "case %s failed\n", cases[i].name);
    CHECK(ok && !skipped);
    run++;
  }
  printf("%d cases\n", run);
  if (!only) {
    refusals();
    sweep();
  }
  cgh_close(harness);
  return check_finish();
}
