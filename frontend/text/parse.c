/* parse.c - builds a Module from the syntax tree of parser.y, checking what the text decides.
 *
 * fe_parse_text() runs the scanner and parser over the input; the parser only builds a tree (P*
 * nodes, see parser.y). Then the builder walks the tree in source order:
 *
 *   - names: its own tables from the decoded name to Value*, one for '%' and one for '$'. Names
 *     are unique per sigil across the module (a digit-only name is anonymous in the module but
 *     still a name here). Values defined in a region go out of scope when it closes; an op's own
 *     results are in scope only after its region. A name whose definition had an error is
 *     "poisoned" (Value NULL): using it is no new error, and the user's results are poisoned too,
 *     so one mistake gives one message.
 *   - types, attributes against the op's schema, dense elements against their dtype, resources
 *     (the trailing section, read before the walk) against the types that use them.
 *
 * Any error makes the result NULL; the partly built module is freed. */
#include "parse.h"

#include <inttypes.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "parser.h"

/* ---- string maps -------------------------------------------------------------------------- */

/* Open addressing from a NUL-terminated key (not owned) to an int. */
typedef struct MapSlot {
  const char *key;
  int val;
} MapSlot;

typedef struct StrMap {
  MapSlot *slots;
  size_t cap, n; /* cap: 0 or a power of two */
} StrMap;

static uint64_t hash_str(const char *s) {
  uint64_t h = 1469598103934665603u; /* FNV-1a */
  for (; *s; s++)
    h = (h ^ (unsigned char)*s) * 1099511628211u;
  return h;
}

static void *xcalloc(size_t n, size_t size) {
  void *p = calloc(n, size);
  if (!p) {
    fprintf(stderr, "kiln: out of memory\n");
    abort();
  }
  return p;
}

static MapSlot *map_slot(const StrMap *m, const char *key) {
  size_t mask = m->cap - 1;
  for (size_t i = hash_str(key) & mask;; i = (i + 1) & mask)
    if (!m->slots[i].key || strcmp(m->slots[i].key, key) == 0)
      return &m->slots[i];
}

/* The value stored under key, or -1. */
static int map_get(const StrMap *m, const char *key) {
  if (!m->cap)
    return -1;
  MapSlot *s = map_slot(m, key);
  return s->key ? s->val : -1;
}

/* Stores val under key (which must not be present). */
static void map_put(StrMap *m, const char *key, int val) {
  if (2 * (m->n + 1) > m->cap) {
    StrMap g = {xcalloc(m->cap ? 2 * m->cap : 64, sizeof(MapSlot)), m->cap ? 2 * m->cap : 64, 0};
    for (size_t i = 0; i < m->cap; i++)
      if (m->slots[i].key)
        *map_slot(&g, m->slots[i].key) = m->slots[i];
    g.n = m->n;
    free(m->slots);
    *m = g;
  }
  *map_slot(m, key) = (MapSlot){key, val};
  m->n++;
}

static void map_free(StrMap *m) {
  free(m->slots);
  *m = (StrMap){0};
}

/* ---- symbols ------------------------------------------------------------------------------ */

typedef struct Sym {
  const char *name;
  Value *v;     /* NULL: poisoned (its definition had an error) */
  Loc loc;
  bool visible; /* false once its region closed, and for an op's results inside its region */
} Sym;

/* The names of one sigil, in definition order. */
typedef struct SymTab {
  char sigil;
  Sym *syms;
  int n, cap;
  StrMap index; /* name -> position in syms */
} SymTab;

/* A resource of the trailing section. */
typedef struct Resource {
  const PResource *p;
  unsigned char *data; /* decoded, in the parse arena; NULL when the hex is bad */
  size_t nbytes;
  bool bad, used;
} Resource;

typedef struct Builder {
  ParseState *ps;
  Diag *d;
  Module *m;
  SymTab values, weights;
  Resource *res;
  int nres;
  StrMap res_index; /* key -> first resource of that key */
} Builder;

static void *talloc(Builder *B, size_t size) { return ir_arena_alloc(B->ps->arena, size); }

