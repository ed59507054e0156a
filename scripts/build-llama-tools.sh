#!/usr/bin/env bash
# Bench-only: llama.cpp's own C++ tools (llama-batched-bench, llama-bench), built once from the same
# vendored llama.cpp source and with the same CMake flags as the Python binding that `scripts/setup.sh`
# builds, so `bench/generate_throughput.py` compares the workbench's engine with the real peer on the
# same kernels. Not part of the normal set-up. Cached per version, flavour and flags, like the wheel:
#
#     bash scripts/build-llama-tools.sh     # prints the folder holding the two binaries
#
# Needs cmake, ninja (or make) and a C++ compiler; ~6 min on 2 cores the first time, seconds after.
set -euo pipefail

cd "$(dirname "$0")/.."
eval "$(bash scripts/setup.sh --cmake-args)" # LLAMA_CPP_VERSION, FLAVOUR, CMAKE_ARGS_USED, CACHE
SDIST="$CACHE/src/llama_cpp_python-$LLAMA_CPP_VERSION.tar.gz"
TOOLS="$CACHE/llama-tools/$LLAMA_CPP_VERSION-$FLAVOUR-$(printf '%s' "$CMAKE_ARGS_USED" | sha256sum | cut -c1-12)"
say() { printf '\033[1m[llama-tools]\033[0m %s\n' "$*" >&2; }

if [ -x "$TOOLS/llama-batched-bench" ] && [ -x "$TOOLS/llama-bench" ]; then
    echo "$TOOLS"
    exit 0
fi
if [ ! -f "$SDIST" ]; then
    say "no llama-cpp-python $LLAMA_CPP_VERSION source in $SDIST: run 'bash scripts/setup.sh' first"
    exit 1
fi
command -v cmake >/dev/null || { say "cmake is not installed (apt-get install cmake ninja-build g++)"; exit 1; }
GEN=()
command -v ninja >/dev/null && GEN=(-G Ninja)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
say "building llama-batched-bench and llama-bench from llama.cpp of llama-cpp-python $LLAMA_CPP_VERSION ($FLAVOUR)"
tar -xzf "$SDIST" -C "$work" "llama_cpp_python-$LLAMA_CPP_VERSION/vendor/llama.cpp"
src="$work/llama_cpp_python-$LLAMA_CPP_VERSION/vendor/llama.cpp"
# shellcheck disable=SC2086  # the flags are a word list, as in CMAKE_ARGS for pip
cmake -S "$src" -B "$work/build" "${GEN[@]}" -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=OFF \
    -DLLAMA_BUILD_TOOLS=ON -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_SERVER=OFF \
    -DLLAMA_OPENSSL=OFF $CMAKE_ARGS_USED >"$work/configure.log" 2>&1 || {
    tail -20 "$work/configure.log" >&2
    exit 1
}
cmake --build "$work/build" --config Release -j "$(nproc 2>/dev/null || echo 2)" \
    --target llama-batched-bench llama-bench >"$work/build.log" 2>&1 || {
    tail -20 "$work/build.log" >&2
    exit 1
}
mkdir -p "$TOOLS.tmp"
cp "$work/build/bin/llama-batched-bench" "$work/build/bin/llama-bench" "$TOOLS.tmp/"
printf '%s\n' "$LLAMA_CPP_VERSION $FLAVOUR $CMAKE_ARGS_USED" >"$TOOLS.tmp/BUILD"
rm -rf "$TOOLS" && mv "$TOOLS.tmp" "$TOOLS"
say "built into $TOOLS"
echo "$TOOLS"
