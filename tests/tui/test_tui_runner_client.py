"""The run follower without a UI: event tailing, the state built from events, detached runs."""

from __future__ import annotations

import json
import sys
import time

from tui_helpers import FAKE_RUNNER

from workbench.tui.runner_client import EventTail, RunState, find_live_run, pid_alive, start_run


def test_event_tail_reads_only_complete_new_lines(tmp_path):
    path = tmp_path / "e.jsonl"
    tail = EventTail(path)
    assert tail.read() == []
    path.write_text('{"event": "log", "message": "a"}\n{"event": "lo')
    assert [e["message"] for e in tail.read()] == ["a"]
    with open(path, "a") as f:
        f.write('g", "message": "b"}\nnot json\n')
    events = tail.read()
    assert events[0]["message"] == "b" and events[1]["message"] == "not json"
    assert tail.read() == []


def test_run_state_from_events():
    s = RunState()
    t = 1000.0
    for ev in [
        {"event": "stage_start", "stage": "finetune", "total": 2, "time": t},
        {
            "event": "train_step",
            "stage": "finetune",
            "unit": "m/es/s0-e1",
            "step": 5,
            "total": 10,
            "loss": 1.5,
            "tokens_per_s": 80.0,
            "eta": 50.0,
            "time": t + 50,
        },
        {
            "event": "failed",
            "stage": "finetune",
            "unit": "m/es/s0-e1",
            "error": "boom",
            "hint": "do this",
            "time": t + 60,
        },
        {"event": "gen_progress", "stage": "generate", "unit": "m/base", "done": 3, "total": 6},
        {"event": "something_new", "stage": "x", "value": 1},
    ]:
        s.apply(ev)
    sp = s.stages["finetune"]
    assert s.loss["finetune m/es/s0-e1"] == [(5, 1.5)] and s.tokens_per_s == 80.0
    assert s.statuses[("finetune", "m/es/s0-e1")] == "failed" and sp.done == 1 and sp.failed == 1
    assert sp.fraction() == 0.5 and sp.eta() is not None
    assert ("hint", "  hint: do this") in s.logs
    assert any("something_new" in text for _, text in s.logs)  # unknown events are logged, not dropped


def test_stage_eta_uses_the_unit_eta_plus_remaining_units():
    s = RunState()
    s.apply({"event": "stage_start", "stage": "finetune", "total": 3, "time": 0.0})
    s.apply(
        {
            "event": "train_step",
            "stage": "finetune",
            "unit": "a",
            "step": 5,
            "total": 10,
            "loss": 1.0,
            "eta": 10.0,
            "time": 10.0,
        }
    )
    # 10 s for half a unit -> 20 s per unit; 10 s left in this one plus two more units
    assert s.stages["finetune"].eta() == 50.0


def test_start_run_is_detached_and_found_again(home, monkeypatch):
    monkeypatch.setenv("FAKE_RUNNER_STEP_S", "0.2")
    handle = start_run("demo-quick", home / "recipes" / "demo.toml", quick=True, command=FAKE_RUNNER)
    try:
        assert handle.command[-2:] == ["--events", "jsonl"] and "--quick" in handle.command
        found = find_live_run("demo-quick")
        assert found is not None and found.pid == handle.pid and found.proc is None
        deadline = time.time() + 30
        tail = EventTail(found.events_path)
        events = []
        while not any(e.get("event") == "train_step" for e in events) and time.time() < deadline:
            events += tail.read()
            time.sleep(0.05)
        assert events[0]["event"] == "stage_start"
        found.stop()
        handle.proc.wait(timeout=10)
        assert not pid_alive(handle.pid) and find_live_run("demo-quick") is None
        meta = json.loads(next((home / "models" / "demo-quick" / "runs").glob("*.run.json")).read_text())
        assert meta["pid"] == handle.pid and meta["command"][0] == sys.executable
    finally:
        if handle.proc.poll() is None:
            handle.proc.kill()


def test_unit_progress_eta_from_the_units_own_pace():
    s = RunState()
    s.apply({"event": "stage_start", "stage": "generate", "total": 2, "time": 0.0})
    s.apply({"event": "gen_progress", "stage": "generate", "unit": "m/base", "done": 0, "total": 100, "time": 50.0})
    s.apply({"event": "gen_progress", "stage": "generate", "unit": "m/base", "done": 50, "total": 100, "time": 60.0})
    sp = s.stages["generate"]
    assert sp.unit_eta == 10.0 and sp.unit_fraction == 0.5
    assert s.statuses[("generate", "m/base")] == "running"
