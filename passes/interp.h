/* interp.h - the compiler's bridge to the reference kernels (runtime/ref): evaluating one op on
 * constant tensors (canonicalize's folding) and running a whole module (numeric tests, the ONNX
 * conformance runner).
 *
 * Types and attributes are converted to the runtime's RtTensor and RtAttr (element types are
 * numbered alike; attributes are sorted alike); tensor bytes are passed, never copied. */
#ifndef KILN_PASSES_INTERP_H
#define KILN_PASSES_INTERP_H

#include <stdbool.h>
#include <stddef.h>

#include "ir/ir.h"

/* Evaluates one op on tensors of its operands (in[i]->type is the operand's type, static);
 * results are allocated in m's arena with the op's result types (which must be known and
 * static; for F_DATA_SHAPE ops, see pass_eval_bound). Returns false with a reason in err that
 * names the op:
 * "'conv' op (%c): element type i8 has no reference kernel". */
bool pass_eval_op(Module *m, const Op *op, const Tensor *const *in, Tensor *out, char *err,
                  size_t errlen);

/* The kernel call under pass_eval_op, for callers that own the result buffers: out[i].type (static)
 * and out[i].data (out[i].nbytes bytes, the type's size) are set by the caller. err receives the
 * reason alone, without naming the op. Structural ops (fused, segment, yield, output) have no
 * kernel. */
bool pass_eval_kernel(const Op *op, const Tensor *const *in, Tensor *out, char *err,
                      size_t errlen);

/* For an op whose result shapes depend on the operand values (F_DATA_SHAPE): the upper-bound
 * result types on these operands (rt_ref_bound). Callers allocate out[i]'s size, pass those
 * types to pass_eval_kernel, which trims each out[i].type and nbytes to the actual shape. err
 * receives the reason alone. pass_eval_op and pass_interp_module do this themselves (the
 * interpreter's values of such ops take their shape from the kernel, not the declared type). */
bool pass_eval_bound(const Op *op, const Tensor *const *in, Type *out, char *err,
                     size_t errlen);

/* Runs the whole module through the reference kernels: inputs[i] for m->inputs[i] (their types
 * must match the input's type, a leading N bound to inputs' dimension 0 - all batched inputs must
 * agree); outputs[j] receive the values of the output op's operands (data in m's arena). fused
 * and segment regions are run by evaluating their bodies. Every op's result shape is its
 * declared type with N replaced by the batch, so shapes must have been inferred. Scratch memory
 * is freed before returning. false with a reason in err, naming the op that failed. */
bool pass_interp_module(Module *m, const Tensor *inputs, int ninputs, Tensor *outputs,
                        int noutputs, char *err, size_t errlen);

#endif
