/* emit_conv.c - kernels whose anchor is conv, conv_transpose, gemm or matmul (f32, or f16 storage
 * read through vload_half and accumulated in float), with the
 * epilogue inlined, and horizontal merges (one anchor, one `slice` per branch on the channel
 * axis, each branch's epilogue and result).
 *
 * Which kernel:
 *   conv, group < Cin (or Cin/group > 1)  tiled implicit GEMM (emit_conv_tiled.c)
 *   conv, depthwise (Cin/group == 1)      direct: one work-item per output element; a GEMM of
 *                                         K = KH*KW per channel has nothing to reuse in a tile
 *   conv_transpose                        direct, gathering the input pixels that reach an output
 *   gemm, matmul                          the same tiled core, addressing A and B as strided
 *                                         matrices
 *   conv for a CPU (CgOptions.cpu)       direct, vectorized along the output channels
 *                                         (emit_conv_cpu.c); 2-D, group 1
 * CgOptions.tile_m < 0 selects the direct kernel for conv too (the naive one-thread-per-output
 * kernel, kept for measurements and as the reference for the tiled one).
 *
 * Epilogue contract: the anchor's value is a private `float v<id>` at the anchor's output
 * coordinates (conv: b, co, o0.. ; gemm: q, co; matmul: z0.., q, co, co the channel axis); the
 * ops after it are emitted at those coordinates (tensor operands through cg_load_expr, so a
 * residual or a per-channel constant broadcasts numpy-style) and every yielded value is stored
 * through cg_store_stmt (a result may be a strided window of an in-place concat). In a
 * horizontal merge, channel co belongs to the branch whose slice holds it: the code of branch j
 * runs under `if (co < END_j)` with its coordinates shifted to `cs = co - START_j`. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emit_conv.h"

void cgc_out(Emit *e, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  ir_buf_vprintf(e->src, fmt, ap);
  va_end(ap);
}

/* One element (width 1) or a float4 (width 4) of ptr at idx, in a static buffer (4 slots). */
static const char *load(DType dt, const char *ptr, const char *idx, int width) {
  static char slots[4][640];
  static int next;
  char *s = slots[next++ % 4];
  bool half = dt == DT_F16;
  if (width == 1)
    snprintf(s, 640, half ? "vload_half(%s, %s)" : "%2$s[%1$s]", idx, ptr);
  else
    snprintf(s, 640, half ? "vload_half4(0, %2$s + %1$s)" : "*(__global const float4 *)(%2$s + %1$s)",
             idx, ptr);
  return s;
}

const char *cgc_ld(DType dt, const char *ptr, const char *idx) { return load(dt, ptr, idx, 1); }
const char *cgc_ld4(DType dt, const char *ptr, const char *idx) { return load(dt, ptr, idx, 4); }

/* ---- epilogue ---- */

/* `T v<id> = expr;` for one elementwise op, operands read at coords (cg_emit_elementwise_ops
 * works on a contiguous run of ops; a merge's branches interleave, so each op goes alone). */
static bool emit_one_op(Emit *e, const Op *op, int drank, const char *const *coords) {
  Buf argb[8] = {{0}};
  const char *args[8];
  if (op->noperands > 8 || op->nresults != 1)
    return cg_fail(e, "'%s' op in an epilogue: %d operands", ir_op_name(op->kind), op->noperands);
  for (int i = 0; i < op->noperands; i++) {
    const Value *v = op->operands[i].value;
    if (cg_is_body_value(e, v))
      ir_buf_puts(&argb[i], cg_name(e, v));
    else
      cg_load_expr(e, v, drank, coords, &argb[i]);
    args[i] = ir_buf_str(&argb[i]);
  }
  Buf expr = {0};
  bool ok = cg_elementwise_expr(op, args, &expr);
  if (ok)
    cgc_out(e, "  %s %s = %s;\n", cg_compute_type(op->results[0]->type.dtype),
            cg_name(e, op->results[0]), ir_buf_str(&expr));
  else
    cg_fail(e, "'%s' op has no elementwise expression", ir_op_name(op->kind));
  for (int i = 0; i < op->noperands; i++)
    ir_buf_free(&argb[i]);
  ir_buf_free(&expr);
  return ok;
}

