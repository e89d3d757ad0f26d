/* ops_onnx.c - per-op conversion: each ONNX op maps to the registry op whose `onnx` name it is;
 * the rules below cover what differs between ONNX (per opset) and kiln's op: inputs that kiln
 * takes as attributes (they must be constants), auto_pad, Cast's target, optional outputs,
 * changed defaults. Every other op converts generically (operands and attributes as they are). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frontend/onnx/fe_onnx.h"

typedef bool (*ConvertFn)(FeNode *n, OpKind k);

OpKind fe_op_for_onnx(const char *op_type) {
  if (!*op_type)
    return OP_INVALID;
  for (int k = 0; k < OP_COUNT; k++)
    if (!strcmp(ir_ops[k].onnx, op_type))
      return (OpKind)k;
  return OP_INVALID;
}

const char *fe_type_name(const FeNode *n) { return fe_str(n->np->op_type); }

bool fe_emit_inputs(FeNode *n, OpKind k, int last, int nres) {
  Value *ops[FE_MAX_NODE_IO];
  int nops = fe_node_operands(n, 0, last, ops);
  return fe_node_emit(n, k, ops, nops, nres);
}

bool fe_convert_generic(FeNode *n, OpKind k) {
  return fe_emit_inputs(n, k, n->nin, n->nout);
}

/* Optional outputs from position keep on must not be read by anything. */
static bool outputs_unused(FeNode *n, int keep, const char *why) {
  for (int i = keep; i < n->nout; i++)
    if (fe_name_used(n->c, fe_str(n->np->output[i])))
      return fe_fail(n->c, "output %d ('%s') is used: %s", i, n->np->output[i], why);
  return true;
}

static const Onnx__AttributeProto *peek(const FeNode *n, const char *name) {
  for (size_t i = 0; i < n->np->n_attribute; i++)
    if (!strcmp(fe_str(n->np->attribute[i]->name), name))
      return n->np->attribute[i];
  return NULL;
}

/* The i-th value of an ints attribute, dflt when absent or short (the op's inference reports a
 * wrong count later). */
static int64_t peek_ints(const FeNode *n, const char *name, int i, int64_t dflt) {
  const Onnx__AttributeProto *a = peek(n, name);
  return a && (size_t)i < a->n_ints ? a->ints[i] : dflt;
}

static const Type *input_type(FeNode *n, int i) {
  return i < n->nin && n->in[i] ? &fe_sym_value(n->c, n->in[i])->type : NULL;
}

static void dims_text(char *buf, size_t len, const int64_t *d, int n) {
  size_t at = (size_t)snprintf(buf, len, "[");
  for (int i = 0; i < n && at < len; i++)
    at += (size_t)snprintf(buf + at, len - at, i ? ",%lld" : "%lld", (long long)d[i]);
  if (at < len)
    snprintf(buf + at, len - at, "]");
}

/* auto_pad (taken) resolved into explicit pads for the spatial dimensions of input 0 with the
 * given kernel; *have false when auto_pad is NOTSET or absent. */
static bool auto_pads(FeNode *n, const int64_t *kernel, int nk, bool transpose, int64_t *pads,
                      bool *have) {
  const char *ap;
  *have = false;
  if (!fe_attr_take_string(n, "auto_pad", "NOTSET", &ap))
    return false;
  if (!strcmp(ap, "NOTSET"))
    return true;
  bool upper = !strcmp(ap, "SAME_UPPER"), lower = !strcmp(ap, "SAME_LOWER");
  if (!upper && !lower && strcmp(ap, "VALID"))
    return fe_fail(n->c, "auto_pad '%s' is not one of NOTSET, VALID, SAME_UPPER, SAME_LOWER", ap);
  const Type *x = input_type(n, 0);
  if (!x || x->rank != nk + 2)
    return fe_fail(n->c, "auto_pad needs operand 0 of rank %d (N, C and %d spatial), got %d",
                   nk + 2, nk, x ? x->rank : 0);
  fe_attr_take(n, "pads"); /* auto_pad decides */
  for (int i = 0; i < nk; i++) {
    int64_t in = x->dims[i + 2], s = peek_ints(n, "strides", i, 1),
            d = peek_ints(n, "dilations", i, 1), ext = (kernel[i] - 1) * d + 1, total = 0;
    int64_t op = peek_ints(n, "output_padding", i, 0);
    if (s < 1 || d < 1 || kernel[i] < 1 || s > INT32_MAX || d > INT32_MAX ||
        kernel[i] > INT32_MAX || in > INT32_MAX || op < 0 || op > INT32_MAX)
      return fe_fail(n->c, "auto_pad needs strides, dilations and kernel sizes from 1 to %ld",
                     (long)INT32_MAX);
    if (upper || lower) {
      if (transpose)
        total = s * (in - 1) + op + ext - in * s;
      else
        total = ((in + s - 1) / s - 1) * s + ext - in;
      if (total < 0)
        total = 0;
    }
    int64_t small = total / 2, big = total - small;
    pads[i] = upper ? small : big;
    pads[nk + i] = upper ? big : small;
  }
  *have = true;
  return true;
}

