/* fuzz_parse.c - libFuzzer target for the textual IR parser, the verifier and the printer.
 *
 * Properties checked on every input: parsing never crashes, hangs or leaks; a module that parses
 * and verifies prints to text that parses again and prints byte-identically (round trip). A
 * broken property aborts, which libFuzzer (and replay.c in ctest) reports. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frontend/text/parse.h"

static Module *parse_quiet(const char *text, size_t len, FILE *sink) {
  Diag d;
  ir_diag_init(&d, "fuzz", text, len);
  d.out = sink;
  Module *m = fe_parse_text(text, len, &d);
  if (m && ir_verify(m, &d) != 0) {
    ir_module_free(m);
    m = NULL;
  }
  return m;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static FILE *sink;
  if (!sink)
    sink = fopen("/dev/null", "w");
  Module *m = parse_quiet((const char *)data, size, sink);
  if (!m)
    return 0;
  Buf first = {0}, second = {0};
  ir_print_module(m, &first, NULL);
  ir_module_free(m);
  Module *again = parse_quiet(first.data, first.len, sink);
  if (!again) {
    fprintf(stderr, "round trip: printed IR does not parse or verify:\n%s", ir_buf_str(&first));
    abort();
  }
  ir_print_module(again, &second, NULL);
  ir_module_free(again);
  if (first.len != second.len || memcmp(first.data, second.data, first.len) != 0) {
    fprintf(stderr, "round trip: second print differs:\n%s---\n%s", ir_buf_str(&first),
            ir_buf_str(&second));
    abort();
  }
  ir_buf_free(&first);
  ir_buf_free(&second);
  return 0;
}
