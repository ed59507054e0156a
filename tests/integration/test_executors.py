"""Executors on real engines: a local Ray cluster started here (``ray start --head`` on 127.0.0.1), and
submitit's local executor (Slurm itself is not started in CI: see the README).

The units are the fake stages of ``tests/stages/fake.py`` (the real stages' names, scopes, needs and
cells; real rows through the store's write API), so the run is the real coordinator, worker, shard
extraction and merge, in seconds. ``test_quick_demo_on_ray`` runs the real quick demo's later stages.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.conftest import RECIPES, tiny_demo_recipe

RAY = Path(sys.executable).with_name("ray")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def ray_cluster():
    """A real Ray head on 127.0.0.1 with two CPUs (two worker processes at a time).

    Started with ``--block`` and stopped by ending that process, so the test stops its own cluster
    only (``ray stop`` would stop every Ray cluster of the machine)."""
    port = _free_port()
    # Ray's head turns token authentication on when ~/.ray/auth_token exists (written by any earlier
    # local ray.init), while a driver connecting by address does not send it: a known Ray issue. The
    # test cluster runs without it, and so does the driver (RAY_AUTH_MODE reaches both).
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0", "RAY_AUTH_MODE": "disabled"}
    head = subprocess.Popen(
        [str(RAY), "start", "--head", "--block", "--node-ip-address=127.0.0.1", f"--port={port}", "--num-cpus=2",
         "--include-dashboard=false", "--disable-usage-stats"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.time() + 180
        while time.time() < deadline:
            assert head.poll() is None, head.stdout.read()
            probe = subprocess.run([str(RAY), "status", f"--address=127.0.0.1:{port}"], capture_output=True,
                                   env=env, timeout=60)  # fmt: skip
            if probe.returncode == 0:
                break
            time.sleep(1)
        else:
            pytest.fail("the Ray head did not come up within 3 minutes")
        yield f"127.0.0.1:{port}"
    finally:
        os.killpg(head.pid, signal.SIGTERM)
        try:
            head.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(head.pid, signal.SIGKILL)
            head.wait()


def _sorted(rows) -> list:
    """Rows in a fixed order (NULLs included)."""
    return sorted(rows, key=lambda r: tuple((x is None, str(x)) for x in r))


def _state(db: Path) -> dict:
    """A study database by natural keys: what a run produced, not the ids it got."""
    con = sqlite3.connect(db)
    q = {
        "responses": "SELECT prompt_id, cell_id, generation_key, text, finish_reason FROM responses",
        "judgments": "SELECT r.prompt_id, r.cell_id, r.generation_key, j.judge, j.judge_key, j.label "
        "FROM judgments j JOIN responses r ON r.id = j.response_id",
        "measurements": "SELECT cell_id, measure, measure_key, lang, item_id, value, n FROM measurements",
        "current_generations": "SELECT cell_id, generation_key, settings_key, responses FROM current_generations",
        "current_prompts": "SELECT cell_id, prompt_id FROM current_prompts",
        "current_judgments": "SELECT cell_id, judge, judge_key, generation_key, judgments FROM current_judgments",
        "current_measurements": "SELECT cell_id, measure, measure_key, items FROM current_measurements",
        # the results stage's key fingerprints when judgments were recorded: a time, differing run to run
        "runs": "SELECT stage, unit, status, CASE stage WHEN 'results' THEN '' ELSE input_key END FROM stage_runs",
        "artifacts": "SELECT cell_id, kind, path, sha256 FROM artifacts",
    }
    try:
        return {k: _sorted(con.execute(sql).fetchall()) for k, sql in q.items()}
    finally:
        con.close()


def _run(home: Path, executor: str, monkeypatch, **kw):
    from tests.stages.fake import STAGES
    from workbench import registry
    from workbench.recipe import load_recipe
    from workbench.runner import run_plan

    monkeypatch.setenv("WORKBENCH_HOME", str(home))
    events = []
    with registry.registered(STAGES):
        summary = run_plan(load_recipe(RECIPES / "demo.toml"), executor=executor, emit=events.append, **kw)
    return summary, events


def test_fake_study_on_ray_equals_a_local_run(ray_cluster, tmp_path, monkeypatch):
    monkeypatch.setenv("RAY_ADDRESS", ray_cluster)
    monkeypatch.setenv("RAY_AUTH_MODE", "disabled")
    local, _ = _run(tmp_path / "local", "local", monkeypatch)
    remote, events = _run(tmp_path / "ray", "ray", monkeypatch)
    assert not local.failed and not remote.failed, [o for o in remote.outcomes if o.status != "done"]
    assert sorted((o.stage, o.unit, o.status) for o in remote.outcomes) == sorted(
        (o.stage, o.unit, o.status) for o in local.outcomes
    )
    a, b = _state(tmp_path / "local/studies/demo.sqlite"), _state(tmp_path / "ray/studies/demo.sqlite")
    assert a["responses"] and a == b
    # the units state says where each ran, and every shard was merged and removed
    (units_file,) = list((tmp_path / "ray").rglob("*.units.json"))
    units = json.loads(units_file.read_text())["units"]
    assert {u["state"] for u in units.values()} == {"done"} and all(u.get("where") for u in units.values())
    assert "export+" not in " ".join(units) and any(k.startswith("finetune+export:") for k in units)
    assert not list((tmp_path / "ray").rglob("shards/*.sqlite"))
    # a second run on ray skips everything (keys come home with the shards)
    again, _ = _run(tmp_path / "ray", "ray", monkeypatch)
    assert {o.status for o in again.outcomes} == {"skipped"}
    assert _state(tmp_path / "ray/studies/demo.sqlite") == b


def test_a_worker_killed_mid_unit_is_retried_and_nothing_is_lost_or_doubled(ray_cluster, tmp_path, monkeypatch):
    monkeypatch.setenv("RAY_ADDRESS", ray_cluster)
    monkeypatch.setenv("RAY_AUTH_MODE", "disabled")
    monkeypatch.setenv("FAKE_RUNNER_STEP_S", "0.4")  # a fine-tune takes ~3 s: time to kill it
    local, _ = _run(tmp_path / "local", "local", monkeypatch)
    home = tmp_path / "ray"
    result: dict = {}

    def go():
        result["summary"], result["events"] = _run(home, "ray", monkeypatch)

    t = threading.Thread(target=go)
    t.start()
    # `workbench status` shows the units out on workers: running, and where (from the engine's state)
    from tests.stages.fake import STAGES
    from workbench import registry
    from workbench.recipe import load_recipe
    from workbench.runner import status_grid

    seen = None
    deadline = time.time() + 120
    with registry.registered(STAGES):
        recipe = load_recipe(RECIPES / "demo.toml")
        while time.time() < deadline and seen is None and t.is_alive():
            grid = status_grid(recipe)
            for row in grid["cells"]:
                st = row["stages"]["finetune"]
                if st["status"] == "running" and st.get("where"):
                    seen = (row["cell"], st)
            time.sleep(0.1)
    assert seen is not None, "no fine-tune was shown running on a worker"
    assert seen[1]["where"] == socket.gethostname()
    assert grid["live"]["remote"]["executor"] == "ray"
    killed = None
    deadline = time.time() + 120
    while time.time() < deadline and killed is None:
        for f in home.rglob("started/finetune*.json"):
            where = json.loads(f.read_text())
            os.kill(where["pid"], signal.SIGKILL)
            killed = (f.name, where["pid"])
            break
        time.sleep(0.05)
    t.join(timeout=300)
    assert killed is not None and not t.is_alive()
    summary = result["summary"]
    assert not summary.failed, [o for o in summary.outcomes if o.status != "done"]
    retried = [e for e in result["events"] if getattr(e, "level", "") == "warning" and "again" in e.message]
    assert retried, "the lost task was not handed over again"
    assert _state(home / "studies/demo.sqlite") == _state(tmp_path / "local/studies/demo.sqlite")


def test_fake_study_through_submitit_equals_a_local_run(tmp_path, monkeypatch):
    """submitit's local executor: jobs are processes of this machine, submitted and polled as on Slurm."""
    local, _ = _run(tmp_path / "local", "local", monkeypatch)
    recipe = tmp_path / "demo.toml"
    text = (RECIPES / "demo.toml").read_text(encoding="utf-8")
    recipe.write_text(text + '\n[run]\nexecutor = "slurm"\n[run.slurm]\ncluster = "local"\n', encoding="utf-8")
    from tests.stages.fake import STAGES
    from workbench import registry
    from workbench.recipe import load_recipe
    from workbench.runner import run_plan

    monkeypatch.setenv("WORKBENCH_HOME", str(tmp_path / "slurm"))
    with registry.registered(STAGES):
        r = load_recipe(recipe)
        summary = run_plan(r)
    assert not summary.failed, [o for o in summary.outcomes if o.status != "done"]
    assert _state(tmp_path / "slurm/studies/demo.sqlite") == _state(tmp_path / "local/studies/demo.sqlite")
    assert list((tmp_path / "slurm").rglob("slurm/*_log.out"))  # submitit's own job logs


