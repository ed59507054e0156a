"""Generation throughput: the workbench's batched engine against two baselines, in one run.

Same weights (the embedded Gemma 3 270M unless --gguf is given), same prompts (the shipped adversarial
requests in several languages, formatted with the Gemma 3 chat template), greedy decoding, the same
token budget. Measured in generated tokens per second of wall time:

  ours        workbench.engines.generate.Engine, continuous batching, N parallel sequences
  (a)         llama-cpp-python's high-level create_chat_completion, one prompt at a time
  (b)         transformers generate on the same weights (float32), one prompt at a time

With llama.cpp's own tools built (``bash scripts/build-llama-tools.sh``, bench-only), it first compares
ours with ``llama-batched-bench`` at the same shapes (sequences x prompt tokens x generated tokens),
threads and GGUF, and reports llama-bench's 512-token prompt processing rate as the compute bound.

Also prints ours against the number of parallel sequences (1, 4, 8, 16, 32) and the float32 compute
bound of this machine (numpy matmul GFLOP/s over the model's ~2 x params FLOPs per generated token).
Each variant runs in its own process, one after another; the machine is shared, so read the ratios.

    .venv/bin/python bench/generate_throughput.py [--prompts 32] [--max-new-tokens 48] [--hf-prompts 6] [--peer]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

LANGS = ("en", "es", "zh", "tl")


def prompts(n: int) -> list[str]:
    from workbench import data

    rows = [r for r in data.read_jsonl(data.shipped_path("adversarial")) if r["lang"] in LANGS]
    return [r["prompt"] for r in rows[:n]]


def run_ours(gguf: str, n: int, max_new: int, parallel: int) -> dict:
    from workbench.engines import chat
    from workbench.engines.generate import Engine, Request

    with Engine(gguf, n_parallel=parallel) as e:
        reqs = [Request(i, e.chat_tokens(p, template=chat.GEMMA3), max_new) for i, p in enumerate(prompts(n))]
        t = time.perf_counter()
        res = list(e.generate(reqs))
        dt = time.perf_counter() - t
    toks = sum(r.completion_tokens for r in res)
    return {"tokens": toks, "seconds": dt, "tokens_per_s": toks / dt}


def run_high_level(gguf: str, n: int, max_new: int) -> dict:
    import os

    import llama_cpp
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

    from workbench.engines import chat
    from workbench.engines.llamacpp import quiet

    quiet()
    llm = llama_cpp.Llama(gguf, n_ctx=512, n_threads=os.cpu_count(), verbose=False)
    handler = Jinja2ChatFormatter(chat.GEMMA3, eos_token="<eos>", bos_token="<bos>").to_chat_handler()
    llm.chat_handler = handler
    toks = 0
    t = time.perf_counter()
    for p in prompts(n):
        out = llm.create_chat_completion(
            [{"role": "user", "content": p}], max_tokens=max_new, temperature=0.0, stop=["<end_of_turn>"]
        )
        toks += out["usage"]["completion_tokens"]
    dt = time.perf_counter() - t
    llm.close()
    return {"tokens": toks, "seconds": dt, "tokens_per_s": toks / dt}


def run_transformers(hf_dir: str, n: int, max_new: int) -> dict:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from workbench.engines import chat

    tok = AutoTokenizer.from_pretrained(hf_dir)
    tok.chat_template = chat.GEMMA3
    model = AutoModelForCausalLM.from_pretrained(hf_dir, dtype=torch.float32).eval()
    end = tok.convert_tokens_to_ids("<end_of_turn>")
    toks = 0
    t = time.perf_counter()
    with torch.no_grad():
        for p in prompts(n):
            ids = tok.apply_chat_template(
                [{"role": "user", "content": p}], add_generation_prompt=True, return_tensors="pt", return_dict=True
            )
            out = model.generate(**ids, max_new_tokens=max_new, do_sample=False, eos_token_id=[end, tok.eos_token_id])
            toks += out.shape[1] - ids["input_ids"].shape[1]
    dt = time.perf_counter() - t
    return {"tokens": toks, "seconds": dt, "tokens_per_s": toks / dt}


def run_ours_fixed(gguf: str, parallel: int, pp: int, tg: int, threads: int) -> dict:
    """The shape llama-batched-bench runs: ``parallel`` sequences of ``pp`` prompt tokens each, all
    admitted at once, each decoding exactly ``tg`` tokens (end-of-turn ignored); greedy sampling and
    detokenising included, as in a real run."""
    from workbench.engines.generate import Engine, Request

    with Engine(gguf, n_parallel=parallel, n_threads=threads, n_batch=2048) as e:
        text = " ".join(prompts(8))
        base = e.tokenize(text, add_special=True)
        prompt = (base * (pp // len(base) + 1))[:pp]
        list(e.generate([Request(-1, prompt[:8], 2, ignore_stop=True)]))  # warm-up
        reqs = [Request(i, [*prompt[:-1], prompt[-1] + i], tg, ignore_stop=True) for i in range(parallel)]
        t = time.perf_counter()
        res = list(e.generate(reqs))
        dt = time.perf_counter() - t
    toks = sum(r.completion_tokens for r in res)
    return {"tokens": toks, "seconds": dt, "tokens_per_s": toks / dt}


def llama_tools() -> Path | None:
    """The folder of llama-batched-bench and llama-bench (built by scripts/build-llama-tools.sh), or None."""
    proc = subprocess.run(["bash", str(ROOT / "scripts" / "build-llama-tools.sh")], capture_output=True, text=True)
    if proc.returncode != 0:
        print(f"  (llama.cpp tools not built: {proc.stderr.strip().splitlines()[-1:] or proc.returncode})")
        return None
    return Path(proc.stdout.strip().splitlines()[-1])


def run_batched_bench(tools: Path, gguf: str, parallel: list[int], pp: int, tg: int, threads: int) -> dict[int, dict]:
    """llama.cpp's own batched decoding benchmark on the same GGUF: generated tokens per wall second
    (prefill included, the time ``T`` of its table) at each parallel count."""
    ctx = max(parallel) * (pp + tg) + 64
    cmd = [
        str(tools / "llama-batched-bench"), "-m", gguf, "-c", str(ctx), "-b", "2048", "-ub", "512",
        "-npp", str(pp), "-ntg", str(tg), "-npl", ",".join(map(str, parallel)), "-t", str(threads),
        "--output-format", "jsonl", "-kvu",
    ]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True)
    out: dict[int, dict] = {}
    for line in (proc.stdout + proc.stderr).splitlines():
        line = line.strip()
        if line.startswith("{") and '"pl"' in line:
            row = json.loads(line)
            out[row["pl"]] = {"tokens_per_s": row["pl"] * row["tg"] / row["t"], "seconds": row["t"], "row": row}
    if not out:
        raise RuntimeError(f"llama-batched-bench printed no results: {(proc.stderr or proc.stdout)[-1500:]}")
    return out


def run_llama_bench_pp(tools: Path, gguf: str, threads: int) -> float | None:
    """llama-bench's prompt processing rate (512-token batches): the model's compute-bound token rate
    on this machine, since a batch that large keeps the matrix kernels busy."""
    proc = subprocess.run(
        [str(tools / "llama-bench"), "-m", gguf, "-p", "512", "-n", "0", "-t", str(threads), "-r", "2", "-o", "json"],
        capture_output=True,
        text=True,
    )
    try:
        rows = json.loads(proc.stdout)
        return float(rows[0]["avg_ts"])
    except (ValueError, LookupError, TypeError):
        return None


def compute_bound(params: float) -> dict:
    import numpy as np

    a = np.random.rand(1024, 1024).astype(np.float32)
    b = np.random.rand(1024, 1024).astype(np.float32)
    a @ b
    reps = 20
    t = time.perf_counter()
    for _ in range(reps):
        a @ b
    gflops = reps * 2 * 1024**3 / (time.perf_counter() - t) / 1e9
    return {"gflops": gflops, "bound_tokens_per_s": gflops * 1e9 / (2 * params)}


def _child(kind: str, args: dict) -> dict:
    """Run one variant in a fresh process (own memory, no warm caches from another variant)."""
    code = (
        f"import json, sys; sys.path.insert(0, {str(ROOT)!r}); from bench.generate_throughput import *; "
        f"print('RESULT' + json.dumps({kind}(**json.loads(sys.argv[1]))))"
    )
    proc = subprocess.run([sys.executable, "-c", code, json.dumps(args)], capture_output=True, text=True)
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT"):
            return json.loads(line[6:])
    raise RuntimeError(f"{kind} failed: {proc.stderr[-2000:]}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--gguf", help="GGUF to generate with (default: the embedded model)")
    ap.add_argument("--hf-dir", help="the same weights as a transformers folder (default: the embedded model's)")
    ap.add_argument("--prompts", type=int, default=32)
    ap.add_argument("--hf-prompts", type=int, default=6, help="prompts for the slow transformers baseline")
    ap.add_argument("--baseline-prompts", type=int, default=12, help="prompts for the one-at-a-time llama.cpp loop")
    ap.add_argument("--max-new-tokens", type=int, default=48)
    ap.add_argument("--parallel", default="1,4,8,16,32")
    ap.add_argument("--json", action="store_true", help="print the numbers as JSON too")
    ap.add_argument("--peer", action="store_true", help="only ours against llama-batched-bench (fixed shapes)")
    ap.add_argument("--pp", type=int, default=32, help="prompt tokens per sequence in the fixed-shape comparison")
    args = ap.parse_args()

    from workbench import paths
    from workbench.engines.basemodel import resolve
    from workbench.recipe.models import ModelSpec

    gguf = args.gguf or str(paths.embedded_model_path())
    hf_dir = args.hf_dir or str(
        resolve(
            ModelSpec(name="gemma3-270m", embedded="gemma3-270m"), allow_downloads=False, log=lambda *a: None
        ).hf_dir
    )
    m = args.max_new_tokens
    print(
        f"model: {gguf}\nprompts: {args.prompts} (baselines: {args.baseline_prompts} / {args.hf_prompts}), "
        f"max_new_tokens {m}, greedy"
    )
    results: dict[str, dict] = {}
    par = [int(x) for x in args.parallel.split(",")]
    import os

    threads = os.cpu_count() or 2
    tools = llama_tools()
    if tools is not None:
        peer_par = [p for p in par if p != 4] or par
        print(
            f"\nfixed shapes ({args.pp} prompt tokens, {m} generated per sequence, {threads} threads), "
            "generated tokens per wall second, prefill included:"
        )
        peer = run_batched_bench(tools, gguf, peer_par, args.pp, m, threads)
        pp_rate = run_llama_bench_pp(tools, gguf, threads)
        for p in peer_par:
            ours_p = _child("run_ours_fixed", {"gguf": gguf, "parallel": p, "pp": args.pp, "tg": m, "threads": threads})
            results[f"fixed-ours-p{p}"], results[f"fixed-peer-p{p}"] = ours_p, peer[p]
            ratio = ours_p["tokens_per_s"] / peer[p]["tokens_per_s"]
            print(
                f"  {p:>2} sequences: ours {ours_p['tokens_per_s']:6.1f}, llama-batched-bench "
                f"{peer[p]['tokens_per_s']:6.1f}: {ratio:.2f}x   (goal >= 0.9x)",
                flush=True,
            )
        if pp_rate:
            results["llama-bench-pp512"] = {"tokens_per_s": pp_rate}
            best_peer = max(peer[p]["tokens_per_s"] for p in peer_par)
            print(
                f"  compute bound: llama-bench prompt processing (512-token batches) {pp_rate:.0f} tokens/s; "
                f"the best generation rate is {best_peer / pp_rate:.0%} of it (llama-batched-bench)"
            )
        if args.peer:
            if args.json:
                print(json.dumps({"results": results}, indent=1))
            return
    print("\nreal prompts (stopping at end of turn):")
    for p in par:
        results[f"ours-p{p}"] = _child("run_ours", {"gguf": gguf, "n": args.prompts, "max_new": m, "parallel": p})
        print(f"  ours, {p:>2} parallel: {results[f'ours-p{p}']['tokens_per_s']:7.1f} tokens/s", flush=True)
    results["a"] = _child("run_high_level", {"gguf": gguf, "n": args.baseline_prompts, "max_new": m})
    print(f"  (a) create_chat_completion loop: {results['a']['tokens_per_s']:7.1f} tokens/s", flush=True)
    results["b"] = _child("run_transformers", {"hf_dir": hf_dir, "n": args.hf_prompts, "max_new": m})
    print(f"  (b) transformers generate:       {results['b']['tokens_per_s']:7.1f} tokens/s", flush=True)
    bound = compute_bound(268e6)
    best_key = max((k for k in results if k.startswith("ours")), key=lambda k: results[k]["tokens_per_s"])
    best = results[best_key]["tokens_per_s"]
    print(f"\nbest ours: {best_key} at {best:.1f} tokens/s")
    print(f"  vs (a) create_chat_completion loop: {best / results['a']['tokens_per_s']:.2f}x   (target >= 4x)")
    print(f"  vs (b) transformers generate:       {best / results['b']['tokens_per_s']:.2f}x   (target >= 10x)")
    print(
        f"float32 compute bound: numpy matmul {bound['gflops']:.0f} GFLOP/s -> ~{bound['bound_tokens_per_s']:.0f} "
        f"tokens/s at 2 x 268M FLOPs per token; best ours reaches {best / bound['bound_tokens_per_s']:.0%} of it"
    )
    if args.json:
        print(json.dumps({"results": results, "bound": bound}, indent=1))


if __name__ == "__main__":
    main()
