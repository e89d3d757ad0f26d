/* print.c - the textual IR printer (grammar in ir/README.md).
 *
 * Contract: the output re-parses to a module that prints byte-identically. Anonymous values are
 * numbered in print order, so the same module always prints the same text. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ir.h"

typedef struct Printer {
  const Module *m;
  Buf *b;
  const PrintOptions *opt;
  int *numbers;      /* per value id: the printed number of an anonymous value, -1 unassigned */
  int next_pct, next_dollar;
  const Tensor **resources; /* tensors to print in the resources section, in order */
  const char **keys;
  int nresources, cap_resources;
  int nattr_keys;
} Printer;

/* Digits alone are how anonymous values print: a value named so prints quoted, %"3". */
bool ir_name_is_bare(const char *s) {
  if (!*s || !s[strspn(s, "0123456789")])
    return false;
  for (; *s; s++)
    if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
          *s == '_' || *s == '.'))
      return false;
  return true;
}

static void print_string(Buf *b, const char *s) {
  ir_buf_putc(b, '"');
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if (*p == '"' || *p == '\\')
      ir_buf_printf(b, "\\%c", *p);
    else if (*p == '\n')
      ir_buf_puts(b, "\\n");
    else if (*p == '\t')
      ir_buf_puts(b, "\\t");
    else if (*p < 0x20 || *p >= 0x7f)
      ir_buf_printf(b, "\\%02X", *p);
    else
      ir_buf_putc(b, (char)*p);
  }
  ir_buf_putc(b, '"');
}

void ir_print_name(Buf *b, const char *s) {
  if (ir_name_is_bare(s))
    ir_buf_puts(b, s);
  else
    print_string(b, s);
}

static void print_value(Printer *p, const Value *v) {
  char sigil = v->kind == VAL_WEIGHT ? '$' : '%';
  ir_buf_putc(p->b, sigil);
  if (v->name) {
    ir_print_name(p->b, v->name);
    return;
  }
  if (p->numbers[v->id] < 0)
    p->numbers[v->id] = sigil == '$' ? p->next_dollar++ : p->next_pct++;
  ir_buf_printf(p->b, "%d", p->numbers[v->id]);
}

/* The name an output is bound by when the output op carries no different one. */
static const char *printed_name(Printer *p, const Value *v, char *tmp, size_t n) {
  if (v->name)
    return v->name;
  snprintf(tmp, n, "%d", p->numbers[v->id]);
  return tmp;
}

static void print_element(Buf *b, const Tensor *t, int64_t i) {
  const unsigned char *d = (const unsigned char *)t->data + (size_t)i * ir_dtype_size(t->type.dtype);
  union {
    float f32;
    double f64;
    uint16_t u16;
    int8_t i8;
    uint8_t u8;
    int16_t i16;
    int32_t i32;
    uint32_t u32;
    int64_t i64;
    uint64_t u64;
  } x;
  memcpy(&x, d, ir_dtype_size(t->type.dtype));
  switch (t->type.dtype) {
  case DT_F32: ir_format_float(b, x.f32, DT_F32); break;
  case DT_F16: ir_format_float(b, ir_f16_to_f32(x.u16), DT_F16); break;
  case DT_BF16: ir_format_float(b, ir_bf16_to_f32(x.u16), DT_BF16); break;
  case DT_F64: ir_format_float(b, x.f64, DT_F64); break;
  case DT_I8: ir_buf_printf(b, "%d", x.i8); break;
  case DT_U8: ir_buf_printf(b, "%u", x.u8); break;
  case DT_I16: ir_buf_printf(b, "%d", x.i16); break;
  case DT_U16: ir_buf_printf(b, "%u", x.u16); break;
  case DT_I32: ir_buf_printf(b, "%" PRId32, x.i32); break;
  case DT_U32: ir_buf_printf(b, "%" PRIu32, x.u32); break;
  case DT_I64: ir_buf_printf(b, "%" PRId64, x.i64); break;
  case DT_U64: ir_buf_printf(b, "%" PRIu64, x.u64); break;
  case DT_BOOL: ir_buf_puts(b, x.u8 ? "true" : "false"); break;
  default: ir_buf_puts(b, "?"); break;
  }
}

static void add_resource(Printer *p, const Tensor *t, const char *key) {
  if (p->nresources == p->cap_resources) {
    p->cap_resources = p->cap_resources ? p->cap_resources * 2 : 16;
    p->resources = realloc(p->resources, sizeof *p->resources * (size_t)p->cap_resources);
    p->keys = realloc(p->keys, sizeof *p->keys * (size_t)p->cap_resources);
    if (!p->resources || !p->keys)
      abort();
  }
  p->resources[p->nresources] = t;
  p->keys[p->nresources++] = strdup(key);
}

