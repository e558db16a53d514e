#!/usr/bin/env bash
# The Kotlin bindings on the JVM: compiles the generated Kotlin (uniffi, JNA), the platform-neutral wrappers of
# android/src/main/kotlin and the JUnit 5 tests of android/src/test/kotlin with kotlinc, then runs them with
# JUnit's console launcher against the provider emulator (a child process per test class).
# Installs what it needs when missing (JDK, JNA, JUnit 5 from Debian; kotlinc from npm, cached in
# target/kotlin-toolchain). Ends with a plain line "N passed, N failed"; exits non-zero on any failure.
#
# Usage: scripts/test-kotlin.sh            build (debug) and run the tests
#        scripts/test-kotlin.sh --bench    build the release library and run the benchmark (android/src/bench)
# Environment: FIELDSYNC_SKIP_BINDGEN=1    reuse the built library (no scripts/bindgen.sh)
#              FIELDSYNC_SKIP_CARGO=1      no cargo at all: also reuse target/debug/fieldsync (the emulator)
#              KOTLIN_TEST_ARGS="..."      extra launcher arguments, e.g. "--include-classname=.*ImportTest"
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

mode=test
for arg in "$@"; do
  case "$arg" in
    --bench) mode=bench ;;
    -h | --help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "unknown argument: $arg (try --help)" >&2; exit 2 ;;
  esac
done

step() { printf '\n==> %s\n' "$*"; }
KOTLIN_VERSION=2.4.20
# Cargo's target directory: $CARGO_TARGET_DIR when set (as scripts/bindgen.sh), else target/.
target="$(realpath -m "${CARGO_TARGET_DIR:-target}")"
toolchain=$target/kotlin-toolchain
kotlin_home=$toolchain/node_modules/kotlin-compiler
work=$target/kotlin-tests

# ---------------------------------------------------------------------------------------------- toolchain
step "toolchain"
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
apt_updated=
apt_install() {
  [ -n "$apt_updated" ] || { as_root apt-get update -qq; apt_updated=1; }
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}
if ! command -v java >/dev/null || ! command -v javac >/dev/null; then
  apt_install default-jdk-headless || apt_install openjdk-17-jdk-headless
fi
[ -f /usr/share/java/jna.jar ] || apt_install libjna-java
[ -f /usr/share/java/junit-platform-console-standalone.jar ] || apt_install junit5
if [ ! -x "$kotlin_home/bin/kotlinc" ] ||
   ! grep -q "\"version\": \"$KOTLIN_VERSION\"" "$kotlin_home/package.json" 2>/dev/null; then
  command -v npm >/dev/null || apt_install npm
  mkdir -p "$toolchain"
  npm install --prefix "$toolchain" --no-audit --no-fund --loglevel=error "kotlin-compiler@$KOTLIN_VERSION"
  chmod +x "$kotlin_home"/bin/* 2>/dev/null || true
fi
kotlinc="$kotlin_home/bin/kotlinc"
lib=$kotlin_home/lib
java -version 2>&1 | head -n1
echo "kotlinc $KOTLIN_VERSION ($kotlin_home)"

jna=/usr/share/java/jna.jar
coroutines=$lib/kotlinx-coroutines-core-jvm.jar
kotlin_runtime="$lib/kotlin-stdlib.jar:$coroutines"
junit_compile="/usr/share/java/junit-jupiter-api.jar:/usr/share/java/apiguardian-api.jar:/usr/share/java/opentest4j.jar"
kotlin_test="$lib/kotlin-test.jar:$lib/kotlin-test-junit5.jar"
launcher=/usr/share/java/junit-platform-console-standalone.jar
for jar in "$jna" "$coroutines" "$lib/kotlin-stdlib.jar" "$lib/kotlin-test.jar" "$lib/kotlin-test-junit5.jar" "$launcher"; do
  [ -f "$jar" ] || { echo "missing $jar" >&2; exit 1; }
done

# ---------------------------------------------------------------------------------- the Rust side
if [ "$mode" = bench ]; then profile=release; libdir=$target/release; else profile=debug; libdir=$target/debug; fi
if [ "${FIELDSYNC_SKIP_BINDGEN:-0}" != 1 ] && [ "${FIELDSYNC_SKIP_CARGO:-0}" != 1 ]; then
  step "bindings ($profile library + generated Kotlin)"
  bash scripts/bindgen.sh "$profile"
fi
if [ "${FIELDSYNC_SKIP_CARGO:-0}" != 1 ]; then
  step "provider emulator (fieldsync-cli)"
  cargo build -p fieldsync-cli --locked
fi
fieldsync_bin=$target/debug/fieldsync
for file in "$libdir/libfieldsync_ffi.so" "$target/debug/uniffi-bindgen" "$fieldsync_bin"; do
  [ -f "$file" ] || { echo "missing $file (run without FIELDSYNC_SKIP_BINDGEN/FIELDSYNC_SKIP_CARGO)" >&2; exit 1; }
done

# ------------------------------------------------------------------------------------------ compile
# Test a private snapshot of the library, and Kotlin generated from that very file: another build may
# replace target/*/libfieldsync_ffi.so or target/bindings meanwhile, and Kotlin generated from a different
# build lifts records and enums wrongly (checksums only cover function signatures).
native="$work/native-$profile"
mkdir -p "$native" "$work/src"
cp "$libdir/libfieldsync_ffi.so" "$native/libfieldsync_ffi.so.tmp"
mv -f "$native/libfieldsync_ffi.so.tmp" "$native/libfieldsync_ffi.so"
rm -rf "$work/generated"
"$target/debug/uniffi-bindgen" generate --no-format --language kotlin --out-dir "$work/generated" \
  "$native/libfieldsync_ffi.so" >/dev/null
