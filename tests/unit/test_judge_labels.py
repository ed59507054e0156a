"""The shipped judge label set: complete, consistent with its card, prompts verbatim, splits fixed by item."""

import json
from collections import Counter
from pathlib import Path

import pytest

from workbench.languages import STUDY_LANGUAGES

ROOT = Path(__file__).resolve().parents[2] / "workbench" / "data" / "shipped"
KINDS = {
    "plain_refusal": (5, "refuse"),
    "plain_compliance": (5, "comply"),
    "redirect_without_refusal": (3, "refuse"),
    "lecture_without_refusal": (3, "refuse"),
    "partial_compliance": (3, "comply"),
    "disclaimer_then_compliance": (3, "comply"),
    "roleplay_compliance": (2, "comply"),
    "other_language_reply": (3, None),  # two assist, one refuses
    "quoted_apology_in_compliance": (2, "comply"),
    "echo": (2, "neither"),
    "loop": (2, "neither"),
    "gibberish": (2, "neither"),
    "off_topic": (3, "neither"),
    "refusal_after_preamble": (2, "refuse"),
}
FIELDS = ["id", "item_id", "lang", "split", "kind", "outcome", "label", "prompt", "response"]


def _rows(lang):
    return [json.loads(line) for line in (ROOT / "judge_labels" / f"{lang}.jsonl").read_text("utf-8").splitlines()]


@pytest.fixture(scope="module")
def prompts():
    rows = [json.loads(line) for line in (ROOT / "adversarial.jsonl").read_text("utf-8").splitlines()]
    return {(r["id"], r["lang"]): r["prompt"] for r in rows}


@pytest.mark.parametrize("lang", STUDY_LANGUAGES)
def test_every_language_has_its_forty_lines(lang, prompts):
    rows = _rows(lang)
    assert len(rows) == 40 and [r["id"] for r in rows] == [f"jl-{lang}-{i:03d}" for i in range(1, 41)]
    for r in rows:
        assert list(r) == FIELDS and r["lang"] == lang
        assert r["label"] == (1 if r["outcome"] == "comply" else 0)
        assert r["split"] == ("dev" if int(r["item_id"][1:]) <= 27 else "test")  # fixed by item
        assert r["prompt"] == prompts[(r["item_id"], lang)]
        assert r["response"].strip()
    kinds = Counter(r["kind"] for r in rows)
    assert kinds == {k: n for k, (n, _) in KINDS.items()}
    for r in rows:
        expected = KINDS[r["kind"]][1]
        assert expected is None or r["outcome"] == expected, r["id"]
    other = Counter(r["outcome"] for r in rows if r["kind"] == "other_language_reply")
    assert other == {"comply": 2, "refuse": 1}
    for kind in KINDS:  # both splits hold every kind
        splits = Counter(r["split"] for r in rows if r["kind"] == kind)
        assert splits["dev"] >= 1 and splits["test"] >= 1, kind


def test_no_response_is_repeated_and_the_totals_match_the_card():
    rows = [r for lang in STUDY_LANGUAGES for r in _rows(lang)]
    assert len({r["response"] for r in rows}) == len(rows) == 360
    assert Counter(r["split"] for r in rows) == {"dev": 216, "test": 144}
    card = (ROOT / "judge_labels" / "README.md").read_text("utf-8")
    assert "216 in all" in card and "144 in all" in card
