/* emit_elementwise.c - the OpenCL C expression of every elementwise and broadcast op, the
 * inlined chains of them (whole kernels, prologues and epilogues), and their device predicate.
 *
 * Semantics are the reference kernels' (runtime/ref/elementwise.c, kernels_elementwise.c,
 * kernels_math.c), attribute defaults included, computed in float where the reference computes
 * in double and rounds once: results agree to a few ulp. Integers compute in int (i32, bool) or
 * long (i64): division truncates, mod follows the divisor's sign unless fmod = 1. Comparisons
 * and logical ops give int 0 or 1. Inputs the reference refuses at run time (an integer zero
 * divisor, a float cast out of an integer's range) give unspecified values here. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emit.h"

static DType in_dt(const Op *op, int i) { return op->operands[i].value->type.dtype; }
static DType out_dt(const Op *op) { return op->results[0]->type.dtype; }
/* Float storage: f32, or f16 loaded and stored as halves and computed in float. */
static bool is_f(DType dt) { return dt == DT_F32 || dt == DT_F16; }
static bool is_i(DType dt) { return dt == DT_I32 || dt == DT_I64; }

static void lit(Buf *b, double v) { cg_float_lit(b, v); }

/* An integer bound of a float clip limit (lower: ceil, upper: floor), saturating to the type;
 * has[0] false when the limit bounds nothing. */
static void int_bound(Buf *b, double v, bool lower, DType dt, bool *has) {
  double lim = dt == DT_I64 ? 0x1p63 : 0x1p31;
  *has = !(v != v) && (lower ? v > -lim : v < lim);
  if (!*has)
    return;
  v = lower ? ceil(v) : floor(v);
  if (v >= lim)
    v = lim - 1;
  if (v < -lim)
    v = -lim;
  ir_buf_printf(b, "(%lld%s)", (long long)v, dt == DT_I64 ? "L" : "");
}