/* The name as the source would write it, with its sigil: %x, %"a b", for messages. */
static const char *show_name(Builder *B, char sigil, const PName *n) {
  Buf b = {0};
  ir_buf_putc(&b, sigil);
  if (n->ident)
    ir_print_name(&b, n->ident);
  else
    ir_buf_puts(&b, n->name); /* a bare number */
  char *s = fe_strndup(B->ps, b.data, b.len);
  ir_buf_free(&b);
  return s;
}

static int sym_find(const SymTab *t, const char *name) { return map_get(&t->index, name); }

/* Defines name in t (v NULL: poisoned). A name defined before, in scope or not, is a
 * redefinition: reported, and not defined again. Returns the symbol's position or -1. */
static int sym_define(Builder *B, SymTab *t, const PName *n, Value *v, bool visible) {
  int prev = sym_find(t, n->name);
  if (prev >= 0) {
    ir_error(B->d, n->loc, "redefinition of value '%s'", show_name(B, t->sigil, n));
    ir_note(B->d, t->syms[prev].loc, "previous definition is here");
    return -1;
  }
  if (t->n == t->cap) {
    t->cap = t->cap ? 2 * t->cap : 64;
    Sym *s = realloc(t->syms, sizeof(Sym) * (size_t)t->cap);
    if (!s) {
      fprintf(stderr, "kiln: out of memory\n");
      abort();
    }
    t->syms = s;
  }
  t->syms[t->n] = (Sym){n->name, v, n->loc, visible};
  map_put(&t->index, n->name, t->n);
  if (v) {
    ir_value_set_name(B->m, v, n->ident);
    v->loc = n->loc;
  }
  return t->n++;
}

/* The value an operand names. Undefined or out of scope: reported, NULL and *ok false; poisoned:
 * NULL and *ok false without a message. */
static Value *use_value(Builder *B, const PName *n, bool *ok) {
  SymTab *t = n->sigil == '$' ? &B->weights : &B->values;
  int i = sym_find(t, n->name);
  if (i < 0 || !t->syms[i].visible) {
    ir_error(B->d, n->loc, "use of undefined value '%s'", show_name(B, n->sigil, n));
    *ok = false;
    return NULL;
  }
  if (!t->syms[i].v)
    *ok = false;
  return t->syms[i].v;
}

/* Resolves an operand list into a temporary array; *ok false if any is unusable. */
static Value **use_values(Builder *B, const PVec *names, bool *ok) {
  Value **vs = talloc(B, sizeof(Value *) * (size_t)(names->n ? names->n : 1));
  for (int i = 0; i < names->n; i++)
    vs[i] = use_value(B, names->items[i], ok);
  return vs;
}

/* ---- numbers ------------------------------------------------------------------------------ */

/* An integer literal ('-'? digits) as sign and magnitude; false when it exceeds 64 bits. */
static bool parse_int(const char *s, bool *neg, uint64_t *mag) {
  *neg = *s == '-';
  s += *neg;
  uint64_t v = 0;
  for (; *s; s++) {
    unsigned digit = (unsigned)(*s - '0');
    if (v > (UINT64_MAX - digit) / 10)
      return false;
    v = v * 10 + digit;
  }
  *mag = v;
  return true;
}

/* The literal as an int64, or false when out of range. */
static bool int_to_i64(const char *text, int64_t *out) {
  bool neg;
  uint64_t mag;
  if (!parse_int(text, &neg, &mag))
    return false;
  if (neg ? mag > (uint64_t)INT64_MAX + 1 : mag > (uint64_t)INT64_MAX)
    return false;
  *out = neg ? (int64_t)(0 - mag) : (int64_t)mag; /* 0 - mag wraps to the right two's complement */
  return true;
}

/* ---- types -------------------------------------------------------------------------------- */

/* The largest element count a type may have: its bytes must fit in size_t and int64 (f64). */
#define MAX_NUMEL ((int64_t)1 << 58)

