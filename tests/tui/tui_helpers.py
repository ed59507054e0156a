"""Helpers shared by the TUI tests (imported by name: tests/tui is on sys.path while they run)."""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FAKE_RUNNER = [sys.executable, str(Path(__file__).with_name("fake_runner.py"))]
SIZE = (140, 40)


async def wait_for(pilot, condition, timeout: float = 15.0, what: str = "condition") -> None:
    """Let the app run until ``condition()`` holds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await pilot.pause(0.05)
        await asyncio.sleep(0)


async def open_synth(pilot, mode: str = "results"):
    """Open the synthetic study on ``mode`` and let its screen load."""
    from workbench.tui.state import study_from_recipe

    await pilot.app.open_study(study_from_recipe(Path("recipes/synth.toml")), mode=mode)
    await pilot.pause()


def screen_lines(app) -> list[str]:
    """The terminal's lines as drawn now (from the app's SVG screenshot: what a person sees)."""
    import html
    import re

    svg = app.export_screenshot()
    lines: dict[int, dict[int, str]] = {}
    char_width = None
    for m in re.finditer(r'<text [^>]*x="([\d.]+)"[^>]*textLength="([\d.]+)"[^>]*line-(\d+)\)">([^<]*)</text>', svg):
        x, length, line = float(m[1]), float(m[2]), int(m[3])
        text = html.unescape(m[4]).replace("\n", "").replace("\xa0", " ")
        if text and char_width is None:
            char_width = length / len(text)
        lines.setdefault(line, {})[round(x / (char_width or 1))] = text
    out = []
    for n in range(max(lines) + 1 if lines else 0):
        row = ""
        for col, text in sorted(lines.get(n, {}).items()):
            row = row[:col].ljust(col) + text + row[col + len(text) :]
        out.append(row)
    return out
