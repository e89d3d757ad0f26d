/* kiln-run - runs an engine bundle: on given inputs (ONNX TensorProto .pb or .npy) or random ones,
 * writing outputs as the ONNX test data does, and benchmarking it like trtexec: latency
 * percentiles, throughput, a per-step profile and a Chrome trace. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "kiln.h"
#include "tools/common.h"
#include "tools/npy.h"

static const char usage[] =
    "usage: kiln-run ENGINE [options]\n"
    "\n"
    "Runs ENGINE (written by kiln-compile) and reports its latency.\n"
    "\n"
    "options:\n"
    "  --input NAME=FILE     the input NAME from FILE: .npy, else a serialized ONNX TensorProto\n"
    "                        (repeatable; inputs not given are random, with a fixed seed)\n"
    "  --inputs-dir DIR      every input i from DIR/input_<i>.pb, as in the ONNX test data\n"
    "  --output-dir DIR      write output i to DIR/output_<i>.pb, in the model's output order\n"
    "  --batch N             the batch to run (default: the inputs' batch, else 1)\n"
    "  --iterations N        timed runs (default 10)\n"
    "  --warmup N            untimed runs first (default 2)\n"
    "  --device D            cpu, gpu, an index or a device name substring (default:\n"
    "                        $KILN_DEVICE, else the first GPU, else the CPU)\n"
    "  --profile             a per-step table: median device time of each kernel and host step\n"
    "  --trace FILE          the last run's steps as Chrome trace JSON (Perfetto opens it)\n"
    "  --json                the results as one JSON object on stdout\n"
    "  --version, --help\n";

typedef struct Given {
  const char *name, *path;
} Given;

typedef struct Options {
  const char *engine, *inputs_dir, *output_dir, *device, *trace;
  Given given[64];
  int ngiven;
  int batch, iterations, warmup;
  bool profile, json;
} Options;

static int count(const char *s, int lo) {
  char *end;
  errno = 0;
  long v = strtol(s, &end, 10);
  return *s && !*end && !errno && v >= lo && v <= 1 << 24 ? (int)v : -1;
}

static bool is_dir(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int parse_args(int argc, char **argv, Options *o) {
  *o = (Options){.iterations = 10, .warmup = 2};
  static const char *const valued[] = {"--input", "--inputs-dir", "--output-dir", "--batch",
                                       "--iterations", "--warmup", "--device", "--trace"};
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v = NULL;
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      fputs(usage, stdout);
      return 0;
    }
    if (!strcmp(a, "--version")) {
      printf("kiln-run %s\n", kiln_version());
      return 0;
    }
    if (!strcmp(a, "--profile") || !strcmp(a, "--json")) {
      *(a[2] == 'p' ? &o->profile : &o->json) = true;
      continue;
    }
    const char *flag = NULL;
    for (size_t k = 0; k < sizeof valued / sizeof valued[0] && !flag; k++)
      if (tool_is_flag(a, valued[k]))
        flag = valued[k];
    if (!flag) {
      if (a[0] == '-' && a[1])
        return tool_error("unknown option '%s'; see kiln-run --help", a);
      if (o->engine)
        return tool_error("more than one engine");
      o->engine = a;
      continue;
    }
    if (!(v = tool_flag_value(argc, argv, &i, flag)))
      return tool_error("option '%s' needs a value", flag);
    if (!strcmp(flag, "--input")) {
      const char *eq = strchr(v, '=');
      if (!eq || eq == v || !eq[1])
        return tool_error("--input %s: expected NAME=FILE", v);
      if (o->ngiven == 64)
        return tool_error("too many --input options");
      o->given[o->ngiven++] = (Given){strndup(v, (size_t)(eq - v)), eq + 1};
    } else if (!strcmp(flag, "--batch") || !strcmp(flag, "--iterations") ||
               !strcmp(flag, "--warmup")) {
      int n = count(v, !strcmp(flag, "--warmup") ? 0 : 1);
      if (n < 0)
        return tool_error("%s: '%s' is not a valid count", flag, v);
      *(!strcmp(flag, "--batch") ? &o->batch : flag[2] == 'i' ? &o->iterations : &o->warmup) = n;
    } else if (!strcmp(flag, "--inputs-dir") || !strcmp(flag, "--output-dir")) {
      if (!is_dir(v))
        return tool_error("%s: '%s' is not a directory", flag, v);
      *(flag[2] == 'i' ? &o->inputs_dir : &o->output_dir) = v;
    } else {
      *(!strcmp(flag, "--device") ? &o->device : &o->trace) = v;
    }
  }
  if (!o->engine)
    return tool_error("no engine; see kiln-run --help");
  if (o->inputs_dir && o->ngiven)
    return tool_error("--inputs-dir and --input exclude each other");
  return -1;
}

/* ---- inputs ---- */

