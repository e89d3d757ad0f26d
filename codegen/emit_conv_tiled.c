/* emit_conv_tiled.c - the tiled GEMM core shared by conv (implicit GEMM), gemm and matmul.
 *
 * Geometry: work-groups of 16 x 16 work-items, local = {16, 16, 1}.
 *   global[0] = ceil(Q / TN) * 16          columns q (conv: output positions OH*OW of one item)
 *   global[1] = groups * ceil(P / TM) * 16 channel rows p of every group
 *   global[2] = items                      the batch (batch_dim 2) or the static item count
 * Each work-group computes a TM x TN block of out; each work-item a (TM/16) x (TN/16) register
 * block at rows ly + 16*i and columns lx + 16*j (interleaved, so that the 16 lx of a row read
 * consecutive __local words and store consecutive output positions: coalesced, no bank
 * conflicts). Batch items are whole grid planes, so the global size is per item times batch.
 * For gemm/matmul rows that are the batch itself (q_runtime), the grid is sized for the largest
 * batch and work-groups past the run's batch return at once.
 *
 * Why 64 x 64 x 16 by default: per K step of TK, a work-group loads (TM + TN) * TK floats from
 * global memory (mostly L2) and does 2 * TM * TN * TK FLOPs: 2*64*64 / (4*(64+64)) = 16 FLOP per
 * byte, above the H200's DRAM ridge (64.5 TFLOP/s / 4.3 TB/s = 15), and L2 serves the reuse
 * across work-groups. Inside the work-group a 4 x 4 register block does 16 FMAs per 8 __local
 * reads (2 FMA per load), enough for __local bandwidth; 16 accumulators + 8 operands keep
 * registers low for occupancy. __local use is TK*(TM+1 + TN+1)*4 = 8.3 KB (padding by one word
 * makes the transposing stores conflict-free), so several work-groups fit per SM. Smaller P or Q
 * get 32 or 16 wide tiles (13 channels in a 64-row tile would waste 80% of the FMAs), and so do
 * grids too small to fill the GPU (below).
 *
 * Loads: each of the 256 work-items loads fixed (k, p) / (k, q) slots of every K step, chosen
 * so that consecutive work-items read consecutive addresses along the operand's contiguous axis;
 * float4 loads where that axis has stride 1, the tile's extent there and the row strides are
 * multiples of 4 and the tensor starts 16-byte aligned. im2col: a work-item's output position
 * is fixed over the K loop, so its decode (o0, o1, o*s - pad) is hoisted; per K step only
 * (ci, kh, kw) = decode(k) and a bounds test remain; a 1x1 kernel without pads needs neither. */
#include <stdio.h>
#include <string.h>

#include "emit_conv.h"

enum { WG = 16, NT = WG * WG };

/* One operand tile loaded as arr[k][o] (o: p for W, q for X) from base[o*so + k*sk]. */
typedef struct Loader {
  const char *arr, *pre, *base; /* local array, slot variable prefix, global pointer */
  const char *obase, *obound;   /* first o of the tile ("tp"), bound of o ("13", "batch") */
  int tk, to;
  int64_t sk, so, K;
  bool kfast, vec;
  DType dt; /* storage: f32, or f16 (vload_half, vload_half4) */
} Loader;

static int slots(int n) { return (n + NT - 1) / NT; }

static void loader_setup(Emit *e, const Loader *l) {
  int per = l->vec ? 4 : 1, n = l->tk * l->to / per;
  for (int r = 0; r < slots(n); r++) {
    int fast = (l->kfast ? l->tk : l->to) / per;
    cgc_out(e, "  const int %sf%d = ((tid + %d) %% %d)*%d, %ss%d = (tid + %d) / %d;\n", l->pre, r,
            NT * r, fast, per, l->pre, r, NT * r, fast);
    cgc_out(e, "  const int %sk%d = %s%c%d, %so%d = %s%c%d;\n", l->pre, r, l->pre,
            l->kfast ? 'f' : 's', r, l->pre, r, l->pre, l->kfast ? 's' : 'f', r);
    cgc_out(e, "  const bool %sok%d = %s + %so%d < %s;\n", l->pre, r, l->obase, l->pre, r,
            l->obound);
    if (n % NT)
      cgc_out(e, "  const bool %sin%d = tid + %d < %d;\n", l->pre, r, NT * r, n);
  }
}