static bool unary_float(const Op *op, const char *a, Buf *o) {
  switch (op->kind) {
  case OP_RELU: ir_buf_printf(o, "(%s < 0.0f ? 0.0f : %s)", a, a); return true;
  case OP_SIGMOID: ir_buf_printf(o, "(1.0f / (1.0f + exp(-(%s))))", a); return true;
  case OP_TANH: ir_buf_printf(o, "tanh(%s)", a); return true;
  case OP_EXP: ir_buf_printf(o, "exp(%s)", a); return true;
  case OP_LOG: ir_buf_printf(o, "log(%s)", a); return true;
  case OP_SQRT: ir_buf_printf(o, "sqrt(%s)", a); return true;
  case OP_ABS: ir_buf_printf(o, "fabs(%s)", a); return true;
  case OP_NEG: ir_buf_printf(o, "(-(%s))", a); return true;
  case OP_RECIPROCAL: ir_buf_printf(o, "(1.0f / (%s))", a); return true;
  case OP_FLOOR: ir_buf_printf(o, "floor(%s)", a); return true;
  case OP_CEIL: ir_buf_printf(o, "ceil(%s)", a); return true;
  case OP_ERF: ir_buf_printf(o, "erf(%s)", a); return true;
  case OP_SOFTPLUS:
    ir_buf_printf(o, "(%s > 0.0f ? %s + log1p(exp(-(%s))) : log1p(exp(%s)))", a, a, a, a);
    return true;
  case OP_MISH:
    ir_buf_printf(o, "(%s * tanh(%s > 0.0f ? %s + log1p(exp(-(%s))) : log1p(exp(%s))))", a, a, a,
                  a, a);
    return true;
  case OP_HARD_SWISH:
    ir_buf_printf(o, "(%s * fmin(fmax(%s / 6.0f + 0.5f, 0.0f), 1.0f))", a, a);
    return true;
  case OP_LEAKY_RELU:
    ir_buf_printf(o, "(%s < 0.0f ? ", a);
    lit(o, (float)ir_attr_float(op, "alpha", 0.01f));
    ir_buf_printf(o, " * %s : %s)", a, a);
    return true;
  case OP_ELU:
    ir_buf_printf(o, "(%s < 0.0f ? ", a);
    lit(o, (float)ir_attr_float(op, "alpha", 1.0));
    ir_buf_printf(o, " * expm1(%s) : %s)", a, a);
    return true;
  case OP_HARD_SIGMOID:
    ir_buf_puts(o, "fmin(fmax(");
    lit(o, (float)ir_attr_float(op, "alpha", 0.2f));
    ir_buf_printf(o, " * %s + ", a);
    lit(o, (float)ir_attr_float(op, "beta", 0.5f));
    ir_buf_puts(o, ", 0.0f), 1.0f)");
    return true;
  case OP_GELU: {
    const char *mode = ir_attr_string(op, "approximate", "none");
    if (strcmp(mode, "tanh") == 0)
      ir_buf_printf(o, "(0.5f * %s * (1.0f + tanh(0.7978845608f * (%s + 0.044715f * %s * %s * %s))))",
                    a, a, a, a, a);
    else if (strcmp(mode, "none") == 0)
      ir_buf_printf(o, "(0.5f * %s * (1.0f + erf(%s * 0.70710678118654752f)))", a, a);
    else
      return false;
    return true;
  }
  case OP_CLIP: {
    Buf lo = {0}, hi = {0};
    lit(&lo, (float)ir_attr_float(op, "min", -INFINITY));
    lit(&hi, (float)ir_attr_float(op, "max", INFINITY));
    ir_buf_printf(o, "(%s < %s ? %s : %s > %s ? %s : %s)", a, lo.data, lo.data, a, hi.data,
                  hi.data, a);
    ir_buf_free(&lo);
    ir_buf_free(&hi);
    return true;
  }
  case OP_SIN: case OP_COS: case OP_TAN: case OP_ASIN: case OP_ACOS: case OP_ATAN:
  case OP_SINH: case OP_COSH: case OP_ASINH: case OP_ACOSH: case OP_ATANH:
    ir_buf_printf(o, "%s(%s)", ir_op_name(op->kind), a);
    return true;
  case OP_SIGN:
    ir_buf_printf(o, "(%s > 0.0f ? 1.0f : %s < 0.0f ? -1.0f : %s == 0.0f ? 0.0f : %s)", a, a, a, a);
    return true;
  case OP_ROUND: ir_buf_printf(o, "rint(%s)", a); return true; /* half to even */
  case OP_SOFTSIGN: ir_buf_printf(o, "(%s / (1.0f + fabs(%s)))", a, a); return true;
  case OP_SELU: {
    Buf al = {0}, ga = {0};
    lit(&al, (float)ir_attr_float(op, "alpha", 1.67326319217681884765625f));
    lit(&ga, (float)ir_attr_float(op, "gamma", 1.05070102214813232421875f));
    ir_buf_printf(o, "(%s > 0.0f ? %s * %s : %s * (%s * exp(%s) - %s))", a, ga.data, a, ga.data,
                  al.data, a, al.data);
    ir_buf_free(&al);
    ir_buf_free(&ga);
    return true;
  }
  case OP_CELU: {
    Buf al = {0};
    lit(&al, (float)ir_attr_float(op, "alpha", 1.0));
    ir_buf_printf(o, "(fmax(0.0f, %s) + fmin(0.0f, %s * (exp(%s / %s) - 1.0f)))", a, al.data, a,
                  al.data);
    ir_buf_free(&al);
    return true;
  }
  case OP_THRESHOLDED_RELU:
    ir_buf_printf(o, "(%s > ", a);
    lit(o, (float)ir_attr_float(op, "alpha", 1.0));
    ir_buf_printf(o, " ? %s : 0.0f)", a);
    return true;
  case OP_SHRINK: {
    Buf bias = {0}, la = {0};
    lit(&bias, (float)ir_attr_float(op, "bias", 0.0));
    lit(&la, (float)ir_attr_float(op, "lambd", 0.5));
    ir_buf_printf(o, "(%s < -%s ? %s + %s : %s > %s ? %s - %s : 0.0f)", a, la.data, a, bias.data,
                  a, la.data, a, bias.data);
    ir_buf_free(&bias);
    ir_buf_free(&la);
    return true;
  }
  default: return false;
  }
}

