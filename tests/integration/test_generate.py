"""The generate stage on a tiny float32 GGUF: batching, resumability, SIGKILL safety (seconds)."""

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, kill_mid_run
from workbench.recipe import load_recipe
from workbench.runner import run_plan


def write_recipe(path: Path, model_dir: Path, *, max_new_tokens=24, parallel=4, extra="") -> Path:
    path.write_text(f"""
[study]
name = "gen"
[[models]]
name = "m"
path = "{model_dir}"
family = "llama3"
[languages]
finetune = ["es"]
evaluate = ["en", "es"]
[data.evaluation]
shipped = "adversarial"
limit = 6
[export]
quantizations = ["f32"]
[generation]
max_new_tokens = {max_new_tokens}
parallel_sequences = {parallel}
{extra}
""")
    return path


@pytest.fixture(scope="module")
def gen_study(tiny, tmp_path_factory):
    """A study whose base cell is exported to a float32 GGUF (shared by the tests of this module)."""
    home = tmp_path_factory.mktemp("genhome")
    old = os.environ.get("WORKBENCH_HOME")
    os.environ["WORKBENCH_HOME"] = str(home)
    try:
        recipe_path = write_recipe(home / "gen.toml", tiny["llama3"])
        summary = run_plan(load_recipe(recipe_path), only="export", cells_filter="m/base")
        assert summary.count("failed") == 0, summary.outcomes
    finally:
        if old is None:
            os.environ.pop("WORKBENCH_HOME", None)
        else:
            os.environ["WORKBENCH_HOME"] = old
    return home, recipe_path


def _gguf(home: Path) -> Path:
    return next((home / "models" / "gen" / "m" / "base").glob("*.f32.gguf"))


def _requests(engine, n=12, max_new_tokens=24):
    from workbench.engines.generate import Request

    prompts = [f"Question number {i}: how do I {w}?" for i, w in enumerate(["cook", "sing", "swim", "fly"] * 3)]
    return [Request(i, engine.chat_tokens(p), max_new_tokens) for i, p in enumerate(prompts[:n])]


def test_batched_greedy_equals_sequential(gen_study):
    """Continuous batching (4 slots, refilled as sequences end) decodes exactly the sequential tokens."""
    from workbench.engines.generate import Engine

    home, _ = gen_study
    with Engine(_gguf(home), n_parallel=1) as seq_engine:
        sequential = {r.key: r.tokens for r in seq_engine.generate(_requests(seq_engine))}
    with Engine(_gguf(home), n_parallel=4) as batch_engine:
        reqs = _requests(batch_engine)
        # uneven lengths make slots free at different steps, so refills happen mid-batch
        for i, r in enumerate(reqs):
            r.max_new_tokens = 6 + 5 * (i % 4)
        batched = {r.key: r.tokens for r in batch_engine.generate(reqs)}
    assert set(batched) == set(sequential)
    for key, tokens in batched.items():
        assert tokens == sequential[key][: len(tokens)], f"request {key} differs"
        assert len(tokens) >= 1


def test_sampling_is_seeded_per_request(gen_study):
    from workbench.engines.generate import Engine

    home, _ = gen_study
    with Engine(_gguf(home), n_parallel=4) as engine:
        reqs = _requests(engine, n=4)
        for r in reqs:
            r.temperature, r.seed = 1.0, 7
        a = {r.key: r.tokens for r in engine.generate(reqs)}
        b = {r.key: r.tokens for r in engine.generate(reqs[::-1])}  # other batch neighbours, same seeds
        for r in reqs:
            r.seed = 8
        c = {r.key: r.tokens for r in engine.generate(reqs)}
    assert a == b
    assert a != c


def _db(home: Path) -> sqlite3.Connection:
    return sqlite3.connect(home / "studies" / "gen.sqlite")


