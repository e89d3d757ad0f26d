/* infer_quant.c - shape inference of the explicit-quantization ops (ONNX semantics; see infer.h):
 * quantize_linear, dequantize_linear, matmul_integer, conv_integer, qlinear_matmul,
 * qlinear_conv. Scales and zero points are operands here (the ONNX form); their results are
 * plain (non-quantized) integer or float types. */
#include "infer.h"

static bool is_q8(DType d) { return d == DT_I8 || d == DT_U8; }
static bool is_qint(DType d) {
  return d == DT_I8 || d == DT_U8 || d == DT_I16 || d == DT_U16 || d == DT_I32;
}

/* A scale (float) or zero point (dtype zdt, DT_UNKNOWN: any integer of is_qint) of operand i:
 * one value, or with per_axis >= 0 a 1-D list of per_axis values. */
static bool qparam(const Op *op, int i, bool is_scale, DType zdt, int64_t per_axis, char *err,
                   size_t errlen) {
  const Type *t = ir_infer_operand(op, i);
  if (is_scale && !ir_dtype_is_float(t->dtype))
    return ir_infer_fail(err, errlen, "operand %d (a scale) has type %s, expected a float", i,
                         ir_dtype_name(t->dtype));
  if (!is_scale && (zdt != DT_UNKNOWN ? t->dtype != zdt : !is_qint(t->dtype)))
    return ir_infer_fail(err, errlen, "operand %d (a zero point) has type %s, expected %s", i,
                         ir_dtype_name(t->dtype),
                         zdt != DT_UNKNOWN ? ir_dtype_name(zdt) : "an integer type");
  int64_t n = ir_type_numel(t);
  if (t->rank == 0 || (t->rank == 1 && n == 1))
    return true;
  if (per_axis >= 0 && t->rank == 1 && t->dims[0] == per_axis)
    return true;
  if (per_axis >= 0)
    return ir_infer_fail(err, errlen, "operand %d has shape %s, expected one value or [%lld]", i,
                         ir_infer_dims_text(t->dims, t->rank).s, (long long)per_axis);
  return ir_infer_fail(err, errlen, "operand %d has shape %s, expected one value", i,
                       ir_infer_dims_text(t->dims, t->rank).s);
}

/* The size of the quantization axis of operand 0 (attribute axis, default 1), or -1 for a
 * scalar operand. */
static bool quant_axis(const Op *op, int64_t *len, char *err, size_t errlen) {
  const Type *x = ir_infer_operand(op, 0);
  int axis;
  *len = -1;
  const Type *s = ir_infer_operand(op, 1);
  if (x->rank == 0 || s->rank == 0 || (s->rank == 1 && s->dims[0] == 1))
    return true;
  if (!ir_infer_axis(ir_attr_int(op, "axis", 1), x->rank, &axis, err, errlen))
    return false;
  *len = x->dims[axis];
  return true;
}

/* quantize_linear: X (float), scale, optional zero point -> X's shape in the zero point's dtype,
 * or the declared result dtype (u8 when none). */
bool ir_infer_quantize_linear(const Op *op, Type *out, char *err, size_t errlen) {
  const Type *x = ir_infer_operand(op, 0);
  int64_t len;
  if (!ir_dtype_is_float(x->dtype))
    return ir_infer_fail(err, errlen, "operand 0 has type %s, expected a float",
                         ir_dtype_name(x->dtype));
  if (!quant_axis(op, &len, err, errlen) || !qparam(op, 1, true, DT_UNKNOWN, len, err, errlen) ||
      (op->noperands > 2 && !qparam(op, 2, false, DT_UNKNOWN, len, err, errlen)))
    return false;
  DType dt = op->noperands > 2 ? ir_infer_operand(op, 2)->dtype : op->results[0]->type.dtype;
  if (dt == DT_UNKNOWN)
    dt = DT_U8;
  if (!is_qint(dt))
    return ir_infer_fail(err, errlen, "result type %s is not one of i8, u8, i16, u16, i32",
                         ir_dtype_name(dt));
  out[0] = ir_type_make(dt, x->rank, x->dims);
  return true;
}

/* dequantize_linear: X (integer), scale, optional zero point of X's dtype -> X's shape in the
 * scale's dtype. */
bool ir_infer_dequantize_linear(const Op *op, Type *out, char *err, size_t errlen) {
  const Type *x = ir_infer_operand(op, 0);
  int64_t len;
  if (!is_qint(x->dtype))
    return ir_infer_fail(err, errlen, "operand 0 has type %s, expected one of i8, u8, i16, u16, "
                         "i32", ir_dtype_name(x->dtype));
  if (!quant_axis(op, &len, err, errlen) || !qparam(op, 1, true, DT_UNKNOWN, len, err, errlen) ||
      (op->noperands > 2 && !qparam(op, 2, false, x->dtype, len, err, errlen)))
    return false;
  out[0] = ir_type_make(ir_infer_operand(op, 1)->dtype, x->rank, x->dims);
  return true;
}

