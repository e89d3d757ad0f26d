/* test_memory.c - the memory plan (codegen/memory.h) on small modules after segment and fuse:
 * buffers live at the same time never overlap, every tensor lies inside its buffer, views and
 * segment results share their operand's storage, in-place concat inputs are windows of the
 * concat's output, and reuse makes the pool smaller than the naive sum. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "codegen/memory.h"
#include "frontend/text/parse.h"
#include "passes/pass.h"

static Module *compile(const char *text, const char *pipeline) {
  Diag d;
  ir_diag_init(&d, "test", text, strlen(text));
  Module *m = fe_parse_text(text, strlen(text), &d);
  CHECK(m != NULL);
  Pipeline pl = {0};
  char err[256];
  CHECK(pass_pipeline_parse(pipeline, &pl, err, sizeof err));
  PassManagerOptions pm = {.verify_each = true, .dump = stderr};
  CHECK(pass_pipeline_run(&pl, m, &d, &pm));
  pass_pipeline_free(&pl);
  return m;
}

/* The byte just past the last element of t (at max batch). */
static uint64_t extent(const CgTensor *t, int max_batch) {
  uint64_t last = 0;
  for (int i = 0; i < t->type.rank; i++) {
    int64_t d = t->type.dims[i] == IR_DIM_N ? max_batch : t->type.dims[i];
    if (d == 0)
      return t->offset;
    last += (uint64_t)((d - 1) * t->strides[i]);
  }
  return t->offset + (last + 1) * ir_dtype_size(t->type.dtype);
}

/* The plan's invariants, whatever the module. */
static void check_invariants(const Module *m, const CgMemory *mem, int max_batch) {
  for (int a = 0; a < mem->nbuffers; a++) {
    const CgBuffer *A = &mem->buffers[a];
    CHECK(A->offset % 64 == 0 && A->offset + A->bytes <= mem->act_bytes);
    for (int b = a + 1; b < mem->nbuffers; b++) {
      const CgBuffer *B = &mem->buffers[b];
      bool live_together = A->first <= B->last && B->first <= A->last;
      bool apart = A->offset + A->bytes <= B->offset || B->offset + B->bytes <= A->offset;
      CHECK(!live_together || apart);
    }
  }
  for (int id = 0; id < m->next_id; id++) {
    int b = mem->buffer_of[id];
    const CgTensor *t = &mem->tensor[id];
    if (b < 0)
      continue;
    const CgBuffer *B = &mem->buffers[b];
    CHECK(t->pool == CG_POOL_ACT && t->offset >= B->offset &&
          extent(t, max_batch) <= B->offset + B->bytes);
  }
  /* Every step's tensors are live at that step. */
  for (int s = 0; s < mem->nsteps; s++) {
    const Op *op = mem->steps[s].op;
    for (int i = 0; i < op->noperands + op->nresults; i++) {
      const Value *v = i < op->noperands ? op->operands[i].value : op->results[i - op->noperands];
      int b = mem->buffer_of[v->id];
      CHECK(v->kind == VAL_WEIGHT || b >= 0);
      if (b >= 0)
        CHECK(mem->buffers[b].first <= s && s <= mem->buffers[b].last);
    }
  }
  CHECK(mem->act_bytes <= mem->naive_bytes);
}

static const char *const convs =
    "module {\n"
    "  input %x : f32[N,2,8,8]\n"
    "  weight $w : f32[2,2,3,3] = dense_resource<__elided__>\n"
    "  %a = conv(%x, $w) {pads = [1,1,1,1]} : f32[N,2,8,8]\n"
    "  %b = conv(%a, $w) {pads = [1,1,1,1]} : f32[N,2,8,8]\n"
    "  %c = conv(%b, $w) {pads = [1,1,1,1]} : f32[N,2,8,8]\n"
    "  %d = conv(%c, $w) {pads = [1,1,1,1]} : f32[N,2,8,8]\n"
    "  %e = conv(%d, $w) {pads = [1,1,1,1]} : f32[N,2,8,8]\n"
    "  output %e\n"
    "}\n";