/* ConvTranspose's output_shape (spatial, or with N and C first): ONNX's pads from it, total
 * s*(in-1) + output_padding + d*(k-1)+1 - out split by auto_pad (SAME_UPPER: the smaller half
 * first, else the larger); a negative end pad becomes output_padding. */
static bool convert_output_shape(FeNode *n, OpKind k, const int64_t *kernel, int nk) {
  const Onnx__AttributeProto *os = fe_attr_take(n, "output_shape");
  const Type *x = input_type(n, 0);
  const char *ap;
  if (!fe_attr_take_string(n, "auto_pad", "NOTSET", &ap))
    return false;
  if (!x || x->rank != nk + 2)
    return fe_fail(n->c, "output_shape needs operand 0 of rank %d", nk + 2);
  if (os->n_ints != (size_t)nk && os->n_ints != (size_t)nk + 2)
    return fe_fail(n->c, "output_shape has %zu values, expected %d", os->n_ints, nk);
  const int64_t *want = os->ints + (os->n_ints - (size_t)nk);
  bool upper = !strcmp(ap, "SAME_UPPER");
  int64_t pads[2 * IR_MAX_RANK], opad[IR_MAX_RANK];
  fe_attr_take(n, "pads"); /* output_shape decides */
  fe_attr_take(n, "output_padding");
  for (int i = 0; i < nk; i++) {
    int64_t in = x->dims[i + 2], s = peek_ints(n, "strides", i, 1),
            d = peek_ints(n, "dilations", i, 1);
    opad[i] = peek_ints(n, "output_padding", i, 0);
    if (in < 1 || s < 1 || d < 1 || kernel[i] < 1 || s > INT32_MAX || d > INT32_MAX ||
        kernel[i] > INT32_MAX || in > INT32_MAX || opad[i] < 0 || opad[i] > INT32_MAX ||
        want[i] < 1 || want[i] > INT32_MAX)
      return fe_fail(n->c, "output_shape needs static sizes, strides, dilations and kernel sizes "
                           "from 1 to %ld", (long)INT32_MAX);
    int64_t total = s * (in - 1) + opad[i] + (kernel[i] - 1) * d + 1 - want[i];
    int64_t half = total >= 0 ? total / 2 : -((-total + 1) / 2); /* floor(total / 2) */
    int64_t begin = upper ? half : total - half, end = upper ? total - half : half;
    if (begin < 0)
      return fe_fail(n->c, "output_shape %lld (dimension %d) is larger than the transposed "
                           "convolution gives at the start", (long long)want[i], i);
    if (end < 0)
      opad[i] -= end, end = 0;
    pads[i] = begin;
    pads[nk + i] = end;
  }
  if (!fe_convert_generic(n, k))
    return false;
  ir_op_set_ints(n->c->m, n->op, "pads", pads, 2 * nk);
  bool any = false;
  for (int i = 0; i < nk; i++)
    any |= opad[i] != 0;
  if (any)
    ir_op_set_ints(n->c->m, n->op, "output_padding", opad, nk);
  return true;
}

static bool convert_conv(FeNode *n, OpKind k) {
  const Type *w = input_type(n, 1);
  const Onnx__AttributeProto *ks = fe_attr_take(n, "kernel_shape");
  int nk = w && w->rank >= 2 ? w->rank - 2 : 0;
  if (ks && w) {
    if (ks->n_ints != (size_t)nk || memcmp(ks->ints, w->dims + 2, sizeof(int64_t) * nk)) {
      char a[256], b[256];
      dims_text(a, sizeof a, ks->ints, ks->n_ints > 16 ? 16 : (int)ks->n_ints);
      dims_text(b, sizeof b, w->dims + 2, nk);
      return fe_fail(n->c, "kernel_shape %s does not match the weight's kernel %s", a, b);
    }
  }
  if (peek(n, "output_shape"))
    return k == OP_CONV_TRANSPOSE && w && w->rank >= 3
               ? convert_output_shape(n, k, w->dims + 2, nk)
               : fe_fail(n->c, "attribute 'output_shape' needs ConvTranspose with a weight of "
                               "rank 3 or more");
  int64_t pads[2 * IR_MAX_RANK];
  bool have;
  if (!auto_pads(n, w ? w->dims + 2 : NULL, nk, k == OP_CONV_TRANSPOSE, pads, &have) ||
      !fe_convert_generic(n, k))
    return false;
  if (have)
    ir_op_set_ints(n->c->m, n->op, "pads", pads, 2 * nk);
  return true;
}

