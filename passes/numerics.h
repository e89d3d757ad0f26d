/* numerics.h - numeric bisection of a pipeline (`kiln-opt --check-numerics`): the module runs on
 * the reference kernels (interp.h) before the pipeline and again after every pass that changed
 * it; the first pass whose outputs move beyond a tolerance is reported.
 *
 * Inputs are the given tensors, or random ones from a fixed seed (the same on every machine):
 * floats uniform in [-1, 1]; integers 0 and bools false, since integer inputs are mostly indices
 * and shape operands (gather indices, top-k's k, reshape shapes) and 0 is the one value in range
 * for any non-empty axis, where random integers would fault a kernel or blow up a shape. A
 * leading batch dimension N takes the batch of the given inputs, else the batch option.
 *
 * The metric, per output: relative error = max_i |new_i - ref_i| / max(max_i |ref_i|, 1e-30),
 * the maxima over finite reference elements for the denominator. Elements equal as numbers
 * (infinities of one sign included) or NaN in both count 0; NaN or an infinity in one and not
 * the other makes the error infinite. Integer, bool and quantized outputs must match exactly.
 * A pass that changes an output's type (shape or dtype) or the number of outputs fails.
 *
 * A pass that leaves the module unchanged is not rerun: the checker hashes (xxh3) the printed IR
 * with constants elided plus every weight's and tensor attribute's bytes, which is cheap next to
 * a run of a large model.
 *
 * Nothing here prints or exits: messages go back to the caller (kiln-opt). */
#ifndef KILN_PASSES_NUMERICS_H
#define KILN_PASSES_NUMERICS_H

#include <stdbool.h>
#include <stdint.h>

#include "pass.h"

#define PASS_NUMERICS_TOL 1e-5

/* A given input: tensor's data is borrowed until pass_numerics_begin returns. */
typedef struct NumericsInput {
  const char *name;   /* the module input's name, without '%' */
  const char *source; /* where it came from (a file name), for messages */
  Tensor tensor;
} NumericsInput;

typedef struct NumericsOptions {
  double tol;    /* relative error allowed per output; < 0: PASS_NUMERICS_TOL */
  int64_t batch; /* N of random inputs; <= 0: the given inputs' batch, else 1 */
  const NumericsInput *inputs;
  int ninputs;
} NumericsOptions;

typedef struct NumericsCheck NumericsCheck;

/* Checks that every type of m is known (N allowed) and every weight has data, binds the given
 * inputs to m's inputs by name (name, dtype and shape checked), makes the others, and runs m to
 * keep its outputs as the reference (copied out of m's arena). NULL with a message in err
 * ("--check-numerics: ...") on any failure. */
NumericsCheck *pass_numerics_begin(Module *m, const NumericsOptions *opt, char *err,
                                   size_t errlen);

/* Checks m after pass (step counts from 1): false when its outputs moved beyond the tolerance or
 * m no longer runs. pass_numerics_message then holds the error ("--check-numerics: pass 'x'
 * (step 3) changed output 'y': max relative error ..."); after true, a one-line summary of the
 * step. Matches PassManagerOptions.after_pass but for the context's type. */
bool pass_numerics_check(NumericsCheck *c, const PassInfo *pass, int step, Module *m);
const char *pass_numerics_message(const NumericsCheck *c);

/* "check-numerics: N passes checked, max relative error E" (no newline). */
const char *pass_numerics_summary(NumericsCheck *c);

void pass_numerics_free(NumericsCheck *c);

#endif
