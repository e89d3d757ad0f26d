/* engine.c - engines and execution contexts (include/kiln.h): loading, buffers, steps, host ops,
 * profiling.
 *
 * An engine owns the parsed plan, the OpenCL context, the program (built once, all kernels), the
 * weights in one read-only buffer shared by its contexts, and, when a host step reads a weight, a
 * host copy of the weights section. It is never written after load, which makes it shareable
 * between threads (OpenCL 1.2 calls are thread-safe except clSetKernelArg on one kernel, and
 * kernels belong to contexts).
 *
 * A context owns the activation pool (one buffer of the plan's act bytes at max batch), an
 * in-order command queue with profiling, one cl_kernel per kernel step (arguments act, weights
 * set once; batch set per run), an event per step and the host steps' tensor scratch: a run
 * allocates nothing.
 *
 * A run at batch b: inputs written into their act tensors; steps in plan order (kernels with the
 * global size along batch_dim times b, rounded up to a multiple of local; host steps map the act
 * region their tensors span and run the reference kernel with dims[0] = b for batched tensors);
 * outputs read back. Batched tensors hold their items contiguously from their offset, so a run
 * at batch b uses the first b items of every batched tensor. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "runtime/bundle.h"
#include "runtime/cl.h"
#include "runtime/plan.h"

_Static_assert((int)KILN_DTYPE_F32 == (int)RT_ELEM_F32 && (int)KILN_DTYPE_BOOL == (int)RT_ELEM_BOOL &&
                   (int)KILN_DTYPE_I64 == (int)RT_ELEM_I64 && KILN_MAX_RANK == RT_MAX_RANK,
               "kiln_dtype follows RtElem");

struct kiln_engine {
  RtPlan plan;
  RtDevice dev;
  cl_context ctx;
  cl_program prog;          /* NULL when the plan has no kernel step */
  cl_mem weights;
  unsigned char *weights_host; /* the weights section, when a host step reads a weight */
  RtProgramOrigin origin;
  int max_operands;         /* the most tensors of one host step */
};

struct kiln_context {
  const kiln_engine *e;
  cl_command_queue q;
  cl_mem act;
  cl_kernel *kernels;       /* per step; NULL for host steps */
  cl_event *events;         /* per step, while a run is pending */
  kiln_step_profile *prof;  /* per step */
  const void **in_data;
  size_t *in_bytes;
  void **out_data;
  size_t *out_bytes;
  RtTensor *scratch;        /* max_operands */
  bool pending, profiled;
};

void kiln_free(void *p) { free(p); }

/* Bytes of tensor t at batch b (contiguous tensors only). */
static uint64_t tensor_bytes(const RtPlanTensor *t, int batch) {
  return t->batched ? t->item_bytes * (uint64_t)batch : t->item_bytes;
}

static bool has_kernel(const char *names, const char *name) {
  size_t n = strlen(name);
  for (const char *c = names; *c;) {
    const char *end = strchr(c, ';');
    size_t len = end ? (size_t)(end - c) : strlen(c);
    if (len == n && !memcmp(c, name, n))
      return true;
    c += len + (end != NULL);
  }
  return false;
}

