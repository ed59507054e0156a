"""Run a study's plan: stages in order, skipping work already complete, reporting progress events.

The runner knows nothing of how progress is drawn: it calls ``emit`` with plain dicts (``stage_start``,
``progress``, ``log``, ``stage_end``, ...) that the CLI renders as progress bars, ``--events
jsonl`` prints for other processes (the TUI), and tests collect.
"""

from __future__ import annotations

import difflib
import importlib
import os
from collections.abc import Callable
from dataclasses import dataclass, field

from workbench.context import Event, StageContext, open_context
from workbench.errors import WorkbenchError
from workbench.plan import STAGES, cells, filter_cells, stages_of
from workbench.process import pid_alive
from workbench.recipe import Recipe


@dataclass
class Outcome:
    stage: str
    unit: str
    status: str  # done, skipped, failed
    reason: str = ""


@dataclass
class Summary:
    outcomes: list[Outcome] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    @property
    def failed(self) -> bool:
        return self.count("failed") > 0


def parse_stages(only: str | None) -> list[str]:
    """The stages named in ``--only`` (comma-separated), in plan order; all stages when empty."""
    if not only:
        return list(STAGES)
    wanted = [s.strip() for s in only.split(",") if s.strip()]
    for s in wanted:
        if s not in STAGES:
            close = difflib.get_close_matches(s, STAGES, n=1)
            extra = f"; did you mean {close[0]!r}?" if close else ""
            err = WorkbenchError(f"--only: unknown stage {s!r}{extra}", f"stages: {', '.join(STAGES)}")
            err.exit_code = 2
            raise err
    return [s for s in STAGES if s in wanted]


def run_plan(
    recipe: Recipe,
    *,
    only: str | None = None,
    cells_filter: str | None = None,
    allow_downloads: bool = False,
    emit: Callable[[Event], None] | None = None,
) -> Summary:
    """Run the stages of ``recipe`` in order; per-cell failures do not stop other cells."""
    emit = emit or (lambda e: None)
    stages = parse_stages(only)
    if "prepare" not in stages and any(s != "results" for s in stages):
        stages.insert(0, "prepare")  # cheap, skipped when done, and every model stage reads its output
    selected = filter_cells(cells(recipe), cells_filter)
    if cells_filter and not selected:
        raise WorkbenchError(f"--cells: {cells_filter!r} matches no cell", "`workbench plan RECIPE` lists the cell ids")
    # Library progress bars (transformers, gguf, hub) would fight with ours; their work shows as our events.
    for var in ("TQDM_DISABLE", "HF_HUB_DISABLE_PROGRESS_BARS", "TRANSFORMERS_NO_ADVISORY_WARNINGS"):
        os.environ.setdefault(var, "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    import warnings

    warnings.filterwarnings("ignore", category=FutureWarning, module=r"(transformers|peft)\.")
    ctx = open_context(recipe, allow_downloads=allow_downloads, emit=emit)
    summary = Summary()
    try:
        for stage in stages:
            units = _units(stage, recipe, selected)
            emit({"event": "stage_start", "stage": stage, "total": len(units)})
            for cell_id, unit in units:
                summary.outcomes.append(_run_unit(ctx, stage, cell_id, unit))
            emit(
                {
                    "event": "stage_end",
                    "stage": stage,
                    "failed": sum(1 for o in summary.outcomes if o.stage == stage and o.status == "failed"),
                }
            )
    finally:
        ctx.db.close()
    return summary


def _units(stage: str, recipe: Recipe, selected) -> list[tuple[str | None, str]]:
    if stage in ("prepare", "results"):
        return [(None, "study")]
    return [(c.id, c.id) for c in selected if stage in stages_of(c, recipe)]


def _run_unit(ctx: StageContext, stage: str, cell_id: str | None, unit: str) -> Outcome:
    module = importlib.import_module(f"workbench.stages.{stage}")
    key = module.input_key(ctx) if cell_id is None else module.input_key(ctx, cell_id)
    if ctx.db.done_run(ctx.study_id, stage, cell_id, unit, key):
        ctx.emit({"event": "skipped", "stage": stage, "unit": unit, "reason": "already done"})
        return Outcome(stage, unit, "skipped", "already done")
    run_id = ctx.db.start_stage_run(
        ctx.study_id,
        stage,
        cell_id=cell_id,
        unit=unit,
        input_key=key,
        environment_id=ctx.environment_id,
        recipe_hash=ctx.recipe_hash,
        pid=os.getpid(),
    )
    try:
        details = module.run(ctx) if cell_id is None else module.run(ctx, cell_id)
    except WorkbenchError as exc:
        ctx.db.finish_stage_run(run_id, "failed", error=exc.message, hint=exc.hint)
        ctx.emit({"event": "failed", "stage": stage, "unit": unit, "error": exc.message, "hint": exc.hint})
        return Outcome(stage, unit, "failed", exc.message)
    except KeyboardInterrupt:
        ctx.db.finish_stage_run(run_id, "failed", error="interrupted", hint="rerun to continue")
        raise
    except OSError as exc:
        if exc.errno != 28:  # ENOSPC; other OS errors are reported like any unexpected error below
            return _unexpected(ctx, run_id, stage, unit, exc)
        msg = f"no space left on device while writing {exc.filename or ctx.models_dir}"
        hint = "free disk space (or point WORKBENCH_HOME elsewhere) and rerun; finished work is kept"
        ctx.db.finish_stage_run(run_id, "failed", error=msg, hint=hint)
        ctx.emit({"event": "failed", "stage": stage, "unit": unit, "error": msg, "hint": hint})
        return Outcome(stage, unit, "failed", msg)
    except Exception as exc:  # a bug or an unexpected library error: keep it, let other cells go on
        return _unexpected(ctx, run_id, stage, unit, exc)
    ctx.db.finish_stage_run(run_id, "done", details=details if isinstance(details, dict) else {})
    ctx.emit({"event": "done", "stage": stage, "unit": unit})
    return Outcome(stage, unit, "done")


def _unexpected(ctx: StageContext, run_id: int, stage: str, unit: str, exc: BaseException) -> Outcome:
    import traceback

    msg = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
    hint = "unexpected error: the stage run's details keep the traceback; please report it"
    ctx.db.finish_stage_run(
        run_id, "failed", error=msg, hint=hint, details={"traceback": traceback.format_exc(limit=20)}
    )
    ctx.emit({"event": "failed", "stage": stage, "unit": unit, "error": msg, "hint": hint})
    return Outcome(stage, unit, "failed", msg)


def status_grid(recipe: Recipe) -> dict:
    """The study's state: per cell and stage the newest run's status (or pending)."""
    from workbench import paths
    from workbench.store import open_study_db

    db_path = paths.study_db_path(recipe.study.name)
    runs: dict[tuple[str, str | None], dict] = {}
    if db_path.exists():
        with open_study_db(db_path) as db:
            study = list(db.query("SELECT id FROM studies WHERE name = ?", [recipe.study.name]))
            if study:
                for r in db.latest_stage_runs(study[0]["id"]):
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

    return {
        "study": recipe.study.name,
        "database": str(db_path),
        "study_stages": {s: state(s, None) for s in ("prepare", "results")},
        "cells": [
            {
                "cell": c.id,
                "model": c.model,
                "finetune_lang": c.finetune_lang,
                "seed": c.seed,
                "epochs": c.epochs,
                "stages": {
                    s: (state(s, c.id) if s in stages_of(c, recipe) else {"status": "-"})
                    for s in STAGES
                    if s not in ("prepare", "results")
                },
            }
            for c in cells(recipe)
        ],
    }
