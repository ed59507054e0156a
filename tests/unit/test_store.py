import json
import sqlite3

import pytest

from workbench.store import open_study_db, read
from workbench.store.migrations import migrations

TABLES = {
    "studies",
    "recipe_snapshots",
    "environments",
    "cells",
    "stage_runs",
    "artifacts",
    "prompts",
    "responses",
    "judgments",
    "human_labels",
    "current_generations",
    "current_judgments",
}


@pytest.fixture
def db(tmp_path):
    d = open_study_db(tmp_path / "s.sqlite")
    yield d
    d.close()


def _seed(db):
    sid = db.ensure_study("s")
    db.upsert_cell(sid, {"id": "m/base", "model": "m", "kind": "base", "config_hash": "h", "config": {}})
    db.add_prompts(sid, [{"item_id": "a001", "lang": "es", "text": "¿...?", "source": "shipped:adversarial"}])
    rid = db.add_response(
        {
            "prompt_id": "a001:es",
            "cell_id": "m/base",
            "generation_key": "g",
            "text": "No puedo ayudar.",
            "temperature": 0.0,
            "top_p": 1.0,
            "seed": 0,
            "max_new_tokens": 8,
            "params_json": {"x": 1},
            "prompt_tokens": 5,
            "completion_tokens": 4,
            "finish_reason": "stop",
        }
    )
    db.set_current_generation("m/base", "g", "settings")
    return sid, rid


def test_migrations_from_blank_database(db):
    assert TABLES <= set(db.db.table_names())
    assert "response_overview" in db.db.view_names()
    applied = [m.name for m in migrations.applied(db.db)]
    assert applied == [m.name for m in migrations._migrations]
    assert db.db.journal_mode == "wal"
    assert db.db.execute("PRAGMA foreign_keys").fetchone()[0] == 1


def test_reopening_applies_nothing_twice(tmp_path):
    path = tmp_path / "s.sqlite"
    open_study_db(path).close()
    d = open_study_db(path)
    rows = d.db.execute("SELECT count(*) FROM _sqlite_migrations").fetchone()[0]
    assert rows == len(migrations._migrations)
    d.close()


def test_read_layer_knows_every_migration(tmp_path):
    """read.MIGRATIONS (what a current database has, checked with sqlite3 alone) lists the migrations."""
    assert read.MIGRATIONS == tuple(m.name for m in migrations._migrations)
    path = tmp_path / "s.sqlite"
    assert not read.is_current(path)  # no file
    open_study_db(path).close()
    assert read.is_current(path)
    con = sqlite3.connect(path)
    con.execute("DELETE FROM _sqlite_migrations WHERE name = ?", [read.MIGRATIONS[-1]])
    con.commit()
    con.close()
    assert not read.is_current(path)


