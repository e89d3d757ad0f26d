/* verify.c - the IR verifier.
 *
 * Rules, each reported at the op's location as "'OP' op: ..." and counted; the verifier keeps
 * going after an error so one run shows them all:
 *   - arity: operand and result counts within the registry's ranges;
 *   - attributes: every attribute is in the op's schema with the schema's kind, and every
 *     required one is present;
 *   - SSA: every value is defined once (names unique per sigil) and before its use; a value
 *     defined in a region is not visible outside it; a region op lists every outside value its
 *     body reads as one of its operands;
 *   - structure: a region op has a body ending in `yield` whose operands match the op's results;
 *     terminators appear only at the end of their block; the module ends with one `output`;
 *   - types: weights hold the bytes their type needs; where every operand type is known, the
 *     registry's shape inference must succeed and agree with every known result type. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "dyn_form.h"
#include "ir.h"

enum { UNSEEN, LIVE, OUT_OF_SCOPE };

typedef struct Verifier {
  const Module *m;
  Diag *d;
  unsigned char *state; /* per value id */
  const Value **names;  /* open-addressing set of named values, keyed by sigil and name */
  size_t cap;
} Verifier;

#define op_error(v, op, ...) ir_error((v)->d, (op)->loc, __VA_ARGS__)

/* ---- name uniqueness ---- */

static size_t hash_name(char sigil, const char *s) {
  size_t h = 1469598103934665603u ^ (unsigned char)sigil;
  for (; *s; s++)
    h = (h ^ (unsigned char)*s) * 1099511628211u;
  return h;
}

static char sigil_of(const Value *val) { return val->kind == VAL_WEIGHT ? '$' : '%'; }

/* Returns false if a value of the same sigil and name was already recorded. */
static bool record_name(Verifier *v, const Value *val) {
  if (!val->name)
    return true;
  char sigil = sigil_of(val);
  for (size_t i = hash_name(sigil, val->name) & (v->cap - 1);; i = (i + 1) & (v->cap - 1)) {
    const Value *n = v->names[i];
    if (!n) {
      v->names[i] = val;
      return true;
    }
    if (sigil_of(n) == sigil && strcmp(n->name, val->name) == 0)
      return false;
  }
}

static void define(Verifier *v, const Value *val, Loc loc) {
  char label[160];
  if (!record_name(v, val)) {
    ir_value_label(v->m, val, label, sizeof label);
    ir_error(v->d, loc, "value '%s' is defined twice", label);
  }
  v->state[val->id] = LIVE;
}

/* ---- per-op rules ---- */

static void check_arity(Verifier *v, const Op *op) {
  const OpInfo *info = &ir_ops[op->kind];
  const char *name = info->name;
  int lo = info->min_operands, hi = info->max_operands;
  if (op->noperands < lo || (hi >= 0 && op->noperands > hi)) {
    if (lo == hi)
      op_error(v, op, "'%s' op: expects %d operand%s, got %d", name, lo, lo == 1 ? "" : "s",
               op->noperands);
    else if (hi < 0)
      op_error(v, op, "'%s' op: expects at least %d operand%s, got %d", name, lo,
               lo == 1 ? "" : "s", op->noperands);
    else
      op_error(v, op, "'%s' op: expects %d to %d operands, got %d", name, lo, hi, op->noperands);
  }
  lo = info->min_results, hi = info->max_results;
  if (op->nresults < lo || (hi >= 0 && op->nresults > hi)) {
    if (lo == hi)
      op_error(v, op, "'%s' op: expects %d result%s, got %d", name, lo, lo == 1 ? "" : "s",
               op->nresults);
    else
      op_error(v, op, "'%s' op: expects at least %d result%s, got %d", name, lo,
               lo == 1 ? "" : "s", op->nresults);
  }
}

