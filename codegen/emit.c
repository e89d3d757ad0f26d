/* emit.c - cg_emit_kernel's dispatch, the device predicate cg_op_supported, and what every
 * emitter shares: value names, tensor declarations, indexing, loads and stores, the kernel's
 * opening and its one-work-item-per-element domain.
 *
 * Index arithmetic is `int`: cg_emit_kernel refuses a tensor whose elements at the largest batch
 * do not fit (GPUs divide 32-bit integers far faster than 64-bit ones). */
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emit.h"

const char *const cg_coords[IR_MAX_RANK] = {"c0", "c1", "c2", "c3", "c4", "c5", "c6", "c7"};

bool cg_fail(Emit *e, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  if (e->err && e->errlen)
    vsnprintf(e->err, e->errlen, fmt, ap);
  va_end(ap);
  return false;
}

const Module *cg_module_of(const Op *op) {
  const Block *b = op->parent;
  while (b && b->parent)
    b = b->parent->parent;
  /* The outermost block is a module's body (ops of a module are always linked under it). */
  return b ? (const Module *)((const char *)b - offsetof(Module, body)) : NULL;
}

bool cg_is_body_value(Emit *e, const Value *v) {
  if (v->kind != VAL_RESULT)
    return false;
  for (const Block *b = v->def->parent; b; b = b->parent ? b->parent->parent : NULL)
    if (b == e->fused->body)
      return true;
  return false;
}

/* The tensor slot of v: operands first, then results; -1 for a body value. */
static int tensor_slot(Emit *e, const Value *v) {
  for (int i = 0; i < e->fused->noperands; i++)
    if (e->fused->operands[i].value == v)
      return i;
  for (int i = 0; i < e->fused->nresults; i++)
    if (e->fused->results[i] == v)
      return e->fused->noperands + i;
  return -1;
}

const char *cg_name(Emit *e, const Value *v) {
  static char slots[8][24];
  static int next;
  char *s = slots[next++ % 8];
  int k = tensor_slot(e, v);
  if (k >= 0)
    snprintf(s, sizeof slots[0], "t%d", k);
  else
    snprintf(s, sizeof slots[0], "v%d", v->id);
  return s;
}

const char *cg_storage_type(DType dt) {
  switch (dt) {
  case DT_F32: return "float";
  case DT_F16: return "half";
  case DT_F64: return "double";
  case DT_I8: return "char";
  case DT_U8: return "uchar";
  case DT_I16: return "short";
  case DT_U16: return "ushort";
  case DT_I32: return "int";
  case DT_U32: return "uint";
  case DT_I64: return "long";
  case DT_U64: return "ulong";
  case DT_BOOL: return "uchar";
  default: return "float";
  }
}

const char *cg_compute_type(DType dt) {
  switch (dt) {
  case DT_F32:
  case DT_F16:
  case DT_BF16: return "float";
  case DT_F64: return "double";
  case DT_U32: return "uint";
  case DT_I64: return "long";
  case DT_U64: return "ulong";
  default: return "int"; /* i8, u8, i16, u16, i32, bool */
  }
}

void cg_tensor_decls(Emit *e) {
  int n = e->fused->noperands + e->fused->nresults;
  for (int k = 0; k < n; k++) {
    bool result = k >= e->fused->noperands;
    const Value *v = result ? e->fused->results[k - e->fused->noperands]
                            : e->fused->operands[k].value;
    if (!result && tensor_slot(e, v) != k)
      continue; /* an operand listed twice is declared once */
    const CgTensor *t = e->tensor_of(e->ctx, v);
    const char *st = cg_storage_type(v->type.dtype), *cst = result ? "" : "const ";
    const char *pool = t->pool == CG_POOL_WEIGHTS ? "wts" : "act";
    ir_buf_printf(e->src, "  __global %s%s *t%d = (__global %s%s *)(%s + %llu);\n", cst, st, k,
                  cst, st, pool, (unsigned long long)t->offset);
  }
}

void cg_index_expr(Emit *e, const Value *v, int drank, const char *const *coords, Buf *out) {
  const CgTensor *t = e->tensor_of(e->ctx, v);
  int r = v->type.rank, nterms = 0;
  ir_buf_putc(out, '(');
  for (int j = 0; j < r; j++) {
    int d = drank - r + j;
    if (d < 0 || v->type.dims[j] == 1)
      continue; /* broadcast: a dimension of 1 reads index 0 */
    ir_buf_printf(out, "%s%s", nterms++ ? " + " : "", coords[d]);
    if (t->strides[j] != 1)
      ir_buf_printf(out, "*%lld", (long long)t->strides[j]);
  }
  ir_buf_puts(out, nterms ? ")" : "0)");
}

