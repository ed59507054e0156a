"""Stages run as subprocesses: start, stop, find again after a restart, and follow their events.

A run is ``workbench run RECIPE --events jsonl`` in a new session (its own process group), its
stdout going to ``models/<study>/runs/<stamp>.events.jsonl`` and its stderr beside it. A small
``<stamp>.run.json`` records the pid and the command. Closing the TUI leaves the run going; a TUI
opened later finds the live pid there and tails the same file from the start, so it rebuilds the
progress, the loss curve and the log. Stop = SIGTERM to the process group (immediate; the stage's
unit in flight is lost, finished units are kept, and a rerun resumes).

Nothing here imports textual: the state machine (:class:`RunState`) is tested on its own.
"""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workbench import paths
from workbench.process import pid_alive

RUNNER_ENV = "WORKBENCH_TUI_RUNNER"  # a command replacing `python -m workbench` (tests use a fake)


def runner_command() -> list[str]:
    """The command that runs ``workbench``: ``$WORKBENCH_TUI_RUNNER`` or this Python's ``-m workbench``."""
    env = os.environ.get(RUNNER_ENV)
    return shlex.split(env) if env else [sys.executable, "-m", "workbench"]


# -- following events ----------------------------------------------------------------------------------
class EventTail:
    """Reads the JSON lines appended to a file since the last call (a partial last line waits)."""

    def __init__(self, path: Path):
        self.path = path
        self.offset = 0
        self._partial = b""

    def read(self) -> list[dict[str, Any]]:
        try:
            with open(self.path, "rb") as f:
                f.seek(self.offset)
                chunk = f.read()
        except OSError:
            return []
        if not chunk:
            return []
        self.offset += len(chunk)
        data = self._partial + chunk
        lines = data.split(b"\n")
        self._partial = lines.pop()
        events = []
        for line in lines:
            if not line.strip():
                continue
            try:
                ev = json.loads(line)
            except ValueError:
                ev = {"event": "log", "level": "info", "message": line.decode("utf-8", "replace")}
            if isinstance(ev, dict):
                events.append(ev)
        return events


@dataclass
class StageProgress:
    total: int = 0
    done: int = 0
    failed: int = 0
    started: float | None = None
    last: float | None = None
    unit_eta: float | None = None  # seconds left in the unit in flight, when the unit reports it
    unit_fraction: float = 0.0  # how far the unit in flight is
    ended: bool = False

    def fraction(self) -> float:
        if not self.total:
            return 1.0 if self.ended else 0.0
        return min(1.0, (self.done + (0 if self.ended else self.unit_fraction)) / self.total)

    def eta(self) -> float | None:
        """Seconds left: the unit in flight's own ETA plus the remaining units at the pace so far."""
        if self.ended or not self.total or self.started is None or self.last is None:
            return None
        elapsed = self.last - self.started
        progress = self.done + self.unit_fraction
        if progress <= 0:
            return None
        per_unit = elapsed / progress
        left = (self.total - progress) * per_unit
        if self.unit_eta is not None:
            left = self.unit_eta + max(0, self.total - self.done - 1) * per_unit
        return max(0.0, left)


