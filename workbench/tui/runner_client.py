"""Stages run as subprocesses: start, stop, find again after a restart, and follow their events.

A run is ``workbench run RECIPE --events jsonl`` in a new session (its own process group), its
stdout going to ``models/<study>/runs/<stamp>.events.jsonl`` and its stderr beside it. A small
``<stamp>.run.json`` records the pid and the command. Closing the TUI leaves the run going; a TUI
opened later finds the live pid there and tails the same file from the start, so it rebuilds the
progress, the loss curve and the log. Stop = SIGTERM to the process group (immediate; the stage's
unit in flight is lost, finished units are kept, and a rerun resumes).

Events are the runner's typed events (:mod:`workbench.events`), folded into
:class:`workbench.events.RunState` by the app; nothing here imports textual.
"""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from workbench import paths
from workbench.events import Event, from_json
from workbench.process import pid_alive

RUNNER_ENV = "WORKBENCH_TUI_RUNNER"  # a command replacing `python -m workbench` (tests use a fake)


def runner_command() -> list[str]:
    """The command that runs ``workbench``: ``$WORKBENCH_TUI_RUNNER`` or this Python's ``-m workbench``."""
    env = os.environ.get(RUNNER_ENV)
    return shlex.split(env) if env else [sys.executable, "-m", "workbench"]


# -- following events ----------------------------------------------------------------------------------
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


# -- starting, finding and stopping runs --------------------------------------------------------------
@dataclass
class RunHandle:
    pid: int
    events_path: Path
    stderr_path: Path
    command: list[str]
    proc: subprocess.Popen | None = None  # set when this TUI started it

    def alive(self) -> bool:
        """Whether the run's process is still going (reaping it when this TUI started it)."""
        if self.proc is not None:
            return self.proc.poll() is None
        return pid_alive(self.pid)

    def exit_code(self) -> int | None:
        """The exit code, when this TUI started the run and it has ended (None otherwise)."""
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
        """The last lines the run wrote to stderr (its summary, or a traceback)."""
        try:
            return self.stderr_path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:]
        except OSError:
            return []


def runs_dir(study: str) -> Path:
    """Where a study's runs keep their event files, stderr and pid records."""
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
    from workbench.store import read

    return [pid for pid in read.running_pids(db, study_id) if pid_alive(pid)]
