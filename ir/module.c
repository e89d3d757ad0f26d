/* module.c - the builder and rewrite API of ir.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ir.h"

#define IR_BUG(...)                                                                                \
  do {                                                                                             \
    fprintf(stderr, "kiln: internal error at %s:%d: ", __FILE__, __LINE__);                       \
    fprintf(stderr, __VA_ARGS__);                                                                  \
    fputc('\n', stderr);                                                                           \
    abort();                                                                                       \
  } while (0)

Module *ir_module_new(const char *name) {
  Arena *a = ir_arena_new();
  Module *m = ir_arena_alloc(a, sizeof *m);
  m->arena = a;
  m->name = name ? ir_arena_strdup(a, name) : NULL;
  return m;
}

void ir_module_free(Module *m) {
  if (m)
    ir_arena_free(m->arena);
}

static Value *new_value(Module *m, ValueKind kind, const char *name, Type t) {
  Value *v = ir_arena_alloc(m->arena, sizeof *v);
  v->kind = kind;
  v->type = t;
  v->id = m->next_id++;
  ir_value_set_name(m, v, name);
  return v;
}

/* Appends to an arena array, doubling its capacity. */
static void push_value(Module *m, Value ***arr, int *n, int *cap, Value *v) {
  if (*n == *cap) {
    int ncap = *cap ? *cap * 2 : 8;
    *arr = ir_arena_grow(m->arena, *arr, sizeof(Value *) * (size_t)*cap,
                         sizeof(Value *) * (size_t)ncap);
    *cap = ncap;
  }
  (*arr)[(*n)++] = v;
}

Value *ir_add_input(Module *m, const char *name, Type t) {
  Value *v = new_value(m, VAL_INPUT, name, t);
  v->index = m->ninputs;
  push_value(m, &m->inputs, &m->ninputs, &m->cap_inputs, v);
  return v;
}

Value *ir_add_weight(Module *m, const char *name, Type t, const void *data, size_t nbytes) {
  Value *v = new_value(m, VAL_WEIGHT, name, t);
  v->index = m->nweights;
  Tensor *tn = ir_arena_alloc(m->arena, sizeof *tn);
  tn->type = t;
  tn->nbytes = nbytes;
  if (data) {
    tn->data = ir_arena_alloc(m->arena, nbytes);
    if (nbytes)
      memcpy(tn->data, data, nbytes);
  }
  v->tensor = tn;
  push_value(m, &m->weights, &m->nweights, &m->cap_weights, v);
  return v;
}

void ir_value_set_name(Module *m, Value *v, const char *name) {
  v->name = name ? ir_arena_strdup(m->arena, name) : NULL;
}

typedef struct {
  char sigil;
  const char *name;
  Value *found;
} LookupCtx;

static bool lookup_in_op(Op *op, void *ctx) {
  LookupCtx *c = ctx;
  for (int i = 0; i < op->nresults; i++)
    if (op->results[i]->name && strcmp(op->results[i]->name, c->name) == 0) {
      c->found = op->results[i];
      return false;
    }
  return true;
}

Value *ir_lookup_value(const Module *m, char sigil, const char *name) {
  if (sigil == '$') {
    for (int i = 0; i < m->nweights; i++)
      if (m->weights[i]->name && strcmp(m->weights[i]->name, name) == 0)
        return m->weights[i];
    return NULL;
  }
  for (int i = 0; i < m->ninputs; i++)
    if (m->inputs[i]->name && strcmp(m->inputs[i]->name, name) == 0)
      return m->inputs[i];
  LookupCtx c = {sigil, name, NULL};
  ir_walk((Block *)&m->body, lookup_in_op, &c);
  return c.found;
}

bool ir_value_has_uses(const Value *v) { return v->uses != NULL; }

int ir_value_num_uses(const Value *v) {
  int n = 0;
  for (const Operand *u = v->uses; u; u = u->next_use)
    n++;
  return n;
}

static void add_use(Operand *o) {
  o->next_use = o->value->uses;
  o->value->uses = o;
}

