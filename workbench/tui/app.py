"""The workbench TUI: one app, one screen per step of a study (each a mode with its own stack).

Only the studies screen is built for the first frame; the others are imported when first shown
(the run screen brings plotext, the results screen scipy through the analysis code).

The app is the hub of the typed messages in :mod:`workbench.tui.messages`: workers post to it, it
folds run events into ``run_state`` (:class:`workbench.events.RunState`, the fold ``workbench run``
draws too) and posts a fresh message to each screen (:meth:`WorkbenchApp.tell_screens`). Screens
never talk to each other and never import this module (they reach the app as ``self.app``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from textual import work
from textual.app import App
from textual.binding import Binding
from textual.message import Message
from textual.reactive import reactive
from textual.worker import get_current_worker

from workbench.events import Log, RunState, UnitEnded
from workbench.store.read import ReadDB
from workbench.tui import runner_client
from workbench.tui.messages import (
    LabelsChanged,
    OpenCompare,
    ResultsChanged,
    RunEventsArrived,
    RunFollowed,
    RunStateChanged,
    StudyOpened,
)
from workbench.tui.state import StudyRef, load_settings, save_setting, study_from_recipe


def _studies():
    from workbench.tui.screens.studies import StudiesScreen

    return StudiesScreen()


def _run():
    from workbench.tui.screens.run import RunScreen

    return RunScreen()


def _results():
    from workbench.tui.screens.results import ResultsScreen

    return ResultsScreen()


def _compare():
    from workbench.tui.screens.compare import CompareScreen

    return CompareScreen()


def _label():
    from workbench.tui.screens.label import LabelScreen

    return LabelScreen()


def _agreement():
    from workbench.tui.screens.agreement import AgreementScreen

    return AgreementScreen()


class WorkbenchApp(App):
    """The workbench: one mode per step of a study; the hub that workers' messages go through."""

    CSS_PATH = "app.tcss"
    TITLE = "workbench"
    DEFAULT_MODE = "studies"
    MODES = {
        "studies": _studies,
        "run": _run,
        "results": _results,
        "compare": _compare,
        "label": _label,
        "agreement": _agreement,
    }
    BINDINGS = [
        Binding("1", "switch_mode('studies')", "Studies"),
        Binding("2", "switch_mode('run')", "Plan & run"),
        Binding("3", "switch_mode('results')", "Results"),
        Binding("4", "switch_mode('compare')", "Compare"),
        Binding("5", "switch_mode('label')", "Label"),
        Binding("6", "switch_mode('agreement')", "Agreement"),
        Binding("C", "toggle_classroom", "Classroom"),
        Binding("g", "guide_next", "Guide", show=False),
        Binding("G", "guide_prev", "Guide back", show=False),
        Binding("q", "quit", "Quit"),
    ]

    classroom: reactive[bool] = reactive(False, init=False)
    guide_step: reactive[int] = reactive(0, init=False)

    def __init__(self, recipe: Path | None = None, classroom: bool = False, runner: list[str] | None = None):
        super().__init__()
        self.initial_recipe = recipe
        self.study: StudyRef | None = None
        self.runner = runner  # None: runner_client.runner_command()
        self.run_handle: runner_client.RunHandle | None = None
        self.run_state = RunState()
        self.following = False  # a run's event file is being tailed (until its process has gone)
        self.readers: dict[Path, ReadDB] = {}
        self.annotator: str | None = load_settings().get("annotator")
        self.set_reactive(WorkbenchApp.classroom, classroom)  # screens see it from their first frame

    # -- start-up ------------------------------------------------------------------------------------
    def on_mount(self) -> None:
        self.set_class(self.classroom, "-classroom")
        ref = None
        if self.initial_recipe is not None:
            ref = study_from_recipe(Path(self.initial_recipe))
            if ref is None:
                self.show_error(f"{self.initial_recipe}: cannot read the recipe", "check the path and its TOML")
        if ref is not None:
            self.open_study(ref)

    # -- telling the screens -------------------------------------------------------------------------
    def tell_screens(self, make: Callable[[], Message]) -> None:
        """Post a fresh message from ``make`` to every screen of every mode (a message is delivered once)."""
        for mode in self.MODES:
            try:
                stack = self.get_screen_stack(mode)
            except KeyError:  # a mode never shown has no screens yet; they load on first show
                continue
            for screen in stack:
                screen.post_message(make())

    # -- the open study ------------------------------------------------------------------------------
    def open_study(self, ref: StudyRef, mode: str | None = None):
        """Make ``ref`` the open study and show it (plan & run for a recipe, results for a database)."""
        if self.study != ref:
            self.study = ref
            self.sub_title = ref.label
            self.detach_run()
            self.tell_screens(lambda: StudyOpened(ref))
            self.attach_live_run()
        return self.switch_mode(mode or ("run" if ref.recipe_path else "results"))

    def reader(self) -> ReadDB | None:
        """A reader of the open study's database (call on the UI thread), or None when it has none yet."""
        if self.study is None or not self.study.db_path.is_file():
            return None
        db = self.readers.get(self.study.db_path)
        if db is None:
            db = self.readers[self.study.db_path] = ReadDB(self.study.db_path)
        return db

    def set_annotator(self, name: str) -> None:
        """Remember the annotator's name (this session and the next)."""
        self.annotator = name
        save_setting("annotator", name)

    # Changes posted to the app (by its workers, a screen's, or anyone's) go on to every screen.
    def on_labels_changed(self, message: LabelsChanged) -> None:
        self.tell_screens(lambda: LabelsChanged(message.response_id, message.annotator))

    def on_results_changed(self, message: ResultsChanged) -> None:
        self.tell_screens(ResultsChanged)

    async def on_open_compare(self, message: OpenCompare) -> None:
        await self.switch_mode("compare")
        self.screen.post_message(OpenCompare(message.item, message.lang, message.cell))

    # -- runs ----------------------------------------------------------------------------------------
    def start_run(self, *, only: str | None = None, cells: str | None = None) -> bool:
        """Start ``workbench run`` for the open study (all of it, some stages, some cells) and follow it."""
        ref = self.study
        if ref is None or ref.recipe_path is None:
            self.notify("open a study's recipe first (1: Studies)", severity="warning")
            return False
        if self.run_handle is not None and self.run_handle.alive():
            self.notify("a run of this study is going; stop it first (x)", severity="warning")
            return False
        handle = runner_client.start_run(
            ref.name, ref.recipe_path, quick=ref.quick, only=only, cells=cells, command=self.runner
        )
        self.follow(handle)
        what = " ".join(x for x in (only and f"stage {only}", cells and f"cell {cells}") if x) or "the whole study"
        self.notify(f"started {what} (pid {handle.pid})")
        return True

    def stop_run(self) -> None:
        """SIGTERM the followed run; finished units are kept and a rerun resumes."""
        if self.run_handle is None or not self.run_handle.alive():
            self.notify("nothing is running", severity="warning")
            return
        self.run_handle.stop()
        self.notify(f"stopping pid {self.run_handle.pid}; rerun to resume where it stopped")

    def attach_live_run(self) -> None:
        """Pick up a run of the open study that outlived an earlier TUI."""
        if self.study is None:
            return
        handle = runner_client.find_live_run(self.study.name)
        if handle is not None:
            self.follow(handle)
            self.notify(f"following the run in progress (pid {handle.pid})")

    def follow(self, handle: runner_client.RunHandle) -> None:
        """Tail this run's events from the start (a run found again replays its curve and log)."""
        self.detach_run()
        self.run_handle = handle
        self.run_state = RunState()
        self.following = True
        self.tell_screens(RunFollowed)
        self._tail_run(handle)

    def detach_run(self) -> None:
        """Stop following the run (it goes on)."""
        self.workers.cancel_group(self, "run-tail")
        self.run_handle = None
        self.following = False

    @work(thread=True, exclusive=True, group="run-tail")
    def _tail_run(self, handle: runner_client.RunHandle) -> None:
        worker = get_current_worker()
        tail = runner_client.EventTail(handle.events_path)
        while not worker.is_cancelled:
            alive = handle.alive()  # before reading: once it has gone, one more read has every line
            events = tail.read()
            if not alive:
                code = handle.exit_code()
                self.post_message(RunEventsArrived(events, True, code, handle.stderr_tail(8), pid=handle.pid))
                return
            if events:
                self.post_message(RunEventsArrived(events, pid=handle.pid))
            time.sleep(0.2)

    def on_run_events_arrived(self, message: RunEventsArrived) -> None:
        if self.run_handle is None or message.pid != self.run_handle.pid:
            return  # a run no longer followed
        results_changed = message.ended
        for ev in message.events:
            self.run_state.apply(ev)
            results_changed |= isinstance(ev, UnitEnded) and ev.status == "done"
        if message.ended:
            for line in message.stderr_tail:
                if line.strip():
                    self.run_state.apply(Log(message=line))
            self.following = False
            code = message.exit_code
            self.notify(
                f"run finished{'' if code is None else f' (exit code {code})'}",
                severity="information" if code in (0, None) else "warning",
            )
        self.tell_screens(lambda: RunStateChanged(ended=message.ended))
        if results_changed:
            self.post_message(ResultsChanged())  # coalesced with others still queued

    # -- classroom -----------------------------------------------------------------------------------
    def action_toggle_classroom(self) -> None:
        self.classroom = not self.classroom

    def watch_classroom(self, value: bool) -> None:
        self.set_class(value, "-classroom")
        self.notify("classroom mode on: unsafe text hidden until revealed (r)" if value else "classroom mode off")
        self._refresh_guides()

    def action_guide_next(self) -> None:
        from workbench.tui.widgets.guide import STEPS

        if not self.classroom:
            self.classroom = True
            return
        self.guide_step = min(len(STEPS) - 1, self.guide_step + 1)
        self.switch_mode(STEPS[self.guide_step].mode)

    def action_guide_prev(self) -> None:
        from workbench.tui.widgets.guide import STEPS

        self.guide_step = max(0, self.guide_step - 1)
        self.switch_mode(STEPS[self.guide_step].mode)

    def watch_guide_step(self, _value: int) -> None:
        self._refresh_guides()

    def _refresh_guides(self) -> None:
        from workbench.tui.widgets.guide import Guide

        for mode in self.MODES:
            try:
                stack = self.get_screen_stack(mode)
            except KeyError:
                continue
            for screen in stack:
                for guide in screen.query(Guide):
                    guide.update_step()

    # -- errors --------------------------------------------------------------------------------------
    def show_error(self, message: str, hint: str | None = None, problems: list[str] | None = None) -> None:
        """Show a WorkbenchError as the CLI prints it (each problem, then the hint) in a modal."""
        from workbench.tui.screens.modals import ErrorScreen

        self.push_screen(ErrorScreen(message, hint, problems))


def make_app(recipe: Path | None = None, classroom: bool = False, runner: list[str] | None = None) -> WorkbenchApp:
    """The one app factory, used by ``workbench tui`` and by the tests."""
    return WorkbenchApp(recipe=recipe, classroom=classroom, runner=runner)
