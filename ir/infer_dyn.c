/* infer_dyn.c - the operand form of ops (dyn_form.h) and the shape inference of the shape
 * computations: shape, size, constant_of_shape, range, expand, tile. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dyn_form.h"
#include "infer.h"

/* ---- the operand form ---- */

#define P(name, kind) {name, kind}
static const IrDynParam p_shape[] = {P("shape", ATTR_INTS)};
static const IrDynParam p_axes[] = {P("axes", ATTR_INTS)};
static const IrDynParam p_slice[] = {P("starts", ATTR_INTS), P("ends", ATTR_INTS),
                                     P("axes", ATTR_INTS), P("steps", ATTR_INTS)};
static const IrDynParam p_resize[] = {P("scales", ATTR_FLOATS), P("sizes", ATTR_INTS)};
static const IrDynParam p_pad[] = {P("pads", ATTR_INTS), P("value", ATTR_FLOAT)};
static const IrDynParam p_clip[] = {P("min", ATTR_FLOAT), P("max", ATTR_FLOAT)};
static const IrDynParam p_split[] = {P("split", ATTR_INTS)};
static const IrDynParam p_repeats[] = {P("repeats", ATTR_INTS)};
static const IrDynParam p_k[] = {P("k", ATTR_INT)};
static const IrDynParam p_axis[] = {P("axis", ATTR_INT)};
static const IrDynParam p_depth[] = {P("depth", ATTR_INT)};
#undef P

int ir_dyn_base(OpKind k, const IrDynParam **params, int *nparams) {
  const IrDynParam *p = NULL;
  int n = 0, base = 1;
  switch (k) {
  case OP_RESHAPE: case OP_EXPAND: p = p_shape, n = 1; break;
  case OP_CONSTANT_OF_SHAPE: p = p_shape, n = 1, base = 0; break;
  case OP_SQUEEZE: case OP_UNSQUEEZE: case OP_REDUCE_MEAN: case OP_REDUCE_SUM: case OP_REDUCE_MAX:
  case OP_REDUCE_MIN: case OP_REDUCE_PROD: case OP_REDUCE_L1: case OP_REDUCE_L2:
  case OP_REDUCE_LOG_SUM: case OP_REDUCE_LOG_SUM_EXP: case OP_REDUCE_SUM_SQUARE:
    p = p_axes, n = 1;
    break;
  case OP_SLICE: p = p_slice, n = 4; break;
  case OP_RESIZE: p = p_resize, n = 2; break;
  case OP_PAD: p = p_pad, n = 2; break;
  case OP_CLIP: p = p_clip, n = 2; break;
  case OP_SPLIT: p = p_split, n = 1; break;
  case OP_TILE: p = p_repeats, n = 1; break;
  case OP_TRILU: case OP_TOP_K: p = p_k, n = 1; break;
  case OP_CUM_SUM: p = p_axis, n = 1; break;
  case OP_ONE_HOT: p = p_depth, n = 1, base = 2; break;
  default: return -1;
  }
  if (params)
    *params = p;
  if (nparams)
    *nparams = n;
  return base;
}

bool ir_dyn_has_operands(const Op *op) {
  int base = ir_dyn_base(op->kind, NULL, NULL);
  return base >= 0 && op->noperands > base;
}

bool ir_dyn_provides(const Op *op, const char *name) {
  const IrDynParam *p;
  int np, base = ir_dyn_base(op->kind, &p, &np);
  for (int i = 0; base >= 0 && i < np && base + i < op->noperands; i++)
    if (!strcmp(p[i].attr, name))
      return true;
  return false;
}

static double elem_f(const Tensor *t, int64_t i) {
  const unsigned char *p = t->data;
  switch (t->type.dtype) {
  case DT_F32: { float x; memcpy(&x, p + 4 * i, 4); return x; }
  case DT_F64: { double x; memcpy(&x, p + 8 * i, 8); return x; }
  case DT_F16: { uint16_t x; memcpy(&x, p + 2 * i, 2); return ir_f16_to_f32(x); }
  case DT_BF16: { uint16_t x; memcpy(&x, p + 2 * i, 2); return ir_bf16_to_f32(x); }
  default: break;
  }
  return 0;
}

static int64_t elem_i(const Tensor *t, int64_t i) {
  const unsigned char *p = t->data;
  switch (t->type.dtype) {
  case DT_I8: return (int8_t)p[i];
  case DT_U8: case DT_BOOL: return p[i];
  case DT_I16: { int16_t x; memcpy(&x, p + 2 * i, 2); return x; }
  case DT_U16: { uint16_t x; memcpy(&x, p + 2 * i, 2); return x; }
  case DT_I32: { int32_t x; memcpy(&x, p + 4 * i, 4); return x; }
  case DT_U32: { uint32_t x; memcpy(&x, p + 4 * i, 4); return x; }
  default: { int64_t x; memcpy(&x, p + 8 * i, 8); return x; }
  }
}

