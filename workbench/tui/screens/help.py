"""Help for the screen you are on (``?``): what it shows, what to do there, and every key it answers to.

The text is the screen's ``HELP`` (Textual's own per-widget help attribute, Markdown); the keys are
read from the screen's and the app's ``BINDINGS`` (shown in the footer or not), so they cannot drift
from what the keys do.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Label, Markdown

NO_HELP = "No help is written for this screen yet."


def key_rows(screen: Screen) -> list[tuple[str, str, str]]:
    """(where, key, what) for every binding of ``screen`` and then of the app, in the order declared."""
    app = screen.app
    rows: list[tuple[str, str, str]] = []
    seen: set[str] = set()
    for where, bindings in (("here", type(screen).BINDINGS), ("everywhere", type(app).BINDINGS)):
        for b in bindings:
            if not isinstance(b, Binding) or not b.description or b.key in seen:
                continue
            seen.add(b.key)
            rows.append((where, app.get_key_display(b), b.description))
    rows.append(("everywhere", app.get_key_display(Binding(app.COMMAND_PALETTE_BINDING, "")), "command palette"))
    return rows


def help_markdown(screen: Screen) -> str:
    """The help page of ``screen`` as Markdown: its text, then its keys, then the keys that work anywhere."""
    text = (screen.HELP or NO_HELP).strip()
    rows = key_rows(screen)
    parts = [text, ""]
    for where, heading in (("here", "Keys on this screen"), ("everywhere", "Keys everywhere")):
        mine = [(k, what) for w, k, what in rows if w == where]
        if not mine:
            continue
        parts += [f"### {heading}", ""]
        parts += [f"- `{k}` {what}" for k, what in mine]
        parts.append("")
    return "\n".join(parts)


class HelpScreen(ModalScreen[None]):
    """The help page of the screen under it (``?`` opens it; ``?``, escape or q closes it)."""

    BINDINGS = [Binding("escape,question_mark,q,f1", "dismiss", "Close", key_display="esc")]

    def __init__(self, screen: Screen):
        super().__init__()
        self.about = screen
        self.page = help_markdown(screen)

    def compose(self) -> ComposeResult:
        with Vertical(id="help"):
            yield Label(f"[b]Help · {self.about.title or 'workbench'}[/b]  [dim](esc closes)[/dim]")
            with VerticalScroll(id="help-body"):
                yield Markdown(self.page, id="help-text")
