/* registry.c - the table of every pass, in the order `kiln-opt --list-passes` shows them. */
#include <string.h>

#include "pass.h"

extern const PassInfo pass_canonicalize;
extern const PassInfo pass_fold_batchnorm;
extern const PassInfo pass_fuse;
extern const PassInfo pass_infer_shapes;
extern const PassInfo pass_precision;
extern const PassInfo pass_segment;
extern const PassInfo pass_split_k;
extern const PassInfo pass_test_perturb;
extern const PassInfo pass_verify;

const PassInfo *const pass_table[] = {
    &pass_canonicalize,
    &pass_fold_batchnorm,
    &pass_fuse,
    &pass_infer_shapes,
    &pass_precision,
    &pass_segment,
    &pass_split_k,
    &pass_test_perturb,
    &pass_verify,
};

const int pass_count = sizeof pass_table / sizeof pass_table[0];

const PassInfo *pass_lookup(const char *name) {
  for (int i = 0; i < pass_count; i++)
    if (strcmp(pass_table[i]->name, name) == 0)
      return pass_table[i];
  return NULL;
}
