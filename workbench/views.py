"""What the CLI prints for a plan, a study's status and its results (rich tables or JSON).

Kept apart from :mod:`workbench.cli` so the command definitions stay a thin shell; every table
iterates the stage registry, so a new stage shows up here without an edit.
"""

from __future__ import annotations

import json

from workbench.errors import WorkbenchError

STATUS_COLOURS = {
    "done": "green",
    "failed": "red",
    "running": "yellow",
    "interrupted": "magenta",
    "pending": "white",
    "skipped": "cyan",
    "-": "dim",
}


def show_plan(r, fmt: str) -> None:
    """The cells x stages grid and the rough estimates per stage."""
    from workbench import environment, registry
    from workbench.cells import cells
    from workbench.judges import coverage
    from workbench.plan import estimate, stages_of

    gpu = bool(environment.nvidia_gpus())
    all_cells = cells(r)
    ests = estimate(r, gpu)
    if fmt == "json":
        print(
            json.dumps(
                {
                    "study": r.study.name,
                    "machine": "gpu" if gpu else "cpu",
                    "stages": [
                        {"stage": s.name, "scope": s.scope, "needs": list(s.needs), "description": s.description}
                        for s in registry.stages()
                    ],
                    "cells": [{"cell": c.id, "stages": stages_of(c, r)} for c in all_cells],
                    "estimates": [e.__dict__ for e in ests],
                    "warnings": coverage.warnings(r),
                },
                indent=2,
            )
        )
        return
    from rich.console import Console
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
    est = Table(title=f"rough estimates on this machine ({'GPU' if gpu else 'CPU only'})", title_justify="left")
    for col in ("stage", "units", "time", "disk", "memory"):
        est.add_column(col)
    for e in ests:
        est.add_row(
            e.stage, str(e.units), duration(e.seconds), size(e.disk_bytes), f"{size(e.memory_bytes)} {e.memory_kind}"
        )
    console.print(est)
    for line in coverage.warnings(r):
        console.print(f"warning: {line}", style="yellow", soft_wrap=True)


def show_status(r, fmt: str) -> None:
    """Per unit of every stage: done, running, interrupted, failed or pending."""
    from rich.console import Console
    from rich.table import Table

    from workbench.runner import status_grid

    grid = status_grid(r)
    if fmt == "json":
        print(json.dumps(grid, indent=2))
        return
    console = Console()
    for stage, st in grid["study_stages"].items():
        console.print(
            f"{stage}: [{STATUS_COLOURS.get(st['status'], 'white')}]{st['status']}[/]"
            + (f" - {st['error']}" if st.get("error") else "")
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
    from workbench.store import open_study_db, read

    db_path = paths.study_db_path(r.study.name)
    if not db_path.exists():
        raise WorkbenchError(f"study {r.study.name!r} has no database yet ({db_path})", "run the study first")
    with open_study_db(db_path) as db:
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
