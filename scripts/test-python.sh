#!/usr/bin/env bash
# Runs the pytest suite of the generated Python bindings (bindings/python/tests) against the provider
# emulator. Installs what it needs (python3-venv when missing, pytest in target/python-venv); safe on a fresh
# Debian 12 machine with python3.
# Usage: scripts/test-python.sh [pytest args...]
#   FIELDSYNC_SKIP_BINDGEN=1  reuse target/bindings/python instead of regenerating it
set -euo pipefail
cd "$(dirname "$0")/.."

# Pinned so that every machine runs the same runner (supports Python 3.10+).
PYTEST_VERSION=9.2.0
# The independent C2PA verifier of the evidence tests (the C2PA project's SDK, a prebuilt library in the
# wheel) and the host-side key of their DeviceSigner.
C2PA_PYTHON_VERSION=0.38.1
CRYPTOGRAPHY_VERSION=46.0.3
venv=target/python-venv

step() { printf '\n==> %s\n' "$*"; }

step "python venv ($venv)"
command -v python3 >/dev/null || { echo "python3 is required"; exit 1; }
if [[ ! -x "$venv/bin/python" ]]; then
  # Debian ships venv (and ensurepip) separately: probe for ensurepip, which is what `venv` needs.
  if ! python3 -c 'import ensurepip, venv' 2>/dev/null; then
    echo "installing python3-venv with apt-get"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv
  fi
  rm -rf "$venv"
  python3 -m venv "$venv"
fi
if ! "$venv/bin/python" -c "import pytest, sys; sys.exit(pytest.__version__ != '$PYTEST_VERSION')" 2>/dev/null; then
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "pytest==$PYTEST_VERSION"
fi
if ! "$venv/bin/python" -c "import c2pa, cryptography, sys; sys.exit(c2pa.__version__ != '$C2PA_PYTHON_VERSION')" 2>/dev/null; then
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    "c2pa-python==$C2PA_PYTHON_VERSION" "cryptography==$CRYPTOGRAPHY_VERSION"
fi

if [[ "${FIELDSYNC_SKIP_BINDGEN:-0}" != 1 ]]; then
  step "bindings (scripts/bindgen.sh)"
  bash scripts/bindgen.sh
fi
[[ -f target/bindings/python/fieldsync_ffi.py ]] || { echo "no generated bindings: run scripts/bindgen.sh"; exit 1; }

step "emulator (fieldsync-cli)"
cargo build -p fieldsync-cli --locked

step "pytest bindings/python/tests"
status=0
PYTHONPATH="$PWD/target/bindings/python:$PWD/bindings/python" FIELDSYNC_BIN="$PWD/target/debug/fieldsync" \
  "$venv/bin/python" -m pytest -p no:cacheprovider bindings/python/tests "$@" || status=$?
# pytest exits 5 when it collected no test: that is a broken suite, not a pass (and any non-zero fails).
if [[ $status == 5 ]]; then
  echo "pytest collected no tests" >&2
fi
exit "$status"
