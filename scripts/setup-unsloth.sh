#!/usr/bin/env bash
# A second environment with Unsloth, used by the tests to run the Unsloth backend through its CPU
# fallback. Kept apart from .venv because Unsloth pins older transformers/trl releases and pulls in
# triton, xformers and torchao (~2 GB). Idempotent; a failure is reported but does not stop `make test`
# (the Unsloth test then skips, saying why).
set -uo pipefail
cd "$(dirname "$0")/.."
VENV=${UNSLOTH_VENV:-.venv-unsloth}
PY="$VENV/bin/python"
PIP="$PY -m pip --disable-pip-version-check"
STAMP="$VENV/.unsloth-ready"
UNSLOTH_VERSION=2026.10.9
# torch's version is pinned once, in pyproject.toml; setup.sh is what reads it.
TORCH_VERSION=$(bash scripts/setup.sh --versions | sed -n 's/^TORCH_VERSION=//p')
WANT="unsloth==$UNSLOTH_VERSION torch==$TORCH_VERSION $(sha256sum pyproject.toml | cut -c1-12)"
say() { printf '\033[1m[setup-unsloth]\033[0m %s\n' "$*"; }

if [ "$(cat "$STAMP" 2>/dev/null)" = "$WANT" ] && "$PY" -c "import workbench" 2>/dev/null; then
    exit 0
fi
say "preparing $VENV (Unsloth, for the CPU-fallback backend test; a few minutes, once)"
{
    [ -x "$PY" ] || python3 -m venv "$VENV"
    [ -n "$TORCH_VERSION" ] &&
    $PIP install -q "torch==$TORCH_VERSION" &&
    $PIP install -q "torch==$TORCH_VERSION" "unsloth==$UNSLOTH_VERSION" "transformers==5.17.*" "trl==1.15.*" \
        pydantic sqlite-utils platformdirs typer rich sentencepiece protobuf safetensors gguf pyarrow &&
    $PIP uninstall -y -q torchvision &&   # PyPI's torchvision does not load beside the CPU torch
    $PIP install -q --no-deps -e . &&
    "$PY" -c "import unsloth, workbench" >/dev/null 2>&1 &&
    printf '%s' "$WANT" > "$STAMP"
} || say "WARNING: could not prepare $VENV; the Unsloth backend test will be skipped"
exit 0
