"""The run follower without a UI: event tailing into typed events, the fold the TUI draws, detached runs."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from tui_helpers import FAKE_RUNNER, ROOT

from workbench import runlock
from workbench.events import Log, RunStarted, RunState, StageStarted, UnitEnded, UnitProgress
from workbench.tui.runner_client import EventTail, find_live_run, finished_run, pid_alive, sibling, start_run


def test_event_tail_reads_only_complete_new_lines_as_typed_events(tmp_path):
    path = tmp_path / "e.jsonl"
    tail = EventTail(path)
    assert tail.read() == []
    path.write_text('{"event": "log", "message": "a"}\n{"event": "stage_st')
    first = tail.read()
    assert len(first) == 1 and isinstance(first[0], Log) and first[0].message == "a"
    with open(path, "a") as f:
        f.write('art", "stage": "judge", "total": 3}\nnot json\n')
    events = tail.read()
    assert isinstance(events[0], StageStarted) and events[0].stage == "judge" and events[0].total == 3
    assert isinstance(events[1], Log) and events[1].message == "not json"
    assert tail.read() == []


def test_the_tail_round_trips_what_the_runner_prints(tmp_path):
    sent = [
        RunStarted(study="s", pid=1, stages={"finetune": 1}),
        UnitProgress(stage="finetune", unit="m/es/s0-e1", done=5, total=10, metrics={"loss": 1.5}, rate=80.0),
        UnitEnded(stage="finetune", unit="m/es/s0-e1", status="failed", error="boom", hint="do this"),
    ]
    path = tmp_path / "e.jsonl"
    path.write_text("".join(e.to_json() + "\n" for e in sent))
    got = EventTail(path).read()
    assert got == sent
    state = RunState()
    for ev in got:
        state.apply(ev)
    assert state.loss["finetune m/es/s0-e1"] == [(5, 1.5)] and state.tokens_per_s == 80.0
    assert state.statuses[("finetune", "m/es/s0-e1")] == "failed" and ("hint", "  hint: do this") in state.logs


def test_start_run_is_detached_holds_the_lock_and_is_found_through_it(home, monkeypatch):
    monkeypatch.setenv("FAKE_RUNNER_STEP_S", "0.2")
    handle = start_run("demo-quick", home / "recipes" / "demo.toml", quick=True, command=FAKE_RUNNER)
    try:
        # The run writes its events to the file the TUI chose, and names it in the study's lock.
        assert handle.command[-2] == "--events-file" and Path(handle.command[-1]) == handle.events_path
        assert "--events" not in handle.command and "--quick" in handle.command
        assert handle.events_path.parent == runlock.runs_dir("demo-quick")
        deadline = time.time() + 30
        while find_live_run("demo-quick") is None:
            assert time.time() < deadline and handle.alive(), handle.stderr_tail()
            time.sleep(0.05)
        found = find_live_run("demo-quick")
        assert found.pid == handle.pid and found.proc is None and found.events_path == handle.events_path
        assert found.command[:2] == ["fake_runner.py", "run"] and found.own_session()  # a session of its own
        assert runlock.holder("demo-quick").events == handle.events_path
        tail = EventTail(found.events_path)
        events = []
        while not any(isinstance(e, UnitProgress) and e.metrics.get("loss") for e in events):
            assert time.time() < deadline, f"no training step within 30 s: {events}"
            events += tail.read()
            time.sleep(0.05)
        # The real runner's events: the plan first, then the stages in the registry's order.
        assert isinstance(events[0], RunStarted) and events[0].study == "demo-quick"
        assert list(events[0].stages)[:4] == ["prepare", "translate", "align", "finetune"]
        assert sibling(handle.events_path, ".stdout.log").is_file()  # stdout beside it, not in the event file
        found.stop()
        handle.proc.wait(timeout=10)
        assert not pid_alive(handle.pid) and find_live_run("demo-quick") is None and not found.alive()
        last = finished_run("demo-quick")
        assert last is not None and last.events_path == handle.events_path and not last.alive()
    finally:
        if handle.proc.poll() is None:
            handle.proc.kill()


def test_a_run_found_through_the_lock_is_over_once_its_process_has_gone(workspace):
    """The lock decides, not the pid: a process that ended (even one not reaped yet) holds no flock."""
    import subprocess

    code = (
        "import sys, time; from pathlib import Path; from workbench import runlock\n"
        "with runlock.acquire('s', events=Path(sys.argv[1]), command=['workbench', 'run', 's.toml']):\n"
        "    print('held', flush=True); time.sleep(60)"
    )
    events = runlock.new_events_path("s")
    proc = subprocess.Popen([sys.executable, "-c", code, str(events)], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "held"
        found = find_live_run("s")
        assert found is not None and found.pid == proc.pid and found.alive()
        assert found.command_text() == "workbench run s.toml" and not found.own_session()
        proc.kill()
        deadline = time.time() + 10
        while found.alive():
            assert time.time() < deadline
            time.sleep(0.05)
        assert find_live_run("s") is None
    finally:
        proc.kill()
        proc.wait()


def test_stage_eta_uses_the_unit_eta_plus_remaining_units():
    s = RunState()
    s.apply(StageStarted(stage="finetune", total=3, time=0.0))
    s.apply(UnitProgress(stage="finetune", unit="a", done=5, total=10, eta=10.0, metrics={"loss": 1.0}, time=10.0))
    # 10 s for half a unit -> 20 s per unit; 10 s left in this one plus two more units
    assert s.stages["finetune"].eta() == 50.0


def test_unit_progress_eta_from_the_units_own_pace():
    s = RunState()
    s.apply(StageStarted(stage="generate", total=2, time=0.0))
    s.apply(UnitProgress(stage="generate", unit="m/base", done=0, total=100, what="responses", time=50.0))
    s.apply(UnitProgress(stage="generate", unit="m/base", done=50, total=100, what="responses", time=60.0))
    sp = s.stages["generate"]
    assert sp.unit_eta == 10.0 and sp.unit_fraction == 0.5
    assert s.statuses[("generate", "m/base")] == "running"


def test_the_fake_stages_mirror_the_registered_ones():
    """The fake runner is the real runner only if its stages have the real ones' shape (scope, needs, cells)."""
    from tests.stages.fake import STAGES
    from workbench import registry
    from workbench.cells import cells
    from workbench.recipe import load_recipe
    from workbench.recipe.models import Recipe

    recipe = load_recipe(ROOT / "recipes" / "demo.toml")
    assert isinstance(recipe, Recipe)
    real = {s.name: s for s in registry.stages()}
    assert set(STAGES) == set(real), "a stage was added or removed: give tests/stages/fake.py a fake of it"
    with registry.registered(STAGES):
        for name, fake in ((s.name, s) for s in registry.stages()):
            r = real[name]
            assert (fake.scope, fake.needs, fake.auto) == (r.scope, r.needs, r.auto), name
            assert fake.units(recipe, cells(recipe)) == r.units(recipe, cells(recipe)), name