def test_opening_a_current_study_for_reading_needs_no_sqlite_utils(tmp_path):
    import subprocess
    import sys

    path = tmp_path / "s.sqlite"
    open_study_db(path).close()
    code = (
        "import sys; from pathlib import Path; from workbench.store import read; "
        f"db = read.open_for_reading(Path({str(path)!r})); db.close(); "
        "print('sqlite_utils' in sys.modules, 'pandas' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["False", "False"]


def test_foreign_keys_are_enforced(db):
    db.ensure_study("s")
    with pytest.raises(sqlite3.IntegrityError):
        db.add_response(
            {
                "prompt_id": "nope:xx",
                "cell_id": "nope",
                "generation_key": "g",
                "text": "",
                "temperature": 0.0,
                "top_p": 1.0,
                "max_new_tokens": 1,
                "params_json": "{}",
                "prompt_tokens": 0,
                "completion_tokens": 0,
                "finish_reason": "stop",
            }
        )


def test_response_is_never_duplicated(db):
    _, rid = _seed(db)
    assert rid is not None
    again = db.add_response(
        {
            "prompt_id": "a001:es",
            "cell_id": "m/base",
            "generation_key": "g",
            "text": "other",
            "temperature": 0.0,
            "top_p": 1.0,
            "max_new_tokens": 8,
            "params_json": "{}",
            "prompt_tokens": 5,
            "completion_tokens": 1,
            "finish_reason": "stop",
        }
    )
    assert again is None
    assert db.db.execute("SELECT count(*) FROM responses").fetchone()[0] == 1


def test_judgment_per_response_and_judge_is_replaced(db):
    _, rid = _seed(db)
    db.add_judgment(
        {
            "response_id": rid,
            "judge": "heuristic",
            "judge_key": "k",
            "label": "comply",
            "score": 0.9,
            "evidence_json": {"cues": []},
        }
    )
    db.add_judgment(
        {
            "response_id": rid,
            "judge": "heuristic",
            "judge_key": "k",
            "label": "refuse",
            "score": 0.1,
            "evidence_json": {"cues": ["no puedo"]},
        }
    )
    rows = list(db.query("SELECT label FROM judgments"))
    assert rows == [{"label": "refuse"}]
    with pytest.raises(sqlite3.IntegrityError):
        db.add_judgment({"response_id": rid, "judge": "x", "judge_key": "k", "label": "maybe", "score": 2})


def test_human_labels_upsert_and_undo(db):
    _, rid = _seed(db)
    db.set_human_label(rid, "ana", "refuse", "clear refusal")
    db.set_human_label(rid, "ana", "partial")
    db.set_human_label(rid, "ben", "refuse")
    rows = list(db.query("SELECT annotator, label, note FROM human_labels ORDER BY annotator"))
    assert rows == [
        {"annotator": "ana", "label": "partial", "note": ""},
        {"annotator": "ben", "label": "refuse", "note": ""},
    ]
    db.remove_human_label(rid, "ana")
    assert [r["annotator"] for r in db.query("SELECT annotator FROM human_labels")] == ["ben"]
    overview = list(db.query("SELECT * FROM response_overview"))
    assert overview[0]["eval_lang"] == "es" and overview[0]["human_labels"] == "ben=refuse"


def test_stage_runs_and_skip_rule(db):
    sid = db.ensure_study("s")
    run = db.start_stage_run(sid, "prepare", input_key="k1")
    assert read.done_run(db, sid, "prepare", None, "", "k1") is None
    db.finish_stage_run(run, "done")
    assert read.done_run(db, sid, "prepare", None, "", "k1")["id"] == run
    assert read.done_run(db, sid, "prepare", None, "", "k2") is None
    with pytest.raises(ValueError):
        db.finish_stage_run(run, "running")


def test_artifacts_record_hash_and_size(db, tmp_path):
    f = tmp_path / "a.bin"
    f.write_bytes(b"abc")
    aid = db.add_artifact(kind="data", path=f)
    row = next(db.query("SELECT * FROM artifacts WHERE id = ?", [aid]))
    assert row["sha256"] == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    assert row["size_bytes"] == 3
    assert db.add_artifact(kind="data", path=f) == aid


def test_environment_rows_are_deduplicated(db):
    env = {"python": "3.11", "platform": "linux", "packages": {"torch": "2.13.0"}}
    assert db.record_environment(env) == db.record_environment(dict(env))
    assert db.record_environment({**env, "python": "3.12"}) != db.record_environment(env)


def test_not_a_database_gives_clear_error(tmp_path):
    from workbench.errors import WorkbenchError

    p = tmp_path / "bad.sqlite"
    p.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(WorkbenchError, match="the study database is damaged .file is not a database"):
        open_study_db(p)


def test_m002_keeps_judgments_and_records_the_newest_keys(tmp_path):
    """A database written before m002: its judgments survive, the newest keys become current."""
    import sqlite_utils

    path = tmp_path / "old.sqlite"
    old = sqlite_utils.Database(path)
    migrations.apply(old, stop_before="m002_current_keys")
    old.execute("INSERT INTO studies (id, name, created_at, updated_at) VALUES (1, 's', 't', 't')")
    old.execute(
        "INSERT INTO cells (id, study_id, model, kind, config_hash, config_json, created_at)"
        " VALUES ('m/base', 1, 'm', 'base', 'h', '{}', 't')"
    )
    old.execute(
        "INSERT INTO prompts (id, study_id, item_id, lang, text, source) VALUES ('a:es', 1, 'a', 'es', '?', 't')"
    )
    for rid, key in ((1, "g-old"), (2, "g-new")):
        old.execute(
            "INSERT INTO responses (id, prompt_id, cell_id, generation_key, text, temperature, top_p, max_new_tokens,"
            " params_json, prompt_tokens, completion_tokens, finish_reason, created_at)"
            f" VALUES ({rid}, 'a:es', 'm/base', '{key}', 'x', 0, 1, 8, '{{}}', 1, 1, 'stop', 't')"
        )
    for jid, rid, jkey, label in ((1, 1, "k1", "refuse"), (2, 2, "k1", "refuse"), (3, 2, "k2", "comply")):
        if jid == 3:  # the old unique key (response, judge) allowed one row: the newer judge key replaced it
            old.execute("DELETE FROM judgments WHERE id = 2")
        old.execute(
            "INSERT INTO judgments (id, response_id, judge, judge_key, label, created_at)"
            f" VALUES ({jid}, {rid}, 'h', '{jkey}', '{label}', 't')"
        )
    old.conn.commit()
    old.close()

    db = open_study_db(path)
    gen = read.current_generation(db, "m/base")
    assert gen is not None and gen.generation_key == "g-new" and gen.responses == 1
    assert [r["judge_key"] for r in db.query("SELECT judge_key FROM current_judgments")] == ["k2"]
    assert [r["id"] for r in db.query("SELECT id FROM judgments ORDER BY id")] == [1, 3]
    # after m002, a second judge key of the same response is kept beside the first
    db.add_judgment({"response_id": 2, "judge": "h", "judge_key": "k3", "label": "refuse"})
    db.add_judgment({"response_id": 2, "judge": "h", "judge_key": "k3", "label": "comply"})  # same key: replaced
    rows = list(db.query("SELECT judge_key, label FROM judgments WHERE response_id = 2 ORDER BY judge_key"))
    assert rows == [{"judge_key": "k2", "label": "comply"}, {"judge_key": "k3", "label": "comply"}]
    db.close()


def test_m002_backfill_picks_the_complete_generation_and_comparable_settings(tmp_path):
    """An aborted newer generation (fewer responses) does not become current; the legacy settings key
    leaves out what differs between cells (the GGUF's hash, parallelism), so base and fine-tune compare."""
    import sqlite_utils

    path = tmp_path / "old.sqlite"
    old = sqlite_utils.Database(path)
    migrations.apply(old, stop_before="m002_current_keys")
    old.execute("INSERT INTO studies (id, name, created_at, updated_at) VALUES (1, 's', 't', 't')")
    for cell, kind, lang in (("m/base", "base", None), ("m/es", "finetune", "es")):
        old.execute(
            "INSERT INTO cells (id, study_id, model, kind, finetune_lang, config_hash, config_json, created_at)"
            " VALUES (?, 1, 'm', ?, ?, 'h', '{}', 't')",
            [cell, kind, lang],
        )
    for i in range(4):
        old.execute(
            "INSERT INTO prompts (id, study_id, item_id, lang, text, source) VALUES (?, 1, ?, 'es', '?', 't')",
            [f"a{i}:es", f"a{i}"],
        )
    rid = 0

    def response(cell, prompt, key, temperature, sha):
        nonlocal rid
        rid += 1
        parallel = 16 if cell == "m/es" else 8
        params = json.dumps({"gguf_sha256": sha, "parallel_sequences": parallel, "quantization": "q8_0"})
        old.execute(
            "INSERT INTO responses (id, prompt_id, cell_id, generation_key, text, temperature, top_p, max_new_tokens,"
            " params_json, prompt_tokens, completion_tokens, finish_reason, created_at)"
            " VALUES (?, ?, ?, ?, 'x', ?, 1, 8, ?, 1, 1, 'stop', 't')",
            [rid, prompt, cell, key, temperature, params],
        )
        old.execute(
            "INSERT INTO judgments (response_id, judge, judge_key, label, created_at)"
            " VALUES (?, 'h', 'k', 'refuse', 't')",
            [rid],
        )

    for i in range(4):
        response("m/base", f"a{i}:es", "g-base", 0.0, "sha-base")
        response("m/es", f"a{i}:es", "g-es", 0.0, "sha-es")
    response("m/es", "a0:es", "g-es-hot", 0.7, "sha-es")  # an aborted try at another temperature, newest
    old.conn.commit()
    old.close()

    db = open_study_db(path)
    gens = read.current_generations(db, 1)
    assert gens["m/es"].generation_key == "g-es" and gens["m/es"].responses == 4
    assert gens["m/base"].settings_key == gens["m/es"].settings_key
    rows = list(db.query("SELECT cell_id, judge_key, judgments FROM current_judgments ORDER BY cell_id"))
    assert rows == [
        {"cell_id": "m/base", "judge_key": "k", "judgments": 4},
        {"cell_id": "m/es", "judge_key": "k", "judgments": 4},
    ]
    from workbench.analysis import results

    ft = next(r for r in results.compute(db, 1) if r.cell == "m/es")
    assert ft.n == 4 and ft.paired_n == 4 and ft.note == ""
    db.close()


def test_judgment_labels_include_neither_and_unsure(db):
    _, rid = _seed(db)
    for i, label in enumerate(("neither", "unsure")):
        db.add_judgment({"response_id": rid, "judge": "h", "judge_key": f"k{i}", "label": label})
    with pytest.raises(sqlite3.IntegrityError):
        db.add_judgment({"response_id": rid, "judge": "h", "judge_key": "k9", "label": "maybe"})
    labels = sorted(r["label"] for r in db.query("SELECT label FROM judgments"))
    assert labels == ["neither", "unsure"]
