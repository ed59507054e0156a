"""Run a study's plan: the registry's stages in order, skipping work already complete, emitting events.

The runner knows nothing of how progress is drawn: it emits typed events (:mod:`workbench.events`)
that ``workbench run`` renders as progress bars, ``--events jsonl`` prints for other processes (the
TUI), and tests collect.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from workbench import registry, runlock
from workbench.cells import Cell, cells, filter_cells
from workbench.context import StageContext, open_context
from workbench.errors import WorkbenchError
from workbench.events import Emit, RunEnded, RunStarted, StageEnded, StageStarted, UnitEnded, UnitStarted
from workbench.plan import parse_stages, run_plan_for
from workbench.process import pid_alive
from workbench.recipe import Recipe
from workbench.stages.base import unit_name
from workbench.store import read

__all__ = ["Outcome", "Summary", "parse_stages", "run_plan", "status_grid"]


@dataclass
class Outcome:
    stage: str
    unit: str
    status: str  # done, skipped, failed, blocked (not run: an input failed in this run)
    reason: str = ""
    hint: str | None = None
    exit_code: int = 1  # of a failure: the error class's (2 for bad data or recipes)


@dataclass
class Summary:
    outcomes: list[Outcome] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    @property
    def failed(self) -> bool:
        return self.count("failed") > 0


def _quiet_libraries() -> None:
    """Library progress bars (transformers, gguf, hub) would fight with ours; their work shows as our events."""
    import warnings

    for var in ("TQDM_DISABLE", "HF_HUB_DISABLE_PROGRESS_BARS", "TRANSFORMERS_NO_ADVISORY_WARNINGS"):
        os.environ.setdefault(var, "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    warnings.filterwarnings("ignore", category=FutureWarning, module=r"(transformers|peft)\.")
    import logging

    # bitsandbytes (imported by peft) logs on CPUs with AVX-512 BF16 that it could not fetch an optional
    # kernel from the hub; the workbench never fetches it and its fallback is the one we measured
    logging.getLogger("bitsandbytes.backends.cpu.ops").setLevel(logging.ERROR)


def run_plan(
    recipe: Recipe,
    *,
    only: str | None = None,
    cells_filter: str | None = None,
    allow_downloads: bool = False,
    emit: Emit | None = None,
    events_file: Path | None = None,
    executor: str | None = None,
    workers: int | None = None,
) -> Summary:
    """Run the registry's stages (or those of ``only``) in order; per-cell failures do not stop other cells.

    Holds the study's run lock throughout (:class:`workbench.runlock.StudyBusy` when another process
    runs the study) and appends every event, as a JSON line, to ``events_file`` (default: a new
    ``runs/<stamp>.events.jsonl``), so ``workbench status --follow`` and the TUI can follow any run.

    ``executor`` (default: the recipe's ``[run] executor``) sends the cell units to a Ray cluster or
    Slurm (:mod:`workbench.executors.coordinator`); ``workers`` sizes a local Ray cluster.
    """
    parse_stages(only)  # an unknown stage is a usage error before anything is opened
    selected = filter_cells(cells(recipe), cells_filter)
    if cells_filter and not selected:
        from workbench.errors import UsageError

        raise UsageError(f"--cells: {cells_filter!r} matches no cell", "`workbench plan RECIPE` lists the cell ids")
    study = recipe.study.name
    events_path = Path(events_file) if events_file else runlock.new_events_path(study)
    hint = str(recipe.source) if recipe.source else "RECIPE"
    with runlock.acquire(study, events=events_path, recipe_hint=hint):
        events_path.parent.mkdir(parents=True, exist_ok=True)
        with open(events_path, "a", encoding="utf-8") as log:

            def tee(event) -> None:
                log.write(event.to_json() + "\n")
                log.flush()
                if emit is not None:
                    emit(event)

            return _run_locked(
                recipe, only, selected, allow_downloads, tee, executor or recipe.run.executor, workers, events_path
            )


def _run_locked(
    recipe: Recipe,
    only: str | None,
    selected: list[Cell],
    allow_downloads: bool,
    emit: Emit,
    executor: str = "local",
    workers: int | None = None,
    events_path: Path | None = None,
) -> Summary:
    _quiet_libraries()
    engine = None
    if executor != "local":  # reach the engine before anything is written
        from workbench.executors import engines

        engine = engines.make(executor, recipe, workers=workers)
    ctx = open_context(recipe, allow_downloads=allow_downloads, emit=emit)
    summary = Summary()
    try:
        plan = run_plan_for(recipe, only, selected, lambda stage, cell: _done(ctx, stage, cell) is not None)
        if engine is not None:
            from workbench.executors.coordinator import run_remote

            return run_remote(recipe, engine, plan, ctx, emit, events_path, allow_downloads)
        summary.notes = plan.notes
        emit(
            RunStarted(
                study=recipe.study.name, pid=os.getpid(), stages={s: len(u) for s, u in plan.stages}, notes=plan.notes
            )
        )
        all_cells = cells(recipe)
        failed_units: set[tuple[str, str]] = set()
        for name, units in plan.stages:
            emit(StageStarted(stage=name, total=len(units)))
            for cell in units:
                blocker = _failed_need(name, cell, recipe, all_cells, failed_units)
                if blocker is not None:  # its input failed in this run: nothing to run it on
                    outcome = blocked(emit, name, cell, blocker)
                else:
                    outcome = _run_unit(ctx, name, cell)
                if outcome.status in ("failed", "blocked"):
                    failed_units.add((name, outcome.unit))
                summary.outcomes.append(outcome)
            failed = sum(1 for o in summary.outcomes if o.stage == name and o.status == "failed")
            emit(StageEnded(stage=name, failed=failed))
        emit(RunEnded(done=summary.count("done"), skipped=summary.count("skipped"), failed=summary.count("failed")))
    finally:
        ctx.db.close()
    return summary


def blocked(emit: Emit, stage: str, cell: Cell | None, blocker: str) -> Outcome:
    """A unit not run because ``blocker`` (``"<stage> <unit>"``), an input of it, failed in this run."""
    reason = f"not run: {blocker} failed"
    emit(UnitEnded(stage=stage, unit=unit_name(cell), status="skipped", reason=reason))
    return Outcome(stage, unit_name(cell), "blocked", reason)


def _failed_need(
    name: str, cell: Cell | None, recipe: Recipe, all_cells: list[Cell], failed: set[tuple[str, str]]
) -> str | None:
    """``"<need> <unit>"`` for the first unit this one reads that failed (or was blocked) in this run."""
    from workbench.plan import upstream_units

    for need in registry.get(name).needs:
        for up in upstream_units(need, cell, recipe, all_cells):
            if (need, unit_name(up)) in failed:
                return f"{need} {unit_name(up)}"
    return None


def _done(ctx: StageContext, stage: str, cell: Cell | None) -> dict | None:
    key = registry.get(stage).input_key(ctx, cell)
    return read.done_run(ctx.db, ctx.study_id, stage, cell.id if cell else None, unit_name(cell), key)


def _run_unit(ctx: StageContext, name: str, cell: Cell | None) -> Outcome:
    stage = registry.get(name)
    unit = unit_name(cell)
    cell_id = cell.id if cell else None
    key = stage.input_key(ctx, cell)
    if read.done_run(ctx.db, ctx.study_id, name, cell_id, unit, key):
        ctx.emit(UnitEnded(stage=name, unit=unit, status="skipped", reason="already done"))
        return Outcome(name, unit, "skipped", "already done")
    run_id = ctx.db.start_stage_run(
        ctx.study_id,
        name,
        cell_id=cell_id,
        unit=unit,
        input_key=key,
        environment_id=ctx.environment_id,
        recipe_hash=ctx.recipe_hash,
        pid=os.getpid(),
    )
    ctx.emit(UnitStarted(stage=name, unit=unit))
    try:
        details = stage.run(ctx, cell)
    except WorkbenchError as exc:
        return _failed(ctx, run_id, name, unit, exc.message, exc.hint, exit_code=exc.exit_code)
    except KeyboardInterrupt:
        ctx.db.finish_stage_run(run_id, "failed", error="interrupted", hint="rerun to continue")
        raise
    except OSError as exc:
        if exc.errno == 28:  # ENOSPC
            msg = f"no space left on device while writing {exc.filename or ctx.models_dir}"
            hint = "free disk space (or point WORKBENCH_HOME elsewhere) and rerun; finished work is kept"
            return _failed(ctx, run_id, name, unit, msg, hint)
        if exc.filename is None:  # not about a path the user can fix: keep the traceback
            return _unexpected(ctx, run_id, name, unit, exc)
        import traceback

        from workbench.errors import from_os_error

        err = from_os_error(exc)  # a read-only folder, a permission, a folder where a file should be
        return _failed(ctx, run_id, name, unit, err.message, err.hint, {"traceback": traceback.format_exc(limit=20)})
    except Exception as exc:  # a bug or an unexpected library error: keep it, let other cells go on
        return _unexpected(ctx, run_id, name, unit, exc)
    ctx.db.finish_stage_run(run_id, "done", details=details if isinstance(details, dict) else {})
    ctx.emit(UnitEnded(stage=name, unit=unit, status="done"))
    return Outcome(name, unit, "done")


def _failed(
    ctx: StageContext,
    run_id: int,
    stage: str,
    unit: str,
    msg: str,
    hint: str | None,
    details: dict | None = None,
    *,
    exit_code: int = 1,
) -> Outcome:
    ctx.db.finish_stage_run(run_id, "failed", error=msg, hint=hint, details=details)
    ctx.emit(UnitEnded(stage=stage, unit=unit, status="failed", error=msg, hint=hint))
    return Outcome(stage, unit, "failed", msg, hint=hint, exit_code=exit_code)


def _unexpected(ctx: StageContext, run_id: int, stage: str, unit: str, exc: BaseException) -> Outcome:
    import traceback

    msg = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
    hint = "unexpected error: the stage run's details keep the traceback; please report it"
    return _failed(ctx, run_id, stage, unit, msg, hint, {"traceback": traceback.format_exc(limit=20)})


def status_grid(recipe: Recipe) -> dict:
    """The study's state: per unit of every registered stage, the newest run's status (or pending)."""
    from workbench import paths

    db_path = paths.study_db_path(recipe.study.name)
    runs: dict[tuple[str, str | None], dict] = {}
    if db_path.exists():
        with read.open_for_reading(db_path) as db:  # read-only workspaces can be read too
            sid = read.study_id(db, recipe.study.name)
            if sid is not None:
                for r in read.latest_stage_runs(db, sid):
                    runs[(r["stage"], r["cell_id"])] = r

    def state(stage: str, cell_id: str | None) -> dict:
        r = runs.get((stage, cell_id))
        if r is None:
            return {"status": "pending"}
        status = r["status"]
        if status == "running" and r.get("pid") and not pid_alive(r["pid"]):
            status = "interrupted"
        return {
            "status": status,
            "error": r.get("error"),
            "hint": r.get("hint"),
            "started_at": r.get("started_at"),
            "finished_at": r.get("finished_at"),
        }

    from workbench import follow
    from workbench.judges import coverage

    live = follow.live(recipe.study.name)
    remote = {}  # (stage, cell id) -> the engine's state of a unit out on a worker, not merged yet
    for task in ((live or {}).get("remote") or {}).get("units", {}).values():
        if task.get("state") in ("queued", "running"):
            for s in task["stages"]:
                remote[(s, task["unit"])] = {
                    "status": task["state"],
                    "where": task.get("where") or task.get("job"),
                    "attempts": task.get("attempts"),
                }

    def state_of(stage: str, cell_id: str) -> dict:
        return remote.get((stage, cell_id)) or state(stage, cell_id)

    cell_stages = registry.of_scope("cell")
    return {
        "study": recipe.study.name,
        "database": str(db_path),
        "live": live,
        "warnings": coverage.warnings(recipe),
        "study_stages": {
            s.name: state(s.name, None) if s.units(recipe, []) else {"status": "-"} for s in registry.of_scope("study")
        },
        "cells": [
            {
                "cell": c.id,
                "model": c.model,
                "finetune_lang": c.finetune_lang,
                "seed": c.seed,
                "epochs": c.epochs,
                "stages": {
                    s.name: (state_of(s.name, c.id) if s.applies_to(c, recipe) else {"status": "-"})
                    for s in cell_stages
                },
            }
            for c in cells(recipe)
        ],
    }