static void check_attrs(Verifier *v, const Op *op) {
  int n;
  const AttrSpec *specs = ir_op_attr_specs(op->kind, &n);
  const char *name = ir_op_name(op->kind);
  for (int i = 0; i < op->nattrs; i++) {
    const Attr *a = &op->attrs[i];
    const AttrSpec *s = ir_op_attr_spec(op->kind, a->name);
    if (!s) {
      Buf known = {0};
      for (int j = 0; j < n; j++)
        ir_buf_printf(&known, "%s%s", j ? ", " : "", specs[j].name);
      if (n)
        op_error(v, op, "'%s' op: unknown attribute '%s' (known: %s)", name, a->name,
                 ir_buf_str(&known));
      else
        op_error(v, op, "'%s' op: unknown attribute '%s' (it takes none)", name, a->name);
      ir_buf_free(&known);
    } else if (s->kind != a->kind) {
      op_error(v, op, "'%s' op: attribute '%s' must be %s, got %s", name, a->name,
               ir_attr_kind_name(s->kind), ir_attr_kind_name(a->kind));
    }
  }
  for (int j = 0; j < n; j++)
    if (!specs[j].optional && !ir_op_attr(op, specs[j].name) &&
        !ir_dyn_provides(op, specs[j].name))
      op_error(v, op, "'%s' op: missing required attribute '%s'", name, specs[j].name);
  if (op->kind == OP_SEGMENT) {
    const char *t = ir_attr_string(op, "target", NULL);
    if (t && strcmp(t, "device") != 0 && strcmp(t, "host") != 0)
      op_error(v, op, "'segment' op: target must be \"device\" or \"host\", got \"%s\"", t);
  }
  if (op->kind == OP_OUTPUT) {
    const Attr *a = ir_op_attr(op, "names");
    if (a && a->kind == ATTR_STRINGS && a->n != op->noperands)
      op_error(v, op, "'output' op: has %d names for %d outputs", a->n, op->noperands);
  }
}

/* Is val, used inside the regions enclosing op, captured by every region it crosses? */
static void check_capture(Verifier *v, const Op *op, int i) {
  const Value *val = op->operands[i].value;
  for (const Op *r = ir_op_parent_op(op); r; r = ir_op_parent_op(r)) {
    /* Regions at or inside the one that defines val need no capture. */
    if (val->kind == VAL_RESULT) {
      bool inside = false;
      for (const Op *p = ir_op_parent_op(val->def); p; p = ir_op_parent_op(p))
        if (p == r)
          inside = true;
      if (inside)
        return;
    }
    bool captured = false;
    for (int j = 0; j < r->noperands; j++)
      if (r->operands[j].value == val)
        captured = true;
    if (!captured) {
      char label[160];
      ir_value_label(v->m, val, label, sizeof label);
      op_error(v, op,
               "'%s' op: operand %d (%s) comes from outside the region of '%s' but is not one "
               "of its operands",
               ir_op_name(op->kind), i, label, ir_op_name(r->kind));
      return;
    }
  }
}

static void check_operands(Verifier *v, const Op *op) {
  for (int i = 0; i < op->noperands; i++) {
    const Value *val = op->operands[i].value;
    char label[160];
    if (!val) {
      op_error(v, op, "'%s' op: operand %d is missing", ir_op_name(op->kind), i);
      continue;
    }
    if (val->kind == VAL_RESULT && v->state[val->id] != LIVE) {
      ir_value_label(v->m, val, label, sizeof label);
      if (v->state[val->id] == OUT_OF_SCOPE)
        op_error(v, op, "'%s' op: operand %d (%s) is defined in a region that does not enclose "
                 "this use", ir_op_name(op->kind), i, label);
      else
        op_error(v, op, "'%s' op: operand %d (%s) is used before its definition",
                 ir_op_name(op->kind), i, label);
      continue;
    }
    check_capture(v, op, i);
  }
}

static void check_types(Verifier *v, const Op *op) {
  const char *name = ir_op_name(op->kind);
  for (int i = 0; i < op->noperands; i++)
    if (!op->operands[i].value || !ir_type_is_known(&op->operands[i].value->type))
      return; /* nothing to infer from yet */
  if (op->kind == OP_YIELD || op->kind == OP_OUTPUT)
    return;
  char err[256] = "";
  Type *out = ir_infer_op(op, err, sizeof err);
  if (!out) {
    op_error(v, op, "'%s' op: %s", name, err);
    return;
  }
  for (int i = 0; i < op->nresults; i++) {
    const Type *have = &op->results[i]->type;
    /* A declared quantized result chooses its own scale: inference gives only dtype and shape. */
    if (have->quantized && have->dtype == out[i].dtype) {
      out[i].quantized = true;
      out[i].scale = have->scale;
      out[i].zero_point = have->zero_point;
    }
    if (ir_type_is_known(have) && !ir_type_equal(have, &out[i])) {
      char want[128];
      snprintf(want, sizeof want, "%s", ir_type_str(&out[i]));
      op_error(v, op, "'%s' op: result %d has type %s, but its operands give %s", name, i,
               ir_type_str(have), want);
    }
  }
  free(out);
}

