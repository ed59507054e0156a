"""Render the runner's progress events: rich progress bars with ETA, or JSON lines for other processes."""

from __future__ import annotations

import json
import sys
import time
from typing import Any


class Reporter:
    """A context manager whose ``emit`` takes runner events and shows them."""

    def __init__(self, jsonl: bool = False, plain_interval_s: float = 30.0):
        self.jsonl = jsonl
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

    def emit(self, event: dict[str, Any]) -> None:
        if self.jsonl:
            print(json.dumps({"time": time.time(), **event}, ensure_ascii=False), flush=True)
            return
        p = self._progress
        kind, stage = event.get("event"), event.get("stage", "")
        if kind == "stage_start":
            self._tasks[stage] = p.add_task(stage, total=max(1, event.get("total", 1)))
        elif kind == "progress" and stage in self._tasks and "unit" not in event:
            p.update(self._tasks[stage], total=max(1, event.get("total", 1)), completed=event.get("done", 0))
        elif kind in ("done", "skipped", "failed") and stage in self._tasks:
            p.advance(self._tasks[stage])
            if kind == "failed":
                p.console.print(
                    f"[red]failed[/] {stage} {event.get('unit')}: {event.get('error')}"
                    + (f"\n  hint: {event['hint']}" if event.get("hint") else "")
                )
        elif kind == "train_step":
            unit = f"{stage} {event.get('unit', '')}"
            self._plain_line(unit, event)
            if unit not in self._tasks:
                self._tasks[unit] = p.add_task(f"  {event.get('unit', '')}", total=event["total"])
            p.update(
                self._tasks[unit],
                completed=event["step"],
                total=event["total"],
                description=f"  {event.get('unit', '')} loss {event['loss']:.3f} {event['tokens_per_s']:.0f} tok/s",
            )
        elif kind in ("gen_progress", "judge_progress"):
            unit = f"{stage} {event.get('unit', '')} {event.get('judge', '')}".rstrip()
            label = f"  {event.get('unit', '')}" + (f" [{event['judge']}]" if event.get("judge") else "")
            if event.get("tokens_per_s"):
                label += f" {event['tokens_per_s']:.0f} tok/s"
            if unit not in self._tasks:
                self._tasks[unit] = p.add_task(label, total=max(1, event["total"]))
            p.update(self._tasks[unit], completed=event["done"], total=max(1, event["total"]), description=label)
            self._plain_progress(unit, event)
        elif kind == "log":
            p.console.print(event.get("message", ""), style="yellow" if event.get("level") == "warning" else None)

    def _plain_progress(self, key: str, event: dict[str, Any]) -> None:
        p = self._progress
        if p is None or p.console.is_terminal:
            return
        now = time.time()
        if now - self._last_plain.get(key, 0) < self._plain_interval and event["done"] != event["total"]:
            return
        self._last_plain[key] = now
        rate = f" {event['tokens_per_s']:.0f} tok/s" if event.get("tokens_per_s") else ""
        p.console.print(f"{key}: {event['done']}/{event['total']}{rate}")

    def _plain_line(self, key: str, event: dict[str, Any]) -> None:
        """Without a terminal (CI logs, pipes) the bars do not redraw: print a line now and then."""
        p = self._progress
        if p is None or p.console.is_terminal:
            return
        now = time.time()
        if now - self._last_plain.get(key, 0) < self._plain_interval and event["step"] != event["total"]:
            return
        self._last_plain[key] = now
        p.console.print(
            f"{key}: step {event['step']}/{event['total']} loss {event['loss']:.3f} "
            f"{event['tokens_per_s']:.0f} tok/s elapsed {event['elapsed']:.0f} s eta {event['eta']:.0f} s"
        )


def eprint(*args: Any) -> None:
    print(*args, file=sys.stderr)