void cg_load_expr(Emit *e, const Value *v, int drank, const char *const *coords, Buf *out) {
  Buf ix = {0};
  cg_index_expr(e, v, drank, coords, &ix);
  const char *name = cg_name(e, v);
  if (v->type.dtype == DT_F16)
    ir_buf_printf(out, "vload_half(%s, %s)", ir_buf_str(&ix), name);
  else if (strcmp(cg_storage_type(v->type.dtype), cg_compute_type(v->type.dtype)) != 0)
    ir_buf_printf(out, "((%s)%s[%s])", cg_compute_type(v->type.dtype), name, ir_buf_str(&ix));
  else
    ir_buf_printf(out, "%s[%s]", name, ir_buf_str(&ix));
  ir_buf_free(&ix);
}

void cg_store_stmt(Emit *e, const Value *v, int drank, const char *const *coords, const char *val) {
  Buf ix = {0};
  cg_index_expr(e, v, drank, coords, &ix);
  const char *name = cg_name(e, v);
  if (v->type.dtype == DT_F16)
    ir_buf_printf(e->src, "  vstore_half(%s, %s, %s);\n", val, ir_buf_str(&ix), name);
  else if (v->type.dtype == DT_BOOL)
    ir_buf_printf(e->src, "  %s[%s] = (uchar)((%s) != 0);\n", name, ir_buf_str(&ix), val);
  else
    ir_buf_printf(e->src, "  %s[%s] = (%s)(%s);\n", name, ir_buf_str(&ix),
                  cg_storage_type(v->type.dtype), val);
  ir_buf_free(&ix);
}

void cg_float_lit(Buf *out, double v) {
  float f = (float)v;
  if (f != f) {
    ir_buf_puts(out, "NAN");
  } else if (isinf(f)) {
    ir_buf_puts(out, f > 0 ? "INFINITY" : "(-INFINITY)");
  } else {
    Buf b = {0};
    ir_format_float(&b, f, DT_F32);
    ir_buf_printf(out, "%s%sf%s", f < 0 ? "(" : "", ir_buf_str(&b), f < 0 ? ")" : "");
    ir_buf_free(&b);
  }
}

const Op *cg_yield_of(const Op *fused) {
  return fused->body ? fused->body->last : NULL;
}

void cg_kernel_open(Emit *e) {
  /* The fused op with its body, printed as in a dump (its numbering of anonymous values). */
  const Module *m = cg_module_of(e->fused);
  Buf text = {0};
  if (m)
    ir_print_op(m, e->fused, &text, &(PrintOptions){.elide_constants = true});
  else
    ir_buf_puts(&text, ir_op_name(e->fused->kind));
  ir_buf_printf(e->src, "/* kiln kernel %s, implementing:\n", e->k->name);
  for (char *line = text.data; line && *line;) {
    char *end = strchr(line, '\n');
    size_t len = end ? (size_t)(end - line) : strlen(line);
    ir_buf_puts(e->src, " *   ");
    for (size_t i = 0; i < len; i++) /* no comment terminator inside the comment */
      ir_buf_putc(e->src, line[i] == '/' && i > 0 && line[i - 1] == '*' ? '|' : line[i]);
    ir_buf_putc(e->src, '\n');
    line = end ? end + 1 : line + len;
  }
  ir_buf_free(&text);
  ir_buf_printf(e->src, " */\n__kernel void %s(__global uchar *act, __global const uchar *wts, "
                        "const int batch) {\n", e->k->name);
  cg_tensor_decls(e);
}

void cg_emit_domain(Emit *e, const Type *t) {
  bool batched = ir_type_is_batched(t);
  int64_t per_item = ir_type_numel_per_item(t);
  e->k->work_dim = 1;
  e->k->global[0] = (size_t)(per_item > 0 ? per_item : 1);
  e->k->global[1] = e->k->global[2] = 1;
  e->k->local[0] = e->k->local[1] = e->k->local[2] = 0;
  e->k->batch_dim = batched ? 0 : -1;
  ir_buf_printf(e->src, "  const int gid = (int)get_global_id(0);\n  if (gid >= %lld%s) return;\n",
                (long long)per_item, batched ? " * batch" : "");
  if (t->rank == 0)
    return;
  ir_buf_puts(e->src, "  int r = gid;\n");
  for (int j = t->rank - 1; j > 0; j--)
    ir_buf_printf(e->src, "  const int %s = r %% %lld; r /= %lld;\n", cg_coords[j],
                  (long long)t->dims[j], (long long)t->dims[j]);
  ir_buf_printf(e->src, "  const int %s = r;\n", cg_coords[0]);
}