/* The branch (slice index) a body value belongs to: -1 the anchor itself, -2 none found. */
static int branch_of(const Value *v, const Op *const *slices, int ns, const Op *const *ops,
                     const int *br, int nops) {
  if (v->kind != VAL_RESULT)
    return -2;
  for (int j = 0; j < ns; j++)
    if (slices[j] == v->def)
      return j;
  for (int i = 0; i < nops; i++)
    if (ops[i] == v->def)
      return br[i];
  return -1;
}

/* Horizontal merge: slices right after the anchor partition its channel axis in order. */
static bool emit_branches(Emit *e, const Op *anchor, int drank, const char *const *coords,
                          int chan) {
  enum { MAXB = 16, MAXOPS = 256 };
  const Op *slices[MAXB], *ops[MAXOPS];
  int64_t start[MAXB], end[MAXB];
  int br[MAXOPS], ns = 0, nops = 0;
  const Op *op = anchor->next;
  for (; op && op->kind == OP_SLICE; op = op->next) {
    const int64_t *ax, *st, *en, *sp;
    int nax = ir_attr_ints(op, "axes", &ax), nst = ir_attr_ints(op, "starts", &st);
    int nen = ir_attr_ints(op, "ends", &en), nsp = ir_attr_ints(op, "steps", &sp);
    if (ns == MAXB || op->noperands != 1 || op->operands[0].value != anchor->results[0] ||
        nax != 1 || nst != 1 || nen != 1 || (nsp >= 0 && (nsp != 1 || sp[0] != 1)) ||
        (ax[0] < 0 ? ax[0] + drank : ax[0]) != chan || st[0] != (ns ? end[ns - 1] : 0) ||
        en[0] <= st[0] || en[0] > anchor->results[0]->type.dims[chan])
      return cg_fail(e, "slice %d after the '%s' op is not the next run of its channels", ns,
                     ir_op_name(anchor->kind));
    slices[ns] = op;
    start[ns] = st[0];
    end[ns++] = en[0];
  }
  for (; op && op->kind != OP_YIELD; op = op->next) {
    FusionKind fk = ir_ops[op->kind].fusion;
    if (nops == MAXOPS || (fk != FK_ELEMENTWISE && fk != FK_BROADCAST))
      return cg_fail(e, "'%s' op in a merged epilogue is not elementwise", ir_op_name(op->kind));
    int b = -2;
    for (int i = 0; i < op->noperands; i++) {
      const Value *v = op->operands[i].value;
      if (!cg_is_body_value(e, v))
        continue;
      int bi = branch_of(v, slices, ns, ops, br, nops);
      if (bi == -1 || (b >= 0 && bi != b))
        return cg_fail(e, "'%s' op reads more than one branch of a merge", ir_op_name(op->kind));
      b = bi;
    }
    if (b < 0)
      return cg_fail(e, "'%s' op in a merged epilogue reads no branch", ir_op_name(op->kind));
    ops[nops] = op;
    br[nops++] = b;
  }
  const Op *y = cg_yield_of(e->fused);
  const char *bc[IR_MAX_RANK];
  for (int d = 0; d < drank; d++)
    bc[d] = d == chan ? "cs" : coords[d];
  char anchor_name[24];
  snprintf(anchor_name, sizeof anchor_name, "%s", cg_name(e, anchor->results[0]));
  for (int j = 0; j < ns; j++) {
    cgc_out(e, "  %sif (%s < %lld) {\n  const int cs = %s - %lld;\n", j ? "else " : "",
            coords[chan], (long long)end[j], coords[chan], (long long)start[j]);
    cgc_out(e, "  float %s = %s;\n", cg_name(e, slices[j]->results[0]), anchor_name);
    for (int i = 0; i < nops; i++)
      if (br[i] == j && !emit_one_op(e, ops[i], drank, bc))
        return false;
    for (int i = 0; i < y->noperands && i < e->fused->nresults; i++) {
      const Value *v = y->operands[i].value;
      if (branch_of(v, slices, ns, ops, br, nops) != j)
        continue;
      char name[24];
      snprintf(name, sizeof name, "%s", cg_name(e, v));
      cg_store_stmt(e, e->fused->results[i], drank, bc, name);
    }
    cgc_out(e, "  }\n");
  }
  for (int i = 0; i < y->noperands; i++)
    if (branch_of(y->operands[i].value, slices, ns, ops, br, nops) < 0)
      return cg_fail(e, "yielded value %d of a merge belongs to no branch", i);
  return true;
}