static bool convert_pool(FeNode *n, OpKind k) {
  const Onnx__AttributeProto *ks = peek(n, "kernel_shape");
  int nk = ks && ks->n_ints <= IR_MAX_RANK ? (int)ks->n_ints : 0;
  int64_t storage = 0;
  /* MaxPool's Indices: max_pool's optional result 1, laid out by storage_order */
  bool indices = k == OP_MAX_POOL && n->nout > 1 && *fe_str(n->np->output[1]);
  if (!fe_attr_take_int(n, "storage_order", 0, &storage) ||
      (!indices && !outputs_unused(n, 1, "kiln's pool has no indices output")))
    return false;
  if (k == OP_AVG_POOL) {
    const Onnx__AttributeProto *dl = fe_attr_take(n, "dilations");
    for (size_t i = 0; dl && i < dl->n_ints; i++)
      if (dl->ints[i] != 1)
        return fe_fail(n->c, "dilations other than 1 are not supported by kiln's avg_pool");
  }
  int64_t pads[2 * IR_MAX_RANK];
  bool have;
  if (!auto_pads(n, ks ? ks->ints : NULL, nk, false, pads, &have) ||
      !fe_emit_inputs(n, k, 1, indices ? 2 : 1))
    return false;
  if (have)
    ir_op_set_ints(n->c->m, n->op, "pads", pads, 2 * nk);
  if (indices && storage)
    ir_op_set_int(n->c->m, n->op, "storage_order", storage);
  return true;
}

/* A cast's target is its result's dtype; while operand 0's type is unknown (the result stays
 * `?` until canonicalize), the attribute `to` holds it. */
void fe_set_cast_target(FeNode *n, DType dt) {
  Op *op = n->op;
  if (op->noperands > 0 && !ir_type_is_known(&op->operands[0].value->type))
    ir_op_set_string(n->c->m, op, "to", ir_dtype_name(dt));
  else
    op->results[0]->type.dtype = dt;
}

static bool convert_cast(FeNode *n, OpKind k) {
  int64_t to, sat;
  DType dt;
  if (!fe_attr_take_int(n, "to", -1, &to) || !fe_attr_take_int(n, "saturate", 1, &sat))
    return false;
  if (to < 0)
    return fe_fail(n->c, "attribute 'to' is required");
  if (to > INT32_MAX || !fe_dtype_from_onnx((int32_t)to, &dt))
    return fe_fail(n->c, "cast to %s is not supported",
                   fe_onnx_type_name(to > INT32_MAX ? -1 : (int32_t)to));
  if (!fe_convert_generic(n, k))
    return false;
  fe_set_cast_target(n, dt);
  return true;
}

/* Dropout's mask at inference: all true, a bool constant of input 0's (static) shape. */
static bool dropout_mask(FeNode *n) {
  const char *name = n->nout > 1 ? fe_str(n->np->output[1]) : "";
  if (!*name || !fe_name_used(n->c, name))
    return true;
  const Type *x = input_type(n, 0);
  int64_t numel = x ? ir_type_numel(x) : -1;
  if (numel < 0 || numel > (1 << 24))
    return fe_fail(n->c, "output 1 ('%s') is used: the mask (all true at inference) needs a "
                         "static input shape, not %s", name, x ? ir_type_str(x) : "?");
  FeConst *kc = calloc(1, sizeof *kc);
  unsigned char *ones = malloc((size_t)numel + 1);
  if (!kc || !ones)
    abort();
  memset(ones, 1, (size_t)numel);
  *kc = (FeConst){ir_type_make(DT_BOOL, x->rank, x->dims), ones, (size_t)numel, ones};
  return fe_sym_add(n->c, name, NULL, kc);
}

static bool convert_dropout(FeNode *n, OpKind k) {
  int64_t seed;
  if (!fe_attr_take_int(n, "seed", 0, &seed))
    return false;
  double *v = NULL;
  int cnt = 0;
  if (n->nin > 2 && n->in[2]) {
    if (!fe_input_floats(n, 2, "training_mode", &v, &cnt))
      return false;
    bool train = cnt > 0 && v[0] != 0;
    free(v);
    v = NULL;
    if (train)
      return fe_fail(n->c, "training_mode is true: kiln imports inference models");
  }
  /* a ratio that is not a constant does not matter at inference: it is dropped */
  bool ratio = n->nin > 1 && n->in[1] && n->in[1]->k;
  if (ratio && !fe_input_floats(n, 1, "ratio", &v, &cnt))
    return false;
  if (ratio && cnt != 1) {
    free(v);
    return fe_fail(n->c, "input 1 ('ratio') of Dropout has %d values, expected 1", cnt);
  }
  bool ok = dropout_mask(n) && fe_emit_inputs(n, k, 1, 1);
  if (ok && ratio)
    ir_op_set_float(n->c->m, n->op, "ratio", v[0]);
  free(v);
  return ok;
}

