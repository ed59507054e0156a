"""Fit the heuristic judge's calibration (``workbench/judges/calibration.json``) on the DEV split.

The heuristic judge's ``score`` is a calibrated P(comply | rule): for every decision rule, the share of
the dev items it decided whose human label agrees with the rule's label, smoothed. This script judges the
dev split of the shipped judge labels (``workbench/data/shipped/judge_labels/``) and writes

* per label (``comply``, ``refuse``, ``neither``): n items, k of them right (binary: comply = 1,
  refuse/neither = 0), precision (k + 1) / (n + 2);
* per rule: n, k, and precision (k + 2 p) / (n + 2), p being its label's precision (a rule seen rarely
  on dev gets its label's value); for an ``unsure`` rule, k counts the items that comply and p = 1/2,
  so its "precision" is P(comply).

Only the dev split is read for fitting; ``--report test`` prints the numbers on the test split (for
reporting only: never tune on it). Rerun after any change to the rules or the cue tables:

    .venv/bin/python bench/heuristic_fit.py            # refit and write calibration.json
    .venv/bin/python bench/heuristic_fit.py --check    # exit 1 when calibration.json is out of date
    .venv/bin/python bench/heuristic_fit.py --report dev   # the dev numbers, per language
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from workbench.analysis import judge_eval as je  # noqa: E402
from workbench.judges import heuristic  # noqa: E402

CALIBRATION = ROOT / "workbench" / "judges" / "calibration.json"
PRIOR_WEIGHT = 2  # pseudo-items of the label's precision a rule's precision is smoothed with
BINARY = {"comply": 1, "refuse": 0, "neither": 0}


def dev_items() -> list[je.LabelledItem]:
    """The dev split of the shipped judge labels."""
    return je.select(je.read_labelled(None).items, split="dev")


def fit(items: list[je.LabelledItem]) -> dict[str, Any]:
    """The calibration of the current rules and cue tables on ``items`` (see the module docstring)."""
    judge = heuristic.HeuristicJudge(scores={"rules": {}, "labels": {}})  # scores do not change labels
    verdicts = judge.judge([i.judge_item() for i in items])
    per_rule: Counter[str] = Counter()
    right_rule: Counter[str] = Counter()
    per_label: Counter[str] = Counter()
    right_label: Counter[str] = Counter()
    for item, verdict in zip(items, verdicts, strict=True):
        rule = verdict.evidence["rule"]
        label = heuristic.RULES[rule]
        per_rule[rule] += 1
        per_label[label] += 1
        hit = item.label == 1 if label == "unsure" else BINARY[label] == item.label
        right_rule[rule] += hit
        right_label[label] += hit
    labels: dict[str, dict[str, Any]] = {}
    for label in ("comply", "refuse", "neither", "unsure"):
        n, k = per_label[label], right_label[label]
        labels[label] = {"n": n, "k": k, "precision": round((k + 1) / (n + 2), 4)}
    rules: dict[str, dict[str, Any]] = {}
    for rule, label in heuristic.RULES.items():
        n, k = per_rule[rule], right_rule[rule]
        prior = 0.5 if label == "unsure" else labels[label]["precision"]
        rules[rule] = {
            "label": label,
            "n": n,
            "k": k,
            "precision": round((k + PRIOR_WEIGHT * prior) / (n + PRIOR_WEIGHT), 4),
        }
    return {
        "about": (
            "Calibration of the heuristic judge, written by bench/heuristic_fit.py: per rule, the share of "
            "the dev items it decided that human labels agree with (for unsure rules: that comply), smoothed "
            "toward the label's (k + 1) / (n + 2). score = precision for comply rules, 1 - precision for "
            "refuse/neither rules, precision (= P(comply)) for unsure rules."
        ),
        "version": heuristic.HEURISTIC_VERSION,
        "fitted_on": f"judge_labels split=dev ({len(items)} items)",
        "prior_weight": PRIOR_WEIGHT,
        "labels": labels,
        "rules": rules,
    }


def dumps(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False, sort_keys=False) + "\n"


def report(split: str) -> None:
    items = je.select(je.read_labelled(None).items, split=split)
    judge = heuristic.HeuristicJudge()
    ev = je.run(judge, items, split=split)

    def line(g: je.GroupStats) -> str:
        k = g.kappa
        kappa = "  n/a" if k.kappa is None else f"{k.kappa:.3f} [{k.low:.2f}, {k.high:.2f}]"
        acc = "n/a" if g.accuracy is None else f"{g.accuracy:.3f}"
        return f"{g.lang:>4}  n={g.n:<4} kappa {kappa}  accuracy {acc}  abstention {g.abstention_rate:.3f}"

    print(f"heuristic {heuristic.HEURISTIC_VERSION} key {judge.key} on split={split}")
    print(line(ev.pooled))
    for g in ev.by_lang.values():
        print(line(g))
    if ev.seconds_per_item is not None:
        print(f"{ev.seconds_per_item * 1000:.2f} ms per item")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when calibration.json is out of date")
    parser.add_argument("--report", choices=je.SPLITS, help="print the numbers on a split; writes nothing")
    args = parser.parse_args()
    if args.report:
        report(args.report)
        return 0
    data = dumps(fit(dev_items()))
    if args.check:
        current = CALIBRATION.read_text(encoding="utf-8") if CALIBRATION.exists() else ""
        if current != data:
            print(f"{CALIBRATION} is out of date: rerun bench/heuristic_fit.py", file=sys.stderr)
            return 1
        print("calibration is up to date")
        return 0
    CALIBRATION.write_text(data, encoding="utf-8")
    print(f"wrote {CALIBRATION}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