bool cgc_emit_tail(Emit *e, const Op *anchor, int drank, const char *const *coords, int chan) {
  const Op *first = anchor->next;
  if (first && first->kind == OP_SLICE)
    return emit_branches(e, anchor, drank, coords, chan);
  return cg_emit_epilogue(e, anchor, drank, coords);
}

/* ---- conv geometry ---- */

/* cpu_layout: the weights are in cg_conv_cpu_weight_layout's layout, not row-major. */
static bool conv_read(Emit *e, const Op *op, ConvGeo *c, bool cpu_layout) {
  const Type *x = &op->operands[0].value->type, *w = &op->operands[1].value->type;
  const Type *y = &op->results[0]->type;
  *c = (ConvGeo){0};
  c->nsp = x->rank - 2;
  if (c->nsp < 1 || c->nsp > 3 || w->rank != x->rank || y->rank != x->rank)
    return cg_fail(e, "'%s' op with operands of rank %d and %d: 1 to 3 spatial axes only",
                   ir_op_name(op->kind), x->rank, w->rank);
  const int64_t *v;
  int n;
  c->group = ir_attr_int(op, "group", 1);
  c->cin = x->dims[1];
  c->cout = y->dims[1];
  if (c->group < 1 || c->cin % c->group || c->cout % c->group)
    return cg_fail(e, "'%s' op: group %lld does not divide its channels", ir_op_name(op->kind),
                   (long long)c->group);
  c->cg = c->cin / c->group;
  c->mg = c->cout / c->group;
  c->ksz = c->isz = c->osz = 1;
  for (int i = 0; i < c->nsp; i++) {
    c->k[i] = w->dims[i + 2];
    c->in[i] = x->dims[i + 2];
    c->out[i] = y->dims[i + 2];
    c->s[i] = c->d[i] = 1;
    c->ksz *= c->k[i];
    c->isz *= c->in[i];
    c->osz *= c->out[i];
  }
  if ((n = ir_attr_ints(op, "strides", &v)) == c->nsp)
    memcpy(c->s, v, sizeof(int64_t) * (size_t)n);
  if ((n = ir_attr_ints(op, "dilations", &v)) == c->nsp)
    memcpy(c->d, v, sizeof(int64_t) * (size_t)n);
  if ((n = ir_attr_ints(op, "pads", &v)) == 2 * c->nsp)
    memcpy(c->pads, v, sizeof(int64_t) * (size_t)n);
  c->batched = x->dims[0] == IR_DIM_N;
  c->items = c->batched ? 1 : x->dims[0];
  const CgTensor *tx = e->tensor_of(e->ctx, op->operands[0].value);
  memcpy(c->xs, tx->strides, sizeof c->xs);
  c->x_offset = tx->offset;
  const CgTensor *tw = e->tensor_of(e->ctx, op->operands[1].value);
  int64_t ws[IR_MAX_RANK];
  if (cpu_layout)
    cg_conv_cpu_weight_layout(w, ws);
  else
    cg_contiguous_strides(w, ws);
  for (int i = 0; i < w->rank; i++)
    if (tw->strides[i] != ws[i] && w->dims[i] != 1)
      return cg_fail(e, "'%s' op: weights are not in the layout its kernel reads",
                   ir_op_name(op->kind));
  c->w_offset = tw->offset;
  return true;
}

