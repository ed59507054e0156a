"""Small modal screens: an error with its hint, a one-line question (annotator name, a note), a yes/no."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
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


class ConfirmScreen(ModalScreen[bool]):
    """Ask before doing something that costs (starting a run, stopping one); dismisses with True for yes.

    Only ``y`` (or the button) says yes; ``n`` and escape say no; every other key does nothing here, so
    keys meant for another screen (the label keys c, r, p, u, s, ...) can never say yes by accident.
    """

    BINDINGS = [
        Binding("y", "answer(True)", "Yes"),
        Binding("n,escape", "answer(False)", "No"),
    ]

    def __init__(self, title: str, lines: list[str], yes: str = "Yes", no: str = "Cancel"):
        super().__init__()
        self.heading, self.lines, self.yes, self.no = title, lines, yes, no

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="confirm-dialog"):
            yield Label(f"[b]{self.heading}[/b]", markup=True)
            for line in self.lines:
                yield Static(line, classes="confirm-line", markup=False)
            with Horizontal(id="confirm-buttons"):
                yield Button(f"{self.yes} (y)", id="yes", variant="primary")
                yield Button(f"{self.no} (esc)", id="no")

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()  # enter on the default says no: only y or a click says yes

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)