static bool convert_batch_norm(FeNode *n, OpKind k) {
  int64_t train, spatial;
  if (n->nout > 1)
    return fe_fail(n->c, "has %d outputs: the training outputs (running mean and variance) are "
                         "not supported", n->nout);
  if (!fe_attr_take_int(n, "training_mode", 0, &train) ||
      !fe_attr_take_int(n, "spatial", 1, &spatial))
    return false;
  fe_attr_take(n, "momentum");
  if (train)
    return fe_fail(n->c, "training_mode is 1: kiln imports inference models");
  if (spatial != 1)
    return fe_fail(n->c, "spatial = %lld is not supported", (long long)spatial);
  return fe_convert_generic(n, k);
}

static bool convert_layer_norm(FeNode *n, OpKind k) {
  int64_t stash;
  if (!fe_attr_take_int(n, "stash_type", 1, &stash))
    return false;
  if (stash != 1 && n->nout > 1)
    return fe_fail(n->c, "stash_type %lld is not supported (kiln's layer_norm stashes f32)",
                   (long long)stash);
  return fe_emit_inputs(n, k, n->nin, n->nout);
}

/* Ops whose optional inputs are positional: an empty input before a given one is refused. */
static bool no_gaps(FeNode *n) {
  for (int i = 0; i + 1 < n->nin; i++)
    if (!n->in[i])
      for (int j = i + 1; j < n->nin; j++)
        if (n->in[j])
          return fe_fail(n->c, "input %d is empty but input %d is given: not supported", i, j);
  return true;
}

/* QuantizeLinear, DequantizeLinear (opset 10..21): per-tensor or per-axis; no blocks. */
static bool convert_qdq(FeNode *n, OpKind k) {
  int64_t block, sat, odt;
  if (!fe_attr_take_int(n, "block_size", 0, &block) ||
      !fe_attr_take_int(n, "saturate", 1, &sat) ||
      !fe_attr_take_int(n, "output_dtype", 0, &odt) || !no_gaps(n))
    return false;
  if (block)
    return fe_fail(n->c, "blocked quantization (block_size %lld) is not supported",
                   (long long)block);
  DType dt = DT_UNKNOWN;
  if (odt && (odt > INT32_MAX || !fe_dtype_from_onnx((int32_t)odt, &dt)))
    return fe_fail(n->c, "output_dtype %s is not supported",
                   fe_onnx_type_name(odt > INT32_MAX ? -1 : (int32_t)odt));
  if (!fe_convert_generic(n, k))
    return false;
  if (dt != DT_UNKNOWN && k == OP_QUANTIZE_LINEAR)
    n->op->results[0]->type.dtype = dt;
  return true;
}

/* MatMulInteger, QLinearMatMul, Einsum: the inputs as they are, none skipped. */
static bool convert_positional(FeNode *n, OpKind k) {
  return no_gaps(n) && fe_convert_generic(n, k);
}

/* ConvInteger: Conv's rules (auto_pad, kernel_shape), no skipped zero point. */
static bool convert_conv_integer(FeNode *n, OpKind k) {
  return no_gaps(n) && convert_conv(n, k);
}

/* QLinearConv: Conv's rules with the weight at input 3. */
static bool convert_qlinear_conv(FeNode *n, OpKind k) {
  const Type *w = input_type(n, 3);
  int nk = w && w->rank >= 2 ? w->rank - 2 : 0;
  const Onnx__AttributeProto *ks = fe_attr_take(n, "kernel_shape");
  if (ks && w && (ks->n_ints != (size_t)nk || memcmp(ks->ints, w->dims + 2, sizeof(int64_t) * nk)))
    return fe_fail(n->c, "kernel_shape does not match the weight's kernel");
  int64_t pads[2 * IR_MAX_RANK];
  bool have;
  if (!no_gaps(n) || !auto_pads(n, w ? w->dims + 2 : NULL, nk, false, pads, &have) ||
      !fe_convert_generic(n, k))
    return false;
  if (have)
    ir_op_set_ints(n->c->m, n->op, "pads", pads, 2 * nk);
  return true;
}

/* Before opset 13 the axis defaults to 1 and the input is seen as 2-D around it. */
static bool convert_softmax(FeNode *n, OpKind k) {
  if (n->c->opset >= 13)
    return fe_convert_generic(n, k);
  int64_t axis;
  if (!fe_attr_take_int(n, "axis", 1, &axis))
    return false;
  const Type *x = input_type(n, 0);
  if (x && axis >= -x->rank && axis < x->rank) {
    int a = (int)(axis < 0 ? axis + x->rank : axis);
    for (int i = a + 1; i < x->rank; i++)
      if (x->dims[i] != 1)
        return fe_fail(n->c, "before opset 13, %s normalizes dimensions %d.. together; kiln's "
                             "softmax takes a single axis (input %s)", fe_type_name(n), a,
                       ir_type_str(x));
  }
  if (!fe_convert_generic(n, k))
    return false;
  ir_op_set_int(n->c->m, n->op, "axis", axis);
  return true;
}

