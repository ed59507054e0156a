"""``parallel_sequences = "auto"``: the number of sequences decoded together, chosen by measurement.

A short calibration on the GGUF that will generate, on this machine: for each candidate count, that many
sequences of a fixed prompt length decode a fixed number of tokens, and the generated tokens per wall
second (prefill included) are measured. The pick is the smallest count within ``TOLERANCE`` of the best
throughput: more sequences cost KV memory and latency, so a count that buys under 5% is not taken.

Results are cached per model and machine (``<cache>/calibration/parallel.json``), keyed by what decides
the speed: the GGUF's architecture, size and tensor types (the fine-tunes of one base share a key), the
CPU, its core count, the GPU and the llama.cpp version. A calibration takes ~10 s for a 270M model on
2 CPU cores; a second study on the same model and machine reads the cache.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path

from workbench import environment, fsutil, paths

CPU_CANDIDATES = (1, 4, 8, 16, 32)
GPU_CANDIDATES = (8, 16, 32, 64, 128)
TOLERANCE = 0.05
PROMPT_TOKENS = 32
NEW_TOKENS = 16


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
    blob = json.dumps(
        {"model": model_signature(gguf), "machine": machine_signature(n_gpu_layers, n_threads)}, sort_keys=True
    )
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


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
    key = cache_key(gguf, n_gpu_layers, n_threads)
    path = cache_path()
    try:
        cache = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        cache = {}
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
        "model": model_signature(gguf),
        "machine": machine_signature(n_gpu_layers, n_threads),
    }
    try:
        fsutil.atomic_write_json(path, cache)
    except OSError:
        pass  # an unwritable cache costs a calibration next time, nothing else
    return chosen