/* Checks that every kernel step names a kernel of the program with the kernel ABI's 3 args. */
static kiln_status check_kernels(kiln_engine *e) {
  size_t n = 0;
  cl_int err = clGetProgramInfo(e->prog, CL_PROGRAM_KERNEL_NAMES, 0, NULL, &n);
  char *names = err == CL_SUCCESS ? malloc(n + 1) : NULL;
  if (err != CL_SUCCESS)
    return RT_CL_FAIL(err, "clGetProgramInfo(CL_PROGRAM_KERNEL_NAMES)");
  if (!names)
    return rt_fail(KILN_ERROR_OUT_OF_MEMORY, "out of memory");
  if ((err = clGetProgramInfo(e->prog, CL_PROGRAM_KERNEL_NAMES, n, names, NULL)) != CL_SUCCESS) {
    free(names);
    return RT_CL_FAIL(err, "clGetProgramInfo(CL_PROGRAM_KERNEL_NAMES)");
  }
  names[n] = 0;
  kiln_status st = KILN_OK;
  for (int i = 0; i < e->plan.nsteps && st == KILN_OK; i++) {
    const RtStep *s = &e->plan.steps[i];
    if (s->kind != RT_STEP_KERNEL)
      continue;
    if (!has_kernel(names, s->name)) {
      st = rt_fail(KILN_ERROR_FORMAT, "plan line %d: kernel '%s' is not in the program "
                   "(it has: %.600s)", s->line, s->name, names);
      break;
    }
    cl_kernel k = clCreateKernel(e->prog, s->name, &err);
    cl_uint nargs = 0;
    if (err != CL_SUCCESS)
      st = RT_CL_FAIL(err, "clCreateKernel");
    else if ((err = clGetKernelInfo(k, CL_KERNEL_NUM_ARGS, sizeof nargs, &nargs, NULL)))
      st = RT_CL_FAIL(err, "clGetKernelInfo(CL_KERNEL_NUM_ARGS)");
    else if (nargs != 3)
      st = rt_fail(KILN_ERROR_FORMAT, "plan line %d: kernel '%s' takes %u arguments, not the "
                   "ABI's 3 (act, wts, batch)", s->line, s->name, nargs);
    if (k)
      clReleaseKernel(k);
  }
  free(names);
  return st;
}

kiln_status kiln_engine_load_sections(const kiln_sections *s, const kiln_options *opts,
                                      kiln_engine **out) {
  if (!s || !out)
    return rt_fail(KILN_ERROR_INVALID_ARGUMENT, "kiln_engine_load_sections: NULL argument");
  *out = NULL;
  if (!s->plan.data && s->plan.size)
    return rt_fail(KILN_ERROR_INVALID_ARGUMENT, "plan section: NULL data");
  kiln_engine *e = calloc(1, sizeof *e);
  if (!e)
    return rt_fail(KILN_ERROR_OUT_OF_MEMORY, "out of memory for the engine");
  char err[512];
  if (!rt_plan_parse(s->plan.data, s->plan.size, &e->plan, err, sizeof err)) {
    free(e);
    return rt_fail(KILN_ERROR_FORMAT, "%s", err);
  }
  kiln_status st = KILN_OK;
  const RtPlan *pl = &e->plan;
  bool any_kernel = false, host_weights = false;
  for (int i = 0; i < pl->nsteps; i++) {
    const RtStep *p = &pl->steps[i];
    any_kernel |= p->kind == RT_STEP_KERNEL;
    if (p->kind == RT_STEP_HOST) {
      if (p->ninputs + p->noutputs > e->max_operands)
        e->max_operands = p->ninputs + p->noutputs;
      for (int j = 0; j < p->ninputs; j++)
        host_weights |= pl->tensors[p->tensors[j]].pool == RT_POOL_WEIGHTS;
    }
  }
  if (s->weights.size < pl->weights_bytes || (pl->weights_bytes && !s->weights.data)) {
    st = rt_fail(KILN_ERROR_FORMAT, "weights section has %zu bytes, the plan needs %llu",
                 s->weights.data ? s->weights.size : 0, (unsigned long long)pl->weights_bytes);
    goto fail;
  }
  if (any_kernel && (!s->kernels.data || s->kernels.size == 0)) {
    st = rt_fail(KILN_ERROR_FORMAT, "kernels section is empty but the plan has kernel steps");
    goto fail;
  }
  if (host_weights && pl->weights_bytes) {
    if (!(e->weights_host = malloc(pl->weights_bytes))) {
      st = rt_fail(KILN_ERROR_OUT_OF_MEMORY, "out of memory for the host copy of the weights");
      goto fail;
    }
    memcpy(e->weights_host, s->weights.data, pl->weights_bytes);
  }

  if ((st = rt_cl_choose_device(opts ? opts->device : NULL, &e->dev)) != KILN_OK)
    goto fail;
  cl_int ce;
  cl_context_properties props[] = {CL_CONTEXT_PLATFORM, (cl_context_properties)e->dev.platform,
                                   0};
  e->ctx = clCreateContext(props, 1, &e->dev.device, NULL, NULL, &ce);
  if (ce != CL_SUCCESS) {
    st = RT_CL_FAIL(ce, "clCreateContext");
    goto fail;
  }
  if (any_kernel) {
    RtBlob *bins = NULL;
    if (s->nbinaries > 0 && !(bins = calloc((size_t)s->nbinaries, sizeof *bins))) {
      st = rt_fail(KILN_ERROR_OUT_OF_MEMORY, "out of memory");
      goto fail;
    }
    for (int i = 0; i < s->nbinaries && s->binaries; i++)
      bins[i] = (RtBlob){s->binaries[i].data, s->binaries[i].size};
    st = rt_cl_build(e->ctx, &e->dev, s->kernels.data, s->kernels.size, "", bins,
                     s->binaries ? s->nbinaries : 0, opts ? opts->cache_dir : NULL, &e->prog,
                     &e->origin);
    free(bins);
    if (st != KILN_OK || (st = check_kernels(e)) != KILN_OK)
      goto fail;
  }
  /* A zero-byte buffer is invalid in OpenCL: an empty weights pool gets a small dummy one. */
  if (pl->weights_bytes)
    e->weights = clCreateBuffer(e->ctx, CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR,
                                pl->weights_bytes, (void *)s->weights.data, &ce);
  else
    e->weights = clCreateBuffer(e->ctx, CL_MEM_READ_ONLY, 64, NULL, &ce);
  if (ce != CL_SUCCESS) {
    st = RT_CL_FAIL(ce, "clCreateBuffer(weights)");
    goto fail;
  }
  *out = e;
  return KILN_OK;
fail:
  kiln_engine_free(e);
  return st;
}

