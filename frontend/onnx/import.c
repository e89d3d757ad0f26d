/* import.c - ModelProto to Module: versions and opsets, the symbol table, initializers, graph
 * inputs, nodes in order, and the output op.
 *
 * Nodes must be in topological order (ONNX requires it); a node reading a name nothing defined
 * before it is an error. The module is returned only when nothing failed. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frontend/onnx/fe_onnx.h"
#include "ir/dyn_form.h"

bool fe_fail(FeCtx *c, const char *fmt, ...) {
  if (c->failed)
    return false;
  c->failed = true;
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  ir_error(c->d, (Loc){0}, "%s%s%s", c->where, c->where[0] ? ": " : "", msg);
  return false;
}

void fe_set_where(FeCtx *c, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(c->where, sizeof c->where, fmt, ap);
  va_end(ap);
}

/* ---- name tables: open addressing on FNV-1a ---- */

static size_t name_hash(const char *s) {
  uint64_t h = 1469598103934665603ull;
  for (; *s; s++)
    h = (h ^ (unsigned char)*s) * 1099511628211ull;
  return (size_t)h;
}

FeSym *fe_sym_find(FeCtx *c, const char *name) {
  if (!c->capsyms)
    return NULL;
  for (size_t i = name_hash(name) & (c->capsyms - 1);; i = (i + 1) & (c->capsyms - 1)) {
    if (!c->syms[i].name)
      return NULL;
    if (!strcmp(c->syms[i].name, name))
      return &c->syms[i];
  }
}

static bool sym_insert(FeSym *tab, size_t cap, FeSym s) {
  for (size_t i = name_hash(s.name) & (cap - 1);; i = (i + 1) & (cap - 1))
    if (!tab[i].name) {
      tab[i] = s;
      return true;
    }
}

bool fe_sym_add(FeCtx *c, const char *name, Value *v, FeConst *k) {
  if (fe_sym_find(c, name)) {
    if (k) {
      fe_const_free(k);
      free(k);
    }
    return fe_fail(c, "tensor '%s' is defined twice", name);
  }
  if (2 * (c->nsyms + 1) > c->capsyms) {
    size_t cap = c->capsyms ? 2 * c->capsyms : 64;
    FeSym *tab = calloc(cap, sizeof *tab);
    if (!tab)
      abort();
    for (size_t i = 0; i < c->capsyms; i++)
      if (c->syms[i].name)
        sym_insert(tab, cap, c->syms[i]);
    free(c->syms);
    c->syms = tab;
    c->capsyms = cap;
  }
  sym_insert(c->syms, c->capsyms, (FeSym){name, v, k});
  c->nsyms++;
  return true;
}

Value *fe_sym_value(FeCtx *c, FeSym *s) {
  if (!s->v && s->k)
    s->v = ir_add_weight(c->m, s->name, s->k->type, s->k->data, s->k->nbytes);
  return s->v;
}

static void use_add(FeCtx *c, const char *name) {
  if (2 * (c->nused + 1) > c->capused) {
    size_t cap = c->capused ? 2 * c->capused : 64;
    const char **tab = calloc(cap, sizeof *tab);
    if (!tab)
      abort();
    for (size_t i = 0; i < c->capused; i++)
      if (c->used[i])
        for (size_t j = name_hash(c->used[i]) & (cap - 1);; j = (j + 1) & (cap - 1))
          if (!tab[j]) {
            tab[j] = c->used[i];
            break;
          }
    free(c->used);
    c->used = tab;
    c->capused = cap;
  }
  for (size_t i = name_hash(name) & (c->capused - 1);; i = (i + 1) & (c->capused - 1)) {
    if (!c->used[i]) {
      c->used[i] = name;
      c->nused++;
      return;
    }
    if (!strcmp(c->used[i], name))
      return;
  }
}

bool fe_name_used(const FeCtx *c, const char *name) {
  if (!c->capused || !*name)
    return false;
  for (size_t i = name_hash(name) & (c->capused - 1);; i = (i + 1) & (c->capused - 1)) {
    if (!c->used[i])
      return false;
    if (!strcmp(c->used[i], name))
      return true;
  }
}

/* ---- the model ---- */

