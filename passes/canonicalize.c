/* canonicalize.c - the `canonicalize` pass: CSE, constant folding, identity/dropout removal,
 * algebraic identities, DCE.
 *
 * Requires: a module that verifies. Types may be unknown (`?`): such ops are not folded but are
 *   still CSE'd, forwarded and removed.
 * Maintains: SSA and dominance (a replacement value always dominates the uses it takes over);
 *   output names (the output op's `names` attribute is never touched, so redirecting an output
 *   keeps the name it is bound by); region structure (no body is merged, split or moved, no
 *   terminator is erased, no region op is folded or CSE'd); region captures: the operands of a
 *   region op are exactly the outside values its body reads, in their old order with new ones
 *   (weights made by folding inside the body) appended.
 * Creates: one anonymous weight per result of a folded op, appended to the module's weights in
 *   program order, so the same input always gives the same output.
 * Removes: ops whose results are all unused (a region op with them), and at the end every weight
 *   nothing reads; inputs stay.
 *
 * It repeats, until nothing changes:
 *   - CSE, per block: an op equal to an earlier op of the same block (kind, operands - either
 *     order for a commutative op - attributes and result types; no region) is replaced by it.
 *     Symbols (ONNX node names) are labels, not semantics: the earlier op keeps its own. Ops in a region are matched against their own block only, never the enclosing one.
 *   - folding: an F_FOLD op whose operands are all weights with data and whose result types are
 *     known and static is evaluated with the reference kernels (through interp.h) into new
 *     weights, one per result; an F_DATA_SHAPE op (unknown result types) is evaluated into an
 *     upper-bound buffer and its weights take the shape the kernel gives.
 *   - forwarding: identity and dropout (F_NOOP elementwise ops) are replaced by their operand.
 *   - shapes (canonicalize_shapes.c): shape/size of a static type to weights, ops in operand form
 *     with constant extra operands to the attribute form, unknown result types inferred.
 *   - algebra (canonicalize_algebra.c), never changing a type that users see:
 *     - x*1, 1*x, x+0, 0+x, x-0, x/1, pow(x, 1) become x, where the constant is a weight with data
 *       (any float or integer dtype, not quantized) of all 1s or all 0s and the result type
 *       equals x's (a constant that broadcasts x wider blocks it). x+0 turns -0.0 into +0.0 and
 *       the rewrite does not: inference compilers accept this;
 *     - reshape (attribute form, known result type) of a reshape/flatten/squeeze/unsqueeze
 *       becomes one reshape of the inner operand, with the result dimensions spelled out;
 *     - transpose of transpose becomes one transpose with the composed permutation;
 *     - reshape, flatten, squeeze, unsqueeze and cast whose result type equals the operand type,
 *       and transpose with the identity permutation, are replaced by their operand.
 *     An inner op that other ops still read stays for them (the chain reads its operand).
 *   - DCE, in reverse order within each block.
 * Remarks: one per op that has only weight operands yet cannot be folded, with the reason. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define XXH_STATIC_LINKING_ONLY /* XXH3_state_t on the stack */
#include <xxhash.h>

#include "pass.h"
#include "canonicalize_algebra.h"
#include "canonicalize_shapes.h"
#include "interp.h"
#include "outline.h"

typedef struct FoldFailure {
  const Op *op;
  char why[200];
} FoldFailure;

typedef struct Canon {
  PassContext *pc;
  Module *m;
  bool changed;
  FoldFailure *failures; /* of the latest round; reported once the rounds stop */
  int nfailures, cap_failures;
} Canon;

static void *xrealloc(void *p, size_t n) {
  p = realloc(p, n ? n : 1);
  if (!p)
    abort();
  return p;
}

static bool is_terminator(const Op *op) { return ir_ops[op->kind].flags & F_TERMINATOR; }

static bool results_unused(const Op *op) {
  for (int i = 0; i < op->nresults; i++)
    if (ir_value_has_uses(op->results[i]))
      return false;
  return true;
}

static void replace_op(Canon *c, Op *op, Value *const *with) {
  for (int i = 0; i < op->nresults; i++)
    ir_value_replace_all_uses(op->results[i], with[i]);
  ir_op_erase(op);
  c->changed = true;
}

/* ---- CSE ---- */

static void hash_i64(XXH3_state_t *s, int64_t v) { XXH3_64bits_update(s, &v, sizeof v); }