/* A bundle: checked by the bundle reader (every section's bounds and checksum), then its plan,
 * kernels, weights and binary.N sections go to kiln_engine_load_sections. */
kiln_status kiln_engine_load_memory(const void *data, size_t size, const kiln_options *opts,
                                    kiln_engine **out) {
  if (!data || !out)
    return rt_fail(KILN_ERROR_INVALID_ARGUMENT, "kiln_engine_load_memory: NULL argument");
  *out = NULL;
  RtBundle *b = malloc(sizeof *b);
  if (!b)
    return rt_fail(KILN_ERROR_OUT_OF_MEMORY, "out of memory opening the bundle");
  char err[512];
  if (!rt_bundle_open(data, size, b, err, sizeof err) ||
      !rt_bundle_check_engine(b, err, sizeof err)) {
    free(b);
    return rt_fail(KILN_ERROR_FORMAT, "%s", err);
  }
  kiln_blob bins[KILN_BUNDLE_MAX_SECTIONS];
  int nbins = 0;
  for (const RtSection *x = rt_bundle_next_binary(b, NULL); x && nbins < KILN_BUNDLE_MAX_SECTIONS;
       x = rt_bundle_next_binary(b, x))
    bins[nbins++] = (kiln_blob){x->data, x->size};
  const RtSection *plan = rt_bundle_section(b, "plan"), *kernels = rt_bundle_section(b, "kernels"),
                  *weights = rt_bundle_section(b, "weights");
  kiln_sections s = {{plan->data, plan->size},
                     {kernels->data, kernels->size},
                     {weights->data, weights->size},
                     bins,
                     nbins};
  free(b);
  return kiln_engine_load_sections(&s, opts, out);
}

