"""Follow a study's run from anywhere: what it does now (for ``status``) and its events as they come.

Every run appends its events to ``runs/<stamp>.events.jsonl`` and names that file in the study's run
lock (:mod:`workbench.runlock`), whoever started it: the CLI, ``make demo`` or the TUI. This module
reads that file and folds it into :class:`workbench.events.RunState`, the same fold the TUI and
``workbench run``'s progress bars use, so all three say the same thing about the same run.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from workbench import runlock
from workbench.events import Event, RunState, UnitStarted, from_json


class EventTail:
    """Reads the events appended to a JSON-lines file since the last call (a partial last line waits)."""

    def __init__(self, path: Path):
        self.path = path
        self.offset = 0
        self._partial = b""

    def read(self) -> list[Event]:
        """The typed events of the complete lines written since the last call (a non-JSON line is a Log)."""
        try:
            with open(self.path, "rb") as f:
                f.seek(self.offset)
                chunk = f.read()
        except OSError:
            return []
        if not chunk:
            return []
        self.offset += len(chunk)
        lines = (self._partial + chunk).split(b"\n")
        self._partial = lines.pop()
        return [from_json(line) for line in lines if line.strip()]


def last_events_file(study: str) -> Path | None:
    """The newest event file of the study's runs (live or finished), if any run wrote one."""
    folder = runlock.runs_dir(study)
    if not folder.is_dir():
        return None
    files = sorted(folder.glob("*.events.jsonl"))
    return files[-1] if files else None


def fold(path: Path | None) -> tuple[RunState, str | None]:
    """The run state folded from an event file, and the unit that started last and has not ended."""
    state = RunState()
    current: str | None = None
    if path is None:
        return state, None
    for ev in EventTail(path).read():
        state.apply(ev)
        if isinstance(ev, UnitStarted):
            current = f"{ev.stage} {ev.unit}"
    if current is not None:
        stage, unit = current.split(" ", 1)
        if state.statuses.get((stage, unit)) != "running":
            current = None
    return state, current


def describe(state: RunState, current: str | None, now: float | None = None) -> dict[str, Any]:
    """What a run is doing, as plain data: stage, stage units x/N, the unit in flight with its step x/N,
    elapsed seconds and ETA seconds (None where the events do not say yet)."""
    now = now or time.time()
    out: dict[str, Any] = {"stage": state.current_stage, "unit": None, "stage_done": None, "stage_total": None}
    sp = state.stages.get(state.current_stage) if state.current_stage else None
    if sp is not None:
        out.update(
            stage_done=sp.done,
            stage_total=sp.total,
            elapsed_s=round(now - sp.started, 1) if sp.started else None,
            eta_s=round(sp.eta(), 1) if sp.eta() is not None else None,
        )
    if current:
        stage, unit = current.split(" ", 1)
        out["unit"] = unit
        up = state.unit_progress.get((stage, unit))
        if up is not None:
            out.update(step=up.done, steps=up.total, what=up.what, unit_eta_s=up.eta)
            if "loss" in up.metrics:
                out["loss"] = up.metrics["loss"]
    if state.ended is not None:
        out["ended"] = {"done": state.ended.done, "skipped": state.ended.skipped, "failed": state.ended.failed}
    return out


def units_state_path(events: Path) -> Path:
    """Where a run with an executor keeps its units as the engine sees them, beside its events."""
    events = Path(events)
    return events.with_name(events.name.replace(".events.jsonl", ".units.json"))


def remote_units(events: Path | str | None) -> dict[str, Any] | None:
    """The units state of the run writing ``events`` (executor, and per task: stages, unit, state
    queued | running | done | failed, where, job, attempts), or None for a local run."""
    if not events:
        return None
    import json

    try:
        return json.loads(units_state_path(Path(events)).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def live(study: str) -> dict[str, Any] | None:
    """The live run of ``study`` (holder and progress, and its remote units), or None when nothing runs it."""
    h = runlock.holder(study)
    if h is None:
        return None
    state, current = fold(h.events)
    return {
        "pid": h.pid,
        "started": h.started,
        "command": h.command,
        "events": str(h.events) if h.events else None,
        "remote": remote_units(h.events),
        **describe(state, current),
    }


def live_line(info: dict[str, Any]) -> str:
    """One line for ``status``: who runs, what it does now, how far, how long."""
    parts = [f"running: pid {info['pid']}"]
    if info.get("stage"):
        s = f"stage {info['stage']}"
        if info.get("stage_total"):
            s += f" ({info['stage_done']}/{info['stage_total']} units)"
        parts.append(s)
    if info.get("unit"):
        u = f"unit {info['unit']}"
        if info.get("steps"):
            u += f" {info.get('what') or 'step'} {info['step']}/{info['steps']}"
        parts.append(u)
    if info.get("elapsed_s") is not None:
        parts.append(f"elapsed {_dur(info['elapsed_s'])}")
    if info.get("eta_s") is not None:
        parts.append(f"ETA {_dur(info['eta_s'])}")
    return ", ".join(parts)


def _dur(s: float) -> str:
    s = int(round(s))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60:02d} s"
    return f"{s // 3600} h {s % 3600 // 60:02d} min"


def follow(
    study: str,
    emit: Callable[[Event], None],
    *,
    poll_s: float = 0.5,
    wait_s: float = 0.0,
    sleep: Callable[[float], None] = time.sleep,
) -> Path | None:
    """Feed the live run's events to ``emit`` from its start until it ends; returns its event file.

    Returns None when no run is live (after waiting up to ``wait_s`` for one to start). Ends when the
    run's lock is released (it finished, failed or was killed) and its last events are read.
    """
    deadline = time.time() + wait_s
    h = runlock.holder(study)
    while (h is None or h.events is None) and time.time() < deadline:
        sleep(poll_s)
        h = runlock.holder(study)
    if h is None or h.events is None:
        return None
    tail = EventTail(h.events)
    while True:
        for ev in tail.read():
            emit(ev)
        now = runlock.holder(study)
        if now is None or now.pid != h.pid:
            for ev in tail.read():  # what it wrote just before it ended
                emit(ev)
            return h.events
        sleep(poll_s)
