"""What every main screen shares: the screen bar, classroom guide, footer, help, and reloading when the study changes.

A screen reloads for the open study when it is shown and the study is not the one it last loaded
(the app posts :class:`~workbench.tui.messages.StudyOpened`; a screen not shown waits until it is).
Other changes arrive the same way (results, labels, the run): :meth:`WorkbenchScreen.when_shown`
runs a refresh now if the screen is in front, else once when it comes back, so a hidden screen never
queries the database for nothing.
"""

from __future__ import annotations

from collections.abc import Callable

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer, Static

from workbench.tui.messages import StudyOpened
from workbench.tui.widgets.guide import Guide
from workbench.tui.widgets.screen_bar import ScreenBar


class WorkbenchScreen(Screen):
    """A screen of one mode; subclasses load in ``study_changed`` and refresh in ``resumed``.

    ``HELP`` (Textual's per-widget help text, Markdown) is what ``?`` shows, above the screen's keys.
    """

    MODE = ""
    TITLE_TEXT = ""
    NEEDS_STUDY = True

    def __init__(self) -> None:
        super().__init__()
        self.loaded_study = None  # the StudyRef this screen last loaded (None: not yet)
        self.composed = False
        self.stale: dict[str, Callable[[], None]] = {}  # refreshes owed since the screen was last shown
        self.title = f"workbench · {self.TITLE_TEXT}"

    def compose(self) -> ComposeResult:
        yield ScreenBar(self.MODE, self.TITLE_TEXT)
        yield Guide(classes="guide")
        yield Static("", id="no-study", classes="hint")
        yield from self.compose_body()
        yield Footer(compact=True)

    def compose_body(self) -> ComposeResult:
        """The screen's own widgets, between the guide and the footer."""
        yield from ()

    def on_mount(self) -> None:
        self.composed = True
        self.call_after_refresh(self.catch_up)

    def on_screen_resume(self) -> None:
        # A new screen may get ScreenResume before its widgets are composed: on_mount catches up then.
        if self.composed:
            self.catch_up()

    def on_study_opened(self, message: StudyOpened) -> None:
        # Shown already (open_study switched to this mode): reload now; otherwise when shown.
        if self.composed and self.is_active:
            self.catch_up()

    def catch_up(self) -> None:
        """Bring the screen up to date with the app: the study, then any refresh owed."""
        app = self.app
        self.sub_title = app.study.label if app.study else "no study open"
        for bar in self.query(ScreenBar):
            bar.show_study()
        self.query_one("#no-study", Static).display = self.NEEDS_STUDY and app.study is None
        if self.NEEDS_STUDY and app.study is None:
            self.query_one("#no-study", Static).update(
                "No study is open. Press 1 to pick a recipe or a study database."
            )
        for guide in self.query(Guide):
            guide.update_step()
        if app.study != self.loaded_study:
            self.loaded_study = app.study
            self.stale.clear()  # a full load covers them
            if app.study is not None or not self.NEEDS_STUDY:
                self.study_changed()
            return
        owed, self.stale = self.stale, {}
        for refresh in owed.values():
            refresh()
        self.resumed()

    def when_shown(self, refresh: Callable[[], None]) -> None:
        """Run ``refresh`` now if this screen is in front, else once the next time it is shown."""
        if self.composed and self.is_active and self.loaded_study == self.app.study:
            refresh()
        else:
            self.stale[getattr(refresh, "__name__", repr(refresh))] = refresh

    def study_changed(self) -> None:
        """Load everything for the newly opened study."""

    def resumed(self) -> None:
        """Shown again with the same study: refresh what may have changed."""