typedef struct Bound {
  kiln_binding b;
  void *data;
  size_t bytes;
} Bound;

/* Reads a .npy or .pb file into t (data malloc'd). */
static bool read_tensor(const char *path, Tensor *t) {
  char err[512];
  size_t n = strlen(path);
  if (n > 4 && !strcmp(path + n - 4, ".npy")) {
    if (npy_read_file(path, t, err, sizeof err))
      return true;
    return tool_error("%s: %s", path, err) == 0;
  }
  Module *scratch = ir_module_new(NULL);
  Diag d;
  ir_diag_init(&d, path, NULL, 0);
  const char *name;
  Tensor in;
  bool ok = fe_onnx_read_tensor_file(path, scratch, &in, &name, &d);
  if (ok) {
    *t = in;
    t->data = malloc(in.nbytes ? in.nbytes : 1);
    if (!t->data)
      abort();
    memcpy(t->data, in.data, in.nbytes);
  }
  ir_module_free(scratch);
  return ok;
}

/* The batch a tensor of type t gives binding b, or -1 when t does not fit b. */
static int batch_of(const kiln_binding *b, const Type *t) {
  if ((int)t->dtype != (int)b->dtype || t->rank != b->rank)
    return -1;
  for (int i = b->batched ? 1 : 0; i < b->rank; i++)
    if (t->dims[i] != b->dims[i])
      return -1;
  return b->batched ? (int)t->dims[0] : 1;
}

/* "[N,3,224,224]" */
static void shape_text(const kiln_binding *b, char *buf, size_t n) {
  Buf t = {0};
  ir_buf_putc(&t, '[');
  for (int i = 0; i < b->rank; i++)
    if (b->batched && i == 0)
      ir_buf_puts(&t, "N");
    else
      ir_buf_printf(&t, "%s%lld", i ? "," : "", (long long)b->dims[i]);
  ir_buf_putc(&t, ']');
  snprintf(buf, n, "%s", ir_buf_str(&t));
  ir_buf_free(&t);
}

/* Deterministic pseudo-random values: floats in [-1, 1), integers 0, bools false. */
static void fill_random(const kiln_binding *b, void *data, size_t bytes) {
  memset(data, 0, bytes);
  if (b->dtype != KILN_DTYPE_F32)
    return;
  uint64_t s = 0x9E3779B97F4A7C15ull;
  float *f = data;
  for (size_t i = 0; i < bytes / 4; i++) {
    s ^= s << 13, s ^= s >> 7, s ^= s << 17;
    f[i] = (float)((double)(s >> 11) / 4503599627370496.0 - 1.0);
  }
}

static bool load_inputs(const Options *o, const kiln_engine *e, Bound *in, int n, int *batch) {
  Tensor *files = calloc((size_t)n + 1, sizeof *files);
  if (!files)
    abort();
  bool ok = true;
  for (int g = 0; ok && g < o->ngiven; g++) {
    int k = -1;
    for (int i = 0; i < n; i++)
      if (!strcmp(in[i].b.name, o->given[g].name))
        k = i;
    if (k < 0)
      ok = tool_error("--input %s: the engine has no input '%s'", o->given[g].name, o->given[g].name) == 0;
    else if (files[k].data)
      ok = tool_error("--input %s given twice", o->given[g].name) == 0;
    else
      ok = read_tensor(o->given[g].path, &files[k]);
  }
  for (int i = 0; ok && o->inputs_dir && i < n; i++) {
    char path[4096];
    snprintf(path, sizeof path, "%s/input_%d.pb", o->inputs_dir, i);
    ok = read_tensor(path, &files[i]);
  }
  /* The batch: --batch, else the files', else 1; every file must agree. */
  int b = o->batch;
  for (int i = 0; ok && i < n; i++) {
    if (!files[i].data)
      continue;
    int fb = batch_of(&in[i].b, &files[i].type);
    char want[128];
    shape_text(&in[i].b, want, sizeof want);
    if (fb < 1 || fb > kiln_engine_max_batch(e))
      ok = tool_error("input '%s': the file holds %s, the engine takes %s %s (batch 1..%d)",
                in[i].b.name, ir_type_str(&files[i].type), ir_dtype_name((DType)in[i].b.dtype),
                want, kiln_engine_max_batch(e)) == 0;
    else if (b && in[i].b.batched && fb != b)
      ok = tool_error("input '%s' has batch %d, not %d", in[i].b.name, fb, b) == 0;
    else if (in[i].b.batched)
      b = fb;
  }
  *batch = b ? b : 1;
  if (ok && *batch > kiln_engine_max_batch(e))
    ok = tool_error("--batch %d: the engine's max batch is %d", *batch, kiln_engine_max_batch(e)) == 0;
  for (int i = 0; ok && i < n; i++) {
    in[i].bytes = in[i].b.bytes * (size_t)(in[i].b.batched ? *batch : 1);
    bool from_file = files[i].data != NULL;
    in[i].data = from_file ? files[i].data : malloc(in[i].bytes ? in[i].bytes : 1);
    files[i].data = NULL;
    if (!in[i].data)
      abort();
    if (!from_file)
      fill_random(&in[i].b, in[i].data, in[i].bytes);
  }
  for (int i = 0; i < n; i++)
    free(files[i].data);
  free(files);
  return ok;
}

