/* cg_harness.c - see cg_harness.h. Every OpenCL call is checked and reported with its call text,
 * error name and file:line. */
#include "cg_harness.h"

#include <CL/cl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct CgHarness {
  cl_platform_id platform;
  cl_device_id device;
  cl_context context;
  cl_command_queue queue;
  char name[256];
};

static const char *cl_error_name(cl_int e) {
  switch (e) {
#define E(x) case x: return #x;
    E(CL_SUCCESS) E(CL_DEVICE_NOT_FOUND) E(CL_OUT_OF_RESOURCES) E(CL_OUT_OF_HOST_MEMORY)
    E(CL_BUILD_PROGRAM_FAILURE) E(CL_INVALID_VALUE) E(CL_INVALID_KERNEL_NAME)
    E(CL_INVALID_ARG_SIZE) E(CL_INVALID_ARG_VALUE) E(CL_INVALID_BUFFER_SIZE)
    E(CL_INVALID_WORK_GROUP_SIZE) E(CL_INVALID_WORK_ITEM_SIZE) E(CL_INVALID_GLOBAL_WORK_SIZE)
    E(CL_INVALID_PROGRAM_EXECUTABLE) E(CL_INVALID_KERNEL_ARGS) E(CL_INVALID_WORK_DIMENSION)
    E(CL_MEM_OBJECT_ALLOCATION_FAILURE) E(CL_INVALID_MEM_OBJECT) E(CL_INVALID_COMMAND_QUEUE)
    E(CL_INVALID_CONTEXT) E(CL_INVALID_DEVICE) E(CL_INVALID_PLATFORM)
#undef E
  default: return "CL_UNKNOWN_ERROR";
  }
}

#define CL_TRY(call)                                                                               \
  do {                                                                                             \
    cl_int st_ = (call);                                                                           \
    if (st_ != CL_SUCCESS) {                                                                       \
      snprintf(err, errlen, "%s:%d: %s: %s (%d)", __FILE__, __LINE__, #call, cl_error_name(st_),   \
               (int)st_);                                                                          \
      goto fail;                                                                                   \
    }                                                                                              \
  } while (0)

CgHarness *cgh_open(char *err, size_t errlen) {
  CgHarness *h = calloc(1, sizeof *h);
  cl_int st = CL_SUCCESS;
  cl_uint n = 0;
  if (!h)
    abort();
  CL_TRY(clGetPlatformIDs(1, &h->platform, &n));
  if (n == 0) {
    snprintf(err, errlen, "no OpenCL platform");
    goto fail;
  }
  CL_TRY(clGetDeviceIDs(h->platform, CL_DEVICE_TYPE_ALL, 1, &h->device, &n));
  CL_TRY(clGetDeviceInfo(h->device, CL_DEVICE_NAME, sizeof h->name - 1, h->name, NULL));
  h->context = clCreateContext(NULL, 1, &h->device, NULL, NULL, &st);
  CL_TRY(st);
  h->queue = clCreateCommandQueue(h->context, h->device, 0, &st);
  CL_TRY(st);
  return h;
fail:
  cgh_close(h);
  return NULL;
}

void cgh_close(CgHarness *h) {
  if (!h)
    return;
  if (h->queue)
    clReleaseCommandQueue(h->queue);
  if (h->context)
    clReleaseContext(h->context);
  free(h);
}

const char *cgh_device_name(const CgHarness *h) { return h->name; }