/* type ::= '?' | dtype quant? ('[' (dim (',' dim)*)? ']')?
 * Checks the dtype name, quantization (i8/u8 only; s= a number, z= an i32), the rank, N only
 * first, dimensions >= 0 and a sane element count. */
static bool build_type(Builder *B, const PType *pt, Type *out) {
  if (!pt->dtype) {
    *out = ir_type_unknown();
    return true;
  }
  DType dt = ir_dtype_from_name(pt->dtype);
  if (dt == DT_UNKNOWN) {
    ir_error(B->d, pt->loc, "unknown type '%s'", pt->dtype);
    return false;
  }
  Type t = ir_type_scalar(dt);
  bool ok = true;
  if (pt->quantized) {
    bool have_s = false, have_z = false;
    if (dt != DT_I8 && dt != DT_U8) {
      ir_error(B->d, pt->quant_loc,
               "quantization parameters are only allowed on i8 and u8, not '%s'", pt->dtype);
      ok = false;
    }
    for (int i = 0; i < pt->quant.n; i++) {
      const PQuantParam *q = pt->quant.items[i];
      bool is_s = strcmp(q->name, "s") == 0, is_z = strcmp(q->name, "z") == 0;
      if (!is_s && !is_z) {
        ir_error(B->d, q->loc, "unknown quantization parameter '%s' (want s and z)", q->name);
        ok = false;
      } else if (is_s ? have_s : have_z) {
        ir_error(B->d, q->loc, "duplicate quantization parameter '%s'", q->name);
        ok = false;
      } else if (is_s) {
        have_s = true;
        t.scale = (float)strtod(q->value->text, NULL);
      } else {
        have_z = true;
        int64_t z;
        if (q->value->kind != PV_INT || !int_to_i64(q->value->text, &z) || z < INT32_MIN ||
            z > INT32_MAX) {
          ir_error(B->d, q->value->loc, "value %s does not fit in i32", q->value->text);
          ok = false;
        } else {
          t.zero_point = (int32_t)z;
        }
      }
    }
    if (!have_s && ok) {
      ir_error(B->d, pt->quant_loc, "quantization parameters need a scale 's'");
      ok = false;
    }
    t.quantized = true;
  }
  if (pt->dims.n > IR_MAX_RANK) {
    const PValue *extra = pt->dims.items[IR_MAX_RANK];
    ir_error(B->d, extra->loc, "type has more than %d dimensions", IR_MAX_RANK);
    return false;
  }
  t.rank = pt->dims.n;
  int64_t numel = 1;
  for (int i = 0; i < pt->dims.n; i++) {
    const PValue *dim = pt->dims.items[i];
    if (dim->kind != PV_INT) { /* N */
      if (i != 0) {
        ir_error(B->d, dim->loc, "batch dimension 'N' is only allowed as the first dimension");
        ok = false;
      }
      t.dims[i] = IR_DIM_N;
      continue;
    }
    int64_t v;
    if (dim->text[0] == '-') {
      ir_error(B->d, dim->loc, "negative dimension %s", dim->text);
      ok = false;
    } else if (!int_to_i64(dim->text, &v) || v > MAX_NUMEL || (v && numel > MAX_NUMEL / v)) {
      ir_error(B->d, dim->loc, "dimension %s makes the type too large", dim->text);
      ok = false;
    } else {
      t.dims[i] = v;
      numel *= v;
    }
  }
  *out = t;
  return ok;
}

/* ---- tensors ------------------------------------------------------------------------------ */

/* Writes element e converted to dt at dst; "value V does not fit in DT" when it cannot be. Floats
 * read with strtod and round to the dtype; integers must be in range (a float literal never
 * fits an integer dtype); bool takes true, false, 0 and 1. */