/* ---- outputs, statistics, reports ---- */

static bool write_outputs(const Options *o, const Bound *out, int n, int batch) {
  for (int i = 0; i < n; i++) {
    Type t = ir_type_make((DType)out[i].b.dtype, out[i].b.rank, out[i].b.dims);
    if (out[i].b.batched)
      t.dims[0] = batch;
    char path[4096], err[512];
    snprintf(path, sizeof path, "%s/output_%d.pb", o->output_dir, i);
    if (!fe_onnx_write_tensor_file(path, out[i].b.name, &t, out[i].data, err, sizeof err))
      return tool_error("%s", err) == 0;
  }
  return true;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* The q-quantile of sorted v[n] (nearest rank). */
static double quantile(const double *v, int n, double q) {
  int k = (int)ceil(q * n) - 1;
  return v[k < 0 ? 0 : k >= n ? n - 1 : k];
}

typedef struct StepStats {
  const char *name;
  kiln_step_kind kind;
  double *ns; /* per iteration */
} StepStats;

static void print_profile(const StepStats *st, int nsteps, int iters) {
  double total = 0, *med = calloc((size_t)nsteps + 1, sizeof *med);
  if (!med)
    abort();
  for (int s = 0; s < nsteps; s++) {
    qsort(st[s].ns, (size_t)iters, sizeof(double), cmp_double);
    med[s] = quantile(st[s].ns, iters, 0.5);
    total += med[s];
  }
  fprintf(stderr, "%-4s %-40s %-6s %12s %7s\n", "step", "name", "kind", "median us", "share");
  for (int s = 0; s < nsteps; s++)
    fprintf(stderr, "%-4d %-40s %-6s %12.1f %6.1f%%\n", s, st[s].name,
            st[s].kind == KILN_STEP_KERNEL ? "kernel" : "host", med[s] / 1e3,
            total > 0 ? 100.0 * med[s] / total : 0.0);
  fprintf(stderr, "%-4s %-40s %-6s %12.1f\n", "", "total", "", total / 1e3);
  free(med);
}

/* The last run's steps laid end to end as complete events ("ph":"X", microseconds). */
static bool write_trace(const char *path, const kiln_step_profile *p, int n) {
  Buf b = {0};
  ir_buf_puts(&b, "{\"traceEvents\":[\n");
  double t = 0;
  for (int i = 0; i < n; i++) {
    ir_buf_printf(&b, "%s{\"name\":\"%s\",\"cat\":\"%s\",\"ph\":\"X\",\"ts\":%.3f,"
                  "\"dur\":%.3f,\"pid\":1,\"tid\":1}", i ? ",\n" : "", p[i].name,
                  p[i].kind == KILN_STEP_KERNEL ? "kernel" : "host", t, (double)p[i].ns / 1e3);
    t += (double)p[i].ns / 1e3;
  }
  ir_buf_puts(&b, "\n],\"displayTimeUnit\":\"ms\"}\n");
  bool ok = tool_write_file("kiln-run", path, b.data, b.len);
  ir_buf_free(&b);
  return ok;
}

int main(int argc, char **argv) {
  tool_name = "kiln-run";
  Options o;
  int status = parse_args(argc, argv, &o);
  if (status >= 0)
    goto done_options;
  status = 1;
  kiln_options kopt = {.device = o.device};
  kiln_engine *e = NULL;
  kiln_context *c = NULL;
  if (kiln_engine_load_file(o.engine, &kopt, &e) != KILN_OK) {
    tool_error("%s", kiln_last_error());
    goto done_options;
  }
  if (kiln_context_create(e, &c) != KILN_OK) {
    tool_error("%s", kiln_last_error());
    goto done_engine;
  }
  int nin = kiln_engine_num_inputs(e), nout = kiln_engine_num_outputs(e), batch = 1;
  Bound *in = calloc((size_t)nin + 1, sizeof *in), *out = calloc((size_t)nout + 1, sizeof *out);
  double *lat = calloc((size_t)o.iterations, sizeof *lat);
  if (!in || !out || !lat)
    abort();
  for (int i = 0; i < nin; i++)
    kiln_engine_input(e, i, &in[i].b);
  for (int i = 0; i < nout; i++)
    kiln_engine_output(e, i, &out[i].b);
  if (!load_inputs(&o, e, in, nin, &batch))
    goto done_buffers;
  bool ok = true;
  for (int i = 0; ok && i < nin; i++)
    ok = kiln_context_set_input(c, in[i].b.name, in[i].data, in[i].bytes) == KILN_OK;
  for (int i = 0; ok && i < nout; i++) {
    out[i].bytes = out[i].b.bytes * (size_t)(out[i].b.batched ? batch : 1);
    out[i].data = malloc(out[i].bytes ? out[i].bytes : 1);
    if (!out[i].data)
      abort();
    ok = kiln_context_set_output(c, out[i].b.name, out[i].data, out[i].bytes) == KILN_OK;
  }
  for (int i = 0; ok && i < o.warmup; i++)
    ok = kiln_context_run(c, batch) == KILN_OK;
  StepStats *st = NULL;
  int nsteps = 0;
  for (int i = 0; ok && i < o.iterations; i++) {
    double t0 = tool_now();
    ok = kiln_context_run(c, batch) == KILN_OK;
    lat[i] = (tool_now() - t0) * 1e3;
    const kiln_step_profile *p;
    if (ok && o.profile && kiln_context_profile(c, &p, &nsteps) == KILN_OK) {
      if (!st) {
        st = calloc((size_t)nsteps + 1, sizeof *st);
        for (int s = 0; st && s < nsteps; s++)
          st[s] = (StepStats){p[s].name, p[s].kind, calloc((size_t)o.iterations, sizeof(double))};
      }
      for (int s = 0; st && s < nsteps; s++)
        st[s].ns[i] = (double)p[s].ns;
    }
  }
  if (!ok) {
    tool_error("%s", kiln_last_error());
    goto done_stats;
  }
  if (o.output_dir && !write_outputs(&o, out, nout, batch))
    goto done_stats;
  const kiln_step_profile *last;
  int nlast;
  if (o.trace && (kiln_context_profile(c, &last, &nlast) != KILN_OK || !write_trace(o.trace, last, nlast)))
    goto done_stats;
  double mean = 0;
  for (int i = 0; i < o.iterations; i++)
    mean += lat[i] / o.iterations;
  qsort(lat, (size_t)o.iterations, sizeof *lat, cmp_double);
  double p50 = quantile(lat, o.iterations, 0.5), p90 = quantile(lat, o.iterations, 0.9),
         p99 = quantile(lat, o.iterations, 0.99), thr = mean > 0 ? batch * 1e3 / mean : 0;
  if (o.json) {
    Buf j = {0};
    ir_buf_puts(&j, "{\"engine\":");
    tool_json_str(&j, o.engine, strlen(o.engine));
    ir_buf_puts(&j, ",\"device\":");
    tool_json_str(&j, kiln_engine_device_name(e), strlen(kiln_engine_device_name(e)));
    ir_buf_printf(&j, ",\"program\":\"%s\",\"batch\":%d,\"iterations\":%d,"
                  "\"latency_ms\":{\"p50\":%.4f,\"p90\":%.4f,\"p99\":%.4f,\"mean\":%.4f},"
                  "\"throughput_per_s\":%.2f}\n", kiln_engine_program_origin(e), batch,
                  o.iterations, p50, p90, p99, mean, thr);
    fputs(ir_buf_str(&j), stdout);
    ir_buf_free(&j);
  }
  else
    printf("kiln-run: %s on %s, batch %d, %d iterations: latency p50 %.3f ms, p90 %.3f ms, "
           "p99 %.3f ms; throughput %.1f/s\n", o.engine, kiln_engine_device_name(e), batch,
           o.iterations, p50, p90, p99, thr);
  if (o.profile && st)
    print_profile(st, nsteps, o.iterations);
  status = 0;
done_stats:
  for (int s = 0; st && s < nsteps; s++)
    free(st[s].ns);
  free(st);
done_buffers:
  for (int i = 0; i < nin; i++)
    free(in[i].data);
  for (int i = 0; i < nout; i++)
    free(out[i].data);
  free(in);
  free(out);
  free(lat);
  kiln_context_free(c);
done_engine:
  kiln_engine_free(e);
done_options:
  for (int i = 0; i < o.ngiven; i++)
    free((char *)o.given[i].name);
  return status;
}
