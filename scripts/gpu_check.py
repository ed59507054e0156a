"""The GPU side of scripts/gpu-check.sh: Unsloth 4-bit LoRA on a tiny model, export through the gate,
generation with every layer on the GPU; prints tokens/s and peak VRAM.

Training runs in Unsloth's environment (``--unsloth-python``, .venv-unsloth), the rest in .venv, as the
workbench does. Refuses (exit 3) without CUDA.

    .venv/bin/python scripts/gpu_check.py [--unsloth-python PY] [--steps 8]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def refuse(code: int, message: str) -> None:
    print(f"gpu-check: {message}", file=sys.stderr)
    raise SystemExit(code)


def train(model_dir: str, out: str, steps: int) -> None:
    """Unsloth 4-bit LoRA (run inside Unsloth's environment); prints one JSON line."""
    import torch

    from workbench.engines import chat, training
    from workbench.engines.basemodel import BaseModel

    base = BaseModel("tiny", "llama3", Path(model_dir), chat.TEMPLATES["llama3"])
    rows = [{"prompt": f"Question {i}?", "response": f"Answer number {i}."} for i in range(16)]
    cfg = training.TrainConfig(
        learning_rate=1e-3,
        epochs=1,
        max_steps=steps,
        batch_size=2,
        seed=0,
        max_seq_length=64,
        lora_r=8,
        lora_alpha=16,
        lora_dropout=0.0,
        backend="unsloth",
        load_in_4bit=True,
    )
    torch.cuda.reset_peak_memory_stats()
    result = training.train(base, rows, cfg, Path(out), key="gpu-check")
    summary = result.summary()
    summary["peak_vram_mb"] = round(torch.cuda.max_memory_allocated() / 2**20, 1)
    summary["gpu"] = torch.cuda.get_device_name(0)
    print("RESULT " + json.dumps(summary))


def _vram_used_mb() -> float | None:
    try:
        out = subprocess.run(
            ["nvidia-smi", "--query-gpu=memory.used", "--format=csv,noheader,nounits"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout
        return float(out.split()[0])
    except (OSError, subprocess.SubprocessError, ValueError, IndexError):
        return None


def generate(gguf: Path, n: int = 8, max_new_tokens: int = 64) -> dict:
    """Greedy generation with every layer offloaded: tokens/s and the VRAM llama.cpp took."""
    from workbench.engines.generate import Engine, Request

    before = _vram_used_mb()
    with Engine(gguf, n_parallel=n, n_gpu_layers=-1) as engine:
        loaded = _vram_used_mb()
        reqs = [Request(i, engine.chat_tokens(f"Question {i}: how do I cook rice?"), max_new_tokens) for i in range(n)]
        t0 = time.perf_counter()
        results = list(engine.generate(reqs))
        seconds = time.perf_counter() - t0
        peak = _vram_used_mb()
    tokens = sum(r.completion_tokens for r in results)
    return {
        "model": gguf.name,
        "sequences": n,
        "tokens": tokens,
        "tokens_per_s": round(tokens / max(seconds, 1e-9), 1),
        "llama_vram_mb": None if before is None or peak is None else round(max(loaded or 0, peak) - before, 1),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--unsloth-python", default=str(ROOT / ".venv-unsloth" / "bin" / "python"))
    ap.add_argument("--steps", type=int, default=8)
    ap.add_argument("--train", nargs=2, metavar=("MODEL", "OUT"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    import torch

    if not torch.cuda.is_available():
        refuse(3, f"torch {torch.__version__} sees no CUDA GPU; the GPU check needs one (the workbench does not)")
    if args.train:
        train(*args.train, args.steps)
        return
    import llama_cpp

    if not llama_cpp.llama_supports_gpu_offload():
        refuse(3, "llama.cpp was built without CUDA: `rm .venv/.llama-cpp-build && make setup` rebuilds it")
    from tests.tinymodels import make_tiny_model
    from workbench import paths
    from workbench.engines import chat, export
    from workbench.engines.basemodel import BaseModel

    with tempfile.TemporaryDirectory(prefix="gpu-check-") as tmp:
        work = Path(tmp)
        print("[gpu-check] making a tiny Llama model", flush=True)
        model_dir = make_tiny_model(work / "tiny", "llama3")
        print(f"[gpu-check] Unsloth 4-bit LoRA, {args.steps} steps ({args.unsloth_python})", flush=True)
        env = {**os.environ, "PYTHONPATH": str(ROOT), "UNSLOTH_DISABLE_STATISTICS": "1", "HF_HUB_OFFLINE": "1"}
        proc = subprocess.run(
            [args.unsloth_python, __file__, "--steps", str(args.steps), "--train", str(model_dir), str(work / "cell")],
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )
        if proc.returncode != 0 or "RESULT " not in proc.stdout:
            sys.stderr.write(proc.stderr[-4000:])
            refuse(5, "Unsloth 4-bit training failed (its output is above)")
        trained = json.loads(proc.stdout.split("RESULT ", 1)[1].splitlines()[0])
        if not trained.get("load_in_4bit"):
            refuse(5, "Unsloth trained, but not in 4-bit")
        print("[gpu-check] exporting through the gate", flush=True)
        base = BaseModel("tiny", "llama3", model_dir, chat.TEMPLATES["llama3"])
        result = export.export_cell(
            base, work / "cell" / "adapter", work / "gguf", "tiny", ["q8_0"], keep_merged=False, min_agreement=0.95
        )
        print("[gpu-check] generating with n_gpu_layers = -1", flush=True)
        runs = [generate(Path(result.files["q8_0"]))]
        embedded = paths.embedded_model_path()
        if embedded.is_file():
            runs.append(generate(embedded))
    print(f"GPU: {trained['gpu']}")
    print(
        f"train  Unsloth 4-bit LoRA: {trained['steps']} steps in {trained['seconds']} s, "
        f"{trained['tokens_per_s']} tokens/s, peak VRAM {trained['peak_vram_mb']} MiB (torch.cuda.max_memory_allocated)"
    )
    print(f"export gate passed: greedy agreement {result.gate.agreement:.1%}")
    for r in runs:
        vram = "?" if r["llama_vram_mb"] is None else f"{r['llama_vram_mb']} MiB"
        print(
            f"generate {r['model']}: {r['tokens_per_s']} tokens/s ({r['sequences']} sequences), "
            f"VRAM {vram} (nvidia-smi)"
        )
    print("gpu-check: ok")


if __name__ == "__main__":
    main()