static bool convert_element(Builder *B, const PValue *e, DType dt, unsigned char *dst) {
  if (ir_dtype_is_float(dt) && e->kind != PV_BOOL) {
    double v = strtod(e->text, NULL);
    if (dt == DT_F64) {
      memcpy(dst, &v, 8);
    } else if (dt == DT_F32) {
      float f = (float)v;
      memcpy(dst, &f, 4);
    } else {
      uint16_t h = dt == DT_F16 ? ir_f32_to_f16((float)v) : ir_f32_to_bf16((float)v);
      memcpy(dst, &h, 2);
    }
    return true;
  }
  bool neg = false;
  uint64_t mag = 0;
  bool fits;
  if (dt == DT_BOOL) {
    if (e->kind == PV_BOOL)
      mag = e->text[0] == 't';
    fits = e->kind == PV_BOOL || (e->kind == PV_INT && parse_int(e->text, &neg, &mag) && mag <= 1);
    if (fits)
      *dst = (unsigned char)mag;
  } else {
    fits = e->kind == PV_INT && parse_int(e->text, &neg, &mag);
    if (fits) {
      int bits = (int)ir_dtype_size(dt) * 8;
      bool is_signed = dt == DT_I8 || dt == DT_I16 || dt == DT_I32 || dt == DT_I64;
      uint64_t max_pos = is_signed ? (UINT64_MAX >> (65 - bits)) : (UINT64_MAX >> (64 - bits));
      uint64_t max_neg = is_signed ? max_pos + 1 : 0;
      fits = neg ? mag <= max_neg : mag <= max_pos;
      uint64_t bits64 = neg ? 0 - mag : mag; /* two's complement, little-endian below */
      for (int i = 0; fits && i < bits / 8; i++)
        dst[i] = (unsigned char)(bits64 >> (8 * i));
    }
  }
  if (!fits)
    ir_error(B->d, e->loc, "value %s does not fit in %s", e->text, ir_dtype_name(dt));
  return fits;
}

/* Bytes of a tensor of type t (numel >= 0). */
static size_t tensor_bytes(const Type *t) {
  return (size_t)ir_type_numel(t) * ir_dtype_size(t->dtype);
}

/* tensor ::= 'dense' '<' '[' element* ']' '>' | 'dense_resource' '<' key '>'
 * Fills tn (type t) with the data; dense_resource<__elided__> gives data NULL (unless the
 * resources section defines that key: a weight may be named __elided__). */
static bool build_tensor(Builder *B, const PTensor *pt, const Type *t, Tensor *tn) {
  *tn = (Tensor){.type = *t};
  if (pt->resource && strcmp(pt->key, "__elided__") == 0 && map_get(&B->res_index, pt->key) < 0) {
    if (ir_type_numel(t) >= 0)
      tn->nbytes = tensor_bytes(t);
    return true;
  }
  if (ir_type_numel(t) < 0) {
    ir_error(B->d, pt->loc, "tensor type %s is not static", ir_type_str(t));
    return false;
  }
  size_t nbytes = tensor_bytes(t);
  if (pt->resource) {
    int i = map_get(&B->res_index, pt->key);
    if (i < 0) {
      ir_error(B->d, pt->loc, "resource '%s' is not defined", pt->key);
      return false;
    }
    Resource *r = &B->res[i];
    r->used = true;
    if (r->bad)
      return false; /* reported where it is defined */
    if (r->nbytes != nbytes) {
      ir_error(B->d, pt->loc, "resource '%s' has %zu bytes, type %s needs %zu", pt->key,
               r->nbytes, ir_type_str(t), nbytes);
      return false;
    }
    tn->data = r->data;
    tn->nbytes = nbytes;
    return true;
  }
  int64_t numel = ir_type_numel(t);
  if (pt->elems.n != numel) {
    ir_error(B->d, pt->loc, "dense tensor has %d elements, type %s needs %" PRId64, pt->elems.n,
             ir_type_str(t), numel);
    return false;
  }
  unsigned char *data = talloc(B, nbytes);
  size_t size = ir_dtype_size(t->dtype);
  bool ok = true;
  for (int i = 0; i < pt->elems.n; i++)
    ok &= convert_element(B, pt->elems.items[i], t->dtype, data + (size_t)i * size);
  tn->data = data;
  tn->nbytes = nbytes;
  return ok;
}

/* ---- attributes --------------------------------------------------------------------------- */