static void hash_str(XXH3_state_t *s, const char *str) {
  size_t n = str ? strlen(str) : 0;
  hash_i64(s, str ? (int64_t)n : -1);
  XXH3_64bits_update(s, str ? str : "", n);
}

static void hash_type(XXH3_state_t *s, const Type *t) {
  hash_i64(s, t->dtype);
  hash_i64(s, t->rank);
  XXH3_64bits_update(s, t->dims, sizeof t->dims[0] * (size_t)t->rank);
  hash_i64(s, t->quantized);
  if (t->quantized) {
    XXH3_64bits_update(s, &t->scale, sizeof t->scale);
    hash_i64(s, t->zero_point);
  }
}

static void hash_attr(XXH3_state_t *s, const Attr *a) {
  hash_str(s, a->name);
  hash_i64(s, a->kind);
  hash_i64(s, a->n);
  switch (a->kind) {
  case ATTR_INT: hash_i64(s, a->i); break;
  case ATTR_FLOAT: XXH3_64bits_update(s, &a->f, sizeof a->f); break;
  case ATTR_STRING: hash_str(s, a->s); break;
  case ATTR_INTS: XXH3_64bits_update(s, a->ints, sizeof(int64_t) * (size_t)a->n); break;
  case ATTR_FLOATS: XXH3_64bits_update(s, a->floats, sizeof(double) * (size_t)a->n); break;
  case ATTR_STRINGS:
    for (int i = 0; i < a->n; i++)
      hash_str(s, a->strings[i]);
    break;
  case ATTR_TENSOR:
    hash_type(s, &a->tensor->type);
    if (a->tensor->data)
      XXH3_64bits_update(s, a->tensor->data, a->tensor->nbytes);
    break;
  default: break;
  }
}

static bool is_commutative_pair(const Op *op) {
  return (ir_ops[op->kind].flags & F_COMMUTATIVE) && op->noperands == 2;
}

static uint64_t op_hash(const Op *op) {
  XXH3_state_t s;
  XXH3_64bits_reset(&s);
  hash_i64(&s, op->kind);
  hash_i64(&s, op->noperands);
  if (is_commutative_pair(op)) {
    int a = op->operands[0].value->id, b = op->operands[1].value->id;
    hash_i64(&s, a < b ? a : b);
    hash_i64(&s, a < b ? b : a);
  } else {
    for (int i = 0; i < op->noperands; i++)
      hash_i64(&s, op->operands[i].value->id);
  }
  hash_i64(&s, op->nattrs);
  for (int i = 0; i < op->nattrs; i++)
    hash_attr(&s, &op->attrs[i]);
  hash_i64(&s, op->nresults);
  for (int i = 0; i < op->nresults; i++)
    hash_type(&s, &op->results[i]->type);
  return XXH3_64bits_digest(&s);
}

static bool same_operands(const Op *a, const Op *b) {
  bool in_order = true;
  for (int i = 0; i < a->noperands; i++)
    in_order &= a->operands[i].value == b->operands[i].value;
  return in_order || (is_commutative_pair(a) && a->operands[0].value == b->operands[1].value &&
                      a->operands[1].value == b->operands[0].value);
}

static bool ops_equal(const Op *a, const Op *b) {
  if (a->kind != b->kind || a->noperands != b->noperands || a->nattrs != b->nattrs ||
      a->nresults != b->nresults)
    return false;
  if (!same_operands(a, b))
    return false;
  for (int i = 0; i < a->nattrs; i++)
    if (!ir_attr_equal(&a->attrs[i], &b->attrs[i]))
      return false;
  for (int i = 0; i < a->nresults; i++)
    if (!ir_type_equal(&a->results[i]->type, &b->results[i]->type))
      return false;
  return true;
}

static bool cse_candidate(const Op *op) {
  return !is_terminator(op) && !op->body && op->nresults > 0;
}

/* Open addressing with linear probing; ops are only added while the table lives. */
typedef struct CseTable {
  const Op **ops;
  uint64_t *hashes;
  size_t mask;
} CseTable;

/* Returns the earlier op equal to op, or NULL after adding op. */
static const Op *cse_find_or_add(CseTable *t, const Op *op) {
  uint64_t h = op_hash(op);
  size_t i = (size_t)h & t->mask;
  for (; t->ops[i]; i = (i + 1) & t->mask)
    if (t->hashes[i] == h && ops_equal(t->ops[i], op))
      return t->ops[i];
  t->ops[i] = op;
  t->hashes[i] = h;
  return NULL;
}

