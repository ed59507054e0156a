"""One runner per study: the lock, the event file every run writes, and following a run from anywhere."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from tests.conftest import RECIPES, ROOT, run_cli
from workbench import follow, runlock
from workbench.events import RunEnded, UnitProgress

DEMO = RECIPES / "demo.toml"


def _start_sleepy(env_extra: dict, *args: str) -> subprocess.Popen:
    env = {**os.environ, "SLEEPY_STEPS": "40", "SLEEPY_STEP_S": "0.25", **env_extra}
    return subprocess.Popen(
        [sys.executable, "-m", "tests.stages.sleepy", "run", str(DEMO), "--only", "sleepy", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for(cond, timeout=60.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = cond()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("timed out waiting")


def _wait_progress(study: str):
    """The live run's info once it has reported a progress step."""
    return _wait_for(lambda: (i := follow.live(study)) and i.get("step") and i)


def test_acquire_refuses_a_second_holder_and_names_it(workspace):
    events = runlock.new_events_path("s1")
    with runlock.acquire("s1", events=events, command=["workbench", "run", "x.toml"]):
        h = runlock.holder("s1")
        assert h is not None and h.pid == os.getpid() and h.events == events
        # a second acquire in another process must fail; in this process a second open file description conflicts too
        with pytest.raises(runlock.StudyBusy) as err:
            with runlock.acquire("s1", events=None, recipe_hint="x.toml"):
                pass
        assert f"pid {os.getpid()}" in err.value.message
        assert "workbench run x.toml" in err.value.message
        assert "--follow" in err.value.hint and f"kill {os.getpid()}" in err.value.hint
    assert runlock.holder("s1") is None  # released on exit
    with runlock.acquire("s1", events=None):  # and free again
        pass


def test_cli_vs_cli_second_run_is_refused_and_a_killed_runner_leaves_no_stale_lock(workspace):
    env = {"WORKBENCH_HOME": str(workspace)}
    first = _start_sleepy({**env, "SLEEPY_STEPS": "2000"})  # runs until killed below, however slow the machine
    try:
        info = _wait_progress("demo")
        assert info["pid"] == first.pid
        second = run_cli("run", DEMO, "--only", "prepare", env=env)
        assert second.returncode == 5, second.stderr
        lines = second.stderr.strip().splitlines()
        expected = f"error: study 'demo' is already being run by pid {first.pid}"
        assert lines[0].startswith(expected), lines
        assert lines[1].startswith("hint: follow it with `workbench status") and f"kill {first.pid}" in lines[1]
        assert "Traceback" not in second.stderr
        # the refused run wrote nothing: no prepare row in the database
        assert not (workspace / "models" / "demo" / "prepared").exists()
        # status shows the live run: pid, stage, step x/N and the event file
        st = run_cli("status", DEMO, "--format", "json", env=env)
        assert st.returncode == 0, st.stderr
        live = json.loads(st.stdout)["live"]
        assert live["pid"] == first.pid and live["stage"] == "sleepy" and live["steps"] == 2000
        assert 1 <= live["step"] <= 2000 and live["events"].endswith(".events.jsonl")
        table = run_cli("status", DEMO, env=env)
        assert f"running: pid {first.pid}, stage sleepy" in table.stdout
        first.send_signal(signal.SIGKILL)  # no clean-up code runs: the kernel drops the flock
        first.wait(30)
        assert runlock.holder("demo") is None
        third = _start_sleepy({**env, "SLEEPY_STEPS": "2", "SLEEPY_STEP_S": "0.01"})
        out, err = third.communicate(timeout=120)
        assert third.returncode == 0, err
    finally:
        if first.poll() is None:
            first.kill()


def test_status_follow_tails_a_run_started_elsewhere_until_it_ends(workspace):
    env = {"WORKBENCH_HOME": str(workspace)}
    first = _start_sleepy({**env, "SLEEPY_STEPS": "12"})
    try:
        _wait_progress("demo")
        followed = run_cli("status", DEMO, "--follow", "--format", "json", env=env, timeout=120)
        assert followed.returncode == 0, followed.stderr
        from workbench.events import from_json

        events = [from_json(line) for line in followed.stdout.splitlines() if line.startswith("{")]
        steps = [e.done for e in events if isinstance(e, UnitProgress)]
        assert steps == list(range(1, 13))  # from the run's start, every step, in order
        assert isinstance(events[-1], RunEnded) and events[-1].done == 1
        first.wait(30)
    finally:
        if first.poll() is None:
            first.kill()


def test_status_follow_without_a_run_says_so(workspace):
    r = run_cli("status", DEMO, "--follow", env={"WORKBENCH_HOME": str(workspace)})
    assert r.returncode == 0 and "no run in progress" in r.stdout


def test_every_run_writes_its_event_file(workspace):
    env = {"WORKBENCH_HOME": str(workspace), "SLEEPY_STEPS": "3", "SLEEPY_STEP_S": "0.01"}
    p = _start_sleepy(env)
    p.communicate(timeout=120)
    assert p.returncode == 0
    path = follow.last_events_file("demo")
    assert path is not None
    state, current = follow.fold(path)
    assert state.ended is not None and state.ended.done == 1 and current is None
