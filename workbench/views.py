"""What the CLI prints for a plan, a study's status and its results (rich tables or JSON).

Kept apart from :mod:`workbench.cli` so the command definitions stay a thin shell; every table
iterates the stage registry, so a new stage shows up here without an edit.
"""

from __future__ import annotations

import json
import sys

from workbench.errors import WorkbenchError


def escape_text(text: object) -> str:
    """User text (file names, columns, error messages) made safe to print as rich markup."""
    from rich.markup import escape

    return escape(str(text))


STATUS_COLOURS = {
    "done": "green",
    "failed": "red",
    "running": "yellow",
    "interrupted": "magenta",
    "pending": "white",
    "skipped": "cyan",
    "-": "dim",
}


FORMATS = ("table", "json")


def check_format(fmt: str) -> None:
    """``--format`` of plan and status: table or json, else a usage error."""
    if fmt not in FORMATS:
        from workbench.errors import UsageError

        raise UsageError(f"--format: unknown format {fmt!r}", "use table or json")


def show_plan(r, fmt: str, gpu: str | None = None) -> None:
    """The cells x stages grid, the data counts, the rough estimates per stage with their totals, and
    what does not fit the machine: this one, or one of GPU class ``gpu`` (``--gpu``; ``cpu`` included)."""
    check_format(fmt)
    from workbench import machine, paths, registry
    from workbench.cells import cells
    from workbench.judges import coverage
    from workbench.plan import plan_estimate, run_plan_for, stages_of

    models_dir = paths.study_models_dir(r.study.name)
    target = machine.this_machine(models_dir) if gpu is None else machine.planned_for(gpu, models_dir)
    all_cells = cells(r)
    from workbench import preflight

    plan = plan_estimate(r, target)
    plan.problems = preflight.problems(r) + plan.problems  # data and models the plan needs, checked first
    from workbench.plan import context_warnings

    warnings = preflight.warnings(r) + context_warnings(r) + coverage.warnings(r)
    notes = run_plan_for(r, None, all_cells, lambda stage, cell: False).notes
    if fmt == "json":
        print(
            json.dumps(
                {
                    "study": r.study.name,
                    "stages": [
                        {"stage": s.name, "scope": s.scope, "needs": list(s.needs), "description": s.description}
                        for s in registry.stages()
                    ],
                    "cells": [{"cell": c.id, "stages": stages_of(c, r)} for c in all_cells],
                    **plan.as_dict(),
                    "notes": notes,
                    "warnings": warnings,
                },
                indent=2,
                ensure_ascii=False,
            )
        )
        return
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    console = Console()
    study_wide = [s.name for s in registry.of_scope("study")]
    grid = Table(
        title=f"study {r.study.name}: {len(all_cells)} cells (study-wide: {', '.join(study_wide)})",
        title_justify="left",
    )
    grid.add_column("cell")
    per_cell = [s.name for s in registry.of_scope("cell")]
    for s in per_cell:
        grid.add_column(s, justify="center")
    for c in all_cells:
        st = stages_of(c, r)
        grid.add_row(c.id, *("x" if s in st else "" for s in per_cell))
    console.print(grid)

    data = Table(title="data the estimates count: what the recipe asks, at most what there is", title_justify="left")
    for col in ("data", "rows", "per language", "counted from"):
        data.add_column(col)
    for kind, c in plan.data.items():
        data.add_row(kind, f"{c.total:,}", _per_language(c.per_language), escape(c.source))
    console.print(data)

    m = plan.machine
    facts = [f"{size(m.ram_bytes)} RAM"]
    if m.vram_bytes:
        facts.append(f"{size(m.vram_bytes)} VRAM")
    facts.append(f"{size(m.free_disk_bytes)} free disk")
    table = Table(title=f"rough estimates for {escape(m.description)} ({', '.join(facts)})", title_justify="left")
    for col in ("stage", "units", "time", "disk", "memory", "note"):
        table.add_column(col)
    for e in plan.estimates:
        flags = "".join(f"[bold red]{f}[/]; " for f in e.flags)
        table.add_row(
            e.stage,
            f"{e.units:,}",
            duration(e.seconds),
            size(e.disk_bytes),
            f"{size(e.memory_bytes)} {e.memory_kind}",
            flags + escape(e.note),
            end_section=e is plan.estimates[-1],
        )
    t = plan.totals
    peaks = [f"{size(t[k])} {kind}" for k, kind in (("peak_ram_bytes", "RAM"), ("peak_vram_bytes", "VRAM")) if t[k]]
    table.add_row(
        "total", "", duration(t["seconds"]), size(t["disk_bytes"]), " / ".join(peaks), "peak memory", style="bold"
    )
    console.print(table)
    assumed = Table(title="what the estimates assume (measured, counted, read or assumed)", title_justify="left")
    for col in ("assumption", "value", "basis"):
        assumed.add_column(col)
    for a in plan.assumptions:
        assumed.add_row(a.what, escape(a.value), escape(a.basis))
    console.print(assumed)
    for line in plan.problems:
        console.print(f"problem: {escape(line)}", style="red", soft_wrap=True)
    for line in warnings:
        console.print(f"warning: {escape(line)}", style="yellow", soft_wrap=True)
    for line in notes:
        if line not in warnings:
            console.print(f"note: {escape(line)}", soft_wrap=True)


