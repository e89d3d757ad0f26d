/* test_codegen_conv.c - emit_conv.c's kernels (conv, conv_transpose, gemm, matmul, horizontal
 * merges) against the reference interpreter.
 *
 * Each case is a small module with elided weights, filled here with pseudo-random values in
 * [-0.25, 0.25) before `fuse` runs (horizontal merges need constant weights); every fused op is
 * emitted and run on the first OpenCL device (cg_harness), and the outputs compared with
 * pass_interp_module's at a relative error of 1e-5 (of max(|ref|, 1)). A case may set tile
 * options, or write its output into a strided window of a larger buffer (an in-place concat's).
 * `test_codegen_conv --bench` times two ResNet-50 convs, tiled against the direct kernel. */
#ifndef CL_TARGET_OPENCL_VERSION
#define CL_TARGET_OPENCL_VERSION 120
#endif
#include <CL/cl.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cg_harness.h"
#include "check.h"
#include "frontend/text/parse.h"
#include "passes/interp.h"
#include "passes/pass.h"

static CgHarness *harness;
static bool verbose;

typedef struct Case {
  const char *name, *text;
  int batch;                  /* the batch of N inputs (0: 1) */
  int tile_m, tile_n, tile_k; /* CgOptions */
  bool window;                /* output 0 goes to channels [2, 2+C) of a [B, C+4, ...] buffer */
  const char *expect;         /* a string the emitted source must hold (the path taken) */
} Case;

static uint32_t rng_state;
static float urand(float lo, float hi) {
  rng_state = rng_state * 1664525u + 1013904223u;
  return lo + (hi - lo) * (float)((rng_state >> 8) & 0xffffff) / (float)0x1000000;
}

static void fill_weights(Module *m) {
  for (int i = 0; i < m->nweights; i++) {
    Tensor *t = m->weights[i]->tensor;
    if (!t || t->data)
      continue;
    int64_t n = ir_type_numel(&t->type);
    t->nbytes = (size_t)n * sizeof(float);
    float *d = ir_arena_alloc(m->arena, t->nbytes + 1);
    for (int64_t k = 0; k < n; k++)
      d[k] = urand(-0.25f, 0.25f);
    t->data = d;
  }
}

/* The plan, with one value moved to a strided window at the end of the activation pool. */
typedef struct WinPlan {
  CgPlan plan;
  const Value *target;
  CgTensor win;
  size_t act_bytes;
} WinPlan;

static const CgTensor *win_tensor_of(void *ctx, const Value *v) {
  WinPlan *w = ctx;
  return v == w->target ? &w->win : cgh_tensor_of(&w->plan, v);
}

/* Channels [2, 2+C) of a [B, C+4, rest...] buffer after the plan's activations. */
static void make_window(WinPlan *w, const Value *v, int batch) {
  Type t = v->type;
  w->target = v;
  w->win = (CgTensor){.pool = CG_POOL_ACT, .type = t};
  Type big = t;
  big.dims[1] += 4;
  cg_contiguous_strides(&big, w->win.strides);
  int64_t b = t.dims[0] == IR_DIM_N ? batch : t.dims[0];
  size_t base = (w->plan.act_bytes + 63) / 64 * 64;
  w->win.offset = base + 2 * (uint64_t)w->win.strides[1] * sizeof(float);
  w->act_bytes = base + (size_t)(b * w->win.strides[0]) * sizeof(float);
}

/* Gathers the n elements of a (batch-resolved) type t from strided storage. */
static void gather(const float *src, const Type *t, const int64_t *strides, int batch, float *dst) {
  int64_t dims[IR_MAX_RANK], idx[IR_MAX_RANK] = {0}, n = 1;
  for (int i = 0; i < t->rank; i++)
    n *= dims[i] = t->dims[i] == IR_DIM_N ? batch : t->dims[i];
  for (int64_t k = 0; k < n; k++) {
    int64_t off = 0;
    for (int i = 0; i < t->rank; i++)
      off += idx[i] * strides[i];
    dst[k] = src[off];
    for (int i = t->rank - 1; i >= 0 && ++idx[i] == dims[i]; i--)
      idx[i] = 0;
  }
}

