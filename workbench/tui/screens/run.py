"""Plan & run: the grid of cells x stages with their status; start, stop and resume; live progress.

The columns are the stage registry's stages in run order (a stage registered by a plugin or a test
appears too); study-scoped stages are filled on the ``(study)`` row, cell-scoped ones on the cell
rows where they apply (``-`` where they do not). The grid is read from the database
(``runner.status_grid``, in a thread), then kept up to date from ``app.run_state``, the fold of the
followed run's events; when the run ends the database has the last word again. Starting runs
``workbench run`` as a detached subprocess (see ``runner_client``), after a confirmation that gives
the plan's estimate, so this screen never blocks. The run followed is the study's live run whoever
started it (the app finds it through the study's run lock), else the last one that ended.
"""

from __future__ import annotations

import time

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Label, ProgressBar, RichLog, Static

from workbench.stages.base import STUDY_UNIT
from workbench.tui.messages import RunFollowed, RunStateChanged
from workbench.tui.screens.base import WorkbenchScreen

STATUS_STYLE = {
    "done": "green",
    "failed": "bold red",
    "running": "bold yellow",
    "interrupted": "magenta",
    "queued": "blue",
    "pending": "white",
    "skipped": "cyan",
    "-": "dim",
}
STUDY_ROW = "(study)"
LOG_STYLE = {"error": "bold red", "hint": "yellow", "warning": "yellow", "dim": "dim"}


def fmt_eta(s: float | None) -> str:
    """Seconds left, in the unit a person reads best."""
    if s is None:
        return "ETA ?"
    if s < 90:
        return f"ETA {s:.0f} s"
    if s < 5400:
        return f"ETA {s / 60:.0f} min"
    return f"ETA {s / 3600:.1f} h"


def grid_status(status: str) -> str:
    """What the grid shows for a unit status of the run: a unit the runner skips is already done."""
    return "done" if status == "skipped" else status


class StageBar(Horizontal):
    """One stage's progress bar, unit count and ETA."""

    def __init__(self, stage: str):
        super().__init__(classes="stage-bar")
        self.stage = stage
        self.progress = None  # the StageProgress drawn (kept to draw once composed)

    def compose(self) -> ComposeResult:
        yield Label(f"{self.stage:<9}", classes="stage-name")
        yield ProgressBar(total=100, show_eta=False, show_percentage=True)
        yield Label("", classes="stage-eta")

    def on_mount(self) -> None:
        if self.progress is not None:
            self.draw(self.progress)

    def draw(self, sp) -> None:
        """Show a :class:`workbench.events.StageProgress`."""
        self.progress = sp
        bars = self.query(ProgressBar)
        if not bars:
            return  # not composed yet: on_mount draws it
        bars.first().update(progress=100 * sp.fraction())
        left = "done" if sp.ended else fmt_eta(sp.eta())
        failed = f" · {sp.failed} failed" if sp.failed else ""
        self.query_one(".stage-eta", Label).update(f"{sp.done}/{sp.total} {left}{failed}")


