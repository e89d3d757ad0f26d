/* device.h - the registry's word on which ops the device (an OpenCL kernel) can run.
 *
 * The F_DEVICE flag refined by the type and attribute rules of device.c: what holds whatever the
 * emitters do. The `segment` and `fuse` passes ask pass_device_ok (passes/pass.h), which is this
 * and then the driver's predicate, codegen's cg_op_supported (what its emitters accept today);
 * ops either rejects run on the host through the reference kernels. */
#ifndef KILN_IR_DEVICE_H
#define KILN_IR_DEVICE_H

#include <stdbool.h>
#include <stddef.h>

#include "ir.h"

/* True when op can run on the device. Otherwise false, with a short reason phrase written into
 * why[n] (why may be NULL). Reasons fall in three classes, each phrase starting the same way so
 * that remarks can be grouped:
 *   "unsupported op"                     no device kernel for this op kind (no F_DEVICE);
 *   "dtype f64", "unknown type"          an operand or result type the device cannot hold;
 *   "attribute: <what>"                  an attribute value no device kernel is planned for.
 * A region op (`fused`, `segment`) is supported when every op of its body is; its reason is then
 * "body op '<name>': <reason>". `yield` and `output` are never supported ("structural op"). */
bool ir_op_device_ok(const Op *op, char *why, size_t n);

/* Whether the device handles values of this dtype (f32, f16, i8, u8, i32, i64, bool). */
bool ir_dtype_device_ok(DType dt);

#endif
