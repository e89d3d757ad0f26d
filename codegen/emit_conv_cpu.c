/* emit_conv_cpu.c - the conv kernel for CPUs (CgOptions.cpu): a direct convolution vectorized
 * along the output channels, register-blocked, with no __local memory and no barriers.
 *
 * Why not the tiled implicit GEMM: POCL runs the work-items of a work-group as a loop, and a
 * kernel built on __local tiles and barriers becomes loops split at every barrier, with the
 * tiles in memory and nothing vectorized: ResNet-50's convs ran at 1-4 GFLOP/s on two AVX-512
 * cores. A CPU wants one work-item to own a block of outputs in vector registers, the way
 * oneDNN's and ORT's direct convolutions do (test/bench/NOTES.md has the measurements).
 *
 * Layout: the weights W[Cout, Cin, KH, KW] are stored by the memory plan as a matrix
 * [Cin*KH*KW][Cp] (cg_conv_cpu_weight_layout), Cp = Cout rounded up to 16 with zeros, so the 16
 * consecutive output channels of one tap are one float16 load.
 *
 * Work-item (xb, oy, cb + item*CB): output row oy, columns x0 = xb*PX .. x0+PX-1, channels
 * co0 = cb*16*V .. co0+16*V-1, in PX*V float16 accumulators (PX up to 8, V up to 2: at most 16
 * of the 32 AVX-512 registers, the weight vectors and broadcasts take the rest). Per tap
 * (ci, kh, kw): V vector loads of weights, PX scalar loads of X broadcast, PX*V vector FMAs. A
 * block whose window stays inside the row reads X unchecked; an edge block (the padding)
 * clamps the column and selects zero. Rows outside X are skipped per (ci, kh).
 * Local size {XB, 1, 1}: one work-group is the blocks of one row, which share the weights.
 *
 * Epilogue: the accumulators are stored to a private array, then a loop over (channel, column)
 * runs the fused op's epilogue once per output (one copy of its code, not PX*16*V). */
#include <stdio.h>

#include "emit_conv.h"

enum { LANES = 16, MAX_PX = 8, MAX_V = 2 };

static int64_t padded_channels(int64_t cout) { return (cout + LANES - 1) / LANES * LANES; }

bool cg_conv_cpu_ok(const Op *op, const CgOptions *opt) {
  if (!opt || !opt->cpu || opt->tile_m < 0 || op->kind != OP_CONV || op->noperands < 2)
    return false;
  const Type *x = &op->operands[0].value->type, *w = &op->operands[1].value->type;
  const Type *y = &op->results[0]->type;
  if (x->rank != 4 || w->rank != 4 || y->rank != 4 || (x->dtype != DT_F32 && x->dtype != DT_F16) ||
      w->dtype != x->dtype || y->dtype != x->dtype || ir_attr_int(op, "group", 1) != 1)
    return false;
  /* The weights must be a weight of the module (their layout is the memory plan's). */
  return op->operands[1].value->kind == VAL_WEIGHT;
}

int64_t cg_conv_cpu_weight_layout(const Type *w, int64_t *strides) {
  int64_t cp = padded_channels(w->dims[0]);
  strides[0] = 1;
  strides[3] = cp;
  strides[2] = w->dims[3] * cp;
  strides[1] = w->dims[2] * w->dims[3] * cp;
  return w->dims[1] * w->dims[2] * w->dims[3] * cp;
}

/* The columns per work-item: the largest divisor of ow up to MAX_PX when it is at least 4,
 * else MAX_PX (the last block partly past the row). */
static int columns_per_item(int64_t ow) {
  for (int px = MAX_PX; px >= 4; px--)
    if (ow % px == 0)
      return px;
  return ow < MAX_PX ? (int)ow : MAX_PX;
}

/* The PX*KW taps of one kernel row: X read at column ix = (x0+p)*s - pad + kw*d. */
static void emit_taps(Emit *e, const ConvGeo *c, DType dt, int px, int v, bool checked) {
  cgc_out(e, "        #pragma unroll\n        for (int kw = 0; kw < %lld; kw++) {\n",
          (long long)c->k[1]);
  for (int j = 0; j < v; j++)
    cgc_out(e, "          const float16 w%d = vload%s16(0, wr + kw*%lld + %d);\n", j,
            dt == DT_F16 ? "_half" : "", (long long)padded_channels(c->cout), LANES * j);
  cgc_out(e, "          #pragma unroll\n          for (int p = 0; p < %d; p++) {\n"
             "            const int ix = (x0 + p)*%lld - %lld + kw*%lld;\n",
          px, (long long)c->s[1], (long long)c->pads[1], (long long)c->d[1]);
  char at[96];
  if (checked) {
    snprintf(at, sizeof at, "clamp(ix, 0, %lld)*%lld", (long long)(c->in[1] - 1),
             (long long)c->xs[3]);
    cgc_out(e, "            const float xv = select(0.0f, %s, (int)(ix >= 0 && ix < %lld));\n",
            cgc_ld(dt, "row", at), (long long)c->in[1]);
  } else {
    snprintf(at, sizeof at, "ix*%lld", (long long)c->xs[3]);
    cgc_out(e, "            const float xv = %s;\n", cgc_ld(dt, "row", at));
  }
  for (int j = 0; j < v; j++)
    cgc_out(e, "            acc[p*%d + %d] = fma((float16)(xv), w%d, acc[p*%d + %d]);\n", v, j, j,
            v, j);
  cgc_out(e, "          }\n        }\n");
}

