#!/usr/bin/env bash
# Runs the Swift package's XCTests (ios/Tests/FieldSyncTests) on this Linux machine, against the real
# libfieldsync_ffi and the provider emulator.
#
# Debian 12 has no Swift, Debian 13 (trixie) packages swiftlang 6.0.3: this script keeps a minimal trixie
# chroot with Swift in a cache OUTSIDE the clone, assembles a Linux SwiftPM package inside it (a system
# library target for the generated C header, the generated Swift plus ios/Sources/FieldSync as the
# `FieldSync` library, the XCTests unchanged) in Swift 6 language mode, builds it, fails if ios/Sources or
# ios/Tests emit any compiler warning (strict concurrency included), and runs `swift test`.
#
# Usage: scripts/test-swift.sh [--prepare-only]        (as root: debootstrap, mount and chroot need it)
# Environment:
#   FIELDSYNC_SWIFT_CHROOT   the chroot's path (default /var/cache/fieldsync/swift-trixie)
#   FIELDSYNC_SKIP_BINDGEN=1 reuse target/bindings/swift and target/debug/libfieldsync_ffi.so as they are
#   FIELDSYNC_DEBIAN_MIRROR  the Debian mirror for debootstrap (default: this machine's apt sources)
#   FIELDSYNC_SWIFT_FILTER   passed to `swift test --filter` (e.g. FieldSyncTests.ImportTests)
#   FIELDSYNC_SWIFT_TIMEOUT  seconds before a hung `swift build` or `swift test` is killed (default 1800)
#
# The chroot install (about 3 GB, once) is idempotent: a marker file is written only after a complete
# install and a working `swift --version`; a missing marker (an interrupted install) means start over.
# Concurrent runs are serialised by a lock next to the chroot. Every mount is undone on exit (trap).
set -euo pipefail
cd "$(dirname "$0")/.."
workspace=$(pwd)

chroot_dir=${FIELDSYNC_SWIFT_CHROOT:-/var/cache/fieldsync/swift-trixie}
chroot_dir=${chroot_dir%/}
# Bump when the package list or the install steps change: older chroots are rebuilt.
# ca-certificates: the library's HTTP client (rustls with the platform verifier) loads the system's roots
# when it is built, even for plain http on loopback, and fails without any.
recipe="fieldsync-swift-chroot v2: trixie minbase + swiftlang libc6-dev libstdc++-14-dev ca-certificates"
packages=(swiftlang libc6-dev libstdc++-14-dev ca-certificates)
marker_name=.fieldsync-swift-ready

prepare_only=false
case "${1:-}" in
  --prepare-only) prepare_only=true ;;
  "") ;;
  *) echo "usage: $0 [--prepare-only]" >&2; exit 2 ;;
esac

step() { printf '\n==> %s\n' "$*"; }
die() { echo "test-swift: $*" >&2; exit 1; }