/* Runs fn on a view of op that has only the operands at positions a and b. */
static bool with_operands(const Op *op, int a, int b, ir_infer_fn fn, Type *out, char *err,
                          size_t errlen) {
  Operand ops[2] = {op->operands[a], op->operands[b]};
  Op view = *op;
  view.operands = ops;
  view.noperands = 2;
  return fn(&view, out, err, errlen);
}

static bool q8_operand(const Op *op, int i, char *err, size_t errlen) {
  const Type *t = ir_infer_operand(op, i);
  if (is_q8(t->dtype) && !t->quantized)
    return true;
  return ir_infer_fail(err, errlen, "operand %d has type %s, expected i8 or u8", i,
                       ir_infer_type_text(t).s);
}

/* matmul_integer: A and B (i8/u8) by matmul's shape rules, zero points of A (one value or one
 * per row) and of B (one value or one per column) -> i32. */
bool ir_infer_matmul_integer(const Op *op, Type *out, char *err, size_t errlen) {
  if (!q8_operand(op, 0, err, errlen) || !q8_operand(op, 1, err, errlen) ||
      !ir_infer_matmul(op, out, err, errlen))
    return false;
  const Type *a = ir_infer_operand(op, 0), *b = ir_infer_operand(op, 1);
  if (op->noperands > 2 &&
      !qparam(op, 2, false, a->dtype, a->rank > 1 ? a->dims[a->rank - 2] : 1, err, errlen))
    return false;
  if (op->noperands > 3 &&
      !qparam(op, 3, false, b->dtype, b->rank > 1 ? b->dims[b->rank - 1] : 1, err, errlen))
    return false;
  out[0].dtype = DT_I32;
  return true;
}

/* conv_integer: X and W (i8/u8) by conv's shape rules, zero points of X (one value) and of W
 * (one value or one per output channel) -> i32. */
bool ir_infer_conv_integer(const Op *op, Type *out, char *err, size_t errlen) {
  if (!q8_operand(op, 0, err, errlen) || !q8_operand(op, 1, err, errlen) ||
      !with_operands(op, 0, 1, ir_infer_conv, out, err, errlen))
    return false;
  const Type *x = ir_infer_operand(op, 0), *w = ir_infer_operand(op, 1);
  if (op->noperands > 2 && !qparam(op, 2, false, x->dtype, -1, err, errlen))
    return false;
  if (op->noperands > 3 && !qparam(op, 3, false, w->dtype, w->dims[0], err, errlen))
    return false;
  out[0].dtype = DT_I32;
  return true;
}

/* The scale/zero-point pairs of the qlinear ops: (1,2) for operand 0, (4,5) for operand 3 (per
 * column or per output channel: wlen), (6,7) for the result. */
static bool qlinear_params(const Op *op, int64_t wlen, char *err, size_t errlen) {
  if (!q8_operand(op, 0, err, errlen) || !q8_operand(op, 3, err, errlen))
    return false;
  const Type *x = ir_infer_operand(op, 0), *w = ir_infer_operand(op, 3),
             *yz = ir_infer_operand(op, 7);
  if (!is_q8(yz->dtype))
    return ir_infer_fail(err, errlen, "operand 7 (a zero point) has type %s, expected i8 or u8",
                         ir_dtype_name(yz->dtype));
  return qparam(op, 1, true, DT_UNKNOWN, -1, err, errlen) &&
         qparam(op, 2, false, x->dtype, -1, err, errlen) &&
         qparam(op, 4, true, DT_UNKNOWN, wlen, err, errlen) &&
         qparam(op, 5, false, w->dtype, wlen, err, errlen) &&
         qparam(op, 6, true, DT_UNKNOWN, -1, err, errlen) &&
         qparam(op, 7, false, yz->dtype, -1, err, errlen);
}

/* qlinear_matmul: A (0) and B (3) by matmul's shape rules -> the dtype of operand 7. */
bool ir_infer_qlinear_matmul(const Op *op, Type *out, char *err, size_t errlen) {
  const Type *b = ir_infer_operand(op, 3);
  if (!qlinear_params(op, b->rank > 1 ? b->dims[b->rank - 1] : 1, err, errlen) ||
      !with_operands(op, 0, 3, ir_infer_matmul, out, err, errlen))
    return false;
  out[0].dtype = ir_infer_operand(op, 7)->dtype;
  return true;
}

/* qlinear_conv: X (0) and W (3) by conv's shape rules, an optional i32 bias [M] (8) -> the dtype
 * of operand 7. */
bool ir_infer_qlinear_conv(const Op *op, Type *out, char *err, size_t errlen) {
  const Type *w = ir_infer_operand(op, 3);
  if (!qlinear_params(op, w->rank > 0 ? w->dims[0] : 1, err, errlen) ||
      !with_operands(op, 0, 3, ir_infer_conv, out, err, errlen))
    return false;
  if (op->noperands > 8) {
    const Type *bias = ir_infer_operand(op, 8);
    if (bias->dtype != DT_I32 || bias->rank != 1 || bias->dims[0] != w->dims[0])
      return ir_infer_fail(err, errlen, "operand 8 (bias) is %s, expected i32[%lld]",
                           ir_infer_type_text(bias).s, (long long)w->dims[0]);
  }
  out[0].dtype = ir_infer_operand(op, 7)->dtype;
  return true;
}
