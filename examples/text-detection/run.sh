#!/bin/sh
# run.sh [--device D] [IMAGE.png] - the text-detection quickstart (what `tools/kiln-dev demo` runs
# after building): fetch the PP-OCRv4 detector (fetch_model.sh), render the test image
# (make_image.sh) unless one is given, compile the model with kiln for the image's input size and
# the device D (default: $KILN_DEVICE, else the first GPU, else the CPU) with its program binary
# embedded, run text_detect on it and write build/text-detection/out.png.
# The engine is kept per size and device in build/text-detection/ with its measured compile time;
# delete it to measure again. $KILN_BUILD_DIR names another build tree (default build).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${KILN_BUILD_DIR:-$root/build}
device=${KILN_DEVICE:-} image=
while [ $# -gt 0 ]; do
  case $1 in
  --device) [ $# -ge 2 ] || { echo "run.sh: --device needs a value" >&2; exit 1; }; device=$2; shift 2 ;;
  -*) echo "usage: run.sh [--device D] [IMAGE.png]" >&2; exit 1 ;;
  *) image=$1; shift ;;
  esac
done
td=$build/examples/text-detection/text_detect
for t in "$build/kiln-compile" "$td"; do
  [ -x "$t" ] || { echo "run.sh: $t not built (cmake --build $build)" >&2; exit 1; }
done
work=$build/text-detection
mkdir -p "$work"

model=$("$here/fetch_model.sh")
if [ -z "$image" ]; then
  image=$work/text.png
  "$here/make_image.sh" "$image" >/dev/null
fi
shape=$("$td" --input-size "$image")
tag=$(echo "${device:-default}" | tr -c 'A-Za-z0-9_.\n-' '_')
engine=$work/det-$shape-$tag.kiln
if [ -f "$engine" ] && [ -f "$engine.time" ] && [ "$engine" -nt "$model" ]; then
  echo "compile: reusing $engine (compiled in $(cat "$engine.time") s; delete it to compile again)"
else
  echo "compile: kiln-compile $model --shape x=$shape --device '${device}'"
  t0=$(date +%s.%N)
  "$build/kiln-compile" "$model" --shape "x=$shape" --device "$device" -o "$engine"
  t1=$(date +%s.%N)
  awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f\n", b - a }' >"$engine.time"
  echo "compile time: $(cat "$engine.time") s (import, passes, code generation, OpenCL build for the device)"
fi
"$td" "$engine" "$image" -o "$work/out.png" ${device:+--device "$device"}
echo "out.png: $work/out.png"
