"""The workbench TUI: one app, one screen per step of a study (each a mode with its own stack).

Only the studies screen is built for the first frame; the others are imported when first shown
(the run screen brings plotext, the results screen scipy through the analysis code).

The app is the hub of the typed messages in :mod:`workbench.tui.messages`: workers post to it, it
folds run events into ``run_state`` (:class:`workbench.events.RunState`, the fold ``workbench run``
draws too) and posts a fresh message to each screen (:meth:`WorkbenchApp.tell_screens`). Screens
never talk to each other and never import this module (they reach the app as ``self.app``).

Runs: one runner per study (:mod:`workbench.runlock`). The app looks at the open study's lock every
second (an flock probe) and follows whatever run holds it, started here, by another TUI, by
``workbench run`` or by ``make demo``; it never starts a run beside a live one, and asks before
starting one (with the plan's estimate) or stopping one it did not start.
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

from workbench import runlock
from workbench.events import Log, RunState, UnitEnded
from workbench.store.read import ReadDB
from workbench.tui import runner_client
from workbench.tui.commands import WorkbenchCommands
from workbench.tui.messages import (
    ClassroomChanged,
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
    COMMANDS = App.COMMANDS | {WorkbenchCommands}
    # The screen keys 1-6 are drawn by every screen's top bar (widgets/screen_bar.py), not the footer.
    BINDINGS = [
        Binding("1", "switch_mode('studies')", "Studies", show=False),
        Binding("2", "switch_mode('run')", "Plan & run", show=False),
        Binding("3", "switch_mode('results')", "Results", show=False),
        Binding("4", "switch_mode('compare')", "Compare", show=False),
        Binding("5", "switch_mode('label')", "Label", show=False),
        Binding("6", "switch_mode('agreement')", "Agreement", show=False),
        Binding("question_mark,f1", "help", "Help", key_display="?"),
        Binding("C", "toggle_classroom", "Classroom"),
        Binding("g", "guide_next", "Guide: next step", show=False),
        Binding("G", "guide_prev", "Guide: step back", show=False),
        Binding("q", "quit", "Quit"),
    ]
    LIVE_POLL_S = 1.0  # how often the open study's lock is looked at (an flock probe: microseconds)

    classroom: reactive[bool] = reactive(False, init=False)
    guide_step: reactive[int] = reactive(0, init=False)

    def __init__(self, recipe: Path | None = None, classroom: bool = False, runner: list[str] | None = None):
        super().__init__()
        self.initial_recipe = recipe
        self.study: StudyRef | None = None
        self.runner = runner  # None: runner_client.runner_command()
        self.run_handle: runner_client.RunHandle | None = None  # the run followed (live) or shown (ended)
        self.run_state = RunState()
        self.following = False  # a run's event file is being tailed (until its process has gone)
        self.readers: dict[Path, ReadDB] = {}
        self.annotator: str | None = load_settings().get("annotator")
        self.has_gpu: bool | None = None  # for the estimates; asked once (nvidia-smi), off the UI thread
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
        self.set_interval(self.LIVE_POLL_S, self.look_for_live_run)

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
            self.run_handle = None
            self.run_state = RunState()
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

    # -- help ------------------------------------------------------------------------------------------
    def action_help(self) -> None:
        """Open the help page of the screen in front."""
        from workbench.tui.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.screen))

    # -- starting runs -----------------------------------------------------------------------------------
    def action_run_all(self) -> None:
        self.request_run()

    def action_report(self) -> None:
        self.request_run(only="results")

    def action_stop_run(self) -> None:
        self.stop_run()

    def request_run(self, *, only: str | None = None, cells: str | None = None) -> bool:
        """Ask to run the open study (all of it, some stages, some cells): with its estimate, after a yes.

        Nothing starts while a run of the study is live, whoever started it: the app says who runs it
        and follows that run instead.
        """
        ref = self._runnable_study()
        if ref is None:
            return False
        self._preview_run(ref, only, cells, self.has_gpu)
        return True

    def _runnable_study(self) -> StudyRef | None:
        """The open study when a run of it may start: it has a recipe and no run of it is live."""
        ref = self.study
        if ref is None or ref.recipe_path is None:
            self.notify("open a study's recipe first (1: Studies)", severity="warning")
            return None
        if self.refuse_beside_live_run(ref):
            return None
        return ref

    def refuse_beside_live_run(self, ref: StudyRef) -> bool:
        """True (and say so, and follow it) when a run of ``ref`` is going or starting."""
        own = self.run_handle
        if own is not None and own.started_here and own.alive() and own.study == ref.name:
            self.notify(f"a run of this study is going (pid {own.pid}); x stops it", severity="warning")
            return True
        holder = runlock.holder(ref.name)
        if holder is None:
            return False
        self.notify(
            f"{holder.describe(ref.name)}; not starting another: following it (x stops it)",
            severity="warning",
            timeout=8,
        )
        live = runner_client.find_live_run(ref.name)
        if live is not None and (self.run_handle is None or self.run_handle.pid != live.pid):
            self.follow(live)
        return True

    @work(thread=True, exclusive=True, group="run-preview")
    def _preview_run(self, ref: StudyRef, only: str | None, cells: str | None, gpu: bool | None) -> None:
        """What the run would do and how long it may take (reads the recipe, the grid, the estimates)."""
        from workbench import environment
        from workbench.errors import RecipeError, WorkbenchError
        from workbench.recipe import load_recipe
        from workbench.runner import status_grid
        from workbench.tui.run_preview import preview

        try:
            recipe = load_recipe(ref.recipe_path, quick=ref.quick, allow_downloads=True)
            if gpu is None:
                gpu = bool(environment.nvidia_gpus())
            p = preview(recipe, status_grid(recipe), only, cells, gpu)
        except RecipeError as exc:
            self.call_from_thread(self.show_error, exc.message, exc.hint, exc.problems)
        except WorkbenchError as exc:
            self.call_from_thread(self.show_error, exc.message, exc.hint)
        else:
            self.call_from_thread(self._confirm_run, ref, only, cells, p, gpu)

    def _confirm_run(self, ref: StudyRef, only: str | None, cells: str | None, p, gpu: bool) -> None:
        from workbench.tui.screens.modals import ConfirmScreen

        self.has_gpu = gpu
        if ref != self.study:
            return  # asked about a study no longer open
        lines = [f"study {ref.label}", "", *p.stages, "", f"time: {p.total}"]
        lines += [f"note: {n}" for n in p.notes]
        lines.append("It runs in the background and goes on if you close the TUI; x stops it.")

        def answered(yes: bool | None) -> None:
            if yes and self.study == ref:
                self.start_run(only=only, cells=cells)

        self.push_screen(ConfirmScreen(f"Run {p.what}?", lines, yes="Run"), answered)

    def start_run(self, *, only: str | None = None, cells: str | None = None) -> bool:
        """Start ``workbench run`` for the open study now (no question asked) and follow it."""
        from workbench.tui.run_preview import describe_run

        ref = self._runnable_study()
        if ref is None:
            return False
        handle = runner_client.start_run(
            ref.name, ref.recipe_path, quick=ref.quick, only=only, cells=cells, command=self.runner
        )
        self.follow(handle)
        self.notify(f"started {describe_run(only, cells)} (pid {handle.pid})")
        return True

    # -- stopping --------------------------------------------------------------------------------------
    def stop_run(self) -> None:
        """SIGTERM the study's live run: at once if this TUI started it, after a yes if anyone else did."""
        from workbench.tui.screens.modals import ConfirmScreen

        h = self.run_handle
        if (h is None or not h.alive()) and self.study is not None:
            h = runner_client.find_live_run(self.study.name)
            if h is not None:
                self.follow(h)
        if h is None or not h.alive():
            self.notify("nothing is running", severity="warning")
            return
        if h.started_here:
            self._stop(h)
            return
        when = time.strftime("%H:%M:%S", time.localtime(h.started)) if h.started else "earlier"
        lines = [
            f"pid {h.pid}, started {when} outside this TUI:",
            h.command_text() or "(command not recorded)",
            "",
            f"SIGTERM goes to pid {h.pid}. The unit in flight is lost; finished units are kept and a rerun resumes.",
        ]
        self.push_screen(
            ConfirmScreen(f"Stop the run of {self.study.name}?", lines, yes="Stop it"),
            lambda yes: yes and self._stop(h),
        )

    def _stop(self, h: runner_client.RunHandle) -> None:
        if not h.alive():
            self.notify("it has ended already", severity="warning")
            return
        h.stop()
        self.notify(f"stopping pid {h.pid}; rerun to resume where it stopped")

    # -- following ---------------------------------------------------------------------------------------
    def attach_live_run(self) -> None:
        """Follow the open study's live run (from anywhere); with none, show the last run's events."""
        if self.study is None:
            return
        live = runner_client.find_live_run(self.study.name)
        if live is not None:
            self.follow(live)
            self.notify(f"following the run in progress: pid {live.pid} ({live.command_text()})")
            return
        last = runner_client.finished_run(self.study.name)
        if last is not None:
            self.follow(last)  # it has ended: one read of its events, then the state is shown as finished

    def look_for_live_run(self) -> None:
        """Follow a run of the open study that started elsewhere (the CLI, ``make demo``, another TUI)."""
        if self.study is None:
            return
        cur = self.run_handle
        if cur is not None and cur.started_here and cur.alive():
            return  # ours: it may not hold the lock yet; if someone beat it to it, it ends and we look again
        live = runner_client.find_live_run(self.study.name)
        if live is None or (cur is not None and cur.pid == live.pid):
            return
        self.follow(live)
        self.notify(f"following a run started elsewhere: pid {live.pid} ({live.command_text()})")

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
                self.post_message(RunEventsArrived(events, True, code, handle.stderr_tail(8), handle=handle))
                return
            if events:
                self.post_message(RunEventsArrived(events, handle=handle))
            time.sleep(0.2)

    def on_run_events_arrived(self, message: RunEventsArrived) -> None:
        if message.handle is not self.run_handle:
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
            self._say_ended(message.handle, message.exit_code)
        self.tell_screens(lambda: RunStateChanged(ended=message.ended))
        if results_changed:
            self.post_message(ResultsChanged())  # coalesced with others still queued

    def _say_ended(self, handle: runner_client.RunHandle, code: int | None) -> None:
        if handle.pid is None:
            return  # the last run, shown as it ended: nothing happened now
        if code == runlock.StudyBusy.exit_code:
            self.notify("another process started a run of this study first; following it", severity="warning")
            self.call_later(self.look_for_live_run)
            return
        ended = self.run_state.ended
        summary = f": {ended.done} done, {ended.skipped} skipped, {ended.failed} failed" if ended else ""
        if code is None and ended is None:
            summary = " without a summary (stopped or crashed; a rerun resumes)"
        bad = code not in (0, None) or (ended is not None and ended.failed)
        self.notify(
            f"run of pid {handle.pid} finished{'' if code is None else f' (exit code {code})'}{summary}",
            severity="warning" if bad else "information",
        )

    # -- classroom -----------------------------------------------------------------------------------
    def action_toggle_classroom(self) -> None:
        self.classroom = not self.classroom

    def watch_classroom(self, value: bool) -> None:
        self.set_class(value, "-classroom")
        self.notify("classroom mode on: unsafe text hidden until revealed (v)" if value else "classroom mode off")
        self.tell_screens(ClassroomChanged)  # what is on screen now is hidden (or shown) at once
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