static void check_yield(Verifier *v, const Op *region_op, const Op *y) {
  if (y->noperands != region_op->nresults) {
    op_error(v, y, "'yield' op: yields %d value%s, but '%s' has %d result%s", y->noperands,
             y->noperands == 1 ? "" : "s", ir_op_name(region_op->kind), region_op->nresults,
             region_op->nresults == 1 ? "" : "s");
    return;
  }
  for (int i = 0; i < y->noperands; i++) {
    const Type *a = &y->operands[i].value->type, *b = &region_op->results[i]->type;
    if (ir_type_is_known(a) && ir_type_is_known(b) && !ir_type_equal(a, b)) {
      char ta[128];
      snprintf(ta, sizeof ta, "%s", ir_type_str(a));
      op_error(v, y, "'yield' op: operand %d has type %s, but '%s' result %d has type %s", i, ta,
               ir_op_name(region_op->kind), i, ir_type_str(b));
    }
  }
}

static void verify_block(Verifier *v, const Block *b);

static void verify_op(Verifier *v, const Op *op) {
  int errors = v->d->nerrors;
  check_arity(v, op);
  check_attrs(v, op);
  /* Shape inference trusts arity and attribute kinds: skip it when those are wrong. */
  bool infer = v->d->nerrors == errors;
  check_operands(v, op);
  bool has_region = ir_ops[op->kind].flags & F_REGION;
  if (has_region && !op->body)
    op_error(v, op, "'%s' op: needs a region", ir_op_name(op->kind));
  if (!has_region && op->body)
    op_error(v, op, "'%s' op: takes no region", ir_op_name(op->kind));
  if (op->body) {
    verify_block(v, op->body);
    const Op *last = op->body->last;
    if (!last || last->kind != OP_YIELD)
      op_error(v, op, "'%s' op: region must end with 'yield'", ir_op_name(op->kind));
    else
      check_yield(v, op, last);
    /* Values of the region go out of scope. */
    for (const Op *o = op->body->first; o; o = o->next)
      for (int i = 0; i < o->nresults; i++)
        v->state[o->results[i]->id] = OUT_OF_SCOPE;
  }
  if (infer)
    check_types(v, op);
  for (int i = 0; i < op->nresults; i++) {
    const Value *r = op->results[i];
    if (r->def != op || r->index != i)
      op_error(v, op, "'%s' op: result %d does not point back at its op", ir_op_name(op->kind), i);
    define(v, r, r->loc.line ? r->loc : op->loc);
  }
}

static void verify_block(Verifier *v, const Block *b) {
  bool in_region = b->parent != NULL;
  for (const Op *op = b->first; op; op = op->next) {
    if (op->parent != b)
      op_error(v, op, "'%s' op: is linked into a block it does not name as parent",
               ir_op_name(op->kind));
    if (op->kind == OP_YIELD && (!in_region || op->next))
      op_error(v, op, "'yield' op: only allowed at the end of a region");
    if (op->kind == OP_OUTPUT && (in_region || op->next))
      op_error(v, op, "'output' op: only allowed at the end of the module");
    verify_op(v, op);
  }
}

static void check_weight(Verifier *v, const Value *w) {
  const Tensor *t = w->tensor;
  char label[160];
  ir_value_label(v->m, w, label, sizeof label);
  if (!t || !ir_type_equal(&t->type, &w->type)) {
    ir_error(v->d, w->loc, "weight '%s' has no tensor of its type", label);
    return;
  }
  int64_t n = ir_type_numel(&w->type);
  if (n < 0) {
    ir_error(v->d, w->loc, "weight '%s' must have a static type, got %s", label,
             ir_type_str(&w->type));
    return;
  }
  size_t want = (size_t)n * ir_dtype_size(w->type.dtype);
  if (t->data && t->nbytes != want)
    ir_error(v->d, w->loc, "weight '%s' holds %zu bytes, its type needs %zu", label, t->nbytes,
             want);
}

int ir_verify(const Module *m, Diag *d) {
  int before = d->nerrors;
  Verifier v = {.m = m, .d = d};
  v.state = calloc((size_t)m->next_id + 1, 1);
  v.cap = 64;
  while (v.cap < (size_t)m->next_id * 2)
    v.cap *= 2;
  v.names = calloc(v.cap, sizeof *v.names);
  if (!v.state || !v.names)
    abort();
  for (int i = 0; i < m->ninputs; i++) {
    const Value *in = m->inputs[i];
    define(&v, in, in->loc);
    if (!ir_type_is_known(&in->type)) {
      char label[160];
      ir_value_label(m, in, label, sizeof label);
      ir_error(d, in->loc, "input '%s' needs a type", label);
    }
  }
  for (int i = 0; i < m->nweights; i++) {
    define(&v, m->weights[i], m->weights[i]->loc);
    check_weight(&v, m->weights[i]);
  }
  verify_block(&v, &m->body);
  if (!ir_module_output(m))
    ir_error(d, (Loc){0, 0}, "module has no 'output'");
  free(v.state);
  free(v.names);
  return d->nerrors - before;
}
