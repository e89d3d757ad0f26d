/* memory.c - the memory plan (see memory.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ir/diag.h"
#include "memory.h"

#define ALIGN 64

static uint64_t align_up(uint64_t x) { return (x + ALIGN - 1) / ALIGN * ALIGN; }

static void *xcalloc(size_t n, size_t size) {
  void *p = calloc(n ? n : 1, size);
  if (!p)
    abort();
  return p;
}

typedef CgBuffer Buffer;

typedef struct Home {
  int state;    /* 0: not yet, 1: resolving (a cycle would be a bug), 2: done */
  int buf;      /* activation buffer, or -1 for the weights pool */
  uint64_t rel; /* bytes from the buffer's start (weights: from the pool's start) */
} Home;

typedef struct Planner {
  const Module *m;
  const CgOptions *opt;
  CgMemory *mem;
  Home *home;
  Buffer *bufs;
  int nbufs, cap_bufs;
  const Op **concat_of; /* per value id: the in-place concat it is an input of */
  char *err;
  size_t errlen;
  bool ok;
} Planner;

static bool is_view(const Op *op) {
  return !op->body && (ir_ops[op->kind].flags & F_NOOP) && op->nresults == 1;
}

static bool is_in_place_concat(const Op *op) {
  return op->kind == OP_CONCAT && ir_attr_int(op, "in_place", 0) == 1;
}

/* Bytes of t at max batch; -1 when not static. */
static int64_t bytes_of(const Planner *p, const Type *t) {
  if (!ir_type_is_known(t))
    return -1;
  int64_t n = ir_type_numel_per_item(t);
  if (ir_type_is_batched(t))
    n *= p->opt->max_batch;
  return n * (int64_t)ir_dtype_size(t->dtype);
}

static int new_buffer(Planner *p, uint64_t bytes) {
  if (p->nbufs == p->cap_bufs) {
    p->cap_bufs = p->cap_bufs ? 2 * p->cap_bufs : 64;
    p->bufs = realloc(p->bufs, sizeof *p->bufs * (size_t)p->cap_bufs);
    if (!p->bufs)
      abort();
  }
  p->bufs[p->nbufs] = (Buffer){.bytes = align_up(bytes ? bytes : 1), .first = 1 << 30, .last = -1};
  return p->nbufs++;
}

static void set_tensor(Planner *p, const Value *v, CgPool pool, const int64_t *strides) {
  CgTensor *t = &p->mem->tensor[v->id];
  t->pool = pool;
  t->type = v->type;
  if (strides)
    memcpy(t->strides, strides, sizeof t->strides);
  else
    cg_contiguous_strides(&v->type, t->strides);
}

static void resolve(Planner *p, const Value *v);

/* Whether weight v is stored in the CPU conv's layout: every op reading it is a conv that gets
 * the CPU kernel, reading it as its weights (fused and segment ops list it as a capture). */
static bool cpu_conv_weight(const Planner *p, const Value *v) {
  if (v->kind != VAL_WEIGHT || !p->opt->cpu || !v->uses)
    return false;
  bool conv = false;
  for (const Operand *u = v->uses; u; u = u->next_use) {
    OpKind k = u->owner->kind;
    if (k == OP_FUSED || k == OP_SEGMENT)
      continue;
    if (k != OP_CONV || u->index != 1 || !cg_conv_cpu_ok(u->owner, p->opt))
      return false;
    conv = true;
  }
  return conv;
}

/* The bytes weight v's storage spans (cpu_conv_weight decides its layout, here and in resolve). */
static uint64_t weight_bytes(const Planner *p, const Value *v) {
  int64_t strides[IR_MAX_RANK];
  if (cpu_conv_weight(p, v))
    return (uint64_t)cg_conv_cpu_weight_layout(&v->type, strides) * ir_dtype_size(v->type.dtype);
  return v->tensor->nbytes;
}

