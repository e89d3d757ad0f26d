/* conformance_engine.c - onnx_conformance --engine: a case through kiln-compile's path (the
 * engine pipeline, cg_build_engine, a bundle in memory) and libkilnrt on POCL, instead of the
 * reference interpreter. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codegen/bundle_write.h"
#include "codegen/engine.h"
#include "kiln.h"
#include "passes/pass.h"
#include "test/onnx/conformance.h"

struct ConfEngine {
  kiln_engine *engine;
  kiln_context *ctx;
  int max_batch;
};

/* The first line of s holding "error" (a compiler's diagnostic), else its first line. */
static void first_line(const char *s, char *why, size_t n) {
  const char *e = strstr(s, "error");
  if (e) {
    while (e > s && e[-1] != '\n')
      e--;
    s = e;
  }
  snprintf(why, n, "%.*s", (int)strcspn(s, "\n"), s);
}

Verdict conf_engine_prepare(Module *m, char *why, size_t n) {
  char *text = NULL;
  size_t len = 0;
  FILE *mem = open_memstream(&text, &len);
  Diag d;
  ir_diag_init(&d, "model.onnx", NULL, 0);
  d.out = mem;
  Pipeline p;
  char err[256];
  if (!pass_pipeline_parse(ENGINE_PIPELINE, &p, err, sizeof err))
    abort();
  PassManagerOptions o = {.verify_each = true, .dump = mem, .device_ok = cg_op_supported};
  bool ok = pass_pipeline_run(&p, m, &d, &o);
  pass_pipeline_free(&p);
  fclose(mem);
  if (!ok) {
    const char *s = text ? text : "";
    const char *e = strstr(s, "error: ");
    snprintf(why, n, "%.*s", (int)strcspn(e ? e + 7 : s, "\n"), e ? e + 7 : s);
  }
  free(text);
  return ok ? PASS : UNSUPPORTED;
}

ConfEngine *conf_engine_build(const Module *m, int max_batch, int *nkernels, Verdict *v, char *why,
                              size_t n) {
  CgOptions opt = {.max_batch = max_batch};
  CgEngine e;
  char err[1024];
  if (!cg_build_engine(m, &opt, &e, NULL, NULL, err, sizeof err)) {
    snprintf(why, n, "engine: %s", err);
    *v = UNSUPPORTED;
    return NULL;
  }
  *nkernels = e.nkernels;
  CgBundleWriter w;
  cg_bundle_init(&w);
  static const char meta[] = "model = conformance\n";
  uint8_t *bundle = NULL;
  size_t size = 0;
  bool ok = cg_bundle_add(&w, "meta", meta, sizeof meta - 1, err, sizeof err) &&
            cg_bundle_add(&w, "plan", e.plan.data, e.plan.len, err, sizeof err) &&
            cg_bundle_add(&w, "kernels", e.source.data, e.source.len, err, sizeof err) &&
            cg_bundle_add(&w, "weights", e.weights, e.mem.weights_bytes, err, sizeof err) &&
            cg_bundle_write_mem(&w, &bundle, &size, err, sizeof err);
  ConfEngine *ce = calloc(1, sizeof *ce);
  ce->max_batch = max_batch;
  cg_engine_free(&e);
  if (!ok) {
    snprintf(why, n, "bundle: %s", err);
    *v = FAIL;
    free(ce);
    return NULL;
  }
  kiln_options ko = {.device = "cpu", .cache_dir = ""};
  kiln_status st = kiln_engine_load_memory(bundle, size, &ko, &ce->engine);
  free(bundle);
  if (st == KILN_OK)
    st = kiln_context_create(ce->engine, &ce->ctx);
  if (st != KILN_OK) {
    const char *msg = kiln_last_error(), *log = strstr(msg, "build log:\n");
    char line[400];
    first_line(log ? log + 11 : msg, line, sizeof line);
    snprintf(why, n, "%s: %s", kiln_status_name(st), line);
    *v = st == KILN_ERROR_UNSUPPORTED ? UNSUPPORTED : FAIL;
    conf_engine_free(ce);
    return NULL;
  }
  return ce;
}

int conf_engine_max_batch(const ConfEngine *e) { return e->max_batch; }

static int input_index(const Module *m, const char *name) {
  for (int i = 0; i < m->ninputs; i++)
    if (m->inputs[i]->name && !strcmp(m->inputs[i]->name, name))
      return i;
  return -1;
}

Verdict conf_engine_run(ConfEngine *e, Module *m, const Tensor *in, int nin, Tensor *got,
                        int nout, char *why, size_t n) {
  static unsigned char empty[64]; /* where a size-0 tensor points */
  int batch = 1;
  for (int i = 0; i < nin && i < m->ninputs; i++)
    if (ir_type_is_batched(&m->inputs[i]->type) && in[i].type.rank > 0)
      batch = (int)in[i].type.dims[0];
  if (batch < 1 || batch > e->max_batch) {
    snprintf(why, n, "batch %d outside the engine's 1..%d", batch, e->max_batch);
    return FAIL;
  }
  int ein = kiln_engine_num_inputs(e->engine), eout = kiln_engine_num_outputs(e->engine);
  if (eout != nout) {
    snprintf(why, n, "engine has %d outputs, data set %d", eout, nout);
    return FAIL;
  }
  kiln_status st = KILN_OK;
  for (int i = 0; i < ein && st == KILN_OK; i++) {
    kiln_binding b;
    st = kiln_engine_input(e->engine, i, &b);
    int k = st == KILN_OK ? input_index(m, b.name) : -1;
    if (k < 0 || k >= nin) {
      snprintf(why, n, "engine input '%s' is no input of the data set", b.name);
      return FAIL;
    }
    if ((int)b.dtype != (int)in[k].type.dtype) {
      snprintf(why, n, "engine input '%s' is %s, data %s", b.name,
               ir_dtype_name((DType)b.dtype), ir_dtype_name(in[k].type.dtype));
      return FAIL;
    }
    st = kiln_context_set_input(e->ctx, b.name, in[k].nbytes ? in[k].data : empty,
                                in[k].nbytes);
  }
  for (int i = 0; i < nout && st == KILN_OK; i++) {
    kiln_binding b;
    st = kiln_engine_output(e->engine, i, &b);
    if (st != KILN_OK)
      break;
    size_t bytes = b.bytes * (size_t)(b.batched ? batch : 1);
    got[i].type = ir_type_make((DType)b.dtype, b.rank, b.dims);
    if (b.batched)
      got[i].type.dims[0] = batch;
    got[i].nbytes = bytes;
    got[i].data = bytes ? ir_arena_alloc(m->arena, bytes) : empty;
    st = kiln_context_set_output(e->ctx, b.name, got[i].data, bytes);
  }
  if (st == KILN_OK)
    st = kiln_context_run(e->ctx, batch);
  if (st != KILN_OK) {
    char line[400];
    first_line(kiln_last_error(), line, sizeof line);
    snprintf(why, n, "%s: %s", kiln_status_name(st), line);
    return st == KILN_ERROR_UNSUPPORTED ? UNSUPPORTED : FAIL;
  }
  return PASS;
}

void conf_engine_free(ConfEngine *e) {
  if (!e)
    return;
  kiln_context_free(e->ctx);
  kiln_engine_free(e->engine);
  free(e);
}
