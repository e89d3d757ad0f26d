/* numerics.c - the numeric checker under `kiln-opt --check-numerics` (see numerics.h).
 *
 * Memory: inputs and reference outputs are malloc'd copies owned by the checker, since passes
 * rewrite the module (and the interpreter leaves its outputs in the module's arena, which grows
 * by one set of outputs per rerun). */
#include "ir/diag.h"
#include "numerics.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

#include "interp.h"

typedef struct RefOutput {
  char *name; /* the output's name, for messages */
  Tensor t;   /* type with N bound; data malloc'd */
} RefOutput;

struct NumericsCheck {
  double tol;
  Tensor *inputs; /* parallel to the module's inputs; data malloc'd */
  int ninputs;
  RefOutput *ref;
  int noutputs;
  uint64_t hash; /* of the module the reference (or the last rerun) came from */
  int checked;
  double max_err;  /* over every step */
  double last_err; /* of the last rerun: an unchanged module keeps it */
  char msg[1024];
  char summary[128];
};

static void *xmalloc(size_t n) {
  void *p = malloc(n ? n : 1);
  if (!p)
    abort();
  return p;
}

/* ---- the module hash ---- */

typedef struct HashWalk {
  XXH3_state_t *s;
} HashWalk;

static bool hash_attr_tensors(Op *op, void *ctx) {
  XXH3_state_t *s = ((HashWalk *)ctx)->s;
  for (int i = 0; i < op->nattrs; i++) {
    const Attr *a = &op->attrs[i];
    if (a->kind == ATTR_TENSOR && a->tensor->data)
      XXH3_64bits_update(s, a->tensor->data, a->tensor->nbytes);
  }
  return true;
}

/* The printed IR with constants elided, then the bytes of every constant: equal hashes mean
 * (but for a collision) the same module. */
static uint64_t module_hash(const Module *m) {
  Buf b = {0};
  PrintOptions po = {.elide_constants = true};
  ir_print_module(m, &b, &po);
  XXH3_state_t *s = XXH3_createState();
  if (!s)
    abort();
  XXH3_64bits_reset(s);
  XXH3_64bits_update(s, ir_buf_str(&b), b.len);
  ir_buf_free(&b);
  for (int i = 0; i < m->nweights; i++) {
    const Tensor *t = m->weights[i]->tensor;
    if (t && t->data)
      XXH3_64bits_update(s, t->data, t->nbytes);
  }
  HashWalk w = {s};
  ir_walk((Block *)&m->body, hash_attr_tensors, &w);
  uint64_t h = XXH3_64bits_digest(s);
  XXH3_freeState(s);
  return h;
}

/* ---- preconditions ---- */

typedef struct TypeWalk {
  const Module *m;
  char *err;
  size_t errlen;
  bool ok;
} TypeWalk;

static bool check_result_types(Op *op, void *ctx) {
  TypeWalk *w = ctx;
  if (ir_ops[op->kind].flags & F_DATA_SHAPE)
    return true; /* the interpreter sizes these from the kernel */
  /* Past a data-dependent shape, types stay unknown and the interpreter infers them on the
   * values it has (ops are walked in order, so an unknown operand here is such a value). */
  for (int i = 0; i < op->noperands; i++) {
    const Value *v = op->operands[i].value;
    if (!ir_type_is_known(&v->type) ||
        (v->kind == VAL_RESULT && (ir_ops[v->def->kind].flags & F_DATA_SHAPE)))
      return true;
  }
  for (int i = 0; i < op->nresults; i++)
    if (!ir_type_is_known(&op->results[i]->type)) {
      char label[128];
      ir_value_label(w->m, op->results[i], label, sizeof label);
      w->ok = ir_errf(w->err, w->errlen,
                   "--check-numerics: %s ('%s' op) has type %s: every type must be known "
                   "before the pipeline; run infer-shapes first (kiln-opt FILE -p infer-shapes "
                   "| kiln-opt - --check-numerics ...)",
                   label, ir_op_name(op->kind), ir_type_str(&op->results[i]->type));
      return false;
    }
  return true;
}

