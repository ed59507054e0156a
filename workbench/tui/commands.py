"""The command palette's workbench commands (ctrl+p): open a study, run, stop, switch screen, classroom, report.

A Textual :class:`~textual.command.Provider` listed in ``WorkbenchApp.COMMANDS`` beside Textual's own
system commands. Every command calls the app's own action, the one its key calls, so the palette
and the keys cannot disagree (a run asks for confirmation either way).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

from workbench.tui.widgets.screen_bar import SCREENS

WHAT = {
    "studies": "pick or create a study",
    "run": "the grid of cells x stages; start, follow and stop runs",
    "results": "compliance-rate heatmaps",
    "compare": "one prompt's responses side by side",
    "label": "label responses yourself",
    "agreement": "kappa between you and the judges",
}


class WorkbenchCommands(Provider):
    """The workbench's own commands, for the palette."""

    studies: tuple = ()  # the workspace's studies, read when the palette opens

    async def startup(self) -> None:
        from workbench.tui.screens.studies import list_studies

        # The recipes and databases of the workspace (a few file names and TOML peeks, off the UI thread).
        self.studies = tuple(await asyncio.to_thread(list_studies))

    def commands(self) -> list[tuple[str, Callable[[], object], str]]:
        """(title, callback, help) of every command that applies now."""
        app = self.app
        out: list[tuple[str, Callable[[], object], str]] = []
        study = app.study
        if study is not None and study.recipe_path is not None:
            out.append(("Run the whole study", app.action_run_all, "run (or resume) every stage; asks first"))
            out.append(
                ("Write the report (results stage)", app.action_report, "rates and tables to models/<study>/results")
            )
        out.append(("Stop the run", app.action_stop_run, "SIGTERM to the study's live run (asks first)"))
        for key, (mode, name) in enumerate(SCREENS, 1):
            out.append((f"Switch to {name}", partial(app.switch_mode, mode), f"{WHAT[mode]} (key {key})"))
        state = "off" if app.classroom else "on"
        out.append((f"Classroom mode {state}", app.action_toggle_classroom, "hide unsafe text until revealed"))
        out.append(("Help for this screen", app.action_help, "what this screen shows and its keys"))
        for ref in self.studies:
            out.append((f"Open study {ref.name}", partial(app.open_study, ref), ref.label))
        return out

    async def discover(self) -> Hits:
        """Every command, shown when the palette opens with nothing typed."""
        for title, callback, help_text in self.commands():
            yield DiscoveryHit(title, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        """The commands whose title matches what was typed (Textual's fuzzy matcher)."""
        matcher = self.matcher(query)
        for title, callback, help_text in self.commands():
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), callback, help=help_text)