/* Emits op k with operand 0 only, and the inputs [1..] listed in `params` converted into the
 * attributes `attrs` (ints, or floats when the attr name starts with '.'): the common shape of
 * ops whose attributes became inputs. Absent inputs set nothing. */
static bool emit_with_const_inputs(FeNode *n, OpKind k, int nres, const char *const *params,
                                   const char *const *attrs, int count) {
  if (fe_inputs_dynamic(n, 1, count)) { /* the operand form (ir/dyn_form.h) */
    DType absent[8];
    for (int i = 0; i < count && i < 8; i++)
      absent[i] = attrs[i] && attrs[i][0] == '.' ? DT_F32 : DT_I64;
    return fe_emit_operand_form(n, k, 1, nres, 1, count, absent);
  }
  if (!fe_emit_inputs(n, k, 1, nres))
    return false;
  for (int i = 0; i < count; i++) {
    int pos = i + 1;
    if (!attrs[i] || pos >= n->nin || !n->in[pos])
      continue;
    int cnt;
    if (attrs[i][0] == '.') {
      double *v;
      if (!fe_input_floats(n, pos, params[i], &v, &cnt))
        return false;
      if (cnt != 1) {
        free(v);
        return fe_fail(n->c, "input %d ('%s') of %s has %d values, expected 1", pos, params[i],
                       fe_type_name(n), cnt);
      }
      ir_op_set_float(n->c->m, n->op, attrs[i] + 1, v[0]);
      free(v);
    } else {
      int64_t *v;
      if (!fe_input_ints(n, pos, params[i], &v, &cnt))
        return false;
      ir_op_set_ints(n->c->m, n->op, attrs[i], v, cnt);
      free(v);
    }
  }
  return true;
}

#define ARR(...) ((const char *const[]){__VA_ARGS__})

static bool convert_reshape(FeNode *n, OpKind k) {
  int64_t allowzero;
  if (!fe_attr_take_int(n, "allowzero", 0, &allowzero) ||
      !emit_with_const_inputs(n, k, 1, ARR("shape"), ARR("shape"), 1))
    return false;
  if (n->nin < 2 || !n->in[1])
    return fe_fail(n->c, "input 1 ('shape') of Reshape is missing");
  const int64_t *s;
  int cnt = ir_attr_ints(n->op, "shape", &s);
  for (int i = 0; allowzero && i < cnt; i++)
    if (s[i] == 0)
      return fe_fail(n->c, "allowzero = 1 with a 0 in the shape is not supported");
  return true;
}

static bool convert_expand(FeNode *n, OpKind k) {
  return emit_with_const_inputs(n, k, 1, ARR("shape"), ARR("shape"), 1);
}

static bool convert_tile(FeNode *n, OpKind k) {
  return emit_with_const_inputs(n, k, 1, ARR("repeats"), ARR("repeats"), 1);
}

static bool convert_squeeze(FeNode *n, OpKind k) {
  if (n->c->opset < 13)
    return fe_convert_generic(n, k);
  return emit_with_const_inputs(n, k, 1, ARR("axes"), ARR("axes"), 1);
}

static bool convert_split(FeNode *n, OpKind k) {
  int64_t num = 0;
  if (!fe_attr_take_int(n, "num_outputs", 0, &num))
    return false;
  if (n->c->opset < 13 ? !fe_convert_generic(n, k)
                       : !emit_with_const_inputs(n, k, n->nout, ARR("split"), ARR("split"), 1))
    return false;
  if (num && num != n->nout)
    return fe_fail(n->c, "num_outputs is %lld but the node has %d outputs", (long long)num,
                   n->nout);
  const Type *x = input_type(n, 0);
  int64_t axis = ir_attr_int(n->op, "axis", 0);
  if (num && !ir_op_attr(n->op, "split") && x && axis >= -x->rank && axis < x->rank) {
    int64_t d = x->dims[axis < 0 ? axis + x->rank : axis], chunk = (d + num - 1) / num;
    if (d > 0 && d % num) { /* opset 18: the last chunk is smaller */
      int64_t sizes[FE_MAX_NODE_IO];
      for (int i = 0; i < num; i++)
        sizes[i] = d - chunk * i < chunk ? (d - chunk * i > 0 ? d - chunk * i : 0) : chunk;
      ir_op_set_ints(n->c->m, n->op, "split", sizes, (int)num);
    }
  }
  return true;
}

