/* interp.c - evaluation of ops and modules through the reference kernels (see interp.h). */
#include "ir/diag.h"
#include "interp.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ir/dyn_form.h"
#include "runtime/ref/ref.h"

/* The runtime numbers element types as the compiler numbers dtypes; conversion is a cast. */
#define SAME_ELEM(x) _Static_assert((int)DT_##x == (int)RT_ELEM_##x, "RtElem " #x " != DType")
SAME_ELEM(UNKNOWN);
SAME_ELEM(F32);
SAME_ELEM(F16);
SAME_ELEM(BF16);
SAME_ELEM(F64);
SAME_ELEM(I8);
SAME_ELEM(U8);
SAME_ELEM(I16);
SAME_ELEM(U16);
SAME_ELEM(I32);
SAME_ELEM(U32);
SAME_ELEM(I64);
SAME_ELEM(U64);
SAME_ELEM(BOOL);
SAME_ELEM(COUNT);
_Static_assert(RT_MAX_RANK == IR_MAX_RANK, "kernel shapes hold every IR shape");
_Static_assert((int)ATTR_INT == (int)RT_ATTR_INT && (int)ATTR_FLOAT == (int)RT_ATTR_FLOAT &&
                   (int)ATTR_STRING == (int)RT_ATTR_STRING && (int)ATTR_INTS == (int)RT_ATTR_INTS &&
                   (int)ATTR_FLOATS == (int)RT_ATTR_FLOATS &&
                   (int)ATTR_STRINGS == (int)RT_ATTR_STRINGS &&
                   (int)ATTR_TENSOR == (int)RT_ATTR_TENSOR,
               "RtAttrKind numbers AttrKind");

static RtTensor to_rt(const Type *t, void *data) {
  RtTensor r = {.elem = (RtElem)t->dtype, .rank = t->rank, .data = data,
                .quantized = t->quantized, .scale = t->scale, .zero_point = t->zero_point};
  memcpy(r.dims, t->dims, sizeof r.dims);
  return r;
}

/* Bytes of a static type; -1 when unknown or batched. */
static int64_t type_bytes(const Type *t) {
  int64_t n = ir_type_numel(t);
  return n < 0 ? -1 : n * (int64_t)ir_dtype_size(t->dtype);
}

bool pass_eval_kernel(const Op *op, const Tensor *const *in, Tensor *out, char *err,
                      size_t errlen) {
  if (ir_dyn_has_operands(op)) { /* the operand form: evaluate the attribute form */
    IrDynView view;
    int base = ir_dyn_base(op->kind, NULL, NULL);
    if (!ir_dyn_view(op, in + base, &view, err, errlen))
      return false;
    bool ok = pass_eval_kernel(&view.op, in, out, err, errlen);
    ir_dyn_view_free(&view);
    return ok;
  }
  RtKernel kernel = rt_ref_kernels[op->kind];
  if (!kernel)
    return ir_errf(err, errlen, "no reference kernel (a structural op)");
  int nin = op->noperands, nout = op->nresults, ntensors = 0;
  for (int i = 0; i < nin; i++) {
    int64_t bytes = type_bytes(&in[i]->type);
    if (bytes < 0)
      return ir_errf(err, errlen, "operand %d has type %s, not static", i,
                  ir_type_str(&in[i]->type));
    if (bytes > 0 && !in[i]->data)
      return ir_errf(err, errlen, "operand %d is elided", i);
    if (in[i]->data && in[i]->nbytes != (size_t)bytes)
      return ir_errf(err, errlen, "operand %d holds %zu bytes, its type %s takes %lld", i,
                  in[i]->nbytes, ir_type_str(&in[i]->type), (long long)bytes);
  }
  for (int i = 0; i < nout; i++) {
    int64_t bytes = type_bytes(&out[i].type);
    if (bytes < 0 || out[i].nbytes != (size_t)bytes)
      return ir_errf(err, errlen, "result %d has type %s, not static or not matching its buffer", i,
                  ir_type_str(&out[i].type));
  }
  for (int i = 0; i < op->nattrs; i++)
    ntensors += op->attrs[i].kind == ATTR_TENSOR;
  RtTensor *rin = malloc(sizeof *rin * (size_t)(nin + nout + ntensors + 1));
  RtAttr *attrs = malloc(sizeof *attrs * (size_t)(op->nattrs + 1));
  if (!rin || !attrs)
    abort();
  RtTensor *rout = rin + nin, *rattr = rout + nout;
  for (int i = 0; i < nin; i++)
    rin[i] = to_rt(&in[i]->type, in[i]->data);
  for (int i = 0; i < nout; i++)
    rout[i] = to_rt(&out[i].type, out[i].data);
  for (int i = 0, t = 0; i < op->nattrs; i++) {
    const Attr *a = &op->attrs[i];
    RtAttr *r = &attrs[i];
    memset(r, 0, sizeof *r);
    r->name = a->name;
    r->kind = (RtAttrKind)a->kind;
    r->n = a->n;
    switch (a->kind) {
    case ATTR_INT: r->i = a->i; break;
    case ATTR_FLOAT: r->f = a->f; break;
    case ATTR_STRING: r->s = a->s; break;
    case ATTR_INTS: r->ints = a->ints; break;
    case ATTR_FLOATS: r->floats = a->floats; break;
    case ATTR_STRINGS: r->strings = a->strings; break;
    case ATTR_TENSOR:
      rattr[t] = to_rt(&a->tensor->type, a->tensor->data);
      r->tensor = &rattr[t++];
      break;
    default: break;
    }
  }
  RtNode node = {op->kind, attrs, op->nattrs};
  char why[256] = "";
  int st = kernel(&node, rin, nin, rout, nout, why, sizeof why);
  bool ok = st == RT_OK;
  if (ok && (ir_ops[op->kind].flags & F_DATA_SHAPE)) /* trim the bound to the actual shape */
    for (int i = 0; ok && i < nout; i++) {
      Type t = out[i].type;
      t.rank = rout[i].rank;
      if (t.rank >= 0 && t.rank <= IR_MAX_RANK)
        memcpy(t.dims, rout[i].dims, sizeof t.dims[0] * (size_t)t.rank);
      int64_t bytes = t.rank >= 0 && t.rank <= IR_MAX_RANK ? type_bytes(&t) : -1;
      if (bytes < 0 || (size_t)bytes > out[i].nbytes)
        ok = ir_errf(err, errlen, "the kernel gave result %d a shape past its bound %s", i,
                  ir_type_str(&out[i].type));
      else
        out[i].type = t, out[i].nbytes = (size_t)bytes;
    }
  free(rin);
  free(attrs);
  if (st == RT_OK)
    return ok;
  return ir_errf(err, errlen, "%s", *why ? why : rt_status_str(st));
}