kiln_status kiln_engine_load_file(const char *path, const kiln_options *opts, kiln_engine **out) {
  if (!path || !out)
    return rt_fail(KILN_ERROR_INVALID_ARGUMENT, "kiln_engine_load_file: NULL argument");
  *out = NULL;
  FILE *f = fopen(path, "rb");
  if (!f)
    return rt_fail(KILN_ERROR_IO, "%s: %s", path, strerror(errno));
  char *buf = NULL;
  size_t n = 0, cap = 0, r;
  do {
    if (n == cap) {
      char *b = cap < ((size_t)1 << 40) ? realloc(buf, cap = cap ? cap * 2 : 1 << 20) : NULL;
      if (!b) {
        free(buf);
        fclose(f);
        return rt_fail(KILN_ERROR_OUT_OF_MEMORY, "%s: out of memory reading it", path);
      }
      buf = b;
    }
    r = fread(buf + n, 1, cap - n, f);
    n += r;
  } while (r > 0);
  bool bad = ferror(f);
  fclose(f);
  if (bad) {
    free(buf);
    return rt_fail(KILN_ERROR_IO, "%s: read error", path);
  }
  kiln_status st = kiln_engine_load_memory(buf, n, opts, out);
  free(buf);
  if (st != KILN_OK) { /* name the file: the loaders below it never see the path */
    char msg[1024];
    snprintf(msg, sizeof msg, "%s", kiln_last_error());
    rt_fail(st, "%s: %s", path, msg);
  }
  return st;
}

void kiln_engine_free(kiln_engine *e) {
  if (!e)
    return;
  if (e->weights)
    clReleaseMemObject(e->weights);
  if (e->prog)
    clReleaseProgram(e->prog);
  if (e->ctx)
    clReleaseContext(e->ctx);
  free(e->weights_host);
  rt_plan_free(&e->plan);
  free(e);
}

/* ---- introspection ---------------------------------------------------------------------- */

int kiln_engine_num_inputs(const kiln_engine *e) { return e ? e->plan.ninputs : 0; }
int kiln_engine_num_outputs(const kiln_engine *e) { return e ? e->plan.noutputs : 0; }
int kiln_engine_max_batch(const kiln_engine *e) { return e ? e->plan.max_batch : 0; }
const char *kiln_engine_device_name(const kiln_engine *e) { return e ? e->dev.name : ""; }

const char *kiln_engine_program_origin(const kiln_engine *e) {
  static const char *const names[] = {"source", "cache", "embedded"};
  return e && e->prog ? names[e->origin] : "none";
}

static kiln_status binding(const kiln_engine *e, bool input, int i, kiln_binding *out) {
  int n = !e ? 0 : input ? e->plan.ninputs : e->plan.noutputs;
  if (!out || i < 0 || i >= n)
    return rt_fail(KILN_ERROR_INVALID_ARGUMENT, "%s %d does not exist (the engine has %d)",
                   input ? "input" : "output", i, n);
  const RtBinding *b = input ? &e->plan.inputs[i] : &e->plan.outputs[i];
  const RtPlanTensor *t = &e->plan.tensors[b->tensor];
  memset(out, 0, sizeof *out);
  out->name = b->name;
  out->dtype = (kiln_dtype)t->dtype;
  out->rank = t->rank;
  for (int d = 0; d < t->rank; d++)
    out->dims[d] = t->batched && d == 0 ? -1 : t->dims[d];
  out->batched = t->batched;
  out->bytes = (size_t)t->item_bytes;
  return KILN_OK;
}

kiln_status kiln_engine_input(const kiln_engine *e, int i, kiln_binding *out) {
  return binding(e, true, i, out);
}
kiln_status kiln_engine_output(const kiln_engine *e, int i, kiln_binding *out) {
  return binding(e, false, i, out);
}

kiln_status kiln_engine_program_binary(const kiln_engine *e, void **data, size_t *size) {
  if (!e || !data || !size)
    return rt_fail(KILN_ERROR_INVALID_ARGUMENT, "kiln_engine_program_binary: NULL argument");
  if (!e->prog)
    return rt_fail(KILN_ERROR_UNSUPPORTED, "the engine has no kernels, so no program binary");
  return rt_cl_program_section(e->prog, &e->dev, data, size);
}

/* ---- contexts --------------------------------------------------------------------------- */

