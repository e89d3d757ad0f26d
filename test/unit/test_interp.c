/* test_interp.c - passes/interp.c: one op through pass_eval_op, and a small batched network
 * (conv -> relu -> global_avg_pool -> flatten -> gemm -> softmax, two ops in a fused region)
 * through pass_interp_module, checked against the same network computed directly. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "passes/interp.h"

static Type f32(int rank, const int64_t *dims) { return ir_type_make(DT_F32, rank, dims); }

static Value *weight(Module *m, const char *name, Type t, const void *data) {
  size_t nbytes = (size_t)ir_type_numel(&t) * ir_dtype_size(t.dtype);
  return ir_add_weight(m, name, t, data, nbytes);
}

/* Appends an op with one result of type t to block b. */
static Op *emit(Module *m, Block *b, OpKind k, int n, Value *const *operands, Type t) {
  Op *op = ir_op_create(m, k, n, operands, 1, &t);
  ir_block_append(b, op);
  return op;
}

static void output(Module *m, Value *v) {
  Op *op = ir_op_create(m, OP_OUTPUT, 1, &v, 0, NULL);
  ir_op_set_strings(m, op, "names", (const char *const[]){"y"}, 1);
  ir_block_append(&m->body, op);
}

static const float W[8] = {1, 0, 0, -1, 0.5f, 0.5f, 0.5f, 0.5f}, B[2] = {0.1f, -2};
static const float G[6] = {1, -1, 0.5f, 2, 0, -0.5f}, C[3] = {0, 0.25f, -0.25f};

/* x[N,1,3,3] -> conv 2x2 (2 channels) -> relu -> mean -> [N,2] x G[2,3] + C -> softmax. */
static void direct(const float *x, int batch, double *y) {
  for (int n = 0; n < batch; n++) {
    double feat[2];
    for (int m = 0; m < 2; m++) {
      double sum = 0;
      for (int i = 0; i < 2; i++)
        for (int j = 0; j < 2; j++) {
          double v = B[m];
          for (int ki = 0; ki < 2; ki++)
            for (int kj = 0; kj < 2; kj++)
              v += x[n * 9 + (i + ki) * 3 + j + kj] * W[m * 4 + ki * 2 + kj];
          sum += v > 0 ? v : 0;
        }
      feat[m] = sum / 4;
    }
    double z[3], mx = -INFINITY, total = 0;
    for (int k = 0; k < 3; k++) {
      z[k] = feat[0] * G[k] + feat[1] * G[3 + k] + C[k];
      mx = z[k] > mx ? z[k] : mx;
    }
    for (int k = 0; k < 3; k++)
      total += exp(z[k] - mx);
    for (int k = 0; k < 3; k++)
      y[n * 3 + k] = exp(z[k] - mx) / total;
  }
}

static Module *build(void) {
  Module *m = ir_module_new("net");
  Value *x = ir_add_input(m, "x", f32(4, (int64_t[]){IR_DIM_N, 1, 3, 3}));
  Value *w = weight(m, "w", f32(4, (int64_t[]){2, 1, 2, 2}), W);
  Value *b = weight(m, "b", f32(1, (int64_t[]){2}), B);
  Value *g = weight(m, "g", f32(2, (int64_t[]){2, 3}), G);
  Value *c = weight(m, "c", f32(1, (int64_t[]){3}), C);
  Op *conv = emit(m, &m->body, OP_CONV, 3, (Value *[]){x, w, b},
                  f32(4, (int64_t[]){IR_DIM_N, 2, 2, 2}));
  ir_value_set_name(m, conv->results[0], "c0");
  Type pooled = f32(4, (int64_t[]){IR_DIM_N, 2, 1, 1});
  Op *fused = ir_op_create(m, OP_FUSED, 1, conv->results, 1, &pooled);
  Block *body = ir_op_add_body(m, fused);
  Op *relu = emit(m, body, OP_RELU, 1, conv->results, f32(4, (int64_t[]){IR_DIM_N, 2, 2, 2}));
  Op *gap = emit(m, body, OP_GLOBAL_AVG_POOL, 1, relu->results, pooled);
  ir_block_append(body, ir_op_create(m, OP_YIELD, 1, gap->results, 0, NULL));
  ir_block_append(&m->body, fused);
  Op *flat = emit(m, &m->body, OP_FLATTEN, 1, fused->results, f32(2, (int64_t[]){IR_DIM_N, 2}));
  Op *gemm = emit(m, &m->body, OP_GEMM, 3, (Value *[]){flat->results[0], g, c},
                  f32(2, (int64_t[]){IR_DIM_N, 3}));
  ir_value_set_name(m, gemm->results[0], "logits");
  Op *sm = emit(m, &m->body, OP_SOFTMAX, 1, gemm->results, f32(2, (int64_t[]){IR_DIM_N, 3}));
  output(m, sm->results[0]);
  return m;
}

static void test_network(void) {
  Module *m = build();
  float x[18];
  for (int i = 0; i < 18; i++)
    x[i] = (float)((i * 7) % 11) / 5 - 1;
  Tensor in = {f32(4, (int64_t[]){2, 1, 3, 3}), x, sizeof x}, out;
  char err[256] = "";
  CHECK(pass_interp_module(m, &in, 1, &out, 1, err, sizeof err));
  CHECK_STR(err, "");
  CHECK(out.type.rank == 2 && out.type.dims[0] == 2 && out.type.dims[1] == 3);
  CHECK(out.nbytes == 6 * sizeof(float));
  double want[6];
  direct(x, 2, want);
  bool ok = true;
  for (int i = 0; i < 6; i++)
    ok &= fabs(((const float *)out.data)[i] - want[i]) <= 1e-6;
  CHECK(ok);
  /* Batch 1 through the same module. */
  in.type.dims[0] = 1;
  in.nbytes = 9 * sizeof(float);
  CHECK(pass_interp_module(m, &in, 1, &out, 1, err, sizeof err));
  CHECK(out.type.dims[0] == 1 && fabs(((const float *)out.data)[2] - want[2]) <= 1e-6);
  ir_module_free(m);
}