static bool convert_reduce(FeNode *n, OpKind k) {
  int64_t since = k == OP_REDUCE_SUM ? 13 : 18, noop;
  if (!fe_attr_take_int(n, "noop_with_empty_axes", 0, &noop))
    return false;
  bool has_axes = n->c->opset < since ? peek(n, "axes") != NULL : n->nin > 1 && n->in[1];
  if (has_axes && n->c->opset >= since && n->in[1]->k && ir_type_numel(&n->in[1]->k->type) == 0)
    has_axes = false; /* an empty constant axes input is absent */
  if (noop && has_axes && fe_inputs_dynamic(n, 1, 1)) { /* empty axes at run time: no-op */
    if (!ir_op_attr_spec(k, "noop_with_empty_axes"))
      return fe_fail(n->c, "noop_with_empty_axes with axes that are not a constant is not "
                           "supported");
    if (!emit_with_const_inputs(n, k, 1, ARR("axes"), ARR("axes"), 1))
      return false;
    ir_op_set_int(n->c->m, n->op, "noop_with_empty_axes", 1);
    return true;
  }
  if (noop && !has_axes) {
    fe_attr_take(n, "keepdims");
    return fe_emit_inputs(n, OP_IDENTITY, 1, 1);
  }
  if (n->c->opset < since)
    return fe_convert_generic(n, k);
  return emit_with_const_inputs(n, k, 1, ARR("axes"), ARR("axes"), 1);
}

static bool convert_clip(FeNode *n, OpKind k) {
  if (n->c->opset < 11)
    return fe_convert_generic(n, k);
  return emit_with_const_inputs(n, k, 1, ARR("min", "max"), ARR(".min", ".max"), 2);
}

static bool convert_slice(FeNode *n, OpKind k) {
  if (n->c->opset < 10)
    return fe_convert_generic(n, k);
  for (int i = 1; i <= 2; i++)
    if (i >= n->nin || !n->in[i])
      return fe_fail(n->c, "input %d ('%s') of Slice is missing", i, i == 1 ? "starts" : "ends");
  return emit_with_const_inputs(n, k, 1, ARR("starts", "ends", "axes", "steps"),
                                ARR("starts", "ends", "axes", "steps"), 4);
}

static bool convert_pad(FeNode *n, OpKind k) {
  if (n->c->opset < 11)
    return fe_convert_generic(n, k);
  if (n->nin < 2 || !n->in[1])
    return fe_fail(n->c, "input 1 ('pads') of Pad is missing");
  if (!emit_with_const_inputs(n, k, 1, ARR("pads", "constant_value"), ARR("pads", ".value"), 2))
    return false;
  if (n->nin < 4 || !n->in[3])
    return true;
  int64_t *axes, *full = NULL;
  int na;
  const int64_t *p;
  int np = ir_attr_ints(n->op, "pads", &p);
  const Type *x = input_type(n, 0);
  if (!fe_input_ints(n, 3, "axes", &axes, &na))
    return false;
  bool ok = np == 2 * na;
  if (!ok)
    fe_fail(n->c, "pads has %d values for %d axes, expected %d", np, na, 2 * na);
  if (ok && (full = calloc(2 * (size_t)x->rank + 1, sizeof *full)) == NULL)
    abort();
  for (int i = 0; ok && i < na; i++) {
    int64_t a = axes[i] < 0 ? axes[i] + x->rank : axes[i];
    if (a < 0 || a >= x->rank)
      ok = fe_fail(n->c, "axis %lld is out of range for rank %d", (long long)axes[i], x->rank);
    else
      full[a] = p[i], full[x->rank + a] = p[na + i];
  }
  if (ok)
    ir_op_set_ints(n->c->m, n->op, "pads", full, 2 * x->rank);
  free(full);
  free(axes);
  return ok;
}

/* Resize (opset 10: X, scales; from 11: X, roi, scales, sizes) and Upsample (scales attribute
 * before opset 9, then an input), which is Resize with asymmetric coordinates and floor. */