void cg_emit_yield_stores(Emit *e, int drank, const char *const *coords) {
  const Op *y = cg_yield_of(e->fused);
  for (int i = 0; i < y->noperands && i < e->fused->nresults; i++) {
    const Value *v = y->operands[i].value;
    Buf val = {0};
    if (cg_is_body_value(e, v))
      ir_buf_puts(&val, cg_name(e, v));
    else
      cg_load_expr(e, v, drank, coords, &val);
    cg_store_stmt(e, e->fused->results[i], drank, coords, ir_buf_str(&val));
    ir_buf_free(&val);
  }
}

bool cg_emit_epilogue(Emit *e, const Op *anchor, int drank, const char *const *coords) {
  const Op *stop = cg_emit_elementwise_ops(e, anchor->next, drank, coords);
  if (stop) {
    FusionKind fk = ir_ops[stop->kind].fusion;
    return fk == FK_ELEMENTWISE || fk == FK_BROADCAST
               ? false /* e->err says why */
               : cg_fail(e, "'%s' op after the '%s' op is not elementwise",
                         ir_op_name(stop->kind), ir_op_name(anchor->kind));
  }
  cg_emit_yield_stores(e, drank, coords);
  return true;
}

/* ---- dispatch ---- */

static bool is_pool(OpKind k) { return k == OP_MAX_POOL || k == OP_AVG_POOL || k == OP_LP_POOL; }

static bool is_elementwise(const Op *op) {
  FusionKind fk = ir_ops[op->kind].fusion;
  return fk == FK_ELEMENTWISE || fk == FK_BROADCAST;
}

/* Every tensor's elements at the largest batch must be addressable with an int. */
static bool check_tensor_sizes(Emit *e) {
  int64_t max_batch = e->opt && e->opt->max_batch > 0 ? e->opt->max_batch : 1;
  int n = e->fused->noperands + e->fused->nresults;
  for (int k = 0; k < n; k++) {
    const Value *v = k < e->fused->noperands ? e->fused->operands[k].value
                                             : e->fused->results[k - e->fused->noperands];
    const CgTensor *t = e->tensor_of(e->ctx, v);
    if (!t)
      return cg_fail(e, "operand or result %d has no tensor", k);
    int64_t span = 1;
    for (int j = 0; j < v->type.rank; j++) {
      int64_t d = v->type.dims[j] == IR_DIM_N ? max_batch : v->type.dims[j];
      if (d > 0)
        span += (d - 1) * (t->strides[j] < 0 ? -t->strides[j] : t->strides[j]);
    }
    if (span >= INT_MAX)
      return cg_fail(e, "tensor %d spans %lld elements: more than int indexing allows", k,
                     (long long)span);
  }
  return true;
}

bool cg_emit_kernel(const Op *fused, CgTensorFn tensor_of, void *ctx, const CgOptions *opt,
                    CgKernel *out, char *err, size_t errlen) {
  *out = (CgKernel){0};
  Buf src = {0};
  Emit e = {&src, fused, tensor_of, ctx, opt, out, err, errlen};
  if (err && errlen)
    err[0] = '\0';
  if (fused->kind != OP_FUSED || !fused->body || !cg_yield_of(fused) ||
      cg_yield_of(fused)->kind != OP_YIELD)
    return cg_fail(&e, "'%s' is not a fused op with a body ending in yield",
                   ir_op_name(fused->kind));
  const char *sym = fused->sym ? fused->sym : "kernel";
  out->name = malloc(strlen(sym) + 1);
  if (!out->name)
    abort();
  strcpy(out->name, sym[0] == '@' ? sym + 1 : sym);
  for (char *p = out->name; *p; p++)
    if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9')))
      *p = '_'; /* a C identifier */

  char why[256];
  const Op *anchor = NULL;
  bool ok = check_tensor_sizes(&e);
  for (const Op *op = fused->body->first; ok && op && op->kind != OP_YIELD; op = op->next) {
    if (!cg_op_supported(op, why, sizeof why))
      ok = cg_fail(&e, "'%s' op: %s", ir_op_name(op->kind), why);
    else if (!anchor && !is_elementwise(op))
      anchor = op;
  }
  if (ok) {
    if (!anchor)
      ok = cg_emit_elementwise_kernel(&e);
    else if (is_pool(anchor->kind))
      ok = cg_emit_pool_kernel(&e, anchor);
    else if (ir_ops[anchor->kind].fusion == FK_CONV)
      ok = cg_emit_conv_kernel(&e, anchor);
    else if (ir_ops[anchor->kind].fusion == FK_REDUCTION)
      ok = cg_emit_reduce_kernel(&e, anchor);
    else if (ir_ops[anchor->kind].fusion == FK_INJECTIVE)
      ok = cg_emit_injective_kernel(&e, anchor);
    else
      ok = cg_fail(&e, "'%s' op has no emitter", ir_op_name(anchor->kind));
  }
  if (!ok) {
    ir_buf_free(&src);
    cg_kernel_free(out);
    return false;
  }
  out->source = src.data;
  return true;
}

