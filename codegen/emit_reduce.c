/* emit_reduce.c - reductions, normalizations and pools: one work-item per result element runs a
 * serial loop over the elements it reduces.
 *
 * The reduced operand may be a body value: the prologue (the elementwise ops before the
 * reduction) is inlined at each element the loop visits, at the operand's coordinates `iK`. The
 * epilogue (the ops after it) runs once on the reduced value, at the result coordinates `cK`.
 * Ops whose result has the operand's shape (softmax, log_softmax, hardmax, layer_norm,
 * instance_norm, lrn) recompute their statistics in every work-item of a group: simple, correct,
 * and fast enough for the small axes of inference; a work-group reduction is the next step.
 *
 * Semantics are the reference kernels' (kernels_nn.c, kernels_reduce.c, kernels_norm.c,
 * kernels_pool.c): NaN wins a max or min; log_sum_exp subtracts the maximum; softmax's axis
 * defaults to -1 (opset 13); arg_max/arg_min keep the first extreme unless select_last_index.
 * Floats accumulate in float where the reference uses double. f32 only (arg_* give i64). */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "emit.h"

static const char *const icoords[IR_MAX_RANK] = {"i0", "i1", "i2", "i3", "i4", "i5", "i6", "i7"};

static void out(Emit *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void out(Emit *e, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  ir_buf_vprintf(e->src, fmt, ap);
  va_end(ap);
}

static int norm_axis(int64_t a, int rank) { return (int)(a < 0 ? a + rank : a); }

/* Emits, in the current block, the prologue at coordinates iK and returns the C expression of
 * the op's operand 0 there (into x, cleared first). false when the prologue fails. */
static bool load_x(Emit *e, const Op *op, Buf *x) {
  const Value *v = op->operands[0].value;
  ir_buf_clear(x);
  if (!cg_is_body_value(e, v)) {
    cg_load_expr(e, v, v->type.rank, icoords, x);
    return true;
  }
  const Op *stop = cg_emit_elementwise_ops(e, e->fused->body->first, v->type.rank, icoords);
  if (stop != op)
    return stop ? false : cg_fail(e, "the prologue of '%s' does not reach it", ir_op_name(op->kind));
  ir_buf_puts(x, cg_name(e, v));
  return true;
}

/* ---- reductions over axes: reduce_*, global pools, arg_max/arg_min ---- */

/* Which axes of x op reduces, and whether they are kept as 1. */
static void reduced_axes(const Op *op, bool *mark, bool *keep) {
  const Type *x = &op->operands[0].value->type;
  int r = x->rank;
  memset(mark, 0, sizeof(bool) * IR_MAX_RANK);
  *keep = ir_attr_int(op, "keepdims", 1) != 0;
  switch (op->kind) {
  case OP_GLOBAL_AVG_POOL:
  case OP_GLOBAL_MAX_POOL:
    for (int d = 2; d < r; d++)
      mark[d] = true;
    *keep = true;
    return;
  case OP_ARG_MAX:
  case OP_ARG_MIN: mark[norm_axis(ir_attr_int(op, "axis", 0), r)] = true; return;
  default: break;
  }
  const int64_t *axes;
  int na = ir_attr_ints(op, "axes", &axes);
  for (int i = 0; i < na; i++)
    mark[norm_axis(axes[i], r)] = true;
  if (na <= 0 && !ir_attr_int(op, "noop_with_empty_axes", 0))
    for (int d = 0; d < r; d++)
      mark[d] = true;
}

/* Opens one loop per reduced axis and defines iK for every axis of x. */
static void open_loops(Emit *e, const Type *x, const bool *mark, bool keep, int64_t *group) {
  int j = 0;
  *group = 1;
  for (int d = 0; d < x->rank; d++) {
    if (mark[d]) {
      out(e, "  for (int i%d = 0; i%d < %lld; i%d++) {\n", d, d, (long long)x->dims[d], d);
      *group *= x->dims[d];
      if (keep)
        j++;
    } else {
      out(e, "  { const int i%d = c%d;\n", d, keep ? d : j++);
    }
  }
}

static void close_loops(Emit *e, int rank) {
  for (int d = 0; d < rank; d++)
    out(e, "  }\n");
}

static bool emit_reduce(Emit *e, const Op *op, const char *v) {
  const Type *x = &op->operands[0].value->type;
  bool mark[IR_MAX_RANK], keep;
  reduced_axes(op, mark, &keep);
  OpKind k = op->kind;
  bool is_max = k == OP_REDUCE_MAX || k == OP_GLOBAL_MAX_POOL, is_min = k == OP_REDUCE_MIN;
  bool arg = k == OP_ARG_MAX || k == OP_ARG_MIN, lse = k == OP_REDUCE_LOG_SUM_EXP;
  int64_t group;
  Buf xv = {0};
  if (lse) { /* the maximum first */
    out(e, "  float mx = -INFINITY;\n");
    open_loops(e, x, mark, keep, &group);
    if (!load_x(e, op, &xv))
      return false;
    out(e, "  { const float xv = %s; mx = xv > mx || isnan(xv) ? xv : mx; }\n", ir_buf_str(&xv));
    close_loops(e, x->rank);
  }
  if (arg)
    out(e, "  long best = -1; float bv = 0.0f; int pos = 0;\n");
  else
    out(e, "  float acc = %s;\n", is_max ? "-INFINITY" : is_min ? "INFINITY"
                                  : k == OP_REDUCE_PROD ? "1.0f" : "0.0f");
  open_loops(e, x, mark, keep, &group);
  if (!load_x(e, op, &xv))
    return false;
  out(e, "  { const float xv = %s;\n", ir_buf_str(&xv));
  ir_buf_free(&xv);
  switch (k) {
  case OP_REDUCE_MAX:
  case OP_GLOBAL_MAX_POOL: out(e, "    acc = xv > acc || isnan(xv) ? xv : acc;\n"); break;
  case OP_REDUCE_MIN: out(e, "    acc = xv < acc || isnan(xv) ? xv : acc;\n"); break;
  case OP_REDUCE_PROD: out(e, "    acc *= xv;\n"); break;
  case OP_REDUCE_L1: out(e, "    acc += fabs(xv);\n"); break;
  case OP_REDUCE_L2:
  case OP_REDUCE_SUM_SQUARE: out(e, "    acc += xv * xv;\n"); break;
  case OP_REDUCE_LOG_SUM_EXP: out(e, "    acc += isinf(mx) ? exp(xv) : exp(xv - mx);\n"); break;
  case OP_ARG_MAX:
  case OP_ARG_MIN: {
    bool last = ir_attr_int(op, "select_last_index", 0) != 0;
    const char *gt = k == OP_ARG_MAX ? ">" : "<", *lt = k == OP_ARG_MAX ? "<" : ">";
    out(e, "    const int c = best < 0 ? 1 : xv %s bv ? 1 : xv %s bv ? -1 : 0;\n", gt, lt);
    out(e, "    if (c > 0%s) { best = pos; bv = xv; }\n    pos++;\n", last ? " || c == 0" : "");
    break;
  }
  default: out(e, "    acc += xv;\n"); break; /* sum, mean, log_sum, global_avg_pool */
  }
  out(e, "  }\n");
  close_loops(e, x->rank);
  const char *ct = cg_compute_type(op->results[0]->type.dtype);
  switch (k) {
  case OP_REDUCE_MEAN:
  case OP_GLOBAL_AVG_POOL: out(e, "  const %s %s = acc / %lld.0f;\n", ct, v, (long long)group); break;
  case OP_REDUCE_L2: out(e, "  const %s %s = sqrt(acc);\n", ct, v); break;
  case OP_REDUCE_LOG_SUM: out(e, "  const %s %s = log(acc);\n", ct, v); break;
  case OP_REDUCE_LOG_SUM_EXP:
    out(e, "  const %s %s = log(acc) + (isinf(mx) ? 0.0f : mx);\n", ct, v);
    break;
  case OP_ARG_MAX:
  case OP_ARG_MIN: out(e, "  const %s %s = best < 0 ? 0 : best;\n", ct, v); break;
  default: out(e, "  const %s %s = acc;\n", ct, v); break;
  }
  return true;
}

/* ---- ops whose result has the operand's shape ---- */

/* Loops over axes [from, to) of x; iK = cK on the others. */
static void open_span(Emit *e, const Type *x, int from, int to) {
  for (int d = 0; d < x->rank; d++)
    if (d >= from && d < to)
      out(e, "  for (int i%d = 0; i%d < %lld; i%d++) {\n", d, d, (long long)x->dims[d], d);
    else
      out(e, "  { const int i%d = c%d;\n", d, d);
}

/* The value of operand 0 at the result coordinates (the prologue inlined again). */
static bool x_here(Emit *e, const Op *op, const char *name) {
  const Type *x = &op->operands[0].value->type;
  Buf xv = {0};
  for (int d = 0; d < x->rank; d++)
    out(e, "  const int i%d = c%d;\n", d, d);
  if (!load_x(e, op, &xv))
    return false;
  out(e, "  const float %s = %s;\n", name, ir_buf_str(&xv));
  ir_buf_free(&xv);
  return true;
}

/* One loop over axes [from, to) accumulating stmt (with xv the element) into declared state. */
static bool span_pass(Emit *e, const Op *op, int from, int to, const char *stmt) {
  const Type *x = &op->operands[0].value->type;
  Buf xv = {0};
  open_span(e, x, from, to);
  if (!load_x(e, op, &xv))
    return false;
  out(e, "  { const float xv = %s; %s }\n", ir_buf_str(&xv), stmt);
  ir_buf_free(&xv);
  close_loops(e, x->rank);
  return true;
}

static bool emit_softmax(Emit *e, const Op *op, const char *v) {
  const Type *x = &op->operands[0].value->type;
  int a = norm_axis(ir_attr_int(op, "axis", -1), x->rank);
  out(e, "  float mx = -INFINITY, sum = 0.0f; int arg = -1;\n");
  char first[80]; /* the first largest element, as the reference picks it */
  snprintf(first, sizeof first, "if (arg < 0 || xv > mx) { mx = xv; arg = i%d; }", a);
  if (!span_pass(e, op, a, a + 1, first))
    return false;
  if (op->kind == OP_HARDMAX) {
    out(e, "  const float %s = c%d == arg ? 1.0f : 0.0f;\n", v, a);
    return true;
  }
  if (!span_pass(e, op, a, a + 1, "sum += exp(xv - mx);") || !x_here(e, op, "xc"))
    return false;
  if (op->kind == OP_SOFTMAX)
    out(e, "  const float %s = exp(xc - mx) / sum;\n", v);
  else
    out(e, "  const float %s = xc - (mx + log(sum));\n", v);
  return true;
}

/* layer_norm over axes [axis, rank), instance_norm over the spatial axes: mean, variance, then
 * (x - mean) / sqrt(var + epsilon) * scale + bias. */
static bool emit_norm(Emit *e, const Op *op, const char *v) {
  const Type *x = &op->operands[0].value->type;
  int r = x->rank;
  bool layer = op->kind == OP_LAYER_NORM;
  int from = layer ? norm_axis(ir_attr_int(op, "axis", -1), r) : 2;
  int64_t len = 1;
  for (int d = from; d < r; d++)
    len *= x->dims[d];
  out(e, "  float mean = 0.0f, var = 0.0f;\n");
  if (!span_pass(e, op, from, r, "mean += xv;"))
    return false;
  out(e, "  mean /= %lld.0f;\n", (long long)len);
  if (!span_pass(e, op, from, r, "var += (xv - mean) * (xv - mean);"))
    return false;
  out(e, "  var /= %lld.0f;\n", (long long)len);
  if (!x_here(e, op, "xc"))
    return false;
  Buf s = {0}, b = {0};
  const char *chan[1] = {"c1"};
  if (layer) {
    cg_load_expr(e, op->operands[1].value, r, cg_coords, &s);
    if (op->noperands > 2)
      cg_load_expr(e, op->operands[2].value, r, cg_coords, &b);
    else
      ir_buf_puts(&b, "0.0f");
  } else {
    cg_load_expr(e, op->operands[1].value, 1, chan, &s);
    cg_load_expr(e, op->operands[2].value, 1, chan, &b);
  }
  out(e, "  const float %s = (xc - mean) * (1.0f / sqrt(var + ", v);
  cg_float_lit(e->src, (float)ir_attr_float(op, "epsilon", 1e-5f));
  out(e, ")) * %s + %s;\n", ir_buf_str(&s), ir_buf_str(&b));
  ir_buf_free(&s);
  ir_buf_free(&b);
  return true;
}

/* lrn: x / (bias + alpha / size * sum of x^2 over a channel window)^beta. */
static bool emit_lrn(Emit *e, const Op *op, const char *v) {
  const Type *x = &op->operands[0].value->type;
  int64_t size = ir_attr_int(op, "size", 1), lo = (size - 1) / 2, hi = size - 1 - lo;
  out(e, "  float sq = 0.0f;\n");
  out(e, "  for (int i1 = max(c1 - %lld, 0); i1 <= min(c1 + %lld, %lld); i1++) {\n", (long long)lo,
      (long long)hi, (long long)(x->dims[1] - 1));
  for (int d = 0; d < x->rank; d++)
    if (d != 1)
      out(e, "  const int i%d = c%d;\n", d, d);
  Buf xv = {0};
  if (!load_x(e, op, &xv))
    return false;
  out(e, "  { const float xv = %s; sq += xv * xv; }\n  }\n", ir_buf_str(&xv));
  ir_buf_free(&xv);
  if (!x_here(e, op, "xc"))
    return false;
  out(e, "  const float %s = xc / pow(", v);
  cg_float_lit(e->src, (float)ir_attr_float(op, "bias", 1.0));
  out(e, " + ");
  cg_float_lit(e->src, (float)ir_attr_float(op, "alpha", 1e-4f) / (double)size);
  out(e, " * sq, ");
  cg_float_lit(e->src, (float)ir_attr_float(op, "beta", 0.75f));
  out(e, ");\n");
  return true;
}

/* ---- pools ---- */

static void spatial(const Op *op, const char *name, int nsp, int64_t dflt, int64_t *v) {
  const int64_t *a;
  int n = ir_attr_ints(op, name, &a);
  for (int i = 0; i < nsp; i++)
    v[i] = n == nsp ? a[i] : dflt;
}

static bool emit_pool(Emit *e, const Op *op, const char *v) {
  const Type *x = &op->operands[0].value->type;
  int nsp = x->rank - 2;
  int64_t k[IR_MAX_RANK], s[IR_MAX_RANK], dl[IR_MAX_RANK], pads[2 * IR_MAX_RANK];
  spatial(op, "kernel_shape", nsp, 1, k);
  spatial(op, "strides", nsp, 1, s);
  spatial(op, "dilations", nsp, 1, dl);
  const int64_t *pa;
  int np = ir_attr_ints(op, "pads", &pa);
  for (int i = 0; i < 2 * nsp; i++)
    pads[i] = np == 2 * nsp ? pa[i] : 0;
  bool cip = ir_attr_int(op, "count_include_pad", 0) != 0;
  long long p = (long long)ir_attr_int(op, "p", 2);
  out(e, "  float acc = %s; int cnt = 0; bool any = false;\n",
      op->kind == OP_MAX_POOL ? "-INFINITY" : "0.0f");
  out(e, "  const int i0 = c0, i1 = c1;\n");
  if (op->kind == OP_LP_POOL)
    out(e, "  const float P = %lld.0f;\n", p);
  for (int d = 0; d < nsp; d++) {
    int a = d + 2;
    out(e, "  for (int k%d = 0; k%d < %lld; k%d++) {\n", a, a, (long long)k[d], a);
    out(e, "  const int i%d = c%d * %lld - %lld + k%d * %lld;\n", a, a, (long long)s[d],
        (long long)pads[d], a, (long long)dl[d]);
  }
  out(e, "  bool inside = true, padded = true;\n");
  for (int d = 0; d < nsp; d++) {
    int a = d + 2;
    out(e, "  inside = inside && i%d >= 0 && i%d < %lld;\n", a, a, (long long)x->dims[a]);
    out(e, "  padded = padded && i%d >= %lld && i%d < %lld;\n", a, -(long long)pads[d], a,
        (long long)(x->dims[a] + pads[nsp + d]));
  }
  out(e, "  cnt += %s;\n  if (inside) {\n", cip ? "padded" : "inside");
  Buf xv = {0};
  if (!load_x(e, op, &xv))
    return false;
  out(e, "  const float xv = %s;\n", ir_buf_str(&xv));
  ir_buf_free(&xv);
  if (op->kind == OP_MAX_POOL)
    out(e, "  if (!any || xv > acc || (isnan(xv) && !isnan(acc))) acc = xv;\n  any = true;\n");
  else if (op->kind == OP_AVG_POOL)
    out(e, "  acc += xv;\n");
  else
    out(e, "  acc += %s;\n", p == 1 ? "fabs(xv)" : p == 2 ? "xv * xv" : "pow(fabs(xv), (float)P)");
  out(e, "  }\n");
  for (int d = 0; d < nsp; d++)
    out(e, "  }\n");
  if (op->kind == OP_MAX_POOL)
    out(e, "  const float %s = acc;\n", v);
  else if (op->kind == OP_AVG_POOL)
    out(e, "  const float %s = cnt ? acc / (float)cnt : NAN;\n", v);
  else
    out(e, "  const float %s = %s;\n", v, p == 1 ? "acc" : p == 2 ? "sqrt(acc)" : "pow(acc, 1.0f / P)");
  return true;
}

/* ---- the kernel ---- */

static bool is_pool(OpKind k) { return k == OP_MAX_POOL || k == OP_AVG_POOL || k == OP_LP_POOL; }

static bool emit_anchor(Emit *e, const Op *op) {
  const Type *dom = &op->results[0]->type;
  for (int i = 0; i < e->fused->nresults; i++) {
    const Type *t = &e->fused->results[i]->type;
    if (t->rank != dom->rank || memcmp(t->dims, dom->dims, sizeof(int64_t) * (size_t)t->rank))
      return cg_fail(e, "result %d differs in shape from the '%s' op's", i, ir_op_name(op->kind));
  }
  for (int i = 1; i < op->noperands; i++)
    if (cg_is_body_value(e, op->operands[i].value))
      return cg_fail(e, "'%s' op: operand %d is computed in the kernel", ir_op_name(op->kind), i);
  for (int i = 1; i < op->nresults; i++)
    if (ir_value_has_uses(op->results[i]))
      return cg_fail(e, "'%s' op: result %d is used (only result 0 is emitted)",
                     ir_op_name(op->kind), i);
  cg_kernel_open(e);
  cg_emit_domain(e, dom);
  char v[24];
  snprintf(v, sizeof v, "%s", cg_name(e, op->results[0]));
  bool ok;
  switch (op->kind) {
  case OP_SOFTMAX:
  case OP_LOG_SOFTMAX:
  case OP_HARDMAX: ok = emit_softmax(e, op, v); break;
  case OP_LAYER_NORM:
  case OP_INSTANCE_NORM: ok = emit_norm(e, op, v); break;
  case OP_LRN: ok = emit_lrn(e, op, v); break;
  case OP_MAX_POOL:
  case OP_AVG_POOL:
  case OP_LP_POOL: ok = emit_pool(e, op, v); break;
  default: ok = emit_reduce(e, op, v); break;
  }
  if (!ok)
    return false;
  if (!cg_emit_epilogue(e, op, dom->rank, cg_coords))
    return false;
  out(e, "}\n");
  return true;
}

bool cg_emit_reduce_kernel(Emit *e, const Op *op) { return emit_anchor(e, op); }

bool cg_emit_pool_kernel(Emit *e, const Op *op) {
  if (!is_pool(op->kind))
    return cg_fail(e, "'%s' op is not a pool", ir_op_name(op->kind));
  return emit_anchor(e, op);
}

/* ---- the predicate ---- */

static bool no(char *why, size_t n, const char *msg) {
  snprintf(why, n, "%s", msg);
  return false;
}

bool cg_reduce_supported(const Op *op, char *why, size_t n) {
  const Type *x = &op->operands[0].value->type;
  int r = x->rank;
  bool batched = ir_type_is_batched(x);
  if (x->dtype != DT_F32 && x->dtype != DT_F16)
    return no(why, n, "the operand is not f32 or f16");
  for (int i = 0; i < op->noperands; i++)
    if (op->operands[i].value->type.dtype != x->dtype)
      return no(why, n, "the operands differ in element type");
  for (int d = 0; d < r; d++)
    if (x->dims[d] == 0)
      return no(why, n, "an empty axis");
  /* emit_anchor writes result 0 only (layer_norm's mean and inv_std_dev are not emitted). */
  for (int i = 1; i < op->nresults; i++)
    if (ir_value_has_uses(op->results[i]))
      return no(why, n, "a result other than the first is used (only result 0 is emitted)");
  switch (op->kind) {
  case OP_REDUCE_MEAN: case OP_REDUCE_SUM: case OP_REDUCE_MAX: case OP_REDUCE_MIN:
  case OP_REDUCE_PROD: case OP_REDUCE_L1: case OP_REDUCE_L2: case OP_REDUCE_LOG_SUM:
  case OP_REDUCE_LOG_SUM_EXP: case OP_REDUCE_SUM_SQUARE:
  case OP_ARG_MAX: case OP_ARG_MIN:
  case OP_GLOBAL_AVG_POOL: case OP_GLOBAL_MAX_POOL: {
    if (op->noperands != 1)
      return no(why, n, "axes as an operand (not an attribute)");
    if ((op->kind == OP_GLOBAL_AVG_POOL || op->kind == OP_GLOBAL_MAX_POOL) && r < 2)
      return no(why, n, "a global pool of rank less than 2");
    bool mark[IR_MAX_RANK], keep;
    reduced_axes(op, mark, &keep);
    return !(batched && mark[0]) || no(why, n, "a reduction over the batch axis N");
  }
  case OP_SOFTMAX:
  case OP_LOG_SOFTMAX:
  case OP_HARDMAX:
    return !(batched && norm_axis(ir_attr_int(op, "axis", -1), r) == 0) ||
           no(why, n, "softmax over the batch axis N");
  case OP_LAYER_NORM:
    return !(batched && norm_axis(ir_attr_int(op, "axis", -1), r) == 0) ||
           no(why, n, "layer_norm over the batch axis N");
  case OP_INSTANCE_NORM:
    return (r >= 2 && op->operands[1].value->type.rank == 1 &&
            op->operands[2].value->type.rank == 1) ||
           no(why, n, "instance_norm needs rank 2 or more and one scale and bias per channel");
  case OP_LRN: return (r >= 2 && ir_attr_int(op, "size", 0) >= 1) || no(why, n, "lrn size");
  case OP_MAX_POOL:
  case OP_AVG_POOL:
  case OP_LP_POOL:
    if (r < 3 || op->nresults != 1)
      return no(why, n, "a pool of rank less than 3, or max_pool's indices");
    return (op->kind != OP_LP_POOL || ir_attr_int(op, "p", 2) >= 1) || no(why, n, "lp_pool p < 1");
  default: break;
  }
  snprintf(why, n, "no emitter for '%s'", ir_op_name(op->kind));
  return false;
}