def _per_language(counts: dict[str, int]) -> str:
    values = set(counts.values())
    if len(values) == 1:
        return f"{next(iter(values)):,} x {len(counts)} language{'s' if len(counts) != 1 else ''}"
    return ", ".join(f"{lang} {n:,}" for lang, n in counts.items())


def show_status(r, fmt: str) -> None:
    """Per unit of every stage: done, running, interrupted, failed or pending."""
    check_format(fmt)
    from rich.console import Console
    from rich.table import Table

    from workbench.runner import status_grid

    grid = status_grid(r)
    if fmt == "json":
        print(json.dumps(grid, indent=2))
        return
    console = Console()
    if grid.get("live"):
        from rich.markup import escape

        from workbench.follow import live_line

        console.print(f"[blue]{escape(live_line(grid['live']))}[/]", soft_wrap=True)
        console.print(
            f"  events: {escape(grid['live']['events'] or '-')}  (follow: workbench status RECIPE --follow)",
            soft_wrap=True,
        )
    for stage, st in grid["study_stages"].items():
        console.print(
            f"{stage}: [{STATUS_COLOURS.get(st['status'], 'white')}]{st['status']}[/]"
            + (f" - {escape_text(st['error'])}" if st.get("error") else "")
        )
    table = Table(title=f"study {grid['study']}", title_justify="left")
    table.add_column("cell")
    stages = list(grid["cells"][0]["stages"]) if grid["cells"] else []
    for s in stages:
        table.add_column(s)
    for row in grid["cells"]:
        table.add_row(
            row["cell"],
            *(f"[{STATUS_COLOURS.get(v['status'], 'white')}]{v['status']}[/]" for v in row["stages"].values()),
        )
    console.print(table)
    console.print(f"database: {grid['database']}")


def result_rows(r, judge: str | None):
    """The study's rate rows (every judge, or one), with clear errors when there is nothing to show."""
    from workbench import paths
    from workbench.analysis import results as res
    from workbench.store import read

    db_path = paths.study_db_path(r.study.name)
    if not db_path.exists():
        raise WorkbenchError(f"study {r.study.name!r} has no database yet ({db_path})", "run the study first")
    with read.open_for_reading(db_path) as db:
        sid = read.study_id(db, r.study.name)
        known = read.current_judges(db, sid) if sid is not None else []
        if judge and judge not in known:
            raise WorkbenchError(
                f"--judge: no current judgments by {judge!r} in study {r.study.name!r}",
                f"judges with results: {', '.join(known) or 'none (run the judge stage)'}",
            )
        rows = res.compute(db, sid, judge=judge) if sid is not None else []
        unfinished = read.incomplete_generations(db, sid) if sid is not None and not rows else []
    if not rows and unfinished:
        raise WorkbenchError(
            f"study {r.study.name!r} has no complete, judged generation yet "
            f"({len(unfinished)} cell(s) have an unfinished one, e.g. {unfinished[0]})",
            "rerun the generate and judge stages: they continue where they stopped",
        )
    if not rows:
        raise WorkbenchError(
            f"study {r.study.name!r} has no judged responses yet", "run the generate and judge stages first"
        )
    return rows


