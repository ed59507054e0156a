"""The choice stage on a tiny float32 GGUF: llama.cpp's next-token log-probabilities against torch's,
accuracy per language with a language the question set lacks said so, the paired change against the
base checked by hand from the item rows, column mappings of other data sets, and a SIGKILL mid-run
that loses nothing committed."""

import json
import sqlite3
import sys
from pathlib import Path

import pytest

from tests.conftest import kill_then_resume
from tests.integration.test_capability import resumed_new
from workbench.recipe import load_recipe
from workbench.runner import run_plan


def _questions(path: Path, n: int, langs=("en",)) -> Path:
    """``n`` questions per language, the right option (i + 1) at a different letter each time."""
    rows = []
    for lang in langs:
        for i in range(n):
            options = [str(i + 1), str(i + 7), str(i + 3), str(i + 9)]
            shift = i % 4
            choices = options[shift:] + options[:shift]
            question = f"Which number comes after {i}?"
            rows.append({"id": f"q{i:03d}", "lang": lang, "question": question, "choices": choices,
                         "answer": choices.index(str(i + 1))})  # fmt: skip
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def write_recipe(path: Path, model_dir: Path, questions: Path, *, evaluate=("en", "es")) -> Path:
    path.write_text(f"""
[study]
name = "mc"
[[models]]
name = "m"
path = "{model_dir}"
family = "llama3"
[languages]
finetune = ["es"]
evaluate = {json.dumps(list(evaluate))}
[data.evaluation]
shipped = "adversarial"
limit = 2
[data.choice]
path = "{questions}"
[training]
learning_rate = 1e-3
epochs = [1]
examples_per_language = 4
max_seq_length = 64
[export]
quantizations = ["f32"]
[capability]
enabled = false
[overrefusal]
enabled = false
[drift]
enabled = false
""")
    return path


def test_next_logprobs_match_torch(tiny, tmp_path):
    """Independent reference: the HF model's log-softmax at the prompt's last position (float32 both)."""
    import torch
    import transformers as tf

    from workbench.engines import export
    from workbench.engines.generate import Engine

    hf_dir = tiny["llama3"]
    gguf = export.convert(hf_dir, tmp_path / "m.f32.gguf", "f32")
    tok = tf.AutoTokenizer.from_pretrained(hf_dir)
    model = tf.AutoModelForCausalLM.from_pretrained(hf_dir, dtype=torch.float32).eval()
    prompt = tok("Which is a fruit?\n\nA. stone\nB. apple\nC. car\nD. cloud\n\nAnswer with the letter.")["input_ids"]
    with torch.no_grad():
        ref = torch.log_softmax(model(torch.tensor([prompt])).logits[0, -1].double(), dim=-1).numpy()
    with Engine(gguf, n_parallel=1, n_batch=8) as engine:  # a small batch: the prompt spans chunks
        got = engine.next_logprobs(prompt)
    assert got.shape == ref.shape
    # float32 on both sides, the whole vocabulary: a few 1e-3 at worst, 1e-4 typical
    assert abs(got - ref).max() < 5e-3 and abs(got - ref).mean() < 1e-3
    letters = [tok.convert_tokens_to_ids(x) for x in "ABCD"]
    assert int(got[letters].argmax()) == int(ref[letters].argmax())


def test_letter_scores_sum_the_spellings_of_a_letter():
    import math

    from workbench.stages.choice import question_text, score_letters

    logp = [math.log(p) for p in (0.1, 0.2, 0.3, 0.05, 0.35)]
    # option A spelled by tokens 0 and 3, option B by token 4: log(0.15), log(0.35)
    assert score_letters(logp, [[0, 3], [4]]) == pytest.approx([math.log(0.15), math.log(0.35)])
    text = question_text("2 + 2?", ["3", "4"], "es")
    assert text == "2 + 2?\n\nA. 3\nB. 4\n\nResponde con la letra de la opción correcta."
    assert question_text("x?", ["a", "b"], "sw").endswith("Answer with the letter of the correct option.")


@pytest.mark.parametrize(
    ("row", "fields", "expected"),
    [
        ({"q": "?", "opts": ["a", "b", "c"], "gold": 2}, {"choices": "opts", "answer": "gold"}, (["a", "b", "c"], 2)),
        ({"q": "?", "option_a": "x", "option_b": "y", "gold": "B"},
         {"choices": "option_a,option_b", "answer": "gold"}, (["x", "y"], 1)),
        ({"q": "?", "opts": '["a", "b"]', "gold": "0"}, {"choices": "opts", "answer": "gold"}, (["a", "b"], 0)),
        ({"q": "?", "opts": ["a", "b"], "gold": 5}, {"choices": "opts", "answer": "gold"}, (["a", "b"], None)),
        ({"q": "?", "opts": ["a"], "gold": 0}, {"choices": "opts", "answer": "gold"}, (None, None)),
    ],
)  # fmt: skip
def test_choice_columns_map_like_other_data(row, fields, expected):
    from workbench.data import choice_fields

    assert choice_fields(row, fields["choices"], fields["answer"]) == expected