kiln_status kiln_context_create(const kiln_engine *e, kiln_context **out) {
  if (!e || !out)
    return rt_fail(KILN_ERROR_INVALID_ARGUMENT, "kiln_context_create: NULL argument");
  *out = NULL;
  const RtPlan *pl = &e->plan;
  kiln_context *c = calloc(1, sizeof *c);
  size_t ns = (size_t)pl->nsteps + 1;
  if (!c || !(c->kernels = calloc(ns, sizeof *c->kernels)) ||
      !(c->events = calloc(ns, sizeof *c->events)) || !(c->prof = calloc(ns, sizeof *c->prof)) ||
      !(c->in_data = calloc((size_t)pl->ninputs + 1, sizeof *c->in_data)) ||
      !(c->in_bytes = calloc((size_t)pl->ninputs + 1, sizeof *c->in_bytes)) ||
      !(c->out_data = calloc((size_t)pl->noutputs + 1, sizeof *c->out_data)) ||
      !(c->out_bytes = calloc((size_t)pl->noutputs + 1, sizeof *c->out_bytes)) ||
      !(c->scratch = calloc((size_t)e->max_operands + 1, sizeof *c->scratch))) {
    kiln_context_free(c);
    return rt_fail(KILN_ERROR_OUT_OF_MEMORY, "out of memory for the context");
  }
  c->e = e;
  kiln_status st = KILN_OK;
  cl_int err;
  c->q = clCreateCommandQueue(e->ctx, e->dev.device, CL_QUEUE_PROFILING_ENABLE, &err);
  if (err != CL_SUCCESS) {
    st = RT_CL_FAIL(err, "clCreateCommandQueue");
    goto fail;
  }
  c->act = clCreateBuffer(e->ctx, CL_MEM_READ_WRITE, pl->act_bytes ? pl->act_bytes : 64, NULL,
                          &err);
  if (err != CL_SUCCESS) {
    st = RT_CL_FAIL(err, "clCreateBuffer(act)");
    goto fail;
  }
  for (int i = 0; i < pl->nsteps; i++) {
    const RtStep *s = &pl->steps[i];
    c->prof[i] = (kiln_step_profile){s->name, s->kind == RT_STEP_KERNEL ? KILN_STEP_KERNEL
                                                                         : KILN_STEP_HOST, 0};
    if (s->kind != RT_STEP_KERNEL)
      continue;
    c->kernels[i] = clCreateKernel(e->prog, s->name, &err);
    if (err != CL_SUCCESS) {
      st = RT_CL_FAIL(err, "clCreateKernel");
      goto fail;
    }
    if ((err = clSetKernelArg(c->kernels[i], 0, sizeof(cl_mem), &c->act)) != CL_SUCCESS ||
        (err = clSetKernelArg(c->kernels[i], 1, sizeof(cl_mem), &e->weights)) != CL_SUCCESS) {
      st = RT_CL_FAIL(err, "clSetKernelArg");
      goto fail;
    }
  }
  *out = c;
  return KILN_OK;
fail:
  kiln_context_free(c);
  return st;
}

static void release_events(kiln_context *c) {
  for (int i = 0; i < c->e->plan.nsteps; i++)
    if (c->events[i]) {
      clReleaseEvent(c->events[i]);
      c->events[i] = NULL;
    }
}

void kiln_context_free(kiln_context *c) {
  if (!c)
    return;
  if (c->q) {
    clFinish(c->q);
    release_events(c);
    clReleaseCommandQueue(c->q);
  }
  if (c->kernels && c->e)
    for (int i = 0; i < c->e->plan.nsteps; i++)
      if (c->kernels[i])
        clReleaseKernel(c->kernels[i]);
  if (c->act)
    clReleaseMemObject(c->act);
  free(c->kernels);
  free(c->events);
  free(c->prof);
  free(c->in_data);
  free(c->in_bytes);
  free(c->out_data);
  free(c->out_bytes);
  free(c->scratch);
  free(c);
}

