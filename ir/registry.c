/* registry.c - the op table built from ops.def, and attribute schemas parsed from its strings. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ir.h"

const OpInfo ir_ops[OP_COUNT] = {
#define OP(id, name, onnx, min_in, max_in, min_out, max_out, fusion, flags, attrs)                 \
  [OP_##id] = {name, onnx, min_in, max_in, min_out, max_out, fusion, flags, attrs},
#include "ops.def"
#undef OP
};

static const char *attr_kind_names[ATTR_KIND_COUNT] = {
    "int", "float", "string", "ints", "floats", "strings", "tensor",
};

static const char *fusion_kind_names[] = {
    "elementwise", "broadcast", "injective", "reduction", "conv", "opaque",
};

const char *ir_attr_kind_name(AttrKind k) {
  return k < ATTR_KIND_COUNT ? attr_kind_names[k] : "?";
}

const char *ir_fusion_kind_name(FusionKind k) { return fusion_kind_names[k]; }

const char *ir_op_name(OpKind k) { return k >= 0 && k < OP_COUNT ? ir_ops[k].name : "?"; }

OpKind ir_op_lookup(const char *name) {
  for (int k = 0; k < OP_COUNT; k++)
    if (strcmp(ir_ops[k].name, name) == 0)
      return (OpKind)k;
  return OP_INVALID;
}

enum { MAX_ATTRS = 16 };

static struct {
  bool parsed;
  int n;
  AttrSpec specs[MAX_ATTRS];
} schemas[OP_COUNT];

/* Parses "name:kind[?] ..." once per op; a malformed row is a bug in ops.def. */
static void parse_schema(OpKind k) {
  const char *p = ir_ops[k].attr_spec;
  while (*p) {
    while (*p == ' ')
      p++;
    if (!*p)
      break;
    const char *colon = strchr(p, ':'), *end = p + strcspn(p, " ");
    if (!colon || colon > end || schemas[k].n == MAX_ATTRS) {
      fprintf(stderr, "kiln: internal error: bad attribute schema of '%s'\n", ir_ops[k].name);
      abort();
    }
    AttrSpec *s = &schemas[k].specs[schemas[k].n++];
    s->name = strndup(p, (size_t)(colon - p));
    s->optional = end[-1] == '?';
    size_t klen = (size_t)(end - colon - 1 - (s->optional ? 1 : 0));
    int kind = 0;
    while (kind < ATTR_KIND_COUNT &&
           !(strlen(attr_kind_names[kind]) == klen && !strncmp(colon + 1, attr_kind_names[kind], klen)))
      kind++;
    if (kind == ATTR_KIND_COUNT) {
      fprintf(stderr, "kiln: internal error: bad attribute kind in schema of '%s'\n",
              ir_ops[k].name);
      abort();
    }
    s->kind = (AttrKind)kind;
    p = end;
  }
  schemas[k].parsed = true;
}

const AttrSpec *ir_op_attr_specs(OpKind k, int *n) {
  if (!schemas[k].parsed)
    parse_schema(k);
  *n = schemas[k].n;
  return schemas[k].specs;
}

const AttrSpec *ir_op_attr_spec(OpKind k, const char *attr) {
  int n;
  const AttrSpec *s = ir_op_attr_specs(k, &n);
  for (int i = 0; i < n; i++)
    if (strcmp(s[i].name, attr) == 0)
      return &s[i];
  return NULL;
}