/* The kind a literal has on its own: true and false are ints. */
static AttrKind literal_kind(const PValue *v) {
  switch (v->kind) {
  case PV_FLOAT: return ATTR_FLOAT;
  case PV_STRING: return ATTR_STRING;
  default: return ATTR_INT;
  }
}

/* A literal's value: ints (true 1, false 0) with an int64 range check, floats with strtod. */
static bool literal_int(Builder *B, const PValue *v, int64_t *out) {
  if (v->kind == PV_BOOL) {
    *out = v->text[0] == 't';
    return true;
  }
  if (!int_to_i64(v->text, out)) {
    ir_error(B->d, v->loc, "value %s does not fit in i64", v->text);
    return false;
  }
  return true;
}

static double literal_float(const PValue *v) {
  if (v->kind == PV_BOOL)
    return v->text[0] == 't';
  return (double)(float)strtod(v->text, NULL);
}

static const char *literal_string(Builder *B, const PValue *v) {
  return fe_strndup(B->ps, v->str.s, v->str.len); /* cut at an escaped NUL */
}

/* attr ::= name '=' attr-value
 * Converts the value to the kind the op's schema wants (want: ATTR_KIND_COUNT when the op or its
 * schema does not know the attribute: then the value's own kind). Ints are accepted for floats,
 * int and float lists for float lists; [] takes the wanted list kind, else ints. */
static bool build_attr(Builder *B, const char *op, const PAttr *pa, AttrKind want, Attr *a) {
  const PValue *v = pa->value;
  *a = (Attr){.name = pa->name};
  AttrKind got;
  if (v->kind == PV_TENSOR) {
    got = ATTR_TENSOR;
  } else if (v->kind != PV_LIST) {
    got = literal_kind(v);
    if (got == ATTR_INT && want == ATTR_FLOAT)
      got = ATTR_FLOAT;
  } else if (v->elems.n == 0) {
    got = want == ATTR_INTS || want == ATTR_FLOATS || want == ATTR_STRINGS ? want : ATTR_INTS;
  } else {
    /* A list is of its first element's kind; ints may join floats when floats are wanted. */
    AttrKind elem = literal_kind(v->elems.items[0]);
    for (int i = 1; i < v->elems.n; i++) {
      const PValue *e = v->elems.items[i];
      AttrKind k = literal_kind(e);
      if (want == ATTR_FLOATS && elem != ATTR_STRING && k != ATTR_STRING)
        k = elem = ATTR_FLOAT;
      if (k != elem) {
        ir_error(B->d, e->loc, "list mixes %s and %s", ir_attr_kind_name(elem),
                 ir_attr_kind_name(k));
        return false;
      }
    }
    if (elem == ATTR_INT && want == ATTR_FLOATS)
      elem = ATTR_FLOAT;
    got = elem == ATTR_INT ? ATTR_INTS : elem == ATTR_FLOAT ? ATTR_FLOATS : ATTR_STRINGS;
  }
  if (want != ATTR_KIND_COUNT && got != want) {
    ir_error(B->d, v->loc, "attribute '%s' of '%s' must be %s, got %s", pa->name, op,
             ir_attr_kind_name(want), ir_attr_kind_name(got));
    return false;
  }

  a->kind = got;
  bool ok = true;
  switch (got) {
  case ATTR_INT: ok = literal_int(B, v, &a->i); break;
  case ATTR_FLOAT: a->f = literal_float(v); break;
  case ATTR_STRING: a->s = literal_string(B, v); break;
  case ATTR_INTS:
    a->n = v->elems.n;
    a->ints = talloc(B, sizeof(int64_t) * (size_t)(a->n ? a->n : 1));
    for (int i = 0; i < a->n; i++)
      ok &= literal_int(B, v->elems.items[i], &a->ints[i]);
    break;
  case ATTR_FLOATS:
    a->n = v->elems.n;
    a->floats = talloc(B, sizeof(double) * (size_t)(a->n ? a->n : 1));
    for (int i = 0; i < a->n; i++)
      a->floats[i] = literal_float(v->elems.items[i]);
    break;
  case ATTR_STRINGS:
    a->n = v->elems.n;
    a->strings = talloc(B, sizeof(char *) * (size_t)(a->n ? a->n : 1));
    for (int i = 0; i < a->n; i++)
      a->strings[i] = literal_string(B, v->elems.items[i]);
    break;
  case ATTR_TENSOR: {
    Type t;
    a->tensor = talloc(B, sizeof(Tensor));
    ok = build_type(B, v->tensor->type, &t) && build_tensor(B, v->tensor, &t, a->tensor);
    break;
  }
  default: break;
  }
  return ok;
}

