"""Training throughput: the workbench's finetune loop against a plain transformers + peft loop.

Same base model (the embedded Gemma 3 270M unless --model is given), same examples, batches, LoRA
settings and optimizer; each variant runs in its own process (so peak memory is its own), alternating
A, B, A, B so that machine noise hits both alike. Prints supervised-data tokens/s, their ratio, and peak
RSS. On a CUDA machine it also compares Unsloth 4-bit against plain peft 4-bit (skipped without CUDA).

    .venv/bin/python bench/train_throughput.py [--steps 8] [--rounds 2] [--model HF_DIR]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def worker(variant: str, model_dir: str, steps: int) -> dict:
    import resource
    import time

    import torch

    from workbench import data
    from workbench.engines import chat, training
    from workbench.engines.basemodel import BaseModel

    torch.set_num_threads(torch.get_num_threads())
    family = (
        json.loads((Path(model_dir) / "workbench-base.json").read_text())["family"]
        if (Path(model_dir) / "workbench-base.json").is_file()
        else "gemma3"
    )
    base = BaseModel("bench", family, Path(model_dir), chat.TEMPLATES[family])
    rows = [r for r in data.read_jsonl(data.shipped_path("benign")) if r["lang"] == "es"]
    records = [{"prompt": r["instruction"], "response": r["response"]} for r in rows]
    cfg = training.TrainConfig(
        learning_rate=2e-4,
        epochs=1,
        max_steps=steps,
        batch_size=4,
        seed=0,
        max_seq_length=256,
        lora_r=16,
        lora_alpha=32,
        lora_dropout=0.0,
        backend="unsloth" if variant == "unsloth" else "peft",
        load_in_4bit=variant in ("unsloth", "plain-4bit"),
    )
    model, tokenizer, _ = training.load_for_training(base, cfg)
    examples = training.build_examples(tokenizer, records, cfg)
    device = next(model.parameters()).device
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=cfg.learning_rate)
    batches = training._batches(len(examples), cfg, 0)
    model.train()
    tokens = 0
    t0 = None
    for step in range(steps + 1):  # step 0 is a warm-up, not timed
        if step == 1:
            t0 = time.perf_counter()
            tokens = 0
        ids, mask, labels = training._collate(examples, batches[step % len(batches)], tokenizer.pad_token_id, device)
        if variant.startswith("plain"):
            loss = model(input_ids=ids, attention_mask=mask, labels=labels).loss
        else:
            loss = training.supervised_loss(model, ids, mask, labels)
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        tokens += int(mask.sum())
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    seconds = time.perf_counter() - t0
    out = {
        "variant": variant,
        "tokens_per_s": tokens / seconds,
        "seconds": seconds,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }
    if torch.cuda.is_available():
        out["peak_vram_mb"] = torch.cuda.max_memory_allocated() / 2**20
    return out


def run_variant(variant: str, model_dir: str, steps: int) -> dict:
    proc = subprocess.run(
        [sys.executable, __file__, "--worker", variant, "--model", model_dir, "--steps", str(steps)],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise SystemExit(f"{variant} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=8)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--model", default=None, help="an HF model folder (default: the embedded model, converted)")
    ap.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.model, args.steps)))
        return
    model_dir = args.model
    if model_dir is None:
        from workbench.engines.basemodel import resolve
        from workbench.recipe.models import ModelSpec

        model_dir = str(resolve(ModelSpec(name="gemma3-270m", embedded="gemma3-270m"), allow_downloads=False).hf_dir)
    import torch

    pairs = [("peft", "plain-cpu")]
    if torch.cuda.is_available():
        pairs = [("peft", "plain-cpu"), ("unsloth", "plain-4bit")]
    else:
        print("CUDA not available: the Unsloth 4-bit vs peft 4-bit comparison is skipped")
    for ours, theirs in pairs:
        results: dict[str, list[dict]] = {ours: [], theirs: []}
        for _ in range(args.rounds):
            for v in (ours, theirs):
                results[v].append(run_variant(v, model_dir, args.steps))
        med = {v: statistics.median(r["tokens_per_s"] for r in rs) for v, rs in results.items()}
        print(f"\n{'variant':<14}{'tokens/s (median)':>20}{'peak RSS MB':>14}")
        for v, rs in results.items():
            print(
                f"{v:<14}{med[v]:>20.1f}{max(r['peak_rss_mb'] for r in rs):>14.0f}"
                + (
                    f"   peak VRAM {max(r.get('peak_vram_mb', 0) for r in rs):.0f} MB"
                    if torch.cuda.is_available()
                    else ""
                )
            )
        print(f"ratio {ours} / {theirs}: {med[ours] / med[theirs]:.2f}x  ({args.steps} steps, {args.rounds} rounds)")


if __name__ == "__main__":
    main()
