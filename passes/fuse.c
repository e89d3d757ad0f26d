/* fuse.c - the `fuse` pass: groups the ops of each device block into `fused` ops, one kernel each.
 *
 * Blocks: the body of every segment with target "device"; the module body itself when it holds
 * no segment (fuse without segment). Host segments are left alone; an op whose pass_device_ok
 * is false in an unsegmented module stays unfused, with a remark.
 *
 * Grouping, in this order (TVM's fusion kinds, ir.h FusionKind; TensorRT's catalogue):
 *   1. anchors (FK_CONV: conv, conv_transpose, gemm, matmul, pools) in block order, each with its
 *      epilogue: the elementwise and broadcast ops after it (bias, activations, residual add,
 *      clip, x*sigmoid(x), hard-swish, mish, ...) whose results have the anchor's shape;
 *   2. reductions (FK_REDUCTION: global pools, softmax, reduce_*, layer_norm, ...) with their
 *      prologue (the elementwise ops computing their input and read by nothing else) and epilogue;
 *   3. chains of the remaining elementwise and broadcast ops, seeded in block order;
 *   4. every other op alone (injective ops: transpose, slice, gather, resize, pad, concat), with
 *      a remark: unlike TVM, kiln does not yet fuse injective ops into their neighbours.
 * F_NOOP ops (reshape, flatten, squeeze, unsqueeze: views) and concats whose inputs are all
 * written in place (fuse_concat.c) stay outside every kernel: they move no data.
 * Horizontal merging (fuse_horizontal.c) then joins sibling anchor groups reading one input.
 *
 * An epilogue grows one op at a time, the earliest candidate in block order first (so x*sigmoid(x)
 * takes the sigmoid before the mul). A candidate is refused, with a remark, when one of its other
 * operands depends on the group (the kernel would read its own output: a cycle), or when its
 * result would change the kernel's output shape. After growing, the group is cut back to its
 * longest prefix with one output (a result read outside the kernel): an op whose input is also
 * read by another kernel is not fused, because the kernel would need a second output, and the
 * op is never duplicated into two kernels; the remark names the other reader.
 *
 * Requires: known types; a module that verifies. Maintains: SSA, output names, topological order
 * (the block is re-sorted after outlining). Creates: `fused` ops named @k<i>_<ops>, numbered in
 * module order; for horizontal merges, new weights (the concatenated weights and biases). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuse_internal.h"
#include "ir/device.h"
#include "outline.h"

#define MAX_GROUP 32 /* ops per kernel: keeps generated kernels readable and growth bounded */

static void *xrealloc(void *p, size_t n) {
  p = realloc(p, n ? n : 1);
  if (!p)
    abort();
  return p;
}

/* ---- index ---- */

void fuse_reindex(Fuse *f) {
  pass_op_index_build(&f->ix, f->b);
  size_t n = (size_t)f->ix.n;
  f->group_of = xrealloc(f->group_of, n * sizeof *f->group_of);
  f->mark = xrealloc(f->mark, n * sizeof *f->mark);
  f->stack = xrealloc(f->stack, n * sizeof *f->stack);
  for (int i = 0; i < f->ix.n; i++) {
    f->group_of[i] = -1;
    f->mark[i] = 0;
  }
  f->stamp = 0;
  for (int g = 0; g < f->ngroups; g++)
    if (!f->groups[g].dead)
      for (int k = 0; k < f->groups[g].n; k++)
        f->group_of[fuse_pos(f, f->groups[g].ops[k])] = g;
}

int fuse_pos(const Fuse *f, const Op *op) {
  return op && op->parent == f->b ? pass_op_index_pos(&f->ix, op) : -1;
}

int fuse_def_pos(const Fuse *f, const Value *v) {
  return v->kind == VAL_RESULT ? fuse_pos(f, pass_op_in_block(v->def, f->b)) : -1;
}

void fuse_group_add(FuseGroup *g, Op *op) {
  if (g->n == g->cap) {
    g->cap = g->cap ? 2 * g->cap : 8;
    g->ops = xrealloc(g->ops, sizeof *g->ops * (size_t)g->cap);
  }
  g->ops[g->n++] = op;
}

bool fuse_same_shape(Type a, Type b) {
  if (a.rank != b.rank)
    return false;
  for (int i = 0; i < a.rank; i++)
    if (a.dims[i] != b.dims[i])
      return false;
  return true;
}