/* Checks and converts an op's attribute dictionary, setting each good one on op (when op is not
 * NULL). kind OP_INVALID: no schema. Returns false on any error. */
static bool build_attrs(Builder *B, OpKind kind, const char *opname, const PVec *attrs, Op *op) {
  bool ok = true;
  for (int i = 0; i < attrs->n; i++) {
    const PAttr *pa = attrs->items[i];
    bool dup = false;
    for (int j = 0; j < i && !dup; j++)
      dup = strcmp(((const PAttr *)attrs->items[j])->name, pa->name) == 0;
    if (dup) {
      ir_error(B->d, pa->loc, "duplicate attribute '%s'", pa->name);
      ok = false;
      continue;
    }
    const AttrSpec *spec = kind != OP_INVALID ? ir_op_attr_spec(kind, pa->name) : NULL;
    Attr a;
    if (!build_attr(B, opname, pa, spec ? spec->kind : ATTR_KIND_COUNT, &a)) {
      ok = false;
      continue;
    }
    if (op)
      ir_op_set_attr(B->m, op, &a);
  }
  return ok;
}

/* ---- statements --------------------------------------------------------------------------- */

static void build_block(Builder *B, Block *b, const PVec *stmts, const PRegion *region);

/* input ::= 'input' value-id ':' type */
static void build_input(Builder *B, const PStmt *st) {
  const PName *n = st->results.items[0];
  Type t;
  Value *v = NULL; /* not made for a bad type, nor for a redefinition (reported below) */
  if (build_type(B, st->types.items[0], &t) && sym_find(&B->values, n->name) < 0)
    v = ir_add_input(B->m, NULL, t);
  sym_define(B, &B->values, n, v, true);
}

/* weight ::= 'weight' weight-id ':' type '=' tensor */
static void build_weight(Builder *B, const PStmt *st) {
  const PName *n = st->results.items[0];
  Type t;
  Tensor tn;
  Value *v = NULL; /* not made for a bad type or tensor, nor for a redefinition */
  if (build_type(B, st->types.items[0], &t) && build_tensor(B, st->tensor, &t, &tn) &&
      sym_find(&B->weights, n->name) < 0)
    v = ir_add_weight(B->m, NULL, t, tn.data, tn.nbytes);
  sym_define(B, &B->weights, n, v, true);
}

/* output ::= 'output' operand-list attr-dict?    yield ::= 'yield' operand-list
 * Appended to b when placed is true (it ends its block); else only checked. An output without a
 * names attribute is bound by its operands' names as written. */
static void build_terminator(Builder *B, Block *b, const PStmt *st, bool placed) {
  OpKind kind = st->kind == PS_OUTPUT ? OP_OUTPUT : OP_YIELD;
  bool ok = placed;
  Value **vs = use_values(B, &st->operands, &ok);
  Op *op = ok ? ir_op_create(B->m, kind, st->operands.n, vs, 0, NULL) : NULL;
  if (op)
    op->loc = st->loc;
  if (!build_attrs(B, kind, ir_op_name(kind), &st->attrs, op))
    ok = false;
  if (!op || !ok)
    return;
  if (kind == OP_OUTPUT && !ir_op_attr(op, "names")) {
    const char **names = talloc(B, sizeof(char *) * (size_t)st->operands.n);
    for (int i = 0; i < st->operands.n; i++) {
      const PName *n = st->operands.items[i];
      names[i] = n->ident ? n->ident : n->name; /* an anonymous %3 is bound as "3" */
    }
    ir_op_set_strings(B->m, op, "names", names, st->operands.n);
  }
  ir_block_append(b, op);
}

