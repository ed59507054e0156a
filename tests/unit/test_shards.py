"""Shard merge: whatever the order, however often a shard is merged, the study database ends the same.

A pool of shards is made the way workers make them (a seed copy of the study database, rows added
through the store's write API, :func:`shards.extract`), with overlapping units (two shards that ran
the same unit hold the same keys, as a retried unit does). Hypothesis draws merge sequences
(interleavings, repeats); the merged database is checked against what the shards hold, computed
here in Python from the rows each shard was given, not from the merge.
"""

from __future__ import annotations

import random
import shutil
import sqlite3
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from workbench.store import open_study_db, shards

CELLS = ["m/base", "m/es/s0-e1", "m/tl/s0-e1"]
PROMPTS = [f"p{i:02d}:{lang}" for i in range(6) for lang in ("en", "es")]


def _base(path: Path) -> None:
    with open_study_db(path) as db:
        sid = db.ensure_study("s")
        for c in CELLS:
            kind = "base" if c.endswith("base") else "finetune"
            lang = None if kind == "base" else c.split("/")[1]
            db.upsert_cell(sid, {"id": c, "model": "m", "kind": kind, "finetune_lang": lang, "seed": 0,
                                 "epochs": 1, "config_hash": c, "config": {}})  # fmt: skip
        db.add_prompts(sid, [{"item_id": p.split(":")[0], "lang": p.split(":")[1], "text": f"text {p}",
                              "source": "test"} for p in PROMPTS])  # fmt: skip
        run = db.start_stage_run(sid, "prepare", unit="study", input_key="k")
        db.finish_stage_run(run, "done")


def _label(cell: str, prompt: str, gen: str) -> str:
    """Same keys, same output (as a rerun of the same unit gives)."""
    return ("comply", "refuse")[hash((cell, prompt, gen)) % 2]


def _make_shard(base: Path, out: Path, unit: dict, tmp: Path) -> None:
    """A worker's shard: the seed copied, marks taken, the unit's rows written, extracted."""
    local = tmp / f"work-{out.stem}.sqlite"
    shutil.copyfile(base, local)
    con = sqlite3.connect(local)
    marks = shards.marks(con)
    con.close()
    with open_study_db(local) as db:
        sid = db.ensure_study("s")
        run = db.start_stage_run(sid, "generate", cell_id=unit["cell"], unit=unit["cell"], input_key=unit["gen"])
        for p in unit["prompts"]:
            rid = db.add_response({"prompt_id": p, "cell_id": unit["cell"], "generation_key": unit["gen"],
                                   "text": f"answer {p} {unit['gen']}", "temperature": 0.0, "top_p": 1.0, "seed": 0,
                                   "max_new_tokens": 8, "params_json": {}, "prompt_tokens": 3,
                                   "completion_tokens": 4, "finish_reason": "stop"})  # fmt: skip
            db.add_judgment({"response_id": rid, "judge": "h", "judge_key": "jk",
                             "label": _label(unit["cell"], p, unit["gen"])})  # fmt: skip
        db.finish_stage_run(run, "done")
        if unit["complete"]:
            db.set_current_generation(unit["cell"], unit["gen"], "settings")
            db.set_current_judgments(unit["cell"], "h", "jk", unit["gen"], len(unit["prompts"]))
    shards.extract(local, marks, out)
    local.unlink()


