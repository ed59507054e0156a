"""Compliance rates, Wilson intervals, paired change against the base, and the output forms."""

import csv
import io
import json

import pytest

from tests.conftest import add_test_response
from workbench.analysis import results as res
from workbench.store import open_study_db


def _judge(db, rid, label, judge="heuristic"):
    db.add_judgment({"response_id": rid, "judge": judge, "judge_key": "k", "label": label, "score": None})


def _make_current(db, cell, n, key="g1", settings="s1", judges=("heuristic",), judge_key="k"):
    """What the generate and judge stages record once a cell's generation and judging are complete."""
    db.set_current_generation(cell, key, settings)
    for judge in judges:
        db.set_current_judgments(cell, judge, judge_key, key, n)


@pytest.fixture
def study(tmp_path):
    """Base complies with 2 of 10 Spanish prompts, the es fine-tune with 6 of the same 10 (+1 unparseable)."""
    db = open_study_db(tmp_path / "s.sqlite")
    sid = db.ensure_study("s")
    db.upsert_cell(sid, {"id": "m/base", "model": "m", "kind": "base", "config_hash": "a", "config": {}})
    db.upsert_cell(
        sid,
        {
            "id": "m/es/s0-e1",
            "model": "m",
            "kind": "finetune",
            "finetune_lang": "es",
            "seed": 0,
            "epochs": 1,
            "config_hash": "b",
            "config": {},
        },
    )
    db.add_prompts(
        sid,
        [
            {"item_id": f"a{i:03d}", "lang": "es", "text": "?", "source": "t", "category": "c1" if i < 5 else "c2"}
            for i in range(11)
        ],
    )
    for i in range(10):
        _judge(db, add_test_response(db, f"a{i:03d}:es", "m/base"), "comply" if i < 2 else "refuse")
        _judge(db, add_test_response(db, f"a{i:03d}:es", "m/es/s0-e1"), "comply" if i < 6 else "refuse")
    # one more prompt only the fine-tune answered, and its judge could not read the answer
    _judge(db, add_test_response(db, "a010:es", "m/es/s0-e1"), "unparseable")
    _make_current(db, "m/base", 10)
    _make_current(db, "m/es/s0-e1", 11)
    yield db, sid
    db.close()


def test_wilson_matches_known_values():
    lo, hi = res.wilson(2, 10)
    assert lo == pytest.approx(0.0567, abs=1e-4) and hi == pytest.approx(0.5098, abs=1e-4)
    lo, hi = res.wilson(0, 45)
    assert lo == pytest.approx(0.0, abs=1e-9) and hi == pytest.approx(0.0787, abs=1e-4)
    assert res.wilson(0, 0) == (None, None)


def test_newcombe_interval_contains_the_difference():
    lo, hi = res.newcombe(6, 10, 2, 10)
    assert lo < 0.4 < hi
    # Newcombe (1998), Statistics in Medicine 17:873, table II example (a): 56/70 - 48/80, method 10
    lo, hi = res.newcombe(56, 70, 48, 80)
    assert lo == pytest.approx(0.0524, abs=5e-4) and hi == pytest.approx(0.3339, abs=5e-4)
    lo, hi = res.newcombe(18, 20, 1, 20)
    assert lo > 0  # a large change excludes zero


def test_rates_and_change_against_the_base(study):
    db, sid = study
    rows = {r.cell: r for r in res.compute(db, sid)}
    base, ft = rows["m/base"], rows["m/es/s0-e1"]
    assert (base.n, base.complied, base.rate) == (10, 2, 0.2)
    assert base.delta_vs_base is None and base.finetune_lang is None
    assert (ft.n, ft.complied, ft.unparseable) == (10, 6, 1)  # unparseable is counted apart
    assert ft.rate == pytest.approx(0.6)
    assert ft.paired_n == 10 and ft.delta_vs_base == pytest.approx(0.4) and ft.ratio_vs_base == pytest.approx(3.0)
    assert ft.ci_low < 0.6 < ft.ci_high
    # joint counts by hand: both comply on a000-a001 (2), only the fine-tune on a002-a005 (4), never only
    # the base (0), neither on a006-a009 (4)
    from workbench.analysis import paired

    assert (ft.delta_ci_low, ft.delta_ci_high) == paired.paired_difference_ci(2, 4, 0, 4)
    assert ft.p_value == pytest.approx(2 * 0.5**4)  # exact McNemar by hand: b = 4, c = 0
    assert ft.p_holm == pytest.approx(0.125) and ft.p_bh == pytest.approx(0.125)  # the only row of its judge
    assert not res.significant(ft)  # n = 10 is too small for +40 points to be significant
    assert (ft.refused, ft.refusal_rate, ft.refusal_delta_vs_base) == (4, 0.4, pytest.approx(-0.4))


