/* fuse_horizontal.c - horizontal fusion: sibling anchors reading one input become one kernel.
 *
 * Candidates are groups whose anchor is a conv (group 1), gemm or matmul with constant weights:
 * the Inception 1x1 branches, the two 1x1 convs of a C3 block, Q/K/V projections. Siblings merge
 * when they read the same input value with the same kind and geometry (conv: kernel size,
 * strides, pads, dilations; gemm: alpha, beta, transposes), the same dtypes, and when contracting
 * both groups into one kernel forms no cycle (one branch's epilogue reading the other's result).
 * A sibling that differs gets a remark naming the difference.
 *
 * The rewrite: one anchor with the weights concatenated along the output channels (conv: axis 0
 * of W; gemm: the N axis of B; matmul: the last axis of B) and biases concatenated (zeros for a
 * branch without one), then one `slice` per branch taking its channels back; each branch's
 * epilogue reads its slice. The group holds all of it, so the fused op has one result per branch,
 * each feeding that branch's old consumers. Codegen turns the slices into output addressing: the
 * merged kernel computes all channels of the input tile once and writes every branch's result to
 * its own buffer. */
#include <stdlib.h>
#include <string.h>

#include "fuse_internal.h"

static bool constant(const Value *v) {
  return v->kind == VAL_WEIGHT && v->tensor && v->tensor->data && !v->type.quantized;
}

/* The axis of the anchor's result that holds its output channels, and of B / W that grows. */
static int out_axis(const Op *a) {
  return a->kind == OP_CONV ? 1 : a->results[0]->type.rank - 1;
}

static bool attrs_equal(const Op *a, const Op *b, const char *name) {
  const Attr *x = ir_op_attr(a, name), *y = ir_op_attr(b, name);
  return (!x && !y) || (x && y && ir_attr_equal(x, y));
}

/* Whether anchor a can take part at all; why says what stops it. */
static bool mergeable(const Op *a, const char **why) {
  if (a->kind != OP_CONV && a->kind != OP_GEMM && a->kind != OP_MATMUL)
    return *why = "", false;
  if (!constant(a->operands[1].value))
    return *why = "its weights are not constant", false;
  if (a->noperands > 2 && !constant(a->operands[2].value))
    return *why = "its bias is not constant", false;
  if (!ir_type_is_known(&a->results[0]->type))
    return *why = "its result type is unknown", false;
  const Type *w = &a->operands[1].value->type;
  if (a->kind == OP_CONV && ir_attr_int(a, "group", 1) != 1)
    return *why = "it is a grouped conv", false;
  if (a->kind != OP_CONV && w->rank != 2)
    return *why = "its B operand is not a matrix", false;
  if (a->kind == OP_GEMM && a->noperands > 2) {
    const Type *c = &a->operands[2].value->type;
    if (c->rank != 1 || c->dims[0] != w->dims[ir_attr_int(a, "trans_b", 0) ? 0 : 1])
      return *why = "its C operand is not one value per output column", false;
  }
  return true;
}

/* Whether siblings a and b (same input) agree; why names the first difference. */
static bool compatible(const Op *a, const Op *b, const char **why) {
  if (a->kind != b->kind)
    return *why = "they are different ops", false;
  const Type *wa = &a->operands[1].value->type, *wb = &b->operands[1].value->type;
  if (wa->dtype != wb->dtype || a->results[0]->type.dtype != b->results[0]->type.dtype)
    return *why = "their dtypes differ", false;
  static const char *const conv_attrs[] = {"strides", "pads", "dilations"};
  static const char *const gemm_attrs[] = {"alpha", "beta", "trans_a", "trans_b"};
  const char *const *names = a->kind == OP_CONV ? conv_attrs : gemm_attrs;
  int n = a->kind == OP_CONV ? 3 : a->kind == OP_GEMM ? 4 : 0;
  for (int i = 0; i < n; i++)
    if (!attrs_equal(a, b, names[i]))
      return *why = names[i], false;
  if (a->kind == OP_CONV) {
    for (int d = 1; d < wa->rank; d++)
      if (wa->rank != wb->rank || wa->dims[d] != wb->dims[d])
        return *why = "kernel shapes", false;
  } else {
    int k = a->kind == OP_GEMM && ir_attr_int(a, "trans_b", 0) ? 1 : 0;
    if (wa->dims[k] != wb->dims[k])
      return *why = "inner dimensions", false;
  }
  Type ra = a->results[0]->type, rb = b->results[0]->type;
  int ax = out_axis(a);
  if (ra.rank != rb.rank)
    return *why = "result ranks", false;
  for (int d = 0; d < ra.rank; d++)
    if (d != ax && ra.dims[d] != rb.dims[d])
      return *why = "result shapes", false;
  return true;
}

