/* fold-batchnorm keeps the numbers: each module runs through the reference interpreter before
 * and after the pass on the same random input, and the outputs agree to float rounding. */
#include <math.h>
#include <stdlib.h>

#include "check.h"
#include "frontend/text/parse.h"
#include "passes/interp.h"
#include "passes/pass.h"

/* Parses text, runs it on a fixed pseudo-random input, folds, runs again; returns the largest
 * relative difference, or -1 if anything failed. *nremoved receives the op count removed. */
static double fold_error(const char *text, int *nremoved) {
  Diag d;
  ir_diag_init(&d, "t", text, strlen(text));
  Module *m = fe_parse_text(text, strlen(text), &d);
  if (!m || ir_verify(m, &d) != 0) {
    ir_module_free(m);
    return -1;
  }
  Value *in = m->inputs[0];
  int64_t n = ir_type_numel(&in->type);
  float *x = malloc(sizeof *x * (size_t)n);
  srand(7);
  for (int64_t i = 0; i < n; i++)
    x[i] = (float)rand() / (float)RAND_MAX * 2 - 1;
  Tensor tin = {in->type, x, sizeof *x * (size_t)n}, before = {0}, after = {0};
  char err[256];
  int ops_before = 0, ops_after = 0;
  for (Op *op = m->body.first; op; op = op->next)
    ops_before++;
  bool ok = pass_interp_module(m, &tin, 1, &before, 1, err, sizeof err);
  Pipeline pl = {0};
  ok = ok && pass_pipeline_parse("fold-batchnorm,canonicalize", &pl, err, sizeof err);
  PassManagerOptions pm = {.verify_each = true};
  ok = ok && pass_pipeline_run(&pl, m, &d, &pm);
  pass_pipeline_free(&pl);
  ok = ok && pass_interp_module(m, &tin, 1, &after, 1, err, sizeof err);
  for (Op *op = m->body.first; op; op = op->next)
    ops_after++;
  *nremoved = ops_before - ops_after;
  double worst = ok ? 0 : -1;
  int64_t count = ok ? ir_type_numel(&before.type) : 0;
  for (int64_t i = 0; i < count; i++) {
    double a = ((float *)before.data)[i], b = ((float *)after.data)[i];
    double rel = fabs(a - b) / (fabs(a) + 1e-3);
    if (rel > worst)
      worst = rel;
  }
  if (!ok)
    fprintf(stderr, "fold_error: %s\n", err);
  free(x);
  ir_module_free(m);
  return worst;
}

static const char conv_bn[] =
    "module {\n"
    "  input %x : f32[2,3,5,5]\n"
    "  weight $w : f32[4,3,3,3] = dense_resource<w>\n"
    "  weight $b : f32[4] = dense<[0.1, -0.2, 0.3, 0.4]>\n"
    "  weight $s : f32[4] = dense<[1.5, 0.5, -2.0, 1.0]>\n"
    "  weight $t : f32[4] = dense<[0.0, 1.0, -1.0, 0.5]>\n"
    "  weight $mu : f32[4] = dense<[0.2, -0.1, 0.0, 0.3]>\n"
    "  weight $var : f32[4] = dense<[1.0, 0.25, 4.0, 0.5]>\n"
    "  weight $k : f32[4,1,1] = dense<[2.0, -1.0, 0.5, 3.0]>\n"
    "  %c = conv(%x, $w, $b) {pads = [1, 1, 1, 1], strides = [2, 1]} : f32[2,4,3,5]\n"
    "  %n = batch_norm(%c, $s, $t, $mu, $var) : f32[2,4,3,5]\n"
    "  %m = mul(%n, $k) : f32[2,4,3,5]\n"
    "  %a = add(%m, $k) : f32[2,4,3,5]\n"
    "  output %a\n"
    "}\n";

static const char convt_bn[] =
    "module {\n"
    "  input %x : f32[1,4,3,3]\n"
    "  weight $w : f32[4,3,2,2] = dense_resource<w>\n"
    "  weight $s : f32[6] = dense<[1.5, 0.5, -2.0, 1.0, 0.25, 3.0]>\n"
    "  weight $t : f32[6] = dense<[0.0, 1.0, -1.0, 0.5, 2.0, -0.5]>\n"
    "  weight $mu : f32[6] = dense<[0.2, -0.1, 0.0, 0.3, 1.0, -1.0]>\n"
    "  weight $var : f32[6] = dense<[1.0, 0.25, 4.0, 0.5, 2.0, 1.0]>\n"
    "  %c = conv_transpose(%x, $w) {group = 2, strides = [2, 2]} : f32[1,6,6,6]\n"
    "  %n = batch_norm(%c, $s, $t, $mu, $var) : f32[1,6,6,6]\n"
    "  output %n\n"
    "}\n";

static const char gemm_bn[] =
    "module {\n"
    "  input %x : f32[3,4]\n"
    "  weight $w : f32[5,4] = dense_resource<w>\n"
    "  weight $c : f32[5] = dense<[0.5, 1.0, -1.0, 2.0, 0.0]>\n"
    "  weight $s : f32[5] = dense<[1.5, 0.5, -2.0, 1.0, 0.25]>\n"
    "  weight $t : f32[5] = dense<[0.0, 1.0, -1.0, 0.5, 2.0]>\n"
    "  weight $mu : f32[5] = dense<[0.2, -0.1, 0.0, 0.3, 1.0]>\n"
    "  weight $var : f32[5] = dense<[1.0, 0.25, 4.0, 0.5, 2.0]>\n"
    "  %g = gemm(%x, $w, $c) {alpha = 0.5, beta = 2.0, trans_b = 1} : f32[3,5]\n"
    "  %n = batch_norm(%g, $s, $t, $mu, $var) : f32[3,5]\n"
    "  output %n\n"
    "}\n";

/* Appends a resources section with n pseudo-random floats under key w. */
static char *with_weights(const char *text, int n) {
  Buf b = {0};
  ir_buf_puts(&b, text);
  ir_buf_puts(&b, "resources {\n  w = \"0x");
  srand(3);
  for (int i = 0; i < n; i++) {
    float f = (float)rand() / (float)RAND_MAX - 0.5f;
    unsigned char bytes[4];
    memcpy(bytes, &f, 4);
    for (int j = 0; j < 4; j++)
      ir_buf_printf(&b, "%02X", bytes[j]);
  }
  ir_buf_puts(&b, "\"\n}\n");
  char *s = strdup(ir_buf_str(&b));
  ir_buf_free(&b);
  return s;
}

int main(void) {
  struct {
    const char *text;
    int nweights, removed;
  } cases[] = {{conv_bn, 4 * 3 * 3 * 3, 3}, {convt_bn, 4 * 3 * 2 * 2, 1}, {gemm_bn, 5 * 4, 1}};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char *text = with_weights(cases[i].text, cases[i].nweights);
    int removed = 0;
    double err = fold_error(text, &removed);
    if (err < 0 || err > 1e-5)
      fprintf(stderr, "case %zu: relative error %g\n", i, err);
    CHECK(err >= 0 && err <= 1e-5);
    CHECK(removed == cases[i].removed);
    free(text);
  }
  return check_finish();
}
