"""Cluster executors, measured side by side: shard merge throughput, and the quick demo on ``local``
against ``ray`` with two workers on this machine (wall time ratio).

    .venv/bin/python bench/cluster_bench.py merge [--responses 1000000 --shards 20]
    .venv/bin/python bench/cluster_bench.py demo [--workers 2]

``merge`` builds a synthetic shard set (each shard: its responses with one judgment each, as a
generate + judge unit leaves them; all with the study schema), merges every shard into a study
database, then merges them all again (which must add nothing), and prints rows per second.
``demo`` runs ``workbench run recipes/demo.toml --quick`` in two fresh workspaces, one after the
other: the local executor, then a local Ray cluster of ``--workers`` CPUs.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _template(folder: Path, cells: int, prompts: int) -> Path:
    from workbench.store import open_study_db

    path = folder / "template.sqlite"
    with open_study_db(path) as db:
        sid = db.ensure_study("bench")
        for c in range(cells):
            db.upsert_cell(sid, {"id": f"m/c{c}", "model": "m", "kind": "finetune", "finetune_lang": "es", "seed": c,
                                 "epochs": 1, "config_hash": str(c), "config": {}})  # fmt: skip
        db.add_prompts(sid, [{"item_id": f"i{p}", "lang": "en", "text": f"prompt {p}", "source": "bench"}
                             for p in range(prompts)])  # fmt: skip
    con = sqlite3.connect(path)
    con.execute("PRAGMA journal_mode = DELETE")
    con.close()
    return path


def _shard(template: Path, out: Path, cell: str, gen: str, prompts: int) -> None:
    shutil.copyfile(template, out)
    con = sqlite3.connect(out)
    con.execute(
        "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < ?) "
        "INSERT INTO responses (prompt_id, cell_id, generation_key, text, temperature, top_p, seed, max_new_tokens, "
        "params_json, prompt_tokens, completion_tokens, finish_reason, created_at) "
        "SELECT 'i' || i || ':en', ?, ?, 'a response of some length, as a model would write it ' || i, 0, 1, 0, 64, "
        "'{}', 20, 40, 'stop', '2026-01-01T00:00:00.000+00:00' FROM n",
        (prompts, cell, gen),
    )
    con.execute(
        "INSERT INTO judgments (response_id, judge, judge_key, label, created_at) "
        "SELECT id, 'heuristic', 'k', CASE id % 2 WHEN 0 THEN 'comply' ELSE 'refuse' END, "
        "'2026-01-01T00:00:00.000+00:00' FROM responses"
    )
    con.commit()
    con.close()


def bench_merge(responses: int, n_shards: int) -> None:
    from workbench.store import shards

    per = responses // n_shards
    with tempfile.TemporaryDirectory(prefix="merge-bench-") as tmp:
        folder = Path(tmp)
        template = _template(folder, n_shards, per)
        files = []
        t0 = time.perf_counter()
        for i in range(n_shards):
            f = folder / f"shard-{i:03d}.sqlite"
            _shard(template, f, f"m/c{i}", f"g{i}", per)
            files.append(f)
        build = time.perf_counter() - t0
        study = folder / "study.sqlite"
        shutil.copyfile(template, study)
        t0 = time.perf_counter()
        added = sum(shards.merge(study, f).total for f in files)
        first = time.perf_counter() - t0
        t0 = time.perf_counter()
        again = sum(shards.merge(study, f).total for f in files)
        second = time.perf_counter() - t0
        con = sqlite3.connect(study)
        (n_resp,) = con.execute("SELECT count(*) FROM responses").fetchone()
        (n_judg,) = con.execute("SELECT count(*) FROM judgments").fetchone()
        con.close()
    rows = n_resp + n_judg
    print(f"synthetic shard set: {n_shards} shards x {per:,} responses (+1 judgment each), built in {build:.1f} s")
    print(f"first merge:  {rows:,} rows ({n_resp:,} responses, {n_judg:,} judgments) in {first:.1f} s "
          f"= {rows / first:,.0f} rows/s ({n_resp / first:,.0f} responses/s); {added:,} rows added")  # fmt: skip
    print(f"merged again: {again} rows added in {second:.1f} s = {rows / second:,.0f} rows/s read and matched")


def bench_demo(workers: int) -> None:
    times = {}
    for executor in ("local", "ray"):
        home = Path(tempfile.mkdtemp(prefix=f"demo-{executor}-"))
        cmd = [sys.executable, "-m", "workbench", "run", "recipes/demo.toml", "--quick"]
        if executor == "ray":
            cmd += ["--executor", "ray", "--workers", str(workers)]
        env = {**os.environ, "WORKBENCH_HOME": str(home), "RAY_USAGE_STATS_ENABLED": "0"}
        env.pop("RAY_ADDRESS", None)  # a cluster of its own, on this machine
        t0 = time.perf_counter()
        p = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
        times[executor] = time.perf_counter() - t0
        if p.returncode != 0:
            print(p.stdout[-2000:], p.stderr[-2000:])
            raise SystemExit(f"{executor}: exit {p.returncode}")
        shutil.rmtree(home, ignore_errors=True)
        print(f"{executor:<6} {times[executor]:7.1f} s")
    print(f"quick demo wall time: ray with {workers} workers / local = {times['ray'] / times['local']:.2f}x "
          f"({os.cpu_count()} CPUs here)")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="what", required=True)
    m = sub.add_parser("merge")
    m.add_argument("--responses", type=int, default=1_000_000)
    m.add_argument("--shards", type=int, default=20)
    d = sub.add_parser("demo")
    d.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    if args.what == "merge":
        bench_merge(args.responses, args.shards)
    else:
        bench_demo(args.workers)


if __name__ == "__main__":
    main()
