/* emit_injective.c - injective ops: one work-item per result element reads the operand element
 * it copies (a gather), then the elementwise epilogue after the op runs on it.
 *
 * Each op computes source coordinates `sK` of its operand from the result coordinates `cK`:
 * transpose, slice (attribute form), pad (constant, reflect, edge, wrap), gather (negative
 * indices count from the end), gather_elements, concat (the input whose range holds the
 * coordinate), expand (numpy broadcast), tile, depth_to_space (DCR, CRD), space_to_depth, resize
 * (every mode and coordinate transformation the reference implements: the taps and weights are
 * computed here, in double as the reference does, and baked into the kernel as tables), trilu,
 * and the views reshape, flatten, squeeze, unsqueeze (a copy in row-major order). split is the
 * one scatter: its domain is the operand, each element stored into the result holding it.
 *
 * A leading N axis must map to itself (the batch is the same in operand and result); ops that
 * would move or resize it are refused by the predicate. Out-of-range gather indices (an error in
 * the reference) are clamped, so a kernel never reads outside its tensor. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emit.h"

static const char *const src_coords[IR_MAX_RANK] = {"s0", "s1", "s2", "s3",
                                                    "s4", "s5", "s6", "s7"};

static const Type *in_type(const Op *op, int i) { return &op->operands[i].value->type; }

static int norm_axis(int64_t a, int rank) { return (int)(a < 0 ? a + rank : a); }

/* ---- resize taps (the reference's source_coord and taps_of) ---- */

static const char *const rz_modes[] = {"nearest", "linear", "cubic", NULL};
static const char *const rz_ctms[] = {"half_pixel", "half_pixel_symmetric", "pytorch_half_pixel",
                                      "align_corners", "asymmetric", NULL};
static const char *const rz_nms[] = {"round_prefer_floor", "round_prefer_ceil", "floor", "ceil",
                                     NULL};

static int choice(const char *s, const char *const *names) {
  for (int i = 0; names[i]; i++)
    if (strcmp(s, names[i]) == 0)
      return i;
  return -1;
}

static double rz_source(int ctm, double o, int64_t in, int64_t out, double scale) {
  switch (ctm) {
  case 0: return (o + 0.5) / scale - 0.5;
  case 1: {
    double adj = (double)out / (scale * (double)in), center = (double)in / 2;
    return center * (1 - adj) + (o + 0.5) / scale - 0.5;
  }
  case 2: return out > 1 ? (o + 0.5) / scale - 0.5 : 0;
  case 3: return out == 1 ? 0 : o * (double)(in - 1) / (scale * (double)in - 1);
  default: return o / scale;
  }
}

static int64_t clampi(int64_t i, int64_t in) { return i < 0 ? 0 : i >= in ? in - 1 : i; }

/* Fills ntap taps (index, weight) of result coordinate o; unused taps weigh 0. */
static void rz_taps(int mode, int nm, double x, int64_t in, double a, bool exclude, int ntap,
                    int64_t *idx, double *w) {
  double fl = floor(x), r = x - fl;
  int64_t i0 = (int64_t)fl;
  for (int k = 0; k < ntap; k++)
    idx[k] = clampi(i0, in), w[k] = 0;
  if (mode == 0 || r == 0) {
    bool up = r != 0 && (nm == 0 ? r > 0.5 : nm == 1 ? r >= 0.5 : nm == 3);
    idx[0] = clampi(i0 + up, in), w[0] = 1;
    return;
  }
  if (mode == 1) {
    idx[0] = clampi(i0, in), w[0] = 1 - r;
    idx[1] = clampi(i0 + 1, in), w[1] = r;
    return;
  }
  double t[4] = {r + 1, r, 1 - r, 2 - r}, sum = 0;
  for (int k = 0; k < 4; k++) {
    double v = t[k];
    w[k] = v <= 1 ? ((a + 2) * v - (a + 3)) * v * v + 1 : ((a * v - 5 * a) * v + 8 * a) * v - 4 * a;
    if (exclude && (i0 - 1 + k < 0 || i0 - 1 + k >= in))
      w[k] = 0;
    sum += w[k];
  }
  for (int k = 0; k < 4; k++) {
    idx[k] = clampi(i0 - 1 + k, in);
    if (exclude && sum != 0)
      w[k] /= sum;
  }
}