static int compare(const char *name, const float *got, const float *want, int64_t n) {
  int bad = 0;
  for (int64_t i = 0; i < n; i++) {
    double g = got[i], w = want[i];
    if (!(fabs(g - w) <= 1e-5 * fmax(fabs(w), 1.0)) && bad++ < 4)
      fprintf(stderr, "  %s: element %lld: got %.9g, want %.9g\n", name, (long long)i, g, w);
  }
  return bad;
}

static Module *load(const char *name, const char *text) {
  Diag d;
  ir_diag_init(&d, name, text, strlen(text));
  d.out = stderr;
  Module *m = fe_parse_text(text, strlen(text), &d);
  if (!m || ir_verify(m, &d) != 0) {
    ir_module_free(m);
    return NULL;
  }
  fill_weights(m);
  char err[512] = "";
  Pipeline pl = {0};
  PassManagerOptions pm = {.verify_each = true};
  bool ok = pass_pipeline_parse("fuse", &pl, err, sizeof err) && pass_pipeline_run(&pl, m, &d, &pm);
  pass_pipeline_free(&pl);
  if (!ok) {
    fprintf(stderr, "%s: fuse failed %s\n", name, err);
    ir_module_free(m);
    return NULL;
  }
  return m;
}

static bool run_case(const Case *c) {
  Module *m = load(c->name, c->text);
  if (!m)
    return false;
  int batch = c->batch > 0 ? c->batch : 1;
  bool ok = true;
  char err[16384] = "";
  for (Op *op = m->body.first; op; op = op->next)
    if (op->kind != OP_OUTPUT && op->kind != OP_FUSED) {
      fprintf(stderr, "%s: '%s' op left outside a kernel\n", c->name, ir_op_name(op->kind));
      ir_module_free(m);
      return false;
    }
  Tensor in[8];
  memset(in, 0, sizeof in);
  for (int i = 0; i < m->ninputs && i < 8; i++) {
    in[i].type = m->inputs[i]->type;
    if (ir_type_is_batched(&in[i].type))
      in[i].type.dims[0] = batch;
    int64_t n = ir_type_numel(&in[i].type);
    in[i].nbytes = (size_t)n * sizeof(float);
    in[i].data = malloc(in[i].nbytes + 1);
    for (int64_t k = 0; k < n; k++)
      ((float *)in[i].data)[k] = urand(-1, 1);
  }
  Op *out_op = ir_module_output(m);
  int nout = out_op->noperands;
  Tensor want[8];
  memset(want, 0, sizeof want);
  if (nout > 8 || !pass_interp_module(m, in, m->ninputs, want, nout, err, sizeof err)) {
    fprintf(stderr, "%s: reference failed: %s\n", c->name, err);
    ok = false;
    goto done;
  }
  WinPlan wp = {0};
  cgh_plan_module(&wp.plan, m, batch);
  wp.act_bytes = wp.plan.act_bytes;
  if (c->window)
    make_window(&wp, out_op->operands[0].value, batch);
  unsigned char *act = malloc(wp.act_bytes + 1), *wts = calloc(1, wp.plan.wts_bytes + 1);
  memset(act, 0xff, wp.act_bytes + 1); /* unwritten results read as NaN */
  for (int i = 0; i < m->ninputs; i++)
    memcpy(act + cgh_tensor_of(&wp.plan, m->inputs[i])->offset, in[i].data, in[i].nbytes);
  for (int i = 0; i < m->nweights; i++)
    if (m->weights[i]->tensor && m->weights[i]->tensor->data)
      memcpy(wts + cgh_tensor_of(&wp.plan, m->weights[i])->offset, m->weights[i]->tensor->data,
             m->weights[i]->tensor->nbytes);
  bool seen = !c->expect;
  for (Op *op = m->body.first; ok && op; op = op->next) {
    if (op->kind != OP_FUSED)
      continue;
    CgKernel k;
    CgOptions opt = {.max_batch = batch, .tile_m = c->tile_m, .tile_n = c->tile_n,
                     .tile_k = c->tile_k};
    if (!cg_emit_kernel(op, win_tensor_of, &wp, &opt, &k, err, sizeof err)) {
      fprintf(stderr, "%s: cg_emit_kernel: %s\n", c->name, err);
      ok = false;
      break;
    }
    if (verbose)
      fprintf(stderr, "%s", k.source);
    seen = seen || strstr(k.source, c->expect);
    if (!cgh_run(harness, &k, act, wp.act_bytes, wts, wp.plan.wts_bytes, batch, err, sizeof err)) {
      fprintf(stderr, "%s: %s\n", c->name, err);
      ok = false;
    }
    cg_kernel_free(&k);
  }
  if (ok && !seen) {
    fprintf(stderr, "%s: no kernel source holds \"%s\"\n", c->name, c->expect);
    ok = false;
  }
  for (int j = 0; ok && j < nout; j++) {
    const Value *v = out_op->operands[j].value;
    const CgTensor *t = win_tensor_of(&wp, v);
    int64_t n = ir_type_numel(&want[j].type);
    float *got = malloc(sizeof *got * (size_t)n);
    gather((const float *)(act + t->offset), &v->type, t->strides, batch, got);
    int bad = compare(c->name, got, want[j].data, n);
    free(got);
    if (bad) {
      fprintf(stderr, "%s: output %d: %d of %lld elements differ\n", c->name, j, bad, (long long)n);
      ok = false;
    }
  }
  /* The window's neighbours (channels 0-1 and C+2..C+3) must be untouched. */
  if (ok && c->window) {
    const uint32_t *w = (const uint32_t *)(act + (wp.win.offset - 2 * wp.win.strides[1] * 4));
    for (int64_t i = 0; i < 2 * wp.win.strides[1]; i++)
      ok = ok && w[i] == 0xffffffffu;
    if (!ok)
      fprintf(stderr, "%s: a store landed outside the window\n", c->name);
  }
  free(act);
  free(wts);
done:
  for (int i = 0; i < m->ninputs && i < 8; i++)
    free(in[i].data);
  ir_module_free(m);
  return ok;
}