def test_plan_estimates_wall_time_for_n_workers(workspace):
    from tests.conftest import run_cli

    outs = {}
    for n in (1, 2, 4):
        p = run_cli("plan", RECIPES / "paper.toml", "--format", "json", "--gpu", "consumer", "--executor", "ray",
                    "--workers", n, env={"WORKBENCH_HOME": str(workspace)})  # fmt: skip
        assert p.returncode == 0, p.stdout + p.stderr
        outs[n] = json.loads(p.stdout)["distributed"]
    assert outs[1]["seconds"] > outs[2]["seconds"] > outs[4]["seconds"] > 0
    # one worker: the tasks end to end, as the serial sum
    assert outs[1]["seconds"] == pytest.approx(outs[1]["serial_seconds"], rel=1e-6)
    # never better than perfect division of the cell work
    assert outs[4]["seconds"] >= outs[1]["serial_seconds"] / 4 * 0.999
    bad = run_cli("run", RECIPES / "demo.toml", "--executor", "kubernetes", env={"WORKBENCH_HOME": str(workspace)})
    assert bad.returncode == 2 and "unknown executor 'kubernetes'" in bad.stderr


# the tiny demo profile's measurement stages, as small
MEASURE_PROFILE = """
[quick.capability]
examples_per_language = 4

[quick.choice]
examples_per_language = 4

[quick.drift]
prompts_per_language = 4

[quick.overrefusal]
examples_per_language = 4
"""


