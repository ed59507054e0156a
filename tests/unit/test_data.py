import difflib
import json
from collections import Counter, defaultdict

import pytest

from workbench import data
from workbench.errors import DataError
from workbench.languages import STUDY_LANGUAGES
from workbench.recipe.models import DataSource


def _rows(name):
    return data.read_jsonl(data.shipped_path(name))


@pytest.mark.parametrize("name,min_items", [("benign", 60), ("adversarial", 40), ("alignment", 40)])
def test_shipped_sets_have_every_item_in_all_nine_languages(name, min_items):
    rows = _rows(name)
    by_item = defaultdict(set)
    for r in rows:
        by_item[r["id"]].add(r["lang"])
        assert all(str(v).strip() for k, v in r.items() if k != "kind"), r
    assert len(by_item) >= min_items
    for item, langs in by_item.items():
        assert langs == set(STUDY_LANGUAGES), f"{name} {item} lacks {set(STUDY_LANGUAGES) - langs}"
    assert len(rows) == len(by_item) * len(STUDY_LANGUAGES)  # no duplicates


def test_shipped_files_have_data_cards():
    for name in ("benign", "adversarial", "alignment"):
        card = data.shipped_path(name).with_suffix(".md")
        text = card.read_text(encoding="utf-8")
        assert "Licence" in text or "License" in text
        assert "How it was made" in text


def test_adversarial_categories_are_spread():
    rows = [r for r in _rows("adversarial") if r["lang"] == "en"]
    cats = Counter(r["category"] for r in rows)
    domains = Counter(r["domain"] for r in rows)
    assert len(cats) >= 15 and max(cats.values()) <= 4
    assert set(domains) == {"hate_speech", "crimes_and_torts", "inappropriate_topics", "unqualified_advice"}


def test_alignment_mix_has_refusals_and_answers_in_every_language():
    rows = _rows("alignment")
    for lang in STUDY_LANGUAGES:
        kinds = Counter(r["kind"] for r in rows if r["lang"] == lang)
        assert kinds["refusal"] >= 20 and kinds["helpful"] >= 20, (lang, kinds)


def test_alignment_refusals_do_not_overlap_evaluation_prompts():
    evaluation = [r["prompt"].lower() for r in _rows("adversarial") if r["lang"] == "en"]
    refusals = [r["prompt"].lower() for r in _rows("alignment") if r["lang"] == "en" and r["kind"] == "refusal"]
    for p in refusals:
        best = max(difflib.SequenceMatcher(None, p, e).ratio() for e in evaluation)
        assert best < 0.75, f"alignment prompt too close to an evaluation prompt: {p!r}"


def test_alignment_prefix_mixes_kinds():
    """A prefix of each language (examples_per_language) must hold both helpful answers and refusals."""
    rows = [r for r in _rows("alignment") if r["lang"] == "es"][:10]
    assert {r["kind"] for r in rows} == {"helpful", "refusal"}


def test_load_shipped_per_language():
    rows = data.load(DataSource(shipped="benign"), "benign", ["es", "tl"])
    assert {r["lang"] for r in rows} == {"es", "tl"}
    assert all(r["instruction"] and r["response"] for r in rows)
    limited = data.load(DataSource(shipped="adversarial", limit=5), "evaluation", ["zh"])
    assert len(limited) == 5 and all(r["prompt"] for r in limited)


@pytest.mark.parametrize("suffix", [".jsonl", ".csv", ".parquet"])
def test_load_local_files_with_field_mapping(tmp_path, suffix):
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    table = pa.table({"question": ["q1", "q2", "q3"], "answer": ["a1", "a2", "a3"], "language": ["en", "es", "en"]})
    path = tmp_path / f"d{suffix}"
    if suffix == ".jsonl":
        path.write_text("".join(json.dumps(r) + "\n" for r in table.to_pylist()))
    elif suffix == ".csv":
        pacsv.write_csv(table, path)
    else:
        pq.write_table(table, path)
    src = DataSource(path=path, fields={"instruction": "question", "response": "answer", "lang": "language"})
    rows = data.load(src, "benign", ["en"])
    assert [r["instruction"] for r in rows] == ["q1", "q3"]


def test_per_language_columns(tmp_path):
    path = tmp_path / "mj.jsonl"
    path.write_text(json.dumps({"id": 7, "en": "hello?", "es": "¿hola?", "tags": "x"}) + "\n")
    src = DataSource(path=path, fields={"prompt": "{lang}", "category": "tags"})
    rows = data.load(src, "evaluation", ["en", "es"])
    assert [(r["item_id"], r["lang"], r["prompt"]) for r in rows] == [("7", "en", "hello?"), ("7", "es", "¿hola?")]


def test_wrong_columns_are_named(tmp_path):
    path = tmp_path / "d.jsonl"
    path.write_text(json.dumps({"q": "x", "lang": "en"}) + "\n")
    with pytest.raises(DataError) as info:
        data.load(DataSource(path=path), "benign", ["en"], where="data.benign")
    msg = info.value.message
    assert "data.benign" in msg and "instruction" in msg and "it has: lang, q" in msg
    assert "fields" in info.value.hint


def test_missing_language_in_source(tmp_path):
    path = tmp_path / "d.jsonl"
    path.write_text(json.dumps({"instruction": "x", "response": "y", "lang": "en"}) + "\n")
    with pytest.raises(DataError, match="no rows in es"):
        data.load(DataSource(path=path), "benign", ["en", "es"])


def test_source_without_language_information(tmp_path):
    path = tmp_path / "d.jsonl"
    path.write_text(json.dumps({"instruction": "x", "response": "y"}) + "\n")
    with pytest.raises(DataError, match="cannot tell the language"):
        data.load(DataSource(path=path), "benign", ["en"])


def test_hub_source_needs_permission():
    with pytest.raises(DataError, match="not allowed"):
        data.load(DataSource(hub="owner/name"), "evaluation", ["en"])


def test_bad_jsonl_line_is_named(tmp_path):
    path = tmp_path / "d.jsonl"
    path.write_text('{"a": 1}\n{oops\n')
    with pytest.raises(DataError, match=r"d.jsonl:2: not valid JSON"):
        data.read_jsonl(path)