static bool check_module(const Module *m, char *err, size_t errlen) {
  char label[128];
  for (int i = 0; i < m->ninputs; i++)
    if (!ir_type_is_known(&m->inputs[i]->type)) {
      ir_value_label(m, m->inputs[i], label, sizeof label);
      return ir_errf(err, errlen,
                  "--check-numerics: input %s has type %s: every type must be known before "
                  "the pipeline",
                  label, ir_type_str(&m->inputs[i]->type));
    }
  for (int i = 0; i < m->nweights; i++) {
    const Value *w = m->weights[i];
    ir_value_label(m, w, label, sizeof label);
    if (!ir_type_is_known(&w->type) || ir_type_is_batched(&w->type))
      return ir_errf(err, errlen, "--check-numerics: weight %s has type %s, not static", label,
                  ir_type_str(&w->type));
    if (!w->tensor || (!w->tensor->data && ir_type_numel(&w->type) > 0))
      return ir_errf(err, errlen,
                  "--check-numerics: weight %s is elided: the reference run needs its data",
                  label);
  }
  TypeWalk w = {m, err, errlen, true};
  ir_walk((Block *)&m->body, check_result_types, &w);
  return w.ok;
}

/* ---- inputs ---- */

/* splitmix64: a fixed, portable sequence. */
static uint64_t next_random(uint64_t *state) {
  uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

/* Uniform in [-1, 1]: 53 random bits scaled. */
static double random_unit(uint64_t *state) {
  return (double)(next_random(state) >> 11) * (2.0 / 9007199254740992.0) - 1.0;
}

static void fill_random(Tensor *t, uint64_t *state) {
  int64_t n = ir_type_numel(&t->type);
  DType dt = t->type.dtype;
  memset(t->data, 0, t->nbytes); /* integers 0, bools false (see numerics.h) */
  if (!ir_dtype_is_float(dt))
    return;
  for (int64_t i = 0; i < n; i++) {
    double v = random_unit(state);
    switch (dt) {
    case DT_F32: ((float *)t->data)[i] = (float)v; break;
    case DT_F64: ((double *)t->data)[i] = v; break;
    case DT_F16: ((uint16_t *)t->data)[i] = ir_f32_to_f16((float)v); break;
    case DT_BF16: ((uint16_t *)t->data)[i] = ir_f32_to_bf16((float)v); break;
    default: break;
    }
  }
}

static const char *input_name(const Value *v) { return v->name ? v->name : ""; }

/* Does given (a tensor's type) fit want (an input's type, maybe batched)? */
static bool type_fits(const Type *given, const Type *want) {
  if (given->dtype != want->dtype || given->rank != want->rank)
    return false;
  for (int d = 0; d < given->rank; d++)
    if (given->dims[d] != want->dims[d] && !(d == 0 && want->dims[0] == IR_DIM_N))
      return false;
  return true;
}

/* Binds given inputs by name, fixes the batch, and makes the other inputs. */
static bool make_inputs(NumericsCheck *c, const Module *m, const NumericsOptions *opt, char *err,
                        size_t errlen) {
  c->ninputs = m->ninputs;
  c->inputs = calloc((size_t)m->ninputs + 1, sizeof *c->inputs);
  int *given = calloc((size_t)m->ninputs + 1, sizeof *given); /* index into opt->inputs + 1 */
  if (!c->inputs || !given)
    abort();
  bool ok = true;
  int64_t batch = -1;
  const char *batch_from = NULL;
  for (int g = 0; ok && g < opt->ninputs; g++) {
    const NumericsInput *in = &opt->inputs[g];
    int i = 0;
    while (i < m->ninputs && strcmp(input_name(m->inputs[i]), in->name) != 0)
      i++;
    if (i == m->ninputs) {
      Buf names = {0};
      for (int k = 0; k < m->ninputs; k++)
        ir_buf_printf(&names, "%s%s", k ? ", " : "", input_name(m->inputs[k]));
      ok = ir_errf(err, errlen,
                "--check-numerics-input %s=%s: the module has no input '%s'; its inputs: %s",
                in->name, in->source, in->name, m->ninputs ? ir_buf_str(&names) : "none");
      ir_buf_free(&names);
      break;
    }
    const Type *want = &m->inputs[i]->type;
    if (given[i]) {
      ok = ir_errf(err, errlen, "--check-numerics-input %s=%s: input '%s' is already given (by %s)",
                in->name, in->source, in->name, opt->inputs[given[i] - 1].source);
    } else if (!type_fits(&in->tensor.type, want)) {
      char got[128];
      snprintf(got, sizeof got, "%s", ir_type_str(&in->tensor.type));
      ok = ir_errf(err, errlen,
                "--check-numerics-input %s=%s: the tensor has type %s, input '%s' expects %s",
                in->name, in->source, got, in->name, ir_type_str(want));
    } else if (ir_type_is_batched(want) && batch >= 0 && in->tensor.type.dims[0] != batch) {
      ok = ir_errf(err, errlen,
                "--check-numerics-input %s=%s: batch %lld, but %s has batch %lld", in->name,
                in->source, (long long)in->tensor.type.dims[0], batch_from, (long long)batch);
    } else if (ir_type_is_batched(want) && opt->batch > 0 &&
               in->tensor.type.dims[0] != opt->batch) {
      ok = ir_errf(err, errlen,
                "--check-numerics-input %s=%s: batch %lld, but --check-numerics-batch is %lld",
                in->name, in->source, (long long)in->tensor.type.dims[0],
                (long long)opt->batch);
    } else {
      given[i] = g + 1;
      if (ir_type_is_batched(want)) {
        batch = in->tensor.type.dims[0];
        batch_from = in->source;
      }
    }
  }
  if (batch < 0)
    batch = opt->batch > 0 ? opt->batch : 1;
  uint64_t state = 0x6b696c6e; /* "kiln": fixed, so runs repeat */
  for (int i = 0; ok && i < m->ninputs; i++) {
    Type t = m->inputs[i]->type;
    if (ir_type_is_batched(&t))
      t.dims[0] = batch;
    size_t nbytes = (size_t)ir_type_numel(&t) * ir_dtype_size(t.dtype);
    c->inputs[i] = (Tensor){t, xmalloc(nbytes), nbytes};
    if (given[i]) {
      const Tensor *src = &opt->inputs[given[i] - 1].tensor;
      if (src->nbytes != nbytes || (nbytes && !src->data))
        ok = ir_errf(err, errlen, "--check-numerics-input %s=%s: holds %zu bytes, its type %s "
                  "takes %zu", input_name(m->inputs[i]), opt->inputs[given[i] - 1].source,
                  src->nbytes, ir_type_str(&t), nbytes);
      else if (nbytes)
        memcpy(c->inputs[i].data, src->data, nbytes);
    } else {
      fill_random(&c->inputs[i], &state);
    }
  }
  free(given);
  return ok;
}

/* ---- running and comparing ---- */

/* The name of output j: the output op's `names` entry, else the value's label. */
static char *output_name(const Module *m, const Op *out, int j) {
  const Attr *names = ir_op_attr(out, "names");
  if (names && names->kind == ATTR_STRINGS && j < names->n && names->strings[j] &&
      *names->strings[j])
    return strdup(names->strings[j]);
  char label[128];
  ir_value_label(m, out->operands[j].value, label, sizeof label);
  return strdup(label[0] == '%' || label[0] == '$' ? label + 1 : label);
}

/* Runs m on the checker's inputs; outputs land in m's arena. */
static bool run(NumericsCheck *c, Module *m, Tensor **outputs, int *noutputs, char *err,
                size_t errlen) {
  const Op *out = ir_module_output(m);
  if (!out || out->kind != OP_OUTPUT)
    return ir_errf(err, errlen, "the module has no output op");
  *noutputs = out->noperands;
  *outputs = calloc((size_t)out->noperands + 1, sizeof **outputs);
  if (!*outputs)
    abort();
  return pass_interp_module(m, c->inputs, c->ninputs, *outputs, *noutputs, err, errlen);
}

static double element(const Tensor *t, int64_t i) {
  switch (t->type.dtype) {
  case DT_F32: return ((const float *)t->data)[i];
  case DT_F64: return ((const double *)t->data)[i];
  case DT_F16: return ir_f16_to_f32(((const uint16_t *)t->data)[i]);
  case DT_BF16: return ir_bf16_to_f32(((const uint16_t *)t->data)[i]);
  default: return 0;
  }
}

/* An integer or bool element as text. */
static void format_int(const Tensor *t, int64_t i, char *out, size_t n) {
  const void *p = (const char *)t->data + (size_t)i * ir_dtype_size(t->type.dtype);
  switch (t->type.dtype) {
  case DT_I8: snprintf(out, n, "%d", *(const int8_t *)p); break;
  case DT_U8: snprintf(out, n, "%u", *(const uint8_t *)p); break;
  case DT_BOOL: snprintf(out, n, "%s", *(const uint8_t *)p ? "true" : "false"); break;
  case DT_I16: snprintf(out, n, "%d", *(const int16_t *)p); break;
  case DT_U16: snprintf(out, n, "%u", *(const uint16_t *)p); break;
  case DT_I32: snprintf(out, n, "%d", *(const int32_t *)p); break;
  case DT_U32: snprintf(out, n, "%u", *(const uint32_t *)p); break;
  case DT_I64: snprintf(out, n, "%lld", (long long)*(const int64_t *)p); break;
  case DT_U64: snprintf(out, n, "%llu", (unsigned long long)*(const uint64_t *)p); break;
  default: snprintf(out, n, "?"); break;
  }
}

typedef struct Diff {
  double err;  /* relative error (floats); 0 or INFINITY (exact kinds) */
  int64_t at;  /* the element of the largest difference; -1 when equal */
} Diff;

/* Compares got with ref (same type). See numerics.h for the metric. */
static Diff compare(const Tensor *ref, const Tensor *got) {
  int64_t n = ir_type_numel(&ref->type);
  Diff d = {0, -1};
  if (!ir_dtype_is_float(ref->type.dtype) || ref->type.quantized) {
    size_t es = ir_dtype_size(ref->type.dtype);
    for (int64_t i = 0; i < n; i++)
      if (memcmp((const char *)ref->data + (size_t)i * es, (const char *)got->data + (size_t)i * es,
                 es) != 0)
        return (Diff){INFINITY, i};
    return d;
  }
  double max_ref = 0, max_diff = 0;
  for (int64_t i = 0; i < n; i++) {
    double a = element(ref, i), b = element(got, i);
    if (isfinite(a) && fabs(a) > max_ref)
      max_ref = fabs(a);
    if (a == b || (isnan(a) && isnan(b)))
      continue;
    double diff = fabs(a - b); /* NaN or infinite when one side is not finite */
    if (isnan(diff))
      diff = INFINITY;
    if (diff > max_diff || d.at < 0) {
      max_diff = diff;
      d.at = i;
    }
  }
  if (d.at >= 0)
    d.err = max_diff / (max_ref > 1e-30 ? max_ref : 1e-30);
  return d;
}

static void free_outputs(RefOutput *ref, int n) {
  for (int j = 0; j < n; j++) {
    free(ref[j].name);
    free(ref[j].t.data);
  }
  free(ref);
}

NumericsCheck *pass_numerics_begin(Module *m, const NumericsOptions *opt, char *err,
                                   size_t errlen) {
  if (!check_module(m, err, errlen))
    return NULL;
  NumericsCheck *c = calloc(1, sizeof *c);
  if (!c)
    abort();
  c->tol = opt->tol >= 0 ? opt->tol : PASS_NUMERICS_TOL;
  if (!make_inputs(c, m, opt, err, errlen)) {
    pass_numerics_free(c);
    return NULL;
  }
  Tensor *outs = NULL;
  int nouts = 0;
  char why[768];
  if (!run(c, m, &outs, &nouts, why, sizeof why)) {
    ir_errf(err, errlen, "--check-numerics: the module does not run before the pipeline: %s", why);
    free(outs);
    pass_numerics_free(c);
    return NULL;
  }
  const Op *out = ir_module_output(m);
  c->noutputs = nouts;
  c->ref = calloc((size_t)nouts + 1, sizeof *c->ref);
  if (!c->ref)
    abort();
  for (int j = 0; j < nouts; j++) {
    c->ref[j].name = output_name(m, out, j);
    c->ref[j].t = (Tensor){outs[j].type, xmalloc(outs[j].nbytes), outs[j].nbytes};
    if (outs[j].nbytes)
      memcpy(c->ref[j].t.data, outs[j].data, outs[j].nbytes);
  }
  free(outs);
  c->hash = module_hash(m);
  return c;
}

static void set_line(NumericsCheck *c, const PassInfo *pass, int step, const char *what,
                     double err) {
  snprintf(c->msg, sizeof c->msg, "check-numerics: step %d '%s': %s%.2g", step, pass->name, what,
           err);
}

bool pass_numerics_check(NumericsCheck *c, const PassInfo *pass, int step, Module *m) {
  c->checked++;
  uint64_t h = module_hash(m);
  if (h == c->hash) {
    set_line(c, pass, step, "IR unchanged, not rerun; max relative error ", c->last_err);
    return true;
  }
  c->hash = h;
  Tensor *outs = NULL;
  int nouts = 0;
  char why[768];
  bool ok = run(c, m, &outs, &nouts, why, sizeof why);
  if (!ok)
    snprintf(c->msg, sizeof c->msg,
             "--check-numerics: after pass '%s' (step %d) the module does not run: %s",
             pass->name, step, why);
  else if (nouts != c->noutputs)
    ok = ir_errf(c->msg, sizeof c->msg,
              "--check-numerics: pass '%s' (step %d) changed the number of outputs from %d "
              "to %d", pass->name, step, c->noutputs, nouts);
  double step_err = 0;
  for (int j = 0; ok && j < nouts; j++) {
    const RefOutput *r = &c->ref[j];
    if (!ir_type_equal(&r->t.type, &outs[j].type)) {
      char was[128];
      snprintf(was, sizeof was, "%s", ir_type_str(&r->t.type));
      ok = ir_errf(c->msg, sizeof c->msg,
                "--check-numerics: pass '%s' (step %d) changed the type of output '%s' from %s "
                "to %s", pass->name, step, r->name, was, ir_type_str(&outs[j].type));
      break;
    }
    Diff d = compare(&r->t, &outs[j]);
    if (d.at < 0)
      continue;
    bool exact = !ir_dtype_is_float(r->t.type.dtype) || r->t.type.quantized;
    if (exact) {
      char a[32], b[32];
      format_int(&r->t, d.at, a, sizeof a);
      format_int(&outs[j], d.at, b, sizeof b);
      ok = ir_errf(c->msg, sizeof c->msg,
                "--check-numerics: pass '%s' (step %d) changed output '%s': %s%s outputs must "
                "match exactly (at element %lld: %s vs %s)",
                pass->name, step, r->name, r->t.type.quantized ? "quantized " : "",
                ir_dtype_name(r->t.type.dtype), (long long)d.at, a, b);
    } else if (!(d.err <= c->tol)) {
      ok = ir_errf(c->msg, sizeof c->msg,
                "--check-numerics: pass '%s' (step %d) changed output '%s': max relative error "
                "%.1e > %g (at element %lld: %.6g vs %.6g)",
                pass->name, step, r->name, d.err, c->tol, (long long)d.at,
                element(&r->t, d.at), element(&outs[j], d.at));
    }
    if (d.err > step_err)
      step_err = d.err;
  }
  free(outs);
  if (step_err > c->max_err)
    c->max_err = step_err;
  c->last_err = step_err;
  if (ok)
    set_line(c, pass, step, "max relative error ", step_err);
  return ok;
}

const char *pass_numerics_message(const NumericsCheck *c) { return c->msg; }

const char *pass_numerics_summary(NumericsCheck *c) {
  snprintf(c->summary, sizeof c->summary,
           "check-numerics: %d pass%s checked, max relative error %.2g", c->checked,
           c->checked == 1 ? "" : "es", c->max_err);
  return c->summary;
}

void pass_numerics_free(NumericsCheck *c) {
  if (!c)
    return;
  for (int i = 0; i < c->ninputs; i++)
    free(c->inputs[i].data);
  free(c->inputs);
  free_outputs(c->ref, c->noutputs);
  free(c);
}