/* `const int o0 = ..., o1 = ...;` from the flat output position q (row-major over out). */
void cgc_emit_decode(Emit *e, const char *q, const int64_t *dims, int n, const char *prefix) {
  int64_t inner = 1;
  for (int i = n - 1; i >= 0; i--) {
    if (i == n - 1)
      cgc_out(e, "  const int %s%d = %s %% %lld;\n", prefix, i, q, (long long)dims[i]);
    else if (i == 0)
      cgc_out(e, "  const int %s%d = %s / %lld;\n", prefix, i, q, (long long)inner);
    else
      cgc_out(e, "  const int %s%d = (%s / %lld) %% %lld;\n", prefix, i, q, (long long)inner,
              (long long)dims[i]);
    inner *= dims[i];
  }
}

bool cgc_conv_out(Emit *e, const Op *anchor, const ConvGeo *c, const char *acc, bool decoded) {
  if (!decoded)
    cgc_emit_decode(e, "q", c->out, c->nsp, "o");
  Buf bias = {0};
  if (anchor->noperands > 2) {
    const Value *bv = anchor->operands[2].value;
    const CgTensor *tb = e->tensor_of(e->ctx, bv);
    char idx[32];
    snprintf(idx, sizeof idx, "co*%lld", (long long)tb->strides[0]);
    ir_buf_printf(&bias, " + %s", cgc_ld(bv->type.dtype, cg_name(e, bv), idx));
  }
  cgc_out(e, "  float %s = %s%s;\n", cg_name(e, anchor->results[0]), acc, ir_buf_str(&bias));
  ir_buf_free(&bias);
  static const char *const oc[] = {"o0", "o1", "o2"};
  const char *coords[5] = {"b", "co"};
  for (int i = 0; i < c->nsp; i++)
    coords[2 + i] = oc[i];
  return cgc_emit_tail(e, anchor, c->nsp + 2, coords, 1);
}

static bool conv_out_hook(Emit *e, const TiledGemm *g, const char *acc) {
  return cgc_conv_out(e, g->anchor, g->conv, acc, false);
}

/* ---- direct kernels: one work-item per output element ---- */

/* Loops over the input channels of co's group and the kernel window; conv reads
 * X[b, ci, o*s - pad + k*d], conv_transpose gathers X[b, ci, i] with i*s - pad + k*d == o. */
