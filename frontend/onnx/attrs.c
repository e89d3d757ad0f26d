/* attrs.c - node building blocks: ONNX attributes to kiln attributes (camelCase to snake_case,
 * checked against the registry's schema), constant inputs read as attribute values, and the
 * creation of a node's op with the registry's arity checked. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frontend/onnx/fe_onnx.h"

enum { FE_ATTR_UNSUPPORTED = -1 };

/* The kiln AttrKind of an ONNX attribute, or FE_ATTR_UNSUPPORTED (graphs, sparse tensors, type
 * protos, tensor lists); *what names the ONNX kind for messages. Attributes of old models may
 * lack the type field: it is then taken from the field that is set. */
static int attr_kind(const Onnx__AttributeProto *a, const char **what) {
  int t = a->has_type ? (int)a->type : 0;
  if (!t)
    t = a->has_f ? 1 : a->has_i ? 2 : a->has_s ? 3 : a->t ? 4 : a->g ? 5 : a->n_floats ? 6
        : a->n_ints ? 7 : a->n_strings ? 8 : a->n_tensors ? 9 : a->n_graphs ? 10 : 0;
  switch (t) {
  case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT: *what = "a float"; return ATTR_FLOAT;
  case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT: *what = "an int"; return ATTR_INT;
  case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING: *what = "a string"; return ATTR_STRING;
  case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR: *what = "a tensor"; return ATTR_TENSOR;
  case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS: *what = "floats"; return ATTR_FLOATS;
  case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS: *what = "ints"; return ATTR_INTS;
  case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRINGS: *what = "strings"; return ATTR_STRINGS;
  case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPH: *what = "a graph"; break;
  case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPHS: *what = "graphs"; break;
  case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSORS: *what = "tensors"; break;
  case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__SPARSE_TENSOR: *what = "a sparse tensor"; break;
  case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__SPARSE_TENSORS: *what = "sparse tensors"; break;
  case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TYPE_PROTO: *what = "a type"; break;
  case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TYPE_PROTOS: *what = "types"; break;
  default: *what = "of no known type"; break;
  }
  return FE_ATTR_UNSUPPORTED;
}

/* A protobuf bytes field as a NUL-terminated string in the module's arena (data may be NULL). */
static const char *bytes_str(Module *m, const ProtobufCBinaryData *b) {
  return b->len ? ir_arena_strndup(m->arena, (const char *)b->data, b->len) : "";
}

static const char *kind_article(AttrKind k) {
  static const char *const names[] = {"an int", "a float", "a string", "ints", "floats",
                                      "strings", "a tensor"};
  return k < ATTR_KIND_COUNT ? names[k] : "?";
}

const Onnx__AttributeProto *fe_attr_take(FeNode *n, const char *name) {
  for (size_t i = 0; i < n->np->n_attribute; i++)
    if (!strcmp(fe_str(n->np->attribute[i]->name), name)) {
      n->taken[i] = true;
      return n->np->attribute[i];
    }
  return NULL;
}

/* Takes attribute name when present, checking its kind; *a NULL when absent. */
static bool take_kind(FeNode *n, const char *name, AttrKind want,
                      const Onnx__AttributeProto **a) {
  *a = fe_attr_take(n, name);
  const char *what;
  if (*a && attr_kind(*a, &what) != (int)want)
    return fe_fail(n->c, "attribute '%s' is %s, expected %s", name, what, kind_article(want));
  return true;
}

bool fe_attr_take_int(FeNode *n, const char *name, int64_t dflt, int64_t *out) {
  const Onnx__AttributeProto *a;
  if (!take_kind(n, name, ATTR_INT, &a))
    return false;
  *out = a ? a->i : dflt;
  return true;
}

bool fe_attr_take_string(FeNode *n, const char *name, const char *dflt, const char **out) {
  const Onnx__AttributeProto *a;
  if (!take_kind(n, name, ATTR_STRING, &a))
    return false;
  *out = a ? bytes_str(n->c->m, &a->s) : dflt;
  return true;
}

bool fe_attr_take_ints(FeNode *n, const char *name, const int64_t **v, int *cnt) {
  const Onnx__AttributeProto *a;
  if (!take_kind(n, name, ATTR_INTS, &a))
    return false;
  if (a && a->n_ints > IR_MAX_RANK * 64)
    return fe_fail(n->c, "attribute '%s' has %zu values, too many", name, a->n_ints);
  *v = a ? a->ints : NULL;
  *cnt = a ? (int)a->n_ints : -1;
  return true;
}

