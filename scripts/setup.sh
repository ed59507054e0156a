#!/usr/bin/env bash
# One-command set-up for the workbench: virtual environment, torch, a llama.cpp build that fits this
# machine, the GGUF converter of the same llama.cpp version, the package itself and the embedded model.
# Every step checks whether its result is already there, so a second run takes seconds.
set -euo pipefail

cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
PYTHON=${PYTHON:-python3}
# The torch and llama-cpp-python versions are written once, as `==` pins in pyproject.toml: pip enforces
# them from there and the workbench reads them from its metadata (workbench.paths). Read with sed here
# because no Python environment may exist yet. `scripts/setup.sh --versions` prints them and stops.
pin() {
    local v
    v=$(sed -n "s/^[[:space:]]*\"$1==\([^\"]*\)\".*/\1/p" pyproject.toml)
    printf '%s' "${v%%$'\n'*}"
}
TORCH_VERSION=$(pin torch)    # resolves to the local CPU wheel here, to PyPI's CUDA build elsewhere
LLAMA_CPP_VERSION=$(pin llama-cpp-python)
if [ -z "$TORCH_VERSION" ] || [ -z "$LLAMA_CPP_VERSION" ]; then
    echo "[setup] pyproject.toml must pin torch==X and llama-cpp-python==X in its dependencies" >&2
    exit 1
fi
if [ "${1:-}" = "--versions" ]; then
    printf 'TORCH_VERSION=%s\nLLAMA_CPP_VERSION=%s\n' "$TORCH_VERSION" "$LLAMA_CPP_VERSION"
    exit 0
fi
CACHE=${WORKBENCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/workbench}
# The llama.cpp flavour and CMake flags for this machine (the wheel and scripts/build-llama-tools.sh).
if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; then
    FLAVOUR=cuda
    DEFAULT_CMAKE_ARGS="-DGGML_CUDA=on -DLLAVA_BUILD=OFF"
else
    FLAVOUR=cpu
    # The native build crashes with "Illegal instruction" on VMs that report AMX but cannot run it.
    DEFAULT_CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF -DLLAVA_BUILD=OFF"
    # AVX-512 where the CPU has it (the quantized matrix kernels of batched generation gain from it).
    CPU_FLAGS=" $(grep -m1 '^flags' /proc/cpuinfo 2>/dev/null | cut -d: -f2) "
    has() { case "$CPU_FLAGS" in *" $1 "*) return 0 ;; *) return 1 ;; esac; }
    if has avx512f && has avx512bw && has avx512vl && has avx512dq; then
        DEFAULT_CMAKE_ARGS="$DEFAULT_CMAKE_ARGS -DGGML_AVX512=ON"
        has avx512_vnni && DEFAULT_CMAKE_ARGS="$DEFAULT_CMAKE_ARGS -DGGML_AVX512_VNNI=ON"
        has avx512vbmi && DEFAULT_CMAKE_ARGS="$DEFAULT_CMAKE_ARGS -DGGML_AVX512_VBMI=ON"
        has avx512_bf16 && DEFAULT_CMAKE_ARGS="$DEFAULT_CMAKE_ARGS -DGGML_AVX512_BF16=ON"
    fi
fi
CMAKE_ARGS_USED=${LLAMA_CMAKE_ARGS:-$DEFAULT_CMAKE_ARGS}
if [ "${1:-}" = "--cmake-args" ]; then
    printf 'LLAMA_CPP_VERSION=%q\nFLAVOUR=%q\nCMAKE_ARGS_USED=%q\nCACHE=%q\n' \
        "$LLAMA_CPP_VERSION" "$FLAVOUR" "$CMAKE_ARGS_USED" "$CACHE"
    exit 0
fi
PY="$VENV/bin/python"
PIP="$PY -m pip --disable-pip-version-check"

say() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }

# 1. virtual environment ---------------------------------------------------------------------------
if [ ! -x "$PY" ]; then
    say "creating virtual environment in $VENV"
    "$PYTHON" -m venv "$VENV"
fi

# 2. torch first, pinned ---------------------------------------------------------------------------
if ! "$PY" -c "import sys, importlib.metadata as m; sys.exit(m.version('torch').split('+')[0] != '$TORCH_VERSION')" 2>/dev/null; then
    say "installing torch==$TORCH_VERSION"
    $PIP install -q "torch==$TORCH_VERSION"
fi