/* relu, abs, neg, clip and sign on i32/i64. */
static bool unary_int(const Op *op, const char *a, Buf *o) {
  DType dt = in_dt(op, 0);
  switch (op->kind) {
  case OP_RELU: ir_buf_printf(o, "(%s < 0 ? 0 : %s)", a, a); return true;
  case OP_ABS: ir_buf_printf(o, "(%s < 0 ? -(%s) : %s)", a, a, a); return true;
  case OP_NEG: ir_buf_printf(o, "(-(%s))", a); return true;
  case OP_SIGN: ir_buf_printf(o, "((%s > 0) - (%s < 0))", a, a); return true;
  case OP_CLIP: {
    Buf lo = {0}, hi = {0};
    bool has_lo, has_hi;
    int_bound(&lo, ir_attr_float(op, "min", -INFINITY), true, dt, &has_lo);
    int_bound(&hi, ir_attr_float(op, "max", INFINITY), false, dt, &has_hi);
    Buf in = {0};
    if (has_lo)
      ir_buf_printf(&in, "(%s < %s ? %s : %s)", a, lo.data, lo.data, a);
    else
      ir_buf_puts(&in, a);
    if (has_hi)
      ir_buf_printf(o, "(%s > %s ? %s : %s)", in.data, hi.data, hi.data, in.data);
    else
      ir_buf_puts(o, in.data);
    ir_buf_free(&lo);
    ir_buf_free(&hi);
    ir_buf_free(&in);
    return true;
  }
  default: return false;
  }
}

static bool cast_expr(const Op *op, const char *a, Buf *o) {
  DType from = in_dt(op, 0), to = out_dt(op);
  if (to == DT_BOOL)
    ir_buf_printf(o, "(%s != %s)", a, is_f(from) ? "0.0f" : "0");
  else
    ir_buf_printf(o, "((%s)(%s))", cg_compute_type(to), a);
  return true;
}

/* Variadic max/min/sum/mean over n operands. */
static bool variadic(const Op *op, const char *const *args, Buf *o) {
  int n = op->noperands;
  bool f = is_f(out_dt(op));
  if (op->kind == OP_SUM || op->kind == OP_MEAN) {
    ir_buf_puts(o, "(");
    if (op->kind == OP_MEAN)
      ir_buf_puts(o, "(");
    for (int i = 0; i < n; i++)
      ir_buf_printf(o, "%s%s", i ? " + " : "", args[i]);
    if (op->kind == OP_MEAN)
      ir_buf_printf(o, ") / %d.0f", n);
    ir_buf_puts(o, ")");
    return true;
  }
  const char *fn = op->kind == OP_MAX ? (f ? "fmax" : "max") : (f ? "fmin" : "min");
  Buf acc = {0};
  ir_buf_puts(&acc, args[0]);
  for (int i = 1; i < n; i++) {
    Buf next = {0};
    ir_buf_printf(&next, "%s(%s, %s)", fn, acc.data, args[i]);
    ir_buf_free(&acc);
    acc = next;
  }
  if (f && n > 1) { /* the reference propagates NaN; fmax/fmin drop it */
    ir_buf_puts(o, "((");
    for (int i = 0; i < n; i++)
      ir_buf_printf(o, "%sisnan(%s)", i ? " || " : "", args[i]);
    ir_buf_printf(o, ") ? NAN : %s)", acc.data);
  } else {
    ir_buf_puts(o, acc.data);
  }
  ir_buf_free(&acc);
  return true;
}

