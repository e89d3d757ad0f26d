/* device.c - ir_op_device_ok (see device.h): the registry's F_DEVICE flag, then types, then
 * attribute values, checked in that order so the reason names the first class that fails.
 *
 * Registry decisions made here rather than per attribute: top_k carries no F_DEVICE (ops.def)
 * because it is a sort, and no device sort kernel is planned; it runs on the host.
 *
 * Attribute rules (values no device kernel is planned for; everything else F_DEVICE accepts).
 * What the emitters of today handle is codegen's word (cg_op_supported), which drivers add on
 * top of this through pass_device_ok; these rules are the ones that hold whatever the emitters:
 *   max_pool with a second result      the argmax indices output (training/unpooling only)
 *   resize coordinate_transformation_mode 'tf_crop_and_resize'
 *                                      reads a runtime roi tensor; rare outside TF exports
 *   scatter_elements / scatter_nd with a reduction other than 'none'
 *                                      colliding indices need atomic float updates, which
 *                                      portable OpenCL C does not have */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "device.h"

bool ir_dtype_device_ok(DType dt) {
  switch (dt) {
  case DT_F32:
  case DT_F16:
  case DT_I8:
  case DT_U8:
  case DT_I32:
  case DT_I64:
  case DT_BOOL: return true;
  default: return false;
  }
}

/* Writes the reason and returns false. */
static bool fail(char *why, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static bool fail(char *why, size_t n, const char *fmt, ...) {
  if (why && n) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, n, fmt, ap);
    va_end(ap);
  }
  return false;
}

/* Known, static (a leading N is static: bounded by --max-batch) and of a device dtype. */
static bool type_ok(const Type *t, char *why, size_t n) {
  if (t->dtype == DT_UNKNOWN)
    return fail(why, n, "unknown type");
  if (!ir_dtype_device_ok(t->dtype))
    return fail(why, n, "dtype %s", ir_dtype_name(t->dtype));
  for (int i = 0; i < t->rank; i++)
    if (t->dims[i] < 0 && !(i == 0 && t->dims[0] == IR_DIM_N))
      return fail(why, n, "dynamic shape");
  return true;
}

static bool attrs_ok(const Op *op, char *why, size_t n) {
  const char *s;
  switch (op->kind) {
  case OP_MAX_POOL:
    if (op->nresults > 1)
      return fail(why, n, "attribute: max_pool indices output");
    break;
  case OP_RESIZE:
    s = ir_attr_string(op, "coordinate_transformation_mode", "half_pixel");
    if (strcmp(s, "tf_crop_and_resize") == 0)
      return fail(why, n, "attribute: resize coordinate_transformation_mode '%s'", s);
    break;
  case OP_SCATTER_ELEMENTS:
  case OP_SCATTER_ND:
    s = ir_attr_string(op, "reduction", "none");
    if (strcmp(s, "none") != 0)
      return fail(why, n, "attribute: %s reduction '%s'", ir_op_name(op->kind), s);
    break;
  default: break;
  }
  return true;
}

bool ir_op_device_ok(const Op *op, char *why, size_t n) {
  unsigned flags = ir_ops[op->kind].flags;
  if (flags & F_TERMINATOR)
    return fail(why, n, "structural op");
  if (flags & F_REGION) {
    char inner[200];
    for (const Op *o = op->body ? op->body->first : NULL; o; o = o->next)
      if (o->kind != OP_YIELD && !ir_op_device_ok(o, inner, sizeof inner))
        return fail(why, n, "body op '%s': %s", ir_op_name(o->kind), inner);
    return true;
  }
  if (!(flags & F_DEVICE))
    return fail(why, n, "unsupported op");
  for (int i = 0; i < op->noperands; i++)
    if (!type_ok(&op->operands[i].value->type, why, n))
      return false;
  for (int i = 0; i < op->nresults; i++)
    if (!type_ok(&op->results[i]->type, why, n))
      return false;
  return attrs_ok(op, why, n);
}