static void loader_step(Emit *e, const Loader *l) {
  int per = l->vec ? 4 : 1, n = l->tk * l->to / per;
  for (int r = 0; r < slots(n); r++) {
    const char *p = l->pre;
    if (n % NT)
      cgc_out(e, "    if (%sin%d)", p, r);
    cgc_out(e, "    { const int gk = k0 + %sk%d;\n", p, r);
    char at[160];
    snprintf(at, sizeof at, "(%s + %so%d)*%lld + gk*%lld", l->obase, p, r, (long long)l->so,
             (long long)l->sk);
    if (!l->vec) {
      cgc_out(e, "      %s[%sk%d][%so%d] = %sok%d && gk < %lld ? %s : 0.0f; }\n", l->arr, p, r,
              p, r, p, r, (long long)l->K, cgc_ld(l->dt, l->base, at));
      continue;
    }
    cgc_out(e, "      const float4 t4 = %sok%d && gk < %lld ? %s : (float4)(0.0f);\n", p, r,
            (long long)l->K, cgc_ld4(l->dt, l->base, at));
    for (int c = 0; c < 4; c++)
      cgc_out(e, "      %s[%sk%d + %d][%so%d + %d] = t4.s%d;\n", l->arr, p, r, l->kfast ? c : 0, p,
              r, l->kfast ? 0 : c, c);
    cgc_out(e, "    }\n");
  }
}

/* The loader of a strided operand: along its contiguous axis, float4 where alignment allows.
 * base_aligned: the base pointer starts 16-byte aligned (known offset, no per-item shift). */
static Loader strided_loader(const char *arr, const char *pre, const char *base, const char *obase,
                             const char *obound, int tk, int to, int64_t sk, int64_t so, int64_t K,
                             int64_t ostatic, bool base_aligned, DType dt) {
  Loader l = {arr, pre, base, obase, obound, tk, to, sk, so, K, false, false, dt};
  l.kfast = sk == 1 || (so != 1 && (sk < 0 ? -sk : sk) <= (so < 0 ? -so : so));
  if (l.kfast)
    l.vec = sk == 1 && base_aligned && K % 4 == 0 && tk % 4 == 0 && so % 4 == 0;
  else
    l.vec = so == 1 && base_aligned && ostatic > 0 && ostatic % 4 == 0 && sk % 4 == 0;
  return l;
}

/* The im2col slots of X (q-fast: the output position of a slot is fixed over the K loop). */
static void im2col_setup(Emit *e, const TiledGemm *g, int tk, int tn, bool vec, bool pointwise) {
  const ConvGeo *c = g->conv;
  int per = vec ? 4 : 1, n = tk * tn / per, fast = tn / per;
  for (int r = 0; r < slots(n); r++) {
    cgc_out(e, "  const int xo%d = ((tid + %d) %% %d)*%d, xk%d = (tid + %d) / %d;\n", r, NT * r,
            fast, per, r, NT * r, fast);
    cgc_out(e, "  const int xq%d = tq + xo%d;\n  const bool xok%d = xq%d < %lld;\n", r, r, r, r,
            (long long)g->Q);
    if (n % NT)
      cgc_out(e, "  const bool xin%d = tid + %d < %d;\n", r, NT * r, n);
    if (vec)
      continue;
    char q[16], pre[16];
    snprintf(q, sizeof q, "xq%d", r);
    snprintf(pre, sizeof pre, "xp%d_", r);
    cgc_emit_decode(e, q, c->out, c->nsp, pre);
    if (pointwise) {
      cgc_out(e, "  const int xoff%d = 0", r);
      for (int i = 0; i < c->nsp; i++)
        cgc_out(e, " + xp%d_%d*%lld", r, i, (long long)(c->s[i] * c->xs[2 + i]));
      cgc_out(e, ";\n");
    } else {
      for (int i = 0; i < c->nsp; i++)
        cgc_out(e, "  const int xi%d_%d = xp%d_%d*%lld - %lld;\n", r, i, r, i, (long long)c->s[i],
                (long long)c->pads[i]);
    }
  }
}

