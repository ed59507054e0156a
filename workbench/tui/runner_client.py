"""Stages run as subprocesses: start, stop, find the study's live run (whoever started it), follow it.

A run is ``workbench run RECIPE --events-file models/<study>/runs/<stamp>.events.jsonl`` in a new
session (its own process group), its stdout and stderr going to ``<stamp>.stdout.log`` and
``<stamp>.stderr.log`` beside the event file. Every run, whoever starts it (this TUI, another one,
``workbench run`` or ``make demo`` in a terminal), holds the study's run lock
(:mod:`workbench.runlock`), whose record names its pid, command and event file: that is how the TUI
finds a live run and follows it from the start of its event file (progress, loss curve and log
rebuilt), and how it refuses to start a second one beside it.

Stop = SIGTERM. A run in a session of its own (the TUI's) gets it on its process group, so the stage
and anything it started stop at once; a run started in a terminal gets it on its pid only, so the
shell and the rest of a pipeline are left alone. The stage's unit in flight is lost, finished units
are kept, and a rerun resumes.

Events are the runner's typed events (:mod:`workbench.events`), folded into
:class:`workbench.events.RunState` by the app; nothing here imports textual.
"""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from workbench import paths, runlock
from workbench.follow import EventTail
from workbench.process import pid_alive
from workbench.runlock import runs_dir

__all__ = ["EventTail", "RunHandle", "finished_run", "find_live_run", "runs_dir", "start_run"]

RUNNER_ENV = "WORKBENCH_TUI_RUNNER"  # a command replacing `python -m workbench` (tests use a fake)
EVENTS_SUFFIX = ".events.jsonl"


def runner_command() -> list[str]:
    """The command that runs ``workbench``: ``$WORKBENCH_TUI_RUNNER`` or this Python's ``-m workbench``."""
    env = os.environ.get(RUNNER_ENV)
    return shlex.split(env) if env else [sys.executable, "-m", "workbench"]


def sibling(events: Path, suffix: str) -> Path:
    """The file beside a run's event file with the same stamp: ``<stamp>.stderr.log`` and the like."""
    stamp = events.name.removesuffix(EVENTS_SUFFIX)
    return events.with_name(stamp + suffix)


# -- starting, finding and stopping runs --------------------------------------------------------------
@dataclass
class RunHandle:
    """A run to follow: live (its pid), or finished (``pid`` None: only its event file is read)."""

    pid: int | None
    events_path: Path
    stderr_path: Path
    command: list[str]
    proc: subprocess.Popen | None = None  # set when this TUI started it
    study: str = ""  # the study whose lock says whether a run found there is still going
    started: float | None = None

    @property
    def started_here(self) -> bool:
        """Whether this TUI (this process) started the run."""
        return self.proc is not None

    def alive(self) -> bool:
        """Whether the run is still going (reaping it when this TUI started it).

        A run found through the study's lock is going while it holds the lock: the kernel drops an
        flock when its process ends, so a run that has ended (even one not reaped yet) reads as over.
        """
        if self.pid is None:
            return False
        if self.proc is not None:
            return self.proc.poll() is None
        if self.study:
            h = runlock.holder(self.study)
            if h is None:
                return False
            if h.pid is None:  # the holder is writing or clearing its record this very moment
                return pid_alive(self.pid)
            return h.pid == self.pid
        return pid_alive(self.pid)

    def exit_code(self) -> int | None:
        """The exit code, when this TUI started the run and it has ended (None otherwise)."""
        return self.proc.poll() if self.proc is not None else None

    def own_session(self) -> bool:
        """Whether the run leads a session of its own (started by a TUI), so its process group is its own."""
        if self.pid is None:
            return False
        try:
            return os.getsid(self.pid) == self.pid
        except (ProcessLookupError, PermissionError):
            return False

    def stop(self) -> None:
        """SIGTERM: to the run's process group when it has one of its own, else to its pid alone."""
        if self.pid is None:
            return
        if self.started_here or self.own_session():
            try:
                os.killpg(self.pid, signal.SIGTERM)
                return
            except (ProcessLookupError, PermissionError):
                pass
        try:
            os.kill(self.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass

    def stderr_tail(self, lines: int = 20) -> list[str]:
        """The last lines the run wrote to stderr (its summary, or a traceback); [] for a terminal's run."""
        try:
            return self.stderr_path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:]
        except OSError:
            return []

    def command_text(self) -> str:
        """The run's command line as a person would type it (the interpreter's path shortened)."""
        cmd = list(self.command)
        if cmd and Path(cmd[0]).name.startswith("python"):
            cmd[0] = "python"
        return " ".join(cmd)


def start_run(
    study: str,
    recipe: Path,
    *,
    quick: bool = False,
    only: str | None = None,
    cells: str | None = None,
    command: list[str] | None = None,
) -> RunHandle:
    """Start ``workbench run`` detached (new session); it outlives the TUI.

    The run takes the study's lock itself; if another process got it first, it exits with
    :class:`~workbench.runlock.StudyBusy`'s exit code and says so on stderr.
    """
    events = runlock.new_events_path(study)
    errors = sibling(events, ".stderr.log")
    cmd = [*(command or runner_command()), "run", str(recipe)]
    if quick:
        cmd.append("--quick")
    if only:
        cmd += ["--only", only]
    if cells:
        cmd += ["--cells", cells]
    cmd += ["--events-file", str(events)]
    with open(sibling(events, ".stdout.log"), "wb") as out, open(errors, "wb") as err:
        proc = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            cwd=paths.workspace(),
            start_new_session=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    return RunHandle(proc.pid, events, errors, cmd, proc, study=study, started=time.time())


def find_live_run(study: str) -> RunHandle | None:
    """The run of this study going now (started by a TUI, the CLI or ``make demo``), from its lock."""
    h = runlock.holder(study)
    if h is None or h.pid is None or h.events is None:
        return None  # nobody runs it, or the holder is still writing its record (the next look finds it)
    return RunHandle(h.pid, h.events, sibling(h.events, ".stderr.log"), h.command, study=study, started=h.started)


def finished_run(study: str) -> RunHandle | None:
    """The study's newest run that has ended (its event file), to show what it did; None if none ran."""
    from workbench.follow import last_events_file

    events = last_events_file(study)
    if events is None:
        return None
    return RunHandle(None, events, sibling(events, ".stderr.log"), [], study=study)