static void test_errors(void) {
  Module *m = build();
  float x[9] = {0};
  char err[256] = "";
  Tensor in = {f32(4, (int64_t[]){1, 2, 3, 3}), x, sizeof x}, out;
  CHECK(!pass_interp_module(m, &in, 1, &out, 1, err, sizeof err));
  CHECK_STR(err, "input %x has type f32[1,2,3,3], expected f32[N,1,3,3]");
  CHECK(!pass_interp_module(m, &in, 0, &out, 1, err, sizeof err));
  CHECK_STR(err, "0 inputs given, the module has 1");
  ir_module_free(m);

  /* A kernel's failure names the op and its result. */
  m = ir_module_new(NULL);
  Value *d = weight(m, "d", f32(1, (int64_t[]){3}), (float[]){1, 2, 3});
  Value *i = weight(m, "i", ir_type_make(DT_I64, 1, (int64_t[]){1}), (int64_t[]){5});
  Op *ga = emit(m, &m->body, OP_GATHER, 2, (Value *[]){d, i}, f32(1, (int64_t[]){1}));
  ir_value_set_name(m, ga->results[0], "g");
  output(m, ga->results[0]);
  CHECK(!pass_interp_module(m, NULL, 0, &out, 1, err, sizeof err));
  CHECK_STR(err, "'gather' op (%g): index 5 is out of range for dimension 0 of size 3");
  ir_module_free(m);
}

static void test_eval_op(void) {
  Module *m = ir_module_new(NULL);
  Type t23 = f32(2, (int64_t[]){2, 3});
  Value *a = weight(m, "a", t23, (float[]){1, 2, 3, 4, 5, 6});
  Op *tr = emit(m, &m->body, OP_TRANSPOSE, 1, &a, f32(2, (int64_t[]){3, 2}));
  const Tensor *in[1] = {a->tensor};
  Tensor out;
  char err[256] = "";
  CHECK(pass_eval_op(m, tr, in, &out, err, sizeof err));
  const float *v = out.data;
  CHECK(out.nbytes == 24 && v[0] == 1 && v[1] == 4 && v[2] == 2 && v[5] == 6);
  /* Unknown result types and kernel refusals name the op. */
  Op *bad = ir_op_create(m, OP_SIGMOID, 1, &a, 1, NULL);
  ir_block_append(&m->body, bad);
  CHECK(!pass_eval_op(m, bad, in, &out, err, sizeof err));
  CHECK_STR(err, "'sigmoid' op (%1): result 0 has type ?, not known and static");
  Value *q = weight(m, "q", ir_type_make(DT_I8, 1, (int64_t[]){2}), (int8_t[]){1, 2});
  Op *ex = emit(m, &m->body, OP_EXP, 1, &q, ir_type_make(DT_I8, 1, (int64_t[]){2}));
  ir_value_set_name(m, ex->results[0], "e");
  CHECK(!pass_eval_op(m, ex, (const Tensor *[]){q->tensor}, &out, err, sizeof err));
  CHECK_STR(err, "'exp' op (%e): element type i8 has no reference kernel");
  /* Multiple results: split. */
  Type t13 = f32(2, (int64_t[]){1, 3});
  Op *sp = ir_op_create(m, OP_SPLIT, 1, &a, 2, (Type[]){t13, t13});
  ir_block_append(&m->body, sp);
  Tensor parts[2];
  CHECK(pass_eval_op(m, sp, in, parts, err, sizeof err));
  CHECK(((const float *)parts[0].data)[2] == 3 && ((const float *)parts[1].data)[0] == 4);
  ir_module_free(m);
}

/* non_zero (F_DATA_SHAPE): its result type stays unknown; pass_eval_op and the interpreter
 * take the shape from the kernel. */
static void test_data_shape(void) {
  Module *m = ir_module_new(NULL);
  Value *x = ir_add_input(m, "x", f32(2, (int64_t[]){2, 2}));
  Op *nz = ir_op_create(m, OP_NON_ZERO, 1, &x, 1, NULL);
  ir_block_append(&m->body, nz);
  output(m, nz->results[0]);
  CHECK(!ir_type_is_known(&nz->results[0]->type));
  float xv[4] = {0, 2, 3, 0};
  Tensor in = {f32(2, (int64_t[]){2, 2}), xv, sizeof xv}, out;
  char err[256] = "";
  CHECK(pass_interp_module(m, &in, 1, &out, 1, err, sizeof err));
  CHECK_STR(err, "");
  CHECK(out.type.dtype == DT_I64 && out.type.rank == 2 && out.type.dims[0] == 2 &&
        out.type.dims[1] == 2 && out.nbytes == 4 * sizeof(int64_t));
  const int64_t *v = out.data;
  CHECK(v[0] == 0 && v[1] == 1 && v[2] == 1 && v[3] == 0);
  const Tensor *pin[1] = {&in};
  Tensor one;
  CHECK(pass_eval_op(m, nz, pin, &one, err, sizeof err));
  CHECK(one.type.dims[1] == 2 && one.nbytes == 32 && ((const int64_t *)one.data)[1] == 1);
  ir_module_free(m);
}

int main(void) {
  test_network();
  test_errors();
  test_eval_op();
  test_data_shape();
  return check_finish();
}