#define W(name, type) " weight $" name " : f32" type " = dense_resource<__elided__>\n"

static const Case cases[] = {
    {.name = "conv_1x1", .text = "module {\n input %x : f32[1,8,5,5]\n" W("w", "[16,8,1,1]")
     " %y = conv(%x, $w) : f32[1,16,5,5]\n output %y\n}\n", .expect = "xoff0"},
    {.name = "conv_1x1_vec", .text = "module {\n input %x : f32[1,16,8,8]\n" W("w", "[24,16,1,1]")
     " %y = conv(%x, $w) : f32[1,24,8,8]\n output %y\n}\n", .expect = "float4"},
    {.name = "conv_1x1_stride2", .text = "module {\n input %x : f32[1,8,9,9]\n" W("w", "[8,8,1,1]")
     " %y = conv(%x, $w) {strides = [2,2]} : f32[1,8,5,5]\n output %y\n}\n", .expect = "xoff0"},
    {.name = "conv_3x3_pad1", .text = "module {\n input %x : f32[1,6,9,9]\n" W("w", "[20,6,3,3]") W("b", "[20]")
     " %y = conv(%x, $w, $b) {pads = [1,1,1,1]} : f32[1,20,9,9]\n output %y\n}\n",
     .expect = "tiled GEMM"},
    {.name = "conv_stride2", .text = "module {\n input %x : f32[1,5,11,11]\n" W("w", "[12,5,3,3]")
     " %y = conv(%x, $w) {pads = [1,1,1,1], strides = [2,2]} : f32[1,12,6,6]\n output %y\n}\n"},
    {.name = "conv_dilation2", .text = "module {\n input %x : f32[1,4,10,10]\n" W("w", "[8,4,3,3]")
     " %y = conv(%x, $w) {dilations = [2,2], pads = [2,2,2,2]} : f32[1,8,10,10]\n output %y\n}\n"},
    {.name = "conv_asym_pads", .text = "module {\n input %x : f32[1,3,7,8]\n" W("w", "[5,3,3,2]")
     " %y = conv(%x, $w) {pads = [0,1,2,0]} : f32[1,5,7,8]\n output %y\n}\n"},
    {.name = "conv_group2", .text = "module {\n input %x : f32[1,8,6,6]\n" W("w", "[6,4,3,3]")
     " %y = conv(%x, $w) {group = 2, pads = [1,1,1,1]} : f32[1,6,6,6]\n output %y\n}\n"},
    {.name = "conv_depthwise", .text = "module {\n input %x : f32[1,12,9,9]\n" W("w", "[12,1,3,3]") W("b", "[12]")
     " %y = conv(%x, $w, $b) {group = 12, pads = [1,1,1,1]} : f32[1,12,9,9]\n output %y\n}\n",
     .expect = "acc = fma"},
    {.name = "conv_depthwise_x2_stride2", .text = "module {\n input %x : f32[N,6,9,9]\n" W("w", "[12,1,3,3]")
     " %y = conv(%x, $w) {group = 6, pads = [1,1,1,1], strides = [2,2]} : f32[N,12,5,5]\n"
     " output %y\n}\n", .batch = 2},
    {.name = "conv_batch2_partial", .text = "module {\n input %x : f32[N,6,7,7]\n" W("w", "[13,6,3,3]")
     " %y = conv(%x, $w) {pads = [1,1,1,1]} : f32[N,13,7,7]\n output %y\n}\n", .batch = 2},
    {.name = "conv_multi_tile", .text = "module {\n input %x : f32[1,40,15,15]\n" W("w", "[70,40,3,3]")
     " %y = conv(%x, $w) {pads = [1,1,1,1]} : f32[1,70,15,15]\n output %y\n}\n"},
    {.name = "conv_tiles_32x32x8", .text = "module {\n input %x : f32[N,40,15,15]\n" W("w", "[70,40,3,3]")
     " %y = conv(%x, $w) {pads = [1,1,1,1]} : f32[N,70,15,15]\n output %y\n}\n",
     .batch = 2, .tile_m = 32, .tile_n = 32, .tile_k = 8, .expect = "tile 32 x 32 x 8"},
    {.name = "conv_tiles_64x64x16", .text = "module {\n input %x : f32[1,40,15,15]\n" W("w", "[70,40,3,3]")
     " %y = conv(%x, $w) {pads = [1,1,1,1]} : f32[1,70,15,15]\n output %y\n}\n",
     .tile_m = 64, .tile_n = 64, .tile_k = 16, .expect = "tile 64 x 64 x 16"},
    {.name = "gemm_tiles_64x64_vec", .text = "module {\n input %a : f32[100,48]\n" W("b", "[48,72]")
     " %y = gemm(%a, $b) : f32[100,72]\n output %y\n}\n",
     .tile_m = 64, .tile_n = 64, .tile_k = 16, .expect = "float4"},
    {.name = "conv_direct", .text = "module {\n input %x : f32[1,6,7,7]\n" W("w", "[10,6,3,3]")
     " %y = conv(%x, $w) {pads = [1,1,1,1], strides = [2,1]} : f32[1,10,4,7]\n output %y\n}\n",
     .tile_m = -1, .expect = "acc = fma"},
    {.name = "conv_1d", .text = "module {\n input %x : f32[1,4,20]\n" W("w", "[6,4,5]")
     " %y = conv(%x, $w) {pads = [2,1]} : f32[1,6,19]\n output %y\n}\n"},
    {.name = "conv_bias_relu", .text = "module {\n input %x : f32[N,3,8,8]\n" W("w", "[16,3,3,3]") W("b", "[16]")
     " %c = conv(%x, $w, $b) {pads = [1,1,1,1]} : f32[N,16,8,8]\n"
     " %y = relu(%c) : f32[N,16,8,8]\n output %y\n}\n", .batch = 2},
    {.name = "conv_residual_relu", .text = "module {\n input %x : f32[1,8,8,8]\n input %r : f32[1,16,8,8]\n"
     W("w", "[16,8,3,3]") W("b", "[1,16,1,1]")
     " %c = conv(%x, $w) {pads = [1,1,1,1]} : f32[1,16,8,8]\n"
     " %a = add(%c, $b) : f32[1,16,8,8]\n %s = add(%a, %r) : f32[1,16,8,8]\n"
     " %y = relu(%s) : f32[1,16,8,8]\n output %y\n}\n"},
    {.name = "conv_silu", .text = "module {\n input %x : f32[1,8,7,7]\n" W("w", "[13,8,3,3]") W("b", "[13]")
     " %c = conv(%x, $w, $b) {pads = [1,1,1,1]} : f32[1,13,7,7]\n"
     " %s = sigmoid(%c) : f32[1,13,7,7]\n %y = mul(%c, %s) : f32[1,13,7,7]\n output %y\n}\n"},
    {.name = "conv_transpose_s2", .text = "module {\n input %x : f32[N,4,5,5]\n" W("w", "[4,6,3,3]") W("b", "[6]")
     " %y = conv_transpose(%x, $w, $b) {output_padding = [1,1], pads = [1,1,1,1], "
     "strides = [2,2]} : f32[N,6,10,10]\n output %y\n}\n", .batch = 2},
    {.name = "conv_transpose_group2", .text = "module {\n input %x : f32[1,4,4,5]\n" W("w", "[4,3,2,3]")
     " %y = conv_transpose(%x, $w) {group = 2, dilations = [2,1], pads = [0,1,1,0], "
     "strides = [2,3]} : f32[1,6,8,14]\n output %y\n}\n"},
    {.name = "gemm_trans_b_c", .text = "module {\n input %a : f32[5,20]\n" W("b", "[30,20]") W("c", "[30]")
     " %y = gemm(%a, $b, $c) {alpha = 0.5, beta = 2.0, trans_b = 1} : f32[5,30]\n"
     " output %y\n}\n", .expect = "float4"},
    {.name = "gemm_trans_a_c_col", .text = "module {\n input %a : f32[20,5]\n input %b : f32[20,30]\n"
     " input %c : f32[5,1]\n %y = gemm(%a, %b, %c) {trans_a = 1} : f32[5,30]\n"
     " %r = relu(%y) : f32[5,30]\n output %r\n}\n"},
    {.name = "gemm_batch_rows", .text = "module {\n input %a : f32[N,36]\n" W("b", "[36,70]") W("c", "[70]")
     " %y = gemm(%a, $b, $c) : f32[N,70]\n output %y\n}\n", .batch = 3, .expect = "batch) return"},
    {.name = "matmul_2d", .text = "module {\n input %a : f32[7,33]\n input %b : f32[33,19]\n"
     " %y = matmul(%a, %b) : f32[7,19]\n output %y\n}\n"},
    {.name = "matmul_3d", .text = "module {\n input %a : f32[3,7,12]\n input %b : f32[3,12,9]\n"
     " %y = matmul(%a, %b) : f32[3,7,9]\n output %y\n}\n"},
    {.name = "matmul_batched_const_b", .text = "module {\n input %a : f32[N,2,5,8]\n" W("b", "[8,20]")
     " %y = matmul(%a, $b) : f32[N,2,5,20]\n %g = sigmoid(%y) : f32[N,2,5,20]\n output %g\n}\n",
     .batch = 2},
    {.name = "matmul_broadcast_a", .text = "module {\n input %a : f32[1,6,8]\n input %b : f32[4,8,5]\n"
     " %y = matmul(%a, %b) : f32[4,6,5]\n output %y\n}\n"},
    {.name = "horizontal_3", .text = "module {\n input %x : f32[N,8,7,7]\n input %r : f32[N,5,7,7]\n"
     W("w1", "[3,8,1,1]") W("b1", "[3]") W("w2", "[5,8,1,1]") W("w3", "[6,8,1,1]") W("b3", "[6]")
     " %c1 = conv(%x, $w1, $b1) : f32[N,3,7,7]\n %r1 = relu(%c1) : f32[N,3,7,7]\n"
     " %c2 = conv(%x, $w2) : f32[N,5,7,7]\n %t = add(%c2, %r) : f32[N,5,7,7]\n"
     " %c3 = conv(%x, $w3, $b3) : f32[N,6,7,7]\n %s3 = sigmoid(%c3) : f32[N,6,7,7]\n"
     " %y3 = mul(%c3, %s3) : f32[N,6,7,7]\n output %r1, %t, %y3\n}\n",
     .batch = 2, .expect = "if (co < 3)"},
    {.name = "horizontal_matmul_qkv", .text = "module {\n input %x : f32[N,4,16]\n"
     W("q", "[16,8]") W("k", "[16,8]") W("v", "[16,8]")
     " %q = matmul(%x, $q) : f32[N,4,8]\n %k = matmul(%x, $k) : f32[N,4,8]\n"
     " %v = matmul(%x, $v) : f32[N,4,8]\n %kr = relu(%k) : f32[N,4,8]\n"
     " output %q, %kr, %v\n}\n", .batch = 2, .expect = "const int cs"},
    {.name = "window_output", .text = "module {\n input %x : f32[N,6,7,7]\n" W("w", "[10,6,3,3]") W("b", "[10]")
     " %c = conv(%x, $w, $b) {pads = [1,1,1,1]} : f32[N,10,7,7]\n"
     " %y = relu(%c) : f32[N,10,7,7]\n output %y\n}\n", .batch = 2, .window = true},
    {.name = "window_depthwise", .text = "module {\n input %x : f32[1,6,7,7]\n" W("w", "[6,1,3,3]")
     " %y = conv(%x, $w) {group = 6, pads = [1,1,1,1]} : f32[1,6,7,7]\n output %y\n}\n",
     .window = true},
};