static bool convert_resize(FeNode *n, OpKind k) {
  FeCtx *c = n->c;
  bool upsample = !strcmp(fe_type_name(n), "Upsample");
  int64_t antialias, exclude;
  const char *policy, *mode;
  if (!fe_attr_take_int(n, "antialias", 0, &antialias) ||
      !fe_attr_take_int(n, "exclude_outside", 0, &exclude) ||
      !fe_attr_take_string(n, "keep_aspect_ratio_policy", "stretch", &policy))
    return false;
  fe_attr_take(n, "extrapolation_value");
  const Onnx__AttributeProto *cubic = fe_attr_take(n, "cubic_coeff_a");
  if (antialias || strcmp(policy, "stretch") || fe_attr_take(n, "axes"))
    return fe_fail(c, "antialias, axes and keep_aspect_ratio_policy are not supported");
  const Onnx__AttributeProto *ctm = peek(n, "coordinate_transformation_mode");
  if (ctm && ctm->s.len == 18 && !memcmp(ctm->s.data, "tf_crop_and_resize", 18))
    return fe_fail(c, "coordinate_transformation_mode 'tf_crop_and_resize' is not supported");
  bool legacy = upsample || c->opset < 11;
  const Onnx__AttributeProto *sattr = NULL;
  if (upsample) {
    if (!fe_attr_take_string(n, "mode", "nearest", &mode))
      return false;
    sattr = fe_attr_take(n, "scales");
  }
  int spos = legacy ? 1 : 2;
  bool dyn = !sattr && fe_inputs_dynamic(n, spos, legacy ? 1 : 2);
  if (dyn ? !fe_emit_operand_form(n, OP_RESIZE, 1, 1, spos, legacy ? 1 : 2,
                                  (const DType[]){DT_F32, DT_I64})
          : !fe_emit_inputs(n, OP_RESIZE, 1, 1))
    return false;
  if (upsample)
    ir_op_set_string(c->m, n->op, "mode", mode);
  if (legacy) {
    ir_op_set_string(c->m, n->op, "coordinate_transformation_mode", "asymmetric");
    if (!strcmp(ir_attr_string(n->op, "mode", "nearest"), "nearest"))
      ir_op_set_string(c->m, n->op, "nearest_mode", "floor");
  }
  if (cubic && cubic->f != -0.75f)
    ir_op_set_float(c->m, n->op, "cubic_coeff_a", cubic->f);
  if (exclude)
    ir_op_set_int(c->m, n->op, "exclude_outside", exclude);
  (void)k;
  if (dyn)
    return true; /* scales and sizes are operands until canonicalize folds them */
  if (sattr) {
    double f[IR_MAX_RANK];
    if (sattr->n_floats > IR_MAX_RANK)
      return fe_fail(c, "scales has %zu values, too many", sattr->n_floats);
    for (size_t i = 0; i < sattr->n_floats; i++)
      f[i] = sattr->floats[i];
    ir_op_set_floats(c->m, n->op, "scales", f, (int)sattr->n_floats);
    return true;
  }
  int cnt;
  const FeSym *sc = spos < n->nin ? n->in[spos] : NULL;
  if (sc && (!sc->k || ir_type_numel(&sc->k->type) != 0)) { /* an empty scales is absent */
    double *v;
    if (!fe_input_floats(n, spos, "scales", &v, &cnt))
      return false;
    ir_op_set_floats(c->m, n->op, "scales", v, cnt);
    free(v);
  }
  if (!legacy && 3 < n->nin && n->in[3]) {
    int64_t *v;
    if (!fe_input_ints(n, 3, "sizes", &v, &cnt))
      return false;
    ir_op_set_ints(c->m, n->op, "sizes", v, cnt);
    free(v);
  }
  return true;
}

/* Constant: its value becomes a constant symbol (a weight once an op reads it). */
static bool convert_constant(FeNode *n, OpKind k) {
  (void)k;
  FeCtx *c = n->c;
  if (n->np->n_output != 1 || !*fe_str(n->np->output[0]))
    return fe_fail(c, "has %zu outputs, expected 1", n->np->n_output);
  if (n->np->n_attribute != 1)
    return fe_fail(c, "has %zu attributes, expected exactly one of value, value_float, "
                      "value_floats, value_int, value_ints", n->np->n_attribute);
  const Onnx__AttributeProto *a = n->np->attribute[0];
  const char *name = fe_str(a->name);
  FeConst *kc = calloc(1, sizeof *kc);
  if (!kc)
    abort();
  bool ok = true;
  if (!strcmp(name, "value") && a->t) {
    ok = fe_const_from_tensor(c, a->t, kc);
  } else if (!strcmp(name, "value_float") && a->has_f) {
    float *f = malloc(sizeof *f);
    *f = a->f;
    *kc = (FeConst){ir_type_scalar(DT_F32), f, sizeof *f, f};
  } else if (!strcmp(name, "value_int") && a->has_i) {
    int64_t *v = malloc(sizeof *v);
    *v = a->i;
    *kc = (FeConst){ir_type_scalar(DT_I64), v, sizeof *v, v};
  } else if (!strcmp(name, "value_floats") || !strcmp(name, "value_ints")) {
    bool fl = name[6] == 'f';
    int64_t cnt = fl ? (int64_t)a->n_floats : (int64_t)a->n_ints;
    size_t es = fl ? sizeof(float) : sizeof(int64_t);
    void *buf = malloc((size_t)cnt * es + 1);
    if (cnt)
      memcpy(buf, fl ? (const void *)a->floats : (const void *)a->ints, (size_t)cnt * es);
    *kc = (FeConst){ir_type_make(fl ? DT_F32 : DT_I64, 1, &cnt), buf, (size_t)cnt * es, buf};
  } else if (!strncmp(name, "value_string", 12) || !strcmp(name, "sparse_value")) {
    ok = fe_fail(c, "attribute '%s': string and sparse constants are not supported", name);
  } else {
    ok = fe_fail(c, "unknown attribute '%s' (or it holds no value)", name);
  }
  if (!ok) {
    fe_const_free(kc);
    free(kc);
    return false;
  }
  return fe_sym_add(c, n->np->output[0], NULL, kc);
}

