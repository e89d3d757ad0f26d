/* engine.c - cg_build_engine: the memory plan, the kernels and the engine plan (engine.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ir/diag.h"
#include "engine.h"

void cg_put_name(Buf *b, const char *name) {
  if (!*name) {
    ir_buf_putc(b, '%'); /* a field is never empty: a lone '%' is "" */
    return;
  }
  for (const unsigned char *p = (const unsigned char *)name; *p; p++)
    if (*p <= ' ' || *p == '%' || *p >= 0x7f)
      ir_buf_printf(b, "%%%02X", *p);
    else
      ir_buf_putc(b, (char)*p);
}

static const CgTensor *tensor_of(void *ctx, const Value *v) {
  return cg_memory_tensor(ctx, v);
}

/* ---- plan records ---- */

typedef struct Writer {
  const Module *m;
  CgEngine *e;
  int *id_of; /* value id -> plan tensor id + 1 */
  int next;
} Writer;

/* Writes the `tensor` record of t as plan tensor id (and `strides` when not contiguous). */
static int write_tensor(Writer *w, const CgTensor *t) {
  Buf *b = &w->e->plan;
  int id = w->next++;
  ir_buf_printf(b, "tensor %d %s %llu %s %d %d", id, t->pool == CG_POOL_ACT ? "act" : "weights",
                (unsigned long long)t->offset, ir_dtype_name(t->type.dtype),
                ir_type_is_batched(&t->type), t->type.rank);
  for (int i = 0; i < t->type.rank; i++)
    if (t->type.dims[i] == IR_DIM_N)
      ir_buf_puts(b, " N");
    else
      ir_buf_printf(b, " %lld", (long long)t->type.dims[i]);
  ir_buf_putc(b, '\n');
  int64_t contiguous[IR_MAX_RANK];
  cg_contiguous_strides(&t->type, contiguous);
  if (memcmp(contiguous, t->strides, sizeof(int64_t) * (size_t)t->type.rank) != 0) {
    ir_buf_puts(b, "strides");
    for (int i = 0; i < t->type.rank; i++)
      ir_buf_printf(b, " %lld", (long long)t->strides[i]);
    ir_buf_putc(b, '\n');
  }
  return id;
}

/* The plan tensor id of v, writing its record the first time. */
static int tensor_id(Writer *w, const Value *v) {
  if (!w->id_of[v->id])
    w->id_of[v->id] = write_tensor(w, cg_memory_tensor(&w->e->mem, v)) + 1;
  return w->id_of[v->id] - 1;
}

static bool write_attr(Buf *b, const Attr *a, char *err, size_t errlen) {
  ir_buf_puts(b, "attr ");
  cg_put_name(b, a->name);
  switch (a->kind) {
  case ATTR_INT: ir_buf_printf(b, " int %lld", (long long)a->i); break;
  case ATTR_FLOAT: ir_buf_printf(b, " float %.17g", a->f); break;
  case ATTR_STRING:
    ir_buf_puts(b, " string ");
    cg_put_name(b, a->s);
    break;
  case ATTR_INTS:
    ir_buf_printf(b, " ints %d", a->n);
    for (int i = 0; i < a->n; i++)
      ir_buf_printf(b, " %lld", (long long)a->ints[i]);
    break;
  case ATTR_FLOATS:
    ir_buf_printf(b, " floats %d", a->n);
    for (int i = 0; i < a->n; i++)
      ir_buf_printf(b, " %.17g", a->floats[i]);
    break;
  case ATTR_STRINGS:
    ir_buf_printf(b, " strings %d", a->n);
    for (int i = 0; i < a->n; i++) {
      ir_buf_putc(b, ' ');
      cg_put_name(b, a->strings[i]);
    }
    break;
  default:
    return ir_errf(err, errlen, "attribute '%s' is a tensor: host steps cannot carry one yet",
                a->name);
  }
  ir_buf_putc(b, '\n');
  return true;
}

static bool write_host_step(Writer *w, const Op *op, char *err, size_t errlen) {
  int *ids = malloc(sizeof *ids * (size_t)(op->noperands + op->nresults + 1));
  if (!ids)
    abort();
  for (int i = 0; i < op->noperands; i++)
    ids[i] = tensor_id(w, op->operands[i].value);
  for (int i = 0; i < op->nresults; i++)
    ids[op->noperands + i] = tensor_id(w, op->results[i]);
  Buf *b = &w->e->plan;
  ir_buf_printf(b, "host %s %d %d", ir_op_name(op->kind), op->noperands, op->nresults);
  for (int i = 0; i < op->noperands + op->nresults; i++)
    ir_buf_printf(b, " %d", ids[i]);
  ir_buf_printf(b, " attrs %d\n", op->nattrs);
  free(ids);
  for (int i = 0; i < op->nattrs; i++)
    if (!write_attr(b, &op->attrs[i], err, errlen))
      return false;
  return true;
}

static void write_kernel_step(Buf *b, const CgKernel *k) {
  ir_buf_puts(b, "kernel ");
  cg_put_name(b, k->name);
  ir_buf_printf(b, " %d", k->work_dim);
  for (int i = 0; i < k->work_dim; i++)
    ir_buf_printf(b, " %zu", k->global[i]);
  for (int i = 0; i < k->work_dim; i++)
    ir_buf_printf(b, " %zu", k->local[i]);
  ir_buf_printf(b, " %d\n", k->batch_dim);
}

/* ---- the engine ---- */