def test_generate_stage_commits_and_skips(gen_study, monkeypatch):
    home, recipe_path = gen_study
    monkeypatch.setenv("WORKBENCH_HOME", str(home))
    recipe = load_recipe(recipe_path)
    summary = run_plan(recipe, only="generate", cells_filter="m/base")
    assert summary.count("failed") == 0, summary.outcomes
    with _db(home) as db:
        rows = db.execute(
            "SELECT prompt_id, completion_tokens, finish_reason, ttft_ms, tokens_per_s, prompt_tokens, params_json "
            "FROM responses WHERE cell_id = 'm/base'"
        ).fetchall()
    assert len(rows) == 12  # 6 prompts x 2 languages
    assert {r[0].split(":")[1] for r in rows} == {"en", "es"}
    for _, completion, reason, ttft, tps, prompt_tokens, params in rows:
        assert 1 <= completion <= 24 and reason in ("stop", "length")
        assert ttft > 0 and tps > 0 and prompt_tokens > 5
        assert '"parallel_sequences": 4' in params

    again = run_plan(recipe, only="generate", cells_filter="m/base")
    assert [o.status for o in again.outcomes if o.stage == "generate"] == ["skipped"]

    # Lose three responses (as a crash would): the stage regenerates exactly those.
    with _db(home) as db:
        db.execute("DELETE FROM responses WHERE id IN (SELECT id FROM responses ORDER BY id DESC LIMIT 3)")
    from workbench.cells import cell_by_id
    from workbench.context import open_context
    from workbench.stages import generate

    ctx = open_context(recipe)
    try:
        details = generate.STAGE.run(ctx, cell_by_id(recipe, "m/base"))
    finally:
        ctx.db.close()
    assert details["new"] == 3 and details["responses"] == 12


def test_generation_settings_change_the_key(gen_study, tiny, monkeypatch, tmp_path):
    home, _ = gen_study
    monkeypatch.setenv("WORKBENCH_HOME", str(home))
    other = load_recipe(write_recipe(tmp_path / "g.toml", tiny["llama3"], max_new_tokens=8))
    from workbench.cells import cell_by_id
    from workbench.context import open_context
    from workbench.stages import generate

    ctx = open_context(load_recipe(gen_study[1]))
    ctx_other = open_context(other)
    try:
        sha = ctx.artifacts.gguf("m/base")["sha256"]
        cell = cell_by_id(other, "m/base")
        assert generate.generation_key(ctx, cell, sha) != generate.generation_key(ctx_other, cell, sha)
        assert generate.settings_key(ctx, cell) != generate.settings_key(ctx_other, cell)
        # parallelism is not part of the key: batched greedy decoding gives the same tokens
        par = load_recipe(write_recipe(tmp_path / "p.toml", tiny["llama3"], parallel=1))
        ctx_par = open_context(par)
        assert generate.generation_key(ctx, cell, sha) == generate.generation_key(ctx_par, cell, sha)
        ctx_par.db.close()
    finally:
        ctx.db.close()
        ctx_other.db.close()


@pytest.mark.slow
def test_sigkill_during_generate_loses_nothing_finished(tiny, workspace, tmp_path):
    """Kill a real `workbench run` mid-generation; the rerun completes without repeating finished work."""
    recipe_path = write_recipe(tmp_path / "k.toml", tiny["llama3"], max_new_tokens=400, parallel=2)
    # export first, in-process; then generate in a subprocess that we kill
    assert run_plan(load_recipe(recipe_path), only="export", cells_filter="m/base").count("failed") == 0
    db_path = workspace / "studies" / "gen.sqlite"
    cmd = [
        sys.executable,
        "-m",
        "workbench",
        "run",
        str(recipe_path),
        "--only",
        "generate",
        "--cells",
        "m/base",
        "--events",
        "jsonl",
    ]
    _, at_kill = kill_mid_run(cmd, db_path, "SELECT id, prompt_id, text FROM responses ORDER BY id", 12)
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr
    with sqlite3.connect(db_path) as db:
        after = db.execute("SELECT id, prompt_id, text FROM responses ORDER BY id").fetchall()
        dup = db.execute(
            "SELECT count(*) FROM (SELECT prompt_id FROM responses GROUP BY prompt_id, cell_id HAVING count(*) > 1)"
        ).fetchone()[0]
    assert len(after) == 12 and dup == 0
    assert after[: len(at_kill)] == at_kill  # nothing finished was regenerated or replaced