static void remove_use(Operand *o) {
  for (Operand **p = &o->value->uses; *p; p = &(*p)->next_use)
    if (*p == o) {
      *p = o->next_use;
      o->next_use = NULL;
      return;
    }
  IR_BUG("operand %d of '%s' missing from its value's use list", o->index,
         ir_op_name(o->owner->kind));
}

void ir_value_replace_all_uses(Value *from, Value *to) {
  if (from == to)
    return;
  while (from->uses) {
    Operand *o = from->uses;
    from->uses = o->next_use;
    o->value = to;
    add_use(o);
  }
}

Op *ir_op_create(Module *m, OpKind kind, int noperands, Value *const *operands, int nresults,
                 const Type *result_types) {
  Op *op = ir_arena_alloc(m->arena, sizeof *op);
  op->kind = kind;
  op->noperands = noperands;
  op->operands = ir_arena_alloc(m->arena, sizeof(Operand) * (size_t)noperands);
  for (int i = 0; i < noperands; i++) {
    op->operands[i] = (Operand){.value = operands[i], .owner = op, .index = i};
    if (!operands[i])
      IR_BUG("operand %d of a new '%s' is NULL", i, ir_op_name(kind));
    add_use(&op->operands[i]);
  }
  op->nresults = nresults;
  op->results = ir_arena_alloc(m->arena, sizeof(Value *) * (size_t)nresults);
  for (int i = 0; i < nresults; i++) {
    Value *v = new_value(m, VAL_RESULT, NULL, result_types ? result_types[i] : ir_type_unknown());
    v->def = op;
    v->index = i;
    op->results[i] = v;
  }
  return op;
}

void ir_op_set_operand(Op *op, int i, Value *v) {
  Operand *o = &op->operands[i];
  if (o->value == v)
    return;
  remove_use(o);
  o->value = v;
  add_use(o);
}

void ir_op_set_operands(Module *m, Op *op, int n, Value *const *values) {
  for (int i = 0; i < op->noperands; i++)
    remove_use(&op->operands[i]);
  if (n > op->noperands)
    op->operands = ir_arena_alloc(m->arena, sizeof(Operand) * (size_t)n);
  op->noperands = n;
  for (int i = 0; i < n; i++) {
    if (!values[i])
      IR_BUG("operand %d of a '%s' set to NULL", i, ir_op_name(op->kind));
    op->operands[i] = (Operand){.value = values[i], .owner = op, .index = i};
    add_use(&op->operands[i]);
  }
}

void ir_op_set_sym(Module *m, Op *op, const char *sym) {
  op->sym = sym ? ir_arena_strdup(m->arena, sym) : NULL;
}

Block *ir_op_add_body(Module *m, Op *op) {
  if (!op->body) {
    op->body = ir_arena_alloc(m->arena, sizeof(Block));
    op->body->parent = op;
  }
  return op->body;
}

/* ---- attributes ---- */

static Tensor *copy_tensor(Module *m, const Tensor *t) {
  Tensor *c = ir_arena_alloc(m->arena, sizeof *c);
  *c = *t;
  if (t->data && t->nbytes) {
    c->data = ir_arena_alloc(m->arena, t->nbytes);
    memcpy(c->data, t->data, t->nbytes);
  }
  return c;
}

