#!/bin/sh
# The examples.engine_forms test (CMakeLists.txt says what it checks).
# Usage: run.sh KILN_COMPILE ENGINE_FORMS SOURCE_DIR WORK_DIR
set -eu
kc=$1 forms=$2 src=$3 work=$4
rm -rf "$work"
mkdir -p "$work"
"$kc" "$src/examples/tiny.kir" --max-batch 2 -o "$work/tiny.kiln"
"$kc" "$src/examples/tiny.kir" --max-batch 2 --emit=shared -o "$work/tiny.so"
[ -f "$work/tiny.h" ] || { echo "no header tiny.h beside tiny.so" >&2; exit 1; }
leftover=$(ls -A "$work" | grep -v -x -e tiny.kiln -e tiny.so -e tiny.h || true)
[ -z "$leftover" ] || { echo "kiln-compile left behind: $leftover" >&2; exit 1; }

# Only the tiny_* entry points are exported: the embedded runtime's kiln_* stay local.
exported=$(nm -D --defined-only "$work/tiny.so" | awk '{print $3}')
[ -n "$exported" ] || { echo "tiny.so exports nothing" >&2; exit 1; }
if echo "$exported" | grep -v '^tiny_' >&2; then
  echo "tiny.so exports symbols other than tiny_*" >&2; exit 1
fi

# Both forms, batch 2 and batch 1, bitwise identical outputs.
"$forms" --batch 2 "$work/tiny.kiln" "$work/tiny.so" tiny
"$forms" --batch 1 "$work/tiny.kiln" "$work/tiny.so" tiny

# An application linked directly against the library, through the generated header alone
# (strict C11, every warning an error): the tables and the entry points agree.
cat > "$work/direct.c" <<'APP'
#include <stdio.h>
#include <string.h>
#include "tiny.h"
int main(void) {
  static float x[2 * 3 * 32 * 32], y[2 * 16];
  tiny_engine *e = NULL;
  tiny_context *c = NULL;
  if (tiny_NUM_INPUTS != 1 || tiny_NUM_OUTPUTS != 1 || tiny_MAX_BATCH != 2 ||
      strcmp(tiny_inputs[0].dtype, "f32") || tiny_inputs[0].dims[0] != -1 ||
      tiny_inputs[0].bytes != sizeof x / 2 || tiny_outputs[0].bytes != sizeof y / 2 ||
      tiny_input(0) == NULL || tiny_input(1) != NULL || strcmp(tiny_input(0)->name,
      tiny_inputs[0].name)) {
    fputs("tiny.h tables are wrong\n", stderr);
    return 1;
  }
  for (size_t i = 0; i < sizeof x / sizeof *x; i++)
    x[i] = (float)(i % 7) * 0.25f - 0.75f;
  if (tiny_load("cpu", &e) || tiny_context_create(e, &c) || tiny_set_input(c, 0, x, sizeof x) ||
      tiny_set_output(c, 0, y, sizeof y) || tiny_run(c, 2)) {
    fprintf(stderr, "tiny: %s\n", tiny_last_error());
    return 1;
  }
  if (tiny_set_input(c, 1, x, sizeof x) == 0 || !strstr(tiny_last_error(), "no input 1")) {
    fputs("tiny_set_input accepted input 1\n", stderr);
    return 1;
  }
  float sum = 0;
  for (int i = 0; i < 16; i++)
    sum += y[i];
  printf("direct: softmax row sums to %.4f on %s\n", sum, tiny_device_name(e));
  tiny_context_free(c);
  tiny_free(e);
  return sum > 0.999f && sum < 1.001f ? 0 : 1;
}
APP
cc -std=c11 -pedantic -Wall -Wextra -Werror -I"$work" "$work/direct.c" "$work/tiny.so" \
  -Wl,-rpath,"$work" -o "$work/direct"
"$work/direct"

# Failures leave nothing behind: a compiler that does not exist, and a compile error.
for cc in /nonexistent/cc false; do
  if CC=$cc "$kc" "$src/examples/tiny.kir" --emit=shared -o "$work/bad.so" 2>"$work/err.txt"; then
    echo "kiln-compile succeeded with CC=$cc" >&2; exit 1
  fi
  grep -q "kiln-compile: error: --emit=shared: .*C compiler '$cc'" "$work/err.txt" ||
    { cat "$work/err.txt" >&2; echo "no clear error for CC=$cc" >&2; exit 1; }
  rm "$work/err.txt"
  leftover=$(ls -A "$work" | grep -v -x -e tiny.kiln -e tiny.so -e tiny.h -e direct.c -e direct ||
    true)
  [ -z "$leftover" ] || { echo "CC=$cc left behind: $leftover" >&2; exit 1; }
done
echo "engine forms check passed"