static double elem_num(const Tensor *t, int64_t i) {
  return ir_dtype_is_float(t->type.dtype) ? elem_f(t, i) : (double)elem_i(t, i);
}

static int cmp_attr(const void *a, const void *b) {
  return strcmp(((const Attr *)a)->name, ((const Attr *)b)->name);
}

bool ir_dyn_view(const Op *op, const Tensor *const *extra, IrDynView *v, char *err,
                 size_t errlen) {
  const IrDynParam *p;
  int np, base = ir_dyn_base(op->kind, &p, &np);
  memset(v, 0, sizeof *v);
  v->op = *op;
  v->attrs = malloc(sizeof *v->attrs * (size_t)(op->nattrs + np + 1));
  if (!v->attrs)
    abort();
  if (op->nattrs)
    memcpy(v->attrs, op->attrs, sizeof *v->attrs * (size_t)op->nattrs);
  int na = op->nattrs, nextra = base < 0 ? 0 : op->noperands - base;
  for (int i = 0; i < nextra && i < np; i++) {
    const Tensor *t = extra[i];
    int64_t n = ir_type_numel(&t->type);
    const AttrSpec *spec = ir_op_attr_spec(op->kind, p[i].attr);
    if (n < 0 || (n > 0 && !t->data)) {
      ir_dyn_view_free(v);
      return ir_infer_fail(err, errlen, "operand %d has no static data", base + i);
    }
    if (n == 0 && spec && spec->optional)
      continue;
    if (n > 4096) {
      ir_dyn_view_free(v);
      return ir_infer_fail(err, errlen, "operand %d has %lld values, too many", base + i,
                           (long long)n);
    }
    bool isf = ir_dtype_is_float(t->type.dtype), isi = ir_dtype_is_int(t->type.dtype);
    if ((p[i].kind == ATTR_INTS && !isi) || (!isi && !isf)) {
      ir_dyn_view_free(v);
      return ir_infer_fail(err, errlen, "operand %d (%s) is %s, expected %s", base + i,
                           p[i].attr, ir_dtype_name(t->type.dtype),
                           p[i].kind == ATTR_INTS ? "an integer tensor" : "a number tensor");
    }
    Attr a = {.name = p[i].attr, .kind = p[i].kind, .n = (int)n};
    if (p[i].kind == ATTR_FLOAT || p[i].kind == ATTR_INT) {
      if (n != 1) {
        ir_dyn_view_free(v);
        return ir_infer_fail(err, errlen, "operand %d (%s) has %lld values, expected 1",
                             base + i, p[i].attr, (long long)n);
      }
      a.n = 0;
      if (p[i].kind == ATTR_INT) {
        double d = elem_num(t, 0);
        if (isf && !(d > -9.0e18 && d < 9.0e18)) {
          ir_dyn_view_free(v);
          return ir_infer_fail(err, errlen, "operand %d (%s) is out of range", base + i,
                               p[i].attr);
        }
        a.i = isf ? (int64_t)d : elem_i(t, 0);
      } else {
        a.f = (double)(float)elem_num(t, 0);
      }
    } else if (p[i].kind == ATTR_INTS) {
      int64_t *b = malloc(sizeof *b * (size_t)(n + 1));
      if (!b)
        abort();
      for (int64_t j = 0; j < n; j++)
        b[j] = elem_i(t, j);
      v->bufs[v->nbufs++] = b;
      a.ints = b;
    } else {
      double *b = malloc(sizeof *b * (size_t)(n + 1));
      if (!b)
        abort();
      for (int64_t j = 0; j < n; j++)
        b[j] = (double)(float)elem_num(t, j);
      v->bufs[v->nbufs++] = b;
      a.floats = b;
    }
    int at = na;
    for (int j = 0; j < na; j++)
      if (!strcmp(v->attrs[j].name, a.name))
        at = j;
    v->attrs[at] = a;
    if (at == na)
      na++;
  }
  qsort(v->attrs, (size_t)na, sizeof *v->attrs, cmp_attr);
  v->op.attrs = v->attrs;
  v->op.nattrs = na;
  v->op.noperands = base < 0 ? op->noperands : base;
  return true;
}

void ir_dyn_view_free(IrDynView *v) {
  for (int i = 0; i < v->nbufs; i++)
    free(v->bufs[i]);
  free(v->attrs);
  v->attrs = NULL;
  v->nbufs = 0;
}

