"""Plan & run: the grid of cells x stages with their status; start, stop and resume; live progress.

The grid is read once from the database (``runner.status_grid``, in a thread) and then kept up to
date by the run's events alone. Starting runs ``workbench run`` as a detached subprocess (see
``runner_client``); the app follows its event file, so this screen never blocks.
"""

from __future__ import annotations

import time

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Label, ProgressBar, RichLog, Static

from workbench.plan import STAGES
from workbench.tui.app import RunEvents
from workbench.tui.screens.base import WorkbenchScreen

STATUS_STYLE = {
    "done": "green",
    "failed": "bold red",
    "running": "bold yellow",
    "interrupted": "magenta",
    "pending": "white",
    "skipped": "cyan",
    "-": "dim",
}
STUDY_ROW = "(study)"


def _fmt_secs(s: float | None) -> str:
    if s is None:
        return "ETA ?"
    if s < 90:
        return f"ETA {s:.0f} s"
    if s < 5400:
        return f"ETA {s / 60:.0f} min"
    return f"ETA {s / 3600:.1f} h"


class StageBar(Horizontal):
    """One stage's progress bar, unit count and ETA."""

    def __init__(self, stage: str):
        super().__init__(classes="stage-bar")
        self.stage = stage
        self.sp = None

    def compose(self) -> ComposeResult:
        yield Label(f"{self.stage:<9}", classes="stage-name")
        yield ProgressBar(total=100, show_eta=False, show_percentage=True)
        yield Label("", classes="stage-eta")

    def on_mount(self) -> None:
        if self.sp is not None:
            self.show(self.sp)

    def show(self, sp) -> None:
        self.sp = sp
        bars = self.query(ProgressBar)
        if not bars:
            return  # not composed yet: on_mount draws it
        bars.first().update(progress=100 * sp.fraction())
        left = "done" if sp.ended else _fmt_secs(sp.eta())
        failed = f" · {sp.failed} failed" if sp.failed else ""
        self.query_one(".stage-eta", Label).update(f"{sp.done}/{sp.total} {left}{failed}")