@dataclass
class RunState:
    """Everything the run screen shows, built from events alone (no database query)."""

    statuses: dict[tuple[str, str], str] = field(default_factory=dict)  # (stage, unit) -> status
    stages: dict[str, StageProgress] = field(default_factory=dict)
    loss: dict[str, list[tuple[int, float]]] = field(default_factory=dict)  # "stage unit" -> (step, loss)
    train_unit: str | None = None
    tokens_per_s: float | None = None
    unit_progress: dict[tuple[str, str], tuple[int, int]] = field(default_factory=dict)
    errors: list[dict[str, Any]] = field(default_factory=list)
    logs: deque = field(default_factory=lambda: deque(maxlen=2000))
    current_stage: str | None = None
    _unit_first: dict = field(default_factory=dict)  # (stage, unit, judge) -> (time, done) of its first event

    def apply(self, ev: dict[str, Any]) -> None:
        kind = ev.get("event")
        stage = ev.get("stage") or ""
        unit = ev.get("unit") or ""
        t = ev["time"] if isinstance(ev.get("time"), (int, float)) else time.time()
        sp = self.stages.get(stage)
        if kind == "stage_start":
            self.stages[stage] = StageProgress(total=int(ev.get("total") or 0), started=t, last=t)
            self.current_stage = stage
            self.logs.append(("info", f"{stage}: started ({ev.get('total', 0)} units)"))
        elif kind == "progress" and sp is not None:
            if unit:
                self._unit_fraction(sp, stage, unit, ev, t)
            else:
                sp.done, sp.total, sp.last = int(ev.get("done") or 0), int(ev.get("total") or sp.total), t
        elif kind in ("done", "skipped", "failed"):
            self.statuses[(stage, unit)] = kind
            if sp is not None:
                sp.done += 1
                sp.failed += kind == "failed"
                sp.last, sp.unit_eta, sp.unit_fraction = t, None, 0.0
            if kind == "failed":
                self.errors.append(ev)
                self.logs.append(("error", f"{stage} {unit}: failed: {ev.get('error')}"))
                if ev.get("hint"):
                    self.logs.append(("hint", f"  hint: {ev['hint']}"))
            else:
                reason = f" ({ev['reason']})" if ev.get("reason") else ""
                self.logs.append(("info", f"{stage} {unit}: {kind}{reason}"))
        elif kind == "stage_end":
            if sp is not None:
                sp.ended, sp.last = True, t
            self.logs.append(("info", f"{stage}: finished"))
        elif kind == "train_step":
            key = f"{stage} {unit}".strip()
            self.loss.setdefault(key, []).append((int(ev.get("step", 0)), float(ev.get("loss", 0.0))))
            self.train_unit = key
            self.statuses[(stage, unit)] = "running"
            if ev.get("tokens_per_s") is not None:
                self.tokens_per_s = float(ev["tokens_per_s"])
            if sp is not None:
                sp.last = t
                total = ev.get("total") or 0
                sp.unit_fraction = (ev.get("step", 0) / total) if total else 0.0
                sp.unit_eta = ev.get("eta")
        elif kind == "log":
            self.logs.append((ev.get("level", "info"), str(ev.get("message", ""))))
        elif kind and unit and sp is not None and "done" in ev and "total" in ev:
            # gen_progress, judge_progress and other per-unit progress events: treated alike.
            self._unit_fraction(sp, stage, unit, ev, t)
            if ev.get("tokens_per_s") is not None:
                self.tokens_per_s = float(ev["tokens_per_s"])
        elif kind:
            self.logs.append(("dim", f"{kind}: {json.dumps({k: v for k, v in ev.items() if k != 'event'})[:200]}"))

    def _unit_fraction(self, sp: StageProgress, stage: str, unit: str, ev: dict, t: float) -> None:
        done, total = int(ev.get("done") or 0), int(ev.get("total") or 0)
        self.unit_progress[(stage, unit)] = (done, total)
        self.statuses[(stage, unit)] = "running"
        sp.last = t
        sp.unit_fraction = done / total if total else 0.0
        first = self._unit_first.setdefault((stage, unit, ev.get("judge")), (t, done))
        if total and done > first[1] and t > first[0]:
            rate = (done - first[1]) / (t - first[0])  # items per second in this unit (and judge)
            sp.unit_eta = (total - done) / rate


# -- starting, finding and stopping runs --------------------------------------------------------------
@dataclass
class RunHandle:
    pid: int
    events_path: Path
    stderr_path: Path
    command: list[str]
    proc: subprocess.Popen | None = None  # set when this TUI started it

    def alive(self) -> bool:
        if self.proc is not None:
            return self.proc.poll() is None
        return pid_alive(self.pid)

    def exit_code(self) -> int | None:
        return self.proc.poll() if self.proc is not None else None

    def stop(self) -> None:
        """SIGTERM to the run's process group (the stage and anything it started)."""
        try:
            os.killpg(self.pid, signal.SIGTERM)
        except (ProcessLookupError, PermissionError):
            try:
                os.kill(self.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass

    def stderr_tail(self, lines: int = 20) -> list[str]:
        try:
            return self.stderr_path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:]
        except OSError:
            return []


def runs_dir(study: str) -> Path:
    return paths.study_models_dir(study) / "runs"


def start_run(
    study: str,
    recipe: Path,
    *,
    quick: bool = False,
    only: str | None = None,
    cells: str | None = None,
    command: list[str] | None = None,
) -> RunHandle:
    """Start ``workbench run`` detached (new session); it outlives the TUI."""
    folder = runs_dir(study)
    folder.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S") + f"-{time.time_ns() % 1_000_000:06d}"
    events = folder / f"{stamp}.events.jsonl"
    errors = folder / f"{stamp}.stderr.log"
    cmd = [*(command or runner_command()), "run", str(recipe)]
    if quick:
        cmd.append("--quick")
    if only:
        cmd += ["--only", only]
    if cells:
        cmd += ["--cells", cells]
    cmd += ["--events", "jsonl"]
    with open(events, "wb") as out, open(errors, "wb") as err:
        proc = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            cwd=paths.workspace(),
            start_new_session=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    meta = {"pid": proc.pid, "command": cmd, "started": time.time(), "events": events.name, "stderr": errors.name}
    (folder / f"{stamp}.run.json").write_text(json.dumps(meta, indent=1), encoding="utf-8")
    return RunHandle(proc.pid, events, errors, cmd, proc)


def find_live_run(study: str) -> RunHandle | None:
    """The newest run of this study that is still going (started by any TUI), if any."""
    folder = runs_dir(study)
    if not folder.is_dir():
        return None
    for meta_path in sorted(folder.glob("*.run.json"), reverse=True):
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if pid_alive(meta.get("pid")):
            return RunHandle(
                meta["pid"], folder / meta["events"], folder / meta.get("stderr", ""), meta.get("command", [])
            )
    return None


def running_pids_in_db(db, study_id: int) -> list[int]:
    """Pids of stage runs the database says are running and that are alive (e.g. started by the CLI)."""
    rows = db.query(
        """SELECT DISTINCT pid FROM stage_runs WHERE study_id = ? AND status = 'running' AND pid IS NOT NULL""",
        [study_id],
    )
    return [r["pid"] for r in rows if pid_alive(r["pid"])]
