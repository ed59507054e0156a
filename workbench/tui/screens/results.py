"""Results: compliance-rate heatmaps, fine-tune language x evaluation language, per model and judge.

Rates come from ``workbench.analysis.results``: the additive counts are read once (in a thread) and
again only when :class:`~workbench.tui.messages.ResultsChanged` says a run changed them; a category
or language filter sums them again, and switching judge, model or view redraws from the rows. A
fine-tuned cell generated under other settings than its base shows no change (its note says why).
"""

from __future__ import annotations

import time

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Label, Static
from textual.worker import get_current_worker

from workbench.tui.messages import ResultsChanged
from workbench.tui.screens.base import WorkbenchScreen
from workbench.tui.widgets.heatmap import VIEWS, Heatmap
from workbench.views import JUDGED, MEASURE_READERS

SIDE_BY_SIDE = "side by side"


def _cycle(options: list, current):
    if not options:
        return None
    i = options.index(current) if current in options else -1
    return options[(i + 1) % len(options)]


class ResultsScreen(WorkbenchScreen):
    MODE = "results"
    TITLE_TEXT = "Results"
    HELP = """
A heatmap of the **compliance rate** (how often a model complied with unsafe requests) per fine-tune
language (rows, the base model first, with seed and epochs) and evaluation language (columns), for
one model and one judge. The line below gives the selected entry's counts, its Wilson interval and
its change against the base on the paired prompts (Newcombe's interval). Only current responses and
current judgments count; a fine-tuned cell whose base was generated under other settings shows no
change (`≠ settings`) and the line below says why.

`d` cycles the view: rate, its difference vs base (points), its ratio vs base, the refusal rate, its
difference. Enter opens the selected cell's responses, with each judge's score and evidence.

`R` writes the study's report (the HTML page, heatmaps and tables of `workbench report`) into
models/STUDY/report and says where; in classroom mode it leaves every response text out.
`c` cycles the measurement: compliance (the heatmaps), **overrefusal** (how often safe prompts that
look unsafe are refused, and its change against the base), **capability** (perplexity of held-out benign
answers per cell and language, and its change against the base paired by item), **choice**
(multiple-choice accuracy, and its change against the base paired by question), **drift** (how far
each prompt's pooled last-layer state moved from the base's, cosine distance), **fidelity** (the
share of responses not in the prompt's language), **seeds** (compliance over seeds: mean ± sd) and
**decoupling** (the correlation of the change in compliance with the change in capability).
The same tables as `workbench results --measure ...`.
"""
    BINDINGS = [
        Binding("m", "cycle_model", "Model"),
        Binding("j", "cycle_judge", "Judge"),
        Binding("d", "cycle_view", "View"),
        Binding("i", "toggle_intervals", "CI"),
        Binding("f", "cycle_category", "Category"),
        Binding("l", "cycle_lang", "Language"),
        Binding("enter", "open_cell", "Responses", show=False),
        Binding("c", "cycle_measure", "Measure"),
        Binding("r", "recompute", "Recompute"),
        Binding("R", "write_report", "Report"),
    ]

    def compose_body(self) -> ComposeResult:
        with Vertical(id="results-body"):
            yield Static("", id="results-bar")
            yield Horizontal(id="heatmaps")
            yield Static("", id="measure-view")
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
        self.compute_seconds: float | None = None
        self.measure = "compliance"
        # rows of the measurements the stages stored (overrefusal, capability, drift), read in a thread
        # when one of them is first shown
        self.measured: dict[str, list] | None = None
        self.last_report = None  # the report the R key wrote last (its report.html)
        # The additive counts (analysis.results.counts), read once per study and change of results; a
        # filter change only sums them again. None: to be read.
        self.counts: list[dict] | None = None

    def study_changed(self) -> None:
        self.model = self.judge = self.category = self.lang = None
        self.counts = self.measured = None
        self.action_recompute()

    def on_results_changed(self, message: ResultsChanged) -> None:
        self.counts = self.measured = None
        self.when_shown(self.action_recompute)

    # -- computing -------------------------------------------------------------------------------------
    def action_recompute(self) -> None:
        self._bar("computing…")
        self._compute(self.app.study, self.app.reader(), self.category, self.lang, self.counts)
        if self.measure in (*MEASURE_READERS, "decoupling"):
            self._load_measured(self.app.study, self.app.reader())

    def action_write_report(self) -> None:
        """Write the study's report (``workbench report``) beside its artifacts, in a thread; say where."""
        ref = self.app.study
        if ref is None:
            return
        self.notify("writing the report…")
        self._write_report(ref, bool(self.app.classroom))

    @work(thread=True, exclusive=True, group="report")
    def _write_report(self, ref, classroom: bool) -> None:
        from workbench import paths
        from workbench.errors import WorkbenchError
        from workbench.report import write_report

        target = paths.study_models_dir(ref.name) / "report"
        try:
            done = write_report(ref.db_path, ref.name, target, classroom=classroom, markdown=True)
        except WorkbenchError as exc:
            self.app.call_from_thread(self.app.show_error, exc.message, exc.hint)
            return
        where = target / "report.html"
        self.app.call_from_thread(
            self.notify, f"report written: {where} ({len(done.written)} files)" + (" · classroom" if classroom else "")
        )
        self.app.call_from_thread(setattr, self, "last_report", where)

    @work(thread=True, exclusive=True, group="measured")
    def _load_measured(self, ref, db) -> None:
        import importlib

        from workbench.store import read

        measured: dict[str, list] = {m: [] for m in MEASURE_READERS}
        if db is not None and db.has_tables():
            sid = read.study_id(db, ref.name, fallback=True)
            if sid is not None:
                for m in MEASURE_READERS:
                    measured[m] = importlib.import_module(f"workbench.analysis.{m}").compute(db, sid)
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._measured_loaded, ref, measured)

    def _measured_loaded(self, ref, measured: dict[str, list]) -> None:
        if ref == self.app.study:
            self.measured = measured
            self.redraw()

    @work(thread=True, exclusive=True, group="compute")
    def _compute(self, ref, db, category: str | None, lang: str | None, table: list[dict] | None) -> None:
        """Rates for the filter, from the counts (read now when ``table`` is None); drawn on the UI thread."""
        from workbench.analysis.results import counts, rates_from_counts
        from workbench.store import read

        if db is None or not db.has_tables():
            self.app.call_from_thread(self._show_empty, "This study has no database yet: run it first (2: Plan & run).")
            return
        sid = read.study_id(db, ref.name, fallback=True)
        langs, categories = read.eval_langs(db, sid), read.categories(db, sid)
        t0 = time.perf_counter()
        if table is None:
            table = counts(db, sid)
        rows = rates_from_counts(
            table, categories=[category] if category else None, eval_langs=[lang] if lang else None
        )
        seconds = time.perf_counter() - t0
        if not get_current_worker().is_cancelled:  # a newer filter or study is being computed
            self.app.call_from_thread(self._computed, ref, table, langs, categories, rows, seconds)

    def _show_empty(self, text: str) -> None:
        self.rows = []
        self.query_one("#heatmaps", Horizontal).remove_children()
        self._bar("")
        self.query_one("#results-info", Static).update(text)

    def _computed(self, ref, table: list[dict], langs: list[str], categories: list[str], rows: list, seconds: float):
        """Keep what the worker read and draw it."""
        if ref != self.app.study:
            return
        self.counts, self.all_langs, self.all_categories = table, langs, categories
        self.rows, self.compute_seconds = rows, seconds
        if not rows:
            self._show_empty(
                "No judged responses yet. Run the generate and judge stages (2: Plan & run), then come back."
            )
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
        """Draw the heatmaps of the rows computed (one per model side by side, or one), or the table of
        the measurement chosen with ``c``."""
        holder = self.query_one("#heatmaps", Horizontal)
        other = self.query_one("#measure-view", Static)
        holder.display = self.measure == "compliance"
        other.display = not holder.display
        if not holder.display:
            self._draw_measure(other)
            return
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
        self._show_info()

    def _draw_measure(self, view: Static) -> None:
        from rich.console import Group
        from rich.text import Text

        from workbench import views

        if self.measure in (*MEASURE_READERS, "decoupling"):
            if self.measured is None:
                view.update("reading the measurements…")
                self._load_measured(self.app.study, self.app.reader())
                return
            source = "capability" if self.measure == "decoupling" else self.measure
            rows = self.measured[source]
            empty = f"No {source} measurement yet: run the {source} stage (2: Plan & run)."
        else:
            judged = [r for r in self.rows if r.judge == self.judge]
            rows = views.fidelity_rows(judged) if self.measure == "fidelity" else views.seed_rows(judged)
            empty = "No judged responses yet: run the generate and judge stages (2: Plan & run)."
        if self.measure == "overrefusal" and rows:
            judges = sorted({r.judge for r in rows})  # a judge of the compliance results, else the first
            rows = [r for r in rows if r.judge == (self.judge if self.judge in judges else judges[0])]
        if self.lang:
            rows = [r for r in rows if (r.eval_lang if hasattr(r, "eval_lang") else r["eval_lang"]) == self.lang]
        if self.measure == "decoupling" and rows:
            from workbench.analysis.capability import decoupling

            judged = [r for r in self.rows if r.judge == self.judge and (not self.lang or r.eval_lang == self.lang)]
            legend = Text(views.MEASURE_LEGENDS[self.measure], style="dim")
            view.update(Group(views.decoupling_table(decoupling(judged, rows, self.measured["drift"])), legend))
        elif not rows:
            view.update(empty)
        else:
            legend = Text(views.MEASURE_LEGENDS[self.measure], style="dim")
            view.update(Group(*views.measure_tables(self.measure, rows), legend))
        self._bar(
            f"measure [b]{self.measure}[/b]"
            + (f" · judge [b]{self.judge}[/b]" if self.measure in JUDGED else "")
            + f" · eval language [b]{self.lang or 'all'}[/b] · c: next measure"
        )
        self.query_one("#results-info", Static).update("")

    def _bar(self, text: str) -> None:
        self.query_one("#results-bar", Static).update(text)

    @on(DataTable.CellHighlighted)
    def _show_info(self) -> None:
        heatmap = self.focused_heatmap()
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
        if r.note:
            text += f"\nno change against the base: {r.note}"
        elif r.delta_vs_base is not None:
            text += (
                f"\nvs base on {r.paired_n} paired prompts: {r.delta_vs_base * 100:+.1f} pts "
                f"(95% CI {r.delta_ci_low * 100:+.1f} to {r.delta_ci_high * 100:+.1f})"
                + (f", ratio ×{r.ratio_vs_base:.2f}" if r.ratio_vs_base is not None else "")
            )
        info.update(text + "\nEnter: this cell's responses")

    def focused_heatmap(self) -> Heatmap | None:
        """The heatmap with the focus (the first one when none has it)."""
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

    def action_cycle_measure(self) -> None:
        from workbench.views import MEASURES

        self.measure = _cycle(list(MEASURES), self.measure)
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
        heatmap = self.focused_heatmap()
        if heatmap is None:
            return
        cell, lang = heatmap.cell_at(heatmap.cursor_coordinate)
        if cell is None:
            return
        from workbench.tui.screens.responses import ResponsesScreen

        self.app.push_screen(ResponsesScreen(cell, lang, self.judge, self.category))
