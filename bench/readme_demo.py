"""Write the demo's results and stage times into README.md from the demo study's database.

    .venv/bin/python bench/readme_demo.py [--recipe recipes/demo.toml] [--readme README.md]

Replaces what stands between ``<!-- demo-matrix:start -->`` and ``<!-- demo-matrix:end -->`` with the
Markdown tables of ``workbench results RECIPE --format md`` and the wall time of each stage of the
last run (from the stage runs in the database), and what stands between ``<!-- demo-times:start -->``
and ``<!-- demo-times:end -->`` with the stage times of the demo and of its quick profile side by side,
so the README's numbers are never copied by hand.
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
START, END = "<!-- demo-matrix:start -->", "<!-- demo-matrix:end -->"
TIMES_START, TIMES_END = "<!-- demo-times:start -->", "<!-- demo-times:end -->"


def stage_times(db, study_id: int) -> list[tuple[str, float, int]]:
    """(stage, seconds, units) of the newest done run of each unit, summed per stage."""
    from workbench import registry
    from workbench.store import read

    totals: dict[str, list[float]] = {}
    for r in read.latest_stage_runs(db, study_id):
        if r["status"] == "done" and r["started_at"] and r["finished_at"]:
            took = dt.datetime.fromisoformat(r["finished_at"]) - dt.datetime.fromisoformat(r["started_at"])
            totals.setdefault(r["stage"], []).append(took.total_seconds())
    return [(s, sum(totals[s]), len(totals[s])) for s in registry.names() if s in totals]


def section(recipe_path: Path) -> str:
    """The Markdown that goes between the markers."""
    from workbench import paths, views
    from workbench.analysis import results
    from workbench.recipe import load_recipe
    from workbench.store import open_study_db, read

    recipe = load_recipe(recipe_path)
    rows = views.result_rows(recipe, None)
    with open_study_db(paths.study_db_path(recipe.study.name)) as db:
        times = stage_times(db, read.study_id(db, recipe.study.name))
    lines = [
        f"Written by `bench/readme_demo.py` from `studies/{recipe.study.name}.sqlite` "
        f"({dt.date.today().isoformat()}); rows are the fine-tune language, columns the evaluation language.",
        "",
        results.to_markdown(rows),
        "| stage | units | wall time |",
        "|---|---|---|",
    ]
    lines += [f"| {s} | {n} | {views.duration(sec).lstrip('~')} |" for s, sec, n in times]
    total = sum(sec for _, sec, _ in times)
    lines.append(f"| **all** | | **{views.duration(total).lstrip('~')}** |")
    lines += ["", *measurements(recipe, rows)]
    return "\n".join(lines)


def measurements(recipe, rows) -> list[str]:
    """Capability, drift, language fidelity and the decoupling correlations beside compliance, as
    ``workbench results --measure ... --format md`` prints them (a measurement not run is said so)."""
    from workbench import views
    from workbench.analysis import capability
    from workbench.errors import WorkbenchError

    out = [
        "Beside compliance (`workbench results recipes/demo.toml --measure "
        "overrefusal|capability|choice|drift|fidelity|decoupling`):",
        "",
    ]
    measured = {}
    for measure in views.MEASURE_READERS:
        try:
            measured[measure] = views.MEASURE_READERS[measure](recipe)
            out.append(views.measure_markdown(measure, measured[measure]))
        except WorkbenchError as exc:
            out += [f"{measure}: {exc.message}", ""]
    out.append(views.measure_markdown("fidelity", views.fidelity_rows(rows)))
    if "capability" in measured:
        out.append(
            views.decoupling_markdown(capability.decoupling(rows, measured["capability"], measured.get("drift")))
        )
    return out


def run_span(db, study_id: int) -> tuple[float, str | None]:
    """Seconds from the first start to the last end of the newest done run of every unit, and the day."""
    from workbench.store import read

    runs = [r for r in read.latest_stage_runs(db, study_id) if r["status"] == "done" and r["finished_at"]]
    if not runs:
        return 0.0, None
    first = min(dt.datetime.fromisoformat(r["started_at"]) for r in runs)
    last = max(dt.datetime.fromisoformat(r["finished_at"]) for r in runs)
    return (last - first).total_seconds(), last.date().isoformat()


def times_section(recipe_path: Path) -> str:
    """The demo's and the quick profile's stage times, side by side, from their databases."""
    from workbench import paths, views
    from workbench.recipe import load_recipe
    from workbench.store import read

    columns = []
    for quick in (False, True):
        recipe = load_recipe(recipe_path, quick=quick)
        path = paths.study_db_path(recipe.study.name)
        if not path.exists():
            columns.append((recipe.study.name, {}, 0.0, None))
            continue
        with read.open_for_reading(path) as db:
            sid = read.study_id(db, recipe.study.name)
            times = {s: (sec, n) for s, sec, n in stage_times(db, sid)}
            span, day = run_span(db, sid)
        columns.append((recipe.study.name, times, span, day))
    stages = list(dict.fromkeys(s for _, t, _, _ in columns for s in t))
    lines = [
        "Written by `bench/readme_demo.py` from the two studies' databases: the wall time of the newest run "
        "of each unit, summed per stage (units in brackets), and the span from the first stage's start to "
        "the last one's end.",
        "",
        "| stage | " + " | ".join(f"`{name}`" for name, *_ in columns) + " |",
        "|---|" + "---|" * len(columns),
    ]
    for stage in stages:
        cells = []
        for _, times, _, _ in columns:
            sec, n = times.get(stage, (None, 0))
            cells.append("-" if sec is None else f"{views.duration(sec).lstrip('~')} ({n})")
        lines.append(f"| {stage} | " + " | ".join(cells) + " |")
    lines.append(
        "| **end to end** | "
        + " | ".join(
            f"**{views.duration(span).lstrip('~')}** ({day})" if day else "not run" for _, _, span, day in columns
        )
        + " |"
    )
    return "\n".join(lines)


def replace(text: str, start: str, end: str, body: str) -> str | None:
    if start not in text or end not in text:
        return None
    return re.sub(re.escape(start) + r".*?" + re.escape(end), lambda m: f"{start}\n{body}\n{end}", text, flags=re.S)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipe", type=Path, default=ROOT / "recipes" / "demo.toml")
    parser.add_argument("--readme", type=Path, default=ROOT / "README.md")
    args = parser.parse_args()
    text = args.readme.read_text(encoding="utf-8")
    new = replace(text, START, END, section(args.recipe))
    new = new and replace(new, TIMES_START, TIMES_END, times_section(args.recipe))
    if new is None:
        print(f"{args.readme}: no {START} ... {END} or {TIMES_START} ... {TIMES_END} markers", file=sys.stderr)
        return 2
    from workbench.fsutil import atomic_write

    atomic_write(args.readme, new)
    print(f"updated {args.readme}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
