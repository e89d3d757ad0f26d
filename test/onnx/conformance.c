/* conformance.c - runs ONNX backend test cases through kiln and compares with their outputs.
 *
 * usage: onnx_conformance [--engine] [--expect FILE] [--list-passing] [-v] DIR...
 *
 * Each DIR is a folder of cases (Debian's libonnx-testdata: .../data/node, .../data/simple, ...);
 * a case is a folder holding model.onnx and data-set folders test_data_set_N holding input_K.pb and
 * output_K.pb files. A case is
 *   pass        every data set's outputs match: same dtype and shape, floats within
 *               |got - want| <= atol + rtol * |want| (rtol 1e-3, atol 1e-7, ONNX's backend-test
 *               tolerances), NaN where NaN is expected, integers and booleans exactly;
 *   fail        kiln imported it but computed a wrong or no result;
 *   unsupported kiln refused the model (an op, domain, dtype or form it does not support), with
 *               the reason.
 * It prints a table per ONNX op type (cases made of several op types are listed by name), the
 * reason of every case that did not pass, and last `N passed, N failed, N skipped` (skipped:
 * unsupported).
 *
 * With --expect FILE (one case per line, "node/test_abs"; '#' comments), a listed case that does
 * not pass is a regression and the exit status is 1; passes not in the list are reported so the
 * list can grow. --list-passing prints the passing cases in that format.
 *
 * By default a case runs through the reference kernels (passes/interp.c). With --engine it runs
 * the way kiln-compile and libkilnrt would (conformance_engine.c): ENGINE_PIPELINE,
 * cg_build_engine, a bundle in memory loaded on POCL ("cpu", no program cache), one run per data
 * set; a model cg_build_engine refuses is unsupported, a kernel that does not build or a wrong
 * output fails. The summary then also says how many engines held at least one kernel (device)
 * or none (host only), and the time taken. */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "frontend/onnx/onnx_import.h"
#include "ir/dyn_form.h"
#include "passes/interp.h"
#include "passes/pass.h"
#include "test/onnx/conformance.h"

/* Run after import, so that shape subgraphs fold before interpretation. */
#define PIPELINE "infer-shapes,canonicalize,infer-shapes,canonicalize,infer-shapes"

#define RTOL 1e-3
#define ATOL 1e-7

typedef struct Case {
  char *id;    /* "node/test_abs" */
  char *group; /* the ONNX op type, or "" when several */
  Verdict verdict;
  char *reason;
  int kernels; /* --engine: the kernels of its engine; -1 when none was built */
} Case;

typedef struct Run {
  Case *cases;
  int ncases, cap;
  bool verbose, engine;
} Run;

/* --engine: the engine of the module being run, built on its first data set (and again for a
 * larger batch). prepared: the module ENGINE_PIPELINE has run on. */
typedef struct EngineSlot {
  const Module *prepared;
  ConfEngine *e;
  int kernels;
} EngineSlot;

static void slot_reset(EngineSlot *s) {
  conf_engine_free(s->e);
  s->e = NULL;
  s->prepared = NULL;
}

/* Runs one data set's inputs through the engine of m (prepared and built as needed). */
static Verdict engine_run(EngineSlot *s, Module *m, const Tensor *in, int nin, Tensor *got,
                          int nout, char *why, size_t n) {
  Verdict v;
  if (s->prepared != m) {
    slot_reset(s);
    if ((v = conf_engine_prepare(m, why, n)) != PASS)
      return v;
    s->prepared = m;
  }
  int batch = 1;
  for (int i = 0; i < nin && i < m->ninputs; i++)
    if (ir_type_is_batched(&m->inputs[i]->type) && in[i].type.rank > 0 && in[i].type.dims[0] > 0)
      batch = (int)in[i].type.dims[0];
  if (!s->e || batch > conf_engine_max_batch(s->e)) {
    conf_engine_free(s->e);
    int nk = -1;
    s->e = conf_engine_build(m, batch, &nk, &v, why, n);
    if (nk > s->kernels)
      s->kernels = nk;
    if (!s->e)
      return v;
  }
  return conf_engine_run(s->e, m, in, nin, got, nout, why, n);
}

