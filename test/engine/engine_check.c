/* engine_check.c - end-to-end check of a model through the whole compiler and runtime.
 *
 * usage: engine_check [--shape NAME=DIMS]... [--max-batch M] [--batch B] [--min-size N]
 *                     [--device D] [--portable] [--precision P] [--tol X] [--emit-dir DIR] MODEL
 *
 * The reference: the model as imported, run by the reference interpreter (passes/interp.h) on
 * fixed-seed random inputs (floats in [-1, 1), integers 0). The engine: the same model through
 * kiln-compile's pipeline (default, with segment{min-size=N}), code generation, a bundle written
 * to memory and loaded by libkilnrt on device D (default "cpu": POCL), run at batch B on the same
 * inputs. The engine is tuned for device D as `kiln-compile --device D` tunes it (a CPU gets
 * emit_conv_cpu.c's convs, a GPU the small tiles); --portable builds it as kiln-compile without
 * --device does. Every output must match: floats within relative error X (default 1e-4) of the largest
 * reference magnitude, integers and booleans exactly. Prints one line per output; exit 1 on a
 * mismatch or an error. --emit-dir writes the bundle there (engine.kiln) for a look with
 * kiln-inspect. --precision P runs the precision pass in mode P (kiln-compile --precision): the
 * reference stays the f32 interpreter, so X is then the error that precision may cost. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codegen/bundle_write.h"
#include "codegen/engine.h"
#include "kiln.h"
#include "passes/interp.h"
#include "passes/pass.h"
#include "tools/common.h"

typedef struct Args {
  const char *model, *device, *emit_dir, *precision;
  FeShapeOverride shapes[16];
  int nshapes, max_batch, batch, min_size;
  bool portable;
  double tol;
} Args;

static int die(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("engine_check: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  return 1;
}

/* Gives every elided f32 weight fixed pseudo-random data in [-0.5, 0.5), the same in every load,
 * so that test modules can elide the weights whose values do not matter. */
static void fill_elided(Module *m) {
  for (int i = 0; i < m->nweights; i++) {
    Tensor *t = m->weights[i]->tensor;
    if (t->data || t->type.dtype != DT_F32)
      continue;
    float *f = ir_arena_alloc(m->arena, t->nbytes + 1);
    uint64_t s = 0x9E3779B97F4A7C15ull * (uint64_t)(i + 1);
    for (size_t k = 0; k < t->nbytes / 4; k++) {
      s ^= s << 13, s ^= s >> 7, s ^= s << 17;
      f[k] = (float)((double)(s >> 11) / 9007199254740992.0 - 0.5);
    }
    t->data = f;
  }
}

static Module *load(const Args *a, const char *src, size_t len) {
  Diag d;
  ir_diag_init(&d, a->model, src, len);
  FeOnnxOptions fo = {.shapes = a->shapes, .nshapes = a->nshapes};
  Module *m = tool_load_module(a->model, src, len, &fo, &d);
  if (m)
    fill_elided(m);
  return m;
}

static bool run_pipeline(Module *m, const char *text) {
  Pipeline pl = {0};
  char err[512];
  Diag d;
  ir_diag_init(&d, "engine_check", NULL, 0);
  bool ok = pass_pipeline_parse(text, &pl, err, sizeof err);
  if (!ok)
    die("%s", err);
  PassManagerOptions pm = {.verify_each = true, .dump = stderr, .device_ok = cg_op_supported};
  ok = ok && pass_pipeline_run(&pl, m, &d, &pm);
  pass_pipeline_free(&pl);
  return ok;
}

/* Random inputs for m at batch b, in malloc'd buffers. */
static Tensor *make_inputs(const Module *m, int b) {
  Tensor *in = calloc((size_t)m->ninputs + 1, sizeof *in);
  uint64_t s = 0x2545F4914F6CDD1Dull;
  for (int i = 0; in && i < m->ninputs; i++) {
    Type t = m->inputs[i]->type;
    if (ir_type_is_batched(&t))
      t.dims[0] = b;
    size_t n = (size_t)ir_type_numel(&t), bytes = n * ir_dtype_size(t.dtype);
    in[i] = (Tensor){t, calloc(bytes + 1, 1), bytes};
    for (size_t k = 0; t.dtype == DT_F32 && k < n; k++) {
      s ^= s << 13, s ^= s >> 7, s ^= s << 17;
      ((float *)in[i].data)[k] = (float)((double)(s >> 11) / 4503599627370496.0 - 1.0);
    }
  }
  return in;
}