[[ $(id -u) -eq 0 ]] || die "run as root (debootstrap, mount and chroot need it)"
[[ "$chroot_dir" == /* && "$chroot_dir" != / ]] || die "FIELDSYNC_SWIFT_CHROOT must be an absolute path, not /"
case "$chroot_dir/" in
  "$workspace"/*) die "the chroot must live outside the clone ($chroot_dir is inside $workspace)" ;;
esac

# ----- mounts -------------------------------------------------------------------------------------------

mounted=()   # mount points this run created, unmounted in reverse order on exit

# Every mount point at or under $1 (deepest first), from the kernel's table.
mounts_under() {
  local dir=$1
  awk -v d="$dir" '{ gsub(/\\040/, " ", $2); if ($2 == d || index($2, d "/") == 1) print $2 }' /proc/self/mounts |
    sort -r
}

unmount_all_under() {
  local point
  while IFS= read -r point; do
    [[ -n "$point" ]] || continue
    umount "$point" 2>/dev/null || umount -l "$point" || true
  done < <(mounts_under "$1")
  [[ -z "$(mounts_under "$1")" ]] || die "cannot unmount everything under $1"
}

mount_into() {  # mount_into ROOT: /proc, /dev (bind), /dev/pts, /dev/shm for a chroot
  local root=$1
  mkdir -p "$root/proc" "$root/dev"
  mount -t proc proc "$root/proc"; mounted+=("$root/proc")
  mount --rbind /dev "$root/dev"; mount --make-rslave "$root/dev"; mounted+=("$root/dev")
}

# shellcheck disable=SC2317  # invoked by the EXIT trap
cleanup() {
  local status=$?
  local index
  for ((index = ${#mounted[@]} - 1; index >= 0; index--)); do
    unmount_all_under "${mounted[index]}" || status=1
  done
  mounted=()
  if [[ -n "${work_dir:-}" && -d "$work_dir" ]]; then rm -rf --one-file-system "$work_dir"; fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ----- the chroot ---------------------------------------------------------------------------------------

# The Debian mirror of this machine's own apt sources (one-line and deb822 formats): the URI of the entry
# whose suite is this release's codename (not -security, not -updates). Never a hard-coded host.
debian_mirror() {
  if [[ -n "${FIELDSYNC_DEBIAN_MIRROR:-}" ]]; then echo "$FIELDSYNC_DEBIAN_MIRROR"; return; fi
  local codename files=()
  # shellcheck disable=SC1091
  codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
  [[ -n "$codename" ]] || die "no VERSION_CODENAME in /etc/os-release: set FIELDSYNC_DEBIAN_MIRROR"
  local candidate
  for candidate in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
    [[ -f "$candidate" ]] && files+=("$candidate")
  done
  local mirror
  mirror=$(awk -v want="$codename" '
    function flush() { if (uris != "" && suites && types && !off) { print uris; exit } uris = ""; suites = types = off = 0 }
    FNR == 1 { flush() }
    # one-line format: deb [options] URI SUITE COMPONENTS...
    /^[[:space:]]*deb[[:space:]]/ {
      n = 2; if ($n ~ /^\[/) { while ($n !~ /\]$/ && n < NF) n++; n++ }
      if ($(n + 1) == want) { print $n; exit }
      next
    }
    # deb822 format: stanzas separated by blank lines
    /^[[:space:]]*$/ { flush(); next }
    /^[[:space:]]*#/ { next }
    tolower($1) == "types:" { for (i = 2; i <= NF; i++) if ($i == "deb") types = 1 }
    tolower($1) == "uris:" { uris = $2 }
    tolower($1) == "suites:" { for (i = 2; i <= NF; i++) if ($i == want) suites = 1 }
    tolower($1) == "enabled:" && tolower($2) == "no" { off = 1 }
    END { flush() }
  ' "${files[@]}" /dev/null | head -n 1)
  [[ -n "$mirror" ]] || die "no Debian mirror for '$codename' in the apt sources: set FIELDSYNC_DEBIAN_MIRROR"
  echo "$mirror"
}

chroot_ready() {
  [[ -f "$chroot_dir/$marker_name" ]] && [[ "$(cat "$chroot_dir/$marker_name")" == "$recipe" ]] &&
    [[ -L "$chroot_dir/usr/bin/swift" || -x "$chroot_dir/usr/bin/swift" ]]
}

prepare_chroot() {
  if chroot_ready; then
    echo "reusing the Swift chroot at $chroot_dir (installed $(date -r "$chroot_dir/$marker_name" '+%F %T'))"
    return
  fi
  local staging="$chroot_dir.partial"
  step "installing Swift in a Debian trixie chroot at $chroot_dir (once; about 3 GB)"
  # A previous install that was interrupted (no marker) or made by an older recipe: start over. Nothing
  # may still be mounted inside before deleting (--one-file-system guards /proc and /dev regardless).
  unmount_all_under "$staging"
  unmount_all_under "$chroot_dir"
  rm -rf --one-file-system "$staging" "$chroot_dir"
  mkdir -p "$(dirname "$chroot_dir")"

  if ! command -v debootstrap >/dev/null; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
  fi
  local mirror started bootstrapped installed
  mirror=$(debian_mirror)
  echo "mirror: $mirror"
  started=$(date +%s)
  debootstrap --variant=minbase trixie "$staging" "$mirror" >"$staging.log" 2>&1 ||
    { tail -n 30 "$staging.log" >&2; die "debootstrap failed (full log: $staging.log)"; }
  bootstrapped=$(date +%s)
  echo "debootstrap: $((bootstrapped - started)) s"

  mount_into "$staging"
  cp /etc/resolv.conf "$staging/etc/resolv.conf" 2>/dev/null || true
  chroot "$staging" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive \
    sh -c "apt-get update -qq && apt-get install -y -qq --no-install-recommends ${packages[*]} && apt-get clean" \
    >>"$staging.log" 2>&1 || { tail -n 30 "$staging.log" >&2; die "apt-get install in the chroot failed (log: $staging.log)"; }
  installed=$(date +%s)
  echo "apt-get install ${packages[*]}: $((installed - bootstrapped)) s"
  # swift finds its runtime through $ORIGIN, which needs /proc: check while it is mounted.
  local version
  version=$(chroot "$staging" swift --version 2>&1 | head -n 1) || die "swift does not run in the new chroot: $version"
  unmount_all_under "$staging/dev"; unmount_all_under "$staging/proc"; mounted=()

  echo "$recipe" >"$staging/$marker_name"
  mv "$staging" "$chroot_dir"
  rm -f "$staging.log"
  echo "Swift chroot ready: $version"
  echo "install time: $((installed - started)) s in total; size: $(du -sh --one-file-system "$chroot_dir" | cut -f1)"
}

# One run at a time per chroot: mounts and the install must not interleave.
mkdir -p "$(dirname "$chroot_dir")"
exec 9>"$chroot_dir.lock"
flock 9

step "Swift toolchain"
prepare_chroot
# Leftovers of a run that was killed outright (no trap): its mounts and its package. We hold the lock, so
# no other run is using them.
if [[ -d "$chroot_dir" ]]; then
  unmount_all_under "$chroot_dir/proc"
  unmount_all_under "$chroot_dir/dev"
  rm -rf --one-file-system "$chroot_dir"/tmp/fieldsync-swift.*
fi
$prepare_only && exit 0

# ----- the library, the bindings, the emulator ----------------------------------------------------------

# scripts/bindgen.sh reads target/debug: keep every build of this script in the workspace's target/.
export CARGO_TARGET_DIR="$workspace/target"
if [[ "${FIELDSYNC_SKIP_BINDGEN:-0}" == 1 ]]; then
  step "bindings (reusing target/bindings/swift: FIELDSYNC_SKIP_BINDGEN=1)"
else
  step "bindings"
  bash scripts/bindgen.sh
fi
step "fieldsync CLI (the provider emulator)"
cargo build -p fieldsync-cli --locked

swift_dir=target/bindings/swift
library=target/debug/libfieldsync_ffi.so
cli=target/debug/fieldsync
for file in "$swift_dir/fieldsync_ffi.swift" "$swift_dir/fieldsync_ffiFFI.h" "$library" "$cli"; do
  [[ -f "$file" ]] || die "missing $file (run scripts/bindgen.sh)"
done

# ----- the Linux SwiftPM package ------------------------------------------------------------------------

# Every blocking method of the generated FieldSync (a `throws` method that is not `async`) needs its async
# twin in ios/Sources/FieldSync/FieldSync+Async.swift, or a place in the list of calls that touch no disk:
# when the bindings gain a method, this says so before an app calls it on the main actor.
step "async twins of the blocking calls"
no_disk="deviceId isPaused liveWatches version setNetwork setOnline setDeviceSigner stopAutoImport retentionPolicy"
blocking=$(awk '/^public protocol FieldSyncProtocol/,/^}/' "$swift_dir/fieldsync_ffi.swift" |
  sed -nE 's/^    func ([A-Za-z0-9_]+)\(.*$/\1 &/p' | grep -v ' async ' | cut -d' ' -f1 |
  grep -vE '^watch[A-Z]' | sort -u)
twins=$(sed -nE 's/^    public func ([A-Za-z0-9_]+)\(.*\) async( throws)?( ->.*)? \{$/\1/p' \
  ios/Sources/FieldSync/FieldSync+Async.swift | sort -u)
missing=$(comm -23 <(echo "$blocking") <(echo "$twins") | grep -vxF -f <(tr ' ' '\n' <<<"$no_disk") || true)
if [[ -n "$missing" ]]; then
  die "blocking FieldSync methods without an async twin in FieldSync+Async.swift: $(tr '\n' ' ' <<<"$missing")"
fi
echo "$(wc -l <<<"$blocking") synchronous methods: $(wc -l <<<"$twins") with an async twin, the rest touch no disk"

step "assembling the Linux Swift package"
mkdir -p "$chroot_dir/tmp"
work_dir=$(mktemp -d "$chroot_dir/tmp/fieldsync-swift.XXXXXX")
inside=${work_dir#"$chroot_dir"}   # the same folder as the chroot sees it
package="$work_dir/FieldSync"
mkdir -p "$package/Sources/fieldsync_ffiFFI" "$package/Sources/FieldSync" "$package/Tests" "$work_dir/lib" \
  "$work_dir/bin" "$work_dir/tmp"   # tmp: the tests' temporary files, deleted with the rest

# Hard links when the cache and the clone share a file system (300 MB of debug binaries), else copies.
cp -l "$library" "$work_dir/lib/" 2>/dev/null || cp "$library" "$work_dir/lib/"
cp -l "$cli" "$work_dir/bin/" 2>/dev/null || cp "$cli" "$work_dir/bin/"

# The photo fixtures (the repository's fixtures/photos, or FIELDSYNC_PHOTO_FIXTURES), copied in: the chroot
# cannot see the clone.
fixtures="${FIELDSYNC_PHOTO_FIXTURES:-$workspace/fixtures/photos}"
[[ -d "$fixtures/gps" && -d "$fixtures/invalid" ]] || die "missing photo fixtures in $fixtures (see fixtures/photos/README.md)"
cp -R "$fixtures" "$work_dir/fixtures"
# The survey templates (fixtures/surveys), for the survey tests.
[[ -d fixtures/surveys ]] || die "missing fixtures/surveys"
cp -R fixtures/surveys "$work_dir/surveys"

cp "$swift_dir/fieldsync_ffiFFI.h" "$package/Sources/fieldsync_ffiFFI/"
cat >"$package/Sources/fieldsync_ffiFFI/module.modulemap" <<'EOF'
module fieldsync_ffiFFI {
    header "fieldsync_ffiFFI.h"
    link "fieldsync_ffi"
    export *
}
EOF
cp "$swift_dir/fieldsync_ffi.swift" "$package/Sources/FieldSync/"
# The wrappers, minus any generated copy a Mac build left in ios/Sources/FieldSync/Generated.
find ios/Sources/FieldSync -name '*.swift' -not -path '*/Generated/*' -exec cp {} "$package/Sources/FieldSync/" \;
cp -R ios/Tests/FieldSyncTests "$package/Tests/"

# Swift 6.0's libswiftObservation.so on Linux references swift::threading::fatal, which no library of the
# toolchain exports (swiftlang/swift#75670, fixed in 6.2), so any executable using Observation (our list
# and status models) fails to link. The test executable gets the missing function from a C target here:
# it reports the threading error and aborts, as the runtime's own would. Apple platforms are not affected.
mkdir -p "$package/Sources/ObservationLinuxFix/include"
echo '/* Nothing to import: fix.c only gives the linker a symbol. */' \
  >"$package/Sources/ObservationLinuxFix/include/ObservationLinuxFix.h"
cat >"$package/Sources/ObservationLinuxFix/fix.c" <<'EOF'
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

/* swift::threading::fatal(const char *format, ...) */
void _ZN5swift9threading5fatalEPKcz(const char *format, ...) {
    va_list arguments;
    va_start(arguments, format);
    vfprintf(stderr, format, arguments);
    va_end(arguments);
    abort();
}
EOF

cat >"$package/Package.swift" <<'EOF'
// swift-tools-version:6.0
// Generated by scripts/test-swift.sh: the Linux twin of ios/Package.swift (Swift 6 language mode, so
// complete strict-concurrency checking). The XCFramework becomes a system library target (the uniffi
// header with a module map that links libfieldsync_ffi.so); ObservationLinuxFix: see the script.
import PackageDescription

let package = Package(
    name: "FieldSync",
    products: [.library(name: "FieldSync", targets: ["FieldSync"])],
    targets: [
        .systemLibrary(name: "fieldsync_ffiFFI", path: "Sources/fieldsync_ffiFFI"),
        .target(name: "FieldSync", dependencies: ["fieldsync_ffiFFI"], path: "Sources/FieldSync"),
        .target(name: "ObservationLinuxFix", path: "Sources/ObservationLinuxFix"),
        .testTarget(
            name: "FieldSyncTests",
            dependencies: ["FieldSync", "ObservationLinuxFix"],
            path: "Tests/FieldSyncTests"
        ),
    ],
    swiftLanguageModes: [.v6]
)
EOF

# ----- swift build, swift test --------------------------------------------------------------------------

mount_into "$chroot_dir"

# Runs the shell command $1 in the package folder inside the chroot (with $0 = the library folder and the
# remaining arguments as "$@"), in a PID namespace of its own: when it ends (or crashes, or times out)
# every process it started, such as an emulator a crashed test left behind, ends with it. It needs its own
# /proc (pids in /proc must be the namespace's: the Swift runtime reads /proc/<getpid()>/...), mounted in
# a private mount namespace that vanishes with it. `timeout` bounds a hang.
in_chroot() {
  local command=$1
  shift
  timeout --kill-after=30 "${FIELDSYNC_SWIFT_TIMEOUT:-1800}" \
    unshare --pid --fork --kill-child --mount-proc="$chroot_dir/proc" \
    chroot "$chroot_dir" /usr/bin/env -i \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    HOME=/root LANG=C.UTF-8 TMPDIR="$inside/tmp" \
    LD_LIBRARY_PATH="$inside/lib" \
    FIELDSYNC_CLI="$inside/bin/fieldsync" \
    FIELDSYNC_PHOTO_FIXTURES="$inside/fixtures" \
    FIELDSYNC_SURVEY_FIXTURES="$inside/surveys" \
    sh -c "cd '$inside/FieldSync' && $command" "$inside/lib" "$@"
}

step "swift build (Swift 6 language mode, strict concurrency)"
started=$(date +%s)
set +e
# stdbuf: the compiler's lines appear as they happen.
# shellcheck disable=SC2016  # expanded by the inner sh
in_chroot 'exec stdbuf -oL -eL swift build --build-tests -Xlinker -L"$0"' 2>&1 | tee "$work_dir/build.log"
status=${PIPESTATUS[0]}
set -e
echo "swift build: $(($(date +%s) - started)) s, exit status $status"
[[ $status -eq 0 ]] || exit "$status"

# No warning from our own code: ios/Sources (every file but the generated fieldsync_ffi.swift) and
# ios/Tests. The package is built from scratch in a fresh folder, so every file was compiled and no
# warning can hide in a cached object. The generated file's warnings are shown, not counted: that code is
# uniffi's (ios/README.md, "Swift 6 and strict concurrency").
warnings_in() {  # warnings_in PATH_REGEX: the distinct warning lines of files under the package's PATH
  grep -E "^$inside/FieldSync/$1[^:]*:[0-9]+:[0-9]+: warning:" "$work_dir/build.log" | sort -u || true
}
ours=$( { warnings_in 'Sources/FieldSync/' | grep -v '/fieldsync_ffi\.swift:' || true; warnings_in 'Tests/'; } )
generated=$(warnings_in 'Sources/FieldSync/fieldsync_ffi\.swift')
if [[ -n "$generated" ]]; then
  echo "warnings in the generated fieldsync_ffi.swift (uniffi's code, not counted): $(wc -l <<<"$generated")"
fi
warnings_failed=false
if [[ -n "$ours" ]]; then
  echo "test-swift: our own Swift sources emit $(wc -l <<<"$ours") warning(s):" >&2
  sed "s#^$inside/FieldSync/#ios/#" <<<"$ours" >&2
  warnings_failed=true
else
  echo "warnings from ios/Sources and ios/Tests: none"
fi

step "swift test (XCTest)"
filter=()
[[ -n "${FIELDSYNC_SWIFT_FILTER:-}" ]] && filter=(--filter "$FIELDSYNC_SWIFT_FILTER")
started=$(date +%s)
set +e
# shellcheck disable=SC2016  # expanded by the inner sh
in_chroot 'exec stdbuf -oL -eL swift test --skip-build --disable-swift-testing -Xlinker -L"$0" "$@"' "${filter[@]}"
status=$?
set -e
echo "swift test: $(($(date +%s) - started)) s, exit status $status"
if $warnings_failed; then
  echo "test-swift: failing because our own Swift sources emit warnings (listed above)" >&2
  [[ $status -ne 0 ]] || status=1
fi
exit "$status"
