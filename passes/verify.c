/* verify.c - the `verify` pass: runs the verifier as a pipeline step.
 *
 * Requires: nothing. Maintains: everything (changes no IR). Useful with --no-verify-each, or to
 * check IR before the first pass of a pipeline in a lit test. */
#include "pass.h"

static bool run(PassContext *pc) { return ir_verify(pc->m, pc->diag) == 0; }

const PassInfo pass_verify = {"verify", "check the IR against every verifier rule", NULL, 0, run};
