#!/usr/bin/env bash
# Builds libfieldsync_ffi and generates its Kotlin, Swift and Python bindings (library mode) into
# <target>/bindings/{kotlin,swift,python}, where <target> is $CARGO_TARGET_DIR when set, else target/.
# Generated code is never committed.
# Usage: scripts/bindgen.sh [debug|release|release-small]   (default: debug)
set -euo pipefail
cd "$(dirname "$0")/.."
target="${CARGO_TARGET_DIR:-target}"
profile="${1:-debug}"
case "$profile" in
  debug) cargo build -p fieldsync-ffi -p uniffi-bindgen --locked; dir="$target/debug" ;;
  *) cargo build -p fieldsync-ffi --profile "$profile" --locked && cargo build -p uniffi-bindgen --locked
     dir="$target/$profile" ;;
esac
lib="$dir/libfieldsync_ffi.so"
out="$target/bindings"
rm -rf "$out" && mkdir -p "$out"
for language in kotlin swift python; do
  "$target/debug/uniffi-bindgen" generate --no-format --language "$language" --out-dir "$out/$language" "$lib"
done
cp "$lib" "$out/python/"
echo "bindings in $out (library: $lib)"
