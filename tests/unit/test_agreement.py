"""Cohen's kappa on known values, and the per-language agreement table from a study database."""

import sys
from pathlib import Path

import pytest

from workbench.analysis.agreement import ALL, agreement, cohen_kappa, kappa_from_counts


def test_kappa_wikipedia_example():
    # 50 items: both yes 20, A yes/B no 5, A no/B yes 10, both no 15 -> p_o 0.7, p_e 0.5, kappa 0.4
    a = ["yes"] * 25 + ["no"] * 25
    b = ["yes"] * 20 + ["no"] * 5 + ["yes"] * 10 + ["no"] * 15
    assert cohen_kappa(a, b) == pytest.approx(0.4)


def test_kappa_perfect_chance_and_opposite():
    assert cohen_kappa(["a", "b", "a", "b"], ["a", "b", "a", "b"]) == pytest.approx(1.0)
    # independent raters: p_o = p_e = 0.5
    assert cohen_kappa(["a", "a", "b", "b"], ["a", "b", "a", "b"]) == pytest.approx(0.0)
    assert cohen_kappa(["a", "b"], ["b", "a"]) == pytest.approx(-1.0)


def test_kappa_three_labels_known_value():
    # p_o = 0.6; marginals A (4,3,3), B (3,4,3): p_e = (12+12+9)/100 = 0.33 -> kappa = 0.27/0.67
    counts = {("x", "x"): 2, ("x", "y"): 1, ("x", "z"): 1, ("y", "y"): 2, ("y", "x"): 1, ("z", "z"): 2, ("z", "y"): 1}
    assert kappa_from_counts(counts) == pytest.approx(0.27 / 0.67)


def test_kappa_undefined():
    assert cohen_kappa([], []) is None
    assert cohen_kappa(["a", "a"], ["a", "a"]) is None
    with pytest.raises(ValueError):
        cohen_kappa(["a"], [])


def test_agreement_table_from_database(tmp_path):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
    from synthetic_study import make_study

    from workbench.store import StudyDB

    path = tmp_path / "agree.sqlite"
    study_id = make_study(path, 400, seed=1)
    with StudyDB(path) as db:
        rows = agreement(db, study_id)
        kinds = {r.kind for r in rows}
        assert kinds == {"annotator-judge", "annotator-annotator"} or kinds == {"annotator-judge"}
        pooled = [r for r in rows if r.kind == "annotator-judge" and r.lang == ALL]
        assert {(r.rater_a, r.rater_b) for r in pooled} >= {("alice", "heuristic")}
        for r in pooled:
            per_lang = [x for x in rows if (x.kind, x.rater_a, x.rater_b) == (r.kind, r.rater_a, r.rater_b)]
            assert sum(x.n for x in per_lang if x.lang != ALL) == r.n
            assert sum(x.excluded for x in per_lang if x.lang != ALL) == r.excluded
        # a label the judge agrees with raises the agreement count by one
        r0 = next(r for r in pooled if r.rater_a == "alice" and r.rater_b == "heuristic")
        unlabelled = next(
            db.query(
                """SELECT r.id, j.label FROM responses r JOIN judgments j ON j.response_id = r.id
                   AND j.judge = 'heuristic' WHERE r.id NOT IN (SELECT response_id FROM human_labels
                   WHERE annotator = 'alice') LIMIT 1"""
            )
        )
        db.set_human_label(unlabelled["id"], "alice", unlabelled["label"])
        r1 = next(
            r
            for r in agreement(db, study_id)
            if (r.kind, r.rater_a, r.rater_b, r.lang) == ("annotator-judge", "alice", "heuristic", ALL)
        )
        assert (r1.n, r1.agreed) == (r0.n + 1, r0.agreed + 1)