def test_filters_and_generation_keys(study):
    db, sid = study
    rows = {r.cell: r for r in res.compute(db, sid, categories=["c1"])}
    assert rows["m/base"].n == 5 and rows["m/base"].complied == 2
    assert rows["m/es/s0-e1"].complied == 5 and rows["m/es/s0-e1"].delta_vs_base == pytest.approx(0.6)
    # a regeneration of the base that has not finished is not the base's results yet
    for i in range(5):
        _judge(db, add_test_response(db, f"a{i:03d}:es", "m/base", key="g2"), "comply")
    rows = {r.cell: r for r in res.compute(db, sid)}
    assert (rows["m/base"].n, rows["m/base"].complied) == (10, 2)
    # once complete (same settings, a new GGUF) it is, and the change is against it
    for i in range(5, 10):
        _judge(db, add_test_response(db, f"a{i:03d}:es", "m/base", key="g2"), "comply")
    _make_current(db, "m/base", 10, key="g2")
    rows = {r.cell: r for r in res.compute(db, sid)}
    assert rows["m/base"].rate == 1.0
    assert rows["m/es/s0-e1"].delta_vs_base == pytest.approx(-0.4) and rows["m/es/s0-e1"].note == ""
    assert res.compute(db, sid, judge="nobody") == []


def test_no_change_against_a_base_generated_with_other_settings(study):
    db, sid = study
    _make_current(db, "m/base", 10, settings="s2")
    ft = {r.cell: r for r in res.compute(db, sid)}["m/es/s0-e1"]
    assert ft.rate == pytest.approx(0.6)  # its own rate stands
    assert ft.delta_vs_base is None and ft.paired_n is None and ft.note == res.NOT_COMPARABLE
    from rich.console import Console

    console = Console(width=120, record=True)
    for t in res.render_tables(res.compute(db, sid)):
        console.print(t)
    assert "settings differ" in console.export_text()


def test_a_partial_rejudge_is_not_mixed_with_the_earlier_judgments(study):
    db, sid = study
    # the judge's configuration changed: 4 of the fine-tune's 11 responses re-judged so far, all "refuse"
    ids = [r["id"] for r in db.query("SELECT id FROM responses WHERE cell_id = 'm/es/s0-e1' ORDER BY id")]
    for rid in ids[:4]:
        db.add_judgment({"response_id": rid, "judge": "heuristic", "judge_key": "k-new", "label": "refuse"})
    ft = {r.cell: r for r in res.compute(db, sid)}["m/es/s0-e1"]
    assert (ft.n, ft.complied, ft.unparseable) == (10, 6, 1)  # still wholly the earlier key
    for rid in ids[4:]:
        db.add_judgment({"response_id": rid, "judge": "heuristic", "judge_key": "k-new", "label": "refuse"})
    db.set_current_judgments("m/es/s0-e1", "heuristic", "k-new", "g1", 11)
    ft = {r.cell: r for r in res.compute(db, sid)}["m/es/s0-e1"]
    assert (ft.n, ft.complied, ft.unparseable) == (11, 0, 0)  # wholly the new key
    # the base was judged with the earlier key: no change is computed across two judge configurations
    assert ft.paired_n is None and ft.delta_vs_base is None and ft.note == res.JUDGE_DIFFERS


def test_json_and_csv_forms(study):
    db, sid = study
    rows = res.compute(db, sid)
    data = json.loads(res.to_json(rows))
    required = {"model", "finetune_lang", "seed", "eval_lang", "judge", "n", "complied", "rate", "ci_low", "ci_high"}
    assert required | {"delta_vs_base", "ratio_vs_base"} <= set(data[0])
    assert data[0]["finetune_lang"] is None  # the base model comes first
    table = list(csv.DictReader(io.StringIO(res.to_csv(rows))))
    assert list(table[0]) == list(res.COLUMNS)
    assert table[1]["finetune_lang"] == "es" and float(table[1]["delta_vs_base"]) == pytest.approx(0.4)


def test_rich_table_shows_every_cell(study):
    from rich.console import Console

    db, sid = study
    console = Console(width=120, record=True)
    for t in res.render_tables(res.compute(db, sid)):
        console.print(t)
    text = console.export_text()
    assert "base" in text and "es s0 e1" in text and "+40 pts" in text and "×3.0" in text


def test_prompts_added_to_the_recipe_are_not_read_until_all_are_answered(study):
    db, sid = study
    db.add_prompts(sid, [{"item_id": f"b{i:03d}", "lang": "ga", "text": "?", "source": "t"} for i in range(4)])
    # the base answers 2 of the 4 new prompts under its current generation key, then stops
    for i in range(2):
        _judge(db, add_test_response(db, f"b{i:03d}:ga", "m/base"), "comply")
    assert {r.eval_lang for r in res.compute(db, sid) if r.cell == "m/base"} == {"es"}
    for i in range(2, 4):
        _judge(db, add_test_response(db, f"b{i:03d}:ga", "m/base"), "comply")
    ids = [r["prompt_id"] for r in db.query("SELECT prompt_id FROM responses WHERE cell_id = 'm/base'")]
    db.set_current_generation("m/base", "g1", "s1", ids)
    db.set_current_judgments("m/base", "heuristic", "k", "g1", len(ids))
    ga = next(r for r in res.compute(db, sid) if r.cell == "m/base" and r.eval_lang == "ga")
    assert (ga.n, ga.complied) == (4, 4)
    # a language dropped from the recipe is no longer read
    db.set_current_generation("m/base", "g1", "s1", [i for i in ids if i.endswith(":ga")])
    assert {r.eval_lang for r in res.compute(db, sid) if r.cell == "m/base"} == {"ga"}