static kiln_status bind(kiln_context *c, bool input, const char *name, const void *data,
                        size_t bytes) {
  const char *what = input ? "input" : "output";
  if (!c || !name || !data)
    return rt_fail(KILN_ERROR_INVALID_ARGUMENT, "kiln_context_set_%s: NULL argument", what);
  const RtPlan *pl = &c->e->plan;
  const RtBinding *b = input ? pl->inputs : pl->outputs;
  int n = input ? pl->ninputs : pl->noutputs;
  for (int i = 0; i < n; i++) {
    if (strcmp(b[i].name, name))
      continue;
    const RtPlanTensor *t = &pl->tensors[b[i].tensor];
    bool ok = t->batched ? t->item_bytes ? bytes % t->item_bytes == 0 &&
                                               bytes / t->item_bytes >= 1 &&
                                               bytes / t->item_bytes <= (uint64_t)pl->max_batch
                                         : bytes == 0
                         : bytes == t->item_bytes;
    if (!ok)
      return rt_fail(KILN_ERROR_INVALID_ARGUMENT,
                     "%s '%s': %zu bytes is not %s%llu bytes", what, name, bytes,
                     t->batched ? "a batch (1..max batch) times " : "",
                     (unsigned long long)t->item_bytes);
    if (input) {
      c->in_data[i] = data;
      c->in_bytes[i] = bytes;
    } else {
      c->out_data[i] = (void *)data;
      c->out_bytes[i] = bytes;
    }
    return KILN_OK;
  }
  char names[512] = "";
  size_t len = 0;
  for (int i = 0; i < n && len < sizeof names; i++) {
    int w = snprintf(names + len, sizeof names - len, "%s'%s'", i ? ", " : "", b[i].name);
    len += w > 0 ? (size_t)w : 0;
  }
  return rt_fail(KILN_ERROR_INVALID_ARGUMENT, "no %s named '%s' (the engine's %ss: %s)", what,
                 name, what, names);
}

kiln_status kiln_context_set_input(kiln_context *c, const char *name, const void *data,
                                   size_t bytes) {
  return bind(c, true, name, data, bytes);
}

kiln_status kiln_context_set_output(kiln_context *c, const char *name, void *data, size_t bytes) {
  return bind(c, false, name, data, bytes);
}

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Maps the act region the step's act tensors span, runs the reference kernel, unmaps. */
static kiln_status run_host(kiln_context *c, int si, int batch) {
  const kiln_engine *e = c->e;
  const RtStep *s = &e->plan.steps[si];
  uint64_t lo = UINT64_MAX, hi = 0;
  int nt = s->ninputs + s->noutputs;
  for (int i = 0; i < nt; i++) {
    const RtPlanTensor *t = &e->plan.tensors[s->tensors[i]];
    uint64_t n = tensor_bytes(t, batch);
    if (t->pool != RT_POOL_ACT || n == 0)
      continue;
    lo = t->offset < lo ? t->offset : lo;
    hi = t->offset + n > hi ? t->offset + n : hi;
  }
  unsigned char *base = NULL;
  cl_int err;
  if (hi > lo) {
    base = clEnqueueMapBuffer(c->q, c->act, CL_TRUE, CL_MAP_READ | CL_MAP_WRITE, lo, hi - lo, 0,
                              NULL, NULL, &err);
    if (err != CL_SUCCESS)
      return RT_CL_FAIL(err, "clEnqueueMapBuffer");
  }
  uint64_t t0 = now_ns(); /* after the blocking map: not the wait for earlier kernels */
  for (int i = 0; i < nt; i++) {
    const RtPlanTensor *t = &e->plan.tensors[s->tensors[i]];
    RtTensor *r = &c->scratch[i];
    memset(r, 0, sizeof *r);
    r->elem = (RtElem)t->dtype;
    r->rank = t->rank;
    memcpy(r->dims, t->dims, sizeof r->dims);
    if (t->batched)
      r->dims[0] = batch;
    if (tensor_bytes(t, batch) == 0)
      r->data = NULL;
    else if (t->pool == RT_POOL_WEIGHTS)
      r->data = e->weights_host + t->offset;
    else
      r->data = base + (t->offset - lo);
  }
  RtNode node = {(OpKind)s->op, s->attrs, s->nattrs};
  char msg[512] = "";
  int rc = rt_ref_kernels[s->op](&node, c->scratch, s->ninputs, c->scratch + s->ninputs,
                                 s->noutputs, msg, sizeof msg);
  if (base && (err = clEnqueueUnmapMemObject(c->q, c->act, base, 0, NULL, NULL)) != CL_SUCCESS)
    return RT_CL_FAIL(err, "clEnqueueUnmapMemObject");
  c->prof[si].ns = now_ns() - t0;
  if (rc != RT_OK)
    return rt_fail(KILN_ERROR_EXECUTION, "plan line %d: host step %s: %s", s->line, s->name,
                   msg);
  return KILN_OK;
}

