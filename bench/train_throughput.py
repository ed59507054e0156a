"""Training throughput: the workbench's finetune loop against a plain transformers + peft loop.

Same base model (the embedded Gemma 3 270M unless --model is given), same examples, batches, LoRA
settings and optimizer; each variant runs in its own process (so peak memory is its own), one after
another in rounds so that machine noise hits all alike. Variants: the float32 loop as it was
(``fp32``), with length-grouped batches (``fp32-grouped``), and with the output head and loss fused
as well (``fp32-fused``, the loop as it is now in float32), bf16 base weights with float32 LoRA
(``bf16``, what ``precision = "auto"`` picks where bf16 is measured to pay), torch autocast over
float32 weights (``bf16-autocast``), plain transformers + peft in float32 (``plain-cpu``), Unsloth's
CPU fallback (``unsloth-cpu``, run in ``.venv-unsloth``). Prints tokens/s (padding excluded),
seconds per step, the padding share, peak RSS and the ratio to ``fp32``; then the loss curves of
fp32 and bf16 over the same batches. On a CUDA machine it also compares Unsloth 4-bit against plain
peft 4-bit.

    .venv/bin/python bench/train_throughput.py [--steps 8] [--rounds 1] [--curve-steps 30] [--model HF_DIR]
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


# variant -> (backend, precision, group_by_length, fused head + loss, 4-bit, autocast); "plain-*" use the
# model's own loss (the head on every position)
VARIANTS = {
    "fp32": ("peft", "fp32", False, False, False, False),  # the loop before this round of work
    "fp32-grouped": ("peft", "fp32", True, False, False, False),
    "fp32-fused": ("peft", "fp32", True, True, False, False),  # grouped + fused: the loop now, in float32
    "bf16": ("peft", "bf16", True, True, False, False),  # bf16 base weights, float32 LoRA
    "bf16-autocast": ("peft", "fp32", True, True, False, True),  # float32 weights, torch.autocast to bf16
    "plain-cpu": ("peft", "fp32", False, False, False, False),  # transformers + peft, the model's loss
    "unsloth-cpu": ("unsloth", "fp32", False, False, False, False),  # Unsloth's CPU fallback (.venv-unsloth)
    "unsloth": ("unsloth", "auto", False, True, True, False),
    "plain-4bit": ("peft", "auto", False, False, True, False),
}


def worker(variant: str, model_dir: str, steps: int) -> dict:
    import contextlib
    import resource
    import time

    import torch

    from workbench import data
    from workbench.engines import chat, training
    from workbench.engines.basemodel import BaseModel

    backend, precision, grouped, fused, four_bit, autocast = VARIANTS[variant]
    training.FUSED_CE = fused
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
        backend=backend,
        load_in_4bit=four_bit,
        precision=precision,
        group_by_length=grouped,
    )
    model, tokenizer, _ = training.load_for_training(base, cfg)
    examples = training.build_examples(tokenizer, records, cfg)
    device = next(model.parameters()).device
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=cfg.learning_rate)
    lengths = [len(e.input_ids) for e in examples]
    batches = [
        b
        for epoch in range(steps // max(len(examples) // 4, 1) + 2)
        for b in training._batches(len(examples), cfg, epoch, lengths)
    ]
    model.train()
    tokens = padded = 0
    losses = []
    t0 = None
    amp = (lambda: torch.autocast("cpu", dtype=torch.bfloat16)) if autocast else contextlib.nullcontext
    for step in range(steps + 1):  # step 0 is a warm-up, not timed (and not in the loss curve)
        if step == 1:
            t0 = time.perf_counter()
            tokens = padded = 0
        ids, mask, labels = training._collate(examples, batches[step], tokenizer.pad_token_id, device)
        with amp():
            if variant.startswith("plain"):
                loss = model(input_ids=ids, attention_mask=mask, labels=labels).loss
            else:
                loss = training.supervised_loss(model, ids, mask, labels)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        tokens += int(mask.sum())
        padded += mask.numel()
        if step:
            losses.append(float(loss))
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    seconds = time.perf_counter() - t0
    out = {
        "variant": variant,
        "tokens_per_s": tokens / seconds,
        "seconds_per_step": seconds / steps,
        "padding": 1 - tokens / padded,
        "losses": losses,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }
    if torch.cuda.is_available():
        out["peak_vram_mb"] = torch.cuda.max_memory_allocated() / 2**20
    return out


def run_variant(variant: str, model_dir: str, steps: int) -> dict | None:
    python = sys.executable
    if variant == "unsloth-cpu":
        python = str(ROOT / ".venv-unsloth" / "bin" / "python")
        if not Path(python).is_file():
            print("  unsloth-cpu: .venv-unsloth is missing (scripts/setup-unsloth.sh makes it): skipped")
            return None
    proc = subprocess.run(
        [python, __file__, "--worker", variant, "--model", model_dir, "--steps", str(steps)],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        print(f"  {variant} failed: {proc.stderr.strip().splitlines()[-1:]}")
        return None
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=8)
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--curve-steps", type=int, default=30, help="steps of the fp32 / bf16 loss-curve comparison")
    ap.add_argument("--variants", default="fp32,fp32-grouped,fp32-fused,bf16,bf16-autocast,plain-cpu,unsloth-cpu")
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

    from workbench.environment import cpu_has_fast_bf16, cpu_name

    variants = args.variants.split(",")
    if torch.cuda.is_available():
        variants += ["unsloth", "plain-4bit"]
    print(f"{cpu_name()}, {torch.get_num_threads()} threads, native bf16: {cpu_has_fast_bf16()}")
    results: dict[str, list[dict]] = {v: [] for v in variants}
    for _ in range(args.rounds):  # alternating, so that machine noise hits every variant alike
        for v in variants:
            r = run_variant(v, model_dir, args.steps)
            if r is not None:
                results[v].append(r)
    results = {v: rs for v, rs in results.items() if rs}
    med = {v: statistics.median(r["tokens_per_s"] for r in rs) for v, rs in results.items()}
    ref = med.get("fp32")
    print(f"\n{'variant':<15}{'tokens/s':>10}{'s/step':>8}{'padding':>9}{'peak RSS MB':>13}{'vs fp32':>9}")
    for v, rs in results.items():
        print(
            f"{v:<15}{med[v]:>10.1f}{statistics.median(r['seconds_per_step'] for r in rs):>8.2f}"
            f"{rs[0]['padding']:>9.0%}{max(r['peak_rss_mb'] for r in rs):>13.0f}"
            + (f"{med[v] / ref:>8.2f}x" if ref else "")
        )
    print(f"({args.steps} timed steps after one warm-up, batch 4, LoRA r=16 all-linear, {args.rounds} round(s))")
    from workbench.engines.calibrate import cpu_bf16_pays

    auto = "bf16" if (torch.cuda.is_available() or cpu_bf16_pays()) else "fp32-fused"
    if ref and auto in med:
        print(f'goal: the loop as "auto" runs it here ({auto}) >= 2x the fp32 loop before: {med[auto] / ref:.2f}x')
    if args.curve_steps:
        print(f"\nloss curves, {args.curve_steps} steps, same seed and batches: fp32 (fused) vs bf16")
        a = run_variant("fp32-fused", model_dir, args.curve_steps)
        b = run_variant("bf16", model_dir, args.curve_steps)
        if a and b:
            diffs = [abs(x - y) / x for x, y in zip(a["losses"], b["losses"], strict=True)]
            print("  fp32: " + " ".join(f"{x:.3f}" for x in a["losses"]))
            print("  bf16: " + " ".join(f"{x:.3f}" for x in b["losses"]))
            print(
                f"  relative difference per step: max {max(diffs):.1%}, mean {statistics.mean(diffs):.1%} "
                f"(tolerance 5% per step); loss drop {a['losses'][0] - a['losses'][-1]:.3f} (fp32) vs "
                f"{b['losses'][0] - b['losses'][-1]:.3f} (bf16)"
            )


if __name__ == "__main__":
    main()