def _real_state(home: Path) -> dict:
    """:func:`_state` of a real run, with artifact paths relative to the workspace."""
    state = _state(home / "studies" / "cluster.sqlite")
    state["artifacts"] = _sorted(
        (c, k, str(Path(p).resolve().relative_to(home.resolve())) if Path(p).is_absolute() else p, sha)
        for c, k, p, sha in state["artifacts"]
    )
    return state


@pytest.mark.slow
def test_demo_pipeline_on_ray_equals_a_local_run(ray_cluster, tmp_path, monkeypatch):
    """The demo recipe's real stages (align, fine-tune, export, generate, judges, measurements, results)
    on a small profile: dispatched to the Ray cluster, the merged database equals a local run's."""
    # Both CPUs per task, as the local run trains with: CPU training is bitwise reproducible only at the
    # same thread count (the fake-stage tests above cover tasks running side by side).
    path = tiny_demo_recipe(tmp_path, "cluster", MEASURE_PROFILE + "\n[run.ray]\ncpus_per_task = 2\n")
    from workbench.recipe import load_recipe
    from workbench.runner import run_plan

    monkeypatch.setenv("RAY_ADDRESS", ray_cluster)
    monkeypatch.setenv("RAY_AUTH_MODE", "disabled")
    for executor in ("local", "ray"):
        monkeypatch.setenv("WORKBENCH_HOME", str(tmp_path / executor))
        summary = run_plan(load_recipe(path, quick=True), executor=executor)
        assert not summary.failed, [o for o in summary.outcomes if o.status == "failed"]
    local, remote = _real_state(tmp_path / "local"), _real_state(tmp_path / "ray")
    assert local["responses"] and local["judgments"] and local["measurements"]
    for table in local:
        assert local[table] == remote[table], table