/* key: the resource key for a large tensor (a weight's name), or NULL to make one. */
static void print_tensor(Printer *p, const Tensor *t, const char *key) {
  int64_t n = ir_type_numel(&t->type);
  if (t->data && n >= 0 && n <= IR_INLINE_MAX) {
    ir_buf_puts(p->b, "dense<[");
    for (int64_t i = 0; i < n; i++) {
      if (i)
        ir_buf_puts(p->b, ", ");
      print_element(p->b, t, i);
    }
    ir_buf_puts(p->b, "]>");
    return;
  }
  ir_buf_puts(p->b, "dense_resource<");
  if (!t->data || p->opt->elide_constants) {
    ir_buf_puts(p->b, "__elided__>");
    return;
  }
  char tmp[32];
  if (key && strcmp(key, "__elided__") == 0)
    key = NULL; /* a weight so named would read as elided: give its bytes a made-up key */
  if (!key) {
    /* Tensor attributes: __attrN, skipping any key a weight already holds. */
    for (;;) {
      snprintf(tmp, sizeof tmp, "__attr%d", p->nattr_keys++);
      if (!ir_lookup_value(p->m, '$', tmp))
        break;
    }
    key = tmp;
  }
  ir_print_name(p->b, key);
  ir_buf_putc(p->b, '>');
  add_resource(p, t, key);
}

static void print_attr_value(Printer *p, const Attr *a) {
  Buf *b = p->b;
  switch (a->kind) {
  case ATTR_INT: ir_buf_printf(b, "%" PRId64, a->i); return;
  case ATTR_FLOAT: ir_format_float(b, a->f, DT_F32); return;
  case ATTR_STRING: print_string(b, a->s); return;
  case ATTR_TENSOR:
    print_tensor(p, a->tensor, NULL);
    ir_buf_puts(b, " : ");
    ir_type_print(b, &a->tensor->type);
    return;
  default: break;
  }
  ir_buf_putc(b, '[');
  for (int i = 0; i < a->n; i++) {
    if (i)
      ir_buf_puts(b, ", ");
    if (a->kind == ATTR_INTS)
      ir_buf_printf(b, "%" PRId64, a->ints[i]);
    else if (a->kind == ATTR_FLOATS)
      ir_format_float(b, a->floats[i], DT_F32);
    else
      print_string(b, a->strings[i]);
  }
  ir_buf_putc(b, ']');
}

/* Prints the attribute dictionary; skip names one attribute to leave out (or NULL). */
static void print_attrs(Printer *p, const Op *op, const char *skip) {
  int printed = 0;
  for (int i = 0; i < op->nattrs; i++) {
    const Attr *a = &op->attrs[i];
    if (skip && strcmp(a->name, skip) == 0)
      continue;
    ir_buf_puts(p->b, printed++ ? ", " : " {");
    ir_print_name(p->b, a->name);
    ir_buf_puts(p->b, " = ");
    print_attr_value(p, a);
  }
  if (printed)
    ir_buf_putc(p->b, '}');
}

static void print_operands(Printer *p, const Op *op) {
  for (int i = 0; i < op->noperands; i++) {
    if (i)
      ir_buf_puts(p->b, ", ");
    print_value(p, op->operands[i].value);
  }
}

static void indent(Buf *b, int depth) {
  for (int i = 0; i < depth; i++)
    ir_buf_puts(b, "  ");
}

/* The output op omits its names attribute when every name is its operand's printed name. */
static bool output_names_implied(Printer *p, const Op *op) {
  const Attr *a = ir_op_attr(op, "names");
  if (!a || a->kind != ATTR_STRINGS || a->n != op->noperands || op->nattrs != 1)
    return false;
  char tmp[32];
  for (int i = 0; i < a->n; i++)
    if (strcmp(a->strings[i], printed_name(p, op->operands[i].value, tmp, sizeof tmp)) != 0)
      return false;
  return true;
}

static void print_op(Printer *p, const Op *op, int depth) {
  Buf *b = p->b;
  indent(b, depth);
  if (ir_ops[op->kind].flags & F_TERMINATOR) {
    ir_buf_puts(b, ir_op_name(op->kind));
    if (op->noperands)
      ir_buf_putc(b, ' ');
    print_operands(p, op);
    print_attrs(p, op, op->kind == OP_OUTPUT && output_names_implied(p, op) ? "names" : NULL);
    ir_buf_putc(b, '\n');
    return;
  }
  for (int i = 0; i < op->nresults; i++) {
    if (i)
      ir_buf_puts(b, ", ");
    print_value(p, op->results[i]);
  }
  ir_buf_puts(b, " = ");
  ir_buf_puts(b, ir_op_name(op->kind));
  if (op->sym) {
    ir_buf_puts(b, " @");
    ir_print_name(b, op->sym);
  }
  ir_buf_putc(b, '(');
  print_operands(p, op);
  ir_buf_putc(b, ')');
  print_attrs(p, op, NULL);
  ir_buf_puts(b, " : ");
  for (int i = 0; i < op->nresults; i++) {
    if (i)
      ir_buf_puts(b, ", ");
    ir_type_print(b, &op->results[i]->type);
  }
  if (op->body) {
    ir_buf_puts(b, " {\n");
    for (const Op *o = op->body->first; o; o = o->next)
      print_op(p, o, depth + 1);
    indent(b, depth);
    ir_buf_putc(b, '}');
  }
  ir_buf_putc(b, '\n');
}