/* Kahn's algorithm on the block with each group contracted to one node: O(ops + uses). */
bool fuse_quotient_acyclic(Fuse *f) {
  int n = f->ix.n, nodes = f->ngroups + n;
  int *indeg = calloc((size_t)nodes, sizeof *indeg), *queue = calloc((size_t)nodes, sizeof *queue);
  int *node_of = calloc((size_t)n + 1, sizeof *node_of);
  int *first = calloc((size_t)nodes + 1, sizeof *first);
  int *members = calloc((size_t)n + 1, sizeof *members);
  int *cursor = calloc((size_t)nodes + 1, sizeof *cursor);
  if (!indeg || !queue || !node_of || !first || !members || !cursor)
    abort();
  /* Members of each node, by counting sort: members[first[x] .. first[x+1]). */
  for (int i = 0; i < n; i++) {
    node_of[i] = f->group_of[i] >= 0 ? f->group_of[i] : f->ngroups + i;
    first[node_of[i] + 1]++;
  }
  for (int x = 0; x < nodes; x++) {
    first[x + 1] += first[x];
    cursor[x] = first[x];
  }
  for (int i = 0; i < n; i++)
    members[cursor[node_of[i]]++] = i;
  free(cursor);
  for (int i = 0; i < n; i++)
    for (int j = 0; j < f->ix.ops[i]->noperands; j++) {
      int d = fuse_def_pos(f, f->ix.ops[i]->operands[j].value);
      if (d >= 0 && node_of[d] != node_of[i])
        indeg[node_of[i]]++;
    }
  int head = 0, tail = 0, want = 0;
  for (int x = 0; x < nodes; x++)
    if (first[x + 1] > first[x]) {
      want++;
      if (!indeg[x])
        queue[tail++] = x;
    }
  while (head < tail) {
    int x = queue[head++];
    for (int k = first[x]; k < first[x + 1]; k++) {
      Op *op = f->ix.ops[members[k]];
      for (int r = 0; r < op->nresults; r++)
        for (Operand *u = op->results[r]->uses; u; u = u->next_use) {
          int p = fuse_pos(f, u->owner);
          if (p >= 0 && node_of[p] != x && --indeg[node_of[p]] == 0)
            queue[tail++] = node_of[p];
        }
    }
  }
  free(indeg);
  free(queue);
  free(node_of);
  free(first);
  free(members);
  return head == want;
}

/* ---- candidates ---- */

static bool is_group_kind(const Op *op, FusionKind k) {
  return ir_ops[op->kind].fusion == k && !(ir_ops[op->kind].flags & (F_NOOP | F_REGION));
}

static bool is_elementwise(const Op *op) {
  return is_group_kind(op, FK_ELEMENTWISE) || is_group_kind(op, FK_BROADCAST);
}

/* Whether an op may be put in a kernel at all; remarks once per op that may not. */
static bool kernel_ok(Fuse *f, const Op *op, bool remark) {
  if (ir_ops[op->kind].flags & (F_NOOP | F_REGION | F_TERMINATOR))
    return false;
  if (f->b != &f->m->body)
    return true; /* inside a device segment: segment has checked it */
  char why[160];
  if (pass_device_ok(f->pc, op, why, sizeof why))
    return true;
  if (remark)
    pass_remark(f->pc, op, "'%s' left unfused: not device-supported (%s)", ir_op_name(op->kind),
                why);
  return false;
}

static bool in_group(const Fuse *f, int g, int pos) { return pos >= 0 && f->group_of[pos] == g; }

static int group_min_pos(const Fuse *f, int g) {
  int lo = f->ix.n;
  for (int k = 0; k < f->groups[g].n; k++) {
    int p = fuse_pos(f, f->groups[g].ops[k]);
    if (p < lo)
      lo = p;
  }
  return lo;
}

/* Whether the op at position start depends on a member of group g (a path of operands back to
 * it); ops before the group's first member cannot. */
static bool depends_on_group(Fuse *f, int g, int start, int lo) {
  if (start < lo)
    return false;
  f->stamp++;
  int sp = 0;
  f->stack[sp++] = start;
  f->mark[start] = f->stamp;
  while (sp) {
    int p = f->stack[--sp];
    if (f->group_of[p] == g)
      return true;
    for (int j = 0; j < f->ix.ops[p]->noperands; j++) {
      int d = fuse_def_pos(f, f->ix.ops[p]->operands[j].value);
      if (d >= lo && f->mark[d] != f->stamp) {
        f->mark[d] = f->stamp;
        f->stack[sp++] = d;
      }
    }
  }
  return false;
}

