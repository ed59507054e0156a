"""Small modal screens: an error with its hint, a one-line question (annotator name, a note)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static


class ErrorScreen(ModalScreen[None]):
    """A WorkbenchError shown the way the CLI prints it: the message (or each problem), then the hint."""

    BINDINGS = [Binding("escape,enter", "dismiss", "Close")]

    def __init__(self, message: str, hint: str | None = None, problems: list[str] | None = None):
        super().__init__()
        self.message, self.hint, self.problems = message, hint, problems or []

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="error-dialog"):
            yield Label("[b]error[/b]")
            for line in self.problems or [self.message]:
                yield Static(f"error: {line}", classes="error", markup=False)
            if self.hint:
                yield Static(f"hint: {self.hint}", classes="hint", markup=False)
            yield Button("Close", id="close", variant="primary")

    def on_button_pressed(self) -> None:
        self.dismiss()


class AskScreen(ModalScreen[str | None]):
    """Ask for one line of text; dismisses with it (None on escape)."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, question: str, value: str = "", placeholder: str = ""):
        super().__init__()
        self.question, self.value, self.placeholder = question, value, placeholder

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(self.question)
            yield Input(value=self.value, placeholder=self.placeholder, id="answer")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip())

    def action_cancel(self) -> None:
        self.dismiss(None)