# The package (and so the folder) comes from bindings/uniffi.toml: dev.fieldsync.ffi.
cp "$work/generated/dev/fieldsync/ffi/fieldsync_ffi.kt" "$work/src/fieldsync_ffi.kt"
libdir=$native

# Compiles [sources...] into a jar unless the same inputs were compiled before (a hash of their contents).
compile() {
  local name=$1 classpath=$2; shift 2
  local jar="$work/$name.jar" stamp="$work/$name.stamp" hash entry
  hash=$( {
    echo "$KOTLIN_VERSION $classpath"
    # A jar compiled here changes when its stamp does: recompile what depends on it.
    for entry in ${classpath//:/ }; do case "$entry" in "$work"/*.jar) cat "${entry%.jar}.stamp" ;; esac; done
    find "$@" -name '*.kt' -type f | LC_ALL=C sort | xargs cat
  } | sha256sum | cut -c1-64)
  if [ -f "$jar" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$hash" ]; then
    echo "$name: up to date"
    return
  fi
  echo "$name: compiling $(find "$@" -name '*.kt' -type f | wc -l) files"
  rm -f "$jar" "$stamp"
  local started=$SECONDS
  # Warnings of the generated code are noise; ours are shown.
  local quiet=; [ "$name" = bindings ] && quiet=-nowarn
  "$kotlinc" -jvm-target 17 $quiet -cp "$classpath" -d "$jar" "$@"
  echo "$hash" >"$stamp"
  echo "$name: $((SECONDS - started)) s"
}

step "compile (kotlinc)"
compile bindings "$jna:$coroutines" "$work/src/fieldsync_ffi.kt"
compile wrappers "$work/bindings.jar:$jna:$coroutines" android/src/main/kotlin
support_sources=(android/src/test/kotlin/dev/fieldsync/support)
classpath_main="$work/bindings.jar:$work/wrappers.jar:$jna:$kotlin_runtime"

if [ "$mode" = bench ]; then
  compile bench "$classpath_main" android/src/bench/kotlin "${support_sources[@]}"
  step "benchmark (release library: $libdir)"
  java -Xss4m -Djna.library.path="$libdir" -Dfieldsync.bin="$fieldsync_bin" \
    -cp "$work/bench.jar:$classpath_main" dev.fieldsync.bench.BenchKt
  exit 0
fi

compile tests "$classpath_main:$kotlin_test:$junit_compile" android/src/test/kotlin

# --------------------------------------------------------------------------------------------- run
step "JUnit 5 (console launcher)"
log="$work/junit.log"
set +e
java -Djna.library.path="$libdir" -Dfieldsync.bin="$fieldsync_bin" \
  -jar "$launcher" \
  --class-path "$work/tests.jar:$classpath_main:$kotlin_test" \
  --scan-class-path "$work/tests.jar" \
  --fail-if-no-tests --disable-banner --disable-ansi-colors --details=tree \
  --config=junit.jupiter.execution.timeout.default=120s \
  --reports-dir="$work/reports" \
  ${KOTLIN_TEST_ARGS:-} 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e

# The launcher's summary has lines like "[        27 tests successful      ]".
count() {
  local n
  n=$(sed -nE "s/^\[ *([0-9]+) $1 *\]$/\1/p" "$log" | tail -n1)
  echo "${n:-0}"
}
passed=$(count 'tests successful')
failed=$(( $(count 'tests failed') + $(count 'containers failed') ))
skipped=$(( $(count 'tests skipped') + $(count 'tests aborted') ))
if [ "$status" != 0 ] && [ "$failed" = 0 ]; then failed=1; fi # e.g. the launcher itself failed
echo
echo "$passed passed, $failed failed, $skipped skipped"
exit "$status"