static char *xstrdup(const char *s) {
  char *p = strdup(s);
  if (!p)
    abort();
  return p;
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted names of the entries of dir matching prefix (all entries for ""). */
static int list_dir(const char *dir, const char *prefix, char ***out) {
  DIR *d = opendir(dir);
  if (!d)
    return -1;
  int n = 0, cap = 16;
  char **names = malloc(sizeof *names * (size_t)cap);
  for (struct dirent *e; (e = readdir(d));) {
    if (e->d_name[0] == '.' || strncmp(e->d_name, prefix, strlen(prefix)) != 0)
      continue;
    if (n == cap)
      names = realloc(names, sizeof *names * (size_t)(cap *= 2));
    names[n++] = xstrdup(e->d_name);
  }
  closedir(d);
  qsort(names, (size_t)n, sizeof *names, cmp_str);
  *out = names;
  return n;
}

static void free_list(char **names, int n) {
  for (int i = 0; i < n; i++)
    free(names[i]);
  free(names);
}

static char *path_join(const char *a, const char *b) {
  size_t n = strlen(a) + strlen(b) + 2;
  char *p = malloc(n);
  snprintf(p, n, "%s/%s", a, b);
  return p;
}

/* The first line of a diagnostic stream, without "FILE: error: ". */
static char *first_error(const char *text) {
  const char *s = strstr(text, "error: ");
  s = s ? s + 7 : text;
  size_t n = strcspn(s, "\n");
  char *r = malloc(n + 1);
  memcpy(r, s, n);
  r[n] = 0;
  return r;
}

static double element(const Tensor *t, int64_t i) {
  const unsigned char *p = (const unsigned char *)t->data + (size_t)i * ir_dtype_size(t->type.dtype);
  switch (t->type.dtype) {
  case DT_F32: { float v; memcpy(&v, p, 4); return v; }
  case DT_F64: { double v; memcpy(&v, p, 8); return v; }
  case DT_F16: { uint16_t v; memcpy(&v, p, 2); return ir_f16_to_f32(v); }
  case DT_BF16: { uint16_t v; memcpy(&v, p, 2); return ir_bf16_to_f32(v); }
  default: return 0;
  }
}

/* Compares got with want; writes the first difference into why. */
static bool same_tensor(const Tensor *got, const Tensor *want, char *why, size_t n) {
  if (got->type.dtype != want->type.dtype) {
    snprintf(why, n, "dtype %s, expected %s", ir_dtype_name(got->type.dtype),
             ir_dtype_name(want->type.dtype));
    return false;
  }
  Type gt = got->type, wt = want->type;
  gt.quantized = wt.quantized = false;
  if (!ir_type_equal(&gt, &wt)) {
    char g[128];
    snprintf(g, sizeof g, "%s", ir_type_str(&gt));
    snprintf(why, n, "shape %s, expected %s", g, ir_type_str(&wt));
    return false;
  }
  int64_t count = ir_type_numel(&want->type);
  if (!ir_dtype_is_float(want->type.dtype)) {
    size_t bytes = (size_t)count * ir_dtype_size(want->type.dtype);
    if (bytes && memcmp(got->data, want->data, bytes) != 0) {
      snprintf(why, n, "integer or boolean values differ");
      return false;
    }
    return true;
  }
  for (int64_t i = 0; i < count; i++) {
    double g = element(got, i), w = element(want, i);
    bool ok = isnan(w) ? isnan(g) : (isinf(w) ? g == w : fabs(g - w) <= ATOL + RTOL * fabs(w));
    if (!ok) {
      snprintf(why, n, "element %lld is %.9g, expected %.9g", (long long)i, g, w);
      return false;
    }
  }
  return true;
}

/* Runs one data set of a case on module m: through the reference kernels, or through its engine
 * when slot is given. */
static Verdict run_data_set(Module *m, const char *dir, const bool *bound, EngineSlot *slot,
                            char *why, size_t n) {
  char **files;
  int nfiles = list_dir(dir, "", &files);
  if (nfiles < 0) {
    snprintf(why, n, "cannot read %s", dir);
    return FAIL;
  }
  int nin = 0, nout = 0;
  for (int i = 0; i < nfiles; i++) {
    nin += strncmp(files[i], "input_", 6) == 0;
    nout += strncmp(files[i], "output_", 7) == 0;
  }
  Tensor *in = calloc((size_t)nin + 1, sizeof *in), *want = calloc((size_t)nout + 1, sizeof *want);
  Tensor *got = calloc((size_t)nout + 1, sizeof *got);
  Verdict v = PASS;
  char *diag_text = NULL;
  size_t diag_len = 0;
  FILE *mem = open_memstream(&diag_text, &diag_len);
  Diag d;
  /* input_i and output_i files sort as input_0, input_1, ..., input_10 (fewer than 10 here). */
  for (int i = 0, ki = 0, ko = 0; i < nfiles && v == PASS; i++) {
    bool is_in = strncmp(files[i], "input_", 6) == 0, is_out = strncmp(files[i], "output_", 7) == 0;
    if (!is_in && !is_out)
      continue;
    char *p = path_join(dir, files[i]);
    ir_diag_init(&d, p, NULL, 0);
    d.out = mem;
    const char *name;
    if (!fe_onnx_read_tensor_file(p, m, is_in ? &in[ki++] : &want[ko++], &name, &d)) {
      fflush(mem);
      snprintf(why, n, "%s", diag_text);
      why[strcspn(why, "\n")] = 0;
      v = UNSUPPORTED;
    }
    free(p);
  }
  fclose(mem);
  free(diag_text);
  if (bound) { /* inputs bound as constants are no longer inputs of m */
    int k = 0;
    for (int i = 0; i < nin; i++)
      if (!bound[i])
        in[k++] = in[i];
    nin = k;
  }
  /* ONNX's test data stores bfloat16 tensors as uint16 (its writer predates bfloat16): read
   * them as the bf16 the model declares. */
  for (int i = 0; i < nin && i < m->ninputs; i++)
    if (in[i].type.dtype == DT_U16 && m->inputs[i]->type.dtype == DT_BF16)
      in[i].type.dtype = DT_BF16;
  if (v == PASS && nin != m->ninputs) {
    snprintf(why, n, "data set has %d inputs, model %d", nin, m->ninputs);
    v = FAIL;
  }
  if (v == PASS && slot)
    v = engine_run(slot, m, in, nin, got, nout, why, n);
  else if (v == PASS && !pass_interp_module(m, in, nin, got, nout, why, n))
    v = strstr(why, "no reference kernel") || strstr(why, "unsupported") ? UNSUPPORTED : FAIL;
  for (int i = 0; v == PASS && i < nout; i++) {
    char diff[256];
    if (want[i].type.dtype == DT_U16 && got[i].type.dtype == DT_BF16)
      want[i].type.dtype = DT_BF16; /* the same bfloat16-as-uint16 quirk */
    if (!same_tensor(&got[i], &want[i], diff, sizeof diff)) {
      snprintf(why, n, "output %d: %s", i, diff);
      v = FAIL;
    }
  }
  free(in);
  free(want);
  free(got);
  free_list(files, nfiles);
  return v;
}

/* Op types of a model, for grouping: "" when it has several (Constant nodes not counted). */
static char *model_group(const Module *m) {
  const char *one = NULL;
  for (const Op *op = m->body.first; op; op = op->next) {
    const char *t = ir_ops[op->kind].onnx;
    if (!*t)
      continue;
    if (one && strcmp(one, t) != 0)
      return xstrdup("");
    one = t;
  }
  return xstrdup(one ? one : "");
}

/* Imports model with the given bindings, verifies it and runs PIPELINE; NULL with the first
 * error line in *reason (heap) when any of it fails. */
static Module *load(const char *model, const FeBinding *b, int nb, char **reason) {
  char *diag_text = NULL;
  size_t diag_len = 0;
  FILE *mem = open_memstream(&diag_text, &diag_len);
  Diag d;
  ir_diag_init(&d, model, NULL, 0);
  d.out = mem;
  Module *m = fe_onnx_import_file(model, &(FeOnnxOptions){.bindings = b, .nbindings = nb}, &d);
  if (m && ir_verify(m, &d) != 0) {
    ir_module_free(m);
    m = NULL;
  }
  if (m) {
    Pipeline p;
    char err[256];
    if (!pass_pipeline_parse(PIPELINE, &p, err, sizeof err))
      abort();
    PassManagerOptions o = {.verify_each = true, .dump = mem};
    if (!pass_pipeline_run(&p, m, &d, &o)) {
      ir_module_free(m);
      m = NULL;
    }
    pass_pipeline_free(&p);
  }
  fclose(mem);
  if (!m)
    *reason = first_error(diag_text ? diag_text : "");
  free(diag_text);
  return m;
}

/* The graph inputs that still determine shapes after the pipeline (bind[i] for m->inputs[i]):
 * the extra operands of ops in operand form, the operands of range and of other ops whose result
 * types are unknown although their operand types are known (among them every F_DATA_SHAPE op:
 * non_zero, non_max_suppression, which canonicalize folds once they are constants), and
 * transitively the inputs of the ops computing them. Returns how many. */
static int shape_inputs(const Module *m, bool *bind) {
  int nv = m->next_id, n = 0;
  bool *need = calloc((size_t)nv + 1, 1);
  for (const Op *op = m->body.first; op; op = op->next) {
    bool unknown = false, known_in = true;
    for (int i = 0; i < op->nresults; i++)
      unknown |= !ir_type_is_known(&op->results[i]->type);
    for (int i = 0; i < op->noperands; i++)
      known_in &= ir_type_is_known(&op->operands[i].value->type);
    int base = ir_dyn_base(op->kind, NULL, NULL);
    for (int i = 0; i < op->noperands; i++)
      if ((ir_dyn_has_operands(op) && i >= base) || (unknown && known_in && base < 0))
        need[op->operands[i].value->id] = true;
  }
  for (const Op *op = m->body.last; op; op = op->prev) {
    bool needed = false;
    for (int i = 0; i < op->nresults; i++)
      needed |= need[op->results[i]->id];
    for (int i = 0; needed && i < op->noperands; i++)
      need[op->operands[i].value->id] = true;
  }
  for (int i = 0; i < m->ninputs; i++)
    if ((bind[i] = need[m->inputs[i]->id]))
      n++;
  free(need);
  return n;
}

/* Runs one data set with the shape-determining inputs (bind) bound to its tensors. */
static Verdict run_bound_set(const char *model, const char *set, const Module *orig,
                             const bool *bind, EngineSlot *slot, char *why, size_t n) {
  char **files;
  int nfiles = list_dir(set, "input_", &files);
  if (nfiles < 0) {
    snprintf(why, n, "cannot read %s", set);
    return FAIL;
  }
  Module *scratch = ir_module_new("inputs");
  Tensor *ts = calloc((size_t)nfiles + 1, sizeof *ts);
  FeBinding *b = calloc((size_t)nfiles + 1, sizeof *b);
  bool *bound = calloc((size_t)nfiles + 1, 1);
  int nb = 0;
  Verdict v = PASS;
  for (int i = 0; i < nfiles && i < orig->ninputs && v == PASS; i++) {
    if (!bind[i])
      continue;
    char *p = path_join(set, files[i]);
    Diag d;
    ir_diag_init(&d, p, NULL, 0);
    d.out = NULL;
    const char *name;
    FILE *devnull = fopen("/dev/null", "w");
    d.out = devnull;
    if (!fe_onnx_read_tensor_file(p, scratch, &ts[i], &name, &d)) {
      snprintf(why, n, "cannot read %s", p);
      v = UNSUPPORTED;
    }
    fclose(devnull);
    free(p);
    b[nb++] = (FeBinding){orig->inputs[i]->name, &ts[i]};
    bound[i] = true;
  }
  char *reason = NULL;
  Module *m = v == PASS ? load(model, b, nb, &reason) : NULL;
  if (v == PASS && !m) {
    snprintf(why, n, "%s", reason ? reason : "");
    v = UNSUPPORTED;
  }
  free(reason);
  if (m) {
    v = run_data_set(m, set, bound, slot, why, n);
    if (slot)
      slot_reset(slot); /* its module goes */
    ir_module_free(m);
  }
  free(ts);
  free(b);
  free(bound);
  free_list(files, nfiles);
  ir_module_free(scratch);
  return v;
}

static void run_case(Run *r, const char *suite, const char *dir, const char *name) {
  if (r->ncases == r->cap)
    r->cases = realloc(r->cases, sizeof *r->cases * (size_t)(r->cap = r->cap ? r->cap * 2 : 256));
  Case *c = &r->cases[r->ncases++];
  size_t idlen = strlen(suite) + strlen(name) + 2;
  c->id = malloc(idlen);
  snprintf(c->id, idlen, "%s/%s", suite, name);
  c->group = xstrdup("");
  c->kernels = -1;
  char why[512] = "";
  char *model = path_join(dir, "model.onnx");
  char *reason = NULL;
  Module *m = load(model, NULL, 0, &reason);
  if (!m) {
    c->verdict = UNSUPPORTED;
    c->reason = reason;
  } else {
    free(c->group);
    c->group = model_group(m);
    bool *bind = calloc((size_t)m->ninputs + 1, 1);
    int nbind = shape_inputs(m, bind);
    char note[256] = "";
    for (int i = 0, at = 0; i < m->ninputs && nbind; i++)
      if (bind[i] && at < (int)sizeof note)
        at += snprintf(note + at, sizeof note - (size_t)at, "%s%s", at ? ", " : "",
                       m->inputs[i]->name ? m->inputs[i]->name : "?");
    char **sets;
    int nsets = list_dir(dir, "test_data_set_", &sets);
    EngineSlot slot = {.kernels = -1}, *sp = r->engine ? &slot : NULL;
    c->verdict = nsets > 0 ? PASS : FAIL;
    if (nsets <= 0)
      snprintf(why, sizeof why, "no test_data_set_* folder");
    for (int i = 0; i < nsets && c->verdict == PASS; i++) {
      char *set = path_join(dir, sets[i]);
      c->verdict = nbind ? run_bound_set(model, set, m, bind, sp, why, sizeof why)
                         : run_data_set(m, set, NULL, sp, why, sizeof why);
      free(set);
    }
    slot_reset(&slot);
    c->kernels = slot.kernels;
    if (nsets > 0)
      free_list(sets, nsets);
    if (nbind) { /* say so, whatever the verdict */
      char full[800];
      snprintf(full, sizeof full, "%s%s(shape inputs bound: %s)", why, *why ? " " : "", note);
      c->reason = xstrdup(full);
    } else {
      c->reason = xstrdup(why);
    }
    free(bind);
    ir_module_free(m);
  }
  free(model);
  if (r->verbose && c->kernels >= 0)
    fprintf(stderr, "%s: %s [%d kernels] %s\n", c->id,
            c->verdict == PASS ? "pass" : c->verdict == FAIL ? "FAIL" : "unsupported", c->kernels,
            c->reason);
  else if (r->verbose)
    fprintf(stderr, "%s: %s %s\n", c->id,
            c->verdict == PASS ? "pass" : c->verdict == FAIL ? "FAIL" : "unsupported", c->reason);
}

static void run_suite(Run *r, const char *root) {
  const char *suite = strrchr(root, '/');
  suite = suite && suite[1] ? suite + 1 : root;
  char **names;
  int n = list_dir(root, "", &names);
  if (n < 0) {
    fprintf(stderr, "onnx_conformance: cannot read %s\n", root);
    exit(1);
  }
  for (int i = 0; i < n; i++) {
    char *dir = path_join(root, names[i]), *model = path_join(dir, "model.onnx");
    struct stat st;
    if (stat(model, &st) == 0)
      run_case(r, suite, dir, names[i]);
    free(model);
    free(dir);
  }
  free_list(names, n);
}

static int cmp_case_group(const void *a, const void *b) {
  const Case *x = a, *y = b;
  int g = strcmp(x->group, y->group);
  return g ? g : strcmp(x->id, y->id);
}

static const char *verdict_name(Verdict v) {
  return v == PASS ? "pass" : v == FAIL ? "fail" : "unsupported";
}

static void report(Run *r) {
  qsort(r->cases, (size_t)r->ncases, sizeof *r->cases, cmp_case_group);
  printf("%-32s %6s %6s %12s\n", "op", "pass", "fail", "unsupported");
  int totals[3] = {0};
  for (int i = 0; i < r->ncases;) {
    int j = i, counts[3] = {0};
    for (; j < r->ncases && !strcmp(r->cases[j].group, r->cases[i].group); j++)
      counts[r->cases[j].verdict]++;
    printf("%-32s %6d %6d %12d\n", *r->cases[i].group ? r->cases[i].group : "(several op types)",
           counts[PASS], counts[FAIL], counts[UNSUPPORTED]);
    for (int k = 0; k < 3; k++)
      totals[k] += counts[k];
    i = j;
  }
  printf("\n");
  for (int i = 0; i < r->ncases; i++)
    if (r->cases[i].verdict != PASS || *r->cases[i].reason) /* a pass may carry a note */
      printf("%-11s %s: %s\n", verdict_name(r->cases[i].verdict), r->cases[i].id,
             r->cases[i].reason);
  printf("\n%d passed, %d failed, %d skipped\n", totals[PASS], totals[FAIL], totals[UNSUPPORTED]);
  if (r->engine) {
    int dev[3] = {0}, host[3] = {0};
    for (int i = 0; i < r->ncases; i++)
      if (r->cases[i].kernels >= 0)
        (r->cases[i].kernels ? dev : host)[r->cases[i].verdict]++;
    printf("engines built: %d use the device, at least one kernel (%d passed, %d failed); %d "
           "host only (%d passed, %d failed)\n", dev[PASS] + dev[FAIL] + dev[UNSUPPORTED],
           dev[PASS], dev[FAIL], host[PASS] + host[FAIL] + host[UNSUPPORTED], host[PASS],
           host[FAIL]);
  }
}

/* Checks the expected-pass list; returns the number of regressions. */
static int check_expected(Run *r, const char *path) {
  FILE *f = fopen(path, "r");
  if (!f) {
    fprintf(stderr, "onnx_conformance: cannot read %s\n", path);
    return 1;
  }
  int regressions = 0, listed = 0;
  char line[512];
  char **expected = NULL;
  while (fgets(line, sizeof line, f)) {
    line[strcspn(line, "\r\n#")] = 0;
    size_t n = strlen(line);
    while (n && line[n - 1] == ' ')
      line[--n] = 0;
    if (!n)
      continue;
    expected = realloc(expected, sizeof *expected * (size_t)(listed + 1));
    expected[listed++] = xstrdup(line);
    const Case *found = NULL;
    for (int i = 0; i < r->ncases && !found; i++)
      if (!strcmp(r->cases[i].id, line))
        found = &r->cases[i];
    if (!found) {
      printf("REGRESSION %s: the case was not run\n", line);
      regressions++;
    } else if (found->verdict != PASS) {
      printf("REGRESSION %s: %s: %s\n", line, verdict_name(found->verdict), found->reason);
      regressions++;
    }
  }
  fclose(f);
  for (int i = 0; i < r->ncases; i++) {
    if (r->cases[i].verdict != PASS)
      continue;
    bool listed_here = false;
    for (int k = 0; k < listed && !listed_here; k++)
      listed_here = !strcmp(expected[k], r->cases[i].id);
    if (!listed_here)
      printf("new pass (add it to %s): %s\n", path, r->cases[i].id);
  }
  free_list(expected, listed);
  printf("%d expected passes, %d regressions\n", listed, regressions);
  return regressions;
}

static const char usage[] =
    "usage: onnx_conformance [--engine] [--expect FILE] [--list-passing] [-v] DIR...\n";

int main(int argc, char **argv) {
  Run r = {0};
  const char *expect = NULL;
  bool list_passing = false;
  const char **dirs = calloc((size_t)argc, sizeof *dirs);
  int ndirs = 0;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--expect") && i + 1 < argc)
      expect = argv[++i];
    else if (!strcmp(argv[i], "--list-passing"))
      list_passing = true;
    else if (!strcmp(argv[i], "-v"))
      r.verbose = true;
    else if (!strcmp(argv[i], "--engine"))
      r.engine = true;
    else if (argv[i][0] == '-') {
      fputs(usage, stderr);
      return 1;
    } else {
      dirs[ndirs++] = argv[i];
    }
  }
  if (!ndirs) {
    fputs(usage, stderr);
    return 1;
  }
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (int i = 0; i < ndirs; i++)
    run_suite(&r, dirs[i]);
  free(dirs);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  if (list_passing) {
    for (int i = 0; i < r.ncases; i++)
      if (r.cases[i].verdict == PASS)
        printf("%s\n", r.cases[i].id);
  } else {
    report(&r);
    printf("%d cases in %.1f s\n", r.ncases,
           (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9);
  }
  int regressions = expect ? check_expected(&r, expect) : 0;
  for (int i = 0; i < r.ncases; i++) {
    free(r.cases[i].id);
    free(r.cases[i].group);
    free(r.cases[i].reason);
  }
  free(r.cases);
  return regressions ? 1 : 0;
}