static double as_double(const Tensor *t, size_t i) {
  switch (t->type.dtype) {
  case DT_F32: return ((const float *)t->data)[i];
  case DT_F16: return ir_f16_to_f32(((const uint16_t *)t->data)[i]);
  case DT_I32: return ((const int32_t *)t->data)[i];
  case DT_I64: return (double)((const int64_t *)t->data)[i];
  case DT_BOOL: case DT_U8: return ((const uint8_t *)t->data)[i];
  case DT_I8: return ((const int8_t *)t->data)[i];
  default: return NAN;
  }
}

/* Compares got[bytes] with the reference tensor; prints the verdict line. */
static bool compare(const char *name, const Tensor *want, const void *got, size_t bytes, double tol) {
  if (bytes != want->nbytes) {
    printf("%s: FAILED: %zu bytes, the reference has %zu\n", name, bytes, want->nbytes);
    return false;
  }
  Tensor g = *want;
  g.data = (void *)got;
  size_t n = want->nbytes / (ir_dtype_size(want->type.dtype) ? ir_dtype_size(want->type.dtype) : 1);
  double maxref = 0, maxdiff = 0;
  size_t at = 0;
  bool exact = !ir_dtype_is_float(want->type.dtype);
  for (size_t i = 0; i < n; i++) {
    double w = as_double(want, i), v = as_double(&g, i);
    if (fabs(w) > maxref)
      maxref = fabs(w);
    double diff = isnan(w) && isnan(v) ? 0 : isnan(w) != isnan(v) ? INFINITY : fabs(w - v);
    if (diff > maxdiff) {
      maxdiff = diff;
      at = i;
    }
  }
  double rel = maxref > 0 ? maxdiff / maxref : maxdiff;
  bool ok = exact ? maxdiff == 0 : rel <= tol;
  printf("%s: %s: %s, max relative error %.3g", name, ok ? "ok" : "FAILED",
         ir_type_str(&want->type), rel);
  if (!ok)
    printf(" (at element %zu: %.9g vs %.9g)", at, as_double(&g, at), as_double(want, at));
  putchar('\n');
  return ok;
}

static int parse_args(int argc, char **argv, Args *a) {
  *a = (Args){.device = "cpu", .max_batch = 1, .batch = 1, .min_size = 3, .tol = 1e-4,
              .precision = "fp32"};
  for (int i = 1; i < argc; i++) {
    const char *f = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (f[0] != '-') {
      a->model = f;
      continue;
    }
    if (!strcmp(f, "--portable")) {
      a->portable = true;
      continue;
    }
    if (!v)
      return die("%s needs a value", f);
    i++;
    if (!strcmp(f, "--shape")) {
      char err[256];
      if (a->nshapes == 16 || !fe_parse_shape_override(v, &a->shapes[a->nshapes++], err, sizeof err))
        return die("--shape %s: bad", v);
    } else if (!strcmp(f, "--max-batch"))
      a->max_batch = atoi(v);
    else if (!strcmp(f, "--batch"))
      a->batch = atoi(v);
    else if (!strcmp(f, "--min-size"))
      a->min_size = atoi(v);
    else if (!strcmp(f, "--device"))
      a->device = v;
    else if (!strcmp(f, "--precision"))
      a->precision = v;
    else if (!strcmp(f, "--tol"))
      a->tol = atof(v);
    else if (!strcmp(f, "--emit-dir"))
      a->emit_dir = v;
    else
      return die("unknown option %s", f);
  }
  return a->model ? -1 : die("no model");
}