static bool emit_direct(Emit *e, const Op *op, const ConvGeo *c) {
  bool tr = op->kind == OP_CONV_TRANSPOSE;
  size_t wg = 32;
  e->k->work_dim = 3;
  e->k->global[0] = (size_t)((c->osz + (int64_t)wg - 1) / (int64_t)wg) * wg;
  e->k->global[1] = (size_t)c->cout;
  e->k->global[2] = (size_t)c->items;
  e->k->local[0] = wg;
  e->k->local[1] = e->k->local[2] = 1;
  e->k->batch_dim = c->batched ? 2 : -1;
  cg_kernel_open(e);
  const char *x = cg_name(e, op->operands[0].value);
  char w[24];
  snprintf(w, sizeof w, "%s", cg_name(e, op->operands[1].value));
  cgc_out(e, "  const int q = get_global_id(0), co = get_global_id(1), b = get_global_id(2);\n"
             "  if (q >= %lld) return;\n", (long long)c->osz);
  cgc_emit_decode(e, "q", c->out, c->nsp, "o");
  cgc_out(e, "  const int g = co / %lld;\n", (long long)c->mg);
  DType xdt = op->operands[0].value->type.dtype, wdt = op->operands[1].value->type.dtype;
  const char *xst = cg_storage_type(xdt), *wst = cg_storage_type(wdt);
  cgc_out(e, "  __global const %s *xb = %s + b*%lld + g*%lld;\n", xst, x, (long long)c->xs[0],
          (long long)(c->cg * c->xs[1]));
  /* W: conv [Cout, Cg, k...]; conv_transpose [Cin, Cout/group, k...]. */
  if (tr)
    cgc_out(e, "  __global const %s *wb = %s + (g*%lld*%lld + co %% %lld)*%lld;\n", wst, w,
            (long long)c->cg, (long long)c->mg, (long long)c->mg, (long long)c->ksz);
  else
    cgc_out(e, "  __global const %s *wb = %s + co*%lld;\n", wst, w, (long long)(c->cg * c->ksz));
  cgc_out(e, "  float acc = 0.0f;\n  for (int ci = 0; ci < %lld; ci++) {\n", (long long)c->cg);
  Buf xoff = {0}, woff = {0};
  ir_buf_printf(&xoff, "ci*%lld", (long long)c->xs[1]);
  ir_buf_printf(&woff, "ci*%lld", (long long)(tr ? c->mg * c->ksz : c->ksz));
  for (int i = 0; i < c->nsp; i++) {
    int64_t ks = 1;
    for (int j = i + 1; j < c->nsp; j++)
      ks *= c->k[j];
    cgc_out(e, "  for (int k%d = 0; k%d < %lld; k%d++) {\n", i, i, (long long)c->k[i], i);
    if (tr) {
      cgc_out(e, "  const int t%d = o%d + %lld - k%d*%lld;\n", i, i, (long long)c->pads[i], i,
              (long long)c->d[i]);
      cgc_out(e, "  if (t%d < 0 || t%d %% %lld) continue;\n  const int i%d = t%d / %lld;\n", i,
              i, (long long)c->s[i], i, i, (long long)c->s[i]);
      cgc_out(e, "  if (i%d >= %lld) continue;\n", i, (long long)c->in[i]);
    } else {
      cgc_out(e, "  const int i%d = o%d*%lld - %lld + k%d*%lld;\n", i, i, (long long)c->s[i],
              (long long)c->pads[i], i, (long long)c->d[i]);
      cgc_out(e, "  if (i%d < 0 || i%d >= %lld) continue;\n", i, i, (long long)c->in[i]);
    }
    ir_buf_printf(&xoff, " + i%d*%lld", i, (long long)c->xs[2 + i]);
    ir_buf_printf(&woff, " + k%d*%lld", i, (long long)ks);
  }
  cgc_out(e, "  acc = fma(%s, %s, acc);\n", cgc_ld(xdt, "xb", ir_buf_str(&xoff)),
          cgc_ld(wdt, "wb", ir_buf_str(&woff)));
  ir_buf_free(&xoff);
  ir_buf_free(&woff);
  for (int i = 0; i <= c->nsp; i++)
    cgc_out(e, "  }\n");
  bool ok = cgc_conv_out(e, op, c, "acc", true);
  cgc_out(e, "}\n");
  return ok;
}

/* Whether the memory plan stored conv op's weights in the CPU kernel's layout: it does when
 * every op reading them is a conv cg_conv_cpu_ok accepts (memory.c), so a weight that anything
 * else also reads stays row-major and its conv gets the tiled kernel. */
static bool weights_in_cpu_layout(Emit *e, const Op *op) {
  const Value *w = op->operands[1].value;
  const CgTensor *t = e->tensor_of(e->ctx, w);
  int64_t strides[IR_MAX_RANK];
  cg_conv_cpu_weight_layout(&w->type, strides);
  return t && memcmp(t->strides, strides, sizeof(int64_t) * (size_t)w->type.rank) == 0;
}

/* ---- tiled: conv as implicit GEMM, gemm, matmul ---- */

static bool emit_conv_tiled(Emit *e, const Op *op, const ConvGeo *c) {
  TiledGemm g = {.anchor = op, .conv = c, .out = conv_out_hook, .x_im2col = true};
  g.P = c->mg;
  g.K = c->cg * c->ksz;
  g.groups = c->group;
  g.Q = c->osz;
  g.items = c->items;
  g.items_batched = c->batched;
  /* W [Cout, Cg*ksz] row-major: the rows of group tg start at tg*Mg. */
  g.wsp = g.K;
  g.wsk = 1;
  g.w_offset = c->w_offset;
  ir_buf_printf(&g.setup, "  const int b = z;\n");
  g.wdt = op->operands[1].value->type.dtype;
  g.xdt = op->operands[0].value->type.dtype;
  ir_buf_printf(&g.setup, "  __global const %s *wb = %s + tg*%lld;\n", cg_storage_type(g.wdt),
                cg_name(e, op->operands[1].value), (long long)(c->mg * g.K));
  ir_buf_printf(&g.setup, "  __global const %s *xb = %s + b*%lld + tg*%lld;\n",
                cg_storage_type(g.xdt), cg_name(e, op->operands[0].value), (long long)c->xs[0],
                (long long)(c->cg * c->xs[1]));
  bool ok = cgc_emit_tiled(e, &g);
  ir_buf_free(&g.setup);
  return ok;
}