static void im2col_step(Emit *e, const TiledGemm *g, int tk, int tn, bool vec, bool pointwise) {
  const ConvGeo *c = g->conv;
  int per = vec ? 4 : 1, n = tk * tn / per;
  for (int r = 0; r < slots(n); r++) {
    if (n % NT)
      cgc_out(e, "    if (xin%d)", r);
    cgc_out(e, "    { const int gk = k0 + xk%d;\n", r);
    if (vec) {
      char at[64];
      snprintf(at, sizeof at, "gk*%lld + xq%d", (long long)c->xs[1], r);
      cgc_out(e, "      const float4 t4 = xok%d && gk < %lld ? %s : (float4)(0.0f);\n", r,
              (long long)g->K, cgc_ld4(g->xdt, "xb", at));
      for (int k = 0; k < 4; k++)
        cgc_out(e, "      Xs[xk%d][xo%d + %d] = t4.s%d;\n", r, r, k, k);
      cgc_out(e, "    }\n");
      continue;
    }
    cgc_out(e, "      float xv = 0.0f;\n      if (xok%d && gk < %lld) {\n", r, (long long)g->K);
    if (pointwise) {
      char at[64];
      snprintf(at, sizeof at, "gk*%lld + xoff%d", (long long)c->xs[1], r);
      cgc_out(e, "        xv = %s;\n", cgc_ld(g->xdt, "xb", at));
    } else {
      cgc_out(e, "        const int ci = gk / %lld, kr = gk %% %lld;\n", (long long)c->ksz,
              (long long)c->ksz);
      int64_t inner = 1;
      for (int i = c->nsp - 1; i >= 0; i--) {
        cgc_out(e, "        const int ii%d = xi%d_%d + ((kr / %lld) %% %lld)*%lld;\n", i, r, i,
                (long long)inner, (long long)c->k[i], (long long)c->d[i]);
        inner *= c->k[i];
      }
      cgc_out(e, "        if (");
      for (int i = 0; i < c->nsp; i++)
        cgc_out(e, "%s(uint)ii%d < %lluu", i ? " && " : "", i, (unsigned long long)c->in[i]);
      char at[200];
      int len = snprintf(at, sizeof at, "ci*%lld", (long long)c->xs[1]);
      for (int i = 0; i < c->nsp; i++)
        len += snprintf(at + len, sizeof at - (size_t)len, " + ii%d*%lld", i,
                        (long long)c->xs[2 + i]);
      cgc_out(e, ")\n          xv = %s;\n", cgc_ld(g->xdt, "xb", at));
    }
    cgc_out(e, "      }\n      Xs[xk%d][xo%d] = xv;\n    }\n", r, r);
  }
}

/* A tile extent: the option when set (a multiple of 16, at most 128), else the smallest of
 * 16, 32, 64 that covers n. */
static bool tile_of(Emit *e, int opt, int64_t n, const char *what, int *out) {
  if (opt > 0) {
    if (opt % WG || opt > 128)
      return cg_fail(e, "%s %d is not a multiple of %d up to 128", what, opt, WG);
    *out = opt;
  } else {
    *out = n <= 16 ? 16 : n <= 32 ? 32 : 64;
  }
  return true;
}