/* Emits resize: per resized axis, tables of taps; the value is the weighted sum over the taps'
 * combinations (nearest: the one tap, any element type). */
static bool emit_resize(Emit *e, const Op *op, const char *vname) {
  const Type *x = in_type(op, 0), *y = &op->results[0]->type;
  int mode = choice(ir_attr_string(op, "mode", "nearest"), rz_modes);
  int ctm = choice(ir_attr_string(op, "coordinate_transformation_mode", "half_pixel"), rz_ctms);
  int nm = choice(ir_attr_string(op, "nearest_mode", "round_prefer_floor"), rz_nms);
  const double *scales;
  int nsc = ir_attr_floats(op, "scales", &scales);
  double a = ir_attr_float(op, "cubic_coeff_a", -0.75);
  bool exclude = ir_attr_int(op, "exclude_outside", 0) != 0;
  int ntap = mode == 0 ? 1 : mode == 1 ? 2 : 4;
  const Value *xv = op->operands[0].value;
  bool resized[IR_MAX_RANK];
  for (int d = 0; d < x->rank; d++) {
    double scale = nsc > 0 ? scales[d] : (double)y->dims[d] / (double)x->dims[d];
    resized[d] = x->dims[d] != IR_DIM_N && !(x->dims[d] == y->dims[d] && scale == 1);
    if (!resized[d])
      continue;
    int64_t *idx = malloc(sizeof *idx * (size_t)(y->dims[d] * ntap));
    double *w = malloc(sizeof *w * (size_t)(y->dims[d] * ntap));
    if (!idx || !w)
      abort();
    for (int64_t o = 0; o < y->dims[d]; o++)
      rz_taps(mode, nm, rz_source(ctm, (double)o, x->dims[d], y->dims[d], scale), x->dims[d], a,
              exclude, ntap, idx + o * ntap, w + o * ntap);
    /* Kernel-scope __constant tables (OpenCL C 1.2 allows them in a kernel's outermost scope). */
    Buf *b = e->src;
    ir_buf_printf(b, "  __constant int ri%d[%lld] = {", d, (long long)(y->dims[d] * ntap));
    for (int64_t i = 0; i < y->dims[d] * ntap; i++)
      ir_buf_printf(b, "%s%lld", i ? ", " : "", (long long)idx[i]);
    ir_buf_puts(b, "};\n");
    if (mode != 0) {
      ir_buf_printf(b, "  __constant float rw%d[%lld] = {", d, (long long)(y->dims[d] * ntap));
      for (int64_t i = 0; i < y->dims[d] * ntap; i++) {
        ir_buf_puts(b, i ? ", " : "");
        cg_float_lit(b, w[i]);
      }
      ir_buf_puts(b, "};\n");
    }
    free(idx);
    free(w);
  }
  const char *ct = cg_compute_type(op->results[0]->type.dtype);
  ir_buf_printf(e->src, "  %s %s = 0;\n", ct, vname);
  Buf wexpr = {0};
  ir_buf_puts(&wexpr, "1.0f");
  for (int d = 0; d < x->rank; d++) {
    if (!resized[d]) {
      ir_buf_printf(e->src, "  { const int s%d = c%d;\n", d, d);
      continue;
    }
    ir_buf_printf(e->src, "  for (int k%d = 0; k%d < %d; k%d++) { const int s%d = ri%d[c%d * %d + k%d];\n",
                  d, d, ntap, d, d, d, d, ntap, d);
    if (mode != 0)
      ir_buf_printf(&wexpr, " * rw%d[c%d * %d + k%d]", d, d, ntap, d);
  }
  Buf load = {0};
  cg_load_expr(e, xv, x->rank, src_coords, &load);
  if (mode == 0)
    ir_buf_printf(e->src, "    %s = %s;\n", vname, ir_buf_str(&load));
  else
    ir_buf_printf(e->src, "    %s += %s * %s;\n", vname, ir_buf_str(&wexpr), ir_buf_str(&load));
  for (int d = 0; d < x->rank; d++)
    ir_buf_puts(e->src, "  }\n");
  ir_buf_free(&load);
  ir_buf_free(&wexpr);
  return true;
}

