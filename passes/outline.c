/* outline.c - pass_outline and pass_block_sort (see outline.h). */
#include <stdlib.h>
#include <string.h>

#include "outline.h"

static void *xcalloc(size_t n, size_t size) {
  void *p = calloc(n ? n : 1, size);
  if (!p)
    abort();
  return p;
}

static int cmp_ptr(const void *a, const void *b) {
  const void *x = *(const void *const *)a, *y = *(const void *const *)b;
  return x < y ? -1 : x > y;
}

static bool in_set(Op *const *sorted, int n, const Op *op) {
  return op && bsearch(&op, sorted, (size_t)n, sizeof *sorted, cmp_ptr) != NULL;
}

void pass_op_index_build(OpIndex *x, const Block *b) {
  int n = 0;
  for (const Op *op = b->first; op; op = op->next)
    n++;
  free(x->ops);
  free(x->by_ptr);
  free(x->pos_of);
  x->n = n;
  x->ops = xcalloc((size_t)n, sizeof *x->ops);
  x->by_ptr = xcalloc((size_t)n, sizeof *x->by_ptr);
  x->pos_of = xcalloc((size_t)n, sizeof *x->pos_of);
  int i = 0;
  for (Op *op = b->first; op; op = op->next)
    x->ops[i++] = op;
  memcpy(x->by_ptr, x->ops, sizeof *x->ops * (size_t)n);
  qsort(x->by_ptr, (size_t)n, sizeof *x->by_ptr, cmp_ptr);
  for (i = 0; i < n; i++) {
    Op *const *hit = bsearch(&x->ops[i], x->by_ptr, (size_t)n, sizeof *x->by_ptr, cmp_ptr);
    x->pos_of[hit - x->by_ptr] = i;
  }
}

int pass_op_index_pos(const OpIndex *x, const Op *op) {
  Op *const *hit = op ? bsearch(&op, x->by_ptr, (size_t)x->n, sizeof *x->by_ptr, cmp_ptr) : NULL;
  return hit ? x->pos_of[hit - x->by_ptr] : -1;
}

void pass_op_index_free(OpIndex *x) {
  free(x->ops);
  free(x->by_ptr);
  free(x->pos_of);
  *x = (OpIndex){0};
}

Op *pass_op_in_block(Op *op, const Block *b) {
  while (op && op->parent != b)
    op = ir_op_parent_op(op);
  return op;
}

Op *pass_outline(Module *m, Block *b, Op *const *ops, int n, OpKind kind) {
  Op **set = xcalloc((size_t)n, sizeof *set);
  memcpy(set, ops, sizeof *set * (size_t)n);
  qsort(set, (size_t)n, sizeof *set, cmp_ptr);

  /* The set in block order. */
  Op **order = xcalloc((size_t)n, sizeof *order);
  int k = 0;
  for (Op *op = b->first; op; op = op->next)
    if (in_set(set, n, op))
      order[k++] = op;
  if (k != n)
    abort(); /* the caller broke the contract: an op not in b, or listed twice */

  /* Captures: values read by the set and not defined by it, first read first. */
  char *seen = xcalloc((size_t)m->next_id, 1);
  Value **caps = NULL;
  int ncaps = 0, cap_caps = 0;
  for (int i = 0; i < n; i++)
    for (int j = 0; j < order[i]->noperands; j++) {
      Value *v = order[i]->operands[j].value;
      if ((v->kind == VAL_RESULT && in_set(set, n, v->def)) || seen[v->id])
        continue;
      seen[v->id] = 1;
      if (ncaps == cap_caps) {
        cap_caps = cap_caps ? 2 * cap_caps : 8;
        caps = realloc(caps, sizeof *caps * (size_t)cap_caps);
        if (!caps)
          abort();
      }
      caps[ncaps++] = v;
    }

  /* Exports: results read outside the set, in block order. */
  Value **outs = NULL;
  Type *types = NULL;
  int nouts = 0;
  for (int i = 0; i < n; i++)
    for (int r = 0; r < order[i]->nresults; r++) {
      Value *v = order[i]->results[r];
      bool outside = false;
      for (Operand *u = v->uses; u && !outside; u = u->next_use)
        outside = !in_set(set, n, pass_op_in_block(u->owner, b));
      if (!outside)
        continue;
      outs = realloc(outs, sizeof *outs * (size_t)(nouts + 1));
      types = realloc(types, sizeof *types * (size_t)(nouts + 1));
      if (!outs || !types)
        abort();
      outs[nouts] = v;
      types[nouts++] = v->type;
    }

  /* Nothing outside reads the set (dead ops): a region op needs a result all the same, so the
   * last op's results are exported, unread, for DCE to remove with the op. */
  if (nouts == 0) {
    Op *last = order[n - 1];
    outs = realloc(outs, sizeof *outs * (size_t)last->nresults);
    types = realloc(types, sizeof *types * (size_t)last->nresults);
    if (!outs || !types)
      abort();
    for (int r = 0; r < last->nresults; r++) {
      outs[nouts] = last->results[r];
      types[nouts++] = last->results[r]->type;
    }
  }

  Op *region = ir_op_create(m, kind, ncaps, caps, nouts, types);
  ir_op_insert_before(order[0], region);
  Block *body = ir_op_add_body(m, region);

  /* Redirect outside uses before moving: the yield's own uses must stay on the inner values. */
  for (int i = 0; i < nouts; i++) {
    Operand *u = outs[i]->uses;
    while (u) {
      Operand *next = u->next_use;
      if (!in_set(set, n, pass_op_in_block(u->owner, b)))
        ir_op_set_operand(u->owner, u->index, region->results[i]);
      u = next;
    }
  }
  for (int i = 0; i < n; i++)
    ir_op_move_into(order[i], body);
  ir_block_append(body, ir_op_create(m, OP_YIELD, nouts, outs, 0, NULL));

  free(set);
  free(order);
  free(seen);
  free(caps);
  free(outs);
  free(types);
  return region;
}