# 3. llama-cpp-python, built for this machine (flavour and flags chosen above) --------------------
SDIST_DIR="$CACHE/src"
SDIST="$SDIST_DIR/llama_cpp_python-$LLAMA_CPP_VERSION.tar.gz"
STAMP="$VENV/.llama-cpp-build"
WANT="$LLAMA_CPP_VERSION $FLAVOUR $CMAKE_ARGS_USED"
if [ ! -f "$SDIST" ]; then
    say "downloading the llama-cpp-python $LLAMA_CPP_VERSION source distribution (once)"
    mkdir -p "$SDIST_DIR"
    tmp=$(mktemp -d "$SDIST_DIR/.dl.XXXXXX")
    $PIP download -q --no-deps --no-binary :all: "llama-cpp-python==$LLAMA_CPP_VERSION" -d "$tmp"
    mv "$tmp"/llama_cpp_python-*.tar.gz "$SDIST"
    rm -rf "$tmp"
fi
# Built wheels are kept per version, flavour and flags, so a fresh clone or venv on this machine installs
# in seconds instead of rebuilding (pip's own cache ignores CMAKE_ARGS, hence --no-cache-dir).
WHEEL_DIR="$CACHE/wheels/llama-cpp-python-$LLAMA_CPP_VERSION-$FLAVOUR-$(printf '%s' "$CMAKE_ARGS_USED" | sha256sum | cut -c1-12)"
if [ "$(cat "$STAMP" 2>/dev/null)" != "$WANT" ] || ! "$PY" -c "import llama_cpp" 2>/dev/null; then
    if ! ls "$WHEEL_DIR"/llama_cpp_python-*.whl >/dev/null 2>&1; then
        say "building llama-cpp-python $LLAMA_CPP_VERSION for $FLAVOUR (several minutes, once per machine)"
        tmp=$(mktemp -d)
        CMAKE_ARGS="$CMAKE_ARGS_USED" CMAKE_BUILD_PARALLEL_LEVEL="$(nproc 2>/dev/null || echo 2)" \
            $PIP wheel -q --no-cache-dir --no-deps "$SDIST" -w "$tmp"
        mkdir -p "$(dirname "$WHEEL_DIR")"
        rm -rf "$WHEEL_DIR.tmp" && mv "$tmp" "$WHEEL_DIR.tmp" && rm -rf "$WHEEL_DIR" && mv "$WHEEL_DIR.tmp" "$WHEEL_DIR"
    fi
    say "installing llama-cpp-python $LLAMA_CPP_VERSION ($FLAVOUR build)"
    $PIP install -q --force-reinstall --no-deps "$WHEEL_DIR"/llama_cpp_python-*.whl
    printf '%s' "$WANT" > "$STAMP"
fi

# 4. the GGUF converter from the same llama.cpp version -------------------------------------------
CONVERTER="$CACHE/converter/$LLAMA_CPP_VERSION"
if [ ! -f "$CONVERTER/convert_hf_to_gguf.py" ] || [ ! -d "$CONVERTER/gguf-py/gguf" ] || [ ! -f "$CONVERTER/conversion/__init__.py" ]; then
    say "unpacking llama.cpp's GGUF converter into $CONVERTER"
    tmp=$(mktemp -d)
    top="llama_cpp_python-$LLAMA_CPP_VERSION/vendor/llama.cpp"
    tar -xzf "$SDIST" -C "$tmp" "$top/convert_hf_to_gguf.py" "$top/conversion" "$top/gguf-py" "$top/LICENSE"
    mkdir -p "$(dirname "$CONVERTER")"
    rm -rf "$CONVERTER.tmp" && mv "$tmp/$top" "$CONVERTER.tmp" && rm -rf "$CONVERTER" && mv "$CONVERTER.tmp" "$CONVERTER"
    rm -rf "$tmp"
fi

# 5. the workbench package and its dependencies ----------------------------------------------------
PKG_STAMP="$VENV/.workbench-install"
PKG_WANT=$(cat pyproject.toml | sha256sum | cut -c1-16)
if [ "$(cat "$PKG_STAMP" 2>/dev/null)" != "$PKG_WANT" ] || ! "$PY" -c "import workbench" 2>/dev/null; then
    say "installing the workbench and its dependencies"
    $PIP install -q -e ".[dev,cluster]"
    "$PY" -c "import sys, importlib.metadata as m; v=m.version('torch'); sys.exit(0 if v.split('+')[0]=='$TORCH_VERSION' else f'torch changed to {v}')"
    printf '%s' "$PKG_WANT" > "$PKG_STAMP"
fi

# 6. the embedded model ----------------------------------------------------------------------------
WORKBENCH_CACHE="$CACHE" "$VENV/bin/workbench" setup-assets --quiet
