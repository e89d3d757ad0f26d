/* kiln-compile - compiles an ONNX model or textual IR into an engine bundle (.kiln), as
 * trtexec --saveEngine or iree-compile do: import, the default pipeline, code generation, the
 * memory plan, and one bundle file written whole or not at all. With --emit=shared, the same
 * bundle is linked with the static runtime into a shared library plus its header instead
 * (emit_shared.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "codegen/bundle_write.h"
#include "codegen/engine.h"
#include "kiln.h"
#include "passes/pass.h"
#include "tools/common.h"
#include "tools/emit_shared.h"

static const char usage[] =
    "usage: kiln-compile MODEL -o ENGINE [--emit=bundle|shared] [options]\n"
    "\n"
    "Compiles MODEL (.onnx, or kiln's textual IR .kir) into an engine bundle that libkilnrt and\n"
    "kiln-run load.\n"
    "\n"
    "options:\n"
    "  -o FILE                  the engine to write (required)\n"
    "  --emit=KIND              bundle: an engine bundle for libkilnrt (default); shared: a\n"
    "                           shared library holding the engine and the runtime, plus a\n"
    "                           header beside it (-o model.so writes model.h; prefix model_)\n"
    "  --shape NAME=DIMS        ONNX only: fix input NAME's shape, e.g. images=Nx3x640x640\n"
    "                           (a leading N is the batch; repeatable)\n"
    "  --max-batch N            the largest batch the engine runs (default 1)\n"
    "  --min-segment-size N     device segments with fewer ops run on the host (default 3)\n"
    "  --precision P            fp32 (default) or fp16: half storage of activations and\n"
    "                           weights on the device, float arithmetic; exp, pow, softmax,\n"
    "                           normalizations and long sums stay fp32 (--remarks=precision)\n"
    "  --layer-precision LIST   per-layer overrides of --precision: 'GLOB=fp32,GLOB=fp16',\n"
    "                           globs on ONNX node names, the first match wins\n"
    "  --split-k[=WAYS]         split long-reduction convs with small outputs into WAYS partial\n"
    "                           convs and a sum (8 when WAYS is not given; 0: never); more\n"
    "                           parallelism on a GPU, the default when --device is a GPU\n"
    "  --device D               tune for device D and embed its program binary (cpu, gpu, an\n"
    "                           index or a device name substring): a GPU gets split-k and small\n"
    "                           tiles, a CPU convs vectorized along the channels; without it the\n"
    "                           engine is tuned for any device and compiled where it is loaded\n"
    "  --dump-ir DIR            write the IR after each pass to DIR/NN-PASS.kir\n"
    "  --remarks[=PASS]         print why passes left things alone\n"
    "  -v, --verbose            a progress line per stage and per kernel\n"
    "  --version, --help\n";

typedef struct Options {
  const char *input, *output, *device, *dump_dir, *remark_pass, *precision;
  char *layers; /* --layer-precision with ';' for ',' (the pass option's separator) */
  bool remarks, verbose, shared; /* shared: --emit=shared */
  int max_batch, min_segment, split_k;
  FeShapeOverride shapes[64];
  int nshapes;
  Buf flags; /* the options that shape the engine, for its provenance */
} Options;

/* A positive int option value; -1 on a bad one. */
static int positive(const char *s) {
  char *end;
  errno = 0;
  long v = strtol(s, &end, 10);
  return *s && !*end && !errno && v >= 1 && v <= 1 << 20 ? (int)v : -1;
}