/* op ::= result-list '=' op-name symbol? '(' operand-list? ')' attr-dict? ':' type-list region?
 * Builds and appends the op to b (b NULL: check only, inside a region that cannot be built).
 * The results are defined after the region, poisoned when the op could not be built. */
static void build_op(Builder *B, Block *b, const PStmt *st) {
  bool ok = b != NULL;
  OpKind kind = ir_op_lookup(st->op);
  if (kind == OP_INVALID) {
    ir_error(B->d, st->loc, "unknown op '%s'", st->op);
    ok = false;
  }
  Value **operands = use_values(B, &st->operands, &ok);

  int nres = st->results.n, ntypes = st->types.n;
  Type *types = talloc(B, sizeof(Type) * (size_t)ntypes);
  for (int i = 0; i < ntypes; i++)
    if (!build_type(B, st->types.items[i], &types[i]))
      ok = false;
  if (nres != ntypes) {
    ir_error(B->d, st->types_loc, "expected %d type%s after ':', got %d", nres,
             nres == 1 ? "" : "s", ntypes);
    ok = false;
  }

  const PRegion *region = st->region;
  if (kind != OP_INVALID) {
    bool wants_region = (ir_ops[kind].flags & F_REGION) != 0;
    if (wants_region && !region) {
      ir_error(B->d, st->loc, "op '%s' needs a region", st->op);
      ok = false;
    } else if (!wants_region && region) {
      ir_error(B->d, region->open, "op '%s' takes no region", st->op);
      ok = false;
      region = NULL; /* nothing in it can be built, or trusted */
    }
  }

  Op *op = ok ? ir_op_create(B->m, kind, st->operands.n, operands, nres, types) : NULL;
  if (op) {
    op->loc = st->loc;
    if (st->sym)
      ir_op_set_sym(B->m, op, st->sym->name);
  }
  if (kind != OP_INVALID && !build_attrs(B, kind, st->op, &st->attrs, op))
    ok = false;

  /* Results are in scope after the region (invisible in it, but their names are taken). */
  int *syms = talloc(B, sizeof(int) * (size_t)nres);
  for (int i = 0; i < nres; i++)
    syms[i] = sym_define(B, &B->values, st->results.items[i], op ? op->results[i] : NULL,
                         region == NULL);
  if (region) {
    int mark = B->values.n;
    build_block(B, op ? ir_op_add_body(B->m, op) : NULL, &region->stmts, region);
    for (int i = mark; i < B->values.n; i++)
      B->values.syms[i].visible = false;
    for (int i = 0; i < nres; i++)
      if (syms[i] >= 0)
        B->values.syms[syms[i]].visible = true;
  }
  if (op && b)
    ir_block_append(b, op);
}

/* The statements of the module body (region NULL) or of a region, appended to b (NULL: checked
 * only). Inputs and weights belong to the module; output ends the module, yield a region. */
static void build_block(Builder *B, Block *b, const PVec *stmts, const PRegion *region) {
  bool has_output = false;
  for (int i = 0; i < stmts->n; i++) {
    const PStmt *st = stmts->items[i];
    bool last = i == stmts->n - 1;
    switch (st->kind) {
    case PS_INPUT:
    case PS_WEIGHT:
      if (region) {
        ir_error(B->d, st->loc, "'%s' is only allowed in the module body",
                 st->kind == PS_INPUT ? "input" : "weight");
        /* Still define the name, poisoned, so later uses say nothing more. */
        sym_define(B, st->kind == PS_INPUT ? &B->values : &B->weights, st->results.items[0],
                   NULL, true);
      } else if (st->kind == PS_INPUT) {
        build_input(B, st);
      } else {
        build_weight(B, st);
      }
      break;
    case PS_OP: build_op(B, b, st); break;
    case PS_OUTPUT:
      has_output = true;
      if (region || !last)
        ir_error(B->d, st->loc, "'output' is only allowed at the end of the module");
      build_terminator(B, b, st, b && !region && last);
      break;
    case PS_YIELD:
      if (!region || !last)
        ir_error(B->d, st->loc, "'yield' is only allowed at the end of a region");
      build_terminator(B, b, st, b && region && last);
      break;
    }
  }
  const PStmt *last = stmts->n ? stmts->items[stmts->n - 1] : NULL;
  if (region && (!last || last->kind != PS_YIELD))
    ir_error(B->d, region->close, "region must end with 'yield'");
  if (!region && !has_output)
    ir_error(B->d, B->ps->file->close, "module has no 'output'");
}

