"""Benchmarks, measured side by side in one run (the machine is shared and noisy: read the ratios).

Now: start-up cost of the CLI against a bare Python interpreter, and of importing the heavy stack
that the CLI must not import. Later stages add training and generation throughput here.

    .venv/bin/python bench/run.py [--repeat N]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def timed(cmd: list[str], repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        subprocess.run(cmd, cwd=ROOT, capture_output=True, check=True)
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    py = sys.executable
    cases = {
        "python -c pass": [py, "-c", "pass"],
        "workbench --help": [py, "-m", "workbench", "--help"],
        "workbench validate demo": [py, "-m", "workbench", "validate", "recipes/demo.toml"],
        "import torch+transformers+llama_cpp": [py, "-c", "import torch, transformers, llama_cpp"],
    }
    # Interleave the cases so that noise hits all of them alike.
    results: dict[str, list[float]] = {k: [] for k in cases}
    for _ in range(args.repeat):
        for name, cmd in cases.items():
            results[name].append(timed(cmd, 1))
    base = statistics.median(results["python -c pass"])
    print(f"{'case':<40}{'median s':>10}{'x python':>10}")
    for name, samples in results.items():
        m = statistics.median(samples)
        print(f"{name:<40}{m:>10.3f}{m / base:>10.1f}")
    heavy = statistics.median(results["import torch+transformers+llama_cpp"])
    cli = statistics.median(results["workbench --help"])
    print(f"\nCLI help costs {cli:.2f} s; importing the heavy stack would cost {heavy / cli:.1f}x that.")


if __name__ == "__main__":
    main()