static int parse_args(int argc, char **argv, Options *o) {
  *o = (Options){.max_batch = 1, .min_segment = 3, .split_k = -1, .precision = "fp32"};
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v;
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      fputs(usage, stdout);
      return 0;
    } else if (!strcmp(a, "--version")) {
      printf("kiln-compile %s\n", kiln_version());
      return 0;
    } else if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) {
      o->verbose = true;
    } else if (!strcmp(a, "-o")) {
      if (!(o->output = i + 1 < argc ? argv[++i] : NULL))
        return tool_error("option '-o' needs a value");
    } else if (tool_is_flag(a, "--max-batch") || tool_is_flag(a, "--min-segment-size")) {
      bool mb = tool_is_flag(a, "--max-batch");
      const char *name = mb ? "--max-batch" : "--min-segment-size";
      if (!(v = tool_flag_value(argc, argv, &i, name)))
        return tool_error("option '%s' needs a value", name);
      int n = positive(v);
      if (n < 0)
        return tool_error("%s: '%s' is not a positive integer", name, v);
      *(mb ? &o->max_batch : &o->min_segment) = n;
      ir_buf_printf(&o->flags, " %s=%d", name, n);
    } else if (tool_is_flag(a, "--emit")) {
      if (!(v = tool_flag_value(argc, argv, &i, "--emit")))
        return tool_error("option '--emit' needs a value");
      if (strcmp(v, "bundle") && strcmp(v, "shared"))
        return tool_error("--emit: '%s' is not 'bundle' or 'shared'", v);
      o->shared = !strcmp(v, "shared"); /* not a flag of the engine: the bundle is the same */
    } else if (tool_is_flag(a, "--split-k")) {
      o->split_k = a[9] != '=' ? 8 : !strcmp(a + 10, "0") ? 0 : positive(a + 10);
      if (o->split_k != 0 && (o->split_k < 2 || o->split_k > 64))
        return tool_error("--split-k: '%s' is not 0 or a number of ways from 2 to 64", a + 10);
      ir_buf_printf(&o->flags, " --split-k=%d", o->split_k);
    } else if (tool_is_flag(a, "--device")) {
      if (!(o->device = tool_flag_value(argc, argv, &i, "--device")))
        return tool_error("option '--device' needs a value");
    } else if (tool_is_flag(a, "--precision")) {
      if (!(v = tool_flag_value(argc, argv, &i, "--precision")))
        return tool_error("option '--precision' needs a value");
      if (strcmp(v, "fp32") && strcmp(v, "fp16"))
        return tool_error("--precision: '%s' is not fp32 or fp16%s", v,
                          strcmp(v, "int8") && strcmp(v, "best")
                              ? "" : " (int8 and best are not implemented yet)");
      o->precision = v;
      ir_buf_printf(&o->flags, " --precision=%s", v);
    } else if (tool_is_flag(a, "--layer-precision")) {
      if (!(v = tool_flag_value(argc, argv, &i, "--layer-precision")))
        return tool_error("option '--layer-precision' needs a value");
      free(o->layers);
      if (!(o->layers = strdup(v)))
        abort();
      for (char *c = o->layers; *c; c++)
        if (*c == ',')
          *c = ';';
      ir_buf_printf(&o->flags, " --layer-precision=%s", v);
    } else if (tool_is_flag(a, "--dump-ir")) {
      if (!(o->dump_dir = tool_flag_value(argc, argv, &i, "--dump-ir")))
        return tool_error("option '--dump-ir' needs a value");
    } else if (tool_is_flag(a, "--remarks")) {
      o->remarks = true;
      o->remark_pass = a[9] == '=' ? a + 10 : NULL;
    } else if (tool_is_flag(a, "--shape")) {
      if (!(v = tool_flag_value(argc, argv, &i, "--shape")))
        return tool_error("option '--shape' needs a value");
      if (o->nshapes == 64)
        return tool_error("too many --shape options");
      char msg[256];
      if (!fe_parse_shape_override(v, &o->shapes[o->nshapes], msg, sizeof msg))
        return tool_error("--shape %s: %s", v, msg);
      o->nshapes++;
      ir_buf_printf(&o->flags, " --shape=%s", v);
    } else if (a[0] == '-' && a[1]) {
      return tool_error("unknown option '%s'; see kiln-compile --help", a);
    } else if (o->input) {
      return tool_error("more than one input file");
    } else {
      o->input = a;
    }
  }
  if (!o->input)
    return tool_error("no input model; see kiln-compile --help");
  if (!o->output)
    return tool_error("no output engine: give -o FILE");
  if (o->nshapes && !tool_is_onnx(o->input))
    return tool_error("--shape applies to ONNX models (FILE.onnx) only");
  if (o->remark_pass && !pass_lookup(o->remark_pass))
    return tool_error("--remarks: unknown pass '%s'; see kiln-opt --list-passes", o->remark_pass);
  if (o->dump_dir) {
    struct stat st;
    if (stat(o->dump_dir, &st) != 0 || !S_ISDIR(st.st_mode))
      return tool_error("--dump-ir: '%s' is not a directory", o->dump_dir);
  }
  return -1;
}

/* ---- the pipeline ---- */

typedef struct Dump {
  const Options *o;
  bool ok;
} Dump;

static bool after_pass(void *ctx, const PassInfo *pass, int step, Module *m) {
  Dump *dp = ctx;
  if (dp->o->verbose)
    fprintf(stderr, "kiln-compile: pass %d: %s\n", step, pass->name);
  if (!dp->o->dump_dir)
    return true;
  char path[4096];
  snprintf(path, sizeof path, "%s/%02d-%s.kir", dp->o->dump_dir, step, pass->name);
  Buf b = {0};
  PrintOptions popt = {.elide_constants = true};
  ir_print_module(m, &b, &popt);
  dp->ok = tool_write_file("kiln-compile", path, ir_buf_str(&b), b.len);
  ir_buf_free(&b);
  return dp->ok;
}

