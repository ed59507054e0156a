"""What every main screen shares: header, classroom guide, footer, and reloading when the study changes."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer, Header, Static

from workbench.tui.widgets.guide import Guide


class WorkbenchScreen(Screen):
    MODE = ""
    TITLE_TEXT = ""
    NEEDS_STUDY = True

    def __init__(self) -> None:
        super().__init__()
        self._seen_study = -1
        self._ready = False
        self.title = f"workbench · {self.TITLE_TEXT}"

    def compose(self) -> ComposeResult:
        yield Header(icon="◆")
        yield Guide(classes="guide")
        yield Static("", id="no-study", classes="hint")
        yield from self.compose_body()
        yield Footer()

    def compose_body(self) -> ComposeResult:
        yield from ()

    def on_mount(self) -> None:
        self._ready = True
        self.call_after_refresh(self._resume)

    def on_screen_resume(self) -> None:
        # A new screen may get ScreenResume before its widgets are composed: on_mount resumes it then.
        if self._ready:
            self._resume()

    def _resume(self) -> None:
        app = self.app
        self.sub_title = app.study.label if app.study else "no study open"
        self.query_one("#no-study", Static).display = self.NEEDS_STUDY and app.study is None
        if self.NEEDS_STUDY and app.study is None:
            self.query_one("#no-study", Static).update(
                "No study is open. Press 1 to pick a recipe or a study database."
            )
        for guide in self.query(Guide):
            guide.update_step()
        if app.study_version != self._seen_study:
            self._seen_study = app.study_version
            if app.study is not None or not self.NEEDS_STUDY:
                self.study_changed()
        else:
            self.resumed()

    def study_changed(self) -> None:
        """Load everything for the newly opened study."""

    def resumed(self) -> None:
        """Shown again with the same study: refresh what may have changed."""