/* Results of the first n members of g that something outside those members reads. */
static int outputs_of_prefix(const Fuse *f, const FuseGroup *g, int n, const Op *skip,
                             const Op **reader, const Value **which) {
  int count = 0;
  for (int k = 0; k < n; k++)
    for (int r = 0; r < g->ops[k]->nresults; r++) {
      const Value *v = g->ops[k]->results[r];
      for (Operand *u = v->uses; u; u = u->next_use) {
        Op *o = pass_op_in_block(u->owner, f->b);
        bool inside = false;
        for (int q = 0; q < n && !inside; q++)
          inside = g->ops[q] == o;
        if (!inside) {
          if (reader && g->ops[k] != skip && !*reader) {
            *reader = o;
            *which = v;
          }
          count++;
          break;
        }
      }
    }
  return count;
}

static int new_group(Fuse *f, Op *anchor) {
  if (f->ngroups == f->cap_groups) {
    f->cap_groups = f->cap_groups ? 2 * f->cap_groups : 16;
    f->groups = xrealloc(f->groups, sizeof *f->groups * (size_t)f->cap_groups);
  }
  int g = f->ngroups++;
  f->groups[g] = (FuseGroup){0};
  fuse_group_add(&f->groups[g], anchor);
  f->group_of[fuse_pos(f, anchor)] = g;
  return g;
}

static void label(Fuse *f, const Value *v, char *buf, size_t n) { ir_value_label(f->m, v, buf, n); }

/* Grows group g by the elementwise ops reading it whose result has shape `domain`, then cuts it
 * back to its longest prefix with one output. Rejected candidates get a remark. */
static void grow_epilogue(Fuse *f, int g, Type domain) {
  FuseGroup *G = &f->groups[g];
  int start = G->n;
  int lo = group_min_pos(f, g);
  char *refused = calloc((size_t)f->ix.n, 1);
  if (!refused)
    abort();
  while (G->n < MAX_GROUP) {
    int best = -1;
    for (int k = 0; k < G->n; k++)
      for (int r = 0; r < G->ops[k]->nresults; r++)
        for (Operand *u = G->ops[k]->results[r]->uses; u; u = u->next_use) {
          int p = fuse_pos(f, u->owner);
          if (p >= 0 && f->group_of[p] < 0 && !refused[p] && (best < 0 || p < best))
            best = p;
        }
    if (best < 0)
      break;
    Op *c = f->ix.ops[best];
    refused[best] = 1;
    if (!is_elementwise(c) || c->nresults != 1 || !kernel_ok(f, c, false))
      continue; /* not epilogue material: it starts its own kernel */
    if (!fuse_same_shape(c->results[0]->type, domain)) {
      char have[96]; /* ir_type_str's buffer is static: one call per argument list */
      snprintf(have, sizeof have, "%s", ir_type_str(&c->results[0]->type));
      pass_remark(f->pc, c, "'%s' not fused into the kernel of '%s': its result %s is not the "
                  "kernel's output shape %s", ir_op_name(c->kind), ir_op_name(G->ops[0]->kind),
                  have, ir_type_str(&domain));
      continue;
    }
    int cyc = -1;
    for (int j = 0; j < c->noperands && cyc < 0; j++) {
      int d = fuse_def_pos(f, c->operands[j].value);
      if (d >= 0 && !in_group(f, g, d) && depends_on_group(f, g, d, lo))
        cyc = j;
    }
    if (cyc >= 0) {
      char name[64];
      label(f, c->operands[cyc].value, name, sizeof name);
      pass_remark(f->pc, c, "'%s' not fused into the kernel of '%s': its operand %s is computed "
                  "from that kernel's results by another kernel (a cycle)", ir_op_name(c->kind),
                  ir_op_name(G->ops[0]->kind), name);
      continue;
    }
    fuse_group_add(G, c);
    f->group_of[best] = g;
  }
  free(refused);

  /* Cut back to the longest prefix with at most one output. */
  int keep = G->n;
  while (keep > start && outputs_of_prefix(f, G, keep, NULL, NULL, NULL) > 1)
    keep--;
  if (keep < G->n) {
    const Op *reader = NULL;
    const Value *which = NULL;
    outputs_of_prefix(f, G, keep + 1, G->ops[keep], &reader, &which);
    char name[64] = "?";
    if (which)
      label(f, which, name, sizeof name);
    pass_remark(f->pc, G->ops[keep],
                "'%s' not fused into the kernel of '%s': %s is also read by '%s' outside the "
                "kernel, which would need a second output (ops are not duplicated)",
                ir_op_name(G->ops[keep]->kind), ir_op_name(G->ops[0]->kind), name,
                reader ? ir_op_name(reader->kind) : "?");
    for (int k = keep; k < G->n; k++)
      f->group_of[fuse_pos(f, G->ops[k])] = -1;
    G->n = keep;
  }
}