static kiln_status run_kernel(kiln_context *c, int si, int batch) {
  const RtStep *s = &c->e->plan.steps[si];
  size_t global[3], local[3];
  bool has_local = s->local[0] != 0;
  for (int d = 0; d < s->work_dim; d++) {
    global[d] = s->global[d] * (d == s->batch_dim ? (size_t)batch : 1);
    local[d] = s->local[d];
    if (has_local)
      global[d] = (global[d] + local[d] - 1) / local[d] * local[d];
  }
  cl_int b = batch, err;
  if ((err = clSetKernelArg(c->kernels[si], 2, sizeof b, &b)) != CL_SUCCESS)
    return RT_CL_FAIL(err, "clSetKernelArg(batch)");
  err = clEnqueueNDRangeKernel(c->q, c->kernels[si], (cl_uint)s->work_dim, NULL, global,
                               has_local ? local : NULL, 0, NULL, &c->events[si]);
  if (err != CL_SUCCESS) {
    c->events[si] = NULL;
    return rt_fail(KILN_ERROR_DEVICE, "clEnqueueNDRangeKernel failed: %s (%d) for kernel '%s' "
                   "(plan line %d)", rt_cl_error_name(err), (int)err, s->name, s->line);
  }
  return KILN_OK;
}

/* Checks that every binding is set with the bytes of this batch. */
static kiln_status check_bindings(const kiln_context *c, int batch) {
  const RtPlan *pl = &c->e->plan;
  for (int io = 0; io < 2; io++) {
    int n = io ? pl->noutputs : pl->ninputs;
    for (int i = 0; i < n; i++) {
      const RtBinding *b = io ? &pl->outputs[i] : &pl->inputs[i];
      bool set = io ? c->out_data[i] != NULL : c->in_data[i] != NULL;
      size_t have = io ? c->out_bytes[i] : c->in_bytes[i];
      uint64_t need = tensor_bytes(&pl->tensors[b->tensor], batch);
      if (!set)
        return rt_fail(KILN_ERROR_INVALID_ARGUMENT, "%s '%s' is not set",
                       io ? "output" : "input", b->name);
      if (have != need)
        return rt_fail(KILN_ERROR_INVALID_ARGUMENT, "%s '%s': %zu bytes bound, batch %d needs "
                       "%llu", io ? "output" : "input", b->name, have, batch,
                       (unsigned long long)need);
    }
  }
  return KILN_OK;
}

