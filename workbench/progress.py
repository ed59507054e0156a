"""Draw a run's events: rich progress bars with ETA, plain lines without a terminal, or JSON lines.

The state comes from the one fold of events (:class:`workbench.events.RunState`); this module only
draws it, so the TUI and ``workbench run`` can never disagree about what a run is doing.
"""

from __future__ import annotations

import sys
import time
from typing import Any

from rich.markup import escape

from workbench.events import Event, Log, RunStarted, RunState, StageEnded, StageStarted, UnitEnded, UnitProgress


class Reporter:
    """A context manager whose ``emit`` takes run events and shows them."""

    def __init__(self, jsonl: bool = False, plain_interval_s: float = 30.0):
        self.jsonl = jsonl
        self.state = RunState()
        self._progress = None
        self._tasks: dict[str, Any] = {}
        self._plain_interval = plain_interval_s
        self._last_plain: dict[str, float] = {}

    def __enter__(self) -> Reporter:
        if not self.jsonl:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            self._progress = Progress(
                TextColumn("{task.description:<12}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                TextColumn("ETA"),
                TimeRemainingColumn(),
                transient=False,
            )
            self._progress.start()
        return self

    def __exit__(self, *exc) -> None:
        if self._progress is not None:
            self._progress.stop()

    def emit(self, event: Event) -> None:
        if self.jsonl:
            print(event.to_json(), flush=True)
            return
        self.state.apply(event)
        p = self._progress
        if isinstance(event, RunStarted):
            for note in event.notes:  # before anything runs: what --only added or found missing
                p.console.print(f"note: {note}", style="yellow", soft_wrap=True, markup=False)
        elif isinstance(event, StageStarted):
            self._tasks[event.stage] = p.add_task(escape(event.stage), total=max(1, event.total))
        elif isinstance(event, UnitEnded) and event.stage in self._tasks:
            p.advance(self._tasks[event.stage])
            if event.status == "failed":
                p.console.print(
                    f"[red]failed[/] {escape(f'{event.stage} {event.unit}: {event.error}')}"
                    + (f"\n  hint: {escape(event.hint)}" if event.hint else ""),
                    soft_wrap=True,
                )
        elif isinstance(event, StageEnded) and event.stage in self._tasks:
            p.update(self._tasks[event.stage], completed=p.tasks[self._tasks[event.stage]].total)
        elif isinstance(event, UnitProgress):
            self._unit_bar(event)
        elif isinstance(event, Log):
            p.console.print(
                event.message, style="yellow" if event.level in ("warning", "error") else None, markup=False
            )

    def _unit_bar(self, ev: UnitProgress) -> None:
        p = self._progress
        key = f"{ev.stage} {ev.unit} {ev.part or ''}".rstrip()
        label = f"  {ev.unit}" + (f" [{ev.part}]" if ev.part else "")
        if "loss" in ev.metrics:
            label += f" loss {ev.metrics['loss']:.3f}"
        if ev.rate:
            label += f" {ev.rate:.0f} {ev.rate_unit.replace('tokens', 'tok')}"
        label = escape(label)  # unit and part names are user text; the column renders markup
        if key not in self._tasks:
            self._tasks[key] = p.add_task(label, total=max(1, ev.total))
        p.update(self._tasks[key], completed=ev.done, total=max(1, ev.total), description=label)
        self._plain(key, ev)

    def _plain(self, key: str, ev: UnitProgress) -> None:
        """Without a terminal (CI logs, pipes) the bars do not redraw: print a line now and then."""
        p = self._progress
        if p is None or p.console.is_terminal:
            return
        now = time.time()
        if now - self._last_plain.get(key, 0) < self._plain_interval and ev.done != ev.total:
            return
        self._last_plain[key] = now
        parts = [f"{key}: {ev.done}/{ev.total} {ev.what}"]
        parts += [f"{name} {value:.3g}" for name, value in ev.metrics.items() if name == "loss"]
        if ev.rate:
            parts.append(f"{ev.rate:.0f} {ev.rate_unit}")
        if ev.elapsed is not None:
            parts.append(f"elapsed {ev.elapsed:.0f} s")
        if ev.eta is not None:
            parts.append(f"eta {ev.eta:.0f} s")
        p.console.print(" ".join(parts), soft_wrap=True, markup=False)


def eprint(*args: Any) -> None:
    print(*args, file=sys.stderr)