def test_a_local_file_with_a_bad_answer_is_a_one_line_error(tmp_path):
    from workbench import data
    from workbench.errors import DataError
    from workbench.recipe.models import DataSource

    bad = tmp_path / "q.jsonl"
    bad.write_text('{"id": "a", "lang": "en", "question": "?", "choices": ["x", "y"], "answer": 7}\n')
    with pytest.raises(DataError, match="line 1"):
        data.load(DataSource(path=bad), "choice", ["en"], where="data.choice")


@pytest.mark.slow
def test_choice_stage_measures_per_language_and_pairs_with_the_base(tiny, workspace, tmp_path):
    from workbench.analysis import choice
    from workbench.store import read

    recipe = load_recipe(write_recipe(tmp_path / "r.toml", tiny["llama3"], _questions(tmp_path / "q.jsonl", 8)))
    summary = run_plan(recipe, only="finetune,export,choice")
    assert summary.count("failed") == 0, [(o.stage, o.reason) for o in summary.outcomes if o.status != "done"]
    db_path = workspace / "studies" / "mc.sqlite"
    with read.open_for_reading(db_path) as db:
        sid = read.study_id(db, "mc")
        items = read.current_measure_rows(db, sid, choice.MEASURE)
        rows = choice.compute(db, sid, recipe.languages.evaluate)
        stored = [
            (r["value"], json.loads(r["meta_json"])) for r in db.query("SELECT value, meta_json FROM measurements")
        ]
    by = {(r.cell, r.eval_lang): r for r in rows}
    assert by[("m/base", "es")].accuracy is None and by[("m/base", "es")].note == choice.NOT_MEASURED
    base, ft = by[("m/base", "en")], by[("m/es/s0-e1", "en")]
    mine = {r["item_id"]: r["value"] for r in items if r["cell_id"] == "m/base"}
    theirs = {r["item_id"]: r["value"] for r in items if r["cell_id"] == "m/es/s0-e1"}
    assert base.questions == 8 and base.correct == sum(mine.values()) and base.accuracy == sum(mine.values()) / 8
    # the paired change by hand: (fine-tune right, base wrong) - (fine-tune wrong, base right), over 8
    b = sum(1 for i in mine if theirs[i] and not mine[i])
    c = sum(1 for i in mine if not theirs[i] and mine[i])
    assert ft.paired_n == 8 and ft.delta_vs_base == pytest.approx((b - c) / 8)
    assert len(stored) == 16 and all(m["picked"] in "ABCD" and len(m["logprobs"]) == 4 for _, m in stored)
    # right means the best-scored letter is the answer's
    assert all(bool(v) == (m["picked"] == m["answer"]) for v, m in stored)
    assert all(m["picked"] == "ABCD"[max(range(4), key=lambda j: m["logprobs"][j])] for _, m in stored)
    # the favourite letter and its share, by hand from the stored picks of the base
    with read.open_for_reading(db_path) as db:
        picks = [json.loads(r["meta_json"])["picked"] for r in db.query(
            "SELECT meta_json FROM measurements WHERE cell_id = 'm/base'")]  # fmt: skip
    most = max(picks.count(x) for x in "ABCD")
    assert picks.count(base.top_letter) == most and base.top_share == pytest.approx(most / len(picks))


@pytest.mark.slow
def test_sigkill_during_choice_loses_nothing_measured(tiny, workspace, tmp_path):
    recipe_path = write_recipe(tmp_path / "k.toml", tiny["llama3"], _questions(tmp_path / "big.jsonl", 400),
                               evaluate=("en",))  # fmt: skip
    assert run_plan(load_recipe(recipe_path), only="export", cells_filter="m/base").count("failed") == 0
    db_path = workspace / "studies" / "mc.sqlite"
    cmd = [sys.executable, "-m", "workbench", "run", str(recipe_path), "--only", "choice", "--cells", "m/base"]
    sql = "SELECT id, item_id, value, n FROM measurements ORDER BY id"
    at_kill, after = kill_then_resume(cmd, db_path, sql, 400)
    with sqlite3.connect(db_path) as db:
        current = db.execute("SELECT items FROM current_measurements WHERE cell_id = 'm/base'").fetchone()
    assert len(after) == 400 and len({r[1] for r in after}) == 400 and current == (400,)
    assert resumed_new(db_path, "choice") == 400 - len(at_kill)