void ir_op_set_attr(Module *m, Op *op, const Attr *a) {
  Attr c = *a;
  Arena *ar = m->arena;
  c.name = ir_arena_strdup(ar, a->name);
  switch (a->kind) {
  case ATTR_STRING: c.s = ir_arena_strdup(ar, a->s); break;
  case ATTR_INTS:
    c.ints = ir_arena_alloc(ar, sizeof(int64_t) * (size_t)a->n);
    if (a->n)
      memcpy(c.ints, a->ints, sizeof(int64_t) * (size_t)a->n);
    break;
  case ATTR_FLOAT: c.f = (float)a->f; break;
  case ATTR_FLOATS:
    c.floats = ir_arena_alloc(ar, sizeof(double) * (size_t)a->n);
    for (int i = 0; i < a->n; i++)
      c.floats[i] = (float)a->floats[i];
    break;
  case ATTR_STRINGS:
    c.strings = ir_arena_alloc(ar, sizeof(char *) * (size_t)a->n);
    for (int i = 0; i < a->n; i++)
      c.strings[i] = ir_arena_strdup(ar, a->strings[i]);
    break;
  case ATTR_TENSOR: c.tensor = copy_tensor(m, a->tensor); break;
  default: break;
  }
  int pos = 0;
  while (pos < op->nattrs && strcmp(op->attrs[pos].name, c.name) < 0)
    pos++;
  if (pos < op->nattrs && strcmp(op->attrs[pos].name, c.name) == 0) {
    op->attrs[pos] = c;
    return;
  }
  /* Attribute arrays are small; a fresh array per insertion keeps the code simple. */
  Attr *na = ir_arena_alloc(ar, sizeof(Attr) * (size_t)(op->nattrs + 1));
  if (op->nattrs) {
    memcpy(na, op->attrs, sizeof(Attr) * (size_t)pos);
    memcpy(na + pos + 1, op->attrs + pos, sizeof(Attr) * (size_t)(op->nattrs - pos));
  }
  na[pos] = c;
  op->attrs = na;
  op->nattrs++;
}

void ir_op_set_int(Module *m, Op *op, const char *name, int64_t v) {
  ir_op_set_attr(m, op, &(Attr){.name = name, .kind = ATTR_INT, .i = v});
}

void ir_op_set_float(Module *m, Op *op, const char *name, double v) {
  ir_op_set_attr(m, op, &(Attr){.name = name, .kind = ATTR_FLOAT, .f = v});
}

void ir_op_set_string(Module *m, Op *op, const char *name, const char *v) {
  ir_op_set_attr(m, op, &(Attr){.name = name, .kind = ATTR_STRING, .s = v});
}

void ir_op_set_ints(Module *m, Op *op, const char *name, const int64_t *v, int n) {
  ir_op_set_attr(m, op, &(Attr){.name = name, .kind = ATTR_INTS, .n = n, .ints = (int64_t *)v});
}

void ir_op_set_floats(Module *m, Op *op, const char *name, const double *v, int n) {
  ir_op_set_attr(m, op, &(Attr){.name = name, .kind = ATTR_FLOATS, .n = n, .floats = (double *)v});
}

void ir_op_set_strings(Module *m, Op *op, const char *name, const char *const *v, int n) {
  ir_op_set_attr(m, op,
                 &(Attr){.name = name, .kind = ATTR_STRINGS, .n = n, .strings = (const char **)v});
}

void ir_op_remove_attr(Op *op, const char *name) {
  for (int i = 0; i < op->nattrs; i++)
    if (strcmp(op->attrs[i].name, name) == 0) {
      memmove(op->attrs + i, op->attrs + i + 1, sizeof(Attr) * (size_t)(op->nattrs - i - 1));
      op->nattrs--;
      return;
    }
}

const Attr *ir_op_attr(const Op *op, const char *name) {
  for (int i = 0; i < op->nattrs; i++)
    if (strcmp(op->attrs[i].name, name) == 0)
      return &op->attrs[i];
  return NULL;
}

int64_t ir_attr_int(const Op *op, const char *name, int64_t dflt) {
  const Attr *a = ir_op_attr(op, name);
  return a && a->kind == ATTR_INT ? a->i : dflt;
}

double ir_attr_float(const Op *op, const char *name, double dflt) {
  const Attr *a = ir_op_attr(op, name);
  return a && a->kind == ATTR_FLOAT ? a->f : dflt;
}

const char *ir_attr_string(const Op *op, const char *name, const char *dflt) {
  const Attr *a = ir_op_attr(op, name);
  return a && a->kind == ATTR_STRING ? a->s : dflt;
}

int ir_attr_ints(const Op *op, const char *name, const int64_t **v) {
  const Attr *a = ir_op_attr(op, name);
  if (!a || a->kind != ATTR_INTS)
    return -1;
  *v = a->ints;
  return a->n;
}

int ir_attr_floats(const Op *op, const char *name, const double **v) {
  const Attr *a = ir_op_attr(op, name);
  if (!a || a->kind != ATTR_FLOATS)
    return -1;
  *v = a->floats;
  return a->n;
}

