#!/usr/bin/env bash
# Builds what ios/Package.swift needs, on a Mac with Xcode:
#   ios/FieldSyncFFI.xcframework              libfieldsync_ffi.a for iOS devices, iOS simulators (arm64 +
#                                             x86_64) and macOS (arm64 + x86_64), with the uniffi C header
#                                             and a module map declaring the `fieldsync_ffiFFI` Clang module
#   ios/Sources/FieldSync/Generated/          the generated Swift API (fieldsync_ffi.swift)
# Neither is committed: both are rebuilt from the Rust sources, with the workspace's pinned uniffi-bindgen
# so that the generated Swift always matches the library's scaffolding (checksums are checked at load).
#
# Usage: ios/build-xcframework.sh [debug|release|release-small] [--zip]
#   profile   Cargo profile of the library (default release-small: the size-optimised shipping profile)
#   --zip     also write ios/build/FieldSyncFFI.xcframework.zip and print its SwiftPM checksum, for a
#             remote `.binaryTarget(name:url:checksum:)`
# Needs: macOS, Xcode (xcodebuild, lipo), rustup with the Rust toolchain of the workspace.
set -euo pipefail
cd "$(dirname "$0")"
ios_dir=$(pwd)
workspace=$(cd .. && pwd)

profile=release-small
zip=false
for arg in "$@"; do
  case "$arg" in
    debug | release | release-small) profile=$arg ;;
    --zip) zip=true ;;
    *) echo "usage: $0 [debug|release|release-small] [--zip]" >&2; exit 2 ;;
  esac
done

die() { echo "build-xcframework: $*" >&2; exit 1; }
step() { printf '\n==> %s\n' "$*"; }

[[ "$(uname -s)" == Darwin ]] || die "needs macOS with Xcode (on Linux, scripts/test-swift.sh runs the tests)"
command -v xcodebuild >/dev/null || die "xcodebuild not found: install Xcode and run xcode-select"
command -v cargo >/dev/null || die "cargo not found: install Rust with rustup"

# The deployment targets of Package.swift: the Rust objects must not ask for newer systems.
export IPHONEOS_DEPLOYMENT_TARGET=15.0
export MACOSX_DEPLOYMENT_TARGET=12.0

device=aarch64-apple-ios
simulators=(aarch64-apple-ios-sim x86_64-apple-ios)
macos=(aarch64-apple-darwin x86_64-apple-darwin)
targets=("$device" "${simulators[@]}" "${macos[@]}")

case "$profile" in
  debug) cargo_profile=dev; profile_dir=debug ;;
  *) cargo_profile=$profile; profile_dir=$profile ;;
esac
target_dir=${CARGO_TARGET_DIR:-$workspace/target}
library() { echo "$target_dir/$1/$profile_dir/libfieldsync_ffi.a"; }

step "Rust targets"
rustup target add "${targets[@]}"

for target in "${targets[@]}"; do
  step "libfieldsync_ffi.a for $target ($profile)"
  (cd "$workspace" && cargo build -p fieldsync-ffi --lib --profile "$cargo_profile" --target "$target" --locked)
done

step "Swift bindings (library mode, the workspace's pinned uniffi-bindgen)"
build="$ios_dir/build"
rm -rf "$build" && mkdir -p "$build/swift" "$build/headers/fieldsync_ffiFFI" "$build/lib"
# The host library carries the same uniffi metadata as every target's (same sources, same uniffi).
(cd "$workspace" && cargo build -p fieldsync-ffi --lib --locked)
host_library="$target_dir/debug/libfieldsync_ffi.dylib"
(cd "$workspace" && cargo run -p uniffi-bindgen --locked -- \
  generate --no-format --language swift --out-dir "$build/swift" "$host_library")

generated="$ios_dir/Sources/FieldSync/Generated"
rm -rf "$generated" && mkdir -p "$generated"
cp "$build/swift/fieldsync_ffi.swift" "$generated/"

# Headers in a folder named after the module: Clang finds <include>/fieldsync_ffiFFI/module.modulemap, and
# the module map does not collide with other XCFrameworks' module maps in the app's build folder.
cp "$build/swift/fieldsync_ffiFFI.h" "$build/headers/fieldsync_ffiFFI/"
cat >"$build/headers/fieldsync_ffiFFI/module.modulemap" <<'EOF'
module fieldsync_ffiFFI {
    header "fieldsync_ffiFFI.h"
    export *
}
EOF

step "fat libraries (lipo)"
mkdir -p "$build/lib/ios" "$build/lib/ios-simulator" "$build/lib/macos"
cp "$(library "$device")" "$build/lib/ios/libfieldsync_ffi.a"
lipo -create "$(library "${simulators[0]}")" "$(library "${simulators[1]}")" \
  -output "$build/lib/ios-simulator/libfieldsync_ffi.a"
lipo -create "$(library "${macos[0]}")" "$(library "${macos[1]}")" -output "$build/lib/macos/libfieldsync_ffi.a"
for slice in ios ios-simulator macos; do
  echo "$slice: $(lipo -archs "$build/lib/$slice/libfieldsync_ffi.a")"
done

step "FieldSyncFFI.xcframework"
rm -rf "$ios_dir/FieldSyncFFI.xcframework"
xcodebuild -create-xcframework \
  -library "$build/lib/ios/libfieldsync_ffi.a" -headers "$build/headers" \
  -library "$build/lib/ios-simulator/libfieldsync_ffi.a" -headers "$build/headers" \
  -library "$build/lib/macos/libfieldsync_ffi.a" -headers "$build/headers" \
  -output "$ios_dir/FieldSyncFFI.xcframework"

if $zip; then
  step "zip and checksum"
  (cd "$ios_dir" && rm -f build/FieldSyncFFI.xcframework.zip &&
    ditto -c -k --sequesterRsrc --keepParent FieldSyncFFI.xcframework build/FieldSyncFFI.xcframework.zip)
  echo "checksum: $(cd "$ios_dir" && swift package compute-checksum build/FieldSyncFFI.xcframework.zip)"
fi

echo
echo "done: $ios_dir/FieldSyncFFI.xcframework and $generated/fieldsync_ffi.swift"
echo "test: cargo build -p fieldsync-cli && (cd ios && swift test)"