void fe_snake_case(const char *onnx, char *buf, size_t n) {
  size_t o = 0;
  for (const char *p = onnx; *p && o + 2 < n; p++) {
    if (*p >= 'A' && *p <= 'Z') {
      if (o > 0 && buf[o - 1] != '_')
        buf[o++] = '_';
      buf[o++] = (char)(*p - 'A' + 'a');
    } else {
      buf[o++] = *p;
    }
  }
  buf[o] = 0;
}

static bool apply_one(FeNode *n, const Onnx__AttributeProto *a) {
  FeCtx *c = n->c;
  Module *m = c->m;
  const char *oname = fe_str(a->name);
  char name[128];
  fe_snake_case(oname, name, sizeof name);
  const AttrSpec *spec = ir_op_attr_spec(n->op->kind, name);
  if (!spec)
    return fe_fail(c, "unknown attribute '%s'", oname);
  if (a->ref_attr_name)
    return fe_fail(c, "attribute '%s' refers to a function attribute: not supported", oname);
  const char *what;
  int kind = attr_kind(a, &what);
  if (kind != (int)spec->kind)
    return fe_fail(c, "attribute '%s' is %s, expected %s", oname, what,
                   kind_article(spec->kind));
  switch (spec->kind) {
  case ATTR_INT:
    ir_op_set_int(m, n->op, name, a->i);
    return true;
  case ATTR_FLOAT:
    ir_op_set_float(m, n->op, name, a->f);
    return true;
  case ATTR_STRING:
    ir_op_set_string(m, n->op, name, bytes_str(m, &a->s));
    return true;
  case ATTR_INTS:
    if (a->n_ints > 4096)
      return fe_fail(c, "attribute '%s' has %zu values, too many", oname, a->n_ints);
    ir_op_set_ints(m, n->op, name, a->ints, (int)a->n_ints);
    return true;
  case ATTR_FLOATS: {
    if (a->n_floats > 4096)
      return fe_fail(c, "attribute '%s' has %zu values, too many", oname, a->n_floats);
    double *f = malloc((a->n_floats + 1) * sizeof *f);
    if (!f)
      abort();
    for (size_t i = 0; i < a->n_floats; i++)
      f[i] = a->floats[i];
    ir_op_set_floats(m, n->op, name, f, (int)a->n_floats);
    free(f);
    return true;
  }
  case ATTR_STRINGS: {
    if (a->n_strings > 4096)
      return fe_fail(c, "attribute '%s' has %zu values, too many", oname, a->n_strings);
    const char **s = malloc((a->n_strings + 1) * sizeof *s);
    if (!s)
      abort();
    for (size_t i = 0; i < a->n_strings; i++)
      s[i] = bytes_str(m, &a->strings[i]);
    ir_op_set_strings(m, n->op, name, s, (int)a->n_strings);
    free(s);
    return true;
  }
  case ATTR_TENSOR: {
    if (!a->t)
      return fe_fail(c, "attribute '%s' holds no tensor", oname);
    FeConst k;
    if (!fe_const_from_tensor(c, a->t, &k))
      return false;
    Tensor t = {k.type, (void *)k.data, k.nbytes};
    Attr at = {.name = name, .kind = ATTR_TENSOR, .tensor = &t};
    ir_op_set_attr(m, n->op, &at);
    fe_const_free(&k);
    return true;
  }
  default:
    return fe_fail(c, "attribute '%s' is %s: not supported", oname, what);
  }
}

bool fe_attrs_apply(FeNode *n) {
  for (size_t i = 0; i < n->np->n_attribute; i++)
    if (!n->taken[i] && !apply_one(n, n->np->attribute[i]))
      return false;
  return true;
}

static void range_text(char *buf, size_t len, int lo, int hi) {
  if (lo == hi)
    snprintf(buf, len, "%d", lo);
  else if (hi < 0)
    snprintf(buf, len, "at least %d", lo);
  else
    snprintf(buf, len, "%d to %d", lo, hi);
}

bool fe_node_emit(FeNode *n, OpKind kind, Value *const *operands, int nops, int nres) {
  const OpInfo *info = &ir_ops[kind];
  char want[64];
  if (nops < info->min_operands || (info->max_operands >= 0 && nops > info->max_operands)) {
    range_text(want, sizeof want, info->min_operands, info->max_operands);
    return fe_fail(n->c, "has %d input%s, kiln's '%s' takes %s", nops, nops == 1 ? "" : "s",
                   info->name, want);
  }
  if (nres < info->min_results || (info->max_results >= 0 && nres > info->max_results)) {
    range_text(want, sizeof want, info->min_results, info->max_results);
    return fe_fail(n->c, "has %d output%s, kiln's '%s' gives %s", nres, nres == 1 ? "" : "s",
                   info->name, want);
  }
  n->op = ir_op_create(n->c->m, kind, nops, operands, nres, NULL);
  if (*fe_str(n->np->name))
    ir_op_set_sym(n->c->m, n->op, n->np->name);
  return fe_attrs_apply(n);
}

