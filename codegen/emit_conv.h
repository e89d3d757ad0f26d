/* emit_conv.h - what emit_conv.c (anchors, epilogues, direct kernels), emit_conv_tiled.c (the
 * tiled GEMM core) and emit_conv_cpu.c (the CPU conv) share. Internal to those files. */
#ifndef KILN_CODEGEN_EMIT_CONV_H
#define KILN_CODEGEN_EMIT_CONV_H

#include "emit.h"

/* A conv or conv_transpose anchor's geometry (1 to 3 spatial axes). cout and mg are the result's
 * channels and those per group; cg the input channels per group. */
typedef struct ConvGeo {
  int nsp;
  int64_t group, cin, cout, cg, mg;
  int64_t k[3], in[3], out[3], s[3], d[3], pads[6]; /* pads: begins, then ends */
  int64_t ksz, isz, osz;
  bool batched;  /* X's dims[0] is N */
  int64_t items; /* global[2]: 1 when batched (times batch at run time), else X's dims[0] */
  int64_t xs[IR_MAX_RANK];
  uint64_t x_offset, w_offset; /* bytes, in their pools */
} ConvGeo;

typedef struct TiledGemm TiledGemm;

/* Emits the anchor's value from the C expression acc and the epilogue and stores, with q (the
 * column), co (the channel, group included) and the item's variables in scope. */
typedef bool (*TiledOutFn)(Emit *e, const TiledGemm *g, const char *acc);

/* One implicit GEMM per item z (global id 2) and group tg:
 *   out(co = tg*P + p, q) = sum_k W(p, k) X(k, q),  p < P, q < Q, k < K
 * with W(p, k) = wb[p*wsp + k*wsk] and X either xb[k*xsk + q*xsq] or, for conv, the im2col of
 * X at output position q. `setup` is code run once per work-item with z and tg defined; it
 * defines the pointers wb and xb (and whatever out needs: b, z0..). */
struct TiledGemm {
  const Op *anchor;
  const ConvGeo *conv; /* set with x_im2col */
  bool x_im2col;
  int64_t P, K, groups, Q; /* Q: columns per item; with q_runtime, the largest batch */
  bool q_runtime;          /* columns bounded by the kernel's `batch` argument */
  int64_t items;
  bool items_batched;
  int64_t wsp, wsk, xsq, xsk;
  uint64_t w_offset, x_offset; /* bytes: the alignment of the tensors for vector loads */
  bool w_pool_wts;
  bool w_batched, x_batched; /* wb or xb moves with z (then no vector loads: alignment unknown) */
  DType wdt, xdt;            /* storage of W and X: f32, or f16 */
  Buf setup;
  TiledOutFn out;
};

void cgc_out(Emit *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The load of element idx of pointer ptr to storage of dt, in the compute type: "ptr[idx]", or
 * "vload_half(idx, ptr)" for f16; cgc_ld4 the four elements from ptr + idx on as a float4 (ptr +
 * idx 16-byte aligned for f32). Static buffers, valid for 4 calls. */
const char *cgc_ld(DType dt, const char *ptr, const char *idx);
const char *cgc_ld4(DType dt, const char *ptr, const char *idx);
/* `const int <prefix>0 .. = ...;` decoding flat position q over dims[0..n), row-major. */
void cgc_emit_decode(Emit *e, const char *q, const int64_t *dims, int n, const char *prefix);
/* The epilogue after anchor at coordinates coords[0..drank) (chan: the channel axis), then the
 * stores of the yield; a horizontal merge's branches under `if (co < END)`. */
bool cgc_emit_tail(Emit *e, const Op *anchor, int drank, const char *const *coords, int chan);
/* The conv anchor's value (`acc` plus the bias) and its epilogue and stores, with b, co and q
 * in scope, and o0.. too when decoded. */
bool cgc_conv_out(Emit *e, const Op *anchor, const ConvGeo *c, const char *acc, bool decoded);
/* The CPU conv kernel (emit_conv_cpu.c), for an op cg_conv_cpu_ok accepts. */
bool cgc_emit_conv_cpu(Emit *e, const Op *op, const ConvGeo *c);
/* The tiled kernel of g (emit_conv_tiled.c); fills e->k's geometry. */
bool cgc_emit_tiled(Emit *e, TiledGemm *g);

#endif