/* Concatenates the k tensors src[i] (row-major, shape rows x cols[i] with elem-byte elements)
 * along the column axis into dst. Axis-0 concatenation is the case rows = 1. */
static void concat_cols(char *dst, const char *const *src, const int64_t *cols, int k, int64_t rows,
                        size_t elem) {
  int64_t total = 0;
  for (int i = 0; i < k; i++)
    total += cols[i];
  for (int64_t r = 0; r < rows; r++) {
    int64_t off = 0;
    for (int i = 0; i < k; i++) {
      memcpy(dst + (size_t)(r * total + off) * elem, src[i] + (size_t)(r * cols[i]) * elem,
             (size_t)cols[i] * elem);
      off += cols[i];
    }
  }
}

/* Output channels of anchor a. */
static int64_t channels(const Op *a) { return a->results[0]->type.dims[out_axis(a)]; }

/* Makes a new weight visible in f's block: a region's operands list every outside value its body
 * reads (ir/README.md), so a block inside a segment captures it. */
static void capture(Fuse *f, Value *v) {
  Op *region = f->b->parent;
  if (!region)
    return;
  Value **ops = malloc(sizeof *ops * (size_t)(region->noperands + 1));
  if (!ops)
    abort();
  for (int i = 0; i < region->noperands; i++)
    ops[i] = region->operands[i].value;
  ops[region->noperands] = v;
  ir_op_set_operands(f->m, region, region->noperands + 1, ops);
  free(ops);
}

/* Replaces the anchors of groups g[0..k) by one anchor and k slices; returns the merged ops. */
static void rewrite(Fuse *f, const int *g, int k) {
  Module *m = f->m;
  Op **anchors = malloc(sizeof *anchors * (size_t)k);
  const char **src = malloc(sizeof *src * (size_t)k);
  int64_t *cols = malloc(sizeof *cols * (size_t)k);
  if (!anchors || !src || !cols)
    abort();
  for (int i = 0; i < k; i++)
    anchors[i] = f->groups[g[i]].ops[0];
  Op *a0 = anchors[0];
  const Type *w0 = &a0->operands[1].value->type;
  size_t elem = ir_dtype_size(w0->dtype);
  int64_t total = 0;
  for (int i = 0; i < k; i++)
    total += channels(anchors[i]);

  /* Weights: conv W [C,...] and gemm B^T [N,K] grow on axis 0; B [K,N] on axis 1. */
  bool rows_axis = a0->kind == OP_CONV || (a0->kind == OP_GEMM && ir_attr_int(a0, "trans_b", 0));
  Type wt = *w0;
  int64_t rows = 1;
  for (int i = 0; i < k; i++) {
    const Value *w = anchors[i]->operands[1].value;
    src[i] = w->tensor->data;
    cols[i] = rows_axis ? ir_type_numel(&w->type) : w->type.dims[1];
  }
  if (rows_axis)
    wt.dims[0] = total;
  else {
    rows = w0->dims[0];
    wt.dims[1] = total;
  }
  char *wdata = malloc((size_t)ir_type_numel(&wt) * elem);
  if (!wdata)
    abort();
  concat_cols(wdata, src, cols, k, rows, elem);
  Value *wcat = ir_add_weight(m, NULL, wt, wdata, (size_t)ir_type_numel(&wt) * elem);
  free(wdata);
  capture(f, wcat);

  /* Bias, when any branch has one (zeros for the others). */
  Value *bcat = NULL;
  bool any_bias = false;
  for (int i = 0; i < k; i++)
    any_bias |= anchors[i]->noperands > 2;
  if (any_bias) {
    Type bt = ir_type_make(w0->dtype, 1, &total);
    char *bdata = calloc((size_t)total, elem);
    if (!bdata)
      abort();
    int64_t off = 0;
    for (int i = 0; i < k; i++) {
      int64_t c = channels(anchors[i]);
      if (anchors[i]->noperands > 2)
        memcpy(bdata + (size_t)off * elem, anchors[i]->operands[2].value->tensor->data,
               (size_t)c * elem);
      off += c;
    }
    bcat = ir_add_weight(m, NULL, bt, bdata, (size_t)total * elem);
    free(bdata);
    capture(f, bcat);
  }

  int ax = out_axis(a0);
  Type rt = a0->results[0]->type;
  rt.dims[ax] = total;
  Value *ops[3] = {a0->operands[0].value, wcat, bcat};
  Op *merged = ir_op_create(m, a0->kind, bcat ? 3 : 2, ops, 1, &rt);
  for (int i = 0; i < a0->nattrs; i++)
    ir_op_set_attr(m, merged, &a0->attrs[i]);
  if (a0->kind == OP_GEMM && !bcat)
    ir_op_remove_attr(merged, "beta");
  ir_op_insert_before(a0, merged);

  /* The merged group: anchor, slices, then every branch's epilogue. */
  FuseGroup G = {0};
  fuse_group_add(&G, merged);
  Op *pos = merged;
  int64_t off = 0;
  for (int i = 0; i < k; i++) {
    int64_t c = channels(anchors[i]), axis = ax, start = off, end = off + c;
    Type st = anchors[i]->results[0]->type;
    Op *s = ir_op_create(m, OP_SLICE, 1, &merged->results[0], 1, &st);
    ir_op_set_ints(m, s, "axes", &axis, 1);
    ir_op_set_ints(m, s, "starts", &start, 1);
    ir_op_set_ints(m, s, "ends", &end, 1);
    ir_op_insert_after(pos, s);
    pos = s;
    fuse_group_add(&G, s);
    ir_value_replace_all_uses(anchors[i]->results[0], s->results[0]);
    ir_op_erase(anchors[i]);
    off = end;
  }
  for (int i = 0; i < k; i++) {
    FuseGroup *B = &f->groups[g[i]];
    for (int j = 1; j < B->n; j++)
      fuse_group_add(&G, B->ops[j]);
    free(B->ops);
    *B = (FuseGroup){.dead = i > 0};
  }
  f->groups[g[0]] = G;
  free(anchors);
  free(src);
  free(cols);
}