bool ir_dyn_constant(const Op *op, const Tensor **extra) {
  int base = ir_dyn_base(op->kind, NULL, NULL);
  if (base < 0)
    return false;
  for (int i = base; i < op->noperands; i++) {
    const Value *w = op->operands[i].value;
    if (w->kind != VAL_WEIGHT || !w->tensor || ir_type_numel(&w->type) < 0 ||
        (ir_type_numel(&w->type) > 0 && !w->tensor->data))
      return false;
    extra[i - base] = w->tensor;
  }
  return true;
}

bool ir_dyn_to_attrs(Module *m, Op *op, char *err, size_t errlen) {
  if (err && errlen)
    err[0] = 0;
  if (!ir_dyn_has_operands(op))
    return false;
  const Tensor **extra = malloc(sizeof *extra * (size_t)(op->noperands + 1));
  if (!extra)
    abort();
  IrDynView v;
  bool ok = ir_dyn_constant(op, extra) && ir_dyn_view(op, extra, &v, err, errlen);
  free(extra);
  if (!ok)
    return false;
  for (int i = 0; i < v.op.nattrs; i++)
    if (!ir_op_attr(op, v.op.attrs[i].name) ||
        !ir_attr_equal(ir_op_attr(op, v.op.attrs[i].name), &v.op.attrs[i]))
      ir_op_set_attr(m, op, &v.op.attrs[i]);
  int base = v.op.noperands;
  ir_dyn_view_free(&v);
  Value **keep = malloc(sizeof *keep * (size_t)(base + 1));
  if (!keep)
    abort();
  for (int i = 0; i < base; i++)
    keep[i] = op->operands[i].value;
  ir_op_set_operands(m, op, base, keep);
  free(keep);
  return true;
}

bool ir_infer_dyn(const Op *op, Type *out, char *err, size_t errlen) {
  const Tensor **extra = malloc(sizeof *extra * (size_t)(op->noperands + 1));
  if (!extra)
    abort();
  if (!ir_dyn_constant(op, extra)) {
    free(extra);
    return true; /* not known yet: the result types stay as given */
  }
  IrDynView v;
  bool ok = ir_dyn_view(op, extra, &v, err, errlen);
  free(extra);
  if (!ok)
    return false;
  ok = ir_infer_fns[op->kind](&v.op, out, err, errlen);
  ir_dyn_view_free(&v);
  return ok;
}

/* ---- the shape computations ---- */

static bool unknown_operands(const Op *op) {
  for (int i = 0; i < op->noperands; i++)
    if (!ir_type_is_known(ir_infer_operand(op, i)))
      return true;
  return false;
}

/* shape: i64[end - start], start and end clamped to [0, rank] after adding rank to negatives. */
bool ir_infer_shape_of(const Op *op, Type *out, char *err, size_t errlen) {
  (void)err, (void)errlen;
  int r = ir_infer_operand(op, 0)->rank;
  int64_t s = ir_attr_int(op, "start", 0), e = ir_attr_int(op, "end", r);
  s = s < 0 ? s + r : s, e = e < 0 ? e + r : e;
  s = s < 0 ? 0 : s > r ? r : s;
  e = e < 0 ? 0 : e > r ? r : e;
  int64_t n = e > s ? e - s : 0;
  out[0] = ir_type_make(DT_I64, 1, &n);
  return true;
}

bool ir_infer_size(const Op *op, Type *out, char *err, size_t errlen) {
  (void)op, (void)err, (void)errlen;
  out[0] = ir_type_scalar(DT_I64);
  return true;
}

/* constant_of_shape: the shape attribute (every value >= 0), dtype of `value` (default f32),
 * which holds one element. */
bool ir_infer_constant_of_shape(const Op *op, Type *out, char *err, size_t errlen) {
  if (ir_dyn_has_operands(op))
    return ir_infer_dyn(op, out, err, errlen);
  const int64_t *shape;
  int n = ir_attr_ints(op, "shape", &shape);
  if (n < 0)
    return ir_infer_fail(err, errlen, "shape is required (an attribute or operand 0)");
  if (!ir_infer_rank_ok(n, err, errlen))
    return false;
  for (int i = 0; i < n; i++)
    if (shape[i] < 0)
      return ir_infer_fail(err, errlen, "shape[%d] is %lld, expected >= 0", i,
                           (long long)shape[i]);
  DType dt = DT_F32;
  const Attr *v = ir_op_attr(op, "value");
  if (v && v->kind == ATTR_TENSOR) {
    if (ir_type_numel(&v->tensor->type) != 1)
      return ir_infer_fail(err, errlen, "value has %lld elements, expected 1",
                           (long long)ir_type_numel(&v->tensor->type));
    dt = v->tensor->type.dtype;
  }
  out[0] = ir_type_make(dt, n, shape);
  return true;
}