/* Sets option `name` of every step of pass `pass` to the text value. */
static void set_option(Pipeline *pl, const char *pass, const char *name, const char *value) {
  for (int i = 0; i < pl->nsteps; i++)
    if (!strcmp(pl->steps[i].pass->name, pass))
      for (int k = 0; k < pl->steps[i].pass->noptions; k++)
        if (!strcmp(pl->steps[i].pass->options[k].name, name)) {
          char *text = strdup(value);
          if (!text)
            abort();
          free((char *)pl->steps[i].values[k]);
          pl->steps[i].values[k] = text;
        }
}

/* The default pipeline with segment's min-size and precision's mode set, and split-k before
 * segment if asked. */
static bool make_pipeline(const Options *o, Pipeline *pl) {
  char err[512], text[256];
  snprintf(text, sizeof text, "%s", "default");
  if (o->split_k > 0)
    snprintf(text, sizeof text, "infer-shapes,canonicalize,fold-batchnorm,split-k{ways=%d},"
             "segment,precision,fuse,canonicalize", o->split_k);
  if (!pass_pipeline_parse(text, pl, err, sizeof err))
    return tool_error("%s", err) == 0;
  char n[16];
  snprintf(n, sizeof n, "%d", o->min_segment);
  set_option(pl, "segment", "min-size", n);
  set_option(pl, "precision", "mode", o->precision);
  if (o->layers)
    set_option(pl, "precision", "layers", o->layers);
  return true;
}

static bool has_batch(const Module *m) {
  for (int i = 0; i < m->ninputs; i++)
    if (ir_type_is_batched(&m->inputs[i]->type))
      return true;
  return false;
}

static void progress(void *ctx, int index, int count, const CgKernel *k) {
  (void)ctx;
  fprintf(stderr, "kiln-compile: kernel %d/%d: %s\n", index + 1, count, k->name);
}

/* The file name without its directories: a bundle must not depend on where the model was. */
static const char *base_name(const char *path) {
  const char *slash = strrchr(path, '/');
  return slash ? slash + 1 : path;
}

/* The engine's program binary for device d, built through libkilnrt as kiln-run would load it:
 * a binary.N section, so that loading on that device skips the OpenCL compiler. */
static bool device_binary(const CgEngine *e, const char *device, void **bin, size_t *size) {
  kiln_sections s = {.plan = {e->plan.data, e->plan.len},
                     .kernels = {e->source.data, e->source.len},
                     .weights = {e->weights, e->mem.weights_bytes}};
  kiln_options opts = {.device = device, .cache_dir = ""};
  kiln_engine *eng = NULL;
  kiln_status st = kiln_engine_load_sections(&s, &opts, &eng);
  if (st == KILN_OK)
    st = kiln_engine_program_binary(eng, bin, size);
  if (st != KILN_OK)
    tool_error("--device %s: %s", device, kiln_last_error());
  kiln_engine_free(eng);
  return st == KILN_OK;
}

static bool write_bundle(const Options *o, const Buf *meta, const Buf *ir, const CgEngine *e) {
  CgBundleWriter w;
  cg_bundle_init(&w);
  char err[1024];
  void *bin = NULL;
  size_t bin_size = 0;
  bool ok = cg_bundle_add(&w, "meta", meta->data, meta->len, err, sizeof err) &&
            cg_bundle_add(&w, "ir", ir->data, ir->len, err, sizeof err) &&
            cg_bundle_add(&w, "plan", e->plan.data, e->plan.len, err, sizeof err) &&
            cg_bundle_add(&w, "kernels", e->source.data, e->source.len, err, sizeof err) &&
            cg_bundle_add(&w, "weights", e->weights, e->mem.weights_bytes, err, sizeof err);
  if (ok && o->device) {
    if (!device_binary(e, o->device, &bin, &bin_size))
      return false;
    ok = cg_bundle_add(&w, "binary.0", bin, bin_size, err, sizeof err);
  }
  if (ok && o->shared) {
    uint8_t *bytes = NULL;
    size_t size = 0;
    if (!cg_bundle_write_mem(&w, &bytes, &size, err, sizeof err)) {
      kiln_free(bin);
      return tool_error("%s", err) == 0;
    }
    ToolSharedInput in = {.output = o->output, .bundle = bytes, .bundle_size = size,
                          .plan = e->plan.data, .plan_len = e->plan.len,
                          .model = base_name(o->input), .verbose = o->verbose};
    bool done = tool_emit_shared(&in);
    free(bytes);
    kiln_free(bin);
    return done;
  }
  ok = ok && cg_bundle_write_file(&w, o->output, err, sizeof err);
  kiln_free(bin);
  if (!ok)
    tool_error("%s", err);
  return ok;
}

