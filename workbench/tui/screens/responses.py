"""A cell's responses (one evaluation language, or all): a virtualised list and the selected one in full.

Only current responses are listed (:mod:`workbench.store.browse`), with their current judgments;
the selected one shows each judge's label, score and evidence (the rule that fired, the cues it
matched: :mod:`workbench.tui.evidence`). Every read runs in a thread worker: the ids, each page of
rows (the table's own workers), the response under the cursor.
"""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static
from textual.worker import get_current_worker

from workbench.store import browse
from workbench.tui import classroom
from workbench.tui.evidence import explain, judgment_evidence
from workbench.tui.messages import ClassroomChanged, OpenCompare
from workbench.tui.widgets.screen_bar import ScreenBar
from workbench.tui.widgets.virtual_table import VirtualTable

COLUMNS = [("id", 7), ("item", 7), ("lang", 4), ("category", 10), ("judges", 28), ("humans", 18), ("response", 0)]
LABEL_FILTERS = (None, "comply", "refuse", "neither", "unsure", "unparseable")


class ResponsesScreen(Screen):
    """Pushed over the results screen for one heatmap entry (or a whole row)."""

    HELP = """
One cell's **current responses** (the recipe's generation), in one evaluation language or all, with
their current judgments and human labels. Only the rows on screen are read.

Below the list, the selected response in full: its prompt, the text, then for each judge its
label, its **score** (how likely the judge thinks it complies) and its **evidence**: the rule that
decided, the cues it matched (refusals, apologies, assisting structure…), the reply's language. An
LLM judge shows the line of its answer that decided. Human labels come last.

In classroom mode a response a judge or a person found unsafe is hidden, with its prompt, until
`v` reveals it.
"""
    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("f", "cycle_label", "Judge label"),
        Binding("v", "reveal", "Reveal"),
        Binding("o", "compare", "Compare"),
    ]

    def __init__(self, cell_id: str, eval_lang: str | None, judge: str | None, category: str | None = None):
        super().__init__()
        self.flt = browse.ResponseFilter(cell_id=cell_id, eval_lang=eval_lang, category=category, judge=judge)
        # Replaced, never changed in place: page workers read it from their threads.
        self.revealed: frozenset[int] = frozenset()
        self.detail = None
        self.evidence: list = []  # the selected response's current judgments with their evidence
        self.db = None
        self.classroom = False
        self.preview_timer = None
        self.title = "workbench · Responses"

    def compose(self) -> ComposeResult:
        yield ScreenBar("results", "Responses")
        with Vertical(id="responses-body"):
            yield Static("", id="responses-bar")
            yield VirtualTable(COLUMNS, self.rows_for, id="responses")
            with VerticalScroll(id="response-preview"):
                yield Static("", id="response-text", markup=False)
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.db, self.classroom = self.app.reader(), self.app.classroom
        self.load()

    def rows_for(self, ids) -> dict[int, tuple]:
        """The table's rows for ``ids`` (called in the table's page workers)."""
        db, revealed = self.db, self.revealed
        rows = browse.response_rows(db, ids) if db else {}
        if self.classroom and db is not None:
            details = browse.response_details(db, [i for i in ids if i not in revealed])
            hide = {d.id for d in details if classroom.hides(True, d, revealed)}
            rows = {k: (v[:-1] + (classroom.HIDDEN_ROW,) if k in hide else v) for k, v in rows.items()}
        return rows

    def on_classroom_changed(self, message: ClassroomChanged) -> None:
        """Hide (or show) what is on screen now, not at the next move."""
        self.classroom = self.app.classroom
        self.query_one(VirtualTable).invalidate()
        self._draw_detail()

    def load(self) -> None:
        """Read the ids the filter selects, then show them."""
        self._read_ids(self.db, browse.ResponseFilter(**vars(self.flt)))

    @work(thread=True, exclusive=True, group="ids")
    def _read_ids(self, db, flt: browse.ResponseFilter) -> None:
        ids = browse.response_ids(db, flt) if db else []
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._show_ids, ids)

    def _show_ids(self, ids: list[int]) -> None:
        table = self.query_one(VirtualTable)
        table.set_ids(ids)
        table.focus()
        f = self.flt
        label = f" · {f.judge}={f.judge_label}" if f.judge_label else ""
        self.query_one("#responses-bar", Static).update(
            f"[b]{f.cell_id}[/b] · eval language [b]{f.eval_lang or 'all'}[/b] · category {f.category or 'all'}"
            f"{label} · {len(ids):,} responses"
        )
        if not ids:
            self.query_one("#response-text", Static).update(
                "No responses here. Run the generate and judge stages (2: Plan & run), or f for another label."
                if f.judge_label
                else "No responses here: run the generate and judge stages (2: Plan & run)."
            )

    @on(VirtualTable.Highlighted)
    def _highlighted(self, message: VirtualTable.Highlighted) -> None:
        # While a key is held the cursor moves faster than a preview is worth reading: wait for a pause.
        if self.preview_timer is not None:
            self.preview_timer.stop()
        row_id = message.row_id
        self.preview_timer = self.set_timer(0.06, lambda: self._read_detail(self.db, row_id))

    @work(thread=True, exclusive=True, group="detail")
    def _read_detail(self, db, row_id: int | None, then_compare: bool = False) -> None:
        """Read one response in full; show it (and, for compare, open it there)."""
        if row_id is None or db is None:
            return
        details = browse.response_details(db, [row_id])
        evidence = judgment_evidence(db, [row_id]).get(row_id, [])
        if details and not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._show_detail, details[0], evidence, then_compare)

    def _show_detail(self, detail, evidence: list, then_compare: bool = False) -> None:
        self.detail, self.evidence = detail, evidence
        self._draw_detail()
        if then_compare:
            self.app.post_message(OpenCompare(detail.item_id, detail.lang, detail.cell_id))

    def _draw_detail(self) -> None:
        d = self.detail
        if d is None:
            return
        hide = classroom.hides(self.classroom, d, self.revealed)
        prompt = classroom.hidden_prompt(d.category) if hide else d.prompt
        text = classroom.HIDDEN_RESPONSE if hide else d.text
        if not hide and d.english_line():
            text += f"\n\n{d.english_line()}"
        judged = [line for j in self.evidence for line in explain(j, None if hide else d.text)]
        humans = ", ".join(f"{h['annotator']}={h['label']}" for h in d.human_labels) or "none"
        self.query_one("#response-text", Static).update(
            f"#{d.id} · {d.cell_id} · {d.item_id}:{d.lang} · {d.category or ''} · finish {d.finish_reason}\n"
            f"PROMPT: {prompt}\n\nRESPONSE: {text}\n\n"
            + ("JUDGMENTS:\n" + "\n".join(judged) if judged else "JUDGMENTS: not judged")
            + f"\n\nhuman labels: {humans}"
        )

    def action_reveal(self) -> None:
        if self.detail is not None:
            self.revealed = self.revealed | {self.detail.id}
            self.query_one(VirtualTable).invalidate()
            self._draw_detail()

    def action_cycle_label(self) -> None:
        if not self.flt.judge:
            return
        i = LABEL_FILTERS.index(self.flt.judge_label)
        self.flt.judge_label = LABEL_FILTERS[(i + 1) % len(LABEL_FILTERS)]
        self.load()

    @on(VirtualTable.Selected)
    def action_compare(self) -> None:
        current = self.query_one(VirtualTable).current_id
        if current is None:
            return
        if self.detail is not None and self.detail.id == current:
            self.app.post_message(OpenCompare(self.detail.item_id, self.detail.lang, self.detail.cell_id))
        else:  # the preview of this row is not read yet
            self._read_detail(self.db, current, then_compare=True)
