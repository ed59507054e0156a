"""Agreement: Cohen's kappa between each annotator and each judge, and between annotators, per language.

Recomputed (in a worker) when a label is saved anywhere (:class:`~workbench.tui.messages.LabelsChanged`)
or a run changes judgments; while the screen is hidden, once it is shown again.
"""

from __future__ import annotations

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import DataTable, Static
from textual.worker import get_current_worker

from workbench.store import read
from workbench.tui.messages import LabelsChanged, ResultsChanged
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


COLUMNS = ("kind", "annotator", "vs", "language", "n", "agreed", "κ", "left out")


class AgreementScreen(WorkbenchScreen):
    MODE = "agreement"
    TITLE_TEXT = "Agreement"
    HELP = """
**Cohen's kappa** between each annotator and each judge, and between annotators, per evaluation
language and pooled (`all`), with the number of items, the share agreed and the number left out.
1 is full agreement, 0 what chance would give; it is `–` when undefined (no items, or both raters
used one label throughout). Label responses yourself on 5: Label to appear here.
"""
    BINDINGS = [Binding("r", "refresh", "Refresh")]

    def compose_body(self) -> ComposeResult:
        with Vertical(id="agreement-body"):
            yield Static("", id="agreement-summary")
            yield DataTable(id="agreement", cursor_type="row", zebra_stripes=True)
            yield Static(NOTE, classes="hint")

    def on_mount(self) -> None:
        super().on_mount()
        table = self.query_one("#agreement", DataTable)
        for col in COLUMNS:
            table.add_column(col, key=col)

    def study_changed(self) -> None:
        self.action_refresh()

    def on_labels_changed(self, message: LabelsChanged) -> None:
        self.when_shown(self.action_refresh)

    def on_results_changed(self, message: ResultsChanged) -> None:
        self.when_shown(self.action_refresh)  # new current judgments change the judge side

    def action_refresh(self) -> None:
        self._compute(self.app.study, self.app.reader())

    @work(thread=True, exclusive=True)
    def _compute(self, ref, db) -> None:
        """Kappa for every pair of raters, computed off the UI thread."""
        from workbench.analysis.agreement import agreement

        if db is None or not db.has_tables():
            self.app.call_from_thread(self._show, ref, [], "No study database yet: run it first (2: Plan & run).")
            return
        sid = read.study_id(db, ref.name, fallback=True)
        rows = agreement(db, sid) if sid is not None else []
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._show, ref, rows, "")

    def _show(self, ref, rows: list, message: str) -> None:
        if ref != self.app.study:
            return
        table = self.query_one("#agreement", DataTable)
        cells = [
            (
                r.kind.replace("annotator-", "vs "),
                r.rater_a,
                r.rater_b,
                Text(r.lang, style="bold") if r.lang == "all" else r.lang,
                str(r.n),
                f"{r.percent_agreement:.0%}" if r.percent_agreement is not None else "–",
                _kappa_text(r.kappa),
                str(r.excluded),
            )
            for r in rows
        ]
        # Widths from the content, given explicitly: a table filled from a worker's rows can be drawn
        # before it measures them (seen as clipped columns).
        widths = [max([len(c)] + [len(str(row[i])) for row in cells]) for i, c in enumerate(COLUMNS)]
        table.clear(columns=True)
        for col, width in zip(COLUMNS, widths, strict=True):
            table.add_column(col, key=col, width=width)
        for row in cells:
            table.add_row(*row)
        summary = self.query_one("#agreement-summary", Static)
        if message:
            summary.update(message)
        elif not rows:
            summary.update("No human labels yet: label a few responses (5: Label) to see agreement.")
        else:
            people = sorted({r.rater_a for r in rows})
            summary.update(f"{len(people)} annotator(s): {', '.join(people)} · rows 'all' pool every language")
