/* precision.c - the `precision{mode=fp32|fp16}` pass: assigns the storage type of every float
 * tensor on the device.
 *
 * fp16 (TensorRT's kFP16): every op of a device block whose float tensors are f32 becomes f16,
 * except the ops that overflow or lose too much in half precision, which stay f32 with a remark:
 * exp, pow, softmax and log_softmax, the normalizations (their statistics), the sums and
 * products over more than SMALL_SUM elements (reduce_sum, reduce_prod, reduce_l1/l2,
 * reduce_sum_square, log-sum(-exp); split-k's sum of partial convs stays f16), cum_sum, and
 * casts (their target is given). f16 in kiln's IR is a storage type: code
 * generation loads halves with vload_half, computes and accumulates in float and rounds once,
 * at the store (emit.h), so an f16 kernel's epilogue runs at f32 precision.
 *   - Float weights read by an f16 op are converted once into new f16 weights `NAME_f16`
 *     (round to nearest even, saturating at +-65504 with a remark); the f32 weight stays while
 *     anything else reads it.
 *   - Where an f16 value meets an op that stays f32, or a block's yield (a segment's results:
 *     the host and the engine's outputs see f32), a `cast {to = "f32"}` is inserted after its
 *     producer; where an f32 value (an input, a host result, a kept op's result) meets an f16
 *     op, a `cast {to = "f16"}`. One cast per value and direction; fuse later folds casts into
 *     the epilogues and elementwise chains next to them.
 *   - Resize's scales and sizes operands keep their type (coordinates, not data).
 * fp32: nothing changes but what a layer pattern makes fp16. int8 and best are not implemented
 * yet: an error says so.
 *
 * Per-layer overrides (option layers, kiln-compile --layer-precision): `GLOB=fp32;GLOB=fp16;...`,
 * globs (fnmatch) on op symbols, the ONNX node names; the first pattern that matches an op
 * decides its precision over the mode, fp16 also for an op the mode would keep in f32 (a
 * remark says so). Ops of other than f32 float types, and ops the device cannot run in f16, are
 * not changed by a pattern. A pattern that matches no op is a warning naming it.
 *
 * Blocks: the body of every segment with target "device"; the module body when it holds no
 * segment (then only ops pass_device_ok accepts). Host segments keep f32.
 *
 * Requires: types inferred; a module that verifies; runs after segment and before fuse (a fused
 *   op in a device block is left f32, with a remark). Maintains: SSA, names, outputs' types.
 * Creates: cast ops (anonymous), f16 weights, and one summary remark. */
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "outline.h"
#include "pass.h"

enum { SMALL_SUM = 64 }; /* reductions of at most this many elements per output may be f16 */

typedef struct Prec {
  PassContext *pc;
  Module *m;
  Value **to16, **to32; /* per value id: its f16 / f32 version in the current block */
  Value **w16;          /* per weight id: its f16 copy (module-wide) */
  bool *retyped;        /* per value id: an f32 result this pass made f16 */
  int cap;              /* ids covered by the arrays; ids past it are this pass's */
  int nlow, nkept, ncasts, nweights;
  bool fp16;            /* the mode's default for an op no pattern matches */
  char **pat;           /* overrides: globs, */
  bool *pat16, *pat_used; /* their precision (fp16 or not), whether one matched */
  int npat;
} Prec;

static void *xcalloc(size_t n, size_t size) {
  void *p = calloc(n ? n : 1, size);
  if (!p)
    abort();
  return p;
}

/* How many elements one output of a reduction sums: 0 when unknown. */
static int64_t reduced_count(const Op *op) {
  int64_t nx = ir_type_numel_per_item(&op->operands[0].value->type);
  int64_t ny = ir_type_numel_per_item(&op->results[0]->type);
  return nx > 0 && ny > 0 ? nx / ny : 0;
}

