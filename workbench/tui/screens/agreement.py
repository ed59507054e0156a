"""Agreement: Cohen's kappa between each annotator and each judge, and between annotators, per language."""

from __future__ import annotations

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import DataTable, Static

from workbench.tui.screens.base import WorkbenchScreen

NOTE = (
    "Against a judge, human comply/refuse are compared with the judge's comply/refuse; partial and unclear "
    "labels and unparseable judgments are left out (column 'left out'). Between annotators all four labels "
    "count. κ is '–' when undefined (no items, or both raters used one label throughout)."
)


def _kappa_text(kappa: float | None) -> Text:
    if kappa is None:
        return Text("–", style="dim")
    style = "green" if kappa >= 0.6 else "yellow" if kappa >= 0.4 else "red"
    return Text(f"{kappa:.2f}", style=f"bold {style}")


class AgreementScreen(WorkbenchScreen):
    MODE = "agreement"
    TITLE_TEXT = "Agreement"
    BINDINGS = [Binding("r", "refresh", "Refresh")]

    def compose_body(self) -> ComposeResult:
        with Vertical(id="agreement-body"):
            yield Static("", id="agreement-summary")
            yield DataTable(id="agreement", cursor_type="row", zebra_stripes=True)
            yield Static(NOTE, classes="hint")

    def __init__(self) -> None:
        super().__init__()
        self._seen_labels = -1

    def on_mount(self) -> None:
        super().on_mount()
        table = self.query_one("#agreement", DataTable)
        for col in ("kind", "annotator", "vs", "language", "n", "agreed", "κ", "left out"):
            table.add_column(col, key=col)

    def study_changed(self) -> None:
        self.action_refresh()

    def resumed(self) -> None:
        if self.app.labels_version != self._seen_labels:
            self.action_refresh()

    def action_refresh(self) -> None:
        self._seen_labels = self.app.labels_version
        self._compute()

    @work(thread=True, exclusive=True)
    def _compute(self) -> None:
        from workbench.analysis.agreement import agreement

        db = self.app.reader()
        if db is None or not db.has_tables():
            self.app.call_from_thread(self._show, [], "No study database yet.")
            return
        sid = db.study_id(self.app.study.name)
        self.app.call_from_thread(self._show, agreement(db, sid), "")

    def _show(self, rows: list, message: str) -> None:
        table = self.query_one("#agreement", DataTable)
        table.clear()
        for r in rows:
            pct = f"{r.percent_agreement:.0%}" if r.percent_agreement is not None else "–"
            table.add_row(
                r.kind.replace("annotator-", "vs "),
                r.rater_a,
                r.rater_b,
                Text(r.lang, style="bold") if r.lang == "all" else r.lang,
                str(r.n),
                pct,
                _kappa_text(r.kappa),
                str(r.excluded),
            )
        summary = self.query_one("#agreement-summary", Static)
        if message:
            summary.update(message)
        elif not rows:
            summary.update("No human labels yet: label a few responses (5: Label) to see agreement.")
        else:
            people = sorted({r.rater_a for r in rows})
            summary.update(f"{len(people)} annotator(s): {', '.join(people)} · rows 'all' pool every language")
