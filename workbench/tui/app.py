"""The workbench TUI: one app, one screen per step of a study (each a mode with its own stack).

Only the studies screen is built for the first frame; the others are imported when first shown
(the run screen brings plotext, the results screen scipy through the analysis code).
"""

from __future__ import annotations

from pathlib import Path

from textual.app import App
from textual.binding import Binding
from textual.message import Message
from textual.reactive import reactive

from workbench.tui import runner_client
from workbench.tui.queries import ReadDB
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


class RunEvents(Message):
    """New events from the run being followed (or its end, with ``ended``)."""

    def __init__(self, events: list[dict], ended: bool = False):
        super().__init__()
        self.events = events
        self.ended = ended


class WorkbenchApp(App):
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
        self.study_version = 0  # bumped when another study is opened: screens reload on resume
        self.labels_version = 0  # bumped on every human label: the agreement screen refreshes
        self.results_version = 0  # bumped when a run finishes a generate/judge unit
        self.compare_target: tuple[str, str, str | None] | None = None  # (item, lang, cell) from a list
        self.runner = runner  # None: runner_client.runner_command()
        self.run_handle: runner_client.RunHandle | None = None
        self.run_state = runner_client.RunState()
        self._tail: runner_client.EventTail | None = None
        self._run_timer = None
        self._readers: dict[Path, ReadDB] = {}
        settings = load_settings()
        self.annotator: str | None = settings.get("annotator")
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

    # -- the open study ------------------------------------------------------------------------------
    def open_study(self, ref: StudyRef, mode: str | None = None):
        """Make ``ref`` the open study and show it (plan & run for a recipe, results for a database)."""
        if self.study != ref:
            self.study = ref
            self.study_version += 1
            self.sub_title = ref.label
            self._detach_run()
            self.attach_live_run()
        return self.switch_mode(mode or ("run" if ref.recipe_path else "results"))

    def reader(self) -> ReadDB | None:
        """A reader of the open study's database, or None when it has none yet."""
        if self.study is None or not self.study.db_path.is_file():
            return None
        db = self._readers.get(self.study.db_path)
        if db is None:
            db = self._readers[self.study.db_path] = ReadDB(self.study.db_path)
        return db

    def set_annotator(self, name: str) -> None:
        self.annotator = name
        save_setting("annotator", name)

    # -- runs ----------------------------------------------------------------------------------------
    def start_run(self, *, only: str | None = None, cells: str | None = None) -> bool:
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
        self._follow(handle)
        what = " ".join(x for x in (only and f"stage {only}", cells and f"cell {cells}") if x) or "the whole study"
        self.notify(f"started {what} (pid {handle.pid})")
        return True

    def stop_run(self) -> None:
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
            self._follow(handle)
            self.notify(f"following the run in progress (pid {handle.pid})")

    def _follow(self, handle: runner_client.RunHandle) -> None:
        self._detach_run()
        self.run_handle = handle
        self.run_state = runner_client.RunState()
        self._tail = runner_client.EventTail(handle.events_path)
        self._run_timer = self.set_interval(0.2, self._poll_run)

    def _detach_run(self) -> None:
        if self._run_timer is not None:
            self._run_timer.stop()
        self._run_timer = None
        self._tail = None
        self.run_handle = None

    def _poll_run(self) -> None:
        if self._tail is None or self.run_handle is None:
            return
        alive = self.run_handle.alive()
        events = self._tail.read()
        for ev in events:
            self.run_state.apply(ev)
            if ev.get("stage") in ("generate", "judge", "results") and ev.get("event") in ("done", "stage_end"):
                self.results_version += 1
        if not alive:
            events += self._tail.read()
            code = self.run_handle.exit_code()
            for line in self.run_handle.stderr_tail(8):
                if line.strip():
                    self.run_state.logs.append(("info", line))
            self.results_version += 1
            if self._run_timer is not None:
                self._run_timer.stop()
                self._run_timer = None
            ok = code in (0, None)
            self.notify(
                f"run finished{'' if code is None else f' (exit code {code})'}",
                severity="information" if ok else "warning",
            )
        if events or not alive:
            self._dispatch(RunEvents(events, ended=not alive))

    def _dispatch(self, message: Message) -> None:
        for screen in self._screen_stacks.get("run", []):
            screen.post_message(message)

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

        for stack in self._screen_stacks.values():
            for screen in stack:
                for guide in screen.query(Guide):
                    guide.update_step()

    # -- errors --------------------------------------------------------------------------------------
    def show_error(self, message: str, hint: str | None = None, problems: list[str] | None = None) -> None:
        from workbench.tui.screens.modals import ErrorScreen

        self.push_screen(ErrorScreen(message, hint, problems))


def make_app(recipe: Path | None = None, classroom: bool = False, runner: list[str] | None = None) -> WorkbenchApp:
    """The one app factory, used by ``workbench tui`` and by the tests."""
    return WorkbenchApp(recipe=recipe, classroom=classroom, runner=runner)