/* ---- --bench: tiled against direct on two ResNet-50 convs ---- */

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Median of 5 runs (after one warm-up) of kernel k, each enqueue followed by clFinish; -1 on an
 * OpenCL failure. */
static double time_kernel(const CgKernel *k, size_t act_bytes, size_t wts_bytes) {
  cl_platform_id pf;
  cl_device_id dev;
  cl_int st;
  if (clGetPlatformIDs(1, &pf, NULL) || clGetDeviceIDs(pf, CL_DEVICE_TYPE_ALL, 1, &dev, NULL))
    return -1;
  cl_context ctx = clCreateContext(NULL, 1, &dev, NULL, NULL, &st);
  cl_command_queue q = clCreateCommandQueue(ctx, dev, 0, &st);
  const char *src = k->source;
  cl_program prog = clCreateProgramWithSource(ctx, 1, &src, NULL, &st);
  if (clBuildProgram(prog, 1, &dev, "", NULL, NULL))
    return -1;
  cl_kernel kern = clCreateKernel(prog, k->name, &st);
  cl_mem a = clCreateBuffer(ctx, CL_MEM_READ_WRITE, act_bytes, NULL, &st);
  cl_mem w = clCreateBuffer(ctx, CL_MEM_READ_ONLY, wts_bytes, NULL, &st);
  float zero = 0.01f;
  clEnqueueFillBuffer(q, a, &zero, sizeof zero, 0, act_bytes, 0, NULL, NULL);
  clEnqueueFillBuffer(q, w, &zero, sizeof zero, 0, wts_bytes, 0, NULL, NULL);
  cl_int batch = 1;
  clSetKernelArg(kern, 0, sizeof a, &a);
  clSetKernelArg(kern, 1, sizeof w, &w);
  clSetKernelArg(kern, 2, sizeof batch, &batch);
  bool has_local = k->local[0] != 0;
  double t[6];
  for (int r = 0; r < 6; r++) {
    double t0 = now();
    st = clEnqueueNDRangeKernel(q, kern, (cl_uint)k->work_dim, NULL, k->global,
                                has_local ? k->local : NULL, 0, NULL, NULL);
    clFinish(q);
    t[r] = now() - t0;
  }
  clReleaseMemObject(a), clReleaseMemObject(w), clReleaseKernel(kern), clReleaseProgram(prog);
  clReleaseCommandQueue(q), clReleaseContext(ctx);
  if (st != CL_SUCCESS)
    return -1;
  qsort(t + 1, 5, sizeof t[0], cmp_double);
  return t[3];
}