bool cgc_emit_conv_cpu(Emit *e, const Op *op, const ConvGeo *c) {
  int64_t cp = padded_channels(c->cout);
  int v = (cp / LANES) % MAX_V == 0 ? MAX_V : 1, px = columns_per_item(c->out[1]);
  int64_t cblocks = cp / (LANES * v), xblocks = (c->out[1] + px - 1) / px;
  e->k->work_dim = 3;
  e->k->global[0] = (size_t)xblocks;
  e->k->global[1] = (size_t)c->out[0];
  e->k->global[2] = (size_t)(cblocks * c->items);
  e->k->local[0] = (size_t)xblocks;
  e->k->local[1] = e->k->local[2] = 1;
  e->k->batch_dim = c->batched ? 2 : -1;
  cg_kernel_open(e);
  cgc_out(e, "  /* direct conv for CPUs: %d columns x %d channels per work-item */\n", px,
          LANES * v);
  cgc_out(e, "  const int xb = get_global_id(0), o0 = get_global_id(1);\n"
             "  const int cb = get_global_id(2) %% %lld, b = get_global_id(2) / %lld;\n"
             "  const int x0 = xb*%d, co0 = cb*%d;\n",
          (long long)cblocks, (long long)cblocks, px, LANES * v);
  DType dt = op->operands[0].value->type.dtype;
  const char *st = cg_storage_type(dt);
  cgc_out(e, "  __global const %s *xb0 = %s + b*%lld;\n", st, cg_name(e, op->operands[0].value),
          (long long)c->xs[0]);
  cgc_out(e, "  __global const %s *wb = %s + co0;\n", st, cg_name(e, op->operands[1].value));
  cgc_out(e, "  float16 acc[%d];\n  #pragma unroll\n  for (int i = 0; i < %d; i++)\n"
             "    acc[i] = (float16)(0.0f);\n", px * v, px * v);
  /* Whether every column of this block reads inside the row for every kw. */
  cgc_out(e, "  const bool inside = x0*%lld >= %lld && (x0 + %d)*%lld - %lld + %lld < %lld;\n",
          (long long)c->s[1], (long long)c->pads[1], px - 1, (long long)c->s[1],
          (long long)c->pads[1], (long long)((c->k[1] - 1) * c->d[1]), (long long)c->in[1]);
  cgc_out(e, "  for (int ci = 0; ci < %lld; ci++) {\n    for (int kh = 0; kh < %lld; kh++) {\n",
          (long long)c->cin, (long long)c->k[0]);
  cgc_out(e, "      const int iy = o0*%lld - %lld + kh*%lld;\n"
             "      if (iy < 0 || iy >= %lld) continue;\n",
          (long long)c->s[0], (long long)c->pads[0], (long long)c->d[0], (long long)c->in[0]);
  cgc_out(e, "      __global const %s *row = xb0 + ci*%lld + iy*%lld;\n"
             "      __global const %s *wr = wb + (ci*%lld + kh)*%lld;\n",
          st, (long long)c->xs[1], (long long)c->xs[2], st, (long long)c->k[0],
          (long long)(c->k[1] * cp));
  cgc_out(e, "      if (inside) {\n");
  emit_taps(e, c, dt, px, v, false);
  cgc_out(e, "      } else {\n");
  emit_taps(e, c, dt, px, v, true);
  cgc_out(e, "      }\n    }\n  }\n");
  /* The epilogue: out[p*16*V + j] is column x0 + p, channel co0 + j. */
  cgc_out(e, "  float out[%d];\n  #pragma unroll\n  for (int i = 0; i < %d; i++)\n"
             "    vstore16(acc[i], i, out);\n", px * v * LANES, px * v);
  cgc_out(e, "  for (int j = 0; j < %d; j++) {\n    const int co = co0 + j;\n", LANES * v);
  if (cp != c->cout)
    cgc_out(e, "    if (co >= %lld) break;\n", (long long)c->cout);
  cgc_out(e, "    for (int p = 0; p < %d; p++) {\n    const int o1 = x0 + p;\n", px);
  if (c->out[1] % px)
    cgc_out(e, "    if (o1 >= %lld) break;\n", (long long)c->out[1]);
  char acc[32];
  snprintf(acc, sizeof acc, "out[p*%d + j]", LANES * v);
  bool ok = cgc_conv_out(e, op, c, acc, true);
  cgc_out(e, "    }\n  }\n}\n");
  return ok;
}