def test_agreement_rows_carry_a_kappa_interval_and_read_partial_as_compliance(tmp_path):
    from workbench.analysis.paired import kappa_ci
    from workbench.store import open_study_db

    db = open_study_db(tmp_path / "k.sqlite")
    sid = db.ensure_study("k")
    db.upsert_cell(sid, {"id": "m/base", "model": "m", "kind": "base", "config_hash": "a", "config": {}})
    db.add_prompts(sid, [{"item_id": f"a{i}", "lang": "en", "text": "?", "source": "t"} for i in range(8)])
    # (human, judge): partial counts as compliance, neither as non-compliance, unsure is left out
    pairs = [("comply", "comply"), ("partial", "comply"), ("refuse", "neither"), ("refuse", "refuse"),
             ("comply", "refuse"), ("refuse", "comply"), ("unclear", "refuse"), ("refuse", "unsure")]  # fmt: skip
    for i, (human, judged) in enumerate(pairs):
        rid = db.add_response(
            {"prompt_id": f"a{i}:en", "cell_id": "m/base", "generation_key": "g", "text": "x", "temperature": 0.0,
             "top_p": 1.0, "max_new_tokens": 8, "params_json": {}, "prompt_tokens": 1, "completion_tokens": 1,
             "finish_reason": "stop"}
        )  # fmt: skip
        db.add_judgment({"response_id": rid, "judge": "h", "judge_key": "k", "label": judged})
        db.set_human_label(rid, "ana", human)
    db.set_current_generation("m/base", "g", "s")
    db.set_current_judgments("m/base", "h", "k", "g", 8)
    pooled = next(r for r in agreement(db, sid) if r.lang == ALL and r.rater_b == "h")
    # 6 comparable: both comply 2, both not 2, human comply/judge not 1, human not/judge comply 1
    assert (pooled.n, pooled.agreed, pooled.excluded) == (6, 4, 2)
    table = {("comply", "comply"): 2, ("refuse", "refuse"): 2, ("comply", "refuse"): 1, ("refuse", "comply"): 1}
    expected = kappa_ci(table)
    assert pooled.kappa == pytest.approx(1 / 3)  # p_o = 4/6, p_e = 1/2
    assert (pooled.kappa_low, pooled.kappa_high) == (expected.low, expected.high)
    db.close()


def test_agreement_cli_matches_a_hand_computed_kappa(workspace):
    """`workbench agreement` prints the same kappa as a hand computation over the database's own pairs."""
    import json as _json

    from typer.testing import CliRunner

    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
    from synthetic_study import make_study

    from workbench.analysis.agreement import HUMAN_TO_JUDGE, JUDGE_BINARY
    from workbench.cli import app
    from workbench.store import StudyDB

    recipe = workspace / "agree.toml"
    make_study(workspace / "studies" / "agree.sqlite", 300, seed=3, recipe_path=recipe)
    result = CliRunner().invoke(app, ["agreement", str(recipe), "--format", "json"])
    assert result.exit_code == 0, result.output
    rows = _json.loads(result.output)
    pooled = next(
        r
        for r in rows
        if (r["kind"], r["rater_a"], r["rater_b"], r["lang"]) == ("annotator-judge", "alice", "heuristic", ALL)
    )
    with StudyDB(workspace / "studies" / "agree.sqlite") as db:
        pairs = list(
            db.query(
                """SELECT h.label AS la, j.label AS lb FROM human_labels h
                   JOIN judgments j ON j.response_id = h.response_id AND j.judge = 'heuristic'
                   JOIN current_judgments cj ON cj.cell_id = (SELECT cell_id FROM responses WHERE id = h.response_id)
                    AND cj.judge = j.judge AND cj.judge_key = j.judge_key
                   WHERE h.annotator = 'alice'"""
            )
        )
    a, b = [], []
    for p in pairs:
        x, y = HUMAN_TO_JUDGE.get(p["la"]), JUDGE_BINARY.get(p["lb"])
        if x is not None and y is not None:
            a.append(x)
            b.append(y)
    # Cohen's kappa by hand: (p_o - p_e) / (1 - p_e)
    n = len(a)
    p_o = sum(x == y for x, y in zip(a, b, strict=True)) / n
    cats = set(a) | set(b)
    p_e = sum((a.count(c) / n) * (b.count(c) / n) for c in cats)
    assert pooled["n"] == n
    assert pooled["kappa"] == pytest.approx((p_o - p_e) / (1 - p_e))
    table = CliRunner().invoke(app, ["agreement", str(recipe)])
    assert table.exit_code == 0 and "alice" in table.output