bool pass_eval_bound(const Op *op, const Tensor *const *in, Type *out, char *err,
                     size_t errlen) {
  int nin = op->noperands, nout = op->nresults;
  RtTensor *rin = malloc(sizeof *rin * (size_t)(nin + nout + 1));
  if (!rin)
    abort();
  RtTensor *rout = rin + nin;
  bool ok = true;
  for (int i = 0; ok && i < nin; i++) {
    ok = type_bytes(&in[i]->type) >= 0 ||
         ir_errf(err, errlen, "operand %d has type %s, not static", i, ir_type_str(&in[i]->type));
    rin[i] = to_rt(&in[i]->type, in[i]->data);
  }
  char why[256] = "";
  int st = ok ? rt_ref_bound(op->kind, rin, nin, rout, nout, why, sizeof why) : RT_OK;
  if (ok && st != RT_OK)
    ok = ir_errf(err, errlen, "%s", *why ? why : rt_status_str(st));
  for (int i = 0; ok && i < nout; i++)
    out[i] = ir_type_make((DType)rout[i].elem, rout[i].rank, rout[i].dims);
  free(rin);
  return ok;
}

/* Prefixes err (a reason) with the op's name and its first result's label. */
static bool fail_op(const Module *m, const Op *op, char *err, size_t errlen) {
  char label[128] = "", why[512];
  if (op->nresults > 0)
    ir_value_label(m, op->results[0], label, sizeof label);
  snprintf(why, sizeof why, "%s", err ? err : "");
  return ir_errf(err, errlen, "'%s' op (%s): %s", ir_op_name(op->kind), label, why);
}

bool pass_eval_op(Module *m, const Op *op, const Tensor *const *in, Tensor *out, char *err,
                  size_t errlen) {
  bool data_shape = ir_ops[op->kind].flags & F_DATA_SHAPE;
  Type *bound = data_shape ? malloc(sizeof *bound * (size_t)(op->nresults + 1)) : NULL;
  if (data_shape && (!bound || !pass_eval_bound(op, in, bound, err, errlen))) {
    free(bound);
    return fail_op(m, op, err, errlen);
  }
  for (int i = 0; i < op->nresults; i++) {
    const Type *t = data_shape ? &bound[i] : &op->results[i]->type;
    int64_t bytes = type_bytes(t);
    if (bytes < 0) {
      ir_errf(err, errlen, "result %d has type %s, not known and static", i, ir_type_str(t));
      return fail_op(m, op, err, errlen);
    }
    out[i] = (Tensor){*t, ir_arena_alloc(m->arena, (size_t)bytes), (size_t)bytes};
  }
  free(bound);
  if (!pass_eval_kernel(op, in, out, err, errlen))
    return fail_op(m, op, err, errlen);
  return true;
}