int fe_node_operands(FeNode *n, int first, int last, Value **ops) {
  int k = 0;
  for (int j = first; j < last && j < n->nin; j++)
    if (n->in[j])
      ops[k++] = fe_sym_value(n->c, n->in[j]);
  return k;
}

/* The constant behind input i, or NULL (reported). */
static const FeConst *const_input(FeNode *n, int i, const char *param) {
  const FeSym *s = i < n->nin ? n->in[i] : NULL;
  if (!s) {
    fe_fail(n->c, "input %d ('%s') of %s is missing", i, param, fe_str(n->np->op_type));
    return NULL;
  }
  if (!s->k) {
    fe_fail(n->c, "input %d ('%s') of %s must be a constant: kiln needs static shapes", i, param,
            fe_str(n->np->op_type));
    return NULL;
  }
  if (ir_type_numel(&s->k->type) > 4096) {
    fe_fail(n->c, "input %d ('%s') of %s has %lld values, too many", i, param,
            fe_str(n->np->op_type), (long long)ir_type_numel(&s->k->type));
    return NULL;
  }
  return s->k;
}

bool fe_input_ints(FeNode *n, int i, const char *param, int64_t **v, int *cnt) {
  const FeConst *k = const_input(n, i, param);
  if (!k)
    return false;
  DType dt = k->type.dtype;
  if (!ir_dtype_is_int(dt))
    return fe_fail(n->c, "input %d ('%s') of %s is %s, expected an integer tensor", i, param,
                   fe_str(n->np->op_type), ir_dtype_name(dt));
  int64_t num = ir_type_numel(&k->type);
  int64_t *out = malloc(sizeof *out * (size_t)(num + 1));
  if (!out)
    abort();
  const unsigned char *p = k->data;
  for (int64_t j = 0; j < num; j++) {
    switch (dt) {
    case DT_I8: out[j] = ((const int8_t *)p)[j]; break;
    case DT_U8: out[j] = p[j]; break;
    case DT_I16: { int16_t x; memcpy(&x, p + 2 * j, 2); out[j] = x; break; }
    case DT_U16: { uint16_t x; memcpy(&x, p + 2 * j, 2); out[j] = x; break; }
    case DT_I32: { int32_t x; memcpy(&x, p + 4 * j, 4); out[j] = x; break; }
    case DT_U32: { uint32_t x; memcpy(&x, p + 4 * j, 4); out[j] = x; break; }
    default: { int64_t x; memcpy(&x, p + 8 * j, 8); out[j] = x; break; }
    }
  }
  *v = out;
  *cnt = (int)num;
  return true;
}

bool fe_input_floats(FeNode *n, int i, const char *param, double **v, int *cnt) {
  const FeConst *k = const_input(n, i, param);
  if (!k)
    return false;
  DType dt = k->type.dtype;
  if (ir_dtype_is_int(dt)) {
    int64_t *iv;
    if (!fe_input_ints(n, i, param, &iv, cnt))
      return false;
    double *out = malloc(sizeof *out * (size_t)(*cnt + 1));
    if (!out)
      abort();
    for (int j = 0; j < *cnt; j++)
      out[j] = (double)iv[j];
    free(iv);
    *v = out;
    return true;
  }
  if (!ir_dtype_is_float(dt))
    return fe_fail(n->c, "input %d ('%s') of %s is %s, expected a number tensor", i, param,
                   fe_str(n->np->op_type), ir_dtype_name(dt));
  int64_t num = ir_type_numel(&k->type);
  double *out = malloc(sizeof *out * (size_t)(num + 1));
  if (!out)
    abort();
  const unsigned char *p = k->data;
  for (int64_t j = 0; j < num; j++) {
    switch (dt) {
    case DT_F16: { uint16_t x; memcpy(&x, p + 2 * j, 2); out[j] = ir_f16_to_f32(x); break; }
    case DT_BF16: { uint16_t x; memcpy(&x, p + 2 * j, 2); out[j] = ir_bf16_to_f32(x); break; }
    case DT_F32: { float x; memcpy(&x, p + 4 * j, 4); out[j] = x; break; }
    default: { double x; memcpy(&x, p + 8 * j, 8); out[j] = x; break; }
    }
  }
  *v = out;
  *cnt = (int)num;
  return true;
}