/* ---- stable topological sort ---- */

typedef struct Heap {
  int *a;
  int n;
} Heap;

static void heap_push(Heap *h, int v) {
  int i = h->n++;
  while (i > 0 && h->a[(i - 1) / 2] > v) {
    h->a[i] = h->a[(i - 1) / 2];
    i = (i - 1) / 2;
  }
  h->a[i] = v;
}

static int heap_pop(Heap *h) {
  int top = h->a[0], v = h->a[--h->n], i = 0;
  for (;;) {
    int c = 2 * i + 1;
    if (c >= h->n)
      break;
    if (c + 1 < h->n && h->a[c + 1] < h->a[c])
      c++;
    if (h->a[c] >= v)
      break;
    h->a[i] = h->a[c];
    i = c;
  }
  if (h->n)
    h->a[i] = v;
  return top;
}

bool pass_block_sort(Module *m, Block *b) {
  OpIndex x = {0};
  pass_op_index_build(&x, b);
  int n = x.n;
  Op **ops = x.ops;
  int *def_index = xcalloc((size_t)m->next_id, sizeof *def_index); /* value id -> op index + 1 */
  int *pending = xcalloc((size_t)n, sizeof *pending);
  for (int i = 0; i < n; i++)
    for (int r = 0; r < ops[i]->nresults; r++)
      def_index[ops[i]->results[r]->id] = i + 1;
  /* An edge per operand slot defined in b; a value read twice counts twice on both sides. */
  for (int i = 0; i < n; i++)
    for (int j = 0; j < ops[i]->noperands; j++)
      if (def_index[ops[i]->operands[j].value->id])
        pending[i]++;

  Heap h = {xcalloc((size_t)n, sizeof(int)), 0};
  for (int i = 0; i < n; i++)
    if (!pending[i])
      heap_push(&h, i);
  Op **sorted = xcalloc((size_t)n, sizeof *sorted);
  int k = 0;
  while (h.n) {
    Op *op = ops[heap_pop(&h)];
    sorted[k++] = op;
    for (int r = 0; r < op->nresults; r++)
      for (Operand *u = op->results[r]->uses; u; u = u->next_use) {
        /* Only the slots of ops of b count (a body read is listed as a capture too). */
        int user = u->owner->parent == b ? pass_op_index_pos(&x, u->owner) : -1;
        if (user >= 0 && --pending[user] == 0)
          heap_push(&h, user);
      }
  }
  bool ok = k == n;
  if (ok) {
    for (int i = 0; i < n; i++)
      ir_op_unlink(sorted[i]);
    for (int i = 0; i < n; i++)
      ir_block_append(b, sorted[i]);
  }
  pass_op_index_free(&x);
  free(def_index);
  free(pending);
  free(h.a);
  free(sorted);
  return ok;
}

/* ---- captures ---- */

/* Marks are stamps per value id: a value is in the current set when its mark equals stamp. */
typedef struct Marks {
  int *mark;
  int stamp;
} Marks;

static bool mark(Marks *k, const Value *v) {
  if (k->mark[v->id] == k->stamp)
    return false;
  k->mark[v->id] = k->stamp;
  return true;
}

/* Appends to caps the outside values body reads, once each, in program order. */
static int collect_reads(Marks *k, const Block *body, Value **caps) {
  int n = 0;
  for (const Op *o = body->first; o; o = o->next)
    for (int i = 0; i < o->noperands; i++) {
      Value *v = o->operands[i].value;
      if ((v->kind != VAL_RESULT || v->def->parent != body) && mark(k, v))
        caps[n++] = v;
    }
  return n;
}

static bool recapture_op(Module *m, Marks *k, Op *op) {
  int reads = 0;
  for (const Op *o = op->body->first; o; o = o->next)
    reads += o->noperands;
  Value **caps = xcalloc((size_t)(2 * reads), sizeof *caps);
  k->stamp++;
  int nreads = collect_reads(k, op->body, caps), read_stamp = k->stamp, n = 0;
  k->stamp++;
  for (int i = 0; i < op->noperands; i++) {
    Value *v = op->operands[i].value;
    if (k->mark[v->id] == read_stamp && mark(k, v))
      caps[nreads + n++] = v;
  }
  for (int i = 0; i < nreads; i++)
    if (mark(k, caps[i]))
      caps[nreads + n++] = caps[i];
  bool same = n == op->noperands;
  for (int i = 0; same && i < n; i++)
    same = caps[nreads + i] == op->operands[i].value;
  if (!same)
    ir_op_set_operands(m, op, n, caps + nreads);
  free(caps);
  return !same;
}

static bool recapture_block(Module *m, Marks *k, Block *b) {
  bool changed = false;
  for (Op *op = b->first; op; op = op->next)
    if (op->body) {
      changed |= recapture_block(m, k, op->body);
      changed |= recapture_op(m, k, op);
    }
  return changed;
}

bool pass_recapture(Module *m, Block *b) {
  Marks k = {xcalloc((size_t)m->next_id + 1, sizeof *k.mark), 0};
  bool changed = recapture_block(m, &k, b);
  free(k.mark);
  return changed;
}