bool cgh_run(CgHarness *h, const CgKernel *k, void *act, size_t act_bytes, const void *wts,
             size_t wts_bytes, int batch, char *err, size_t errlen) {
  cl_int st = CL_SUCCESS;
  cl_program prog = NULL;
  cl_kernel kern = NULL;
  cl_mem a = NULL, w = NULL;
  bool ok = false;
  const char *src = k->source;
  prog = clCreateProgramWithSource(h->context, 1, &src, NULL, &st);
  CL_TRY(st);
  st = clBuildProgram(prog, 1, &h->device, "", NULL, NULL);
  if (st != CL_SUCCESS) {
    size_t len = 0;
    clGetProgramBuildInfo(prog, h->device, CL_PROGRAM_BUILD_LOG, 0, NULL, &len);
    char *log = calloc(1, len + 1);
    if (log)
      clGetProgramBuildInfo(prog, h->device, CL_PROGRAM_BUILD_LOG, len, log, NULL);
    snprintf(err, errlen, "clBuildProgram: %s\n%s\n--- source ---\n%s", cl_error_name(st),
             log ? log : "", src);
    free(log);
    goto fail;
  }
  kern = clCreateKernel(prog, k->name, &st);
  CL_TRY(st);
  /* Zero-sized buffers are invalid: the weights buffer is at least 64 bytes. */
  a = clCreateBuffer(h->context, CL_MEM_READ_WRITE | CL_MEM_COPY_HOST_PTR, act_bytes, act, &st);
  CL_TRY(st);
  static const unsigned char zeros[64];
  w = clCreateBuffer(h->context, CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR,
                     wts_bytes ? wts_bytes : sizeof zeros, (void *)(wts_bytes ? wts : zeros), &st);
  CL_TRY(st);
  cl_int b = batch;
  CL_TRY(clSetKernelArg(kern, 0, sizeof a, &a));
  CL_TRY(clSetKernelArg(kern, 1, sizeof w, &w));
  CL_TRY(clSetKernelArg(kern, 2, sizeof b, &b));
  size_t global[3], local[3];
  bool has_local = false;
  for (int i = 0; i < k->work_dim; i++) {
    global[i] = k->global[i] * (i == k->batch_dim ? (size_t)batch : 1);
    local[i] = k->local[i];
    has_local = has_local || local[i] != 0;
  }
  CL_TRY(clEnqueueNDRangeKernel(h->queue, kern, (cl_uint)k->work_dim, NULL, global,
                                has_local ? local : NULL, 0, NULL, NULL));
  CL_TRY(clEnqueueReadBuffer(h->queue, a, CL_TRUE, 0, act_bytes, act, 0, NULL, NULL));
  ok = true;
fail:
  if (a)
    clReleaseMemObject(a);
  if (w)
    clReleaseMemObject(w);
  if (kern)
    clReleaseKernel(kern);
  if (prog)
    clReleaseProgram(prog);
  return ok;
}

/* ---- planner ---- */

static void place(CgPlan *p, const Value *v, int max_batch) {
  if (p->n == CGH_MAX_VALUES)
    abort();
  CgTensor *t = &p->tensors[p->n];
  p->values[p->n++] = v;
  t->type = v->type;
  t->pool = v->kind == VAL_WEIGHT ? CG_POOL_WEIGHTS : CG_POOL_ACT;
  cg_contiguous_strides(&v->type, t->strides);
  int64_t n = ir_type_numel_per_item(&v->type) * (ir_type_is_batched(&v->type) ? max_batch : 1);
  size_t bytes = (size_t)n * ir_dtype_size(v->type.dtype);
  size_t *top = t->pool == CG_POOL_WEIGHTS ? &p->wts_bytes : &p->act_bytes;
  t->offset = *top;
  *top = (*top + bytes + 63) / 64 * 64;
}

void cgh_plan_module(CgPlan *p, const Module *m, int max_batch) {
  memset(p, 0, sizeof *p);
  for (int i = 0; i < m->ninputs; i++)
    place(p, m->inputs[i], max_batch);
  for (int i = 0; i < m->nweights; i++)
    place(p, m->weights[i], max_batch);
  for (const Op *op = m->body.first; op; op = op->next)
    if (op->kind == OP_FUSED)
      for (int i = 0; i < op->nresults; i++)
        place(p, op->results[i], max_batch);
}

const CgTensor *cgh_tensor_of(void *ctx, const Value *v) {
  CgPlan *p = ctx;
  for (int i = 0; i < p->n; i++)
    if (p->values[i] == v)
      return &p->tensors[i];
  return NULL;
}