/* range: scalar start, limit, delta of one dtype; the length needs their values (weights with
 * data), else the result stays unknown. */
bool ir_infer_range(const Op *op, Type *out, char *err, size_t errlen) {
  for (int i = 0; i < 3; i++) {
    const Type *t = ir_infer_operand(op, i);
    if (ir_type_numel(t) != 1 || t->rank > 1)
      return ir_infer_fail(err, errlen, "operand %d has type %s, expected a scalar", i,
                           ir_type_str(t));
    if (i && !ir_infer_same_dtype(ir_infer_operand(op, 0), t, err, errlen))
      return false;
  }
  DType dt = ir_infer_operand(op, 0)->dtype;
  if (!ir_dtype_is_float(dt) && !ir_dtype_is_int(dt))
    return ir_infer_fail(err, errlen, "element type %s is not a number", ir_dtype_name(dt));
  double v[3];
  for (int i = 0; i < 3; i++) {
    const Value *w = op->operands[i].value;
    if (w->kind != VAL_WEIGHT || !w->tensor || !w->tensor->data)
      return true; /* unknown until the operands are constants */
    v[i] = elem_num(w->tensor, 0);
  }
  if (v[2] == 0)
    return ir_infer_fail(err, errlen, "delta is 0");
  double cnt = ceil((v[1] - v[0]) / v[2]);
  if (!(cnt < 1e9))
    return ir_infer_fail(err, errlen, "range has too many elements");
  int64_t n = cnt > 0 ? (int64_t)cnt : 0;
  out[0] = ir_type_make(dt, 1, &n);
  return true;
}

/* expand: numpy broadcast of operand 0's shape with the shape attribute. */
bool ir_infer_expand(const Op *op, Type *out, char *err, size_t errlen) {
  if (ir_dyn_has_operands(op))
    return ir_infer_dyn(op, out, err, errlen);
  const Type *x = ir_infer_operand(op, 0);
  const int64_t *shape;
  int n = ir_attr_ints(op, "shape", &shape), r = 0;
  if (n < 0)
    return ir_infer_fail(err, errlen, "shape is required (an attribute or operand 1)");
  if (!ir_infer_rank_ok(n, err, errlen))
    return false;
  for (int i = 0; i < n; i++)
    if (shape[i] < 0)
      return ir_infer_fail(err, errlen, "shape[%d] is %lld, expected >= 0", i,
                           (long long)shape[i]);
  int64_t dims[IR_MAX_RANK];
  if (!ir_infer_broadcast_dims(x->dims, x->rank, shape, n, dims, &r))
    return ir_infer_fail(err, errlen, "%s does not broadcast with shape %s",
                         ir_infer_type_text(x).s, ir_infer_ints_text(shape, n).s);
  out[0] = ir_infer_like(x, r, dims);
  return ir_infer_batch_first(&out[0], err, errlen);
}

/* tile: one repeat (>= 0) per dimension; a batch dimension may only repeat once. */
bool ir_infer_tile(const Op *op, Type *out, char *err, size_t errlen) {
  if (ir_dyn_has_operands(op))
    return ir_infer_dyn(op, out, err, errlen);
  const Type *x = ir_infer_operand(op, 0);
  const int64_t *rep;
  int n = ir_attr_ints(op, "repeats", &rep);
  if (n < 0)
    return ir_infer_fail(err, errlen, "repeats is required (an attribute or operand 1)");
  if (n != x->rank)
    return ir_infer_fail(err, errlen, "repeats has %d values for rank %d", n, x->rank);
  int64_t dims[IR_MAX_RANK];
  for (int i = 0; i < n; i++) {
    if (rep[i] < 0)
      return ir_infer_fail(err, errlen, "repeats[%d] is %lld, expected >= 0", i,
                           (long long)rep[i]);
    if (x->dims[i] == IR_DIM_N && rep[i] != 1)
      return ir_infer_fail(err, errlen, "the batch dimension can only repeat once");
    dims[i] = x->dims[i] == IR_DIM_N ? IR_DIM_N : x->dims[i] * rep[i];
  }
  out[0] = ir_infer_like(x, n, dims);
  return true;
}

/* Keeps the compiler quiet about the helper when unused in some configurations. */
bool ir_infer_dyn_unknown_operands(const Op *op) { return unknown_operands(op); }