/* The value a segment result or a view stands for, or NULL. */
static const Value *alias_of(const Value *v) {
  if (v->kind != VAL_RESULT)
    return NULL;
  const Op *d = v->def;
  if (d->kind == OP_SEGMENT)
    return d->body->last->operands[v->index].value; /* the yield */
  if (is_view(d))
    return d->operands[0].value;
  return NULL;
}

static void resolve(Planner *p, const Value *v) {
  Home *h = &p->home[v->id];
  if (h->state == 2 || !p->ok)
    return;
  if (h->state == 1)
    abort(); /* SSA has no cycles: a bug in this file */
  h->state = 1;
  char label[96];
  ir_value_label(p->m, v, label, sizeof label);
  int64_t bytes = bytes_of(p, &v->type);
  if (bytes < 0) {
    p->ok = ir_errf(p->err, p->errlen, "%s has type %s: engines need static shapes (a shape that "
                 "depends on the data, as after non_max_suppression, is not supported yet)",
                 label, ir_type_str(&v->type));
    return;
  }
  const Value *a = alias_of(v);
  const Op *concat = p->concat_of[v->id];
  if (v->kind == VAL_WEIGHT) {
    h->buf = -1; /* placed with the weights pool */
    int64_t strides[IR_MAX_RANK];
    bool cpu = cpu_conv_weight(p, v);
    if (cpu)
      cg_conv_cpu_weight_layout(&v->type, strides);
    set_tensor(p, v, CG_POOL_WEIGHTS, cpu ? strides : NULL);
  } else if (a) {
    resolve(p, a);
    const CgTensor *base = &p->mem->tensor[a->id];
    int64_t contiguous[IR_MAX_RANK];
    cg_contiguous_strides(&a->type, contiguous);
    if (a->type.rank && memcmp(base->strides, contiguous, sizeof(int64_t) * (size_t)a->type.rank) &&
        v->def->kind != OP_SEGMENT) {
      p->ok = ir_errf(p->err, p->errlen, "%s is a view of a strided window: not supported", label);
      return;
    }
    *h = p->home[a->id];
    set_tensor(p, v, base->pool, v->def->kind == OP_SEGMENT ? base->strides : NULL);
  } else if (concat) {
    /* A window of the concat's output: its strides, offset by the inputs before it. */
    const Value *out = concat->results[0];
    resolve(p, out);
    if (!p->ok)
      return;
    const CgTensor *ct = &p->mem->tensor[out->id];
    int axis = (int)ir_attr_int(concat, "axis", 0);
    if (axis < 0)
      axis += out->type.rank;
    int64_t before = 0;
    for (int i = 0; i < concat->noperands && concat->operands[i].value != v; i++)
      before += concat->operands[i].value->type.dims[axis];
    h->buf = p->home[out->id].buf;
    h->rel = p->home[out->id].rel + (uint64_t)(before * ct->strides[axis]) * ir_dtype_size(v->type.dtype);
    set_tensor(p, v, CG_POOL_ACT, ct->strides);
  } else {
    h->buf = new_buffer(p, (uint64_t)bytes);
    set_tensor(p, v, CG_POOL_ACT, NULL);
  }
  h->state = 2;
}

/* ---- steps ---- */

static void add_step(CgMemory *mem, CgStepKind kind, const Op *op) {
  mem->steps = realloc(mem->steps, sizeof *mem->steps * (size_t)(mem->nsteps + 1));
  if (!mem->steps)
    abort();
  mem->steps[mem->nsteps++] = (CgStep){kind, op};
}

