#!/bin/sh
# tools.compile_deterministic: kiln-compile gives the same bytes for the same model and flags
# (DESIGN.md, "Codegen and bundle"), wherever the model file and the output are. Each model is
# compiled twice, the second time from a copy of it in another directory, output elsewhere; the
# bundles must be byte-identical, and so must the --emit=shared header and library (no work path
# or time reaches them; the system C compiler and linker are deterministic without -g).
# Usage: compile_deterministic.sh KILN_COMPILE WORK_DIR MODEL.kir...
# A model with elided weights (dense_resource<__elided__>, as test/engine's are) gets fixed
# data first: a resource per elided f32 weight, cycling through a few float bit patterns.
set -eu
kc=$1 work=$2
shift 2
case $kc in /*) ;; *) kc=$(pwd)/$kc ;; esac
rm -rf "$work"
mkdir -p "$work/one" "$work/two/out"
for model in "$@"; do
  name=$(basename "$model")
  awk '
    /^ *weight \$[A-Za-z0-9_]+ *: *f32\[[0-9,]+\] *= *dense_resource<__elided__>/ {
      match($0, /\$[A-Za-z0-9_]+/); w = substr($0, RSTART + 1, RLENGTH - 1)
      match($0, /\[[0-9,]+\]/); n = split(substr($0, RSTART + 1, RLENGTH - 2), d, ",")
      numel = 1; for (i = 1; i <= n; i++) numel *= d[i]
      split("0000003F 000080BE CDCC4C3E 9A9999BE 0000803E 3333333F", pat, " ")
      hex = "0x"; for (k = 0; k < numel; k++) hex = hex pat[(k + length(w)) % 6 + 1]
      res[w] = hex; order[++nres] = w
      sub(/__elided__/, "elided_" w)
    }
    { print }
    END {
      if (nres) { print "resources {"; for (i = 1; i <= nres; i++)
        printf "  elided_%s = \"%s\"\n", order[i], res[order[i]]; print "}" }
    }' "$model" > "$work/one/$name"
  cp "$work/one/$name" "$work/two/$name"
  for emit in bundle shared; do
    ext=kiln; [ $emit = shared ] && ext=so
    "$kc" "$work/one/$name" --max-batch 2 --emit=$emit -o "$work/one/engine.$ext"
    (cd "$work/two" && "$kc" "$name" --max-batch 2 --emit=$emit -o "out/engine.$ext")
    cmp "$work/one/engine.$ext" "$work/two/out/engine.$ext"
  done
  cmp "$work/one/engine.h" "$work/two/out/engine.h"
  echo "$name: bundle, library and header byte-identical"
done
