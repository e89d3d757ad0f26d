/* segment.c - the `segment{min-size=N,max-segments=K}` pass: TF-TRT's segmenter. Every op of the
 * module's top-level block goes into a `segment` op with target "device" or "host".
 *
 *   1. Each op is device-supported or not (pass_device_ok: the registry, then codegen); a
 *      `fused` op is one node, supported when its whole body is.
 *   2. Clusters: union-find over the ops, contracting producer -> consumer edges between two
 *      device clusters or two host clusters unless that would make a cycle (segment_cluster.h),
 *      until nothing merges. Clusters are maximal, connected and cycle-free.
 *   3. Device clusters with fewer than min-size ops (F_NOOP ops not counted, the ops of a fused
 *      body counted one by one) become host; with max-segments=K > 0 only the K largest device
 *      clusters stay (ties: the one starting earlier). Then clustering runs again, so demoted
 *      ops join the neighbouring host clusters where the cycle rule allows.
 *   4. Each cluster becomes a `segment` op (pass_outline) with attribute target; the block is
 *      sorted once (pass_block_sort).
 * A remark for each op left on the host gives its reason; then a table of host ops by kind and
 * reason (most frequent first, then by name), and a summary line with the number of segments of
 * each target and of the top-level ops they hold (a fused op counts once there).
 *
 * Requires: a module that verifies; types inferred (an op with an unknown type stays on the
 *   host); the top-level block in topological order.
 * Maintains: SSA, output names (outside uses move to the segments' results; the values inside
 *   keep their names); the ops themselves, unchanged, inside the segments.
 * Creates: `segment` ops holding every top-level op but the output, in block order of their
 *   first op as far as dependences allow. A module whose top level already has a `segment` op
 *   is left alone (one remark): the pass is idempotent.
 * Options: min-size >= 1 (default 3, TF-TRT's minimum_segment_size), max-segments >= 0
 *   (default 0: unlimited); other values are an error naming the option. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ir/device.h"
#include "outline.h"
#include "pass.h"
#include "segment_cluster.h"

enum { CLS_HOST, CLS_DEVICE };

/* Why an op stays on the host. */
typedef enum HostReason {
  HR_NONE,    /* on the device */
  HR_OP,      /* ir_op_device_ok said no: Node.why */
  HR_MINSIZE, /* its device cluster was under min-size */
  HR_MAXSEG,  /* its device cluster was past the max-segments largest */
} HostReason;

typedef struct Node {
  Op *op;
  int weight;         /* ops counted by min-size: not F_NOOP; a fused op's body ops */
  HostReason reason;
  int cluster_weight; /* HR_MINSIZE, HR_MAXSEG: the weight of the cluster it was in */
  char why[160];      /* HR_OP */
} Node;

static void *xcalloc(size_t n, size_t size) {
  void *p = calloc(n ? n : 1, size);
  if (!p)
    abort();
  return p;
}

static int op_weight(const Op *op) {
  if (op->body) {
    int w = 0;
    for (const Op *o = op->body->first; o; o = o->next)
      if (o->kind != OP_YIELD)
        w += op_weight(o);
    return w;
  }
  return ir_ops[op->kind].flags & F_NOOP ? 0 : 1;
}

/* Producer -> consumer edges between the nodes, as successor lists in node (block) order, each
 * list increasing and without repeats. */
static void build_edges(const Module *m, Node *nodes, int n, int **start_out, int **succ_out) {
  int *node_of = xcalloc((size_t)m->next_id, sizeof *node_of); /* value id -> node + 1 */
  for (int i = 0; i < n; i++)
    for (int r = 0; r < nodes[i].op->nresults; r++)
      node_of[nodes[i].op->results[r]->id] = i + 1;
  int *start = xcalloc((size_t)n + 1, sizeof *start);
  int *last = xcalloc((size_t)n, sizeof *last); /* last consumer + 1 counted per producer */
  /* Two sweeps: count, then fill. Consumers come in increasing order, so a repeated edge is
   * always the producer's latest one. */
  for (int pass = 0; pass < 2; pass++) {
    int *fill = pass ? xcalloc((size_t)n, sizeof *fill) : NULL;
    memset(last, 0, sizeof *last * (size_t)n);
    for (int j = 0; j < n; j++) {
      const Op *op = nodes[j].op;
      for (int k = 0; k < op->noperands; k++) {
        int i = node_of[op->operands[k].value->id] - 1;
        if (i < 0 || last[i] == j + 1)
          continue;
        last[i] = j + 1;
        if (pass == 0)
          start[i + 1]++;
        else
          (*succ_out)[start[i] + fill[i]++] = j;
      }
    }
    if (pass == 0) {
      for (int i = 0; i < n; i++)
        start[i + 1] += start[i];
      *succ_out = xcalloc((size_t)start[n], sizeof **succ_out);
    }
    free(fill);
  }
  *start_out = start;
  free(last);
  free(node_of);
}