class RunScreen(WorkbenchScreen):
    MODE = "run"
    TITLE_TEXT = "Plan & run"
    HELP = """
Rows are **cells** (a model's base, then one fine-tuned copy per language, seed and epochs); columns
are the **stages** in run order. Study-wide stages (`prepare`, `results`) fill the `(study)` row.
Each entry is `pending`, `running`, `done`, `failed`, `interrupted` (its process has gone) or `-`
(the stage does not apply there); the pane under the grid shows the selected entry's error and hint.

Every run key asks first, with what the run will do and a rough time on this machine; only `y`
starts it. Runs go on in the background and outlive the TUI.

One run per study at a time: if the study is already being run (from this TUI, another one,
`workbench run` or `make demo`), nothing new starts; the screen follows that run (progress bars,
loss curve, log) and `x` stops it (asking first when it was started elsewhere). Resuming after a
stop or a crash is `a` again: finished units are skipped.
"""
    BINDINGS = [
        Binding("a", "run_all", "Run all"),
        Binding("s", "run_stage", "Run stage"),
        Binding("c", "run_cell", "Run cell"),
        Binding("enter", "run_one", "Run this entry", show=False),
        Binding("x", "stop", "Stop"),
        Binding("r", "reload", "Reload"),
    ]

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="run-body"):
            with Vertical(id="grid-pane"):
                yield DataTable(id="grid", cursor_type="cell")
                yield Static("", id="cell-detail", markup=False)
            with Vertical(id="live-pane"):
                yield Static("idle", id="run-status")
                yield Vertical(id="stage-bars")
                yield Static("", id="throughput")
                yield Static("", id="loss-holder")
                yield RichLog(id="log", max_lines=1000, wrap=True, markup=False)

    def __init__(self) -> None:
        super().__init__()
        self.recipe = None
        self.stages: list[tuple[str, str]] = []  # (name, scope) of every registered stage: the columns
        self.warnings: list[str] = []  # judges that cannot read an evaluation language (judges.coverage)
        self.status: dict[tuple[str, str], dict] = {}  # (stage, row) -> {"status", "error", "hint", ...}
        self.rows: list[str] = []
        self.loss_plot = None
        self.loss_drawn_at = 0.0
        self.logged = 0  # lines of run_state.logs already written to the log pane

    # -- loading -------------------------------------------------------------------------------------
    def study_changed(self) -> None:
        self.recipe = None
        self._clear_live()
        self.action_reload()

    def resumed(self) -> None:
        self.draw_run()

    def action_reload(self) -> None:
        self.query_one("#cell-detail", Static).update("reading the plan…")
        self._load_grid(self.app.study)

    @work(thread=True, exclusive=True, group="grid")
    def _load_grid(self, ref) -> None:
        """Read the recipe, the registry's stages and the grid's state (the database) off the UI thread."""
        from workbench import registry
        from workbench.cells import cells
        from workbench.errors import RecipeError, WorkbenchError
        from workbench.recipe import load_recipe
        from workbench.runner import status_grid

        if ref is None:
            return
        if ref.recipe_path is None:
            self.app.call_from_thread(self._show_no_recipe)
            return
        try:
            recipe = load_recipe(ref.recipe_path, quick=ref.quick, allow_downloads=True)
            # the stages this recipe runs: a stage with no unit (translate without [translation]) is no column
            every = cells(recipe)
            stages = [(s.name, s.scope) for s in registry.stages() if s.units(recipe, every)]
            grid = status_grid(recipe)
        except RecipeError as exc:
            self.app.call_from_thread(self._show_recipe_problems, exc)
            return
        except WorkbenchError as exc:
            self.app.call_from_thread(self.app.show_error, exc.message, exc.hint)
            return
        self.app.call_from_thread(self._show_grid, ref, recipe, stages, grid)

    def _show_no_recipe(self) -> None:
        self.query_one("#cell-detail", Static).update(
            "This study was opened from its database alone: results, compare and label work; to run stages, "
            "open its recipe from the studies screen (1)."
        )

    def _show_recipe_problems(self, exc) -> None:
        text = "\n".join(f"error: {p}" for p in exc.problems) + (f"\nhint: {exc.hint}" if exc.hint else "")
        self.query_one("#cell-detail", Static).update(text)

    def _show_grid(self, ref, recipe, stages: list[tuple[str, str]], grid: dict) -> None:
        """Draw the grid read from the database, then the followed run's newer statuses over it."""
        if ref != self.app.study:
            return  # read for a study no longer open
        self.recipe, self.stages = recipe, stages
        self.warnings = list(grid.get("warnings", []))
        self.status = {(s, STUDY_ROW): v for s, v in grid["study_stages"].items()}
        for row in grid["cells"]:
            for s, v in row["stages"].items():
                self.status[(s, row["cell"])] = v
        self.rows = [STUDY_ROW] + [row["cell"] for row in grid["cells"]]
        table = self.query_one("#grid", DataTable)
        keep = table.cursor_coordinate
        table.clear(columns=True)
        # Widths given explicitly (as the agreement screen does): a table filled from a worker's rows can
        # be drawn before it has measured them, seen as a clipped cell column. A run only ever turns an
        # entry into running, failed or done (7 characters at most); "interrupted" comes from a reload.
        table.add_column("cell", key="cell", width=max(len(r) for r in self.rows))
        for name, _ in stages:
            statuses = [len(self._cell_text(name, r)) for r in self.rows]
            table.add_column(name, key=name, width=max(len(name), len("running"), *statuses))
        for r in self.rows:
            table.add_row(r, *(self._cell_text(name, r) for name, _ in stages), key=r)
        table.move_cursor(row=keep.row, column=max(1, keep.column), animate=False)
        self.draw_run()
        self._show_detail()

    def _cell_text(self, stage: str, row: str) -> Text:
        st = self.status.get((stage, row))
        if st is None:
            return Text("-", style="dim")
        status = st["status"]
        return Text(status, style=STATUS_STYLE.get(status, "white"))

    def _set_status(self, stage: str, unit: str, status: str, error=None, hint=None) -> None:
        row = STUDY_ROW if unit in (STUDY_UNIT, "") else unit
        if row not in self.rows or (stage, row) not in self.status:
            return  # not a unit of the grid (a stage that does not apply to the cell is '-')
        old = self.status[(stage, row)]
        if old.get("status") == status and old.get("error") == error:
            return
        self.status[(stage, row)] = {"status": status, "error": error, "hint": hint}
        self.query_one("#grid", DataTable).update_cell(row, stage, self._cell_text(stage, row))

    # -- selection ------------------------------------------------------------------------------------
    def _selected(self) -> tuple[str | None, str | None]:
        """(row, stage) under the cursor (stage None on the cell column)."""
        table = self.query_one("#grid", DataTable)
        c = table.cursor_coordinate
        row = self.rows[c.row] if 0 <= c.row < len(self.rows) else None
        stage = self.stages[c.column - 1][0] if 1 <= c.column <= len(self.stages) else None
        return row, stage

    @on(DataTable.CellHighlighted, "#grid")
    def _show_detail(self) -> None:
        row, stage = self._selected()
        if row is None:
            return
        st = self.status.get((stage, row), {}) if stage else {}
        lines = [f"{row}" + (f" · {stage}: {st.get('status', '-')}" if stage else "")]
        if st.get("where"):
            lines.append(f"on {st['where']}" + (f" (attempt {st['attempts']})" if st.get("attempts") else ""))
        if st.get("error"):
            lines.append(f"error: {st['error']}")
        if st.get("hint"):
            lines.append(f"hint: {st['hint']}")
        if st.get("status") == "interrupted":
            lines.append("hint: the process that ran it has gone; a = resume (finished units are kept)")
        if st.get("started_at"):
            lines.append(
                f"started {st['started_at']}" + (f", finished {st['finished_at']}" if st.get("finished_at") else "")
            )
        lines += [f"warning: {w}" for w in self.warnings]
        self.query_one("#cell-detail", Static).update("\n".join(lines))

    @on(DataTable.CellSelected, "#grid")
    def _run_selected_cell(self) -> None:
        self.action_run_one()

    # -- actions --------------------------------------------------------------------------------------
    def action_run_all(self) -> None:
        self._start()

    def action_run_stage(self) -> None:
        _, stage = self._selected()
        if stage is None:
            self.notify("move the cursor onto a stage column first", severity="warning")
            return
        self._start(only=stage)

    def action_run_cell(self) -> None:
        row, _ = self._selected()
        if row is None or row == STUDY_ROW:
            self._start(only=",".join(name for name, scope in self.stages if scope == "study") or None)
            return
        self._start(cells=row)

    def action_run_one(self) -> None:
        row, stage = self._selected()
        if stage is None:
            return self.action_run_cell()
        self._start(only=stage, cells=None if row == STUDY_ROW else row)

    def _start(self, only: str | None = None, cells: str | None = None) -> None:
        if self.recipe is None:
            self.notify("this study has no valid recipe to run", severity="error")
            return
        self.app.request_run(only=only, cells=cells)

    def action_stop(self) -> None:
        self.app.stop_run()

    # -- live updates ----------------------------------------------------------------------------------
    def on_run_followed(self, message: RunFollowed) -> None:
        self.when_shown(self._clear_live)

    def on_run_state_changed(self, message: RunStateChanged) -> None:
        self.when_shown(self.draw_run)
        if message.ended:
            self.when_shown(self.action_reload)  # the final state (interrupted units show as such)

    def _clear_live(self) -> None:
        """Forget what the last run drew (a new run, or another study)."""
        self.query_one("#log", RichLog).clear()
        self.query_one("#stage-bars", Vertical).remove_children()
        self.logged = 0
        self.draw_run()

    def draw_run(self) -> None:
        """Draw ``app.run_state``: unit statuses, stage bars, throughput, the loss curve, new log lines."""
        state = self.app.run_state
        if self.app.following:
            failures = {(e.stage, e.unit): e for e in state.errors}
            for (stage, unit), status in state.statuses.items():
                e = failures.get((stage, unit)) if status == "failed" else None
                self._set_status(stage, unit, grid_status(status), e and e.error, e and e.hint)
        bars = self.query_one("#stage-bars", Vertical)
        have = {b.stage: b for b in bars.query(StageBar)}
        for stage, sp in state.stages.items():
            bar = have.get(stage)
            if bar is None:
                bar = StageBar(stage)
                bar.progress = sp
                bars.mount(bar)
            else:
                bar.draw(sp)
        self.query_one("#throughput", Static).update(self._throughput_text(state))
        loss = state.loss.get(state.train_unit or "", [])
        if loss and time.monotonic() - self.loss_drawn_at > 0.5:
            self._draw_loss(state.train_unit, loss)
        log = self.query_one("#log", RichLog)
        logs = list(state.logs)
        if len(logs) < self.logged:  # a new run's state
            self.logged = 0
            log.clear()
        for level, text in logs[self.logged :]:
            log.write(Text(text, style=LOG_STYLE.get(level, "")))
        self.logged = len(logs)
        self._draw_run_status()

    @staticmethod
    def _throughput_text(state) -> str:
        """The unit in flight's progress (any stage: one shape), the last loss and tokens/s."""
        parts = []
        running = [
            ev
            for (stage, unit), ev in state.unit_progress.items()
            if stage == state.current_stage and state.statuses.get((stage, unit)) == "running"
        ]
        if running:
            ev = running[-1]
            part = f" [{ev.part}]" if ev.part else ""
            parts.append(f"{ev.stage} {ev.unit}{part}: {ev.done:,}/{ev.total:,} {ev.what}")
        loss = state.loss.get(state.train_unit or "", [])
        if loss:
            parts.append(f"{state.train_unit}: loss {loss[-1][1]:.3f} at step {loss[-1][0]}")
        if state.tokens_per_s:
            parts.append(f"{state.tokens_per_s:,.0f} tokens/s")
        return "  ·  ".join(parts)

    def _draw_loss(self, unit: str, loss: list[tuple[int, float]]) -> None:
        if self.loss_plot is None:
            from textual_plotext import PlotextPlot

            self.loss_plot = PlotextPlot(id="loss")
            holder = self.query_one("#loss-holder", Static)
            self.query_one("#live-pane", Vertical).mount(self.loss_plot, after=holder)
        plt = self.loss_plot.plt
        plt.clear_data()
        plt.title(f"training loss · {unit}")
        plt.xlabel("step")
        plt.plot([s for s, _ in loss], [v for _, v in loss], marker="braille")
        self.loss_plot.refresh()
        self.loss_drawn_at = time.monotonic()

    def _draw_run_status(self) -> None:
        self.query_one("#run-status", Static).update(run_status_text(self.app))


def run_status_text(app) -> str:
    """One line on the run shown: the live one (who started it, how to stop it) or the last that ended."""
    h, state = app.run_handle, app.run_state
    if h is None:
        return "idle · a runs (or resumes) the whole study"
    if app.following and h.pid is not None:
        if h.started_here:
            return f"running · pid {h.pid} · x stops it · it goes on if you close the TUI"
        return f"running · pid {h.pid} · started outside this TUI: {h.command_text()} · x stops it (asks first)"
    if app.following:
        return "reading the last run…"
    ended = state.ended
    summary = f"{ended.done} done, {ended.skipped} skipped, {ended.failed} failed" if ended else ""
    code = h.exit_code()
    if h.pid is None:
        last = "last run ended" + (f": {summary}" if summary else " without a summary (stopped or crashed)")
        return f"{last} · a resumes or reruns"
    how = f"finished (exit code {code})" if code is not None else "finished"
    if ended is None and code in (None, 0):
        how = "ended without a summary (stopped or crashed)"
    return f"{how}{': ' + summary if summary else ''} · a resumes or reruns"