/* Adds to reduction group g the elementwise ops computing its input that nothing else reads. */
static void grow_prologue(Fuse *f, int g) {
  FuseGroup *G = &f->groups[g];
  Type domain = G->ops[0]->operands[0].value->type;
  for (int k = 0; k < G->n && G->n < MAX_GROUP; k++) {
    Op *op = G->ops[k];
    for (int j = 0; j < op->noperands; j++) {
      int d = fuse_def_pos(f, op->operands[j].value);
      if (d < 0 || f->group_of[d] >= 0)
        continue;
      Op *p = f->ix.ops[d];
      if (!is_elementwise(p) || p->nresults != 1 || !kernel_ok(f, p, false) ||
          !fuse_same_shape(p->results[0]->type, domain))
        continue;
      bool only_group = true;
      for (Operand *u = p->results[0]->uses; u && only_group; u = u->next_use)
        only_group = in_group(f, g, fuse_pos(f, pass_op_in_block(u->owner, f->b)));
      if (!only_group) {
        pass_remark(f->pc, p, "'%s' not fused into the kernel of '%s' as its prologue: its "
                    "result is also read outside it", ir_op_name(p->kind),
                    ir_op_name(G->ops[0]->kind));
        continue;
      }
      fuse_group_add(G, p);
      f->group_of[d] = g;
    }
  }
  /* Keep members in block order: the anchor is the reduction, listed first by convention only. */
}

/* Only result 0 may be read: kernels with epilogues have one output. */
static bool single_output(const Op *op) {
  for (int r = 1; r < op->nresults; r++)
    if (ir_value_has_uses(op->results[r]))
      return false;
  return op->nresults >= 1;
}

static void form_groups(Fuse *f) {
  for (int i = 0; i < f->ix.n; i++) /* 1: anchors and their epilogues */
    if (f->group_of[i] < 0 && is_group_kind(f->ix.ops[i], FK_CONV) &&
        kernel_ok(f, f->ix.ops[i], false)) {
      int g = new_group(f, f->ix.ops[i]);
      if (single_output(f->ix.ops[i]))
        grow_epilogue(f, g, f->ix.ops[i]->results[0]->type);
    }
  for (int i = 0; i < f->ix.n; i++) /* 2: reductions */
    if (f->group_of[i] < 0 && is_group_kind(f->ix.ops[i], FK_REDUCTION) &&
        kernel_ok(f, f->ix.ops[i], false)) {
      int g = new_group(f, f->ix.ops[i]);
      if (single_output(f->ix.ops[i])) {
        grow_prologue(f, g);
        grow_epilogue(f, g, f->ix.ops[i]->results[0]->type);
      }
    }
  for (int i = 0; i < f->ix.n; i++) /* 3: elementwise chains */
    if (f->group_of[i] < 0 && is_elementwise(f->ix.ops[i]) && kernel_ok(f, f->ix.ops[i], false)) {
      int g = new_group(f, f->ix.ops[i]);
      if (single_output(f->ix.ops[i]))
        grow_epilogue(f, g, f->ix.ops[i]->results[0]->type);
    }
}

/* Dissolves the newest multi-op groups into single ops until contracting groups forms no
 * cycle. Group-by-group growth checks its own convexity; two groups can still reach each other
 * both ways through different ops, which only the whole quotient graph shows. */
static void break_cycles(Fuse *f) {
  for (int g = f->ngroups - 1; g >= 0 && !fuse_quotient_acyclic(f); g--) {
    FuseGroup *G = &f->groups[g];
    if (G->dead || G->n < 2)
      continue;
    pass_remark(f->pc, G->ops[0], "the kernel of '%s' is split into single ops: with it the "
                "kernels would depend on each other in a cycle", ir_op_name(G->ops[0]->kind));
    for (int k = 1; k < G->n; k++) {
      int p = fuse_pos(f, G->ops[k]);
      int ng = new_group(f, G->ops[k]);
      f->group_of[p] = ng;
      G = &f->groups[g]; /* new_group may move the array */
    }
    G->n = 1;
  }
}