/* Per cluster (indexed by representative): summed weight and first node. */
static void cluster_stats(SegClusters *s, const Node *nodes, int n, int *weight, int *first) {
  for (int i = 0; i < n; i++)
    weight[i] = 0, first[i] = -1;
  for (int i = 0; i < n; i++) {
    int c = seg_cluster_of(s, i);
    weight[c] += nodes[i].weight;
    if (first[c] < 0)
      first[c] = i;
  }
}

/* Orders device clusters for max-segments: heavier first, then the one starting earlier. */
typedef struct Ranked {
  int rep, weight, first;
} Ranked;

static int cmp_ranked(const void *a, const void *b) {
  const Ranked *x = a, *y = b;
  if (x->weight != y->weight)
    return x->weight > y->weight ? -1 : 1;
  return (x->first > y->first) - (x->first < y->first);
}

static void demote(SegClusters *s, Node *nodes, int n, int rep, HostReason why, int weight) {
  int *members = xcalloc((size_t)n, sizeof *members);
  int k = seg_cluster_members(s, rep, members);
  for (int i = 0; i < k; i++) {
    nodes[members[i]].reason = why;
    nodes[members[i]].cluster_weight = weight;
  }
  seg_cluster_set_class(s, rep, CLS_HOST);
  free(members);
}

/* Step 3: min-size, then max-segments, over the device clusters. */
static void apply_limits(SegClusters *s, Node *nodes, int n, int min_size, int max_segments) {
  int *weight = xcalloc((size_t)n, sizeof *weight), *first = xcalloc((size_t)n, sizeof *first);
  cluster_stats(s, nodes, n, weight, first);
  Ranked *kept = xcalloc((size_t)n, sizeof *kept);
  int nkept = 0;
  for (int i = 0; i < n; i++) {
    if (seg_cluster_of(s, i) != i || seg_cluster_class(s, i) != CLS_DEVICE)
      continue;
    if (weight[i] < min_size)
      demote(s, nodes, n, i, HR_MINSIZE, weight[i]);
    else
      kept[nkept++] = (Ranked){i, weight[i], first[i]};
  }
  if (max_segments > 0 && nkept > max_segments) {
    qsort(kept, (size_t)nkept, sizeof *kept, cmp_ranked);
    for (int i = max_segments; i < nkept; i++)
      demote(s, nodes, n, kept[i].rep, HR_MAXSEG, kept[i].weight);
  }
  free(weight);
  free(first);
  free(kept);
}

/* ---- remarks ---- */

static const char *plural(int k, const char *one, const char *many) { return k == 1 ? one : many; }

/* The reason column of the summary table. */
static void table_reason(const Node *nd, int min_size, int max_segments, char *out, size_t n) {
  switch (nd->reason) {
  case HR_OP: snprintf(out, n, "%s", nd->why); break;
  case HR_MINSIZE: snprintf(out, n, "device cluster under min-size %d", min_size); break;
  case HR_MAXSEG:
    snprintf(out, n, "device cluster dropped by max-segments=%d", max_segments);
    break;
  case HR_NONE: out[0] = 0; break;
  }
}

typedef struct Row {
  const char *op;
  char reason[200];
  int count;
} Row;

static int cmp_row(const void *a, const void *b) {
  const Row *x = a, *y = b;
  if (x->count != y->count)
    return x->count > y->count ? -1 : 1;
  int c = strcmp(x->op, y->op);
  return c ? c : strcmp(x->reason, y->reason);
}

static void remark_host_ops(PassContext *pc, const Node *nodes, int n, int min_size,
                            int max_segments) {
  Row *rows = xcalloc((size_t)n, sizeof *rows);
  int nrows = 0;
  for (int i = 0; i < n; i++) {
    const Node *nd = &nodes[i];
    const char *name = ir_op_name(nd->op->kind);
    int w = nd->cluster_weight;
    switch (nd->reason) {
    case HR_NONE: continue;
    case HR_OP: pass_remark(pc, nd->op, "'%s' stays on the host: %s", name, nd->why); break;
    case HR_MINSIZE:
      pass_remark(pc, nd->op,
                  "'%s' stays on the host: its device cluster has %d %s, under min-size %d", name,
                  w, plural(w, "op", "ops"), min_size);
      break;
    case HR_MAXSEG:
      pass_remark(pc, nd->op,
                  "'%s' stays on the host: its device cluster has %d %s, dropped by "
                  "max-segments=%d",
                  name, w, plural(w, "op", "ops"), max_segments);
      break;
    }
    char reason[200];
    table_reason(nd, min_size, max_segments, reason, sizeof reason);
    int r = 0;
    while (r < nrows && (strcmp(rows[r].op, name) != 0 || strcmp(rows[r].reason, reason) != 0))
      r++;
    if (r == nrows) {
      rows[nrows].op = name;
      memcpy(rows[nrows].reason, reason, sizeof reason);
      nrows++;
    }
    rows[r].count++;
  }
  if (nrows) {
    qsort(rows, (size_t)nrows, sizeof *rows, cmp_row);
    int wname = 2, wcount = 5;
    for (int r = 0; r < nrows; r++) {
      int len = (int)strlen(rows[r].op), digits = snprintf(NULL, 0, "%d", rows[r].count);
      wname = len > wname ? len : wname;
      wcount = digits > wcount ? digits : wcount;
    }
    pass_remark(pc, NULL, "host ops by kind:");
    pass_remark(pc, NULL, "  %-*s  %*s  %s", wname, "op", wcount, "count", "reason");
    for (int r = 0; r < nrows; r++)
      pass_remark(pc, NULL, "  %-*s  %*d  %s", wname, rows[r].op, wcount, rows[r].count,
                  rows[r].reason);
  }
  free(rows);
}