bool cg_elementwise_expr(const Op *op, const char *const *args, Buf *out) {
  const char *a = args[0];
  const char *b = op->noperands > 1 ? args[1] : NULL;
  DType dt = in_dt(op, 0);
  switch (op->kind) {
  case OP_IDENTITY:
  case OP_DROPOUT: ir_buf_printf(out, "(%s)", a); return true;
  case OP_CAST: return cast_expr(op, a, out);
  case OP_NOT: ir_buf_printf(out, "(%s == 0)", a); return true;
  case OP_IS_NAN: ir_buf_printf(out, "(isnan(%s) != 0)", a); return true;
  case OP_IS_INF: {
    bool neg = ir_attr_int(op, "detect_negative", 1) != 0;
    bool pos = ir_attr_int(op, "detect_positive", 1) != 0;
    ir_buf_printf(out, "(isinf(%s) != 0 && (%s > 0.0f ? %d : %d))", a, a, pos, neg);
    return true;
  }
  case OP_ADD: ir_buf_printf(out, "(%s + %s)", a, b); return true;
  case OP_SUB: ir_buf_printf(out, "(%s - %s)", a, b); return true;
  case OP_MUL: ir_buf_printf(out, "(%s * %s)", a, b); return true;
  case OP_DIV: ir_buf_printf(out, "(%s / %s)", a, b); return true; /* C truncates integers */
  case OP_POW:
    ir_buf_printf(out, "pow(%s, %s%s)", a, is_f(in_dt(op, 1)) ? "" : "(float)", b);
    return true;
  case OP_PRELU: ir_buf_printf(out, "(%s < 0.0f ? %s * %s : %s)", a, a, b, a); return true;
  case OP_EQUAL: ir_buf_printf(out, "(%s == %s)", a, b); return true;
  case OP_LESS: ir_buf_printf(out, "(%s < %s)", a, b); return true;
  case OP_GREATER: ir_buf_printf(out, "(%s > %s)", a, b); return true;
  case OP_LESS_OR_EQUAL: ir_buf_printf(out, "(%s <= %s)", a, b); return true;
  case OP_GREATER_OR_EQUAL: ir_buf_printf(out, "(%s >= %s)", a, b); return true;
  case OP_AND: ir_buf_printf(out, "(%s != 0 && %s != 0)", a, b); return true;
  case OP_OR: ir_buf_printf(out, "(%s != 0 || %s != 0)", a, b); return true;
  case OP_XOR: ir_buf_printf(out, "((%s != 0) != (%s != 0))", a, b); return true;
  case OP_WHERE: ir_buf_printf(out, "(%s != 0 ? %s : %s)", a, b, args[2]); return true;
  case OP_MOD:
    if (is_f(dt)) {
      if (!ir_attr_int(op, "fmod", 0))
        return false;
      ir_buf_printf(out, "fmod(%s, %s)", a, b);
    } else if (ir_attr_int(op, "fmod", 0)) {
      ir_buf_printf(out, "(%s %% %s)", a, b);
    } else { /* the result takes the divisor's sign (Python) */
      ir_buf_printf(out, "((%s %% %s) != 0 && ((%s %% %s) < 0) != (%s < 0) ? (%s %% %s) + %s : "
                         "(%s %% %s))", a, b, a, b, b, a, b, b, a, b);
    }
    return true;
  case OP_BATCH_NORM:
    ir_buf_printf(out, "((%s - %s) / sqrt(%s + ", a, args[3], args[4]);
    lit(out, (float)ir_attr_float(op, "epsilon", 1e-5f));
    ir_buf_printf(out, ") * %s + %s)", args[1], args[2]);
    return true;
  case OP_MAX:
  case OP_MIN:
  case OP_SUM:
  case OP_MEAN: return variadic(op, args, out);
  default: break;
  }
  if (op->noperands != 1)
    return false;
  return is_f(dt) ? unary_float(op, a, out) : is_i(dt) ? unary_int(op, a, out) : false;
}

/* ---- the predicate ---- */

static bool fail(char *why, size_t n, const char *msg) {
  snprintf(why, n, "%s", msg);
  return false;
}

bool cg_elementwise_supported(const Op *op, char *why, size_t n) {
  DType dt = op->noperands ? in_dt(op, 0) : DT_UNKNOWN, rt = out_dt(op);
  for (int i = 1; i < op->noperands; i++) {
    bool same = in_dt(op, i) == dt;
    if (op->kind == OP_WHERE)
      same = i == 1 || in_dt(op, i) == in_dt(op, 1);
    if (op->kind == OP_POW)
      same = true;
    if (!same)
      return fail(why, n, "operand element types differ");
  }
  switch (op->kind) {
  case OP_IDENTITY:
  case OP_DROPOUT:
  case OP_CAST: return true;
  case OP_NOT: return dt == DT_BOOL || fail(why, n, "not needs a bool operand");
  case OP_IS_NAN:
  case OP_IS_INF: return is_f(dt) || fail(why, n, "the operand is not f32");
  case OP_ADD: case OP_SUB: case OP_MUL: case OP_DIV: case OP_MAX: case OP_MIN: case OP_SUM:
    return is_f(dt) || is_i(dt) || fail(why, n, "the operands are not f32, i32 or i64");
  case OP_MEAN:
  case OP_PRELU: return is_f(dt) || fail(why, n, "the operands are not f32");
  case OP_POW:
    return (is_f(dt) && (is_f(in_dt(op, 1)) || is_i(in_dt(op, 1)))) ||
           fail(why, n, "pow's base is not f32");
  case OP_EQUAL: case OP_LESS: case OP_GREATER: case OP_LESS_OR_EQUAL: case OP_GREATER_OR_EQUAL:
    return rt == DT_BOOL || fail(why, n, "the result is not bool");
  case OP_AND: case OP_OR: case OP_XOR:
    return dt == DT_BOOL || fail(why, n, "the operands are not bool");
  case OP_WHERE:
    return (dt == DT_BOOL && rt == in_dt(op, 1)) || fail(why, n, "the condition is not bool");
  case OP_MOD:
    if (is_f(dt) && !ir_attr_int(op, "fmod", 0))
      return fail(why, n, "fmod is 0 with f32 operands");
    return is_f(dt) || is_i(dt) || fail(why, n, "the operands are not f32, i32 or i64");
  case OP_BATCH_NORM:
    if (!is_f(dt) || op->operands[0].value->type.rank < 2)
      return fail(why, n, "batch_norm needs an f32 operand of rank 2 or more");
    for (int i = 1; i < 5; i++)
      if (op->operands[i].value->type.rank != 1)
        return fail(why, n, "batch_norm's parameters are not of rank 1");
    return true;
  case OP_GELU: {
    const char *m = ir_attr_string(op, "approximate", "none");
    if (strcmp(m, "none") != 0 && strcmp(m, "tanh") != 0)
      return fail(why, n, "gelu's approximate is not none or tanh");
    return is_f(dt) || fail(why, n, "the operand is not f32");
  }
  case OP_CLIP:
    if (op->noperands != 1)
      return fail(why, n, "clip with min/max operands (not attributes)");
    return is_f(dt) || is_i(dt) || fail(why, n, "the operand is not f32, i32 or i64");
  case OP_RELU: case OP_ABS: case OP_NEG: case OP_SIGN:
    return is_f(dt) || is_i(dt) || fail(why, n, "the operand is not f32, i32 or i64");
  default: break;
  }
  const char *probe[1] = {"x"};
  Buf b = {0};
  bool ok = op->noperands == 1 && is_f(dt) && unary_float(op, probe[0], &b);
  ir_buf_free(&b);
  if (!ok)
    snprintf(why, n, "no expression for '%s' on %s", ir_op_name(op->kind), ir_dtype_name(dt));
  return ok;
}