int main(int argc, char **argv) {
  Args a;
  int st = parse_args(argc, argv, &a);
  if (st >= 0)
    return st;
  size_t len = 0;
  char *src = tool_read_file(a.model, &len);
  if (!src)
    return die("cannot read %s", a.model);
  Module *ref = load(&a, src, len), *m = load(&a, src, len);
  if (!ref || !m || !run_pipeline(ref, "infer-shapes,canonicalize"))
    return die("cannot load %s", a.model);
  char pipeline[256], err[2048];
  snprintf(pipeline, sizeof pipeline, "infer-shapes,canonicalize,fold-batchnorm,canonicalize,"
           "segment{min-size=%d},precision{mode=%s},fuse,canonicalize", a.min_size, a.precision);
  if (!run_pipeline(m, pipeline))
    return die("the pipeline failed");

  /* The reference outputs. */
  Tensor *in = make_inputs(ref, a.batch);
  const Op *out = ir_module_output(ref);
  Tensor *want = calloc((size_t)out->noperands + 1, sizeof *want);
  if (!pass_interp_module(ref, in, ref->ninputs, want, out->noperands, err, sizeof err))
    return die("reference run: %s", err);

  /* The engine. */
  CgOptions copt = {.max_batch = a.max_batch};
  kiln_device_info dev = {0};
  if (!a.portable) {
    if (kiln_device_query(a.device, &dev) != KILN_OK)
      return die("device %s: %s", a.device, kiln_last_error());
    copt.min_tile = dev.is_gpu ? 16 : 0;
    copt.cpu = !dev.is_gpu;
  }
  CgEngine e;
  if (!cg_build_engine(m, &copt, &e, NULL, NULL, err, sizeof err))
    return die("codegen: %s", err);
  CgBundleWriter w;
  cg_bundle_init(&w);
  uint8_t *bundle = NULL;
  size_t size = 0;
  if (!cg_bundle_add(&w, "meta", "", 0, err, sizeof err) ||
      !cg_bundle_add(&w, "plan", e.plan.data, e.plan.len, err, sizeof err) ||
      !cg_bundle_add(&w, "kernels", e.source.data, e.source.len, err, sizeof err) ||
      !cg_bundle_add(&w, "weights", e.weights, e.mem.weights_bytes, err, sizeof err) ||
      !cg_bundle_write_mem(&w, &bundle, &size, err, sizeof err))
    return die("bundle: %s", err);
  if (a.emit_dir) {
    char path[4096];
    snprintf(path, sizeof path, "%s/engine.kiln", a.emit_dir);
    tool_write_file("engine_check", path, bundle, size);
  }
  kiln_options ko = {.device = a.device, .cache_dir = ""};
  kiln_engine *eng = NULL;
  kiln_context *c = NULL;
  if (kiln_engine_load_memory(bundle, size, &ko, &eng) != KILN_OK ||
      kiln_context_create(eng, &c) != KILN_OK)
    return die("runtime: %s", kiln_last_error());
  int nout = kiln_engine_num_outputs(eng);
  void **got = calloc((size_t)nout + 1, sizeof *got);
  size_t *got_bytes = calloc((size_t)nout + 1, sizeof *got_bytes);
  for (int i = 0; i < kiln_engine_num_inputs(eng); i++) {
    kiln_binding b;
    kiln_engine_input(eng, i, &b);
    if (kiln_context_set_input(c, b.name, in[i].data, in[i].nbytes) != KILN_OK)
      return die("input %s: %s", b.name, kiln_last_error());
  }
  for (int i = 0; i < nout; i++) {
    kiln_binding b;
    kiln_engine_output(eng, i, &b);
    got_bytes[i] = b.bytes * (size_t)(b.batched ? a.batch : 1);
    got[i] = calloc(got_bytes[i] + 1, 1);
    if (kiln_context_set_output(c, b.name, got[i], got_bytes[i]) != KILN_OK)
      return die("output %s: %s", b.name, kiln_last_error());
  }
  if (kiln_context_run(c, a.batch) != KILN_OK)
    return die("run: %s", kiln_last_error());
  bool ok = nout == out->noperands;
  for (int i = 0; i < nout && i < out->noperands; i++) {
    kiln_binding b;
    kiln_engine_output(eng, i, &b);
    ok = compare(b.name, &want[i], got[i], got_bytes[i], a.tol) && ok;
    free(got[i]);
  }
  printf("%s: %s (%d kernels, device %s)\n", a.model, ok ? "ok" : "FAILED", e.nkernels,
         kiln_engine_device_name(eng));
  kiln_context_free(c);
  kiln_engine_free(eng);
  free(got);
  free(got_bytes);
  free(bundle);
  cg_engine_free(&e);
  for (int i = 0; i < ref->ninputs; i++)
    free(in[i].data);
  free(in);
  free(want);
  ir_module_free(ref);
  ir_module_free(m);
  free(src);
  for (int i = 0; i < a.nshapes; i++)
    free((char *)a.shapes[i].name);
  return ok ? 0 : 1;
}