/* gemm: Y[q, co] = alpha * sum_k A'[q,k] B'[k,co] + beta * C[q, co] (C broadcast). */
static bool gemm_out(Emit *e, const TiledGemm *g, const char *acc) {
  const Op *op = g->anchor;
  double alpha = ir_attr_float(op, "alpha", 1.0), beta = ir_attr_float(op, "beta", 1.0);
  static const char *const coords[] = {"q", "co"};
  Buf v = {0};
  if (alpha != 1.0) {
    cg_float_lit(&v, alpha);
    ir_buf_puts(&v, "*");
  }
  ir_buf_puts(&v, acc);
  if (op->noperands > 2 && beta != 0.0) {
    ir_buf_puts(&v, " + ");
    if (beta != 1.0) {
      cg_float_lit(&v, beta);
      ir_buf_puts(&v, "*");
    }
    cg_load_expr(e, op->operands[2].value, 2, coords, &v);
  }
  cgc_out(e, "  float %s = %s;\n", cg_name(e, op->results[0]), ir_buf_str(&v));
  ir_buf_free(&v);
  return cgc_emit_tail(e, op, 2, coords, 1);
}

static bool matmul_out(Emit *e, const TiledGemm *g, const char *acc) {
  static const char *const zc[] = {"z0", "z1", "z2", "z3", "z4", "z5"};
  const char *coords[IR_MAX_RANK];
  int yb = g->anchor->results[0]->type.rank - 2;
  for (int i = 0; i < yb; i++)
    coords[i] = zc[i];
  coords[yb] = "q";
  coords[yb + 1] = "co";
  cgc_out(e, "  float %s = %s;\n", cg_name(e, g->anchor->results[0]), acc);
  return cgc_emit_tail(e, g->anchor, yb + 2, coords, yb + 1);
}