static bool collect_steps(Planner *p) {
  for (const Op *seg = p->m->body.first; seg; seg = seg->next) {
    if (seg->kind == OP_OUTPUT)
      continue;
    if (seg->kind != OP_SEGMENT)
      return ir_errf(p->err, p->errlen, "'%s' at the top level: run segment first (kiln-compile's "
                  "pipeline does)", ir_op_name(seg->kind));
    const char *target = ir_attr_string(seg, "target", "");
    bool device = strcmp(target, "device") == 0;
    if (!device && strcmp(target, "host") != 0)
      return ir_errf(p->err, p->errlen, "a segment with target '%s'", target);
    for (const Op *op = seg->body->first; op; op = op->next) {
      if (op->kind == OP_YIELD || is_view(op))
        continue;
      if (device && op->kind == OP_FUSED)
        add_step(p->mem, CG_STEP_KERNEL, op);
      else if (device && is_in_place_concat(op)) {
        for (int i = 0; i < op->noperands; i++)
          p->concat_of[op->operands[i].value->id] = op;
      } else if (device)
        return ir_errf(p->err, p->errlen, "'%s' in a device segment outside every fused op: run "
                    "fuse first", ir_op_name(op->kind));
      else if (op->body)
        return ir_errf(p->err, p->errlen, "a '%s' region in a host segment", ir_op_name(op->kind));
      else
        add_step(p->mem, CG_STEP_HOST, op);
    }
  }
  return true;
}

/* ---- liveness and placement ---- */

/* Extends the live range of v's buffer to cover step. */
static void touch(Planner *p, const Value *v, int step) {
  resolve(p, v);
  int b = p->home[v->id].buf;
  if (!p->ok || b < 0)
    return;
  Buffer *B = &p->bufs[b];
  if (step < B->first)
    B->first = step;
  if (step > B->last)
    B->last = step;
}

typedef struct BySize {
  uint64_t bytes;
  int index;
} BySize;

static int cmp_by_size(const void *a, const void *b) {
  const BySize *x = a, *y = b;
  if (x->bytes != y->bytes)
    return x->bytes > y->bytes ? -1 : 1;
  return (x->index > y->index) - (x->index < y->index);
}

static void place(Planner *p) {
  int n = p->nbufs;
  BySize *order = xcalloc((size_t)n, sizeof *order);
  for (int i = 0; i < n; i++)
    order[i] = (BySize){p->bufs[i].bytes, i};
  qsort(order, (size_t)n, sizeof *order, cmp_by_size);
  int *placed = xcalloc((size_t)n, sizeof *placed);
  int np = 0;
  uint64_t top = 0;
  for (int k = 0; k < n; k++) {
    Buffer *B = &p->bufs[order[k].index];
    /* Lowest offset clear of every placed buffer live at the same time (placed is kept sorted
     * by offset, so one pass over it finds the first gap). */
    uint64_t at = 0;
    for (int j = 0; j < np; j++) {
      const Buffer *O = &p->bufs[placed[j]];
      bool overlap_time = O->first <= B->last && B->first <= O->last;
      if (!overlap_time)
        continue;
      if (O->offset >= at + B->bytes)
        break;
      if (O->offset + O->bytes > at)
        at = O->offset + O->bytes;
    }
    B->offset = at;
    int j = np++;
    while (j > 0 && p->bufs[placed[j - 1]].offset > at) {
      placed[j] = placed[j - 1];
      j--;
    }
    placed[j] = order[k].index;
    if (at + B->bytes > top)
      top = at + B->bytes;
    p->mem->naive_bytes += B->bytes;
  }
  p->mem->act_bytes = top;
  free(order);
  free(placed);
}