def test_no_change_when_the_base_has_a_new_generation_not_yet_judged(study):
    db, sid = study
    for i in range(10):
        add_test_response(db, f"a{i:03d}:es", "m/base", key="g2")
    db.set_current_generation("m/base", "g2", "s1")  # complete, but its judge has not read it yet
    ft = {r.cell: r for r in res.compute(db, sid)}["m/es/s0-e1"]
    assert ft.delta_vs_base is None and ft.note == res.NO_BASE


def test_neither_abstentions_and_flags_are_counted_apart(tmp_path):
    db = open_study_db(tmp_path / "n.sqlite")
    sid = db.ensure_study("n")
    db.upsert_cell(sid, {"id": "m/base", "model": "m", "kind": "base", "config_hash": "a", "config": {}})
    db.add_prompts(sid, [{"item_id": f"a{i}", "lang": "en", "text": "?", "source": "t"} for i in range(10)])
    labels = ["comply"] * 2 + ["refuse"] * 3 + ["neither"] * 3 + ["unsure"] * 1 + ["unparseable"] * 1
    for i, label in enumerate(labels):
        rid = add_test_response(db, f"a{i}:en", "m/base")
        db.add_judgment(
            {
                "response_id": rid,
                "judge": "h",
                "judge_key": "k",
                "label": label,
                "off_language": int(i < 4),
                "degenerate": int(label == "neither"),
            }
        )
    _make_current(db, "m/base", 10, judges=("h",))
    (row,) = res.compute(db, sid)
    assert (row.n, row.complied, row.refused, row.neither, row.unsure, row.unparseable) == (8, 2, 3, 3, 1, 1)
    assert row.rate == pytest.approx(2 / 8) and row.refusal_rate == pytest.approx(3 / 8)
    assert row.abstained == 2 and row.rate_if_abstained_complied == pytest.approx(4 / 10)
    assert row.off_language_share == pytest.approx(0.4) and row.degenerate_share == pytest.approx(0.3)
    assert (row.refusal_ci_low, row.refusal_ci_high) == res.wilson(3, 8)
    data = json.loads(res.to_json([row]))[0]
    assert {"refused", "refusal_rate", "neither", "unsure", "rate_if_abstained_complied", "p_holm"} <= set(data)
    db.close()


def test_label_queue_puts_undecided_responses_first(study):
    from workbench.store import browse

    db, sid = study
    ids = [r["id"] for r in db.query("SELECT id FROM responses WHERE cell_id = 'm/base' ORDER BY id")]
    db.add_judgment({"response_id": ids[3], "judge": "heuristic", "judge_key": "k", "label": "unsure"})
    db.add_judgment({"response_id": ids[7], "judge": "other", "judge_key": "o", "label": "comply"})  # disagrees
    for rid in ids[:7] + ids[8:]:
        db.add_judgment({"response_id": rid, "judge": "other", "judge_key": "o", "label": "refuse"})
    db.set_current_judgments("m/base", "other", "o", "g1", 10)
    plain = browse.label_queue(db, sid, "ana", limit=100)
    first = browse.label_queue(db, sid, "ana", limit=100, undecided_first=True)
    assert sorted(plain) == sorted(first) and len(first) == 21
    unreadable = next(db.query("SELECT response_id FROM judgments WHERE label = 'unparseable'"))["response_id"]
    # undecided, by hand: ids[0] and ids[1] (heuristic comply, other refuse), ids[3] (heuristic unsure),
    # ids[7] (heuristic refuse, other comply) and the fine-tune's unparseable one
    undecided = {ids[0], ids[1], ids[3], ids[7], unreadable}
    assert set(first[:5]) == undecided and not undecided & set(first[5:])


def test_markdown_form(study):
    db, sid = study
    text = res.to_markdown(res.compute(db, sid))
    assert "m · compliance rate (judge: heuristic)" in text and "m · refusal rate (judge: heuristic)" in text
    lines = [line for line in text.splitlines() if line.startswith("| es s0 e1")]
    # compliance 6/10 with the paired change +40 (not significant at n=10), refusal 4/10 with -40
    assert lines[0].startswith("| es s0 e1 | 60% [") and lines[0].endswith("(n=10), +40 pts |")
    assert lines[1].startswith("| es s0 e1 | 40% [") and lines[1].endswith("(n=10), -40 pts |")


def test_wilson_equals_scipys():
    from scipy.stats import binomtest

    for n in (1, 2, 7, 45, 300):
        for k in range(0, n + 1, max(1, n // 7)):
            ci = binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
            assert res.wilson(k, n) == pytest.approx((ci.low, ci.high), abs=1e-12)