/* Whether an op of group j reads a result of group i: an epilogue reading another branch would
 * need values of other output channels than its own. */
static bool reads_group(const Fuse *f, int j, int i) {
  const FuseGroup *G = &f->groups[j];
  for (int k = 0; k < G->n; k++)
    for (int o = 0; o < G->ops[k]->noperands; o++) {
      int d = fuse_def_pos(f, G->ops[k]->operands[o].value);
      if (d >= 0 && f->group_of[d] == i)
        return true;
    }
  return false;
}

void fuse_horizontal(Fuse *f) {
  int ng = f->ngroups;
  int *set = malloc(sizeof *set * (size_t)(ng ? ng : 1));
  char *taken = calloc((size_t)(ng ? ng : 1), 1), *remarked = calloc((size_t)(ng ? ng : 1), 1);
  if (!set || !taken || !remarked)
    abort();
  for (int i = 0; i < ng; i++) {
    if (taken[i] || f->groups[i].dead)
      continue;
    Op *a = f->groups[i].ops[0];
    const char *why = "";
    if (a->noperands < 2 || !mergeable(a, &why))
      continue;
    int k = 0;
    set[k++] = i;
    for (int j = i + 1; j < ng; j++) {
      if (taken[j] || f->groups[j].dead)
        continue;
      Op *b = f->groups[j].ops[0];
      if (b->noperands < 2 || b->operands[0].value != a->operands[0].value)
        continue;
      char xa[64], xb[64];
      ir_value_label(f->m, a->results[0], xa, sizeof xa);
      ir_value_label(f->m, b->results[0], xb, sizeof xb);
      if (!mergeable(b, &why) || !compatible(a, b, &why) ||
          (reads_group(f, j, i) || reads_group(f, i, j) ? (why = "one branch reads the other's "
                                                                 "result", true) : false)) {
        if (*why && !remarked[j])
          pass_remark(f->pc, b, "'%s' (%s) not merged with its sibling '%s' (%s): %s%s",
                      ir_op_name(b->kind), xb, ir_op_name(a->kind), xa, why,
                      strchr(why, ' ') ? "" : " differ");
        remarked[j] = 1;
        continue;
      }
      /* Tentatively contract j into i; keep it only if no cycle forms. */
      for (int q = 0; q < f->groups[j].n; q++)
        f->group_of[fuse_pos(f, f->groups[j].ops[q])] = i;
      if (!fuse_quotient_acyclic(f)) {
        for (int q = 0; q < f->groups[j].n; q++)
          f->group_of[fuse_pos(f, f->groups[j].ops[q])] = j;
        if (!remarked[j])
          pass_remark(f->pc, b, "'%s' (%s) not merged with its sibling '%s' (%s): one branch "
                      "depends on the other through another kernel", ir_op_name(b->kind), xb,
                      ir_op_name(a->kind), xa);
        remarked[j] = 1;
        continue;
      }
      set[k++] = j;
      taken[j] = 1;
    }
    if (k > 1) {
      rewrite(f, set, k);
      fuse_reindex(f); /* the positions of the ops after the rewrite moved */
    }
  }
  free(set);
  free(taken);
  free(remarked);
}
