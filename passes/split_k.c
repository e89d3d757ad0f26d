/* split_k.c - the `split-k{ways=8,min-k=2048,max-positions=256}` pass: a conv whose reduction is
 * long and whose output is small becomes S partial convs and a sum, so that a GPU has S times
 * the work-groups for the same FLOPs.
 *
 * An implicit-GEMM conv gives one output element to one work-item, which walks the whole
 * reduction K = Cin * kh * kw. ResNet-50's layer4 3x3 convs have K = 4608 but only 512 x 49
 * outputs at batch 1: 128 work-groups of 16x16 on a 132-SM GPU, each walking 4608 alone
 * (test/bench/NOTES.md). Splitting the input channels into S slices gives S independent partial
 * sums, written as one grouped conv and a reduce_sum:
 *
 *   y = conv(x, W)            W: [M, Cin, kh, kw]
 *   =>
 *   p = conv(x, W') {group = S}      W'[s*M + m, c] = W[m, s*Cin/S + c]   p: [N, S*M, OH, OW]
 *   r = reshape(p) {shape = [0, S, M, OH, OW]}                           (a view)
 *   y = reduce_sum(r) {axes = [1], keepdims = 0}  (+ bias: add of b as [M, 1, 1])
 *
 * fuse then gives the grouped conv its own kernel and the reduce_sum the conv's old epilogue
 * (bias, activation, residual add). The sum runs in another order: results move by rounding
 * only (--check-numerics shows it).
 *
 * Candidates: conv with group 1, 2 spatial axes, f32 weights (and bias) with data, Cin divisible
 * by `ways`, K >= min-k and OH * OW <= max-positions. Not in the default pipeline: it pays on a
 * GPU and costs a kernel on a CPU; kiln-compile --split-k adds it before segment.
 * Requires: known types. Creates: new weights (W', the bias as [M,1,1]). */
#include <stdlib.h>
#include <string.h>

#include "pass.h"

static const float *f32_data(const Value *v) {
  if (v->kind != VAL_WEIGHT || !v->tensor->data || v->type.dtype != DT_F32 || v->type.quantized)
    return NULL;
  return v->tensor->data;
}

/* Whether conv qualifies; why says what stops it (NULL: not a candidate worth a remark). */
static bool candidate(const PassContext *pc, const Op *op, int ways, const char **why) {
  *why = NULL;
  const Value *w = op->operands[1].value;
  const Type *y = &op->results[0]->type;
  if (ir_attr_int(op, "group", 1) != 1 || w->type.rank != 4 || y->rank != 4 ||
      !ir_type_is_known(y))
    return false;
  int64_t cin = w->type.dims[1], k = cin * w->type.dims[2] * w->type.dims[3];
  if (k < pass_opt_int(pc, "min-k") || y->dims[2] * y->dims[3] > pass_opt_int(pc, "max-positions"))
    return false;
  if (!f32_data(w) || (op->noperands > 2 && !f32_data(op->operands[2].value)))
    return *why = "its weights are not f32 constants with data", false;
  if (cin % ways != 0)
    return *why = "its input channels do not divide into the ways", false;
  return true;
}

static void split(PassContext *pc, Op *conv, int ways) {
  Module *m = pc->m;
  const Value *w = conv->operands[1].value;
  const float *wd = f32_data(w);
  int64_t M = w->type.dims[0], cin = w->type.dims[1], kk = w->type.dims[2] * w->type.dims[3];
  int64_t cg = cin / ways;
  Type wt = w->type;
  wt.dims[0] = M * ways;
  wt.dims[1] = cg;
  size_t n = (size_t)(M * cin * kk);
  float *wg = malloc(n * sizeof *wg);
  if (!wg)
    abort();
  for (int64_t s = 0; s < ways; s++)
    for (int64_t o = 0; o < M; o++)
      memcpy(wg + ((s * M + o) * cg) * kk, wd + (o * cin + s * cg) * kk,
             (size_t)(cg * kk) * sizeof *wg);
  Value *wv = ir_add_weight(m, NULL, wt, wg, n * sizeof *wg);
  free(wg);

  const Type *y = &conv->results[0]->type;
  Type pt = *y;
  pt.dims[1] = M * ways;
  Value *ops[2] = {conv->operands[0].value, wv};
  Op *p = ir_op_create(m, OP_CONV, 2, ops, 1, &pt);
  for (int i = 0; i < conv->nattrs; i++)
    ir_op_set_attr(m, p, &conv->attrs[i]);
  ir_op_set_int(m, p, "group", ways);
  ir_op_set_sym(m, p, conv->sym);
  ir_op_insert_before(conv, p);

  int64_t shape[5] = {y->dims[0] == IR_DIM_N ? 0 : y->dims[0], ways, M, y->dims[2], y->dims[3]};
  Type rt = ir_type_make(DT_F32, 5, shape);
  rt.dims[0] = y->dims[0];
  Op *r = ir_op_create(m, OP_RESHAPE, 1, &p->results[0], 1, &rt);
  ir_op_set_ints(m, r, "shape", shape, 5);
  ir_op_insert_before(conv, r);

  int64_t axis = 1;
  Op *sum = ir_op_create(m, OP_REDUCE_SUM, 1, &r->results[0], 1, y);
  ir_op_set_ints(m, sum, "axes", &axis, 1);
  ir_op_set_int(m, sum, "keepdims", 0);
  ir_op_insert_before(conv, sum);
  Value *result = sum->results[0];

  if (conv->noperands > 2) {
    const Value *b = conv->operands[2].value;
    int64_t bd[3] = {M, 1, 1};
    Value *bv = ir_add_weight(m, NULL, ir_type_make(DT_F32, 3, bd), f32_data(b), b->tensor->nbytes);
    Value *aops[2] = {result, bv};
    Op *add = ir_op_create(m, OP_ADD, 2, aops, 1, y);
    ir_op_insert_before(conv, add);
    result = add->results[0];
  }
  /* The final value takes the conv's name (an ONNX tensor name stays findable). */
  const char *name = conv->results[0]->name;
  ir_value_replace_all_uses(conv->results[0], result);
  ir_value_set_name(m, conv->results[0], NULL);
  ir_op_erase(conv);
  if (name)
    ir_value_set_name(m, result, name);
}

static bool run(PassContext *pc) {
  int64_t ways = pass_opt_int(pc, "ways");
  if (ways < 2 || ways > 64) {
    ir_error(pc->diag, (Loc){0}, "split-k: option 'ways' must be from 2 to 64, got %lld",
             (long long)ways);
    return false;
  }
  for (Op *op = pc->m->body.first, *next; op; op = next) {
    next = op->next;
    if (op->kind != OP_CONV)
      continue;
    const char *why;
    if (candidate(pc, op, (int)ways, &why))
      split(pc, op, (int)ways);
    else if (why)
      pass_remark(pc, op, "'conv' not split over its input channels: %s", why);
  }
  return true;
}

static const PassOptionSpec options[] = {
    {"ways", PASS_OPT_INT, "8", "partial convs per conv (2..64)"},
    {"min-k", PASS_OPT_INT, "2048", "split only convs whose reduction Cin*kh*kw is at least this"},
    {"max-positions", PASS_OPT_INT, "256",
     "split only convs with at most this many output positions"},
};

const PassInfo pass_split_k = {
    .name = "split-k",
    .summary = "split long-reduction convs with small outputs into a grouped conv and a sum (GPU)",
    .options = options,
    .noptions = 3,
    .run = run,
};
