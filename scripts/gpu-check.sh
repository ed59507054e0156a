#!/usr/bin/env bash
# GPU check: on a CUDA machine, set up what is needed (scripts/setup.sh builds llama.cpp with CUDA,
# scripts/setup-unsloth.sh prepares Unsloth), train a tiny model with Unsloth 4-bit LoRA, export it
# through the verification gate, generate with full GPU offload, and print tokens/s and peak VRAM.
# Without CUDA it refuses with one line and exit code 2 (no GPU) or 3 (torch without CUDA): the
# workbench itself never needs a GPU.
#
#     bash scripts/gpu-check.sh
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
PY="$VENV/bin/python"
say() { printf '\033[1m[gpu-check]\033[0m %s\n' "$*"; }
refuse() { printf 'gpu-check: %s\n' "$2" >&2; exit "$1"; }

if ! command -v nvidia-smi >/dev/null 2>&1 || ! nvidia-smi -L >/dev/null 2>&1; then
    refuse 2 "no CUDA GPU here (nvidia-smi finds none); nothing to check: the workbench runs on the CPU"
fi
torch_cuda() { "$PY" -c "import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)" 2>/dev/null; }
# A venv whose torch has no CUDA is refused before the set-up (which keeps an installed torch as it is).
if [ -x "$PY" ] && "$PY" -c "import torch" 2>/dev/null && ! torch_cuda; then
    refuse 3 "nvidia-smi sees a GPU but torch in $VENV has no CUDA: \`$PY -m pip install --force-reinstall torch==$(bash scripts/setup.sh --versions | sed -n 's/^TORCH_VERSION=//p')\`"
fi
say "setting up (idempotent: seconds when nothing changed)"
bash scripts/setup.sh
torch_cuda || refuse 3 "torch in $VENV has no CUDA after the set-up; reinstall PyPI's CUDA build of torch"
bash scripts/setup-unsloth.sh
UNSLOTH_PY=${WORKBENCH_UNSLOTH_PYTHON:-.venv-unsloth/bin/python}
[ -x "$UNSLOTH_PY" ] || refuse 4 "Unsloth's environment $UNSLOTH_PY could not be prepared (see scripts/setup-unsloth.sh)"
exec "$PY" scripts/gpu_check.py --unsloth-python "$UNSLOTH_PY" "$@"
