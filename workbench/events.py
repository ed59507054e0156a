"""Typed run events: what a run reports, as dataclasses that round-trip through JSON lines.

The runner, the stages and the engines emit these; ``workbench run`` draws them (:mod:`workbench.progress`)
or prints them as JSON lines (``--events jsonl``) for another process (the TUI) to follow. Every stage
reports progress inside a unit with one shape, :class:`UnitProgress` (steps of training, responses
generated, judgments made), so a new stage needs no new event and no new drawing code.

:class:`RunState` is the one fold of events into what a run looks like now (statuses, progress and
ETA per stage, loss curves, throughput, errors, log); the plain reporter and the TUI both use it.
"""

from __future__ import annotations

import json
import time
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from typing import Any, ClassVar

UNIT_STATUSES = ("done", "skipped", "failed")


@dataclass
class Event:
    """Base of every event; ``kind`` is its name on the wire (the ``event`` key of a JSON line)."""

    kind: ClassVar[str] = ""
    time: float = field(default_factory=time.time, kw_only=True)

    def to_dict(self) -> dict[str, Any]:
        return {"event": self.kind, **asdict(self)}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, default=str)


@dataclass
class RunStarted(Event):
    """A run began: what it will do (stages in order, with the units of each) and who runs it."""

    kind: ClassVar[str] = "run_start"
    study: str
    pid: int
    stages: dict[str, int] = field(default_factory=dict)  # stage -> number of units, in run order
    notes: list[str] = field(default_factory=list)  # what the plan added or found missing (--only)


@dataclass
class StageStarted(Event):
    kind: ClassVar[str] = "stage_start"
    stage: str
    total: int  # units in this run


@dataclass
class UnitStarted(Event):
    kind: ClassVar[str] = "unit_start"
    stage: str
    unit: str


@dataclass
class UnitProgress(Event):
    """Progress inside one unit: ``done`` of ``total`` items (``what`` says of what).

    ``part`` names a sub-task that has its own count (a judge within the judge stage); ``rate`` is in
    ``rate_unit`` (tokens/s for training and generation); ``metrics`` carries numbers worth plotting
    (``loss``, ``lr``).
    """

    kind: ClassVar[str] = "unit_progress"
    stage: str
    unit: str
    done: int
    total: int
    what: str = "items"
    part: str | None = None
    rate: float | None = None
    rate_unit: str = "tokens/s"
    elapsed: float | None = None
    eta: float | None = None
    metrics: dict[str, float] = field(default_factory=dict)


@dataclass
class UnitEnded(Event):
    kind: ClassVar[str] = "unit_end"
    stage: str
    unit: str
    status: str  # done, skipped (already complete) or failed
    reason: str = ""
    error: str | None = None
    hint: str | None = None

    def __post_init__(self) -> None:
        if self.status not in UNIT_STATUSES:
            raise ValueError(f"not a unit status: {self.status!r}")


@dataclass
class StageEnded(Event):
    kind: ClassVar[str] = "stage_end"
    stage: str
    failed: int = 0


@dataclass
class Log(Event):
    kind: ClassVar[str] = "log"
    message: str
    level: str = "info"  # info, warning, error
    stage: str | None = None
    unit: str | None = None


@dataclass
class RunEnded(Event):
    kind: ClassVar[str] = "run_end"
    done: int = 0
    skipped: int = 0
    failed: int = 0


EVENT_TYPES: dict[str, type[Event]] = {
    t.kind: t for t in (RunStarted, StageStarted, UnitStarted, UnitProgress, UnitEnded, StageEnded, Log, RunEnded)
}

Emit = Callable[[Event], None]


def from_dict(d: dict[str, Any]) -> Event:
    """The event a JSON object describes; unknown kinds and malformed ones become a :class:`Log` line."""
    cls = EVENT_TYPES.get(d.get("event", ""))
    if cls is not None:
        names = {f.name for f in fields(cls)}
        try:
            return cls(**{k: v for k, v in d.items() if k in names})
        except (TypeError, ValueError):
            pass
    return Log(message=json.dumps(d, ensure_ascii=False, default=str)[:500], level="info")


def from_json(line: str | bytes) -> Event:
    """Parse one JSON line (a line that is not JSON becomes a :class:`Log` of its text)."""
    try:
        d = json.loads(line)
    except ValueError:
        text = line.decode("utf-8", "replace") if isinstance(line, bytes) else line
        return Log(message=text.rstrip("\n"))
    return from_dict(d) if isinstance(d, dict) else Log(message=str(d))


