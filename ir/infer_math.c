/* infer_math.c - shape inference of the math, logical and special-value elementwise ops that
 * need more than infer.c's unary, binary and comparison rules: mod, and/or/xor, not, is_nan,
 * is_inf. */
#include "infer.h"

/* mod: as add (shared dtype, numpy broadcast); fmod is 0 or 1, and float operands need 1. */
bool ir_infer_mod(const Op *op, Type *out, char *err, size_t errlen) {
  bool fmod;
  if (!ir_infer_flag(op, "fmod", 0, &fmod, err, errlen))
    return false;
  const Type *a = ir_infer_operand(op, 0), *b = ir_infer_operand(op, 1);
  if (!ir_infer_same_dtype(a, b, err, errlen))
    return false;
  if (!fmod && ir_dtype_is_float(a->dtype))
    return ir_infer_fail(err, errlen, "fmod is 0 with %s operands, expected 1 for floats",
                         ir_dtype_name(a->dtype));
  return ir_shape_broadcast(a, b, &out[0], err, errlen);
}

static bool is_bool(const Op *op, int i, char *err, size_t errlen) {
  const Type *t = ir_infer_operand(op, i);
  if (t->dtype == DT_BOOL)
    return true;
  return ir_infer_fail(err, errlen, "operand %d has dtype %s, expected bool", i,
                       ir_dtype_name(t->dtype));
}

/* and, or, xor: bool operands, numpy broadcast, bool result. */
bool ir_infer_logical(const Op *op, Type *out, char *err, size_t errlen) {
  if (!is_bool(op, 0, err, errlen) || !is_bool(op, 1, err, errlen))
    return false;
  if (!ir_shape_broadcast(ir_infer_operand(op, 0), ir_infer_operand(op, 1), &out[0], err, errlen))
    return false;
  out[0].dtype = DT_BOOL;
  return true;
}

/* not: a bool operand; the result is its type. */
bool ir_infer_not(const Op *op, Type *out, char *err, size_t errlen) {
  if (!is_bool(op, 0, err, errlen))
    return false;
  const Type *x = ir_infer_operand(op, 0);
  out[0] = ir_infer_plain(x, x->rank, x->dims);
  return true;
}

/* is_nan, is_inf: a float operand; a bool result of its shape. is_inf's detect_negative and
 * detect_positive are flags (default 1). */
bool ir_infer_is_special(const Op *op, Type *out, char *err, size_t errlen) {
  bool neg, pos;
  if (op->kind == OP_IS_INF && (!ir_infer_flag(op, "detect_negative", 1, &neg, err, errlen) ||
                                !ir_infer_flag(op, "detect_positive", 1, &pos, err, errlen)))
    return false;
  const Type *x = ir_infer_operand(op, 0);
  if (!ir_dtype_is_float(x->dtype))
    return ir_infer_fail(err, errlen, "operand 0 has dtype %s, expected a float type",
                         ir_dtype_name(x->dtype));
  out[0] = ir_infer_plain(x, x->rank, x->dims);
  out[0].dtype = DT_BOOL;
  return true;
}
