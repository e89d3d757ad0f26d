/* kernel.c - small shared pieces of codegen.h: strides and kernel records. */
#include <stdlib.h>

#include "codegen.h"

void cg_contiguous_strides(const Type *t, int64_t *strides) {
  int64_t s = 1;
  for (int i = t->rank - 1; i >= 0; i--) {
    strides[i] = s;
    s *= i == 0 && t->dims[0] == IR_DIM_N ? 1 : t->dims[i];
  }
}

void cg_kernel_free(CgKernel *k) {
  free(k->name);
  free(k->source);
  *k = (CgKernel){0};
}