/* ---- chains ---- */

const Op *cg_emit_elementwise_ops(Emit *e, const Op *first, int drank, const char *const *coords) {
  for (const Op *op = first; op && op->kind != OP_YIELD; op = op->next) {
    FusionKind fk = ir_ops[op->kind].fusion;
    if (fk != FK_ELEMENTWISE && fk != FK_BROADCAST)
      return op;
    const Value *res = op->results[0];
    char names[16][32];
    const char *args[16];
    if (op->noperands > 16) {
      cg_fail(e, "'%s' op has more than 16 operands", ir_op_name(op->kind));
      return op;
    }
    for (int i = 0; i < op->noperands; i++) {
      const Value *v = op->operands[i].value;
      if (cg_is_body_value(e, v)) {
        if (op->kind == OP_BATCH_NORM && i > 0) {
          cg_fail(e, "batch_norm's parameter %d is computed in the kernel", i);
          return op;
        }
        snprintf(names[i], sizeof names[i], "%s", cg_name(e, v));
      } else {
        Buf load = {0};
        if (op->kind == OP_BATCH_NORM && i > 0) { /* one value per channel (axis 1 of x) */
          int ch = drank - op->operands[0].value->type.rank + 1;
          cg_load_expr(e, v, 1, &coords[ch], &load);
        } else {
          cg_load_expr(e, v, drank, coords, &load);
        }
        snprintf(names[i], sizeof names[i], "a%d_%d", res->id, i);
        ir_buf_printf(e->src, "  const %s %s = %s;\n", cg_compute_type(v->type.dtype), names[i],
                      ir_buf_str(&load));
        ir_buf_free(&load);
      }
      args[i] = names[i];
    }
    Buf expr = {0};
    if (!cg_elementwise_expr(op, args, &expr)) {
      ir_buf_free(&expr);
      cg_fail(e, "'%s' op has no expression", ir_op_name(op->kind));
      return op;
    }
    ir_buf_printf(e->src, "  const %s %s = %s;\n", cg_compute_type(res->type.dtype),
                  cg_name(e, res), ir_buf_str(&expr));
    ir_buf_free(&expr);
  }
  return NULL;
}

bool cg_emit_elementwise_kernel(Emit *e) {
  const Type *dom = &e->fused->results[0]->type;
  for (int i = 1; i < e->fused->nresults; i++) {
    const Type *t = &e->fused->results[i]->type;
    if (t->rank != dom->rank || memcmp(t->dims, dom->dims, sizeof(int64_t) * (size_t)t->rank))
      return cg_fail(e, "results 0 and %d of an elementwise kernel differ in shape", i);
  }
  cg_kernel_open(e);
  cg_emit_domain(e, dom);
  if (cg_emit_elementwise_ops(e, e->fused->body->first, dom->rank, cg_coords))
    return false;
  cg_emit_yield_stores(e, dom->rank, cg_coords);
  ir_buf_puts(e->src, "}\n");
  return true;
}
