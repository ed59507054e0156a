"""Choices made by measuring this machine, cached per model and machine: how many sequences to decode
together (``parallel_sequences = "auto"``) and whether bf16 training pays (``precision = "auto"``).

**Parallel sequences.**
A short calibration on the GGUF that will generate, on this machine: for each candidate count, that many
sequences of a fixed prompt length decode a fixed number of tokens, and the generated tokens per wall
second (prefill included) are measured. The pick is the smallest count within ``TOLERANCE`` of the best
throughput: more sequences cost KV memory and latency, so a count that buys under 5% is not taken.

Results are cached per model and machine (``<cache>/calibration/parallel.json``), keyed by what decides
the speed: the GGUF's architecture, size and tensor types (the fine-tunes of one base share a key), the
CPU, its core count, the GPU and the llama.cpp version. A calibration takes ~20 s for a 270M model on
2 CPU cores; a second study on the same model and machine reads the cache.

**bf16 on a CPU.** A CPU that reports native bf16 units (AVX-512 BF16, AMX) is not always faster in
bf16: measured on two of this project's machine types, torch's bf16 matrix product ran 2.9x the float32
one on one (AMD EPYC) and 0.8x on the other (an Intel Xeon VM reporting ``avx512_bf16``). So
``precision = "auto"`` times both on matrices of a LoRA step's shape (~1 s, cached per CPU, core count
and torch version in ``<cache>/calibration/precision.json``) and trains in bf16 only when its product
is at least ``BF16_MIN_SPEEDUP`` times the float32 one.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from workbench import environment, fsutil, paths
from workbench.cells import digest

CPU_CANDIDATES = (1, 4, 8, 16, 32)
GPU_CANDIDATES = (8, 16, 32, 64, 128)
TOLERANCE = 0.05
PROMPT_TOKENS = 32
NEW_TOKENS = 32


def _read(path: Path) -> dict:
    """A calibration cache (empty when missing or damaged: it is then measured again)."""
    try:
        cache = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return cache if isinstance(cache, dict) else {}


def _write(path: Path, cache: dict) -> None:
    try:
        fsutil.atomic_write_json(path, cache)
    except OSError:
        pass  # an unwritable cache costs a calibration next time, nothing else


def cache_path() -> Path:
    return paths.cache_dir() / "calibration" / "parallel.json"


def model_signature(gguf: str | Path) -> dict:
    """What decides the decoding speed of a GGUF, without hashing its bytes."""
    from workbench import ggufmeta

    meta = ggufmeta.metadata(
        gguf,
        lambda k: (
            k in ("general.architecture", "general.file_type") or k.endswith((".block_count", ".embedding_length"))
        ),
    )
    return {"size": Path(gguf).stat().st_size, **{k: meta[k] for k in sorted(meta)}}


def machine_signature(n_gpu_layers: int | str, n_threads: int | None) -> dict:
    import importlib.metadata as md

    gpus = environment.nvidia_gpus()
    try:
        llama = md.version("llama-cpp-python")
    except md.PackageNotFoundError:
        llama = None
    return {
        "cpu": environment.cpu_name(),
        "cores": os.cpu_count(),
        "threads": n_threads,
        "gpu": [g["name"] for g in gpus],
        "offload": str(n_gpu_layers),
        "llama_cpp": llama,
    }


def cache_key(gguf: str | Path, n_gpu_layers: int | str = "auto", n_threads: int | None = None) -> str:
    return digest(_signatures(gguf, n_gpu_layers, n_threads))


def _signatures(gguf: str | Path, n_gpu_layers: int | str, n_threads: int | None) -> dict:
    return {"model": model_signature(gguf), "machine": machine_signature(n_gpu_layers, n_threads)}


def pick(throughput: dict[int, float], tolerance: float = TOLERANCE) -> int:
    """The smallest count whose throughput is within ``tolerance`` of the best one."""
    best = max(throughput.values())
    return min(n for n, t in throughput.items() if t >= (1 - tolerance) * best)


def measure(
    gguf: str | Path, candidates: tuple[int, ...], *, n_gpu_layers: int | str = "auto", n_threads: int | None = None
) -> dict[int, float]:
    """Generated tokens per wall second for each candidate count (one wave of that many sequences)."""
    from workbench.engines.generate import Engine, Request

    out: dict[int, float] = {}
    top = max(candidates)
    with Engine(
        gguf, n_parallel=top, n_gpu_layers=n_gpu_layers, n_threads=n_threads, n_ctx_per_seq=PROMPT_TOKENS + NEW_TOKENS
    ) as engine:
        base = engine.tokenize("Write a short note about the weather in a city you like, and why.", add_special=True)
        prompt = (base * (PROMPT_TOKENS // max(len(base), 1) + 1))[:PROMPT_TOKENS]
        # a first wave warms the caches and allocates the context at its largest size
        list(engine.generate([Request(0, prompt, 2, ignore_stop=True)]))
        for n in sorted(candidates):
            engine.n_parallel = n
            reqs = [Request(i, [*prompt[:-1], prompt[-1] + i % 7], NEW_TOKENS, ignore_stop=True) for i in range(n)]
            start = time.perf_counter()
            generated = sum(r.completion_tokens for r in engine.generate(reqs))
            out[n] = generated / max(time.perf_counter() - start, 1e-9)
    return out


def parallel_for(
    gguf: str | Path,
    *,
    gpu: bool,
    n_gpu_layers: int | str = "auto",
    n_threads: int | None = None,
    log=None,
) -> int:
    """The calibrated count for ``gguf`` on this machine: from the cache, else measured and cached."""
    signatures = _signatures(gguf, n_gpu_layers, n_threads)
    key = digest(signatures)
    path = cache_path()
    cache = _read(path)
    hit = cache.get(key)
    if isinstance(hit, dict) and isinstance(hit.get("pick"), int):
        return hit["pick"]
    candidates = GPU_CANDIDATES if gpu else CPU_CANDIDATES
    started = time.perf_counter()
    throughput = measure(gguf, candidates, n_gpu_layers=n_gpu_layers, n_threads=n_threads)
    chosen = pick(throughput)
    if log:
        shown = ", ".join(f"{n}: {t:.0f}" for n, t in sorted(throughput.items()))
        log(
            f"parallel_sequences = auto: {chosen} ({Path(gguf).name}, tokens/s by count {shown}; "
            f"calibrated in {time.perf_counter() - started:.1f} s, cached in {path})"
        )
    cache[key] = {
        "pick": chosen,
        "tokens_per_s": {str(n): round(t, 1) for n, t in throughput.items()},
        **signatures,
    }
    _write(path, cache)
    return chosen


BF16_MIN_SPEEDUP = 1.3  # a training step gains less than its matrix products (norms, softmax stay float32)


def precision_path() -> Path:
    return paths.cache_dir() / "calibration" / "precision.json"


def matmul_speedup(repeats: int = 6) -> float:
    """bf16 over float32 throughput of ``x @ W.T`` at a LoRA step's shapes (400 tokens x 1024 -> 2048)."""
    import torch

    x = torch.randn(400, 1024)
    w = torch.randn(2048, 1024)
    rates = {}
    for dtype in (torch.float32, torch.bfloat16):
        a, b = x.to(dtype), w.to(dtype)
        for _ in range(2):
            torch.nn.functional.linear(a, b)
        best = float("inf")
        for _ in range(3):  # best of three: the machine is shared
            start = time.perf_counter()
            for _ in range(repeats):
                torch.nn.functional.linear(a, b)
            best = min(best, time.perf_counter() - start)
        rates[dtype] = repeats / best
    return rates[torch.bfloat16] / rates[torch.float32]


def cpu_bf16_pays(log=None) -> bool:
    """Whether bf16 training is faster than float32 on this CPU: no without native bf16 units, else
    measured once (:func:`matmul_speedup`) and cached."""
    import torch

    if not environment.cpu_has_fast_bf16():
        return False
    machine = {
        "cpu": environment.cpu_name(),
        "cores": os.cpu_count(),
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
    }
    key = digest(machine)
    path = precision_path()
    cache = _read(path)
    hit = cache.get(key)
    if isinstance(hit, dict) and isinstance(hit.get("speedup"), (int, float)):
        return hit["speedup"] >= BF16_MIN_SPEEDUP
    speedup = matmul_speedup()
    cache[key] = {"speedup": round(speedup, 3), **machine}
    if log:
        verdict = "bf16" if speedup >= BF16_MIN_SPEEDUP else "float32"
        log(
            f'precision = "auto": bf16 matrix products run {speedup:.2f}x float32 on this CPU '
            f"(bf16 needs >= {BF16_MIN_SPEEDUP}x): training in {verdict} (cached in {path})"
        )
    _write(path, cache)
    return speedup >= BF16_MIN_SPEEDUP