static void print_resources(Printer *p) {
  if (!p->nresources)
    return;
  static const char hex[] = "0123456789ABCDEF";
  ir_buf_puts(p->b, "\nresources {\n");
  for (int i = 0; i < p->nresources; i++) {
    const Tensor *t = p->resources[i];
    ir_buf_puts(p->b, "  ");
    ir_print_name(p->b, p->keys[i]);
    ir_buf_puts(p->b, " = \"0x");
    const unsigned char *d = t->data;
    for (size_t j = 0; j < t->nbytes; j++) {
      char pair[2] = {hex[d[j] >> 4], hex[d[j] & 15]};
      ir_buf_putn(p->b, pair, 2);
    }
    ir_buf_puts(p->b, "\"\n");
  }
  ir_buf_puts(p->b, "}\n");
}

static void printer_init(Printer *p, const Module *m, Buf *b, const PrintOptions *opt) {
  static const PrintOptions defaults = {0};
  memset(p, 0, sizeof *p);
  p->m = m;
  p->b = b;
  p->opt = opt ? opt : &defaults;
  p->numbers = malloc(sizeof(int) * (size_t)(m->next_id + 1));
  if (!p->numbers)
    abort();
  for (int i = 0; i <= m->next_id; i++)
    p->numbers[i] = -1;
}

static void printer_free(Printer *p) {
  for (int i = 0; i < p->nresources; i++)
    free((char *)p->keys[i]);
  free(p->numbers);
  free(p->resources);
  free(p->keys);
}

void ir_print_module(const Module *m, Buf *b, const PrintOptions *opt) {
  Printer p;
  printer_init(&p, m, b, opt);
  ir_buf_puts(b, "module");
  if (m->name) {
    ir_buf_puts(b, " @");
    ir_print_name(b, m->name);
  }
  ir_buf_puts(b, " {\n");
  for (int i = 0; i < m->ninputs; i++) {
    ir_buf_puts(b, "  input ");
    print_value(&p, m->inputs[i]);
    ir_buf_puts(b, " : ");
    ir_type_print(b, &m->inputs[i]->type);
    ir_buf_putc(b, '\n');
  }
  for (int i = 0; i < m->nweights; i++) {
    const Value *w = m->weights[i];
    ir_buf_puts(b, "  weight ");
    print_value(&p, w);
    ir_buf_puts(b, " : ");
    ir_type_print(b, &w->type);
    ir_buf_puts(b, " = ");
    char key[32];
    snprintf(key, sizeof key, "%d", p.numbers[w->id]);
    print_tensor(&p, w->tensor, w->name ? w->name : key);
    ir_buf_putc(b, '\n');
  }
  for (const Op *op = m->body.first; op; op = op->next)
    print_op(&p, op, 1);
  ir_buf_puts(b, "}\n");
  print_resources(&p);
  printer_free(&p);
}

void ir_print_op(const Module *m, const Op *op, Buf *b, const PrintOptions *opt) {
  /* Number anonymous values as the whole module would, then print just this op. */
  Buf scratch = {0};
  Printer p;
  printer_init(&p, m, &scratch, opt);
  for (int i = 0; i < m->ninputs; i++)
    print_value(&p, m->inputs[i]);
  for (int i = 0; i < m->nweights; i++)
    print_value(&p, m->weights[i]);
  for (const Op *o = m->body.first; o && o != op; o = o->next)
    print_op(&p, o, 0);
  p.b = b;
  print_op(&p, op, 0);
  ir_buf_free(&scratch);
  printer_free(&p);
}

typedef struct LabelCtx {
  Printer *p;
  const Value *target;
} LabelCtx;

static bool number_results(Op *op, void *ctx) {
  LabelCtx *c = ctx;
  for (int i = 0; i < op->nresults; i++) {
    print_value(c->p, op->results[i]);
    if (op->results[i] == c->target)
      return false;
  }
  return true;
}

void ir_value_label(const Module *m, const Value *v, char *buf, size_t n) {
  Buf scratch = {0};
  Printer p;
  printer_init(&p, m, &scratch, NULL);
  if (!v->name) {
    /* Number values in print order up to v: inputs, weights, then results in walk order. */
    for (int i = 0; i < m->ninputs; i++)
      print_value(&p, m->inputs[i]);
    for (int i = 0; i < m->nweights; i++)
      print_value(&p, m->weights[i]);
    LabelCtx c = {&p, v};
    ir_walk((Block *)&m->body, number_results, &c);
  }
  ir_buf_clear(&scratch);
  print_value(&p, v);
  snprintf(buf, n, "%s", ir_buf_str(&scratch));
  ir_buf_free(&scratch);
  printer_free(&p);
}
