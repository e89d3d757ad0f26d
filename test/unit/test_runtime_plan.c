/* test_runtime_plan.c - the plan parser (runtime/plan.c) on its own, against the runtime's
 * sources only (plan.c and the reference kernels; no compiler, no OpenCL): what a parsed plan
 * holds, which the engine tests see only through runs. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "runtime/plan.h"

static bool parse(const char *text, RtPlan *p, char *err, size_t n) {
  return rt_plan_parse(text, strlen(text), p, err, n);
}

static void test_fields(void) {
  const char *text = "kiln-plan 1\n"
                     "max-batch 8\n"
                     "pool act 4096\n"
                     "pool weights 128\n"
                     "tensor 0 act 0 f32 1 3 N 2 3\n"
                     "tensor 1 act 256 f16 1 3 N 3 2\n"
                     "strides 1 6 1 3\n"
                     "tensor 2 weights 64 i64 0 1 8\n"
                     "tensor 3 act 1024 u8 0 0\n"
                     "input in%2Fput%25 0\n"
                     "output out 3\n"
                     "kernel k_0 2 5 7 0 0 -1\n"
                     "kernel K 3 1 2 3 1 1 1 2\n"
                     "host resize 1 1 0 3 attrs 6\n"
                     "attr mode string %\n"
                     "attr axes ints 3 -1 0 9223372036854775807\n"
                     "attr scales floats 2 0.5 -inf\n"
                     "attr b%20c strings 3 x % y%20z\n"
                     "attr alpha float 1e-3\n"
                     "attr a int -9223372036854775808\n";
  RtPlan p;
  char err[256];
  bool ok = parse(text, &p, err, sizeof err);
  CHECK(ok);
  if (!ok) {
    fprintf(stderr, "%s\n", err);
    return;
  }
  CHECK(p.max_batch == 8 && p.act_bytes == 4096 && p.weights_bytes == 128);
  CHECK(p.ntensors == 4);
  CHECK(p.tensors[0].batched && p.tensors[0].dims[0] == 8 && p.tensors[0].contiguous);
  CHECK(p.tensors[0].item_bytes == 24 && p.tensors[0].extent == 192);
  CHECK(!p.tensors[1].contiguous && p.tensors[1].strides[0] == 6 && p.tensors[1].strides[1] == 1);
  CHECK(p.tensors[1].extent == 2 * (7 * 6 + 2 * 1 + 1 * 3 + 1)); /* last element + 1, f16 */
  CHECK(p.tensors[2].pool == RT_POOL_WEIGHTS && p.tensors[2].dtype == RT_ELEM_I64);
  CHECK(p.tensors[3].rank == 0 && p.tensors[3].item_bytes == 1);
  CHECK(p.ninputs == 1 && p.noutputs == 1);
  CHECK_STR(p.inputs[0].name, "in/put%");
  CHECK(p.nsteps == 3);
  const RtStep *k = &p.steps[0], *k2 = &p.steps[1], *h = &p.steps[2];
  CHECK(k->kind == RT_STEP_KERNEL && k->work_dim == 2 && k->global[1] == 7 && k->local[0] == 0);
  CHECK(k->batch_dim == -1 && k->line == 12);
  CHECK(k2->work_dim == 3 && k2->global[2] == 3 && k2->local[2] == 1 && k2->batch_dim == 2);
  CHECK(h->kind == RT_STEP_HOST && h->op == OP_RESIZE && h->ninputs == 1 && h->noutputs == 1);
  CHECK(h->tensors[0] == 0 && h->tensors[1] == 3);
  CHECK(h->nattrs == 6);
  if (h->nattrs == 6) { /* sorted by name: a alpha axes b c mode scales */
    CHECK_STR(h->attrs[0].name, "a");
    CHECK(h->attrs[0].kind == RT_ATTR_INT && h->attrs[0].i == INT64_MIN);
    CHECK_STR(h->attrs[1].name, "alpha");
    CHECK(h->attrs[1].kind == RT_ATTR_FLOAT && h->attrs[1].f == 1e-3);
    CHECK_STR(h->attrs[2].name, "axes");
    CHECK(h->attrs[2].kind == RT_ATTR_INTS && h->attrs[2].n == 3 &&
          h->attrs[2].ints[0] == -1 && h->attrs[2].ints[2] == INT64_MAX);
    CHECK_STR(h->attrs[3].name, "b c");
    CHECK(h->attrs[3].kind == RT_ATTR_STRINGS && h->attrs[3].n == 3);
    CHECK_STR(h->attrs[3].strings[1], "");
    CHECK_STR(h->attrs[3].strings[2], "y z");
    CHECK_STR(h->attrs[4].name, "mode");
    CHECK(h->attrs[4].kind == RT_ATTR_STRING);
    CHECK_STR(h->attrs[4].s, "");
    CHECK_STR(h->attrs[5].name, "scales");
    CHECK(h->attrs[5].kind == RT_ATTR_FLOATS && h->attrs[5].floats[1] < -1e308);
  }
  rt_plan_free(&p);
  CHECK(p.nsteps == 0 && p.tensors == NULL);
  rt_plan_free(&p); /* harmless twice */
}

/* A plan need not end in a newline or a NUL, and the parser reads no byte past its length. */
static void test_bounds(void) {
  const char *text = "kiln-plan 1\nmax-batch 1\npool act 4\npool weights 0\n"
                     "tensor 0 act 0 f32 0 0\noutput o 0";
  size_t n = strlen(text);
  char *exact = malloc(n); /* no terminator: ASan catches a read past the end */
  memcpy(exact, text, n);
  RtPlan p;
  char err[256];
  CHECK(rt_plan_parse(exact, n, &p, err, sizeof err));
  CHECK(p.noutputs == 1);
  rt_plan_free(&p);
  for (size_t k = 0; k < n; k++) { /* every prefix but the whole is refused, never a crash */
    char *pre = malloc(k + 1);
    memcpy(pre, text, k);
    bool ok = rt_plan_parse(pre, k, &p, err, sizeof err);
    CHECK(!ok);
    CHECK(ok || strncmp(err, "plan line ", 10) == 0);
    rt_plan_free(&p);
    free(pre);
  }
  free(exact);
  CHECK(!rt_plan_parse("kiln-plan 1", 11, &p, err, 0)); /* errlen 0: no write */
}

int main(void) {
  test_fields();
  test_bounds();
  return check_finish();
}