/* ---- resources ---------------------------------------------------------------------------- */

static int hex_digit(unsigned char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/* resources ::= 'resources' '{' (key '=' string)* '}'    string: "0x" then hex bytes
 * Decodes every entry; a key defined twice or bad hex is reported here. */
static void read_resources(Builder *B, const PVec *entries) {
  B->nres = entries->n;
  B->res = talloc(B, sizeof(Resource) * (size_t)(entries->n ? entries->n : 1));
  for (int i = 0; i < entries->n; i++) {
    const PResource *p = entries->items[i];
    Resource *r = &B->res[i];
    *r = (Resource){.p = p};
    if (map_get(&B->res_index, p->key) >= 0) {
      ir_error(B->d, p->loc, "resource '%s' is defined twice", p->key);
      r->used = true; /* not "unused" on top */
      continue;
    }
    map_put(&B->res_index, p->key, i);
    const unsigned char *s = (const unsigned char *)p->data.s;
    size_t len = p->data.len;
    if (len < 2 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X') || len % 2) {
      r->bad = true;
    } else {
      r->nbytes = (len - 2) / 2;
      r->data = talloc(B, r->nbytes);
      for (size_t j = 0; j < r->nbytes && !r->bad; j++) {
        int hi = hex_digit(s[2 + 2 * j]), lo = hex_digit(s[3 + 2 * j]);
        r->bad = hi < 0 || lo < 0;
        r->data[j] = (unsigned char)(r->bad ? 0 : hi << 4 | lo);
      }
    }
    if (r->bad)
      ir_error(B->d, p->data_loc, "bad hex in resource '%s'", p->key);
  }
}

static void check_resources_used(Builder *B) {
  for (int i = 0; i < B->nres; i++)
    if (!B->res[i].used)
      ir_error(B->d, B->res[i].p->loc, "resource '%s' is not used", B->res[i].p->key);
}

/* ---- entry -------------------------------------------------------------------------------- */

static Module *build_module(ParseState *ps) {
  Builder B = {.ps = ps, .d = ps->d, .values = {.sigil = '%'}, .weights = {.sigil = '$'}};
  B.m = ir_module_new(ps->file->name);
  read_resources(&B, &ps->file->resources);
  build_block(&B, &B.m->body, &ps->file->stmts, NULL);
  check_resources_used(&B);
  free(B.values.syms);
  free(B.weights.syms);
  map_free(&B.values.index);
  map_free(&B.weights.index);
  map_free(&B.res_index);
  return B.m;
}

Module *fe_parse_text(const char *src, size_t len, Diag *d) {
  int errors_before = d->nerrors;
  if (len > INT_MAX - 2) { /* flex buffers are int-sized */
    ir_error(d, (Loc){0, 0}, "input is too large (%zu bytes)", len);
    return NULL;
  }
  ParseState ps = {
      .src = src ? src : "", .len = src ? len : 0, .d = d, .arena = ir_arena_new(), .line = 1,
      .col = 1};
  void *scanner = fe_lex_open(&ps);
  int rc = scanner ? kir_parse(scanner, &ps) : 2;
  fe_lex_close(scanner);
  ir_buf_free(&ps.str_buf);

  Module *m = NULL;
  if (rc == 0 && ps.file)
    m = build_module(&ps);
  else if (d->nerrors == errors_before)
    ir_error(d, (Loc){0, 0}, "cannot parse the input");
  ir_arena_free(ps.arena);
  if (d->nerrors > errors_before) {
    ir_module_free(m);
    return NULL;
  }
  return m;
}
