/* canonicalize_shapes.h - canonicalize's rewrites of shape computations (canonicalize_shapes.c). */
#ifndef KILN_PASSES_CANONICALIZE_SHAPES_H
#define KILN_PASSES_CANONICALIZE_SHAPES_H

#include <stdbool.h>

#include "ir/ir.h"

/* One rewrite of op, if one applies; true when it changed the module (op may then be erased):
 *   - shape(x) and size(x) become a weight once x's type is known and static;
 *   - an op in operand form (ir/dyn_form.h) whose extra operands are all weights with data is
 *     rewritten into the attribute form, and its unknown result types are inferred;
 *   - constant_of_shape in attribute form with a static result becomes a weight;
 *   - range and constant_of_shape with unknown result types get them inferred once their
 *     operands are constants (infer-shapes does the same for the ops that read them). */
bool canon_shapes_rewrite(Module *m, Op *op);

#endif
