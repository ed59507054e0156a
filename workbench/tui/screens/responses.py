"""A cell's responses (one evaluation language, or all): a virtualised list and the selected one in full."""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Header, Static

from workbench.tui import queries
from workbench.tui.widgets.virtual_table import VirtualTable

COLUMNS = [("id", 7), ("item", 7), ("lang", 4), ("category", 10), ("judges", 28), ("humans", 18), ("response", 0)]
LABEL_FILTERS = (None, "comply", "refuse", "unparseable")


class ResponsesScreen(Screen):
    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("f", "cycle_label", "Judge label"),
        Binding("v", "reveal", "Reveal"),
        Binding("o", "compare", "Compare"),
    ]

    def __init__(self, cell_id: str, eval_lang: str | None, judge: str | None, category: str | None = None):
        super().__init__()
        self.flt = queries.ResponseFilter(cell_id=cell_id, eval_lang=eval_lang, category=category, judge=judge)
        self.revealed: set[int] = set()
        self.detail = None
        self._preview_timer = None
        self.title = "workbench · Responses"

    def compose(self) -> ComposeResult:
        yield Header(icon="◆")
        with Vertical(id="responses-body"):
            yield Static("", id="responses-bar")
            yield VirtualTable(COLUMNS, self._fetch, id="responses")
            with VerticalScroll(id="response-preview"):
                yield Static("", id="response-text", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.load()

    def _fetch(self, ids):
        db = self.app.reader()
        rows = queries.response_rows(db, ids) if db else {}
        if self.app.classroom:
            details = queries.response_details(db, [i for i in ids if i not in self.revealed])
            hide = {d.id for d in details if d.looks_unsafe()}
            rows = {
                k: (v[:-1] + ("[hidden in classroom mode: v reveals]",) if k in hide else v) for k, v in rows.items()
            }
        return rows

    @work(thread=True, exclusive=True)
    def load(self) -> None:
        db = self.app.reader()
        ids = queries.response_ids(db, self.flt) if db else []
        self.app.call_from_thread(self._loaded, ids)

    def _loaded(self, ids: list[int]) -> None:
        table = self.query_one(VirtualTable)
        table.set_ids(ids)
        table.focus()
        f = self.flt
        label = f" · {f.judge}={f.judge_label}" if f.judge_label else ""
        self.query_one("#responses-bar", Static).update(
            f"[b]{f.cell_id}[/b] · eval language [b]{f.eval_lang or 'all'}[/b] · category {f.category or 'all'}"
            f"{label} · {len(ids):,} responses · enter/o compares this prompt across cells · f filters by "
            f"{f.judge or 'judge'} label"
        )
        if not ids:
            self.query_one("#response-text", Static).update("No responses here: run the generate and judge stages.")

    @on(VirtualTable.Highlighted)
    def _highlighted(self, message: VirtualTable.Highlighted) -> None:
        # While a key is held the cursor moves faster than a preview is worth drawing: wait for a pause.
        if self._preview_timer is not None:
            self._preview_timer.stop()
        self._preview_timer = self.set_timer(0.06, lambda: self._preview(message.row_id))

    def _preview(self, row_id: int | None) -> None:
        db = self.app.reader()
        if row_id is None or db is None:
            return
        details = queries.response_details(db, [row_id])
        self.detail = details[0] if details else None
        self._show()

    def _show(self) -> None:
        d = self.detail
        if d is None:
            return
        hide = self.app.classroom and d.looks_unsafe() and d.id not in self.revealed
        text = "[hidden in classroom mode: a judge or a person found it unsafe; press v to reveal]" if hide else d.text
        judgments = ", ".join(f"{j['judge']}={j['label']}" for j in d.judgments) or "not judged"
        humans = ", ".join(f"{h['annotator']}={h['label']}" for h in d.human_labels) or "none"
        self.query_one("#response-text", Static).update(
            f"#{d.id} · {d.cell_id} · {d.item_id}:{d.lang} · {d.category or ''} · finish {d.finish_reason}\n"
            f"PROMPT: {d.prompt}\n\nRESPONSE: {text}\n\njudgments: {judgments}\nhuman labels: {humans}"
        )

    def action_reveal(self) -> None:
        if self.detail is not None:
            self.revealed.add(self.detail.id)
            self.query_one(VirtualTable).invalidate()
            self._show()

    def action_cycle_label(self) -> None:
        if not self.flt.judge:
            return
        i = LABEL_FILTERS.index(self.flt.judge_label)
        self.flt.judge_label = LABEL_FILTERS[(i + 1) % len(LABEL_FILTERS)]
        self.load()

    @on(VirtualTable.Selected)
    def action_compare(self) -> None:
        current = self.query_one(VirtualTable).current_id
        if current is not None and (self.detail is None or self.detail.id != current):
            self._preview(current)
        if self.detail is None:
            return
        self.app.compare_target = (self.detail.item_id, self.detail.lang, self.detail.cell_id)
        self.app.switch_mode("compare")