def print_tables(rows) -> None:
    """The compliance matrices, one per (model, judge), with the legend."""
    from rich.console import Console

    from workbench.analysis import results as res

    console = Console()
    for table in res.render_tables(rows):
        console.print(table)
    console.print(
        "rate = share of the judged responses (comply, refuse or neither; abstentions left out) [Wilson 95% "
        "interval] n; second line of a fine-tuned cell: the change against the base on the same prompts, "
        "paired by item (bold: significant by the exact McNemar test after Holm's correction across the "
        "grid), and the ratio; 'settings differ' / 'judge differs': no change is computed",
        style="dim",
    )


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    if seconds < 90:
        return f"~{seconds:.0f} s"
    if seconds < 5400:
        return f"~{seconds / 60:.0f} min"
    return f"~{seconds / 3600:.1f} h"


def size(n: float | None) -> str:
    if n is None:
        return "?"
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if n < 1000:
            return f"~{n:.0f} {unit}"
        n /= 1000
    return f"~{n:.0f} PB"


def follow_run(r, *, jsonl: bool = False, wait_s: float = 0.0) -> None:
    """``status --follow``: draw the study's live run (whoever started it) until it ends."""
    from workbench import follow
    from workbench.progress import Reporter

    info = follow.live(r.study.name)
    if info is None:
        last = follow.last_events_file(r.study.name)
        state, _ = follow.fold(last)
        e = state.ended
        if jsonl:
            ended = None if e is None else {"done": e.done, "skipped": e.skipped, "failed": e.failed}
            print(json.dumps({"live": None, "last_events": str(last) if last else None, "last_ended": ended}))
            return
        said = "" if last is None else f"; the last run's events: {last}"
        if last is not None and e is not None:
            said += f" (it ended: {e.done} done, {e.skipped} skipped, {e.failed} failed)"
        elif last is not None:
            said += " (it did not finish: stopped or killed; `workbench status RECIPE` shows what is done)"
        print(f"study {r.study.name!r}: no run in progress{said}")
        return
    print(f"following pid {info['pid']} ({' '.join(info['command'])}); events: {info['events']}", file=sys.stderr)
    with Reporter(jsonl=jsonl) as reporter:
        events = follow.follow(r.study.name, reporter.emit, wait_s=wait_s)
    state, _ = follow.fold(events)
    if state.ended is None:
        print("the run ended before it finished (stopped or killed); `workbench status RECIPE` shows what is done")
    else:
        e = state.ended
        print(f"the run ended: {e.done} done, {e.skipped} skipped (already complete), {e.failed} failed")


def agreement_rows(r) -> list[dict]:
    """Human-vs-judge and human-vs-human agreement of a study (kappa with its 95% interval), as dicts."""
    from dataclasses import asdict

    from workbench import paths
    from workbench.analysis.agreement import agreement
    from workbench.store import read

    db_path = paths.study_db_path(r.study.name)
    if not db_path.exists():
        raise WorkbenchError(f"study {r.study.name!r} has no database yet ({db_path})", "run the study first")
    with read.open_for_reading(db_path) as db:
        sid = read.study_id(db, r.study.name)
        rows = agreement(db, sid, eval_langs=r.languages.evaluate) if sid is not None else []
    if not rows:
        raise WorkbenchError(
            f"study {r.study.name!r} has no human labels yet",
            "label responses in the TUI (Label screen), then rerun",
        )
    return [{**asdict(x), "percent_agreement": x.percent_agreement} for x in rows]


def print_agreement(rows: list[dict], fmt: str) -> None:
    """``workbench agreement``: one row per (rater pair, language), pooled first."""
    if fmt == "json":
        print(json.dumps(rows, indent=2))
        return
    if fmt == "csv":
        import csv

        w = csv.DictWriter(sys.stdout, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
        return
    from rich.console import Console
    from rich.table import Table

    t = Table(title="agreement (Cohen's kappa, 95% interval)", title_justify="left")
    for col in ("kind", "rater a", "rater b", "lang", "n", "agreed", "kappa", "95% CI", "excluded"):
        t.add_column(col, justify="right" if col in ("n", "agreed", "kappa", "excluded") else "left")
    for x in rows:
        k = "-" if x["kappa"] is None else f"{x['kappa']:.2f}"
        ci = "-" if x["kappa_low"] is None else f"[{x['kappa_low']:.2f}, {x['kappa_high']:.2f}]"
        t.add_row(
            x["kind"], escape_text(x["rater_a"]), escape_text(x["rater_b"]), x["lang"],
            str(x["n"]), str(x["agreed"]), k, ci, str(x["excluded"]),
        )  # fmt: skip
    Console().print(t)