kiln_status kiln_context_enqueue(kiln_context *c, int batch) {
  if (!c)
    return rt_fail(KILN_ERROR_INVALID_ARGUMENT, "kiln_context_enqueue: NULL context");
  const RtPlan *pl = &c->e->plan;
  if (c->pending)
    return rt_fail(KILN_ERROR_INVALID_ARGUMENT, "a run is pending: call kiln_context_wait first");
  if (batch < 1 || batch > pl->max_batch)
    return rt_fail(KILN_ERROR_INVALID_ARGUMENT, "batch %d is out of range 1..%d", batch,
                   pl->max_batch);
  kiln_status st = check_bindings(c, batch);
  if (st != KILN_OK)
    return st;
  c->profiled = false;
  cl_int err = CL_SUCCESS;
  for (int i = 0; i < pl->ninputs && err == CL_SUCCESS; i++)
    err = clEnqueueWriteBuffer(c->q, c->act, CL_FALSE, pl->tensors[pl->inputs[i].tensor].offset,
                               c->in_bytes[i], c->in_data[i], 0, NULL, NULL);
  if (err != CL_SUCCESS)
    st = RT_CL_FAIL(err, "clEnqueueWriteBuffer");
  for (int i = 0; i < pl->nsteps && st == KILN_OK; i++)
    st = pl->steps[i].kind == RT_STEP_KERNEL ? run_kernel(c, i, batch) : run_host(c, i, batch);
  for (int i = 0; i < pl->noutputs && st == KILN_OK && err == CL_SUCCESS; i++)
    if ((err = clEnqueueReadBuffer(c->q, c->act, CL_FALSE,
                                   pl->tensors[pl->outputs[i].tensor].offset, c->out_bytes[i],
                                   c->out_data[i], 0, NULL, NULL)) != CL_SUCCESS)
      st = RT_CL_FAIL(err, "clEnqueueReadBuffer");
  if (st == KILN_OK && (err = clFlush(c->q)) != CL_SUCCESS)
    st = RT_CL_FAIL(err, "clFlush");
  if (st != KILN_OK) {
    clFinish(c->q); /* nothing may still use the caller's memory */
    release_events(c);
    return st;
  }
  c->pending = true;
  return KILN_OK;
}

kiln_status kiln_context_wait(kiln_context *c) {
  if (!c)
    return rt_fail(KILN_ERROR_INVALID_ARGUMENT, "kiln_context_wait: NULL context");
  if (!c->pending)
    return rt_fail(KILN_ERROR_INVALID_ARGUMENT, "no run is pending (kiln_context_enqueue first)");
  c->pending = false;
  cl_int err = clFinish(c->q);
  kiln_status st = err == CL_SUCCESS ? KILN_OK : RT_CL_FAIL(err, "clFinish");
  const RtPlan *pl = &c->e->plan;
  for (int i = 0; i < pl->nsteps && st == KILN_OK; i++) {
    if (!c->events[i])
      continue;
    cl_int status;
    cl_ulong t0, t1;
    if ((err = clGetEventInfo(c->events[i], CL_EVENT_COMMAND_EXECUTION_STATUS, sizeof status,
                              &status, NULL)) != CL_SUCCESS)
      st = RT_CL_FAIL(err, "clGetEventInfo");
    else if (status < 0)
      st = rt_fail(KILN_ERROR_DEVICE, "kernel '%s' (plan line %d) failed: %s (%d)",
                   pl->steps[i].name, pl->steps[i].line, rt_cl_error_name(status), (int)status);
    else if ((err = clGetEventProfilingInfo(c->events[i], CL_PROFILING_COMMAND_START, sizeof t0,
                                            &t0, NULL)) != CL_SUCCESS ||
             (err = clGetEventProfilingInfo(c->events[i], CL_PROFILING_COMMAND_END, sizeof t1,
                                            &t1, NULL)) != CL_SUCCESS)
      st = RT_CL_FAIL(err, "clGetEventProfilingInfo");
    else
      c->prof[i].ns = t1 >= t0 ? t1 - t0 : 0;
  }
  release_events(c);
  c->profiled = st == KILN_OK;
  return st;
}

kiln_status kiln_context_run(kiln_context *c, int batch) {
  kiln_status st = kiln_context_enqueue(c, batch);
  return st != KILN_OK ? st : kiln_context_wait(c);
}

kiln_status kiln_context_profile(const kiln_context *c, const kiln_step_profile **steps, int *n) {
  if (!c || !steps || !n)
    return rt_fail(KILN_ERROR_INVALID_ARGUMENT, "kiln_context_profile: NULL argument");
  if (!c->profiled)
    return rt_fail(KILN_ERROR_INVALID_ARGUMENT, "no finished run to profile");
  *steps = c->prof;
  *n = c->e->plan.nsteps;
  return KILN_OK;
}