static const Fuse *cmp_pos_ctx;
static int cmp_by_pos(const void *a, const void *b) {
  int x = fuse_pos(cmp_pos_ctx, *(Op *const *)a), y = fuse_pos(cmp_pos_ctx, *(Op *const *)b);
  return (x > y) - (x < y);
}

static bool fuse_block(PassContext *pc, Block *b) {
  Fuse f = {.pc = pc, .m = pc->m, .b = b};
  fuse_reindex(&f);
  form_groups(&f);
  fuse_horizontal(&f); /* rewrites the IR and reindexes */
  /* 4: everything else on its own, except views and in-place concats. */
  int before = f.ix.n;
  for (int i = 0; i < before; i++) {
    Op *op = f.ix.ops[i];
    if (f.group_of[i] >= 0 || !kernel_ok(&f, op, true))
      continue;
    if (op->kind == OP_CONCAT && fuse_concat_in_place(&f, op))
      continue;
    if (ir_ops[op->kind].fusion == FK_INJECTIVE)
      pass_remark(pc, op, "'%s' is a kernel of its own: injective ops (transpose, slice, gather, "
                  "pad, resize, ...) are not fused with their producers or consumers",
                  ir_op_name(op->kind));
    new_group(&f, op);
  }
  break_cycles(&f);

  for (int g = 0; g < f.ngroups; g++) {
    FuseGroup *G = &f.groups[g];
    if (G->dead)
      continue;
    cmp_pos_ctx = &f;
    qsort(G->ops, (size_t)G->n, sizeof *G->ops, cmp_by_pos);
  }
  for (int g = 0; g < f.ngroups; g++)
    if (!f.groups[g].dead)
      pass_outline(f.m, b, f.groups[g].ops, f.groups[g].n, OP_FUSED);
  bool ok = pass_block_sort(f.m, b);
  if (!ok)
    ir_error(pc->diag, (Loc){0}, "fuse: internal error: the kernels depend on each other in a "
             "cycle");
  for (int g = 0; g < f.ngroups; g++)
    free(f.groups[g].ops);
  free(f.groups);
  pass_op_index_free(&f.ix);
  free(f.group_of);
  free(f.mark);
  free(f.stack);
  return ok;
}

/* ---- naming ---- */

/* @k<i>_<kinds of the body ops, consecutive repeats and slices dropped, at most 6>. */
static void name_kernel(Module *m, Op *op, int index) {
  char buf[96];
  int len = snprintf(buf, sizeof buf, "k%d", index);
  OpKind last = OP_INVALID;
  int names = 0;
  for (const Op *o = op->body->first; o && o->kind != OP_YIELD; o = o->next) {
    if (o->kind == last || (o->kind == OP_SLICE && o != op->body->first))
      continue;
    last = o->kind;
    if (names++ == 6) {
      len += snprintf(buf + len, sizeof buf - (size_t)len, "_etc");
      break;
    }
    len += snprintf(buf + len, sizeof buf - (size_t)len, "_%s", ir_op_name(o->kind));
    if (len >= (int)sizeof buf - 1)
      break;
  }
  ir_op_set_sym(m, op, buf);
}

typedef struct Namer {
  Module *m;
  int next;
} Namer;

static bool name_one(Op *op, void *ctx) {
  Namer *nm = ctx;
  if (op->kind == OP_FUSED)
    name_kernel(nm->m, op, nm->next++);
  return true;
}

static bool run(PassContext *pc) {
  Module *m = pc->m;
  bool segmented = false, ok = true;
  for (Op *op = m->body.first; op; op = op->next)
    if (op->kind == OP_SEGMENT) {
      segmented = true;
      const char *target = ir_attr_string(op, "target", "");
      if (strcmp(target, "device") == 0)
        ok = fuse_block(pc, op->body) && ok;
    }
  if (!segmented)
    ok = fuse_block(pc, &m->body);
  Namer nm = {m, 0};
  ir_walk(&m->body, name_one, &nm);
  return ok;
}

const PassInfo pass_fuse = {
    .name = "fuse",
    .summary = "group device ops into fused kernels: conv/gemm epilogues, reductions, "
               "elementwise chains, sibling merges, in-place concats",
    .run = run,
};
