#!/usr/bin/env bash
# Runs every check and test suite of fieldsync. Installs what it needs; safe to run on a fresh machine.
# Usage: scripts/test.sh            (everything)
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "toolchain"
command -v cargo >/dev/null || { echo "cargo is required (Rust 1.95)"; exit 1; }
rustup component list --installed 2>/dev/null | grep -q '^rustfmt' || rustup component add rustfmt clippy
command -v cargo-nextest >/dev/null || cargo install --locked cargo-nextest

step "format"
cargo fmt --all -- --check

step "build"
cargo build --workspace --all-targets --locked

step "clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "doc tests"
cargo test --workspace --doc --locked

step "Rust tests (unit, property, end-to-end, crash)"
cargo nextest run --workspace --locked --no-fail-fast
