"""What runs on a worker: one task (a cell's stages that run together) on a copy of the study database.

The task's description is plain JSON (:func:`run_task_json`): the recipe as validated, the stage
registry's entries, the seed database to copy and where to publish the shard. The worker writes a
``started`` record (host, pid) to the shared folder so ``workbench status`` can say where it runs,
runs each stage through the runner's own unit function (the same skipping, error and hint handling
as a local run), and publishes its shard. Its events come back with the result.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import sqlite3
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path


def run_task_json(spec_json: str) -> str:
    """:func:`run_task` with its description and result as JSON text (what the engines transport)."""
    return json.dumps(run_task(json.loads(spec_json)))


def _safe(task_id: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in task_id)


def started_path(shared: Path, task_id: str) -> Path:
    """Where a worker records that it started a task (one file per task, rewritten by each attempt)."""
    return shared / "started" / f"{_safe(task_id)}.json"


def shard_path(shared: Path, task_id: str) -> Path:
    """Where a task's shard is published."""
    return shared / "shards" / f"{_safe(task_id)}.sqlite"


def run_task(spec: dict) -> dict:
    """Run one task; returns its outcomes, events, where it ran and the shard's path."""
    for k, v in spec.get("env", {}).items():
        os.environ[k] = v
    for p in reversed(spec.get("sys_path", [])):
        if p not in sys.path:
            sys.path.insert(0, p)
    from workbench import fsutil, registry
    from workbench.cells import cells
    from workbench.context import open_context
    from workbench.recipe.models import Recipe
    from workbench.runner import _failed_need, _quiet_libraries, _run_unit, blocked
    from workbench.store import shards

    _quiet_libraries()
    registry.use(spec["registry"])
    shared = Path(spec["shared_dir"])
    where = {"host": socket.gethostname(), "pid": os.getpid(), "started_at": time.time(), "attempt_of": spec["task_id"]}
    fsutil.atomic_write_json(started_path(shared, spec["task_id"]), where)

    recipe = Recipe.model_validate(spec["recipe"])
    recipe._toml = spec.get("toml", "")
    recipe._source = Path(spec["source"]) if spec.get("source") else None
    cell = next((c for c in cells(recipe) if c.id == spec["cell"]), None) if spec["cell"] else None
    events: list[str] = []
    outcomes: list[dict] = []
    scratch = Path(tempfile.mkdtemp(prefix="workbench-task-", dir=spec.get("scratch") or None))
    try:
        local = scratch / "study.sqlite"
        shutil.copyfile(spec["seed"], local)
        con = sqlite3.connect(local)
        try:
            base = shards.marks(con)
        finally:
            con.close()
        ctx = open_context(
            recipe,
            allow_downloads=spec.get("allow_downloads", False),
            emit=lambda e: events.append(e.to_json()),
            db_path=local,
        )
        try:
            all_cells = cells(recipe)
            failed: set[tuple[str, str]] = set()
            for stage in spec["stages"]:  # as a local run does: a unit whose input failed here is not run
                blocker = _failed_need(stage, cell, recipe, all_cells, failed)
                outcome = blocked(ctx.emit, stage, cell, blocker) if blocker else _run_unit(ctx, stage, cell)
                if outcome.status in ("failed", "blocked"):
                    failed.add((stage, outcome.unit))
                outcomes.append(asdict(outcome))
        finally:
            ctx.db.close()
        out = shards.extract(local, base, Path(spec["shard"]))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return {"task_id": spec["task_id"], "outcomes": outcomes, "events": events, "where": where, "shard": str(out)}
