/* infer_arg.c - shape inference of arg_max and arg_min (ONNX semantics; see infer.h for the
 * conventions). */
#include "infer.h"

/* arg_max, arg_min: index along axis (default 0; negative allowed; never the batch dimension),
 * kept as size 1 when keepdims (default 1) or dropped; select_last_index is a flag. The result is
 * i64. */
bool ir_infer_arg(const Op *op, Type *out, char *err, size_t errlen) {
  const Type *x = ir_infer_operand(op, 0);
  int axis = 0, rank = 0;
  bool keep, last;
  if (!ir_infer_flag(op, "keepdims", 1, &keep, err, errlen) ||
      !ir_infer_flag(op, "select_last_index", 0, &last, err, errlen) ||
      !ir_infer_axis(ir_attr_int(op, "axis", 0), x->rank, &axis, err, errlen))
    return false;
  if (axis == 0 && ir_type_is_batched(x))
    return ir_infer_fail(err, errlen, "cannot reduce over the batch dimension N");
  int64_t dims[IR_MAX_RANK];
  for (int i = 0; i < x->rank; i++)
    if (i != axis)
      dims[rank++] = x->dims[i];
    else if (keep)
      dims[rank++] = 1;
  out[0] = ir_type_make(DT_I64, rank, dims);
  return true;
}
