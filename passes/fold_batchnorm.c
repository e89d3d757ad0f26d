/* fold_batchnorm.c - the `fold-batchnorm` pass: per-channel affine ops folded into the weights
 * and bias of the conv, conv_transpose or gemm that produces their input.
 *
 * An affine op computes y = x * s[c] + t[c] along the producer's output channel c:
 *   batch_norm   s = scale / sqrt(var + epsilon), t = bias - mean * s
 *   mul by k     s = k, t = 0        (k constant, one value or one per channel)
 *   add of k     s = 1, t = k
 * With W scaled per output channel by s and the bias b replaced by b * s + t, the producer
 * computes y itself and the affine op goes.
 *
 * Requires: a module that verifies; known types.
 * Maintains: SSA, output names (uses move to the producer's result); the producer keeps its
 *   symbol and attributes (gemm's beta becomes 1).
 * Creates: new anonymous f32 weights for the scaled weight and the bias; the old ones stay
 *   until canonicalize removes what nothing reads.
 * Folds only when the producer's result has no other use, its weight (and bias) and the affine
 * op's constants are f32 weights with data, and the affine op does not broadcast the result to
 * a larger shape; a remark says which of these stopped a candidate. Chains (conv, batch_norm,
 * mul, add) fold in one run: each fold leaves the producer feeding the next op. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pass.h"

typedef struct Affine {
  Op *op;       /* the batch_norm, mul or add */
  Op *prod;     /* the conv, conv_transpose or gemm feeding it */
  int channels; /* the producer's output channels */
  float *s, *t; /* per channel, malloc'd */
} Affine;

static bool is_producer(const Op *op) {
  return op && (op->kind == OP_CONV || op->kind == OP_CONV_TRANSPOSE || op->kind == OP_GEMM);
}

/* The f32 data of a weight value, or NULL. */
static const float *f32_data(const Value *v) {
  if (v->kind != VAL_WEIGHT || !v->tensor->data || v->type.dtype != DT_F32 || v->type.quantized)
    return NULL;
  return v->tensor->data;
}

/* The output channel count of a producer: dimension 1 of its result. */
static int producer_channels(const Op *p) {
  const Type *t = &p->results[0]->type;
  return t->rank >= 2 && t->dims[1] > 0 ? (int)t->dims[1] : -1;
}

/* The per-channel values of constant k broadcast against a result of type r along axis 1:
 * one value, or one per channel with every other dimension 1. */
static bool channel_vector(const Value *k, const Type *r, int channels, float *out) {
  const float *d = f32_data(k);
  int64_t n = ir_type_numel(&k->type);
  if (!d || k->type.rank > r->rank)
    return false;
  if (n == 1) {
    for (int c = 0; c < channels; c++)
      out[c] = d[0];
    return true;
  }
  for (int i = 0; i < k->type.rank; i++) {
    int axis = r->rank - k->type.rank + i; /* right-aligned */
    if (k->type.dims[i] != (axis == 1 ? channels : 1))
      return false;
  }
  memcpy(out, d, sizeof *out * (size_t)channels);
  return true;
}

/* Fills a->s and a->t from the affine op; false (with why) when it is not a foldable one. */
static bool read_affine(Affine *a, const char **why) {
  Op *op = a->op;
  int n = a->channels;
  a->s = malloc(sizeof *a->s * (size_t)n);
  a->t = malloc(sizeof *a->t * (size_t)n);
  if (!a->s || !a->t)
    abort();
  if (op->kind == OP_BATCH_NORM) {
    const float *sc = f32_data(op->operands[1].value), *b = f32_data(op->operands[2].value),
                *mean = f32_data(op->operands[3].value), *var = f32_data(op->operands[4].value);
    if (!sc || !b || !mean || !var) {
      *why = "its statistics are not f32 constants";
      return false;
    }
    double eps = ir_attr_float(op, "epsilon", 1e-5);
    for (int c = 0; c < n; c++) {
      a->s[c] = (float)(sc[c] / sqrt((double)var[c] + eps));
      a->t[c] = (float)(b[c] - (double)mean[c] * a->s[c]);
    }
    return true;
  }
  int k = op->operands[0].value == a->prod->results[0] ? 1 : 0;
  const Type *r = &a->prod->results[0]->type;
  if (!ir_type_equal(&op->results[0]->type, r)) {
    *why = "it broadcasts the result to a larger shape";
    return false;
  }
  float *vec = op->kind == OP_MUL ? a->s : a->t;
  if (!channel_vector(op->operands[k].value, r, n, vec)) {
    *why = "its other operand is not an f32 constant of one value per channel";
    return false;
  }
  for (int c = 0; c < n; c++) {
    if (op->kind == OP_MUL)
      a->t[c] = 0;
    else
      a->s[c] = 1;
  }
  return true;
}

