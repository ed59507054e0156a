"""The coordinator of a run whose units go to an engine (Ray, Slurm): tasks, their order, shards home.

A *task* is what one worker runs: a cell's unit of one stage, together with the units of stages
that declare ``runs_with_input`` (``export`` runs with its cell's fine-tune or alignment: it reads
the weights they just wrote, on the same machine). Study-scoped units (``prepare``, ``results``) run
here, in the coordinator. A task is handed to the engine once every task it reads from has
finished; before each hand-off the coordinator writes a seed (a copy of the study database with
everything merged so far) that the workers copy, and merges each finished task's shard. A task
whose engine lost it (a dead worker, a pre-empted job) is handed over again, ``[run] retries``
times at most; a unit that fails keeps its error and hint, as in a local run.

The units' state as the engine sees it (queued, running where, done, failed) is kept in
``runs/<stamp>.units.json`` beside the run's events, which ``workbench status`` reads.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from workbench import fsutil, paths, registry
from workbench.cells import Cell, cells
from workbench.events import Emit, Log, RunEnded, RunStarted, StageEnded, StageStarted, UnitStarted
from workbench.follow import units_state_path
from workbench.recipe import Recipe
from workbench.stages.base import unit_name

POLL_S = 1.0


@dataclass
class Task:
    stages: list[str]
    cell: Cell | None
    deps: set[str] = field(default_factory=set)
    attempts: int = 0

    @property
    def id(self) -> str:
        return f"{'+'.join(self.stages)}:{unit_name(self.cell)}"

    @property
    def remote(self) -> bool:
        return self.cell is not None


@dataclass
class Resources:
    """What a task asks of the engine, from the plan's estimates."""

    cpus: int = 1
    gpus: int = 0
    memory_bytes: float | None = None
    seconds: float | None = None


def build_tasks(stages: list[tuple[str, list[Cell | None]]], recipe: Recipe) -> list[Task]:
    """The run's tasks in plan order, each with the tasks it reads from (within this run)."""
    from workbench.plan import upstream_units

    all_cells = cells(recipe)
    tasks: list[Task] = []
    of_unit: dict[tuple[str, str], Task] = {}
    reads: dict[int, list[Task]] = defaultdict(list)
    for name, units in stages:
        stage = registry.get(name)
        for cell in units:
            host = None
            if stage.runs_with_input and cell is not None:  # with the same cell's latest need in this run
                host = next((of_unit[(n, cell.id)] for n in reversed(stage.needs) if (n, cell.id) in of_unit), None)
            task = host or Task([], cell)
            if host is None:
                tasks.append(task)
            task.stages.append(name)
            of_unit[(name, unit_name(cell))] = task
            for need in stage.needs:
                for up in upstream_units(need, cell, recipe, all_cells):
                    dep = of_unit.get((need, unit_name(up)))
                    if dep is not None and dep is not task and all(dep is not d for d in reads[id(task)]):
                        reads[id(task)].append(dep)
    for task in tasks:  # by id once every task has its stages (a joined stage changes its host's id)
        task.deps = {d.id for d in reads[id(task)]}
    return tasks


def resources(task: Task, recipe: Recipe, gpu) -> Resources:
    """The task's needs from its stages' estimates on a machine of class ``gpu``: the most memory of
    its stages, a GPU when one of them uses VRAM, and their summed time."""
    from workbench import estimates as est

    res = Resources()
    seconds = []
    for name in task.stages:
        e = registry.get(name).estimate(recipe, [task.cell], est.gpu_class(gpu))
        if e is None:
            continue
        seconds.append(e.seconds)
        if e.memory_bytes:
            res.memory_bytes = max(res.memory_bytes or 0, e.memory_bytes)
        if e.memory_kind == "VRAM":
            res.gpus = 1
    res.seconds = est.total(seconds)
    return res


def estimate_wall(recipe: Recipe, gpu, workers: int) -> dict:
    """Wall time of the whole grid with ``workers`` GPUs (or worker processes): each task starts when the
    tasks it reads from have finished and a worker is free (list scheduling in plan order), study
    units on the coordinator; from the same per-unit estimates as ``workbench plan``."""
    from workbench.plan import run_plan_for

    plan = run_plan_for(recipe, None, cells(recipe), lambda s, c: False)
    tasks = build_tasks(plan.stages, recipe)
    finish: dict[str, float] = {}
    free = [0.0] * max(1, workers)
    unknown = []
    serial = 0.0
    for t in tasks:
        secs = resources(t, recipe, gpu).seconds
        if secs is None:
            unknown.append(t.id)
            secs = 0.0
        serial += secs
        ready = max((finish[d] for d in t.deps), default=0.0)
        if t.remote:
            i = min(range(len(free)), key=lambda k: max(free[k], ready))
            start = max(free[i], ready)
            free[i] = start + secs
        else:  # the coordinator runs a study unit when no task is out, and hands none out meanwhile
            start = max([ready, *finish.values(), *free])
            free = [start + secs] * len(free)
        finish[t.id] = start + secs
    wall = max(finish.values(), default=0.0)
    return {"workers": workers, "tasks": len(tasks), "seconds": wall, "serial_seconds": serial, "unknown": unknown}