bool cgc_emit_tiled(Emit *e, TiledGemm *g) {
  int tm = 0, tn = 0, tk = e->opt && e->opt->tile_k > 0 ? e->opt->tile_k : 16;
  if (!tile_of(e, e->opt ? e->opt->tile_m : 0, g->P, "tile_m", &tm) ||
      !tile_of(e, e->opt ? e->opt->tile_n : 0, g->Q, "tile_n", &tn))
    return false;
  if (tk > 64)
    return cg_fail(e, "tile_k %d is more than 64", tk);
  /* A grid of fewer work-groups than about two per SM (132 on an H100/H200) leaves SMs idle,
   * which costs more than the lower intensity of smaller tiles (ResNet-50's 56x56x64 3x3 conv
   * at batch 1: 49 work-groups of 64 x 64, 1.4x slower than 196 of 32 x 32 there). Tiles halve,
   * the position side first, down to 32, or for a GPU (CgOptions.min_tile 16) to one output
   * per work-item: layer4's 3x3 convs (512 channels at 7x7) then get 128 work-groups, not 32. */
  int64_t per_wg = g->groups * g->items;
  bool fixed_m = e->opt && e->opt->tile_m > 0, fixed_n = e->opt && e->opt->tile_n > 0;
  int floor = e->opt && e->opt->min_tile == WG ? WG : 2 * WG;
  for (;;) {
    int64_t wgs = per_wg * ((g->P + tm - 1) / tm) * ((g->Q + tn - 1) / tn);
    if (wgs >= 256)
      break;
    if (!fixed_n && tn > floor && tn >= tm)
      tn /= 2;
    else if (!fixed_m && tm > floor)
      tm /= 2;
    else if (!fixed_n && tn > floor)
      tn /= 2;
    else
      break;
  }
  int rm = tm / WG, rn = tn / WG;
  int64_t tiles_p = (g->P + tm - 1) / tm, tiles_q = (g->Q + tn - 1) / tn;
  e->k->work_dim = 3;
  e->k->global[0] = (size_t)(tiles_q * WG);
  e->k->global[1] = (size_t)(g->groups * tiles_p * WG);
  e->k->global[2] = (size_t)g->items;
  e->k->local[0] = e->k->local[1] = WG;
  e->k->local[2] = 1;
  e->k->batch_dim = g->items_batched ? 2 : -1;

  char qb[32];
  snprintf(qb, sizeof qb, g->q_runtime ? "batch" : "%lld", (long long)g->Q);
  cg_kernel_open(e);
  cgc_out(e, "  /* tiled GEMM: P %lld, Q %s, K %lld, groups %lld; tile %d x %d x %d */\n",
          (long long)g->P, qb, (long long)g->K, (long long)g->groups, tm, tn, tk);
  cgc_out(e, "  const int lx = get_local_id(0), ly = get_local_id(1), tid = ly*%d + lx;\n", WG);
  cgc_out(e, "  const int z = get_global_id(2), tq = get_group_id(0)*%d;\n", tn);
  cgc_out(e, "  const int tg = get_group_id(1) / %lld, tp = (get_group_id(1) %% %lld)*%d;\n",
          (long long)tiles_p, (long long)tiles_p, tm);
  if (g->q_runtime) /* the whole work-group leaves together, before any barrier */
    cgc_out(e, "  if (tq >= batch) return;\n");
  ir_buf_puts(e->src, ir_buf_str(&g->setup));
  cgc_out(e, "  __local float Ws[%d][%d];\n  __local float Xs[%d][%d];\n", tk, tm + 1, tk, tn + 1);

  char pb[32];
  snprintf(pb, sizeof pb, "%lld", (long long)g->P);
  bool w_aligned = !g->w_batched && g->w_offset % 16 == 0 &&
                   (g->groups == 1 || (g->P * g->wsp) % 4 == 0);
  Loader wl = strided_loader("Ws", "w", "wb", "tp", pb, tk, tm, g->wsk, g->wsp, g->K, g->P,
                             w_aligned, g->wdt);
  if (g->groups > 1 && !wl.kfast)
    wl.vec = false;
  loader_setup(e, &wl);

  Loader xl = {0};
  bool xvec = false, pointwise = false;
  if (g->x_im2col) {
    const ConvGeo *c = g->conv;
    pointwise = true;
    /* float4 along q: a 1x1 kernel, stride 1, no pads, over a contiguous plane. */
    bool contiguous = c->xs[1 + c->nsp] == 1;
    for (int i = 0; i < c->nsp; i++) {
      pointwise &= c->k[i] == 1 && c->pads[i] == 0 && c->pads[c->nsp + i] == 0;
      contiguous &= c->s[i] == 1 && c->out[i] == c->in[i];
      if (i < c->nsp - 1)
        contiguous &= c->xs[2 + i] == c->xs[3 + i] * c->in[i + 1];
    }
    xvec = pointwise && contiguous && g->Q % 4 == 0 && c->xs[0] % 4 == 0 && c->xs[1] % 4 == 0 &&
           (c->cg * c->xs[1]) % 4 == 0 && c->x_offset % 16 == 0;
    im2col_setup(e, g, tk, tn, xvec, pointwise);
  } else {
    bool x_aligned = !g->x_batched && g->x_offset % 16 == 0;
    xl = strided_loader("Xs", "x", "xb", "tq", qb, tk, tn, g->xsk, g->xsq, g->K,
                        g->q_runtime ? 0 : g->Q, x_aligned, g->xdt);
    loader_setup(e, &xl);
  }

  for (int i = 0; i < rm; i++) {
    cgc_out(e, "  float ");
    for (int j = 0; j < rn; j++)
      cgc_out(e, "%sacc%d_%d = 0.0f", j ? ", " : "", i, j);
    cgc_out(e, ";\n");
  }
  cgc_out(e, "  for (int k0 = 0; k0 < %lld; k0 += %d) {\n", (long long)g->K, tk);
  loader_step(e, &wl);
  if (g->x_im2col)
    im2col_step(e, g, tk, tn, xvec, pointwise);
  else
    loader_step(e, &xl);
  cgc_out(e, "    barrier(CLK_LOCAL_MEM_FENCE);\n    #pragma unroll\n"
             "    for (int kk = 0; kk < %d; kk++) {\n", tk);
  for (int i = 0; i < rm; i++)
    cgc_out(e, "      const float wa%d = Ws[kk][ly + %d];\n", i, WG * i);
  for (int j = 0; j < rn; j++)
    cgc_out(e, "      const float xr%d = Xs[kk][lx + %d];\n", j, WG * j);
  for (int i = 0; i < rm; i++)
    for (int j = 0; j < rn; j++)
      cgc_out(e, "      acc%d_%d = fma(wa%d, xr%d, acc%d_%d);\n", i, j, i, j, i, j);
  cgc_out(e, "    }\n    barrier(CLK_LOCAL_MEM_FENCE);\n  }\n");

  /* The epilogue once per register-block element, written out (no private arrays). */
  for (int i = 0; i < rm; i++)
    for (int j = 0; j < rn; j++) {
      cgc_out(e, "  {\n  const int p = tp + ly + %d, q = tq + lx + %d;\n", WG * i, WG * j);
      cgc_out(e, "  if (p < %lld && q < %s) {\n  const int co = tg*%lld + p;\n",
              (long long)g->P, qb, (long long)g->P);
      char acc[32]; /* "acc%d_%d" of two ints */
      snprintf(acc, sizeof acc, "acc%d_%d", i, j);
      if (!g->out(e, g, acc))
        return false;
      cgc_out(e, "  }\n  }\n");
    }
  cgc_out(e, "}\n");
  return true;
}