/* Ops that stay f32 under fp16, and why (NULL: none). */
static const char *kept_reason(const Op *op) {
  switch (op->kind) {
  case OP_EXP:
  case OP_POW: return "its result overflows f16 easily";
  case OP_SOFTMAX:
  case OP_LOG_SOFTMAX:
  case OP_LAYER_NORM:
  case OP_INSTANCE_NORM:
  case OP_LRN:
  case OP_MVN: return "its statistics need f32";
  case OP_REDUCE_SUM:
  case OP_REDUCE_PROD:
  case OP_REDUCE_L1:
  case OP_REDUCE_L2:
  case OP_REDUCE_SUM_SQUARE:
  case OP_REDUCE_LOG_SUM:
  case OP_REDUCE_LOG_SUM_EXP: {
    /* A sum of a few (split-k's partial sums) stays in range; of many, not. */
    int64_t n = reduced_count(op);
    return n > 0 && n <= SMALL_SUM ? NULL : "a sum or product over many elements overflows f16";
  }
  case OP_CUM_SUM: return "a running sum overflows f16 easily";
  default: return NULL;
  }
}

/* Operands that are coordinates rather than data: they keep their type. */
static bool is_meta_operand(const Op *op, int i) {
  return op->kind == OP_RESIZE && (i == 1 || i == 2);
}

static bool is_f32(const Value *v) { return v->type.dtype == DT_F32; }

/* Whether op becomes f16: a float op with an f32 data operand, f32 float results only. */
static bool lowers(Prec *p, Op *op, bool check_device) {
  const OpInfo *info = &ir_ops[op->kind];
  if (info->flags & (F_TERMINATOR | F_DATA_SHAPE))
    return false;
  if (op->kind == OP_FUSED || op->kind == OP_SEGMENT) {
    pass_remark(p->pc, op, "'%s' op left in f32: precision runs before fuse",
                ir_op_name(op->kind));
    return false;
  }
  bool data = false; /* an f32 data operand, or one this pass made f16 */
  for (int i = 0; i < op->noperands; i++) {
    const Value *v = op->operands[i].value;
    data |= (is_f32(v) || (v->id < p->cap && p->retyped[v->id])) && !is_meta_operand(op, i);
  }
  bool f32_result = false;
  for (int i = 0; i < op->nresults; i++) {
    DType dt = op->results[i]->type.dtype;
    if (ir_dtype_is_float(dt) && dt != DT_F32)
      return false;
    f32_result |= dt == DT_F32;
  }
  if (!data || !f32_result || op->kind == OP_CAST)
    return false;
  int k = 0;
  while (k < p->npat && !(op->sym && fnmatch(p->pat[k], op->sym, 0) == 0))
    k++;
  if (k < p->npat)
    p->pat_used[k] = true;
  bool fp16 = k < p->npat ? p->pat16[k] : p->fp16;
  const char *why = kept_reason(op);
  if (!fp16 || (why && k < p->npat)) {
    if (k < p->npat)
      pass_remark(p->pc, op, "'%s' @%s: %s by layer pattern '%s'%s%s", ir_op_name(op->kind),
                  op->sym, fp16 ? "f16" : "f32", p->pat[k], why && fp16 ? ", although " : "",
                  why && fp16 ? why : "");
    if (!fp16)
      return false;
  } else if (why) {
    pass_remark(p->pc, op, "'%s' kept in f32: %s", ir_op_name(op->kind), why);
    p->nkept++;
    return false;
  }
  char reason[200];
  return !check_device || pass_device_ok(p->pc, op, reason, sizeof reason);
}

