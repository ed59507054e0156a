"""``workbench export`` and ``workbench import-labels`` on a synthetic study: the datasets folder loads
back with the rows the database has (counted with SQL), the card names the sources' terms, and labels
merge into another copy of the study without duplicates, conflicts reported and never overwritten."""

from __future__ import annotations

import json
import shutil
import sqlite3
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))

from synthetic_study import make_study  # noqa: E402

from workbench.errors import WorkbenchError  # noqa: E402
from workbench.exchange import export_study, import_labels, licence_of  # noqa: E402

CURRENT = """JOIN current_generations g ON g.cell_id = r.cell_id AND g.generation_key = r.generation_key
             JOIN current_prompts cp ON cp.cell_id = r.cell_id AND cp.prompt_id = r.prompt_id"""


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    folder = tmp_path_factory.mktemp("exchange")
    db = folder / "synth.sqlite"
    make_study(db, 400, seed=5, recipe_path=folder / "synth.toml")
    return db


def _count(db_path, sql):
    with sqlite3.connect(db_path) as db:
        return db.execute(sql).fetchone()[0]


def test_the_export_loads_back_with_every_current_row(study, tmp_path):
    import datasets
    import pyarrow.parquet as pq

    done = export_study(study, "synth", tmp_path / "out")
    loaded = datasets.load_from_disk(str(tmp_path / "out" / "dataset"))
    responses = _count(study, f"SELECT count(*) FROM responses r {CURRENT}")
    labels = _count(study, f"SELECT count(*) FROM human_labels h JOIN responses r ON r.id = h.response_id {CURRENT}")
    assert loaded["responses"].num_rows == responses == done.rows["responses"] > 0
    assert loaded["labels"].num_rows == labels == done.rows["labels"] > 0
    assert loaded["judgments"].num_rows == done.rows["judgments"] > 0
    assert pq.read_table(tmp_path / "out" / "parquet" / "responses.parquet").num_rows == responses
    first = loaded["responses"][0]
    assert first["prompt"] and first["response"] and first["generation_key"]
    card = (tmp_path / "out" / "README.md").read_text()
    assert "load_from_disk" in card and "Sources and licences" in card
    # without text: the same rows, no prompt or response text
    export_study(study, "synth", tmp_path / "bare", text=False)
    bare = datasets.load_from_disk(str(tmp_path / "bare" / "dataset"))
    assert bare["responses"].num_rows == responses and bare["responses"][0]["response"] is None


def test_sources_that_forbid_redistribution_are_said():
    assert licence_of("hub:sorry-bench/sorry-bench-202406")[1] is False
    assert licence_of("hub:DAMO-NLP-SG/MultiJail") == ("MIT", True)
    assert licence_of("shipped:adversarial")[1] is True
    assert licence_of("file:/data/mine.jsonl")[1] is None


def test_labels_merge_into_another_copy_without_duplicates_and_conflicts_are_kept(study, tmp_path):
    export_study(study, "synth", tmp_path / "out")
    copy = tmp_path / "copy.sqlite"
    shutil.copy(study, copy)
    with sqlite3.connect(copy) as db:
        total = db.execute("SELECT count(*) FROM human_labels").fetchone()[0]
        gone = db.execute("SELECT id FROM human_labels ORDER BY id LIMIT 7").fetchall()
        db.executemany("DELETE FROM human_labels WHERE id = ?", gone)
        # one label changed here: the import must report it and keep this one
        rid, who, label = db.execute(
            "SELECT response_id, annotator, label FROM human_labels ORDER BY id DESC LIMIT 1"
        ).fetchone()
        other = "refuse" if label != "refuse" else "comply"
        db.execute("UPDATE human_labels SET label = ? WHERE response_id = ? AND annotator = ?", [other, rid, who])
    done = import_labels(copy, "synth", tmp_path / "out")
    assert done.added == 7 and done.unknown == 0
    assert done.duplicates == total - 7 - 1 and len(done.conflicts) == 1
    assert done.conflicts[0]["here"] == other and done.conflicts[0]["theirs"] == label
    with sqlite3.connect(copy) as db:
        assert db.execute("SELECT count(*) FROM human_labels").fetchone()[0] == total
        kept = db.execute(
            "SELECT label FROM human_labels WHERE response_id = ? AND annotator = ?", [rid, who]
        ).fetchone()
    assert kept == (other,)
    again = import_labels(copy, "synth", tmp_path / "out")  # a second import adds nothing
    assert again.added == 0 and again.duplicates == total - 1


def test_a_jsonl_of_labels_and_bad_rows(study, tmp_path):
    with sqlite3.connect(study) as db:
        cell, prompt, key = db.execute("SELECT cell_id, prompt_id, generation_key FROM responses LIMIT 1").fetchone()
    good = tmp_path / "l.jsonl"
    good.write_text(json.dumps({"cell_id": cell, "prompt_id": prompt, "generation_key": key, "annotator": "zoe",
                                "label": "refuse"}) + "\n" + json.dumps({"cell_id": "x/base", "prompt_id": "p:en",
                                "generation_key": "k", "annotator": "zoe", "label": "comply"}) + "\n")  # fmt: skip
    copy = tmp_path / "c.sqlite"
    shutil.copy(study, copy)
    done = import_labels(copy, "synth", good)
    assert (done.added, done.unknown) == (1, 1)
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"cell_id": cell, "prompt_id": prompt, "annotator": "zoe", "label": "refuse"}) + "\n")
    with pytest.raises(WorkbenchError, match="lack one of"):
        import_labels(copy, "synth", bad)
    odd = tmp_path / "odd.jsonl"
    odd.write_text(json.dumps({"cell_id": cell, "prompt_id": prompt, "generation_key": key, "annotator": "zoe",
                               "label": "yes"}) + "\n")  # fmt: skip
    with pytest.raises(WorkbenchError, match="unknown label"):
        import_labels(copy, "synth", odd)