/* ---- whole modules ---- */

typedef struct Slot {
  Tensor t;
  bool set, owned; /* owned: data malloc'd by the interpreter */
} Slot;

typedef struct Interp {
  Module *m;
  Slot *slots; /* by value id */
  int64_t batch;
  char *err;
  size_t errlen;
} Interp;

/* t with a leading N replaced by the batch. */
static Type bind_batch(const Interp *ip, Type t) {
  if (ir_type_is_batched(&t))
    t.dims[0] = ip->batch;
  return t;
}

static bool run_block(Interp *ip, const Block *b);

/* Result types of op inferred from the shapes its operands have now rather than their declared
 * types: the ops after a data-dependent shape (non_zero, non_max_suppression) keep unknown types
 * in the IR, and the interpreter sizes them run by run. The operand values' types are swapped
 * for the inference and restored; a heap array (free it), or NULL with the reason in err. */
static Type *infer_on_values(const Op *op, const Tensor *const *in, char *err, size_t errlen) {
  Type saved[16];
  if (op->noperands > 16) {
    ir_errf(err, errlen, "too many operands to infer a data-dependent shape");
    return NULL;
  }
  for (int i = 0; i < op->noperands; i++) {
    saved[i] = op->operands[i].value->type;
    op->operands[i].value->type = in[i]->type;
  }
  Type *t = ir_infer_op(op, err, errlen);
  for (int i = op->noperands - 1; i >= 0; i--) /* reverse: a value read twice gets its own */
    op->operands[i].value->type = saved[i];
  return t;
}

/* Evaluates one non-structural op into fresh slots for its results. */
static bool run_op(Interp *ip, const Op *op) {
  const Tensor *inbuf[8], **in = op->noperands <= 8 ? inbuf : malloc(sizeof *in * (size_t)op->noperands);
  Tensor outbuf[4], *out = op->nresults <= 4 ? outbuf : malloc(sizeof *out * (size_t)op->nresults);
  bool ok = in && out;
  if (!ok)
    abort();
  for (int i = 0; ok && i < op->noperands; i++) {
    Slot *s = &ip->slots[op->operands[i].value->id];
    ok = s->set || ir_errf(ip->err, ip->errlen, "operand %d has no value", i);
    in[i] = &s->t;
  }
  bool data_shape = ir_ops[op->kind].flags & F_DATA_SHAPE; /* results sized by the kernel */
  Type *bound = data_shape ? malloc(sizeof *bound * (size_t)(op->nresults + 1)) : NULL;
  ok = ok && (!data_shape || (bound && pass_eval_bound(op, in, bound, ip->err, ip->errlen)));
  Type *dynamic = NULL;
  for (int i = 0; ok && !data_shape && !dynamic && i < op->nresults; i++)
    if (!ir_type_is_known(&op->results[i]->type)) {
      dynamic = infer_on_values(op, in, ip->err, ip->errlen);
      ok = dynamic != NULL;
    }
  for (int i = 0; ok && i < op->nresults; i++) {
    Type t = data_shape ? bound[i] : dynamic ? dynamic[i] : bind_batch(ip, op->results[i]->type);
    int64_t bytes = type_bytes(&t);
    ok = bytes >= 0 || ir_errf(ip->err, ip->errlen, "result %d has type %s, not known (run "
                            "infer-shapes first)", i, ir_type_str(&t));
    out[i] = (Tensor){t, ok ? calloc((size_t)(bytes > 0 ? bytes : 1), 1) : NULL,
                      (size_t)(ok ? bytes : 0)};
    ok = ok && out[i].data;
    Slot *s = &ip->slots[op->results[i]->id];
    *s = (Slot){out[i], ok, ok};
  }
  ok = ok && pass_eval_kernel(op, in, out, ip->err, ip->errlen);
  for (int i = 0; ok && data_shape && i < op->nresults; i++)
    ip->slots[op->results[i]->id].t = out[i]; /* the trimmed shape */
  free(bound);
  free(dynamic);
  if (in != inbuf)
    free((void *)in);
  if (out != outbuf)
    free(out);
  return ok || fail_op(ip->m, op, ip->err, ip->errlen);
}

