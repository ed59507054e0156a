"""Results: compliance-rate heatmaps, fine-tune language x evaluation language, per model and judge.

Rates come from ``workbench.analysis.results`` (counts read once per results version, in a thread); switching
judge, model or view redraws from those rows. A category or language filter recomputes.
"""

from __future__ import annotations

import time

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Label, Static

from workbench.tui.screens.base import WorkbenchScreen
from workbench.tui.widgets.heatmap import VIEWS, Heatmap

SIDE_BY_SIDE = "side by side"


def _cycle(options: list, current):
    if not options:
        return None
    i = options.index(current) if current in options else -1
    return options[(i + 1) % len(options)]


class ResultsScreen(WorkbenchScreen):
    MODE = "results"
    TITLE_TEXT = "Results"
    BINDINGS = [
        Binding("m", "cycle_model", "Model"),
        Binding("j", "cycle_judge", "Judge"),
        Binding("d", "cycle_view", "Rate/diff/ratio"),
        Binding("i", "toggle_intervals", "Intervals"),
        Binding("f", "cycle_category", "Category"),
        Binding("l", "cycle_lang", "Eval language"),
        Binding("enter", "open_cell", "Responses", show=False),
        Binding("r", "recompute", "Recompute"),
    ]

    def compose_body(self) -> ComposeResult:
        with Vertical(id="results-body"):
            yield Static("", id="results-bar")
            yield Horizontal(id="heatmaps")
            yield Static("", id="results-info", markup=False)

    def __init__(self) -> None:
        super().__init__()
        self.rows: list = []
        self.models: list[str] = []
        self.judges: list[str] = []
        self.all_langs: list[str] = []
        self.all_categories: list[str] = []
        self.model: str | None = None
        self.judge: str | None = None
        self.view = "rate"
        self.intervals = False
        self.category: str | None = None
        self.lang: str | None = None
        self.study_id: int | None = None
        self.compute_seconds: float | None = None
        self._seen_results = -1

    def study_changed(self) -> None:
        self.model = self.judge = self.category = self.lang = None
        self.study_id = None
        self._counts_version = None
        self._seen_results = self.app.results_version
        self.action_recompute()

    def resumed(self) -> None:
        if self.app.results_version != self._seen_results:
            self._seen_results = self.app.results_version
            self.action_recompute()

    # -- computing -------------------------------------------------------------------------------------
    def action_recompute(self) -> None:
        self._bar("computing…")
        self._compute(self.category, self.lang)

    @work(thread=True, exclusive=True, group="compute")
    def _compute(self, category: str | None, lang: str | None) -> None:
        from workbench.analysis.results import counts, rates_from_counts
        from workbench.tui import queries

        db = self.app.reader()
        if db is None or not db.has_tables():
            self.app.call_from_thread(self._empty, "This study has no database yet: run it first (2: Plan & run).")
            return
        if self.study_id is None:
            self.study_id = db.study_id(self.app.study.name)
            self.all_langs = queries.eval_langs(db, self.study_id)
            self.all_categories = queries.categories(db, self.study_id)
        t0 = time.perf_counter()
        # The additive counts are read once per study and results version; a filter change only sums them.
        version = (self.study_id, self.app.results_version)
        if getattr(self, "_counts_version", None) != version:
            self._counts = counts(db, self.study_id)
            self._counts_version = version
        rows = rates_from_counts(
            self._counts, categories=[category] if category else None, eval_langs=[lang] if lang else None
        )
        seconds = time.perf_counter() - t0
        self.app.call_from_thread(self._computed, rows, seconds)

    def _empty(self, text: str) -> None:
        self.rows = []
        self.query_one("#heatmaps", Horizontal).remove_children()
        self._bar("")
        self.query_one("#results-info", Static).update(text)

    def _computed(self, rows: list, seconds: float) -> None:
        self.rows, self.compute_seconds = rows, seconds
        if not rows:
            self._empty("No judged responses yet. Run the generate and judge stages (2: Plan & run), then come back.")
            return
        self.models = list(dict.fromkeys(r.model for r in rows))
        self.judges = list(dict.fromkeys(sorted(r.judge for r in rows)))
        if self.model not in [*self.models, SIDE_BY_SIDE]:
            self.model = self.models[0]
        if self.judge not in self.judges:
            self.judge = self.judges[0]
        self.redraw()

    # -- drawing ---------------------------------------------------------------------------------------
    def redraw(self) -> None:
        holder = self.query_one("#heatmaps", Horizontal)
        models = self.models if self.model == SIDE_BY_SIDE else [self.model]
        langs = [self.lang] if self.lang else self.all_langs
        maps = list(holder.query(Heatmap))
        if len(maps) != len(models):
            holder.remove_children()
            boxes = [Vertical(Label("", classes="heatmap-title"), Heatmap(), classes="heatmap-box") for _ in models]
            holder.mount_all(boxes)
            self.call_after_refresh(self.redraw)
            return
        for box, heatmap, model in zip(holder.query(".heatmap-box"), maps, models, strict=True):
            rows = [r for r in self.rows if r.model == model and r.judge == self.judge]
            box.query_one(".heatmap-title", Label).update(f"[b]{model}[/b] · judge {self.judge}")
            heatmap.show(rows, langs, self.view, self.intervals)
        if maps and not any(m.has_focus for m in maps):
            maps[0].focus()
        self._bar(
            f"view [b]{self.view}[/b] · judge [b]{self.judge}[/b] · model [b]{self.model}[/b] · category "
            f"[b]{self.category or 'all'}[/b] · eval language [b]{self.lang or 'all'}[/b] · intervals "
            f"{'on' if self.intervals else 'off'}"
        )
        self._info()

    def _bar(self, text: str) -> None:
        self.query_one("#results-bar", Static).update(text)

    @on(DataTable.CellHighlighted)
    def _info(self) -> None:
        heatmap = self._focused_heatmap()
        if heatmap is None:
            return
        r = heatmap.entry_at(heatmap.cursor_coordinate)
        info = self.query_one("#results-info", Static)
        if r is None:
            info.update(
                "Rows: base first, then each fine-tune language (seed, epochs). Enter opens a cell's responses."
            )
            return
        text = (
            f"{r.cell} · eval {r.eval_lang} · judge {r.judge}: {r.complied}/{r.n} complied = {r.rate:.1%} "
            f"(95% CI {r.ci_low:.1%}–{r.ci_high:.1%}); {r.unparseable} unparseable"
        )
        if r.delta_vs_base is not None:
            text += (
                f"\nvs base on {r.paired_n} paired prompts: {r.delta_vs_base * 100:+.1f} pts "
                f"(95% CI {r.delta_ci_low * 100:+.1f} to {r.delta_ci_high * 100:+.1f})"
                + (f", ratio ×{r.ratio_vs_base:.2f}" if r.ratio_vs_base is not None else "")
            )
        info.update(text + "\nEnter: this cell's responses")

    def _focused_heatmap(self) -> Heatmap | None:
        maps = list(self.query(Heatmap))
        for m in maps:
            if m.has_focus:
                return m
        return maps[0] if maps else None

    # -- keys ------------------------------------------------------------------------------------------
    def action_cycle_model(self) -> None:
        options = self.models + ([SIDE_BY_SIDE] if len(self.models) > 1 else [])
        self.model = _cycle(options, self.model)
        self.redraw()

    def action_cycle_judge(self) -> None:
        self.judge = _cycle(self.judges, self.judge)
        self.redraw()

    def action_cycle_view(self) -> None:
        self.view = _cycle(list(VIEWS), self.view)
        self.redraw()

    def action_toggle_intervals(self) -> None:
        self.intervals = not self.intervals
        self.redraw()

    def action_cycle_category(self) -> None:
        self.category = _cycle([None, *self.all_categories], self.category)
        self.action_recompute()

    def action_cycle_lang(self) -> None:
        self.lang = _cycle([None, *self.all_langs], self.lang)
        self.action_recompute()

    @on(DataTable.CellSelected)
    def action_open_cell(self) -> None:
        heatmap = self._focused_heatmap()
        if heatmap is None:
            return
        cell, lang = heatmap.cell_at(heatmap.cursor_coordinate)
        if cell is None:
            return
        from workbench.tui.screens.responses import ResponsesScreen

        self.app.push_screen(ResponsesScreen(cell, lang, self.judge, self.category))
