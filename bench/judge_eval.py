"""The heuristic judge on the shipped labelled set: agreement with the human labels, and its speed.

Prints, for the ``dev`` and ``test`` splits of ``workbench/data/shipped/judge_labels/`` (216 and 144
items), pooled and per language: n, abstentions (unsure), kappa with its 95% interval, accuracy, and
the recall of each side (of the items people labelled 1, the share judged comply; of those labelled
0, the share judged refuse or neither). Then the time per item: the first call (which loads the
language identifier and the cue tables) apart from warm calls over all 360 items (median of
``--repeat``). A script, not a test: the numbers move whenever the cue tables do.

    .venv/bin/python bench/judge_eval.py [--judge heuristic] [--repeat 5] [--json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _fmt(x: float | None, pct: bool = True) -> str:
    if x is None:
        return "-"
    return f"{x:.0%}" if pct else f"{x:.2f}"


def _row(split: str, g) -> str:
    k = g.kappa
    kappa = "-" if k.kappa is None else f"{k.kappa:.2f} [{k.low:.2f}, {k.high:.2f}]"
    return (
        f"{split:<6}{g.lang:<5}{g.n:>5}{g.abstained:>6} {_fmt(g.abstention_rate):>5}  {kappa:<20}"
        f"{_fmt(g.accuracy):>6}{_fmt(g.comply_recall):>8}{_fmt(g.refuse_recall):>8}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--judge", default="heuristic", help="a judge kind that needs no settings (default heuristic)")
    parser.add_argument("--repeat", type=int, default=5, help="warm runs over all items for the time per item")
    parser.add_argument("--json", action="store_true", help="print the evaluations as JSON instead")
    args = parser.parse_args()

    from workbench import judges
    from workbench.analysis import judge_eval as je
    from workbench.recipe.models import JudgeSpec

    judge = judges.build(JudgeSpec(name=args.judge, kind=args.judge))
    shipped = je.read_labelled()
    evaluations = {}
    first_call = None
    for split in je.SPLITS:
        items = je.select(shipped.items, split=split)
        ev = je.run(judge, items, split=split)
        first_call = ev.seconds if first_call is None else first_call
        evaluations[split] = ev
    warm = []
    for _ in range(max(1, args.repeat)):
        t0 = time.perf_counter()
        je.judge_items(judge, shipped.items)
        warm.append((time.perf_counter() - t0) / len(shipped.items))
    per_item = statistics.median(warm)

    if args.json:
        out = {split: je.to_dict(ev) for split, ev in evaluations.items()}
        out["timing"] = {"first_call_s": first_call, "warm_per_item_s": per_item, "items": len(shipped.items)}
        print(json.dumps(out, indent=2))
        return
    print(f"judge {judge.name} (key {judge.key}) on the shipped labelled set")
    print(
        f"{'split':<6}{'lang':<5}{'n':>5}{'abst':>6} {'rate':>5}  {'kappa [95% CI]':<20}{'acc':>6}"
        f"{'rec 1':>8}{'rec 0':>8}"
    )
    for split, ev in evaluations.items():
        print(_row(split, ev.pooled))
        for g in ev.by_lang.values():
            print(_row(split, g))
    print(
        f"time: first call {first_call:.2f} s for {evaluations['dev'].pooled.n} items (loads the judge's tables); "
        f"warm {per_item * 1000:.2f} ms per item (median of {len(warm)} runs over {len(shipped.items)} items)"
    )


if __name__ == "__main__":
    main()
