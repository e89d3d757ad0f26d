#!/bin/sh
# Installs the build into a scratch prefix, then builds an outside application against it twice:
# with CMake's find_package(kiln) and with pkg-config. Usage: run.sh BUILD_DIR SOURCE_DIR WORK_DIR
set -eu
build=$1 src=$2 work=$3
rm -rf "$work"
mkdir -p "$work"
cmake --install "$build" --prefix "$work/prefix" >/dev/null
for f in bin/kiln-opt include/kiln.h; do
  [ -e "$work/prefix/$f" ] || { echo "missing installed $f" >&2; exit 1; }
done
lib=$(ls -d "$work"/prefix/lib*/libkilnrt.so.0 2>/dev/null | head -n 1)
[ -n "$lib" ] || { echo "missing installed libkilnrt.so.0" >&2; exit 1; }
libdir=$(dirname "$lib")
# The runtime never depends on the compiler: no compiler symbol in it, no protobuf-c, flex or bison.
if nm -D "$lib" | grep -E ' [TU] (ir|fe|pass|cg)_' >&2; then
  echo "libkilnrt refers to compiler symbols" >&2; exit 1
fi
if ldd "$lib" | grep -E 'protobuf|libfl' >&2; then
  echo "libkilnrt links compiler-only libraries" >&2; exit 1
fi

cmake -S "$src/test/install/app" -B "$work/app" -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
cmake --build "$work/app" >/dev/null
out=$(LD_LIBRARY_PATH="$libdir" "$work/app/app")
[ "$out" = "kiln $("$work/prefix/bin/kiln-opt" --version | cut -d' ' -f2)" ] ||
  { echo "find_package app printed '$out'" >&2; exit 1; }

export PKG_CONFIG_PATH="$libdir/pkgconfig"
cc "$src/test/install/app/main.c" $(pkg-config --cflags --libs kiln) -o "$work/app-pc"
out=$(LD_LIBRARY_PATH="$libdir" "$work/app-pc")
[ "$out" = "kiln $(pkg-config --modversion kiln)" ] ||
  { echo "pkg-config app printed '$out'" >&2; exit 1; }
echo "install check passed: find_package and pkg-config"
