"""The terminal workbench (Textual). The only package that imports textual.

This module stays light: ``workbench tui`` imports it, and the app (textual and the screens) is
imported only when :func:`run_app` runs.
"""

from __future__ import annotations

from pathlib import Path


def run_app(recipe: Path | None = None, classroom: bool = False) -> None:
    """Open the workbench TUI, optionally on a recipe, optionally in classroom mode."""
    from workbench.tui.app import make_app

    make_app(recipe=recipe, classroom=classroom).run()
