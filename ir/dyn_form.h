/* dyn_form.h - the operand form of ops whose ONNX inputs kiln keeps as attributes.
 *
 * reshape, slice, squeeze, unsqueeze, reduce_* (those with `axes`), resize, pad, clip, split,
 * expand, tile, constant_of_shape, trilu (k), cum_sum (axis), one_hot (depth) and top_k (k) accept, besides kiln's attribute form, ONNX's input form: the
 * attributes' values as extra operands after the op's base operands (reshape(%x, %shape)). The
 * importer emits it when such an input is not a constant; canonicalize rewrites it into the
 * attribute form once every extra operand is a weight with data. Until then the result type is
 * unknown unless the extra operands are constants (inference then reads them).
 *
 * Extra operand i (after the base ones) sets the attribute params[i]: ints from an integer
 * tensor, floats from any number tensor, a float from a one-element tensor. An extra operand with
 * no elements leaves an optional attribute absent (Resize's empty scales). */
#ifndef KILN_IR_DYN_FORM_H
#define KILN_IR_DYN_FORM_H

#include <stdbool.h>
#include <stddef.h>

#include "ir.h"

typedef struct IrDynParam {
  const char *attr;
  AttrKind kind; /* ATTR_INTS, ATTR_FLOATS, ATTR_FLOAT or ATTR_INT (a one-element tensor) */
} IrDynParam;

/* The number of base operands of an op kind with an operand form (its params into *params,
 * their count into *nparams), or -1 for other kinds. */
int ir_dyn_base(OpKind k, const IrDynParam **params, int *nparams);
/* op carries extra operands (is in operand form). */
bool ir_dyn_has_operands(const Op *op);
/* Attribute `name` of op is given by one of its extra operands. */
bool ir_dyn_provides(const Op *op, const char *name);

/* A copy of an op in attribute form: view.op has the base operands only and the attributes set
 * from the extra operands' tensors (valid while op lives). */
typedef struct IrDynView {
  Op op;
  Attr *attrs;
  void *bufs[8];
  int nbufs;
} IrDynView;

/* Builds the view from extra[i], the tensor of operand base + i (data present, type static).
 * False with a reason in err (a non-integer tensor where ints are wanted, ...). */
bool ir_dyn_view(const Op *op, const Tensor *const *extra, IrDynView *view, char *err,
                 size_t errlen);
void ir_dyn_view_free(IrDynView *view);

/* The extra operands of op are all weights with data (their tensors into extra, which has room
 * for op->noperands). */
bool ir_dyn_constant(const Op *op, const Tensor **extra);

/* Rewrites op into the attribute form when its extra operands are all weights with data: sets
 * the attributes and drops the extra operands. Returns true when it rewrote; false with err
 * empty when an operand is not constant, or with a reason in err. */
bool ir_dyn_to_attrs(Module *m, Op *op, char *err, size_t errlen);

/* Shape inference of an op in operand form: the attribute form's once the extra operands are
 * constants, else out stays as given (unknown). */
bool ir_infer_dyn(const Op *op, Type *out, char *err, size_t errlen);

#endif