/* Copies tensor data (row-major, contiguous) to dst in the layout of strides. */
static void copy_strided(unsigned char *dst, const Tensor *src, const int64_t *strides) {
  const Type *t = &src->type;
  size_t esize = ir_dtype_size(t->dtype), n = src->nbytes / (esize ? esize : 1);
  int64_t idx[IR_MAX_RANK] = {0};
  for (size_t i = 0; i < n; i++) {
    int64_t off = 0;
    for (int d = 0; d < t->rank; d++)
      off += idx[d] * strides[d];
    memcpy(dst + (size_t)off * esize, (const unsigned char *)src->data + i * esize, esize);
    for (int d = t->rank - 1; d >= 0 && ++idx[d] == t->dims[d]; d--)
      idx[d] = 0;
  }
}

bool cg_build_engine(const Module *m, const CgOptions *opt, CgEngine *e, CgProgressFn progress,
                     void *progress_ctx, char *err, size_t errlen) {
  *e = (CgEngine){0};
  if (!cg_plan_memory(m, opt, &e->mem, err, errlen))
    return false;
  const Op *out = ir_module_output(m);
  const Attr *names = ir_op_attr(out, "names");

  /* Kernels first: a failure leaves no half-written plan behind. */
  for (int s = 0; s < e->mem.nsteps; s++)
    if (e->mem.steps[s].kind == CG_STEP_KERNEL)
      e->nkernels++;
  e->kernels = calloc((size_t)e->nkernels + 1, sizeof *e->kernels);
  if (!e->kernels)
    abort();
  for (int s = 0, k = 0; s < e->mem.nsteps; s++) {
    if (e->mem.steps[s].kind != CG_STEP_KERNEL)
      continue;
    if (!cg_emit_kernel(e->mem.steps[s].op, tensor_of, &e->mem, opt, &e->kernels[k], err,
                        errlen)) {
      cg_engine_free(e);
      return false;
    }
    ir_buf_puts(&e->source, e->kernels[k].source);
    ir_buf_putc(&e->source, '\n');
    if (progress)
      progress(progress_ctx, k, e->nkernels, &e->kernels[k]);
    k++;
  }

  Writer w = {.m = m, .e = e, .id_of = calloc((size_t)m->next_id + 1, sizeof(int))};
  if (!w.id_of)
    abort();
  Buf *b = &e->plan;
  ir_buf_printf(b, "kiln-plan 1\nmax-batch %d\npool act %llu\npool weights %llu\n",
                opt->max_batch, (unsigned long long)e->mem.act_bytes,
                (unsigned long long)e->mem.weights_bytes);
  for (int i = 0; i < m->ninputs; i++) {
    int id = tensor_id(&w, m->inputs[i]);
    ir_buf_puts(b, "input ");
    cg_put_name(b, m->inputs[i]->name ? m->inputs[i]->name : "input");
    ir_buf_printf(b, " %d\n", id);
  }
  /* A constant output is bound to its copy in the activation pool (memory.h); the copies are
   * the first steps. */
  int *copy_from = calloc((size_t)out->noperands + 1, sizeof *copy_from);
  int *copy_to = calloc((size_t)out->noperands + 1, sizeof *copy_to);
  if (!copy_from || !copy_to)
    abort();
  for (int i = 0; i < out->noperands; i++) {
    const CgTensor *ct = &e->mem.const_output[i];
    int id = tensor_id(&w, out->operands[i].value);
    copy_to[i] = -1;
    if (ct->type.dtype != DT_UNKNOWN) {
      copy_from[i] = id;
      id = copy_to[i] = write_tensor(&w, ct);
    }
    char fallback[32];
    snprintf(fallback, sizeof fallback, "output_%d", i);
    ir_buf_puts(b, "output ");
    cg_put_name(b, names && i < names->n ? names->strings[i] : fallback);
    ir_buf_printf(b, " %d\n", id);
  }
  for (int i = 0; i < out->noperands; i++)
    if (copy_to[i] >= 0)
      ir_buf_printf(b, "host identity 1 1 %d %d attrs 0\n", copy_from[i], copy_to[i]);
  free(copy_from);
  free(copy_to);
  bool ok = true;
  for (int s = 0, k = 0; ok && s < e->mem.nsteps; s++)
    if (e->mem.steps[s].kind == CG_STEP_KERNEL)
      write_kernel_step(b, &e->kernels[k++]);
    else
      ok = write_host_step(&w, e->mem.steps[s].op, err, errlen);
  free(w.id_of);

  /* The weights pool. */
  e->weights = calloc(e->mem.weights_bytes + 1, 1);
  if (!e->weights)
    abort();
  for (int i = 0; ok && i < m->nweights; i++) {
    const CgTensor *t = cg_memory_tensor(&e->mem, m->weights[i]);
    if (!t)
      continue;
    int64_t contiguous[IR_MAX_RANK];
    cg_contiguous_strides(&t->type, contiguous);
    if (memcmp(contiguous, t->strides, sizeof(int64_t) * (size_t)t->type.rank) == 0)
      memcpy(e->weights + t->offset, m->weights[i]->tensor->data, m->weights[i]->tensor->nbytes);
    else
      copy_strided(e->weights + t->offset, m->weights[i]->tensor, t->strides);
  }
  if (!ok)
    cg_engine_free(e);
  return ok;
}

void cg_engine_free(CgEngine *e) {
  for (int k = 0; k < e->nkernels; k++)
    cg_kernel_free(&e->kernels[k]);
  free(e->kernels);
  ir_buf_free(&e->source);
  ir_buf_free(&e->plan);
  free(e->weights);
  cg_memory_free(&e->mem);
  *e = (CgEngine){0};
}
