/* fuzz_onnx.c - libFuzzer target for the ONNX importer (bytes, no external data), the verifier
 * and the printer.
 *
 * Properties checked on every input: importing never crashes, hangs or leaks; a rejected model
 * gives exactly one error line; an imported model verifies and prints. A broken property aborts,
 * which libFuzzer (and replay.c in ctest) reports. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "frontend/onnx/onnx_import.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static FILE *sink;
  if (!sink)
    sink = fopen("/dev/null", "w");
  Diag d;
  ir_diag_init(&d, "fuzz.onnx", NULL, 0);
  d.out = sink;
  Module *m = fe_onnx_import(data, size, "fuzz.onnx", NULL, NULL, &d);
  if (!m) {
    if (d.nerrors != 1) {
      fprintf(stderr, "fuzz_onnx: a rejected model gave %d errors, expected 1\n", d.nerrors);
      abort();
    }
    return 0;
  }
  if (ir_verify(m, &d) != 0) {
    ir_diag_init(&d, "fuzz.onnx", NULL, 0);
    ir_verify(m, &d);
    fprintf(stderr, "fuzz_onnx: an imported model does not verify\n");
    abort();
  }
  Buf out = {0};
  ir_print_module(m, &out, NULL);
  ir_buf_free(&out);
  ir_module_free(m);
  return 0;
}