/* ---- the pass ---- */

static bool run(PassContext *pc) {
  Module *m = pc->m;
  int64_t min_size = pass_opt_int(pc, "min-size"), max_segments = pass_opt_int(pc, "max-segments");
  if (min_size < 1) {
    ir_error(pc->diag, (Loc){0, 0}, "segment: option 'min-size' must be at least 1, got %lld",
             (long long)min_size);
    return false;
  }
  if (max_segments < 0) {
    ir_error(pc->diag, (Loc){0, 0},
             "segment: option 'max-segments' must be 0 (unlimited) or more, got %lld",
             (long long)max_segments);
    return false;
  }
  /* Past INT_MAX both mean the same as INT_MAX: no graph has that many ops. */
  min_size = min_size > INT_MAX ? INT_MAX : min_size;
  max_segments = max_segments > INT_MAX ? INT_MAX : max_segments;
  Block *b = &m->body;
  int n = 0;
  for (Op *op = b->first; op; op = op->next) {
    if (op->kind == OP_SEGMENT) {
      pass_remark(pc, op, "the module already has segment ops: nothing to do");
      return true;
    }
    if (!(ir_ops[op->kind].flags & F_TERMINATOR))
      n++;
  }

  /* Nodes: every top-level op but the output, in block order. */
  Node *nodes = xcalloc((size_t)n, sizeof *nodes);
  int *cls = xcalloc((size_t)n, sizeof *cls), i = 0;
  for (Op *op = b->first; op; op = op->next) {
    if (ir_ops[op->kind].flags & F_TERMINATOR)
      continue;
    Node *nd = &nodes[i];
    nd->op = op;
    nd->weight = op_weight(op);
    bool dev = pass_device_ok(pc, op, nd->why, sizeof nd->why);
    nd->reason = dev ? HR_NONE : HR_OP;
    cls[i++] = dev ? CLS_DEVICE : CLS_HOST;
  }
  int *start, *succ;
  build_edges(m, nodes, n, &start, &succ);
  SegClusters *s = seg_clusters_new(n, start, succ, cls);
  seg_clusters_merge(s);
  apply_limits(s, nodes, n, (int)min_size, (int)max_segments);
  seg_clusters_merge(s); /* demoted clusters join their host neighbours */

  remark_host_ops(pc, nodes, n, (int)min_size, (int)max_segments);

  /* Materialize, clusters in the block order of their first op. The node array keeps the ops,
   * whatever outlining does to the block. */
  char *done = xcalloc((size_t)n, 1);
  int *members = xcalloc((size_t)n, sizeof *members);
  Op **ops = xcalloc((size_t)n, sizeof *ops);
  int nseg[2] = {0, 0}, nops[2] = {0, 0};
  for (i = 0; i < n; i++) {
    int rep = seg_cluster_of(s, i);
    if (done[rep])
      continue;
    done[rep] = 1;
    int k = seg_cluster_members(s, rep, members), c = seg_cluster_class(s, rep);
    for (int j = 0; j < k; j++)
      ops[j] = nodes[members[j]].op;
    Op *seg = pass_outline(m, b, ops, k, OP_SEGMENT);
    ir_op_set_string(m, seg, "target", c == CLS_DEVICE ? "device" : "host");
    nseg[c]++;
    nops[c] += k;
  }
  bool ok = pass_block_sort(m, b);
  if (!ok)
    ir_error(pc->diag, (Loc){0, 0},
             "segment: internal error: the segments depend on each other in a cycle");
  else
    pass_remark(pc, NULL, "segment: %d device %s (%d %s), %d host %s (%d %s)", nseg[CLS_DEVICE],
                plural(nseg[CLS_DEVICE], "segment", "segments"), nops[CLS_DEVICE],
                plural(nops[CLS_DEVICE], "op", "ops"), nseg[CLS_HOST],
                plural(nseg[CLS_HOST], "segment", "segments"), nops[CLS_HOST],
                plural(nops[CLS_HOST], "op", "ops"));

  seg_clusters_free(s);
  free(nodes);
  free(cls);
  free(start);
  free(succ);
  free(done);
  free(members);
  free(ops);
  return ok;
}

static const PassOptionSpec options[] = {
    {"min-size", PASS_OPT_INT, "3",
     "device clusters with fewer ops (not counting no-op views) stay on the host"},
    {"max-segments", PASS_OPT_INT, "0", "keep only the N largest device clusters (0: all)"},
};

const PassInfo pass_segment = {
    "segment", "group ops into device and host segments: maximal cycle-free clusters (TF-TRT)",
    options, 2, run};