static void cse_block(Canon *c, Block *b) {
  size_t n = 0, cap = 16;
  for (Op *op = b->first; op; op = op->next)
    n++;
  while (cap < 2 * n)
    cap *= 2;
  CseTable t = {calloc(cap, sizeof *t.ops), calloc(cap, sizeof *t.hashes), cap - 1};
  if (!t.ops || !t.hashes)
    abort();
  for (Op *op = b->first, *next; op; op = next) {
    next = op->next;
    if (op->body)
      cse_block(c, op->body);
    if (!cse_candidate(op))
      continue;
    const Op *prev = cse_find_or_add(&t, op);
    if (prev)
      replace_op(c, op, prev->results);
  }
  free(t.ops);
  free(t.hashes);
}

/* ---- folding ---- */

/* One evaluation: the op, its operand tensors and, on failure, the reason. */
typedef struct Fold {
  const Module *m;
  const Op *op;
  const Tensor **in; /* op->noperands */
  char *why;
  size_t whylen;
  bool explain; /* name operands in why (slow) */
} Fold;

static bool fail(Fold *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool fail(Fold *f, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(f->why, f->whylen, fmt, ap);
  va_end(ap);
  return false;
}

/* An op folding applies to: F_FOLD with results and only weights as operands. */
static bool fold_candidate(const Op *op) {
  if (!(ir_ops[op->kind].flags & F_FOLD) || op->noperands == 0 || op->nresults == 0 || op->body)
    return false;
  for (int i = 0; i < op->noperands; i++)
    if (op->operands[i].value->kind != VAL_WEIGHT)
      return false;
  return true;
}

/* Names the operand that blocks folding: only when explaining, as labels cost a module walk. */
static bool fail_operand(Fold *f, const Value *v, bool elided) {
  if (!f->explain)
    return false;
  char name[160];
  ir_value_label(f->m, v, name, sizeof name);
  if (elided)
    return fail(f, "operand %s is elided", name);
  return fail(f, "operand %s has type %s", name, ir_type_str(&v->type));
}

/* Checks what evaluation takes for granted: data present, static known types, sizes agree. */
static bool fold_ready(Fold *f) {
  const Op *op = f->op;
  for (int i = 0; i < op->noperands; i++) {
    const Value *v = op->operands[i].value;
    if (!v->tensor || !v->tensor->data)
      return fail_operand(f, v, true);
    int64_t numel = ir_type_numel(&v->type);
    if (numel < 0 || v->tensor->nbytes != (size_t)numel * ir_dtype_size(v->type.dtype))
      return fail_operand(f, v, false);
  }
  bool data_shape = ir_ops[op->kind].flags & F_DATA_SHAPE; /* sized by the kernel */
  for (int i = 0; i < op->nresults && !data_shape; i++) {
    const Type *t = &op->results[i]->type;
    if (!ir_type_is_known(t))
      return fail(f, "the result type is unknown");
    if (ir_type_numel(t) < 0)
      return fail(f, "the result type %s is not static", ir_type_str(t));
  }
  for (int i = 0; i < op->noperands; i++)
    f->in[i] = op->operands[i].value->tensor;
  return true;
}

static void add_failure(Canon *c, const Op *op, const char *why) {
  if (c->nfailures == c->cap_failures) {
    c->cap_failures = c->cap_failures ? 2 * c->cap_failures : 16;
    c->failures = xrealloc(c->failures, sizeof *c->failures * (size_t)c->cap_failures);
  }
  FoldFailure *ff = &c->failures[c->nfailures++];
  ff->op = op;
  snprintf(ff->why, sizeof ff->why, "%s", why);
}

/* Remarks name values as the printer will number them once the pass is done, so the checks
 * before evaluation run again, explaining, on the final module. */
static void report_failure(Canon *c, const FoldFailure *ff) {
  char why[200] = "";
  const Tensor **in = xrealloc(NULL, sizeof *in * (size_t)ff->op->noperands);
  Fold f = {.m = c->m, .op = ff->op, .in = in, .why = why, .whylen = sizeof why, .explain = true};
  const char *text = fold_ready(&f) ? ff->why : why;
  pass_remark(c->pc, ff->op, "not folding '%s': %s", ir_op_name(ff->op->kind), text);
  free(in);
}

/* Replaces a fold candidate by new weights (one per result) evaluated through the reference
 * kernels (pass_eval_kernel), or records why it cannot. */
static void fold_op(Canon *c, Op *op) {
  char why[200] = "";
  int nres = op->nresults;
  const Tensor **in = xrealloc(NULL, sizeof *in * (size_t)op->noperands);
  Tensor *out = xrealloc(NULL, sizeof *out * (size_t)nres);
  Value **with = xrealloc(NULL, sizeof *with * (size_t)nres);
  Fold f = {.m = c->m, .op = op, .in = in, .why = why, .whylen = sizeof why};
  int nalloc = 0;
  bool ok = fold_ready(&f);
  Type *bound = xrealloc(NULL, sizeof *bound * (size_t)nres);
  if (ok && (ir_ops[op->kind].flags & F_DATA_SHAPE)) /* an upper bound, trimmed by the kernel */
    ok = pass_eval_bound(op, in, bound, why, sizeof why);
  else
    for (int i = 0; ok && i < nres; i++)
      bound[i] = op->results[i]->type;
  for (; ok && nalloc < nres; nalloc++) {
    const Type *t = &bound[nalloc];
    size_t nbytes = (size_t)ir_type_numel(t) * ir_dtype_size(t->dtype);
    out[nalloc] = (Tensor){*t, xrealloc(NULL, nbytes), nbytes};
  }
  ok = ok && pass_eval_kernel(op, in, out, why, sizeof why);
  if (ok) {
    for (int i = 0; i < nres; i++)
      with[i] = ir_add_weight(c->m, NULL, out[i].type, out[i].data, out[i].nbytes);
    replace_op(c, op, with);
  } else {
    add_failure(c, op, why);
  }
  for (int i = 0; i < nalloc; i++)
    free(out[i].data);
  free(bound);
  free(in);
  free(out);
  free(with);
}

/* ---- forwarding ---- */

/* identity and dropout: elementwise ops that move no data. */
static bool is_forwarding(const Op *op) {
  const OpInfo *info = &ir_ops[op->kind];
  return (info->flags & F_NOOP) && info->fusion == FK_ELEMENTWISE && op->noperands == 1 &&
         op->nresults == 1;
}

static void forward_op(Canon *c, Op *op) {
  Value *in = op->operands[0].value;
  const Type *rt = &op->results[0]->type;
  if (ir_type_is_known(rt) && ir_type_is_known(&in->type) && !ir_type_equal(rt, &in->type))
    return; /* not a plain forward: leave it to the verifier */
  replace_op(c, op, &in);
}

static void rewrite_block(Canon *c, Block *b) {
  for (Op *op = b->first, *next; op; op = next) {
    next = op->next;
    if (op->body)
      rewrite_block(c, op->body);
    else if (is_forwarding(op))
      forward_op(c, op);
    else if (canon_shapes_rewrite(c->m, op))
      c->changed = true;
    else if (canon_algebra_rewrite(c->m, op))
      c->changed = true;
    else if (fold_candidate(op))
      fold_op(c, op);
  }
}

/* ---- DCE ---- */

static void dce_block(Canon *c, Block *b) {
  for (Op *op = b->last, *prev; op; op = prev) {
    prev = op->prev;
    if (is_terminator(op))
      continue;
    if (results_unused(op)) {
      ir_op_erase(op);
      c->changed = true;
    } else if (op->body) {
      dce_block(c, op->body);
    }
  }
}

static void drop_unused_weights(Module *m) {
  int n = 0;
  for (int i = 0; i < m->nweights; i++) {
    Value *w = m->weights[i];
    if (ir_value_has_uses(w)) {
      w->index = n;
      m->weights[n++] = w;
    }
  }
  m->nweights = n;
}

/* ---- the pass ---- */

static bool run(PassContext *pc) {
  Canon c = {.pc = pc, .m = pc->m};
  do {
    c.changed = false;
    c.nfailures = 0;
    cse_block(&c, &c.m->body);
    rewrite_block(&c, &c.m->body);
    dce_block(&c, &c.m->body);
    c.changed |= pass_recapture(c.m, &c.m->body);
  } while (c.changed);
  drop_unused_weights(c.m);
  /* The last round changed nothing, so the ops it failed to fold are all still there. */
  for (int i = 0; i < c.nfailures; i++)
    report_failure(&c, &c.failures[i]);
  free(c.failures);
  return true;
}

const PassInfo pass_canonicalize = {
    "canonicalize", "fold constants, forward identity and dropout, eliminate common and dead code",
    NULL, 0, run};