static const struct {
  const char *onnx;
  ConvertFn fn;
  OpKind kind; /* OP_INVALID: the registry's op of the same ONNX name */
} rules[] = {
    {"Constant", convert_constant, OP_INVALID},
    {"Conv", convert_conv, OP_INVALID},
    {"ConvTranspose", convert_conv, OP_INVALID},
    {"MaxPool", convert_pool, OP_INVALID},
    {"AveragePool", convert_pool, OP_INVALID},
    {"Cast", convert_cast, OP_INVALID},
    {"Dropout", convert_dropout, OP_INVALID},
    {"BatchNormalization", convert_batch_norm, OP_INVALID},
    {"LayerNormalization", convert_layer_norm, OP_INVALID},
    {"QuantizeLinear", convert_qdq, OP_INVALID},
    {"DequantizeLinear", convert_qdq, OP_INVALID},
    {"MatMulInteger", convert_positional, OP_INVALID},
    {"QLinearMatMul", convert_positional, OP_INVALID},
    {"ConvInteger", convert_conv_integer, OP_INVALID},
    {"QLinearConv", convert_qlinear_conv, OP_INVALID},
    {"LpPool", convert_pool, OP_INVALID},
    {"Softmax", convert_softmax, OP_INVALID},
    {"LogSoftmax", convert_softmax, OP_INVALID},
    {"Hardmax", convert_softmax, OP_INVALID},
    {"Reshape", convert_reshape, OP_INVALID},
    {"Squeeze", convert_squeeze, OP_INVALID},
    {"Unsqueeze", convert_squeeze, OP_INVALID},
    {"Split", convert_split, OP_INVALID},
    {"ReduceSum", convert_reduce, OP_INVALID},
    {"ReduceMean", convert_reduce, OP_INVALID},
    {"ReduceMax", convert_reduce, OP_INVALID},
    {"ReduceMin", convert_reduce, OP_INVALID},
    {"ReduceProd", convert_reduce, OP_INVALID},
    {"ReduceL1", convert_reduce, OP_INVALID},
    {"ReduceL2", convert_reduce, OP_INVALID},
    {"ReduceLogSum", convert_reduce, OP_INVALID},
    {"ReduceLogSumExp", convert_reduce, OP_INVALID},
    {"ReduceSumSquare", convert_reduce, OP_INVALID},
    {"Clip", convert_clip, OP_INVALID},
    {"Slice", convert_slice, OP_INVALID},
    {"Pad", convert_pad, OP_INVALID},
    {"Resize", convert_resize, OP_INVALID},
    {"Upsample", convert_resize, OP_RESIZE},
    {"Expand", convert_expand, OP_INVALID},
    {"Tile", convert_tile, OP_INVALID},
    {"ConstantOfShape", fe_convert_constant_of_shape, OP_INVALID},
    {"Trilu", fe_convert_trilu, OP_INVALID},
    {"CumSum", fe_convert_cum_sum, OP_INVALID},
    {"OneHot", fe_convert_one_hot, OP_INVALID},
    {"TopK", fe_convert_top_k, OP_INVALID},
    {"CastLike", fe_convert_cast_like, OP_CAST},
    {"NonZero", fe_convert_non_zero, OP_INVALID},
    {"NonMaxSuppression", convert_positional, OP_INVALID},
    {"Scatter", fe_convert_generic, OP_SCATTER_ELEMENTS},
    {"EyeLike", fe_convert_eye_like, OP_INVALID},
};

bool fe_convert_node(FeNode *n) {
  const char *type = fe_type_name(n);
  for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++)
    if (!strcmp(rules[i].onnx, type)) {
      OpKind k = rules[i].kind != OP_INVALID ? rules[i].kind : fe_op_for_onnx(type);
      if (k == OP_INVALID && rules[i].fn != convert_constant)
        break;
      return rules[i].fn(n, k);
    }
  OpKind k = fe_op_for_onnx(type);
  if (k == OP_INVALID)
    return fe_fail(n->c, "unsupported op '%s'", type);
  return fe_convert_generic(n, k);
}