@dataclass
class UnitReporter:
    """What an engine working on one unit reports through: progress counts and log lines.

    Engines know nothing of stages or units; the stage hands them one of these, tagged with both.
    """

    emit: Emit
    stage: str
    unit: str

    def progress(self, done: int, total: int, **kw: Any) -> None:
        self.emit(UnitProgress(stage=self.stage, unit=self.unit, done=done, total=total, **kw))

    def log(self, message: str, level: str = "info") -> None:
        self.emit(Log(message=message, level=level, stage=self.stage, unit=self.unit))


def null_reporter() -> UnitReporter:
    """A reporter that drops everything (engines called outside a run, tests)."""
    return UnitReporter(lambda e: None, "", "")


# -- the fold --------------------------------------------------------------------------------------------
@dataclass
class StageProgress:
    total: int = 0
    done: int = 0
    failed: int = 0
    started: float | None = None
    last: float | None = None
    unit_eta: float | None = None  # seconds left in the unit in flight, when it reports progress
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
    """Everything a view of a run shows, built from events alone (no database query)."""

    statuses: dict[tuple[str, str], str] = field(default_factory=dict)  # (stage, unit) -> status
    stages: dict[str, StageProgress] = field(default_factory=dict)
    loss: dict[str, list[tuple[int, float]]] = field(default_factory=dict)  # "stage unit" -> (step, loss)
    train_unit: str | None = None
    tokens_per_s: float | None = None
    unit_progress: dict[tuple[str, str], UnitProgress] = field(default_factory=dict)
    errors: list[UnitEnded] = field(default_factory=list)
    logs: deque = field(default_factory=lambda: deque(maxlen=2000))
    notes: list[str] = field(default_factory=list)
    current_stage: str | None = None
    ended: RunEnded | None = None
    _unit_first: dict = field(default_factory=dict)  # (stage, unit, part) -> (time, done) of its first event

    def apply(self, ev: Event) -> None:
        t = ev.time
        if isinstance(ev, RunStarted):
            self.notes = list(ev.notes)
            for note in ev.notes:
                self.logs.append(("warning", note))
        elif isinstance(ev, StageStarted):
            self.stages[ev.stage] = StageProgress(total=ev.total, started=t, last=t)
            self.current_stage = ev.stage
            self.logs.append(("info", f"{ev.stage}: started ({ev.total} units)"))
        elif isinstance(ev, UnitStarted):
            self.statuses[(ev.stage, ev.unit)] = "running"
        elif isinstance(ev, UnitProgress):
            self._progress(ev, t)
        elif isinstance(ev, UnitEnded):
            self.statuses[(ev.stage, ev.unit)] = ev.status
            sp = self.stages.get(ev.stage)
            if sp is not None:
                sp.done += 1
                sp.failed += ev.status == "failed"
                sp.last, sp.unit_eta, sp.unit_fraction = t, None, 0.0
            if ev.status == "failed":
                self.errors.append(ev)
                self.logs.append(("error", f"{ev.stage} {ev.unit}: failed: {ev.error}"))
                if ev.hint:
                    self.logs.append(("hint", f"  hint: {ev.hint}"))
            else:
                reason = f" ({ev.reason})" if ev.reason else ""
                self.logs.append(("info", f"{ev.stage} {ev.unit}: {ev.status}{reason}"))
        elif isinstance(ev, StageEnded):
            sp = self.stages.get(ev.stage)
            if sp is not None:
                sp.ended, sp.last = True, t
            self.logs.append(("info", f"{ev.stage}: finished"))
        elif isinstance(ev, Log):
            self.logs.append((ev.level, ev.message))
        elif isinstance(ev, RunEnded):
            self.ended = ev

    def _progress(self, ev: UnitProgress, t: float) -> None:
        self.unit_progress[(ev.stage, ev.unit)] = ev
        self.statuses[(ev.stage, ev.unit)] = "running"
        if "loss" in ev.metrics:
            key = f"{ev.stage} {ev.unit}".strip()
            self.loss.setdefault(key, []).append((ev.done, float(ev.metrics["loss"])))
            self.train_unit = key
        if ev.rate is not None and ev.rate_unit == "tokens/s":
            self.tokens_per_s = float(ev.rate)
        sp = self.stages.get(ev.stage)
        if sp is None:
            return
        sp.last = t
        sp.unit_fraction = ev.done / ev.total if ev.total else 0.0
        if ev.eta is not None:
            sp.unit_eta = ev.eta
            return
        first = self._unit_first.setdefault((ev.stage, ev.unit, ev.part), (t, ev.done))
        if ev.total and ev.done > first[1] and t > first[0]:
            rate = (ev.done - first[1]) / (t - first[0])  # items per second in this unit (and part)
            sp.unit_eta = (ev.total - ev.done) / rate