/* The new weight: W scaled along the producer's output-channel axis. */
static Value *scaled_weight(PassContext *pc, const Affine *a, const float *w, const Type *wt) {
  Op *p = a->prod;
  int64_t n = ir_type_numel(wt);
  float *nw = malloc(sizeof *nw * (size_t)(n ? n : 1));
  if (!nw)
    abort();
  int64_t inner = 1;
  for (int i = 2; i < wt->rank; i++)
    inner *= wt->dims[i];
  for (int64_t i = 0; i < n; i++) {
    int64_t ch;
    if (p->kind == OP_CONV) { /* W[M, C/g, k...] */
      ch = i / (n / wt->dims[0]);
    } else if (p->kind == OP_CONV_TRANSPOSE) { /* W[C, M/g, k...]: channel g * M/g + j */
      int64_t groups = ir_attr_int(p, "group", 1), per_group = wt->dims[0] / groups;
      int64_t c = i / (wt->dims[1] * inner), j = (i / inner) % wt->dims[1];
      ch = (c / per_group) * wt->dims[1] + j;
    } else { /* gemm: B[K,N], or B[N,K] with trans_b */
      ch = ir_attr_int(p, "trans_b", 0) ? i / wt->dims[1] : i % wt->dims[1];
    }
    nw[i] = w[i] * a->s[ch];
  }
  Value *v = ir_add_weight(pc->m, NULL, *wt, nw, sizeof *nw * (size_t)n);
  free(nw);
  return v;
}

/* The producer's bias operand index (conv: 2, gemm: C at 2) and its per-channel values b * s + t,
 * or false when gemm's C is not one value or one per channel. */
static bool new_bias(const Affine *a, float *out, const char **why) {
  Op *p = a->prod;
  int n = a->channels;
  double beta = p->kind == OP_GEMM ? ir_attr_float(p, "beta", 1.0) : 1.0;
  if (p->noperands < 3) {
    memcpy(out, a->t, sizeof *out * (size_t)n);
    return true;
  }
  const Value *b = p->operands[2].value;
  const float *d = f32_data(b);
  int64_t bn = ir_type_numel(&b->type);
  if (!d || (bn != 1 && bn != n) || (p->kind == OP_GEMM && b->type.rank > 1 &&
                                     b->type.dims[b->type.rank - 2] != 1)) {
    *why = "its bias is not an f32 constant of one value or one per channel";
    return false;
  }
  for (int c = 0; c < n; c++)
    out[c] = (float)(beta * d[bn == 1 ? 0 : c] * a->s[c] + a->t[c]);
  return true;
}

/* Folds a into its producer, or says why not. */
static bool fold(PassContext *pc, Affine *a, const char **why) {
  Op *p = a->prod;
  const Value *wv = p->operands[1].value;
  const float *w = f32_data(wv);
  if (!w) {
    *why = "its weight is not an f32 constant with data";
    return false;
  }
  if (!read_affine(a, why))
    return false;
  float *b = malloc(sizeof *b * (size_t)a->channels);
  if (!b)
    abort();
  if (!new_bias(a, b, why)) {
    free(b);
    return false;
  }
  Value *nw = scaled_weight(pc, a, w, &wv->type);
  Value *nb = ir_add_weight(pc->m, NULL, ir_type_make(DT_F32, 1, (int64_t[]){a->channels}), b,
                            sizeof *b * (size_t)a->channels);
  free(b);
  Value *ops[3] = {p->operands[0].value, nw, nb};
  ir_op_set_operands(pc->m, p, 3, ops);
  if (p->kind == OP_GEMM)
    ir_op_set_float(pc->m, p, "beta", 1.0);
  ir_value_replace_all_uses(a->op->results[0], p->results[0]);
  ir_op_erase(a->op);
  return true;
}

/* The producer an affine candidate reads, or NULL. */
static Op *producer_of(const Op *op) {
  if (op->kind == OP_BATCH_NORM) {
    Op *p = op->operands[0].value->def;
    return op->operands[0].value->kind == VAL_RESULT && is_producer(p) ? p : NULL;
  }
  if (op->kind != OP_MUL && op->kind != OP_ADD)
    return NULL;
  for (int i = 0; i < 2; i++) {
    const Value *v = op->operands[i].value, *k = op->operands[1 - i].value;
    if (v->kind == VAL_RESULT && is_producer(v->def) && k->kind == VAL_WEIGHT)
      return v->def;
  }
  return NULL;
}

static void run_block(PassContext *pc, Block *blk) {
  for (Op *op = blk->first, *next; op; op = next) {
    next = op->next;
    if (op->body) {
      run_block(pc, op->body);
      continue;
    }
    Op *p = producer_of(op);
    if (!p)
      continue;
    Affine a = {op, p, producer_channels(p), NULL, NULL};
    const char *why = NULL;
    if (a.channels < 0)
      why = "its producer's result type is unknown";
    else if (ir_value_num_uses(p->results[0]) != 1)
      why = "the producer's result has other uses";
    else if (p->parent != op->parent)
      why = "the producer is in another region";
    /* A fold leaves the producer feeding the folded op's users, which come later: the walk
     * meets them next, so chains fold one op at a time. */
    if (!why)
      fold(pc, &a, &why);
    if (why)
      pass_remark(pc, op, "not folding '%s' into '%s': %s", ir_op_name(op->kind),
                  ir_op_name(p->kind), why);
    free(a.s);
    free(a.t);
  }
}

static bool run(PassContext *pc) {
  run_block(pc, &pc->m->body);
  return true;
}

const PassInfo pass_fold_batchnorm = {
    "fold-batchnorm",
    "fold batch_norm, and mul or add by per-channel constants, into the conv or gemm before them",
    NULL, 0, run};