/* A region op: its body, then its results are the values the body yields. */
static bool run_region(Interp *ip, const Op *op) {
  if (!run_block(ip, op->body))
    return false;
  const Op *y = op->body->last;
  if (!y || y->kind != OP_YIELD || y->noperands != op->nresults) {
    ir_errf(ip->err, ip->errlen, "the region does not end in a yield of %d values", op->nresults);
    return fail_op(ip->m, op, ip->err, ip->errlen);
  }
  for (int i = 0; i < op->nresults; i++) {
    Slot s = ip->slots[y->operands[i].value->id];
    s.owned = false; /* the yielded value's slot frees it */
    ip->slots[op->results[i]->id] = s;
  }
  return true;
}

static bool run_block(Interp *ip, const Block *b) {
  for (const Op *op = b->first; op; op = op->next) {
    if (op->kind == OP_YIELD || op->kind == OP_OUTPUT)
      continue;
    if (!(op->body ? run_region(ip, op) : run_op(ip, op)))
      return false;
  }
  return true;
}

/* Binds inputs to their slots, fixing the batch from the batched ones. */
static bool bind_inputs(Interp *ip, const Tensor *inputs, int ninputs) {
  Module *m = ip->m;
  if (ninputs != m->ninputs)
    return ir_errf(ip->err, ip->errlen, "%d inputs given, the module has %d", ninputs, m->ninputs);
  for (int i = 0; i < ninputs; i++) {
    const Value *v = m->inputs[i];
    const Type *want = &v->type, *got = &inputs[i].type;
    char name[128];
    ir_value_label(m, v, name, sizeof name);
    bool match = got->dtype == want->dtype && got->rank == want->rank;
    for (int d = 0; match && d < got->rank; d++)
      match = got->dims[d] == want->dims[d] || (d == 0 && want->dims[0] == IR_DIM_N &&
                                                 got->dims[0] >= 0);
    if (!match) {
      char g[128];
      snprintf(g, sizeof g, "%s", ir_type_str(got));
      return ir_errf(ip->err, ip->errlen, "input %s has type %s, expected %s", name, g,
                  ir_type_str(want));
    }
    if (ir_type_is_batched(want)) {
      if (ip->batch >= 0 && got->dims[0] != ip->batch)
        return ir_errf(ip->err, ip->errlen, "input %s has batch %lld, an earlier input %lld", name,
                    (long long)got->dims[0], (long long)ip->batch);
      ip->batch = got->dims[0];
    }
    int64_t bytes = type_bytes(got);
    if ((bytes > 0 && !inputs[i].data) || inputs[i].nbytes != (size_t)bytes)
      return ir_errf(ip->err, ip->errlen, "input %s holds %zu bytes, its type takes %lld", name,
                  inputs[i].nbytes, (long long)bytes);
    ip->slots[v->id] = (Slot){inputs[i], true, false};
  }
  if (ip->batch < 0)
    ip->batch = 1; /* no batched input: N, wherever it appears, is 1 */
  for (int i = 0; i < m->nweights; i++) {
    const Value *w = m->weights[i];
    if (!w->tensor || (!w->tensor->data && type_bytes(&w->type) > 0)) {
      char name[128];
      ir_value_label(m, w, name, sizeof name);
      return ir_errf(ip->err, ip->errlen, "weight %s is elided", name);
    }
    ip->slots[w->id] = (Slot){*w->tensor, true, false};
  }
  return true;
}

bool pass_interp_module(Module *m, const Tensor *inputs, int ninputs, Tensor *outputs,
                        int noutputs, char *err, size_t errlen) {
  const Op *out = ir_module_output(m);
  if (!out || out->kind != OP_OUTPUT)
    return ir_errf(err, errlen, "the module has no output op");
  if (noutputs != out->noperands)
    return ir_errf(err, errlen, "%d outputs requested, the module has %d", noutputs,
                out->noperands);
  Interp ip = {m, calloc((size_t)(m->next_id + 1), sizeof(Slot)), -1, err, errlen};
  if (!ip.slots)
    abort();
  bool ok = bind_inputs(&ip, inputs, ninputs) && run_block(&ip, &m->body);
  for (int j = 0; ok && j < noutputs; j++) {
    const Slot *s = &ip.slots[out->operands[j].value->id];
    ok = s->set || ir_errf(err, errlen, "output %d has no value", j);
    if (ok) {
      outputs[j] = (Tensor){s->t.type, ir_arena_alloc(m->arena, s->t.nbytes ? s->t.nbytes : 1),
                            s->t.nbytes};
      if (s->t.nbytes)
        memcpy(outputs[j].data, s->t.data, s->t.nbytes);
    }
  }
  for (int i = 0; i < m->next_id; i++)
    if (ip.slots[i].owned)
      free(ip.slots[i].t.data);
  free(ip.slots);
  return ok;
}