static bool emit_gemm(Emit *e, const Op *op) {
  const Value *a = op->operands[0].value, *bv = op->operands[1].value;
  const Type *y = &op->results[0]->type;
  const CgTensor *ta = e->tensor_of(e->ctx, a), *tb = e->tensor_of(e->ctx, bv);
  int ra = a->type.rank, rb = bv->type.rank, ry = y->rank;
  bool mm = op->kind == OP_MATMUL;
  if (ra < 2 || rb < 2 || (!mm && (ra != 2 || rb != 2)))
    return cg_fail(e, "'%s' op with operands of rank %d and %d: matrices only",
                   ir_op_name(op->kind), ra, rb);
  if (ry > 8)
    return cg_fail(e, "'%s' op of rank %d", ir_op_name(op->kind), ry);
  bool tra = !mm && ir_attr_int(op, "trans_a", 0), trb = !mm && ir_attr_int(op, "trans_b", 0);
  /* Axes of A as [q, k] and of B as [k, p]. */
  int aq = tra ? ra - 1 : ra - 2, ak = tra ? ra - 2 : ra - 1;
  int bk = trb ? rb - 1 : rb - 2, bp = trb ? rb - 2 : rb - 1;
  TiledGemm g = {.anchor = op, .out = mm ? matmul_out : gemm_out};
  g.P = y->dims[ry - 1];
  g.K = a->type.dims[ak];
  g.groups = 1;
  g.wsp = tb->strides[bp];
  g.wsk = tb->strides[bk];
  g.w_offset = tb->offset;
  g.w_pool_wts = tb->pool == CG_POOL_WEIGHTS;
  g.xsq = ta->strides[aq];
  g.xsk = ta->strides[ak];
  g.x_offset = ta->offset;
  int yb = ry - 2;
  if (y->dims[ry - 2] == IR_DIM_N && yb > 0)
    return cg_fail(e, "'%s' op: the batch N is not the result's first axis", ir_op_name(op->kind));
  if (y->dims[ry - 2] == IR_DIM_N) {
    /* Rows are the batch (a flattened [N, K] into a linear layer): one item, the rows bounded
     * by the run's batch inside the kernel, the grid sized for the largest batch. */
    g.Q = e->opt && e->opt->max_batch > 0 ? e->opt->max_batch : 1;
    g.q_runtime = true;
    g.items = 1;
  } else {
    g.Q = y->dims[ry - 2];
    g.items_batched = yb > 0 && y->dims[0] == IR_DIM_N;
    g.items = 1;
    for (int i = g.items_batched ? 1 : 0; i < yb; i++)
      g.items *= y->dims[i];
  }
  /* Item z: the batch coordinates z0.. of Y, and the offsets of A's and B's matrices. */
  Buf *s = &g.setup;
  if (yb > 0) {
    ir_buf_puts(s, "  int zr = z;\n");
    for (int i = yb - 1; i > 0; i--)
      ir_buf_printf(s, "  const int z%d = zr %% %lld; zr /= %lld;\n", i, (long long)y->dims[i],
                    (long long)y->dims[i]);
    ir_buf_puts(s, "  const int z0 = zr;\n");
  }
  const Value *ops2[2] = {a, bv};
  const CgTensor *ts[2] = {ta, tb};
  const char *ptr[2] = {"xb", "wb"};
  g.xdt = a->type.dtype;
  g.wdt = bv->type.dtype;
  for (int t = 0; t < 2; t++) {
    const Type *tt = &ops2[t]->type;
    int nb = tt->rank - 2;
    ir_buf_printf(s, "  __global const %s *%s = %s", cg_storage_type(tt->dtype), ptr[t],
                  cg_name(e, ops2[t]));
    for (int j = 0; j < nb; j++)
      if (tt->dims[j] != 1) {
        ir_buf_printf(s, " + z%d*%lld", yb - nb + j, (long long)ts[t]->strides[j]);
        *(t ? &g.w_batched : &g.x_batched) = true;
      }
    ir_buf_puts(s, ";\n");
  }
  bool ok = cgc_emit_tiled(e, &g);
  ir_buf_free(&g.setup);
  return ok;
}

bool cg_emit_conv_kernel(Emit *e, const Op *op) {
  if (op->kind == OP_MAX_POOL || op->kind == OP_AVG_POOL || op->kind == OP_LP_POOL)
    return cg_emit_pool_kernel(e, op);
  DType dt = op->results[0]->type.dtype;
  if (dt != DT_F32 && dt != DT_F16)
    return cg_fail(e, "'%s' op: result is not f32 or f16", ir_op_name(op->kind));
  for (int i = 0; i < op->noperands; i++) {
    if (op->operands[i].value->type.dtype != dt)
      return cg_fail(e, "'%s' op: operand %d is not %s like its result", ir_op_name(op->kind), i,
                     ir_dtype_name(dt));
    if (cg_is_body_value(e, op->operands[i].value))
      return cg_fail(e, "'%s' op: operand %d is computed in the kernel", ir_op_name(op->kind), i);
  }
  ConvGeo c;
  switch (op->kind) {
  case OP_CONV:
    if (cg_conv_cpu_ok(op, e->opt) && weights_in_cpu_layout(e, op))
      return conv_read(e, op, &c, true) && cgc_emit_conv_cpu(e, op, &c);
    if (!conv_read(e, op, &c, false))
      return false;
    if (c.cg == 1 || (e->opt && e->opt->tile_m < 0))
      return emit_direct(e, op, &c);
    return emit_conv_tiled(e, op, &c);
  case OP_CONV_TRANSPOSE:
    if (!conv_read(e, op, &c, false))
      return false;
    /* conv_read took Cout/group from the result; W is [Cin, Cout/group, k...]. */
    return emit_direct(e, op, &c);
  case OP_GEMM:
  case OP_MATMUL: return emit_gemm(e, op);
  default: return cg_fail(e, "'%s' op has no conv emitter", ir_op_name(op->kind));
  }
}