static void bench(void) {
  static const struct { const char *name, *text; double flops; } convs[] = {
      {"1x256x56x56 -> 64, 1x1", "module {\n input %x : f32[1,256,56,56]\n" W("w", "[64,256,1,1]")
       " %y = conv(%x, $w) : f32[1,64,56,56]\n output %y\n}\n", 2.0 * 64 * 256 * 56 * 56},
      {"1x64x56x56 -> 64, 3x3 pad 1", "module {\n input %x : f32[1,64,56,56]\n"
       W("w", "[64,64,3,3]") " %y = conv(%x, $w) {pads = [1,1,1,1]} : f32[1,64,56,56]\n"
       " output %y\n}\n", 2.0 * 64 * 64 * 9 * 56 * 56},
  };
  for (size_t i = 0; i < sizeof convs / sizeof convs[0]; i++) {
    Module *m = load(convs[i].name, convs[i].text);
    CgPlan plan;
    cgh_plan_module(&plan, m, 1);
    Op *op = m->body.first;
    char err[512];
    static const int tiles[][3] = {{-1, 0, 0}, {0, 0, 0}, {32, 32, 16}, {32, 64, 16}};
    static const char *const label[] = {"direct", "tiled", "t32x32", "t32x64"};
    for (int v = 0; v < 4; v++) {
      CgKernel k;
      CgOptions opt = {.max_batch = 1, .tile_m = tiles[v][0], .tile_n = tiles[v][1],
                       .tile_k = tiles[v][2]};
      if (!cg_emit_kernel(op, cgh_tensor_of, &plan, &opt, &k, err, sizeof err)) {
        fprintf(stderr, "bench: %s\n", err);
        CHECK(false);
        continue;
      }
      double s = time_kernel(&k, plan.act_bytes, plan.wts_bytes);
      printf("bench %-28s %-6s %9.3f ms  %7.2f GFLOP/s\n", convs[i].name, label[v],
             s * 1e3, convs[i].flops / s * 1e-9);
      CHECK(s > 0);
      cg_kernel_free(&k);
    }
    ir_module_free(m);
  }
}

int main(int argc, char **argv) {
  verbose = argc > 1 && strcmp(argv[1], "-v") == 0;
  const char *only = argc > 1 && !verbose ? argv[1] : argc > 2 ? argv[2] : NULL;
  char err[512];
  harness = cgh_open(err, sizeof err);
  if (!harness) {
    fprintf(stderr, "test_codegen_conv: no OpenCL device: %s\n", err);
    CHECK(harness != NULL);
    return check_finish();
  }
  printf("device: %s\n", cgh_device_name(harness));
  if (only && strcmp(only, "--bench") == 0) {
    bench();
    cgh_close(harness);
    return check_finish();
  }
  int ncases = (int)(sizeof cases / sizeof cases[0]), run = 0;
  for (int i = 0; i < ncases; i++) {
    if (only && strcmp(only, cases[i].name) != 0)
      continue;
    rng_state = 777u + (uint32_t)i;
    bool ok = run_case(&cases[i]);
    if (!ok)
      fprintf(stderr, "case %s failed\n", cases[i].name);
    CHECK(ok);
    run++;
  }
  printf("%d cases\n", run);
  CHECK(run > 0);
  cgh_close(harness);
  return check_finish();
}