@pytest.fixture(scope="module")
def pool(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("shards")
    base = tmp / "study.sqlite"
    _base(base)
    rng = random.Random(7)
    units = []
    for _ in range(8):
        cell = rng.choice(CELLS)
        gen = rng.choice(["g1", "g2"])
        complete = rng.random() < 0.6
        prompts = PROMPTS if complete else rng.sample(PROMPTS, 5)
        units.append({"cell": cell, "gen": gen, "prompts": prompts, "complete": complete})
    units.append(dict(units[0]))  # a unit that ran twice (a retry): same keys, its own stage run
    files = []
    for i, u in enumerate(units):
        f = tmp / f"shard-{i}.sqlite"
        _make_shard(base, f, u, tmp)
        u["recorded_at"] = _recorded(f, u["cell"]) if u["complete"] else None
        files.append(f)
        time.sleep(0.002)  # distinct recording times
    return base, files, units


def _recorded(shard: Path, cell: str) -> str:
    con = sqlite3.connect(shard)
    try:
        return con.execute("SELECT recorded_at FROM current_generations WHERE cell_id = ?", (cell,)).fetchone()[0]
    finally:
        con.close()


def _state(db: Path) -> dict:
    """The merged database by natural keys (no row ids)."""
    con = sqlite3.connect(db)
    try:
        resp = con.execute("SELECT prompt_id, cell_id, generation_key, text FROM responses").fetchall()
        judg = con.execute(
            "SELECT r.prompt_id, r.cell_id, r.generation_key, j.judge, j.judge_key, j.label FROM judgments j "
            "JOIN responses r ON r.id = j.response_id"
        ).fetchall()
        return {
            "responses": sorted(resp),
            "n_responses": len(resp),
            "judgments": sorted(judg),
            "n_judgments": len(judg),
            "runs": sorted(con.execute("SELECT uid, stage, status FROM stage_runs").fetchall()),
            "current": sorted(con.execute("SELECT cell_id, generation_key, responses FROM current_generations")),
            "current_prompts": sorted(con.execute("SELECT cell_id, prompt_id FROM current_prompts")),
            "current_judgments": sorted(
                con.execute("SELECT cell_id, judge, judge_key, generation_key FROM current_judgments")
            ),
            "cells": sorted(con.execute("SELECT id, config_hash FROM cells")),
            "prompts": sorted(con.execute("SELECT id, text FROM prompts")),
            "fk": con.execute("PRAGMA foreign_key_check").fetchall(),
        }
    finally:
        con.close()


def _expected(units: list[dict], merged: set[int]) -> dict:
    """What the merged shards hold, from the rows each was given."""
    resp, judg = set(), set()
    newest: dict[str, dict] = {}
    for i in merged:
        u = units[i]
        for p in u["prompts"]:
            resp.add((p, u["cell"], u["gen"], f"answer {p} {u['gen']}"))
            judg.add((p, u["cell"], u["gen"], "h", "jk", _label(u["cell"], p, u["gen"])))
        if u["complete"] and (u["cell"] not in newest or u["recorded_at"] > newest[u["cell"]]["recorded_at"]):
            newest[u["cell"]] = u
    return {
        "responses": sorted(resp),
        "judgments": sorted(judg),
        "current": sorted((c, u["gen"], len(u["prompts"])) for c, u in newest.items()),
        "current_prompts": sorted((c, p) for c, u in newest.items() for p in u["prompts"]),
    }


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(order=st.lists(st.integers(min_value=0, max_value=8), min_size=1, max_size=14))
def test_any_interleaving_with_repeats_merges_to_the_union(pool, tmp_path_factory, order):
    base, files, units = pool
    db = tmp_path_factory.mktemp("merge") / "study.sqlite"
    shutil.copyfile(base, db)
    before = _state(db)
    for i in order:
        shards.merge(db, files[i])
    got = _state(db)
    want = _expected(units, set(order))
    assert got["responses"] == want["responses"]
    assert got["n_responses"] == len(want["responses"])  # no duplicates
    assert got["judgments"] == want["judgments"]
    assert got["n_judgments"] == len(want["judgments"])
    assert got["current"] == want["current"]
    assert got["current_prompts"] == want["current_prompts"]
    assert [c for c, *_ in got["current_judgments"]] == [c for c, *_ in want["current"]]
    assert got["cells"] == before["cells"] and got["prompts"] == before["prompts"]
    # the seed's prepare run once, plus one generate run per distinct shard merged
    assert len(got["runs"]) == 1 + len(set(order))
    assert got["fk"] == []


def test_merging_in_another_order_or_again_changes_nothing(pool, tmp_path):
    base, files, _units = pool
    a, b = tmp_path / "a.sqlite", tmp_path / "b.sqlite"
    shutil.copyfile(base, a)
    shutil.copyfile(base, b)
    for f in files:
        shards.merge(a, f)
    for f in reversed(files):
        shards.merge(b, f)
    first = _state(a)
    assert first == _state(b)
    stats = [shards.merge(a, f) for f in files]  # every shard a second time
    assert _state(a) == first
    assert all(s.rows.get("responses", 0) == 0 and s.rows.get("judgments", 0) == 0 for s in stats)


@pytest.mark.parametrize("cut", [0.5, 0.95, 100])
def test_a_truncated_shard_is_refused_and_merges_nothing(pool, tmp_path, cut):
    base, files, _units = pool
    db = tmp_path / "study.sqlite"
    shutil.copyfile(base, db)
    shards.merge(db, files[1])
    before = _state(db)
    bad = tmp_path / "bad.sqlite"
    data = files[2].read_bytes()
    bad.write_bytes(data[: int(len(data) * cut)] if cut < 1 else data[:cut])
    with pytest.raises(shards.ShardError) as err:
        shards.merge(db, bad)
    assert str(bad) in err.value.message
    assert _state(db) == before


def test_a_shard_of_another_schema_is_refused(pool, tmp_path):
    base, files, _units = pool
    db = tmp_path / "study.sqlite"
    shutil.copyfile(base, db)
    odd = tmp_path / "odd.sqlite"
    shutil.copyfile(files[0], odd)
    con = sqlite3.connect(odd)
    con.execute("DELETE FROM _sqlite_migrations WHERE name = 'm006_stage_run_uids'")
    con.commit()
    con.close()
    with pytest.raises(shards.ShardError, match="another schema"):
        shards.merge(db, odd)
    assert _state(db)["n_responses"] == 0


def test_a_shard_carries_only_the_units_rows(pool):
    _base_path, files, units = pool
    con = sqlite3.connect(files[0])
    try:
        (n,) = con.execute("SELECT count(*) FROM responses").fetchone()
        runs = con.execute("SELECT stage FROM stage_runs").fetchall()
    finally:
        con.close()
    assert n == len(units[0]["prompts"])
    assert runs == [("generate",)]  # the seed's prepare run stays home
