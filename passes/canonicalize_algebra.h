/* canonicalize_algebra.h - canonicalize's algebraic identities (canonicalize_algebra.c). */
#ifndef KILN_PASSES_CANONICALIZE_ALGEBRA_H
#define KILN_PASSES_CANONICALIZE_ALGEBRA_H

#include <stdbool.h>

#include "ir/ir.h"

/* One rewrite of op, if one applies; true when it changed the module (op may then be erased).
 * No rewrite changes the type of a value that has users, and none erases an op other than op
 * (an operand's producer left without users is DCE's to drop):
 *   - x*1, 1*x, x+0, 0+x, x-0, x/1 and pow(x, 1), where the constant is a weight with data, of
 *     a float or integer dtype, whose elements are all exactly 1 (or +-0), and the result type
 *     equals x's (no broadcast widening, no dtype change), become x;
 *   - reshape (attribute form, known result type) of a reshape, flatten, squeeze or unsqueeze
 *     becomes one reshape of the inner op's operand;
 *   - transpose of a transpose becomes one transpose with the composed permutation;
 *   - reshape, flatten, squeeze, unsqueeze and cast whose result type equals the operand type,
 *     and a transpose with the identity permutation, become their operand;
 *   - conv of a zero-padding pad (attribute form, constant mode, value 0, batch and channel
 *     axes unpadded, no negative pads) reads the pad's operand with the pads added to its own
 *     (TensorRT's padding+convolution fusion). */
bool canon_algebra_rewrite(Module *m, Op *op);

#endif
