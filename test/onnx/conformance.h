/* conformance.h - what conformance.c shares with conformance_engine.c (the --engine path). */
#ifndef KILN_TEST_ONNX_CONFORMANCE_H
#define KILN_TEST_ONNX_CONFORMANCE_H

#include <stdbool.h>
#include <stddef.h>

#include "ir/ir.h"

typedef enum Verdict { PASS, FAIL, UNSUPPORTED } Verdict;

/* The pipeline the engine path runs after import (and after conformance.c's own shape
 * pipeline): kiln-compile's default with min-size 1, so that every op an emitter can implement
 * goes to the device. */
#define ENGINE_PIPELINE                                                                         \
  "infer-shapes,canonicalize,fold-batchnorm,canonicalize,segment{min-size=1},fuse,canonicalize"

/* One case's engine, compiled by libkilnrt on POCL ("cpu", no program cache). */
typedef struct ConfEngine ConfEngine;

/* Runs ENGINE_PIPELINE on m. UNSUPPORTED (a pass refused the module) with the first error line
 * in why, else PASS. */
Verdict conf_engine_prepare(Module *m, char *why, size_t n);

/* Builds the engine of m (prepared) for batches up to max_batch (its kernel count in *nkernels
 * once cg_build_engine succeeds), writes its bundle to memory and loads it. NULL with the verdict in *v and the reason in why: UNSUPPORTED when cg_build_engine
 * refuses, FAIL when the bundle does not load (a kernel that does not build: the first error
 * line of the build log). */
ConfEngine *conf_engine_build(const Module *m, int max_batch, int *nkernels, Verdict *v, char *why,
                              size_t n);

int conf_engine_max_batch(const ConfEngine *e);

/* Runs in[] (m's inputs in order, one data set) and writes got[] (the model's outputs, data
 * in m's arena). FAIL or UNSUPPORTED with the reason in why. */
Verdict conf_engine_run(ConfEngine *e, Module *m, const Tensor *in, int nin, Tensor *got,
                        int nout, char *why, size_t n);

void conf_engine_free(ConfEngine *e);

#endif