/* ---- the device predicate ---- */

/* The element types the emitters compute with: f32 and f16 storage (computed in float) and the
 * integer and bool tensors that casts, comparisons, where and indices need. */
static bool dtype_ok(DType dt) {
  return dt == DT_F32 || dt == DT_F16 || dt == DT_I32 || dt == DT_I64 || dt == DT_BOOL;
}

/* conv, conv_transpose, gemm and matmul with every operand f32, or every one f16 (emit_conv.c);
 * other FK_CONV kinds (integer and quantized products, einsum) have no emitter. */
static bool conv_supported(const Op *op, char *why, size_t n) {
  switch (op->kind) {
  case OP_CONV:
  case OP_CONV_TRANSPOSE:
  case OP_GEMM:
  case OP_MATMUL:
    for (int i = 0; i < op->noperands; i++) {
      DType dt = op->operands[i].value->type.dtype;
      if ((dt != DT_F32 && dt != DT_F16) || dt != op->operands[0].value->type.dtype) {
        snprintf(why, n, "operand %d is %s, operand 0 %s: one float type for all", i,
                 ir_dtype_name(dt), ir_dtype_name(op->operands[0].value->type.dtype));
        return false;
      }
    }
    break;
  default: snprintf(why, n, "no emitter for '%s'", ir_op_name(op->kind)); return false;
  }
  /* The shapes emit_conv.c handles: 1 to 3 spatial axes with a group dividing the channels;
   * gemm on matrices; matmul on operands of rank 2 or more. */
  int ra = op->operands[0].value->type.rank, rb = op->operands[1].value->type.rank;
  if (op->kind == OP_CONV || op->kind == OP_CONV_TRANSPOSE) {
    int64_t g = ir_attr_int(op, "group", 1);
    const Type *x = &op->operands[0].value->type, *y = &op->results[0]->type;
    if (ra < 3 || ra > 5 || rb != ra || y->rank != ra || g < 1 || x->dims[1] % g ||
        y->dims[1] % g) {
      snprintf(why, n, "operands of rank %d and %d, group %lld", ra, rb, (long long)g);
      return false;
    }
  } else if (ra < 2 || rb < 2 || (op->kind == OP_GEMM && (ra != 2 || rb != 2))) {
    snprintf(why, n, "operands of rank %d and %d: matrices only", ra, rb);
    return false;
  }
  return true;
}

bool cg_op_supported(const Op *op, char *why, size_t n) {
  if (why && n)
    why[0] = '\0';
  if (op->kind == OP_FUSED && op->body) { /* a kernel: every op of its body */
    char inner[200];
    for (const Op *b = op->body->first; b && b->kind != OP_YIELD; b = b->next)
      if (!cg_op_supported(b, inner, sizeof inner)) {
        snprintf(why, n, "body op '%s': %s", ir_op_name(b->kind), inner);
        return false;
      }
    return true;
  }
  for (int i = 0; i < op->noperands; i++)
    if (!dtype_ok(op->operands[i].value->type.dtype) || op->operands[i].value->type.quantized) {
      snprintf(why, n, "operand %d has element type %s%s, which codegen does not handle", i,
               ir_dtype_name(op->operands[i].value->type.dtype),
               op->operands[i].value->type.quantized ? " (quantized)" : "");
      return false;
    }
  for (int i = 0; i < op->nresults; i++)
    if (!dtype_ok(op->results[i]->type.dtype) || op->results[i]->type.quantized) {
      snprintf(why, n, "result %d has element type %s, which codegen does not handle", i,
               ir_dtype_name(op->results[i]->type.dtype));
      return false;
    }
  switch (ir_ops[op->kind].fusion) {
  case FK_ELEMENTWISE:
  case FK_BROADCAST: return cg_elementwise_supported(op, why, n);
  case FK_INJECTIVE: return cg_injective_supported(op, why, n);
  case FK_REDUCTION: return cg_reduce_supported(op, why, n);
  case FK_CONV:
    if (is_pool(op->kind))
      return cg_reduce_supported(op, why, n);
    return conv_supported(op, why, n);
  default: snprintf(why, n, "no emitter for '%s'", ir_op_name(op->kind)); return false;
  }
}