static const char *mib(uint64_t bytes, char *buf, size_t n) {
  snprintf(buf, n, "%.2f MiB", (double)bytes / (1024.0 * 1024.0));
  return buf;
}

int main(int argc, char **argv) {
  tool_name = "kiln-compile";
  Options o;
  int status = parse_args(argc, argv, &o);
  if (status >= 0)
    goto done_options;
  status = 1;
  double t0 = tool_now();
  size_t len = 0;
  char *src = tool_read_file(o.input, &len);
  if (!src) {
    tool_error("cannot read '%s': %s", o.input, strerror(errno));
    goto done_options;
  }
  Diag d;
  ir_diag_init(&d, o.input, src, len);
  d.remarks = o.remarks;
  d.remark_pass = o.remark_pass;
  FeOnnxOptions fo = {.shapes = o.shapes, .nshapes = o.nshapes};
  Module *m = tool_load_module(o.input, src, len, &fo, &d);
  if (!m)
    goto done_src;
  if (o.verbose)
    fprintf(stderr, "kiln-compile: imported %s in %.2f s\n", o.input, tool_now() - t0);
  if (o.max_batch > 1 && !has_batch(m)) {
    tool_error("--max-batch %d: no input has the batch dimension N (fix one with --shape "
         "NAME=Nx...)", o.max_batch);
    goto done_module;
  }
  /* Tuning for the target: a GPU gets split-k (unless set) and the smallest conv tiles, a CPU
   * the conv kernel of emit_conv_cpu.c. */
  kiln_device_info dev = {0};
  if (o.device && kiln_device_query(o.device, &dev) != KILN_OK) {
    tool_error("--device %s: %s", o.device, kiln_last_error());
    goto done_module;
  }
  if (o.split_k < 0)
    o.split_k = dev.is_gpu ? 8 : 0;
  if (o.verbose && o.device)
    fprintf(stderr, "kiln-compile: tuning for %s (%s)\n", dev.name, dev.is_gpu ? "GPU" : "CPU");
  Pipeline pl = {0};
  if (!make_pipeline(&o, &pl))
    goto done_module;
  Dump dump = {&o, true};
  PassManagerOptions pm = {.verify_each = true, .dump = stderr, .after_pass = after_pass,
                           .after_pass_ctx = &dump, .device_ok = cg_op_supported};
  bool ok = pass_pipeline_run(&pl, m, &d, &pm);
  pass_pipeline_free(&pl);
  if (!ok)
    goto done_module;

  CgOptions copt = {.max_batch = o.max_batch, .min_tile = dev.is_gpu ? 16 : 0,
                    .cpu = o.device && !dev.is_gpu};
  CgEngine e;
  char err[1024];
  double t1 = tool_now();
  if (!cg_build_engine(m, &copt, &e, o.verbose ? progress : NULL, NULL, err, sizeof err)) {
    tool_error("%s", err);
    goto done_module;
  }
  if (o.verbose)
    fprintf(stderr, "kiln-compile: code generation in %.2f s\n", tool_now() - t1);

  /* Provenance: the same model and flags give the same bytes. */
  Buf meta = {0}, ir = {0};
  ir_buf_printf(&meta, "kiln-version = %s\nmodel = %s\nmodel-sha = %016llx\nflags =%s\n"
                "max-batch = %d\ndevice = %s\n", kiln_version(), base_name(o.input),
                (unsigned long long)XXH3_64bits(src, len), o.flags.len ? o.flags.data : "",
                o.max_batch, o.device ? o.device : "any");
  PrintOptions popt = {.elide_constants = true};
  ir_print_module(m, &ir, &popt);
  if (write_bundle(&o, &meta, &ir, &e)) {
    int host = 0;
    for (int s = 0; s < e.mem.nsteps; s++)
      host += e.mem.steps[s].kind == CG_STEP_HOST;
    char a[32], b[32], c[32];
    fprintf(stderr, "kiln-compile: wrote %s: %d kernels, %d host steps; weights %s, "
            "activations %s (%s without reuse); %.2f s\n", o.output, e.nkernels, host,
            mib(e.mem.weights_bytes, a, sizeof a), mib(e.mem.act_bytes, b, sizeof b),
            mib(e.mem.naive_bytes, c, sizeof c), tool_now() - t0);
    status = 0;
  }
  ir_buf_free(&meta);
  ir_buf_free(&ir);
  cg_engine_free(&e);
done_module:
  ir_module_free(m);
done_src:
  free(src);
done_options:
  for (int i = 0; i < o.nshapes; i++)
    free((char *)o.shapes[i].name);
  ir_buf_free(&o.flags);
  free(o.layers);
  return status;
}
