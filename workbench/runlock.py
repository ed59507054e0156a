"""One runner per study: a lock held by the running process, and the event file every run writes.

``workbench run``, ``workbench demo`` and the TUI (whose runs are ``workbench run`` subprocesses) all
go through :func:`acquire` before a stage starts. The lock is an ``flock`` on
``models/<study>/runs/run.lock``: the kernel drops it when the holding process ends, however it ends
(Ctrl-C, SIGKILL, a crash), so a lock is never stale once its process is gone and nobody has to delete
anything. The file also records who holds it (pid, command, start time, the run's event file), which
is what a second runner, ``workbench status`` and the TUI show and follow.

Only the standard library is used here: the CLI and the TUI import it at start-up.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from workbench import paths
from workbench.errors import WorkbenchError

LOCK_NAME = "run.lock"


def runs_dir(study: str) -> Path:
    """Where a study's runs keep their lock, event files, logs and pid records."""
    return paths.study_models_dir(study) / "runs"


def lock_path(study: str) -> Path:
    return runs_dir(study) / LOCK_NAME


def new_events_path(study: str, stamp: str | None = None) -> Path:
    """A fresh ``runs/<stamp>.events.jsonl`` path for a run about to start (the folder is created)."""
    folder = runs_dir(study)
    folder.mkdir(parents=True, exist_ok=True)
    stamp = stamp or time.strftime("%Y%m%d-%H%M%S") + f"-{time.time_ns() % 1_000_000:06d}"
    return folder / f"{stamp}.events.jsonl"


@dataclass(frozen=True)
class Holder:
    """The process that runs a study now."""

    pid: int | None  # None while the holder is still writing its record (a split second)
    started: float | None
    command: list[str]
    events: Path | None
    host: str = ""

    def describe(self, study: str) -> str:
        when = time.strftime("%H:%M:%S", time.localtime(self.started)) if self.started else "just now"
        who = f"pid {self.pid}" if self.pid else "another process"
        cmd = f" ({' '.join(self.command)})" if self.command else ""
        return f"study {study!r} is already being run by {who}, started {when}{cmd}"


class StudyBusy(WorkbenchError):
    """Another process holds the study's run lock."""

    exit_code = 5

    def __init__(self, study: str, holder: Holder, recipe_hint: str = "RECIPE"):
        self.study = study
        self.holder = holder
        stop = f"stop it with `kill {holder.pid}`" if holder.pid else "stop it from where it was started"
        super().__init__(
            holder.describe(study),
            f"follow it with `workbench status {recipe_hint} --follow` (or open the study in the TUI); "
            f"{stop} (finished units are kept, a rerun resumes); then rerun",
        )


def _read_record(path: Path) -> Holder:
    try:
        meta = json.loads(path.read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError):
        meta = {}
    events = meta.get("events")
    return Holder(
        pid=meta.get("pid"),
        started=meta.get("started"),
        command=list(meta.get("command") or []),
        events=Path(events) if events else None,
        host=meta.get("host", ""),
    )


def holder(study: str) -> Holder | None:
    """Who runs ``study`` now, or None when nobody does (no lock file, or its holder has ended)."""
    path = lock_path(study)
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return _read_record(path)
        except OSError:  # a file system without flock: fall back on the recorded pid
            from workbench.process import pid_alive

            h = _read_record(path)
            return h if pid_alive(h.pid) and h.pid != os.getpid() else None
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


@contextlib.contextmanager
def acquire(
    study: str, *, events: Path | None, command: list[str] | None = None, recipe_hint: str = "RECIPE"
) -> Iterator[Holder]:
    """Hold the study's run lock for the ``with`` block; :class:`StudyBusy` if another process has it."""
    path = lock_path(study)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise StudyBusy(study, _read_record(path), recipe_hint) from None
        except OSError:  # no flock here (some network file systems): the recorded pid decides
            from workbench.process import pid_alive

            h = _read_record(path)
            if pid_alive(h.pid) and h.pid != os.getpid():
                raise StudyBusy(study, h, recipe_hint) from None
        me = Holder(
            pid=os.getpid(),
            started=time.time(),
            command=command if command is not None else [Path(sys.argv[0]).name, *sys.argv[1:]],
            events=events,
            host=socket.gethostname(),
        )
        record = {
            "pid": me.pid,
            "started": me.started,
            "command": me.command,
            "events": str(events) if events else None,
            "host": me.host,
        }
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(record, indent=1).encode(), 0)
        os.fsync(fd)
        try:
            yield me
        finally:
            with contextlib.suppress(OSError):
                os.ftruncate(fd, 0)  # nobody holds it now: a reader sees an empty record, never ours
    finally:
        os.close(fd)  # releases the flock