class RunScreen(WorkbenchScreen):
    MODE = "run"
    TITLE_TEXT = "Plan & run"
    BINDINGS = [
        Binding("a", "run_all", "Run/resume all"),
        Binding("s", "run_stage", "Run stage"),
        Binding("c", "run_cell", "Run cell"),
        Binding("enter", "run_one", "Run this", show=False),
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
        self.grid: dict = {}
        self.status: dict[tuple[str, str], dict] = {}  # (stage, row id) -> {"status", "error", "hint"}
        self.rows: list[str] = []
        self._plot = None
        self._plot_drawn = 0.0
        self._logged = 0
        self._db_timer = None

    # -- loading -------------------------------------------------------------------------------------
    def study_changed(self) -> None:
        self.query_one("#log", RichLog).clear()
        self.query_one("#stage-bars", Vertical).remove_children()
        self._logged = 0
        self.action_reload()

    def resumed(self) -> None:
        self._catch_up()

    def action_reload(self) -> None:
        self.query_one("#cell-detail", Static).update("reading the plan…")
        self._load()

    @work(thread=True, exclusive=True, group="grid")
    def _load(self) -> None:
        from workbench.errors import RecipeError, WorkbenchError
        from workbench.recipe import load_recipe
        from workbench.runner import status_grid

        ref = self.app.study
        if ref is None:
            return
        if ref.recipe_path is None:
            self.app.call_from_thread(self._no_recipe)
            return
        try:
            recipe = load_recipe(ref.recipe_path, quick=ref.quick, allow_downloads=True)
            grid = status_grid(recipe)
        except RecipeError as exc:
            self.app.call_from_thread(self._recipe_problems, exc)
            return
        except WorkbenchError as exc:
            self.app.call_from_thread(self.app.show_error, exc.message, exc.hint)
            return
        self.app.call_from_thread(self._show_grid, recipe, grid)

    def _no_recipe(self) -> None:
        self.query_one("#cell-detail", Static).update(
            "This study was opened from its database alone: results, compare and label work; to run stages, "
            "open its recipe from the studies screen (1)."
        )

    def _recipe_problems(self, exc) -> None:
        text = "\n".join(f"error: {p}" for p in exc.problems) + (f"\nhint: {exc.hint}" if exc.hint else "")
        self.query_one("#cell-detail", Static).update(text)

    def _show_grid(self, recipe, grid: dict) -> None:
        self.recipe, self.grid = recipe, grid
        self.status = {(s, STUDY_ROW): v for s, v in grid["study_stages"].items()}
        for row in grid["cells"]:
            for s, v in row["stages"].items():
                self.status[(s, row["cell"])] = v
        self.rows = [STUDY_ROW] + [row["cell"] for row in grid["cells"]]
        table = self.query_one("#grid", DataTable)
        keep = table.cursor_coordinate
        table.clear(columns=True)
        table.add_column("cell", key="cell")
        for s in STAGES:
            table.add_column(s, key=s)
        for r in self.rows:
            table.add_row(r, *(self._cell_text(s, r) for s in STAGES), key=r)
        table.move_cursor(row=keep.row, column=max(1, keep.column), animate=False)
        # Events newer than the database read win while the run goes on; after it, the database has the last word.
        h = self.app.run_handle
        self._catch_up(replay=h is not None and h.alive())
        self._show_detail()
        self._follow_db_if_cli_run()

    def _cell_text(self, stage: str, row: str) -> Text:
        st = self.status.get((stage, row))
        if st is None:
            return Text("-", style="dim")
        status = st["status"]
        return Text(status, style=STATUS_STYLE.get(status, "white"))

    def _set_status(self, stage: str, unit: str, status: str, error=None, hint=None) -> None:
        row = STUDY_ROW if unit in ("study", "") else unit
        if row not in self.rows or stage not in STAGES:
            return
        self.status[(stage, row)] = {"status": status, "error": error, "hint": hint}
        self.query_one("#grid", DataTable).update_cell(row, stage, self._cell_text(stage, row))

    # -- selection ------------------------------------------------------------------------------------
    def _selected(self) -> tuple[str | None, str | None]:
        table = self.query_one("#grid", DataTable)
        c = table.cursor_coordinate
        row = self.rows[c.row] if 0 <= c.row < len(self.rows) else None
        stage = STAGES[c.column - 1] if 1 <= c.column <= len(STAGES) else None
        return row, stage

    @on(DataTable.CellHighlighted, "#grid")
    def _show_detail(self) -> None:
        row, stage = self._selected()
        if row is None:
            return
        st = self.status.get((stage, row), {}) if stage else {}
        lines = [f"{row}" + (f" · {stage}: {st.get('status', '-')}" if stage else "")]
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
        lines.append("a run/resume all · s this stage for every cell · c every stage of this cell · enter this one")
        self.query_one("#cell-detail", Static).update("\n".join(lines))

    @on(DataTable.CellSelected, "#grid")
    def _selected_cell(self) -> None:
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
            self._start(only="prepare")
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
        if self.app.start_run(only=only, cells=cells):
            self.query_one("#log", RichLog).clear()
            self.query_one("#stage-bars", Vertical).remove_children()
            self._logged = 0
            self._update_run_status()

    def action_stop(self) -> None:
        self.app.stop_run()

    # -- live updates ----------------------------------------------------------------------------------
    @on(RunEvents)
    def _on_run_events(self, message: RunEvents) -> None:
        for ev in message.events:
            kind = ev.get("event")
            if kind in ("done", "skipped", "failed"):
                status = "done" if kind == "skipped" and ev.get("reason") == "already done" else kind
                self._set_status(ev.get("stage", ""), ev.get("unit", ""), status, ev.get("error"), ev.get("hint"))
            elif kind == "stage_start" and ev.get("stage") in ("prepare", "results"):
                self._set_status(ev["stage"], "study", "running")
            elif kind in ("train_step", "progress", "gen_progress", "judge_progress") and ev.get("unit"):
                if self.status.get((ev.get("stage"), ev["unit"]), {}).get("status") != "running":
                    self._set_status(ev.get("stage", ""), ev["unit"], "running")
        self._catch_up()
        if message.ended:
            self.action_reload()  # one read of the final state (interrupted units show as such)

    def _catch_up(self, replay: bool = False) -> None:
        """Draw the run state: bars, throughput, loss curve and the log lines not yet shown."""
        state = self.app.run_state
        if replay:
            for (stage, unit), status in state.statuses.items():
                self._set_status(stage, unit, status)
        bars = self.query_one("#stage-bars", Vertical)
        have = {b.stage: b for b in bars.query(StageBar)}
        for stage, sp in state.stages.items():
            bar = have.get(stage)
            if bar is None:
                bar = StageBar(stage)
                bar.sp = sp
                bars.mount(bar)
            else:
                bar.show(sp)
        tps = f"{state.tokens_per_s:,.0f} tokens/s" if state.tokens_per_s else ""
        unit = state.train_unit or ""
        loss = state.loss.get(unit, [])
        last = f"loss {loss[-1][1]:.3f} at step {loss[-1][0]}" if loss else ""
        self.query_one("#throughput", Static).update("  ·  ".join(x for x in (unit, last, tps) if x))
        if loss and time.monotonic() - self._plot_drawn > 0.5:
            self._draw_loss(unit, loss)
        log = self.query_one("#log", RichLog)
        logs = list(state.logs)
        if len(logs) < self._logged:
            self._logged = 0
            log.clear()
        styles = {"error": "bold red", "hint": "yellow", "warning": "yellow", "dim": "dim"}
        for level, text in logs[self._logged :]:
            log.write(Text(text, style=styles.get(level, "")))
        self._logged = len(logs)
        self._update_run_status()

    def _draw_loss(self, unit: str, loss: list[tuple[int, float]]) -> None:
        if self._plot is None:
            from textual_plotext import PlotextPlot

            self._plot = PlotextPlot(id="loss")
            holder = self.query_one("#loss-holder", Static)
            self.query_one("#live-pane", Vertical).mount(self._plot, after=holder)
        plt = self._plot.plt
        plt.clear_data()
        plt.title(f"training loss · {unit}")
        plt.xlabel("step")
        plt.plot([s for s, _ in loss], [v for _, v in loss], marker="braille")
        self._plot.refresh()
        self._plot_drawn = time.monotonic()

    def _update_run_status(self) -> None:
        h = self.app.run_handle
        widget = self.query_one("#run-status", Static)
        if h is None:
            widget.update("idle · a starts (or resumes) the whole study")
        elif h.alive():
            widget.update(f"running · pid {h.pid} · x stops it · it keeps going if you close the TUI")
        else:
            code = h.exit_code()
            widget.update("finished" + ("" if code is None else f" (exit code {code})") + " · a resumes/reruns")

    # -- a run started elsewhere (the CLI): follow it by reading the database now and then ------------------
    def _follow_db_if_cli_run(self) -> None:
        from workbench.tui.runner_client import running_pids_in_db

        db = self.app.reader()
        if db is None or (self.app.run_handle is not None and self.app.run_handle.alive()):
            return
        sid = db.study_id(self.app.study.name)
        pids = running_pids_in_db(db, sid) if sid is not None else []
        if pids and self._db_timer is None:
            self.query_one("#run-status", Static).update(
                f"a run started outside this TUI is going (pid {', '.join(map(str, pids))}); following the database"
            )
            self._db_timer = self.set_interval(2.0, self._poll_db)
        elif not pids and self._db_timer is not None:
            self._db_timer.stop()
            self._db_timer = None

    def _poll_db(self) -> None:
        self._load()