bool cg_plan_memory(const Module *m, const CgOptions *opt, CgMemory *mem, char *err, size_t errlen) {
  *mem = (CgMemory){0};
  mem->ntensor = m->next_id;
  mem->tensor = xcalloc((size_t)m->next_id, sizeof *mem->tensor);
  Planner p = {.m = m, .opt = opt, .mem = mem, .err = err, .errlen = errlen, .ok = true};
  p.home = xcalloc((size_t)m->next_id, sizeof *p.home);
  p.concat_of = xcalloc((size_t)m->next_id, sizeof *p.concat_of);
  const Op *out = ir_module_output(m);
  if (!out)
    p.ok = ir_errf(err, errlen, "the module has no output op");
  p.ok = p.ok && collect_steps(&p);

  for (int i = 0; p.ok && i < m->ninputs; i++)
    touch(&p, m->inputs[i], -1);
  for (int s = 0; p.ok && s < mem->nsteps; s++) {
    const Op *op = mem->steps[s].op;
    for (int i = 0; i < op->noperands; i++)
      touch(&p, op->operands[i].value, s);
    for (int i = 0; i < op->nresults; i++)
      touch(&p, op->results[i], s);
  }
  for (int i = 0; p.ok && i < out->noperands; i++)
    touch(&p, out->operands[i].value, mem->nsteps);

  /* Constant outputs: a buffer of their own in the activation pool. */
  int *const_buf = xcalloc((size_t)(out ? out->noperands : 0) + 1, sizeof *const_buf);
  for (int i = 0; p.ok && i < out->noperands; i++) {
    const Value *v = out->operands[i].value;
    const_buf[i] = -1;
    if (p.home[v->id].buf >= 0)
      continue;
    const_buf[i] = new_buffer(&p, (uint64_t)bytes_of(&p, &v->type));
    p.bufs[const_buf[i]].first = -1;
    p.bufs[const_buf[i]].last = mem->nsteps;
  }
  if (p.ok) {
    place(&p);
    /* Weights: the ones some step reads, in module order. */
    uint64_t w = 0;
    for (int i = 0; i < m->nweights; i++) {
      const Value *v = m->weights[i];
      if (p.home[v->id].state != 2)
        continue;
      if (!v->tensor->data) {
        char label[96];
        ir_value_label(m, v, label, sizeof label);
        p.ok = ir_errf(err, errlen, "weight %s is elided: an engine needs its data", label);
        break;
      }
      p.home[v->id].rel = w;
      w += align_up(weight_bytes(&p, v));
    }
    mem->weights_bytes = w;
    for (int id = 0; id < m->next_id; id++)
      if (p.home[id].state == 2)
        mem->tensor[id].offset =
            (p.home[id].buf >= 0 ? p.bufs[p.home[id].buf].offset : 0) + p.home[id].rel;
      else
        mem->tensor[id].type = ir_type_unknown();
  }
  if (p.ok) {
    mem->noutputs = out->noperands;
    mem->const_output = xcalloc((size_t)out->noperands + 1, sizeof *mem->const_output);
    for (int i = 0; i < out->noperands; i++) {
      CgTensor *t = &mem->const_output[i];
      if (const_buf[i] < 0) {
        t->type = ir_type_unknown();
        continue;
      }
      const Value *v = out->operands[i].value;
      *t = (CgTensor){.pool = CG_POOL_ACT, .offset = p.bufs[const_buf[i]].offset, .type = v->type};
      cg_contiguous_strides(&v->type, t->strides);
    }
  }
  free(const_buf);
  mem->nbuffers = p.nbufs;
  mem->buffers = p.bufs;
  mem->buffer_of = xcalloc((size_t)m->next_id, sizeof *mem->buffer_of);
  for (int id = 0; id < m->next_id; id++)
    mem->buffer_of[id] = p.home[id].state == 2 ? p.home[id].buf : -1;
  free(p.home);
  free(p.concat_of);
  if (!p.ok)
    cg_memory_free(mem);
  return p.ok;
}

void cg_memory_free(CgMemory *mem) {
  free(mem->steps);
  free(mem->tensor);
  free(mem->buffers);
  free(mem->buffer_of);
  free(mem->const_output);
  *mem = (CgMemory){0};
}

const CgTensor *cg_memory_tensor(const CgMemory *mem, const Value *v) {
  if (v->id < 0 || v->id >= mem->ntensor || mem->tensor[v->id].type.dtype == DT_UNKNOWN)
    return NULL;
  return &mem->tensor[v->id];
}