static Value *f16_weight(Prec *p, Value *w) {
  if (p->w16[w->id])
    return p->w16[w->id];
  const Tensor *t = w->tensor;
  Type ty = w->type;
  ty.dtype = DT_F16;
  int64_t n = ir_type_numel(&w->type);
  uint16_t *h = NULL;
  int saturated = 0;
  if (t->data) {
    h = xcalloc((size_t)n, sizeof *h);
    const float *f = t->data;
    for (int64_t i = 0; i < n; i++) {
      float x = f[i];
      if (x > 65504.0f || x < -65504.0f) {
        x = x > 0 ? 65504.0f : -65504.0f;
        saturated++;
      }
      h[i] = ir_f32_to_f16(x);
    }
  }
  Buf name = {0};
  ir_buf_printf(&name, "%s_f16", w->name ? w->name : "w");
  for (int k = 2; ir_lookup_value(p->m, '$', ir_buf_str(&name)); k++) {
    ir_buf_clear(&name);
    ir_buf_printf(&name, "%s_f16_%d", w->name ? w->name : "w", k);
  }
  Value *v = ir_add_weight(p->m, ir_buf_str(&name), ty, h, h ? (size_t)n * 2 : 0);
  if (saturated)
    pass_remark(p->pc, NULL, "weight $%s: %d values beyond f16's range saturated to +-65504",
                ir_buf_str(&name), saturated);
  ir_buf_free(&name);
  free(h);
  p->w16[w->id] = v;
  p->nweights++;
  return v;
}

/* v as dtype dt in block b: a cast after v's producer when that is in b, else at b's start. */
static Value *cast_of(Prec *p, Block *b, Value *v, DType dt) {
  Value **cache = dt == DT_F16 ? p->to16 : p->to32;
  if (cache[v->id])
    return cache[v->id];
  Type ty = v->type;
  ty.dtype = dt;
  Op *c = ir_op_create(p->m, OP_CAST, 1, &v, 1, &ty);
  ir_op_set_string(p->m, c, "to", ir_dtype_name(dt));
  if (v->kind == VAL_RESULT && v->def->parent == b) {
    c->loc = v->def->loc;
    ir_op_insert_after(v->def, c);
  } else if (b->first) {
    ir_op_insert_before(b->first, c);
  } else {
    ir_block_append(b, c);
  }
  cache[v->id] = c->results[0];
  p->ncasts++;
  return c->results[0];
}

/* Drops the f32 weights that this pass replaced everywhere (keeps the order of the rest). */
static void drop_replaced_weights(Prec *p) {
  Module *m = p->m;
  int n = 0;
  for (int i = 0; i < m->nweights; i++) {
    Value *w = m->weights[i];
    if (w->id < p->cap && p->w16[w->id] && !ir_value_has_uses(w))
      continue;
    w->index = n;
    m->weights[n++] = w;
  }
  m->nweights = n;
}

static void lower_block(Prec *p, Block *b, bool check_device) {
  memset(p->to16, 0, sizeof(Value *) * (size_t)p->cap);
  memset(p->to32, 0, sizeof(Value *) * (size_t)p->cap);
  for (Op *op = b->first, *next; op; op = next) {
    next = op->next;
    bool low = lowers(p, op, check_device);
    for (int i = 0; i < op->noperands; i++) {
      Value *v = op->operands[i].value;
      if (v->id >= p->cap)
        continue; /* created by this pass: already of the right type */
      if (low && is_f32(v) && !is_meta_operand(op, i)) {
        ir_op_set_operand(op, i, v->kind == VAL_WEIGHT ? f16_weight(p, v) : cast_of(p, b, v, DT_F16));
      } else if (!low && p->retyped[v->id]) {
        ir_op_set_operand(op, i, cast_of(p, b, v, DT_F32));
      }
    }
    if (low) {
      for (int i = 0; i < op->nresults; i++)
        if (is_f32(op->results[i])) {
          op->results[i]->type.dtype = DT_F16;
          p->retyped[op->results[i]->id] = true;
        }
      p->nlow++;
    }
  }
}

static bool is_device_segment(const Op *op) {
  const char *t = ir_attr_string(op, "target", "");
  return op->kind == OP_SEGMENT && op->body && strcmp(t, "device") == 0;
}