static bool check_versions(FeCtx *c, const Onnx__ModelProto *mp) {
  if (!mp->has_ir_version || mp->ir_version < FE_MIN_IR_VERSION ||
      mp->ir_version > FE_MAX_IR_VERSION)
    return fe_fail(c, "IR version %lld is not supported (kiln reads IR versions %d to %d)",
                   mp->has_ir_version ? (long long)mp->ir_version : 0LL, FE_MIN_IR_VERSION,
                   FE_MAX_IR_VERSION);
  bool found = false;
  for (size_t i = 0; i < mp->n_opset_import; i++) {
    const char *dom = fe_str(mp->opset_import[i]->domain);
    if (strcmp(dom, "") && strcmp(dom, "ai.onnx"))
      continue; /* other domains matter only to nodes that use them */
    int64_t v = mp->opset_import[i]->has_version ? mp->opset_import[i]->version : 0;
    if (v < FE_MIN_OPSET || v > FE_MAX_OPSET)
      return fe_fail(c, "opset %lld of the default domain is not supported (kiln supports "
                        "opsets %d to %d)", (long long)v, FE_MIN_OPSET, FE_MAX_OPSET);
    c->opset = v;
    found = true;
  }
  if (!found)
    return fe_fail(c, "the model imports no opset of the default domain (kiln supports opsets "
                      "%d to %d)", FE_MIN_OPSET, FE_MAX_OPSET);
  return true;
}

static bool add_initializers(FeCtx *c, const Onnx__GraphProto *g) {
  if (g->n_sparse_initializer) {
    fe_set_where(c, "initializer '%s'", fe_str(g->sparse_initializer[0]->values
                                                   ? g->sparse_initializer[0]->values->name
                                                   : NULL));
    return fe_fail(c, "sparse initializers are not supported");
  }
  for (size_t i = 0; i < g->n_initializer; i++) {
    const Onnx__TensorProto *t = g->initializer[i];
    fe_set_where(c, "initializer '%s'", fe_str(t->name));
    if (!*fe_str(t->name))
      return fe_fail(c, "an initializer has no name");
    FeConst *k = calloc(1, sizeof *k);
    if (!k)
      abort();
    if (!fe_const_from_tensor(c, t, k)) {
      fe_const_free(k);
      free(k);
      return false;
    }
    if (!fe_sym_add(c, t->name, NULL, k))
      return false;
  }
  return true;
}

static bool add_inputs(FeCtx *c, const Onnx__GraphProto *g) {
  for (size_t i = 0; i < g->n_input; i++) {
    const Onnx__ValueInfoProto *vi = g->input[i];
    const char *name = fe_str(vi->name);
    fe_set_where(c, "input '%s'", name);
    if (!*name)
      return fe_fail(c, "graph input %zu has no name", i);
    FeSym *s = fe_sym_find(c, name);
    if (s && s->k)
      continue; /* also an initializer: a weight */
    const Tensor *bound = fe_binding(c, name);
    if (bound) { /* bound to a constant by the caller */
      FeConst *k = calloc(1, sizeof *k);
      if (!k)
        abort();
      *k = (FeConst){bound->type, bound->data, bound->nbytes, NULL};
      if (!fe_sym_add(c, name, NULL, k))
        return false;
      continue;
    }
    Type t;
    if (!fe_input_type(c, vi, &t))
      return false;
    if (!fe_sym_add(c, name, ir_add_input(c->m, name, t), NULL))
      return false;
  }
  return true;
}

/* Infers the results of n->op, links it and binds its ONNX output names. */
static bool finish_node(FeNode *n) {
  FeCtx *c = n->c;
  Op *op = n->op;
  char err[512];
  int nspecs;
  const AttrSpec *specs = ir_op_attr_specs(op->kind, &nspecs);
  for (int i = 0; i < nspecs; i++) /* what the verifier would refuse, said about the node */
    if (!specs[i].optional && !ir_op_attr(op, specs[i].name) &&
        !ir_dyn_provides(op, specs[i].name))
      return fe_fail(c, "has no '%s', which kiln's '%s' needs", specs[i].name,
                     ir_op_name(op->kind));
  bool known = true; /* an operand-form op's result may be unknown until canonicalize */
  for (int i = 0; i < op->noperands; i++)
    known &= ir_type_is_known(&op->operands[i].value->type);
  Type *types = known ? ir_infer_op(op, err, sizeof err) : NULL;
  if (known && !types)
    return fe_fail(c, "%s", err);
  for (int i = 0; known && i < op->nresults; i++)
    op->results[i]->type = types[i];
  free(types);
  ir_block_append(&c->m->body, op);
  for (int i = 0; i < op->nresults && i < (int)n->np->n_output; i++) {
    const char *name = fe_str(n->np->output[i]);
    if (!*name)
      continue;
    ir_value_set_name(c->m, op->results[i], name);
    if (!fe_sym_add(c, name, op->results[i], NULL))
      return false;
  }
  return true;
}