/* ---- source coordinates ---- */

/* `const int sK = <expr>;` */
static void src(Emit *e, int k, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void src(Emit *e, int k, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  ir_buf_printf(e->src, "  const int s%d = ", k);
  ir_buf_vprintf(e->src, fmt, ap);
  ir_buf_puts(e->src, ";\n");
  va_end(ap);
}

/* The slice of dimension d (the reference's slice_dim): the first index. */
static int64_t slice_first(int64_t d, int64_t start, int64_t end, int64_t step) {
  (void)end;
  if (start < 0)
    start += d;
  int64_t hi = step > 0 ? d : d - 1;
  return start < 0 ? 0 : start > hi ? hi : start;
}

/* Emits the loaded value of operand 0 at sK (with `ok` guarding a constant pad). */
static void load_src(Emit *e, const Op *op, const char *vname, const char *guard,
                     const char *fallback) {
  const Value *x = op->operands[0].value;
  Buf load = {0};
  cg_load_expr(e, x, x->type.rank, src_coords, &load);
  const char *ct = cg_compute_type(op->results[0]->type.dtype);
  if (guard)
    ir_buf_printf(e->src, "  const %s %s = (%s) ? %s : %s;\n", ct, vname, guard, ir_buf_str(&load),
                  fallback);
  else
    ir_buf_printf(e->src, "  const %s %s = %s;\n", ct, vname, ir_buf_str(&load));
  ir_buf_free(&load);
}

/* The index operand at the result coordinates c[from..from+rank): normalized and clamped. */
static void emit_index(Emit *e, const Value *ix, int from, int64_t d, const char *name) {
  Buf load = {0};
  cg_load_expr(e, ix, ix->type.rank, cg_coords + from, &load);
  ir_buf_printf(e->src, "  int %s = (int)%s;\n  %s = %s < 0 ? %s + %lld : %s;\n"
                        "  %s = clamp(%s, 0, %lld);\n", name, ir_buf_str(&load), name, name,
                name, (long long)d, name, name, name, (long long)(d - 1));
  ir_buf_free(&load);
}

static bool emit_value(Emit *e, const Op *op, const char *v) {
  const Type *x = in_type(op, 0), *y = &op->results[0]->type;
  int r = x->rank;
  switch (op->kind) {
  case OP_RESHAPE:
  case OP_FLATTEN:
  case OP_SQUEEZE:
  case OP_UNSQUEEZE: { /* row-major order is kept: decompose the flat index over x */
    ir_buf_puts(e->src, "  int q = gid;\n");
    for (int d = r - 1; d > 0; d--)
      ir_buf_printf(e->src, "  const int s%d = q %% %lld; q /= %lld;\n", d, (long long)x->dims[d],
                    (long long)x->dims[d]);
    if (r > 0)
      src(e, 0, "q");
    break;
  }
  case OP_TRANSPOSE: {
    const int64_t *perm;
    int np = ir_attr_ints(op, "perm", &perm);
    for (int i = 0; i < r; i++)
      src(e, np == r ? (int)perm[i] : r - 1 - i, "c%d", i);
    break;
  }
  case OP_SLICE: {
    const int64_t *st, *en, *ax = NULL, *sp = NULL;
    int ns = ir_attr_ints(op, "starts", &st);
    ir_attr_ints(op, "ends", &en);
    int na = ir_attr_ints(op, "axes", &ax), nt = ir_attr_ints(op, "steps", &sp);
    int64_t first[IR_MAX_RANK] = {0}, step[IR_MAX_RANK];
    for (int d = 0; d < r; d++)
      step[d] = 1;
    for (int i = 0; i < ns; i++) {
      int a = na >= 0 ? norm_axis(ax[i], r) : i;
      step[a] = nt >= 0 ? sp[i] : 1;
      first[a] = slice_first(x->dims[a], st[i], en[i], step[a]);
    }
    for (int d = 0; d < r; d++)
      src(e, d, "%lld + c%d * %lld", (long long)first[d], d, (long long)step[d]);
    break;
  }
  case OP_PAD: {
    const int64_t *p;
    ir_attr_ints(op, "pads", &p);
    const char *mode = ir_attr_string(op, "mode", "constant");
    bool constant = strcmp(mode, "constant") == 0;
    ir_buf_puts(e->src, "  bool ok = true;\n");
    for (int d = 0; d < r; d++) {
      long long dd = (long long)x->dims[d], before = (long long)p[d];
      ir_buf_printf(e->src, "  int s%d = c%d - %lld;\n", d, d, before);
      if (dd == IR_DIM_N || (p[d] == 0 && p[r + d] <= 0))
        continue;
      if (constant)
        ir_buf_printf(e->src, "  ok = ok && s%d >= 0 && s%d < %lld;\n", d, d, dd);
      else if (strcmp(mode, "edge") == 0)
        ir_buf_printf(e->src, "  s%d = clamp(s%d, 0, %lld);\n", d, d, dd - 1);
      else if (strcmp(mode, "wrap") == 0)
        ir_buf_printf(e->src, "  s%d = ((s%d %% %lld) + %lld) %% %lld;\n", d, d, dd, dd, dd);
      else if (dd == 1)
        ir_buf_printf(e->src, "  s%d = 0;\n", d);
      else /* reflect: mirror without repeating the edge */
        ir_buf_printf(e->src, "  { const int m = ((s%d %% %lld) + %lld) %% %lld; s%d = m < %lld ? "
                              "m : %lld - m; }\n", d, 2 * (dd - 1), 2 * (dd - 1), 2 * (dd - 1), d,
                      dd, 2 * (dd - 1));
    }
    Buf value = {0};
    double cv = ir_attr_float(op, "value", 0.0);
    if (ir_dtype_is_float(y->dtype))
      cg_float_lit(&value, cv);
    else
      ir_buf_printf(&value, "%lld", (long long)cv);
    load_src(e, op, v, constant ? "ok" : NULL, ir_buf_str(&value));
    ir_buf_free(&value);
    return true;
  }
  case OP_GATHER: {
    int axis = norm_axis(ir_attr_int(op, "axis", 0), r);
    const Value *ix = op->operands[1].value;
    int q = ix->type.rank;
    emit_index(e, ix, axis, x->dims[axis], "g");
    for (int d = 0; d < r; d++)
      if (d < axis)
        src(e, d, "c%d", d);
      else if (d == axis)
        src(e, d, "g");
      else
        src(e, d, "c%d", d + q - 1);
    break;
  }
  case OP_GATHER_ELEMENTS: {
    int axis = norm_axis(ir_attr_int(op, "axis", 0), r);
    emit_index(e, op->operands[1].value, 0, x->dims[axis], "g");
    for (int d = 0; d < r; d++)
      src(e, d, d == axis ? "g" : "c%d", d);
    break;
  }
  case OP_EXPAND: /* numpy broadcast: cg_index_expr aligns x to the result */
    for (int d = 0; d < r; d++)
      src(e, d, "c%d", y->rank - r + d);
    break;
  case OP_TILE:
    for (int d = 0; d < r; d++)
      if (x->dims[d] == IR_DIM_N)
        src(e, d, "c%d", d);
      else
        src(e, d, "c%d %% %lld", d, (long long)x->dims[d]);
    break;
  case OP_TRILU: {
    bool upper = ir_attr_int(op, "upper", 1) != 0;
    long long k = (long long)ir_attr_int(op, "k", 0);
    for (int d = 0; d < r; d++)
      src(e, d, "c%d", d);
    char guard[96];
    snprintf(guard, sizeof guard, "c%d - c%d %s %lld", r - 1, r - 2, upper ? ">=" : "<=", k);
    load_src(e, op, v, guard, "0");
    return true;
  }
  case OP_DEPTH_TO_SPACE:
  case OP_SPACE_TO_DEPTH: {
    long long b = (long long)ir_attr_int(op, "blocksize", 1);
    bool crd = op->kind == OP_DEPTH_TO_SPACE &&
               strcmp(ir_attr_string(op, "mode", "DCR"), "CRD") == 0;
    src(e, 0, "c0");
    if (op->kind == OP_DEPTH_TO_SPACE) { /* y [N, C, H*b, W*b] from x [N, C*b*b, H, W] */
      long long C = (long long)y->dims[1];
      ir_buf_printf(e->src, "  const int bi = c2 %% %lld, bj = c3 %% %lld;\n", b, b);
      if (crd)
        src(e, 1, "c1 * %lld + bi * %lld + bj", b * b, b);
      else
        src(e, 1, "(bi * %lld + bj) * %lld + c1", b, C);
      src(e, 2, "c2 / %lld", b);
      src(e, 3, "c3 / %lld", b);
    } else { /* y [N, C*b*b, H, W] from x [N, C, H*b, W*b], DCR order */
      long long C = (long long)x->dims[1];
      ir_buf_printf(e->src, "  const int blk = c1 / %lld, bi = blk / %lld, bj = blk %% %lld;\n", C,
                    b, b);
      src(e, 1, "c1 %% %lld", C);
      src(e, 2, "c2 * %lld + bi", b);
      src(e, 3, "c3 * %lld + bj", b);
    }
    break;
  }
  case OP_RESIZE: return emit_resize(e, op, v);
  default: return cg_fail(e, "'%s' op has no injective emitter", ir_op_name(op->kind));
  }
  load_src(e, op, v, NULL, NULL);
  return true;
}

/* concat: the input whose range along the axis holds the result coordinate. */
static bool emit_concat(Emit *e, const Op *op, const char *v) {
  const Type *y = &op->results[0]->type;
  int r = y->rank, axis = norm_axis(ir_attr_int(op, "axis", 0), r);
  ir_buf_printf(e->src, "  %s %s;\n", cg_compute_type(y->dtype), v);
  int64_t at = 0;
  const char *cs[IR_MAX_RANK];
  char shifted[32];
  for (int i = 0; i < op->noperands; i++) {
    const Value *x = op->operands[i].value;
    int64_t len = x->type.dims[axis];
    snprintf(shifted, sizeof shifted, "(c%d - %lld)", axis, (long long)at);
    for (int d = 0; d < r; d++)
      cs[d] = d == axis ? shifted : cg_coords[d];
    Buf load = {0};
    cg_load_expr(e, x, r, cs, &load);
    if (i + 1 < op->noperands)
      ir_buf_printf(e->src, "  %sif (c%d < %lld) %s = %s;\n", i ? "else " : "", axis,
                    (long long)(at + len), v, ir_buf_str(&load));
    else
      ir_buf_printf(e->src, "  %s%s = %s;\n", i ? "else " : "", v, ir_buf_str(&load));
    ir_buf_free(&load);
    at += len;
  }
  return true;
}

/* split: the domain is the operand; each element goes to the result holding it. */
static bool emit_split(Emit *e, const Op *op) {
  const Value *x = op->operands[0].value;
  int r = x->type.rank, axis = norm_axis(ir_attr_int(op, "axis", 0), r);
  const Op *y = cg_yield_of(e->fused);
  if (op->next != y || y->noperands != op->nresults)
    return cg_fail(e, "split must be alone in its kernel and yield every result");
  cg_kernel_open(e);
  cg_emit_domain(e, &x->type);
  Buf load = {0};
  cg_load_expr(e, x, r, cg_coords, &load);
  ir_buf_printf(e->src, "  const %s v = %s;\n", cg_compute_type(x->type.dtype), ir_buf_str(&load));
  ir_buf_free(&load);
  int64_t at = 0;
  char shifted[32];
  const char *cs[IR_MAX_RANK];
  for (int i = 0; i < op->nresults; i++) {
    if (y->operands[i].value != op->results[i])
      return cg_fail(e, "split's results are not yielded in order");
    int64_t len = op->results[i]->type.dims[axis];
    snprintf(shifted, sizeof shifted, "(c%d - %lld)", axis, (long long)at);
    for (int d = 0; d < r; d++)
      cs[d] = d == axis ? shifted : cg_coords[d];
    ir_buf_printf(e->src, "  if (c%d >= %lld && c%d < %lld)\n  ", axis, (long long)at, axis,
                  (long long)(at + len));
    cg_store_stmt(e, e->fused->results[i], r, cs, "v");
    at += len;
  }
  ir_buf_puts(e->src, "}\n");
  return true;
}

bool cg_emit_injective_kernel(Emit *e, const Op *op) {
  if (op != e->fused->body->first)
    return cg_fail(e, "'%s' op is not first in its kernel (no prologue before injective ops)",
                   ir_op_name(op->kind));
  if (op->kind == OP_SPLIT)
    return emit_split(e, op);
  int64_t noperands = op->kind == OP_CONCAT ? op->noperands : op->kind == OP_GATHER ||
                      op->kind == OP_GATHER_ELEMENTS ? 2 : 1;
  for (int i = 0; i < noperands; i++)
    if (cg_is_body_value(e, op->operands[i].value))
      return cg_fail(e, "'%s' op: operand %d is computed in the kernel", ir_op_name(op->kind), i);
  const Type *dom = &op->results[0]->type;
  for (int i = 0; i < e->fused->nresults; i++) {
    const Type *t = &e->fused->results[i]->type;
    if (t->rank != dom->rank || memcmp(t->dims, dom->dims, sizeof(int64_t) * (size_t)t->rank))
      return cg_fail(e, "result %d differs in shape from the '%s' op's", i, ir_op_name(op->kind));
  }
  cg_kernel_open(e);
  cg_emit_domain(e, dom);
  const char *v = cg_name(e, op->results[0]);
  char vname[24];
  snprintf(vname, sizeof vname, "%s", v);
  if (!(op->kind == OP_CONCAT ? emit_concat(e, op, vname) : emit_value(e, op, vname)))
    return false;
  if (!cg_emit_epilogue(e, op, dom->rank, cg_coords))
    return false;
  ir_buf_puts(e->src, "}\n");
  return true;
}

/* ---- the predicate ---- */

static bool no(char *why, size_t n, const char *msg) {
  snprintf(why, n, "%s", msg);
  return false;
}

bool cg_injective_supported(const Op *op, char *why, size_t n) {
  const Type *x = in_type(op, 0), *y = &op->results[0]->type;
  int r = x->rank;
  bool batched = ir_type_is_batched(x);
  if (batched != ir_type_is_batched(y))
    return no(why, n, "the batch axis N moves");
  switch (op->kind) {
  case OP_RESHAPE:
  case OP_FLATTEN:
  case OP_SQUEEZE:
  case OP_UNSQUEEZE:
  case OP_EXPAND: return true;
  case OP_TILE: {
    const int64_t *rep;
    int nr = ir_attr_ints(op, "repeats", &rep);
    return !batched || nr < 0 || rep[0] == 1 || no(why, n, "tile repeats the batch axis N");
  }
  case OP_TRANSPOSE: {
    const int64_t *perm;
    int np = ir_attr_ints(op, "perm", &perm);
    if (batched && (np != r || perm[0] != 0))
      return no(why, n, "transpose moves the batch axis N");
    return true;
  }
  case OP_SLICE: {
    const int64_t *st, *ax = NULL;
    int ns = ir_attr_ints(op, "starts", &st), na = ir_attr_ints(op, "axes", &ax);
    if (op->noperands != 1 || ns < 0)
      return no(why, n, "slice with operands for starts/ends (not attributes)");
    for (int i = 0; batched && i < ns; i++)
      if ((na >= 0 ? norm_axis(ax[i], r) : i) == 0)
        return no(why, n, "slice of the batch axis N");
    return true;
  }
  case OP_PAD: {
    const int64_t *p;
    const char *m = ir_attr_string(op, "mode", "constant");
    if (op->noperands != 1 || ir_attr_ints(op, "pads", &p) != 2 * r)
      return no(why, n, "pad with operands for pads or value (not attributes)");
    if (strcmp(m, "constant") && strcmp(m, "reflect") && strcmp(m, "edge") && strcmp(m, "wrap"))
      return no(why, n, "pad mode not constant, reflect, edge or wrap");
    for (int d = 0; d < r; d++)
      if (p[d] < 0 || p[r + d] < 0 || (x->dims[d] == 0 && y->dims[d] > 0))
        return no(why, n, "pad crops or pads an empty axis");
    return !batched || (p[0] == 0 && p[r] == 0) || no(why, n, "pad of the batch axis N");
  }
  case OP_GATHER:
  case OP_GATHER_ELEMENTS: {
    DType it = in_type(op, 1)->dtype;
    if (it != DT_I32 && it != DT_I64)
      return no(why, n, "indices are not i32 or i64");
    if (ir_type_is_batched(in_type(op, 1)) && op->kind == OP_GATHER)
      return no(why, n, "batched gather indices");
    return !batched || norm_axis(ir_attr_int(op, "axis", 0), r) != 0 ||
           no(why, n, "gather along the batch axis N");
  }
  case OP_CONCAT:
  case OP_SPLIT:
    if (op->kind == OP_CONCAT && ir_attr_int(op, "in_place", 0))
      return no(why, n, "an in-place concat moves no data");
    return !batched || norm_axis(ir_attr_int(op, "axis", 0), r) != 0 ||
           no(why, n, "concat or split along the batch axis N");
  case OP_TRILU:
    return (op->noperands == 1 && r >= 2) || no(why, n, "trilu with k as an operand");
  case OP_DEPTH_TO_SPACE:
  case OP_SPACE_TO_DEPTH: {
    int64_t b = ir_attr_int(op, "blocksize", 0);
    const char *m = ir_attr_string(op, "mode", "DCR");
    if (r != 4 || b < 1 || (strcmp(m, "DCR") && strcmp(m, "CRD")))
      return no(why, n, "not rank 4 with a blocksize and mode DCR or CRD");
    return true;
  }
  case OP_RESIZE: {
    const double *sc;
    const int64_t *sz;
    int nsc = ir_attr_floats(op, "scales", &sc), nsz = ir_attr_ints(op, "sizes", &sz);
    if (op->noperands != 1 || (nsc > 0) == (nsz > 0))
      return no(why, n, "resize needs scales or sizes as attributes");
    if (choice(ir_attr_string(op, "mode", "nearest"), rz_modes) < 0 ||
        choice(ir_attr_string(op, "coordinate_transformation_mode", "half_pixel"), rz_ctms) < 0 ||
        choice(ir_attr_string(op, "nearest_mode", "round_prefer_floor"), rz_nms) < 0)
      return no(why, n, "resize mode, coordinate_transformation_mode or nearest_mode");
    if (strcmp(ir_attr_string(op, "mode", "nearest"), "nearest") && !ir_dtype_is_float(x->dtype))
      return no(why, n, "linear or cubic resize of integers");
    for (int d = 0; d < r; d++)
      if (x->dims[d] == 0 || (x->dims[d] == IR_DIM_N && nsc > 0 && sc[d] != 1))
        return no(why, n, "resize of an empty axis or of the batch axis N");
    return true;
  }
  default: break;
  }
  snprintf(why, n, "no emitter for '%s'", ir_op_name(op->kind));
  return false;
}
