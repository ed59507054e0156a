"""The top line of every screen: where you are (the screen, the open study) and the keys 1-6 to go elsewhere.

It takes the place of Textual's ``Header`` so the screen keys need no room in the footer, which then
fits the screen's own keys at 120 columns. Each screen name is also a link (a click switches to it).
"""

from __future__ import annotations

from rich.markup import escape
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Label

SCREENS = (  # (mode, name), in key order: 1 is the first
    ("studies", "Studies"),
    ("run", "Plan & run"),
    ("results", "Results"),
    ("compare", "Compare"),
    ("label", "Label"),
    ("agreement", "Agreement"),
)


def tabs_markup(current: str) -> str:
    """The screens with their keys, the current one highlighted, the others clickable."""
    parts = []
    for key, (mode, name) in enumerate(SCREENS, 1):
        if mode == current:
            parts.append(f"[reverse b] {key} {name} [/]")
        else:
            parts.append(f"[@click=app.switch_mode('{mode}')] [b]{key}[/b] {name} [/]")
    return "".join(parts)


class ScreenBar(Horizontal):
    """``◆ <screen> · <study>`` on the left, the screens' keys on the right."""

    def __init__(self, mode: str, name: str):
        super().__init__(classes="screen-bar")
        self.mode = mode  # the screen this bar sits on (its tab is highlighted)
        self.screen_name = name

    def compose(self) -> ComposeResult:
        yield Label("", classes="screen-bar-where")
        yield Label(tabs_markup(self.mode), classes="screen-bar-tabs")

    def on_mount(self) -> None:
        self.show_study()

    def show_study(self) -> None:
        """Draw the open study's name (call when it changes)."""
        study = self.app.study
        where = escape(study.label) if study is not None else "[dim]no study open[/dim]"
        self.query_one(".screen-bar-where", Label).update(f"[b]◆ {escape(self.screen_name)}[/b] · {where}")
