"""What a run is about to do, for the confirmation the TUI asks before starting one.

The stages and units come from the runner's own plan (:func:`workbench.plan.run_plan_for`, needs
resolved as ``workbench run --only`` resolves them), what is already done from the grid
(:func:`workbench.runner.status_grid`), and the time from the stages' estimates
(:func:`workbench.plan.estimate`, the numbers ``workbench plan`` prints), scaled to the units still to
do. Nothing here imports textual; it runs in a worker thread (the estimates may ask ``nvidia-smi``).
"""

from __future__ import annotations

from dataclasses import dataclass, field


def describe_run(only: str | None, cells: str | None) -> str:
    """The run in words: "the whole study", "stage judge", "cell m/es/s0-e1", "stage judge of cell ..."."""
    if only and cells:
        return f"stage {only} of cell {cells}"
    if only:
        return f"stage {only} for every cell" if "," not in only else f"stages {only}"
    if cells:
        return f"every stage of cell {cells}"
    return "the whole study"


@dataclass
class RunPreview:
    """The confirmation's content: what runs, per stage what is left and how long it may take."""

    what: str
    stages: list[str] = field(default_factory=list)  # one line per stage: units to do, time
    total: str = ""  # the rough time of the whole run on this machine
    notes: list[str] = field(default_factory=list)  # the plan's notes (needs added or missing)
    to_do: int = 0  # units not done yet (0: the run will skip everything)


def _status(grid: dict, stage: str, cell_id: str | None) -> str:
    if cell_id is None:
        return grid["study_stages"].get(stage, {}).get("status", "pending")
    for row in grid["cells"]:
        if row["cell"] == cell_id:
            return row["stages"].get(stage, {}).get("status", "-")
    return "pending"


def preview(recipe, grid: dict, only: str | None, cells_filter: str | None, gpu: bool) -> RunPreview:
    """What ``workbench run RECIPE [--only ONLY] [--cells CELLS]`` would do now, with its rough time.

    Raises :class:`~workbench.errors.WorkbenchError` for an ``--only`` or ``--cells`` the runner
    would refuse (an unknown stage, cells matching nothing).
    """
    from workbench.cells import cells, filter_cells
    from workbench.errors import WorkbenchError
    from workbench.plan import run_plan_for
    from workbench.views import duration

    selected = filter_cells(cells(recipe), cells_filter)
    if cells_filter and not selected:
        raise WorkbenchError(f"--cells: {cells_filter!r} matches no cell", "move the cursor onto a cell row")
    plan = run_plan_for(recipe, only, selected, lambda stage, cell: _status(grid, stage, cell and cell.id) == "done")
    estimates, problem = _estimates(recipe, gpu)
    out = RunPreview(describe_run(only, cells_filter), notes=list(plan.notes))
    seconds: list[float] = []
    unknown = False
    for stage, units in plan.stages:
        todo = [u for u in units if _status(grid, stage, u and u.id) != "done"]
        out.to_do += len(todo)
        e = estimates.get(stage)
        if not todo:
            out.stages.append(f"{stage}: all {len(units)} done (skipped)")
            continue
        if e is None or e.seconds is None or not e.units:
            unknown = True
            out.stages.append(f"{stage}: {len(todo)} of {len(units)} units to do, time unknown")
            continue
        s = e.seconds * len(todo) / e.units
        seconds.append(s)
        out.stages.append(f"{stage}: {len(todo)} of {len(units)} units to do, {duration(s)}")
    machine = "a GPU" if gpu else "CPU only"
    if problem:
        out.total = f"no estimate ({problem})"
    elif not out.to_do:
        out.total = "nothing to do: every unit is done, the run only checks"
    else:
        total = duration(sum(seconds)) if seconds else "?"
        out.total = f"{total}{' + unknown' if unknown and seconds else ''} on this machine ({machine}); rough"
    return out


def _estimates(recipe, gpu: bool) -> tuple[dict, str]:
    """The stages' estimates by name, or the reason there are none."""
    from workbench.errors import WorkbenchError
    from workbench.plan import estimate

    try:
        return {e.stage: e for e in estimate(recipe, gpu)}, ""
    except WorkbenchError as exc:  # e.g. a model whose size cannot be read: the run itself may still work
        return {}, exc.message
