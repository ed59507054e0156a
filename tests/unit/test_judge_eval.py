"""workbench judge-eval and labels-export: a judge's numbers against human labels, checked by hand.

A stub judge says whatever label a response's first word names ("comply ...", "unsure ..."), so every
verdict of the hand-written labelled file below is known and the numbers can be worked out on paper.
"""

import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from tests.conftest import ROOT, add_test_response
from workbench import paths
from workbench.analysis import judge_eval as je
from workbench.analysis.paired import kappa_ci
from workbench.cli import app
from workbench.judges.base import LABELS, Verdict
from workbench.judges.registry import registered_judges
from workbench.store import open_study_db

runner = CliRunner()


# -- a stub judge: the response's first word is its verdict -------------------------------------------
class StubJudge:
    """Says the label a response starts with; batched, and yields in reverse order (as a batched judge
    may), so the evaluation must put verdicts back in input order. ``judge()`` is not used."""

    batched = True
    key = "stub:1"

    def __init__(self, name):
        self.name = name
        self.seen = 0

    def judge(self, items):
        raise AssertionError("judge-eval must run judges through judge_iter")

    def judge_iter(self, items):
        self.seen += len(items)
        for i in reversed(range(len(items))):
            word = items[i].response.split()[0]
            yield i, Verdict(label=word if word in LABELS else "refuse")


def stub_judge(spec, *, n_parallel=8, emit=None):
    return StubJudge(spec.name)


STUB = {"stub": f"{__name__}:stub_judge"}


@pytest.fixture(autouse=True)
def stub_registered():
    with registered_judges(STUB):
        yield


# -- the hand-written labelled set ---------------------------------------------------------------------
# (lang, human label as written, judge verdict, kind, split)
LINES = [
    ("en", 1, "comply", "a", "dev"),  # 1 TP
    ("en", 1, "comply", None, "dev"),  # 2 TP
    ("en", 1, "refuse", "a", "dev"),  # 3 FN
    ("en", 1, "unsure", "b", "dev"),  # 4 abstained
    ("en", 0, "refuse", "a", "dev"),  # 5 TN
    ("en", 0, "neither", None, "dev"),  # 6 TN (neither is a 0)
    ("en", 0, "comply", "a", "dev"),  # 7 FP
    ("en", 0, "unparseable", "b", "dev"),  # 8 abstained
    ("es", "comply", "comply", "a", "test"),  # 9 TP
    ("es", "partial", "refuse", None, "test"),  # 10 FN (partial is a 1)
    ("es", "refuse", "refuse", "a", "test"),  # 11 TN
    ("es", "neither", "neither", None, "test"),  # 12 TN
    ("es", "unclear", "comply", None, "test"),  # 13 skipped: the person could not tell
    ("es", 0, "refuse", None, "test"),  # 14 TN
]


def _line(i, lang, label, verdict, kind, split):
    obj = {"id": f"x{i}", "lang": lang, "prompt": f"request {i}", "response": f"{verdict} reply {i}", "label": label}
    obj["split"] = split
    if kind:
        obj["kind"] = kind
    return json.dumps(obj)


@pytest.fixture
def labelled(tmp_path):
    path = tmp_path / "labelled.jsonl"
    path.write_text("".join(_line(i, *row) + "\n" for i, row in enumerate(LINES, 1)), encoding="utf-8")
    return path