def test_prompt_longer_than_n_ctx_is_a_clear_error(gen_study):
    from workbench.engines.generate import Engine
    from workbench.errors import WorkbenchError

    home, _ = gen_study
    with Engine(_gguf(home), n_parallel=2, n_ctx_per_seq=12) as engine:
        with pytest.raises(WorkbenchError, match=r"do not fit n_ctx = 12") as err:
            list(engine.generate(_requests(engine, n=2)))
    assert "n_ctx" in err.value.hint


def test_missing_or_corrupt_gguf_is_a_clear_error(tmp_path):
    from workbench.engines.generate import Engine
    from workbench.errors import WorkbenchError

    with pytest.raises(WorkbenchError, match="not found"):
        Engine(tmp_path / "none.gguf")
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"GGUF" + b"\0" * 64)
    with pytest.raises(WorkbenchError, match="cannot load this GGUF"):
        Engine(bad)


def test_half_finished_regeneration_does_not_replace_the_current_responses(gen_study, tiny, monkeypatch, tmp_path):
    """A regeneration with new settings that stops midway: results, labelling and compare keep the
    complete earlier generation until the new one is complete."""
    from workbench.analysis import results
    from workbench.engines import generate as engine
    from workbench.store import browse, open_study_db, read

    home, recipe_path = gen_study
    monkeypatch.setenv("WORKBENCH_HOME", str(home))
    first = run_plan(load_recipe(recipe_path), only="generate,judge", cells_filter="m/base")
    assert first.count("failed") == 0, first.outcomes

    def state():
        with open_study_db(home / "studies" / "gen.sqlite") as db:
            sid = read.study_id(db, "gen")
            gen = read.current_generation(db, "m/base")
            rows = results.compute(db, sid)
            queue = set(browse.label_queue(db, sid, "ana", limit=1000))
            keys = {
                r["generation_key"]
                for r in db.query(
                    f"SELECT generation_key FROM responses WHERE id IN ({', '.join(map(str, queue)) or 'NULL'})"
                )
            }
            compared = {
                r["generation_key"]
                for item, lang in browse.compare_prompts(db, sid, browse.CompareFilter())
                for rid in browse.responses_for_prompt(db, item, lang)
                for r in db.query("SELECT generation_key FROM responses WHERE id = ?", [rid])
            }
            total = sum(r.n + r.unparseable for r in rows)
            return gen.generation_key, total, keys, compared

    key_a, total_a, label_keys, compare_keys = state()
    assert total_a == 12 and label_keys == {key_a} and compare_keys == {key_a}

    real = engine.Engine.generate

    def stops_after_three(self, requests):
        for i, res in enumerate(real(self, requests)):
            if i == 3:
                raise RuntimeError("the machine went away")
            yield res

    monkeypatch.setattr(engine.Engine, "generate", stops_after_three)
    other = load_recipe(write_recipe(tmp_path / "other.toml", tiny["llama3"], max_new_tokens=8))
    broken = run_plan(other, only="generate,judge", cells_filter="m/base")
    assert [o.status for o in broken.outcomes if o.stage == "generate"] == ["failed"]
    with open_study_db(home / "studies" / "gen.sqlite") as db:
        assert db.query("SELECT count(*) AS n FROM responses WHERE generation_key != ?", [key_a]).__next__()["n"] == 3
    assert state() == (key_a, 12, {key_a}, {key_a})  # nothing of the half-finished generation shows

    monkeypatch.setattr(engine.Engine, "generate", real)
    done = run_plan(other, only="generate,judge", cells_filter="m/base")
    assert done.count("failed") == 0, done.outcomes
    key_b, total_b, label_keys, compare_keys = state()
    assert key_b != key_a and total_b == 12 and label_keys == {key_b} and compare_keys == {key_b}