static bool tensor_equal(const Tensor *a, const Tensor *b) {
  if (!ir_type_equal(&a->type, &b->type) || a->nbytes != b->nbytes)
    return false;
  if (!a->data || !b->data)
    return a == b; /* elided data is equal only to itself */
  return memcmp(a->data, b->data, a->nbytes) == 0;
}

bool ir_attr_equal(const Attr *a, const Attr *b) {
  if (strcmp(a->name, b->name) != 0 || a->kind != b->kind || a->n != b->n)
    return false;
  switch (a->kind) {
  case ATTR_INT: return a->i == b->i;
  case ATTR_FLOAT: return memcmp(&a->f, &b->f, sizeof a->f) == 0;
  case ATTR_STRING: return strcmp(a->s, b->s) == 0;
  case ATTR_INTS: return !a->n || memcmp(a->ints, b->ints, sizeof(int64_t) * (size_t)a->n) == 0;
  case ATTR_FLOATS:
    return !a->n || memcmp(a->floats, b->floats, sizeof(double) * (size_t)a->n) == 0;
  case ATTR_STRINGS:
    for (int i = 0; i < a->n; i++)
      if (strcmp(a->strings[i], b->strings[i]) != 0)
        return false;
    return true;
  case ATTR_TENSOR: return tensor_equal(a->tensor, b->tensor);
  default: return false;
  }
}

/* ---- linking ---- */

void ir_block_append(Block *b, Op *op) {
  if (op->parent)
    IR_BUG("appending a '%s' that is still linked", ir_op_name(op->kind));
  op->parent = b;
  op->prev = b->last;
  op->next = NULL;
  if (b->last)
    b->last->next = op;
  else
    b->first = op;
  b->last = op;
}

void ir_op_insert_before(Op *pos, Op *op) {
  if (op->parent)
    IR_BUG("inserting a '%s' that is still linked", ir_op_name(op->kind));
  Block *b = pos->parent;
  op->parent = b;
  op->next = pos;
  op->prev = pos->prev;
  if (pos->prev)
    pos->prev->next = op;
  else
    b->first = op;
  pos->prev = op;
}

void ir_op_insert_after(Op *pos, Op *op) {
  if (pos->next)
    ir_op_insert_before(pos->next, op);
  else
    ir_block_append(pos->parent, op);
}

void ir_op_unlink(Op *op) {
  Block *b = op->parent;
  if (!b)
    return;
  if (op->prev)
    op->prev->next = op->next;
  else
    b->first = op->next;
  if (op->next)
    op->next->prev = op->prev;
  else
    b->last = op->prev;
  op->prev = op->next = NULL;
  op->parent = NULL;
}

void ir_op_move_into(Op *op, Block *dst) {
  ir_op_unlink(op);
  ir_block_append(dst, op);
}

static void drop_uses(Op *op) {
  for (int i = 0; i < op->noperands; i++)
    if (op->operands[i].value) {
      remove_use(&op->operands[i]);
      op->operands[i].value = NULL;
    }
  if (op->body)
    for (Op *o = op->body->first; o; o = o->next)
      drop_uses(o);
}

void ir_op_erase(Op *op) {
  for (int i = 0; i < op->nresults; i++)
    if (op->results[i]->uses) {
      Operand *u = op->results[i]->uses;
      IR_BUG("erasing a '%s' whose result %d is still used by a '%s'", ir_op_name(op->kind), i,
             ir_op_name(u->owner->kind));
    }
  ir_op_unlink(op);
  drop_uses(op);
}

Op *ir_module_output(const Module *m) {
  Op *last = m->body.last;
  return last && last->kind == OP_OUTPUT ? last : NULL;
}

Op *ir_op_parent_op(const Op *op) { return op->parent ? op->parent->parent : NULL; }

bool ir_walk(Block *b, ir_walk_fn fn, void *ctx) {
  for (Op *op = b->first, *next; op; op = next) {
    next = op->next;
    if (!fn(op, ctx))
      return false;
    if (op->body && !ir_walk(op->body, fn, ctx))
      return false;
  }
  return true;
}