class UnitsState:
    """The engine's view of a run's tasks, kept in ``runs/<stamp>.units.json`` (rewritten atomically)."""

    def __init__(self, path: Path, executor: str):
        self.path = path
        self.data = {"executor": executor, "pid": os.getpid(), "units": {}}

    def set(self, task: Task, state: str, **info) -> None:
        entry = self.data["units"].setdefault(task.id, {"stages": task.stages, "unit": unit_name(task.cell)})
        entry.update(state=state, attempts=task.attempts, updated_at=time.time(), **info)
        fsutil.atomic_write_json(self.path, self.data)


def shared_dir(recipe: Recipe) -> Path:
    """Where seeds, shards and started records go (``[run] shared_dir``, else ``studies/<study>.shards``)."""
    d = recipe.run.shared_dir
    if d is None:
        return paths.study_db_path(recipe.study.name).with_suffix(".shards")
    d = Path(d)
    return (d if d.is_absolute() else paths.workspace() / d) / recipe.study.name


def _spec(task: Task, recipe: Recipe, seed: Path, shared: Path, allow_downloads: bool) -> dict:
    from workbench.executors import worker

    keep = ("WORKBENCH_", "HF_", "TRANSFORMERS_", "TQDM_", "FAKE_RUNNER_", "XDG_CACHE_HOME", "PYTHONPATH")
    return {
        "task_id": task.id,
        "stages": task.stages,
        "cell": task.cell.id if task.cell else None,
        "recipe": recipe.model_dump(mode="json"),
        "toml": recipe.toml_text,
        "source": str(recipe.source) if recipe.source else None,
        "allow_downloads": allow_downloads,
        "registry": registry.entries(),
        "sys_path": [p for p in sys.path if p and Path(p).is_dir() and "site-packages" not in p],
        "env": {k: v for k, v in os.environ.items() if k.startswith(keep)}
        | {"WORKBENCH_HOME": str(paths.workspace()), "WORKBENCH_CACHE": str(paths.cache_dir())},
        "seed": str(seed),
        "shard": str(worker.shard_path(shared, task.id)),
        "shared_dir": str(shared),
    }