def _evaluate(path, *args):
    result = runner.invoke(app, ["judge-eval", "--input", str(path), "--judge", "stub", "--format", "json", *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout), result


def test_numbers_match_the_hand_computed_ones(labelled):
    out, _ = _evaluate(labelled)
    assert out["judge"] == "stub" and out["judge_key"] == "stub:1" and out["unclear"] == 1 and out["bad_lines"] == 0
    en, es, pooled = out["by_lang"]["en"], out["by_lang"]["es"], out["pooled"]

    # en: 8 items, 2 abstained (4 unsure, 8 unparseable); judged 6:
    #   human 1: judge 1 = 2 (lines 1, 2), judge 0 = 1 (line 3); human 0: judge 1 = 1 (7), judge 0 = 2 (5, 6)
    #   accuracy = (2 + 2) / 6; p_o = 4/6, margins 3/3 and 3/3 -> p_e = (3*3 + 3*3) / 36 = 1/2
    #   kappa = (4/6 - 1/2) / (1 - 1/2) = 1/3
    assert (en["n"], en["abstained"], en["judged"], en["correct"]) == (8, 2, 6, 4)
    assert en["abstention_rate"] == pytest.approx(2 / 8)
    assert en["accuracy"] == pytest.approx(4 / 6, abs=1e-4)
    assert en["kappa"] == pytest.approx(1 / 3, abs=1e-4)
    assert en["confusion"] == {
        "1": {"comply": 2, "refuse": 1, "neither": 0, "unsure": 1, "unparseable": 0},
        "0": {"comply": 1, "refuse": 1, "neither": 1, "unsure": 0, "unparseable": 1},
    }
    assert en["comply_recall"] == pytest.approx(2 / 3, abs=1e-4) and en["refuse_recall"] == pytest.approx(
        2 / 3, abs=1e-4
    )

    # es: line 13 (unclear) skipped -> 5 items, none abstained:
    #   human 1: judge 1 = 1 (9), judge 0 = 1 (10); human 0: judge 1 = 0, judge 0 = 3 (11, 12, 14)
    #   accuracy = 4/5; p_o = 4/5, rows 2/3, columns 1/4 -> p_e = (2*1 + 3*4) / 25 = 14/25
    #   kappa = (20/25 - 14/25) / (11/25) = 6/11
    assert (es["n"], es["abstained"], es["correct"]) == (5, 0, 4)
    assert es["accuracy"] == pytest.approx(4 / 5) and es["kappa"] == pytest.approx(6 / 11, abs=1e-4)
    assert es["confusion"]["1"] == {"comply": 1, "refuse": 1, "neither": 0, "unsure": 0, "unparseable": 0}
    assert es["confusion"]["0"] == {"comply": 0, "refuse": 2, "neither": 1, "unsure": 0, "unparseable": 0}

    # pooled: 13 items, 2 abstained, judged 11: human 1: 3 / 2, human 0: 1 / 5
    #   accuracy = 8/11; p_o = 8/11, rows 5/6, columns 4/7 -> p_e = (5*4 + 6*7) / 121 = 62/121
    #   kappa = (88/121 - 62/121) / (59/121) = 26/59
    assert (pooled["n"], pooled["abstained"], pooled["judged"], pooled["correct"]) == (13, 2, 11, 8)
    assert pooled["abstention_rate"] == pytest.approx(2 / 13, abs=1e-4)
    assert pooled["accuracy"] == pytest.approx(8 / 11, abs=1e-4)
    assert pooled["kappa"] == pytest.approx(26 / 59, abs=1e-4)
    # the interval is paired.kappa_ci's for the judged 2x2 table (rows human 1, 0; columns judge 1, 0)
    ci = kappa_ci([[3, 2], [1, 5]])
    assert pooled["kappa_low"] == pytest.approx(ci.low, abs=1e-4) and pooled["kappa_high"] == pytest.approx(
        ci.high, abs=1e-4
    )
    assert pooled["kappa_low"] < pooled["kappa"] < pooled["kappa_high"]
    assert pooled["accuracy_low"] < pooled["accuracy"] < pooled["accuracy_high"]

    # kinds: "a" = lines 1, 3, 5, 7, 9, 11 -> right on 1, 5, 9, 11 = 4/6; "b" = lines 4, 8, both abstained
    assert pooled["kinds"]["a"] == {"n": 6, "abstained": 0, "correct": 4, "accuracy": pytest.approx(4 / 6, abs=1e-4)}
    assert pooled["kinds"]["b"] == {"n": 2, "abstained": 2, "correct": 0, "accuracy": None}
    assert en["kinds"]["a"]["correct"] == 2 and es["kinds"]["a"]["correct"] == 2


def test_split_and_language_filters(labelled):
    out, _ = _evaluate(labelled, "--split", "test")
    assert out["split"] == "test" and list(out["by_lang"]) == ["es"] and out["pooled"]["n"] == 5
    out, _ = _evaluate(labelled, "--lang", "en")
    assert list(out["by_lang"]) == ["en"] and out["pooled"]["n"] == 8
    empty = runner.invoke(
        app, ["judge-eval", "--input", str(labelled), "--judge", "stub", "--split", "dev", "--lang", "es"]
    )
    assert empty.exit_code == 2 and "has no item of split 'dev' and language(s) es" in empty.output
    bad = runner.invoke(app, ["judge-eval", "--input", str(labelled), "--judge", "stub", "--lang", "english"])
    assert bad.exit_code == 2 and "did you mean 'en'" in bad.output
    bad = runner.invoke(app, ["judge-eval", "--input", str(labelled), "--judge", "stub", "--split", "train"])
    assert bad.exit_code == 2 and "--split" in bad.output


def test_evaluate_without_the_cli():
    items = je.read_labelled(je.shipped_labels_dir() / "en.jsonl").items[:4]
    ev = je.evaluate(items, ["comply", "unsure", "refuse", "unparseable"], judge="hand")
    assert ev.pooled.n == 4 and ev.pooled.abstained == 2 and ev.judge == "hand"
    with pytest.raises(ValueError, match="unknown judge label"):
        je.evaluate(items, ["comply", "maybe", "refuse", "refuse"])
    with pytest.raises(ValueError, match="judge label"):
        je.evaluate(items, ["comply"])
    # every label abstained: no kappa, no accuracy, abstention rate 1
    ev = je.evaluate(items, ["unsure"] * 4)
    assert ev.pooled.kappa.kappa is None and ev.pooled.accuracy is None and ev.pooled.abstention_rate == 1.0


def test_table_output(labelled):
    result = runner.invoke(app, ["judge-eval", "--input", str(labelled), "--judge", "stub"])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "judge stub vs human labels: 13 items" in out
    assert "0.44 [" in out  # pooled kappa 26/59
    assert "2 (15%)" in out  # pooled abstentions 2/13
    assert "unparseable" in out and "accuracy per kind" in out
    assert "13 item(s) judged" in out


def test_bad_lines_are_reported_and_skipped(labelled):
    text = labelled.read_text(encoding="utf-8")
    extra = [
        "not json",
        json.dumps(["a", "list"]),
        json.dumps({"prompt": "p", "response": "comply r", "lang": "en"}),  # no label
        json.dumps({"prompt": "p", "response": "comply r", "lang": "english", "label": 1}),
        json.dumps({"prompt": "p", "response": "comply r", "lang": "en", "label": "maybe"}),
        json.dumps({"prompt": "p", "response": "comply r", "lang": "en", "label": 2}),
        json.dumps({"prompt": "p", "response": 3, "lang": "en", "label": 1}),
        json.dumps({"prompt": "p", "response": "comply r", "lang": "en", "label": 1, "split": "train"}),
    ]
    labelled.write_text(text + "\n".join(extra) + "\n", encoding="utf-8")
    out, result = _evaluate(labelled)
    assert out["bad_lines"] == 8 and out["pooled"]["n"] == 13  # the good lines are evaluated as before
    err = result.stderr
    first = len(LINES) + 1
    assert f"{labelled}:{first}: not valid JSON" in err
    assert f"{labelled}:{first + 1}: expected a JSON object" in err
    assert f"{labelled}:{first + 2}: missing field: label" in err
    assert f"{labelled}:{first + 3}: unknown language 'english'; did you mean 'en'?" in err
    assert f"{labelled}:{first + 4}: label 'maybe' is not 1/0" in err
    assert f"{labelled}:{first + 5}: label 2 is not 1/0" in err
    assert f"{labelled}:{first + 6}: missing or non-text field(s): response" in err
    assert f"{labelled}:{first + 7}: split 'train'" in err
    assert "8 bad line(s) skipped" in err and "1 line(s) labelled unclear" in err


def test_a_file_with_no_usable_line_is_a_clear_error(tmp_path, labelled):
    bad = tmp_path / "bad.jsonl"
    bad.write_text("not json\n" + json.dumps({"prompt": "p", "response": "r", "lang": "en"}) + "\n", encoding="utf-8")
    result = runner.invoke(app, ["judge-eval", "--input", str(bad), "--judge", "stub"])
    assert result.exit_code == 2
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert errors == [f"error: --input: {bad} has no usable line (2 bad line(s))"]
    # in a folder, the file with no usable line is named
    folder = tmp_path / "set"
    folder.mkdir()
    (folder / "a.jsonl").write_text(labelled.read_text(encoding="utf-8"), encoding="utf-8")
    (folder / "b.jsonl").write_text("\n", encoding="utf-8")
    result = runner.invoke(app, ["judge-eval", "--input", str(folder), "--judge", "stub"])
    assert result.exit_code == 2 and f"{folder / 'b.jsonl'} has no usable line (no line)" in result.output
    only_unclear = tmp_path / "unclear.jsonl"
    only_unclear.write_text(_line(1, "en", "unclear", "comply", None, None) + "\n", encoding="utf-8")
    result = runner.invoke(app, ["judge-eval", "--input", str(only_unclear), "--judge", "stub"])
    assert result.exit_code == 2 and "1 labelled unclear" in result.output
    missing = runner.invoke(app, ["judge-eval", "--input", str(tmp_path / "nope.jsonl"), "--judge", "stub"])
    assert missing.exit_code == 2 and "not found" in missing.output
    empty_dir = tmp_path / "empty"
    empty_dir.mkdir()
    result = runner.invoke(app, ["judge-eval", "--input", str(empty_dir), "--judge", "stub"])
    assert result.exit_code == 2 and "holds no *.jsonl" in result.output


def test_unknown_judge_and_format(labelled):
    result = runner.invoke(app, ["judge-eval", "--input", str(labelled), "--judge", "nosuch"])
    assert result.exit_code == 2 and "unknown judge 'nosuch'" in result.output  # a usage error
    result = runner.invoke(app, ["judge-eval", "--input", str(labelled), "--judge", "sorry-bench"])
    assert result.exit_code == 2 and "--model" in result.output
    result = runner.invoke(app, ["judge-eval", "--input", str(labelled), "--judge", "stub", "--format", "csv"])
    assert result.exit_code == 2 and "--format" in result.output


def test_the_shipped_set_loads():
    shipped = je.read_labelled()
    assert len(shipped.items) == 360 and not shipped.problems and shipped.unclear == 0
    assert len(shipped.files) == 9
    assert len(je.select(shipped.items, split="dev")) == 216
    assert len(je.select(shipped.items, split="test")) == 144
    assert len(je.select(shipped.items, split="test", langs=["ga"])) == 16
    assert {i.label for i in shipped.items} == {0, 1} and all(i.kind and i.id for i in shipped.items)


def test_the_default_input_is_the_shipped_set():
    # the judge's verdicts are not checked (the stub reads no real reply); only that 144 items were judged
    out, _ = _evaluate_default("--split", "test")
    assert out["pooled"]["n"] == 144 and len(out["by_lang"]) == 9
    assert sum(sum(row.values()) for row in out["pooled"]["confusion"].values()) == 144


def _evaluate_default(*args):
    result = runner.invoke(app, ["judge-eval", "--judge", "stub", "--format", "json", *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout), result


def test_help_imports_no_heavy_library():
    heavy = ("torch", "transformers", "llama_cpp", "statsmodels", "scipy", "sqlite_utils")
    code = (
        "import sys\nfrom workbench.cli import app\n"
        "for args in (['judge-eval', '--help'], ['labels-export', '--help']):\n"
        "    try:\n        app(args)\n    except SystemExit:\n        pass\n"
        f"print('HEAVY', [m for m in {heavy!r} if m in sys.modules])\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert "HEAVY []" in proc.stdout, proc.stdout + proc.stderr


# -- labels-export -------------------------------------------------------------------------------------
RECIPE = """
[study]
name = "lx"

[[models]]
name = "m"
embedded = "gemma3-270m"

[languages]
finetune = ["es"]
evaluate = ["en", "es"]
"""


@pytest.fixture
def study(workspace, tmp_path):
    """Study "lx": one base cell, four current responses (en, es), labels by ana and ben, a current
    heuristic judgment per response, a stale one, and a label on a response that is no longer current."""
    recipe = tmp_path / "lx.toml"
    recipe.write_text(RECIPE, encoding="utf-8")
    db_path = paths.study_db_path("lx")
    db = open_study_db(db_path)
    sid = db.ensure_study("lx")
    db.upsert_cell(sid, {"id": "m/base", "model": "m", "kind": "base", "config_hash": "a", "config": {}})
    db.add_prompts(
        sid,
        [
            {"item_id": f"a00{i}", "lang": lang, "text": f"request {i} {lang}", "source": "t", "category": "c"}
            for i in (1, 2)
            for lang in ("en", "es")
        ],
    )
    old = add_test_response(db, "a001:en", "m/base", text="comply old reply", key="g0")
    texts = {"a001:en": "comply sure", "a002:en": "refuse no", "a001:es": "neither la la", "a002:es": "comply sí"}
    rid = {p: add_test_response(db, p, "m/base", text=t) for p, t in texts.items()}
    db.set_current_generation("m/base", "g1", "s1")
    for r in rid.values():
        db.add_judgment({"response_id": r, "judge": "heuristic", "judge_key": "k1", "label": "refuse", "score": None})
        db.add_judgment({"response_id": r, "judge": "heuristic", "judge_key": "k0", "label": "comply", "score": None})
    db.set_current_judgments("m/base", "heuristic", "k1", "g1", len(rid))
    db.set_human_label(old, "ana", "refuse")  # not a current response: never exported
    db.set_human_label(rid["a001:en"], "ana", "comply", note="clear")
    db.set_human_label(rid["a002:en"], "ana", "refuse")
    db.set_human_label(rid["a001:es"], "ana", "unclear")
    db.set_human_label(rid["a002:es"], "ana", "partial")
    db.set_human_label(rid["a001:en"], "ben", "partial")
    db.close()
    return recipe, db_path, rid


def test_labels_export_round_trip(study, tmp_path):
    recipe, db_path, rid = study
    out = tmp_path / "exported.jsonl"
    result = runner.invoke(app, ["labels-export", str(recipe), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "wrote 5 label(s) by ana, ben" in result.stderr and "--annotator" in result.stderr
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [(r["response_id"], r["annotator"]) for r in rows] == [
        (rid["a001:en"], "ana"),
        (rid["a001:en"], "ben"),
        (rid["a002:en"], "ana"),
        (rid["a001:es"], "ana"),
        (rid["a002:es"], "ana"),
    ]
    first = rows[0]
    assert first["prompt"] == "request 1 en" and first["response"] == "comply sure" and first["lang"] == "en"
    assert first["label"] == "comply" and first["note"] == "clear" and first["cell"] == "m/base"
    assert first["item_id"] == "a001" and first["id"] == f"r{rid['a001:en']}:ana"
    assert all(r["judges"] == {"heuristic": "refuse"} for r in rows)  # the current key's label only
    assert [r["label"] for r in rows] == ["comply", "partial", "refuse", "unclear", "partial"]

    # one person's labels, then the export is a judge benchmark
    result = runner.invoke(app, ["labels-export", str(recipe), "--out", str(out), "--annotator", "ana"])
    assert result.exit_code == 0, result.output
    assert len(out.read_text(encoding="utf-8").splitlines()) == 4
    ev, res = _evaluate(out)
    # ana: comply (1) / stub comply, refuse (0) / refuse, unclear skipped, partial (1) / comply: all right
    assert ev["unclear"] == 1 and ev["pooled"]["n"] == 3 and ev["pooled"]["correct"] == 3
    assert ev["by_lang"]["en"]["n"] == 2 and ev["by_lang"]["es"]["n"] == 1

    result = runner.invoke(app, ["labels-export", str(recipe), "--out", str(out), "--annotator", "cy"])
    assert result.exit_code == 1 and "'cy' labelled no current response" in result.output
    assert "ana, ben" in result.output


def test_labels_export_refuses_the_database_and_the_recipe(study, tmp_path):
    recipe, db_path, _ = study
    before = db_path.read_bytes()
    for target in (db_path, recipe, tmp_path / "other.toml"):
        result = runner.invoke(app, ["labels-export", str(recipe), "--out", str(target)])
        assert result.exit_code == 2, result.output
        assert f"--out {target} is" in result.output
    assert db_path.read_bytes() == before and recipe.read_text(encoding="utf-8") == RECIPE
    # through another spelling, and any SQLite file
    other = db_path.parent / ".." / "studies" / db_path.name
    result = runner.invoke(app, ["labels-export", str(recipe), "--out", str(other)])
    assert result.exit_code == 2 and "the study's database" in result.output
    copy = tmp_path / "copy.db"
    copy.write_bytes(before)
    result = runner.invoke(app, ["labels-export", str(recipe), "--out", str(copy)])
    assert result.exit_code == 2 and "an SQLite database" in result.output


def test_labels_export_without_labels_or_database(workspace, tmp_path):
    recipe = tmp_path / "lx.toml"
    recipe.write_text(RECIPE, encoding="utf-8")
    out = tmp_path / "out.jsonl"
    result = runner.invoke(app, ["labels-export", str(recipe), "--out", str(out)])
    assert result.exit_code == 1 and "has no database yet" in result.output
    db = open_study_db(paths.study_db_path("lx"))
    db.ensure_study("lx")
    db.close()
    result = runner.invoke(app, ["labels-export", str(recipe), "--out", str(out)])
    assert result.exit_code == 1 and "has no human labels" in result.output and not out.exists()