static bool add_nodes(FeCtx *c, const Onnx__GraphProto *g) {
  for (size_t i = 0; i < g->n_node; i++) {
    const Onnx__NodeProto *np = g->node[i];
    const char *name = fe_str(np->name), *type = fe_str(np->op_type);
    if (*name)
      fe_set_where(c, "node %zu '%s' (%s)", i, name, type);
    else
      fe_set_where(c, "node %zu (%s)", i, type);
    if (np->n_input > FE_MAX_NODE_IO || np->n_output > FE_MAX_NODE_IO)
      return fe_fail(c, "%zu inputs and %zu outputs: kiln handles at most %d of each",
                     np->n_input, np->n_output, FE_MAX_NODE_IO);
    const char *dom = fe_str(np->domain);
    if (strcmp(dom, "") && strcmp(dom, "ai.onnx"))
      return fe_fail(c, "unsupported domain '%s' (kiln imports the default domain only)", dom);
    bool *taken = calloc(np->n_attribute + 1, sizeof *taken);
    if (!taken)
      abort();
    FeNode n = {.c = c, .np = np, .index = (int)i, .nin = (int)np->n_input, .taken = taken};
    for (size_t j = 0; j < np->n_input; j++) {
      const char *in = fe_str(np->input[j]);
      if (!*in)
        continue;
      n.in[j] = fe_sym_find(c, in);
      if (!n.in[j]) {
        free(taken);
        return fe_fail(c, "input %zu ('%s') is not defined by an earlier node, an input or an "
                          "initializer", j, in);
      }
    }
    while (n.nin > 0 && !n.in[n.nin - 1])
      n.nin--;
    n.nout = (int)np->n_output;
    while (n.nout > 0 && !*fe_str(np->output[n.nout - 1]))
      n.nout--;
    bool ok = fe_convert_node(&n) && (!n.op || finish_node(&n));
    free(taken);
    if (!ok)
      return false;
  }
  return true;
}

static bool add_output(FeCtx *c, const Onnx__GraphProto *g) {
  fe_set_where(c, "%s", "");
  if (!g->n_output)
    return fe_fail(c, "the graph has no outputs");
  Value **vals = calloc(g->n_output, sizeof *vals);
  const char **names = calloc(g->n_output, sizeof *names);
  if (!vals || !names)
    abort();
  bool ok = true;
  for (size_t i = 0; i < g->n_output && ok; i++) {
    names[i] = fe_str(g->output[i]->name);
    fe_set_where(c, "output '%s'", names[i]);
    FeSym *s = fe_sym_find(c, names[i]);
    if (!s)
      ok = fe_fail(c, "no node, input or initializer defines it");
    else
      vals[i] = fe_sym_value(c, s);
  }
  if (ok) {
    Op *op = ir_op_create(c->m, OP_OUTPUT, (int)g->n_output, vals, 0, NULL);
    ir_op_set_strings(c->m, op, "names", names, (int)g->n_output);
    ir_block_append(&c->m->body, op);
  }
  free(vals);
  free(names);
  return ok;
}

static void ctx_free(FeCtx *c) {
  for (size_t i = 0; i < c->capsyms; i++)
    if (c->syms[i].k) {
      fe_const_free(c->syms[i].k);
      free(c->syms[i].k);
    }
  free(c->syms);
  free(c->used);
}

Module *fe_onnx_import(const void *data, size_t len, const char *filename, const char *base_dir,
                       const FeOnnxOptions *opt, Diag *d) {
  (void)filename; /* d names the file in every message */
  Onnx__ModelProto *mp = onnx__model_proto__unpack(NULL, len, data);
  if (!mp) {
    ir_error(d, (Loc){0}, "not an ONNX model: protobuf-c unpack failed");
    return NULL;
  }
  FeCtx c = {.d = d, .base_dir = base_dir, .opt = opt};
  c.m = ir_module_new(NULL);
  const Onnx__GraphProto *g = mp->graph;
  if (check_versions(&c, mp) && (g || fe_fail(&c, "the model has no graph"))) {
    for (size_t i = 0; i < g->n_node; i++)
      for (size_t j = 0; j < g->node[i]->n_input; j++)
        use_add(&c, fe_str(g->node[i]->input[j]));
    for (size_t i = 0; i < g->n_output; i++)
      use_add(&c, fe_str(g->output[i]->name));
    if (g->name && *g->name)
      c.m->name = ir_arena_strdup(c.m->arena, g->name);
    (void)(fe_check_overrides(&c, g) && add_initializers(&c, g) && add_inputs(&c, g) &&
           add_nodes(&c, g) && add_output(&c, g));
  }
  ctx_free(&c);
  onnx__model_proto__free_unpacked(mp, NULL);
  if (c.failed) {
    ir_module_free(c.m);
    return NULL;
  }
  return c.m;
}

Module *fe_onnx_import_file(const char *path, const FeOnnxOptions *opt, Diag *d) {
  size_t len = 0;
  void *bytes = fe_read_file(path, &len);
  if (!bytes) {
    ir_error(d, (Loc){0}, "cannot read '%s': %s", path, strerror(errno));
    return NULL;
  }
  char *dir = fe_dir_name(path);
  Module *m = fe_onnx_import(bytes, len, path, dir, opt, d);
  free(dir);
  free(bytes);
  return m;
}
