"""One runner per study, TUI against CLI: the TUI follows a run started in a terminal and never starts a second.

The "CLI" run is ``tests/tui/fake_runner.py run ...`` in a subprocess of its own: the real ``workbench``
command line and runner (so the real study lock and the real event file), with fake stages.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time

import pytest
from tui_helpers import FAKE_RUNNER, SIZE, wait_for

from workbench import runlock
from workbench.tui.app import make_app
from workbench.tui.screens.modals import ConfirmScreen
from workbench.tui.screens.run import StageBar

pytestmark = pytest.mark.anyio
STUDY = "demo-quick"


def start_cli_run(home, step_s: str = "0.3") -> subprocess.Popen:
    """``workbench run recipes/demo.toml --quick`` as typed in a terminal (no --events-file: its own event file)."""
    env = {**os.environ, "FAKE_RUNNER_STEP_S": step_s}
    return subprocess.Popen(
        [*FAKE_RUNNER, "run", "recipes/demo.toml", "--quick"],
        cwd=home,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def wait_holding(proc: subprocess.Popen, timeout: float = 30) -> runlock.Holder:
    deadline = time.time() + timeout
    while True:
        h = runlock.holder(STUDY)
        if h is not None and h.pid == proc.pid and h.events is not None:
            return h
        assert proc.poll() is None, proc.stderr.read().decode(errors="replace")
        assert time.time() < deadline, "the CLI run never took the lock"
        time.sleep(0.05)


def notifications(app) -> list[str]:
    """Record what the app tells the user (``App.notify`` is public; the list is the test's)."""
    seen: list[str] = []
    notify = app.notify

    def record(message, *args, **kwargs):
        seen.append(str(message))
        return notify(message, *args, **kwargs)

    app.notify = record
    return seen


def status(app) -> str:
    return str(app.screen.query_one("#run-status").render())


async def open_demo_quick(pilot) -> None:
    await pilot.press("down", "enter")
    await wait_for(pilot, lambda: pilot.app.current_mode == "run" and pilot.app.screen.recipe is not None, what="plan")


async def test_the_tui_follows_a_cli_run_and_refuses_to_start_a_second_one(home):
    app = make_app(runner=FAKE_RUNNER)
    told = notifications(app)
    proc = None
    try:
        async with app.run_test(size=SIZE) as pilot:
            await open_demo_quick(pilot)
            assert status(app).startswith("idle")
            # make demo in another terminal: the open study is now being run by someone else
            proc = start_cli_run(home)
            holder = wait_holding(proc)
            await wait_for(
                pilot, lambda: app.run_handle is not None and app.run_handle.pid == proc.pid, what="attached"
            )
            assert not app.run_handle.started_here and app.following
            assert any(f"pid {proc.pid}" in t and "started elsewhere" in t for t in told)
            # the same progress bars, loss curve and log as a run the TUI started, from the run's event file
            await wait_for(pilot, lambda: app.run_state.loss, timeout=30, what="training progress")
            assert app.run_handle.events_path == holder.events
            run = app.screen
            await wait_for(pilot, lambda: run.query(StageBar), what="stage bars")
            assert {b.stage for b in run.query(StageBar)} >= {"prepare", "align"}
            assert any("prepared" in text for _, text in app.run_state.logs)
            await wait_for(pilot, lambda: run.loss_plot is not None, what="loss curve")
            assert f"running · pid {proc.pid}" in status(app) and "started outside this TUI" in status(app)
            assert "fake_runner.py run recipes/demo.toml --quick" in status(app)

            # The run key: no second run, a message naming the pid and the command.
            told.clear()
            await pilot.press("a")
            await wait_for(pilot, lambda: any("already being run" in t for t in told), what="busy message")
            busy = next(t for t in told if "already being run" in t)
            assert f"pid {proc.pid}" in busy and "fake_runner.py run recipes/demo.toml --quick" in busy
            await pilot.pause(0.5)
            assert not isinstance(app.screen, ConfirmScreen)  # not even a question
            assert not list(runlock.runs_dir(STUDY).glob("*.stdout.log"))  # the TUI started nothing
            assert runlock.holder(STUDY).pid == proc.pid and app.run_handle.pid == proc.pid

            # Stop: it was started elsewhere, so the TUI asks, then sends SIGTERM to its pid.
            await pilot.press("x")
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="stop confirmation")
            asked = "\n".join(app.screen.lines)
            assert f"pid {proc.pid}" in asked and "fake_runner.py run" in asked
            await pilot.press("n")
            await pilot.pause(0.3)
            assert proc.poll() is None  # no said no
            await pilot.press("x")
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="stop confirmation")
            await pilot.press("y")
            assert proc.wait(timeout=20) == -signal.SIGTERM
            await wait_for(pilot, lambda: not app.following, what="the run is over")
            assert runlock.holder(STUDY) is None
            assert "without a summary" in status(app)  # the newest attempt: stopped, a rerun resumes

        # A TUI opened later shows that last attempt, read from its event file.
        app2 = make_app(runner=FAKE_RUNNER)
        async with app2.run_test(size=SIZE) as pilot:
            await open_demo_quick(pilot)
            await wait_for(pilot, lambda: app2.run_handle is not None and not app2.following, what="last run read")
            assert app2.run_handle.pid is None and app2.run_state.loss
            assert status(app2).startswith("last run ended without a summary")
    finally:
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()


async def test_a_tui_run_holds_the_lock_so_the_cli_is_refused(home, monkeypatch):
    """The other way round: the TUI's run takes the study's lock; a `workbench run` beside it is told who runs it."""
    monkeypatch.setenv("FAKE_RUNNER_STEP_S", "0.3")
    app = make_app(runner=FAKE_RUNNER)
    async with app.run_test(size=SIZE) as pilot:
        await open_demo_quick(pilot)
        await pilot.press("a")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="confirmation")
        await pilot.press("y")
        await wait_for(pilot, lambda: app.run_handle is not None, what="started")
        handle = app.run_handle
        try:
            await wait_for(
                pilot, lambda: (runlock.holder(STUDY) or runlock.Holder(None, None, [], None)).pid == handle.pid
            )
            cli = start_cli_run(home)
            _, err = cli.communicate(timeout=60)
            assert cli.returncode == runlock.StudyBusy.exit_code
            assert f"pid {handle.pid}" in err.decode() and "--follow" in err.decode()
            await pilot.press("x")  # started here: stops at once
            await wait_for(pilot, lambda: not handle.alive(), timeout=10, what="stopped")
        finally:
            if handle.proc.poll() is None:
                handle.proc.kill()