static void test_chain_reuses(void) {
  Module *m = compile(convs, "infer-shapes,segment{min-size=1},fuse");
  CgMemory mem;
  char err[256] = "";
  CgOptions opt = {.max_batch = 4};
  /* Elided weights have no data: the plan says so. */
  CHECK(!cg_plan_memory(m, &opt, &mem, err, sizeof err));
  CHECK(strstr(err, "weight $w is elided") != NULL);
  float w[36] = {0};
  Value *wv = ir_lookup_value(m, '$', "w");
  wv->tensor->data = w;
  CHECK(cg_plan_memory(m, &opt, &mem, err, sizeof err));
  CHECK(mem.nsteps == 5);
  check_invariants(m, &mem, 4);
  /* 6 tensors of 4*2*8*8*4 = 2048 bytes; a chain needs 2 (input and output live throughout: 3
   * when the middle ones alternate). */
  CHECK(mem.naive_bytes == 6 * 2048);
  CHECK(mem.act_bytes <= 4 * 2048);
  CHECK(mem.weights_bytes == 192); /* 144 bytes, aligned to 64 */
  CHECK(mem.tensor[wv->id].pool == CG_POOL_WEIGHTS && mem.tensor[wv->id].offset == 0);
  cg_memory_free(&mem);
  wv->tensor->data = NULL;
  ir_module_free(m);
}

static const char *const mixed =
    "module {\n"
    "  input %x : f32[1,4,2,2]\n"
    "  weight $w : f32[4,4,1,1] = dense<[1.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 1.0]>\n"
    "  %a = relu(%x) : f32[1,4,2,2]\n"
    "  %b = conv(%x, $w) : f32[1,4,2,2]\n"
    "  %c = concat(%a, %b) {axis = 1} : f32[1,8,2,2]\n"
    "  %f = flatten(%c) {axis = 1} : f32[1,32]\n"
    "  %v, %i = top_k(%f) {axis = 1, k = 3} : f32[1,3], i64[1,3]\n"
    "  %e = exp(%v) : f32[1,3]\n"
    "  %g = neg(%e) : f32[1,3]\n"
    "  %h = tanh(%g) : f32[1,3]\n"
    "  output %h, %i\n"
    "}\n";

static void test_views_concat_host(void) {
  Module *m = compile(mixed, "infer-shapes,segment{min-size=1},fuse");
  CgMemory mem;
  char err[256] = "";
  CgOptions opt = {.max_batch = 1};
  CHECK(cg_plan_memory(m, &opt, &mem, err, sizeof err));
  check_invariants(m, &mem, 1);
  int kernels = 0, host = 0;
  for (int s = 0; s < mem.nsteps; s++)
    *(mem.steps[s].kind == CG_STEP_KERNEL ? &kernels : &host) += 1;
  CHECK(host == 1 && kernels == 3); /* relu, conv, exp..tanh; top_k on the host */
  /* The concat's inputs are windows of its output: offsets 0 and 4 channels in, its strides. */
  const Value *c = ir_lookup_value(m, '%', "c");
  const Value *f = ir_lookup_value(m, '%', "f");
  const Value *a = ir_lookup_value(m, '%', "a"), *b = ir_lookup_value(m, '%', "b");
  const CgTensor *tc = cg_memory_tensor(&mem, c), *tf = cg_memory_tensor(&mem, f);
  CHECK(tc && tf && tf->offset == tc->offset && mem.buffer_of[f->id] == mem.buffer_of[c->id]);
  CHECK(tf->type.rank == 2 && tf->strides[1] == 1);
  /* a and b are the fused ops' inner values; their kernels' results carry the windows. */
  const Value *ra = a->uses->owner->kind == OP_YIELD ? a->def->parent->parent->results[0] : NULL;
  (void)b;
  CHECK(ra != NULL);
  const CgTensor *ta = ra ? cg_memory_tensor(&mem, ra) : NULL;
  CHECK(ta && ta->offset == tc->offset && ta->strides[0] == 32 && ta->strides[1] == 4);
  for (const Op *op = c->def->operands[1].value->def; op; op = NULL) {
    const CgTensor *tb = cg_memory_tensor(&mem, op->results[0]);
    CHECK(tb && tb->offset == tc->offset + 4 * 4 * 4 && tb->strides[0] == 32);
  }
  cg_memory_free(&mem);
  ir_module_free(m);
}

static void test_unknown_shape(void) {
  const char *text = "module {\n  input %x : f32[4]\n  %n = non_zero(%x) : ?\n  output %n\n}\n";
  Module *m = compile(text, "segment{min-size=1},fuse");
  CgMemory mem;
  char err[256] = "";
  CgOptions opt = {.max_batch = 1};
  CHECK(!cg_plan_memory(m, &opt, &mem, err, sizeof err));
  CHECK(strstr(err, "has type ?: engines need static shapes") != NULL);
  ir_module_free(m);
}

int main(void) {
  test_chain_reuses();
  test_views_concat_host();
  test_unknown_shape();
  return check_finish();
}
