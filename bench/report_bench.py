"""`workbench results` and `workbench report` on a synthetic study, against the floor: reading the same
rows with a bare SELECT. Each case runs in its own process (peak memory = that process's max RSS),
interleaved, so noise hits them alike; read the ratios.

    .venv/bin/python bench/report_bench.py [--responses 1000000] [--repeat 2]

Targets: the report under 30 s and 2 GB at 1,000,000 responses on a 2-core machine.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

CASE = r"""
import json, resource, sys, time
from pathlib import Path
case, db_path, out = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
t0 = time.perf_counter()
if case == "select":
    import sqlite3
    db = sqlite3.connect(db_path)
    n = 0
    for row in db.execute(
        "SELECT r.cell_id, p.lang, p.category, j.judge, j.label FROM judgments j "
        "JOIN responses r ON r.id = j.response_id JOIN prompts p ON p.id = r.prompt_id"
    ):
        n += 1
elif case == "results":
    from workbench.analysis import results as res
    from workbench.store import read
    with read.open_for_reading(db_path) as db:
        rows = res.compute(db, read.study_id(db, db_path.stem))
    n = len(rows)
else:
    from workbench.report import write_report
    n = len(write_report(db_path, db_path.stem, out, markdown=True).written)
elapsed = time.perf_counter() - t0
print(json.dumps({"seconds": elapsed, "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "n": n}))
"""


def run_case(case: str, db: Path, out: Path) -> dict:
    done = subprocess.run([sys.executable, "-c", CASE, case, str(db), str(out)], cwd=ROOT, capture_output=True,
                          text=True, check=True, env={**os.environ, "PYTHONPATH": str(ROOT)})  # fmt: skip
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--responses", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.sqlite"
        t0 = time.perf_counter()
        # built in a process of its own: a child forked from a process that holds the study's rows would
        # count them in its own peak memory (Linux keeps the high-water mark across exec)
        build = "import sys; from synthetic_study import make_study; make_study(sys.argv[1], int(sys.argv[2]), seed=0)"
        subprocess.run([sys.executable, "-c", build, str(db), str(args.responses)], check=True,
                       env={**os.environ, "PYTHONPATH": f"{ROOT}:{ROOT / 'bench'}"})  # fmt: skip
        print(
            f"synthetic study: {args.responses:,} responses, 2 judges, 2 annotators ({time.perf_counter() - t0:.0f} s)"
        )
        cases = ("select", "results", "report")
        samples: dict[str, list[dict]] = {c: [] for c in cases}
        for _ in range(args.repeat):
            for c in cases:
                samples[c].append(run_case(c, db, Path(tmp) / "report"))
        floor = statistics.median(s["seconds"] for s in samples["select"])
        print(f"{'case':<28}{'median s':>10}{'x SELECT':>10}{'peak MB':>10}")
        for c in cases:
            secs = statistics.median(s["seconds"] for s in samples[c])
            rss = max(s["rss_mb"] for s in samples[c])
            print(f"{c:<28}{secs:>10.2f}{secs / floor:>10.1f}{rss:>10.0f}")
        rep = samples["report"]
        worst = max(s["seconds"] for s in rep), max(s["rss_mb"] for s in rep)
        ok = worst[0] < 30 and worst[1] < 2048
        print(f"\nreport at {args.responses:,} responses: {worst[0]:.1f} s, {worst[1]:.0f} MB peak "
              f"(target < 30 s, < 2 GB: {'met' if ok else 'NOT met'})")  # fmt: skip


if __name__ == "__main__":
    main()