/* Parses `GLOB=fp32;GLOB=fp16` into p's pattern table; false after an error. */
static bool parse_layers(Prec *p, const char *spec) {
  int n = *spec ? 1 : 0;
  for (const char *c = spec; *c; c++)
    n += *c == ';';
  p->pat = xcalloc((size_t)n, sizeof *p->pat);
  p->pat16 = xcalloc((size_t)n, sizeof *p->pat16);
  p->pat_used = xcalloc((size_t)n, sizeof *p->pat_used);
  for (const char *c = spec; *c;) {
    const char *end = strchr(c, ';');
    size_t len = end ? (size_t)(end - c) : strlen(c);
    const char *eq = memchr(c, '=', len);
    const char *prec = eq ? eq + 1 : NULL;
    size_t plen = eq ? len - (size_t)(prec - c) : 0;
    bool is16 = plen == 4 && !strncmp(prec, "fp16", 4), is32 = plen == 4 && !strncmp(prec, "fp32", 4);
    if (!eq || eq == c || (!is16 && !is32)) {
      ir_error(p->pc->diag, (Loc){0, 0}, "precision: layer pattern '%.*s' is not GLOB=fp32 or "
               "GLOB=fp16", (int)len, c);
      return false;
    }
    char *g = xcalloc((size_t)(eq - c) + 1, 1);
    memcpy(g, c, (size_t)(eq - c));
    p->pat[p->npat] = g;
    p->pat16[p->npat++] = is16;
    c += len + (end ? 1 : 0);
  }
  return true;
}

static void free_layers(Prec *p) {
  for (int i = 0; i < p->npat; i++)
    free(p->pat[i]);
  free(p->pat);
  free(p->pat16);
  free(p->pat_used);
}

static bool run(PassContext *pc) {
  const char *mode = pass_opt_string(pc, "mode"), *layers = pass_opt_string(pc, "layers");
  if (strcmp(mode, "fp32") == 0 && !*layers)
    return true;
  if (strcmp(mode, "int8") == 0 || strcmp(mode, "best") == 0) {
    ir_error(pc->diag, (Loc){0, 0}, "precision: mode '%s' is not implemented yet (fp32, fp16)",
             mode);
    return false;
  }
  if (strcmp(mode, "fp16") != 0 && strcmp(mode, "fp32") != 0) {
    ir_error(pc->diag, (Loc){0, 0}, "precision: mode '%s' is not one of fp32, fp16, int8, best",
             mode);
    return false;
  }
  Module *m = pc->m;
  Prec p = {.pc = pc, .m = m, .cap = m->next_id, .fp16 = strcmp(mode, "fp16") == 0};
  if (!parse_layers(&p, layers)) {
    free_layers(&p);
    return false;
  }
  p.to16 = xcalloc((size_t)p.cap, sizeof *p.to16);
  p.to32 = xcalloc((size_t)p.cap, sizeof *p.to32);
  p.w16 = xcalloc((size_t)p.cap, sizeof *p.w16);
  p.retyped = xcalloc((size_t)p.cap, sizeof *p.retyped);
  bool segmented = false;
  for (Op *op = m->body.first; op; op = op->next)
    if (op->kind == OP_SEGMENT) {
      segmented = true;
      if (is_device_segment(op))
        lower_block(&p, op->body, false);
    }
  if (!segmented)
    lower_block(&p, &m->body, true);
  pass_recapture(m, &m->body); /* the f16 weights in, the f32 ones they replaced out */
  drop_replaced_weights(&p);
  for (int i = 0; i < p.npat; i++)
    if (!p.pat_used[i])
      ir_diag(pc->diag, DIAG_WARNING, (Loc){0, 0},
              "precision: layer pattern '%s' matches no op that could change precision", p.pat[i]);
  pass_remark(pc, NULL, "precision: %d ops in f16, %d kept in f32, %d casts, %d weights converted",
              p.nlow, p.nkept, p.ncasts, p.nweights);
  free_layers(&p);
  free(p.to16);
  free(p.to32);
  free(p.w16);
  free(p.retyped);
  return true;
}

static const PassOptionSpec options[] = {
    {"mode", PASS_OPT_STRING, "fp32", "fp32, fp16 (half storage, f32 arithmetic); int8, best"},
    {"layers", PASS_OPT_STRING, "", "overrides GLOB=fp32;GLOB=fp16 on ONNX node names, first match wins"},
};

const PassInfo pass_precision = {
    "precision", "assign storage precision: fp16 halves on the device, f32 where it overflows",
    options, 2, run};