def run_remote(recipe: Recipe, executor, plan, ctx, emit: Emit, events_path: Path, allow_downloads: bool):
    """Run ``plan``'s units: study units here, cell tasks through ``executor``; returns the Summary."""
    from workbench.events import from_json
    from workbench.runner import Outcome, Summary, _failed, _run_unit, blocked
    from workbench.store import shards

    summary = Summary(notes=plan.notes)
    emit(
        RunStarted(
            study=recipe.study.name, pid=os.getpid(), stages={s: len(u) for s, u in plan.stages}, notes=plan.notes
        )
    )
    for name, units in plan.stages:
        emit(StageStarted(stage=name, total=len(units)))
    tasks = build_tasks(plan.stages, recipe)
    shared = shared_dir(recipe)
    shared.mkdir(parents=True, exist_ok=True)
    state = UnitsState(units_state_path(events_path), executor.name)
    db_path = Path(ctx.db.path)
    status: dict[str, str] = {}  # task id -> done | failed
    pending = list(tasks)
    running: dict[object, Task] = {}
    seeds = 0
    gpu = executor.gpu_class

    def record(task: Task, outcomes: list[Outcome]) -> None:
        summary.outcomes.extend(outcomes)
        status[task.id] = "failed" if any(o.status in ("failed", "blocked") for o in outcomes) else "done"

    def give_up(task: Task, message: str, hint: str) -> None:
        """Record the task's units failed (in the study database, so `status` shows why)."""
        outs = []
        for name in task.stages:
            run_id = ctx.db.start_stage_run(
                ctx.study_id,
                name,
                cell_id=task.cell.id if task.cell else None,
                unit=unit_name(task.cell),
                environment_id=ctx.environment_id,
                recipe_hash=ctx.recipe_hash,
                pid=os.getpid(),
            )
            outs.append(_failed(ctx, run_id, name, unit_name(task.cell), message, hint))
        record(task, outs)
        state.set(task, "failed", error=message)

    try:
        while pending or running:
            ready: list[Task] = []
            ran_here = False
            for task in list(pending):
                if any(status.get(d) == "failed" for d in task.deps):
                    pending.remove(task)
                    blocker = next(d for d in task.deps if status.get(d) == "failed")
                    record(task, [blocked(emit, name, task.cell, blocker) for name in task.stages])
                elif all(d in status for d in task.deps):
                    if task.remote:
                        pending.remove(task)
                        ready.append(task)
                    elif not running:  # a study unit reads everything merged so far: run it when quiet
                        pending.remove(task)
                        record(task, [_run_unit(ctx, name, task.cell) for name in task.stages])
                        ran_here = True
                        break  # what it wrote may change what is ready
            if ran_here and not ready:
                continue
            if ready:
                seeds += 1
                seed = shards.snapshot(db_path, seed_of(shared, seeds))
                items = []
                for task in ready:
                    task.attempts += 1
                    items.append((_spec(task, recipe, seed, shared, allow_downloads), resources(task, recipe, gpu)))
                for task, handle in zip(ready, executor.submit_many(items), strict=True):
                    running[handle] = task
                    state.set(task, "queued", job=executor.describe(handle))
                    for name in task.stages:
                        emit(UnitStarted(stage=name, unit=unit_name(task.cell)))
                continue
            if not running:
                if pending:  # cannot happen with the registry's order; say so instead of spinning
                    for task in pending:
                        give_up(task, "never became ready (a circular need)", "check the stages' needs")
                    pending.clear()
                break
            for handle, result, error in executor.wait(list(running), POLL_S):
                task = running.pop(handle)
                if error is not None:
                    if task.attempts <= recipe.run.retries:
                        emit(
                            Log(
                                message=f"{task.id}: {error}; handing it over again "
                                f"(attempt {task.attempts + 1} of {recipe.run.retries + 1})",
                                level="warning",
                            )
                        )
                        task.attempts += 1
                        spec = _spec(task, recipe, seed_of(shared, seeds), shared, allow_downloads)
                        new = executor.submit(spec, resources(task, recipe, gpu))
                        running[new] = task
                        state.set(task, "queued", job=executor.describe(new), error=str(error))
                        continue
                    give_up(
                        task,
                        f"{executor.name}: {error} (after {task.attempts} attempts)",
                        "the engine lost the task each time: check its logs; rerun to retry",
                    )
                    continue
                try:
                    stats = shards.merge(db_path, Path(result["shard"]))
                except shards.ShardError as exc:
                    give_up(task, exc.message, exc.hint or "rerun")
                    continue
                for line in result["events"]:
                    event = from_json(line)
                    if not isinstance(event, UnitStarted):  # said when it was handed over
                        emit(event)
                outs = [Outcome(**o) for o in result["outcomes"]]
                record(task, outs)
                Path(result["shard"]).unlink(missing_ok=True)
                state.set(
                    task,
                    status[task.id],
                    where=result["where"]["host"],
                    pid=result["where"]["pid"],
                    merged_rows=stats.total,
                )
            _note_started(shared, running, state)
    finally:
        executor.close()
        import shutil

        for folder in ("seeds", "started"):  # shards are removed as they are merged; a failed merge's stays
            shutil.rmtree(shared / folder, ignore_errors=True)
    for name, _units in plan.stages:
        failed = sum(1 for o in summary.outcomes if o.stage == name and o.status == "failed")
        emit(StageEnded(stage=name, failed=failed))
    emit(RunEnded(done=summary.count("done"), skipped=summary.count("skipped"), failed=summary.count("failed")))
    return summary


def seed_of(shared: Path, n: int) -> Path:
    """The ``n``-th seed of a run (a retried task reads the newest: everything merged so far)."""
    return shared / "seeds" / f"seed-{n:04d}.sqlite"


def _note_started(shared: Path, running: dict, state: UnitsState) -> None:
    """Mark tasks whose worker has said it started as running, with where."""
    from workbench.executors import worker

    for task in running.values():
        entry = state.data["units"].get(task.id, {})
        if entry.get("state") != "queued":
            continue
        try:
            where = json.loads(worker.started_path(shared, task.id).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if where.get("started_at", 0) >= entry.get("updated_at", 0) - 1:
            state.set(task, "running", where=where.get("host"), pid=where.get("pid"))
