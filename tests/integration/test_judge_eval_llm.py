"""workbench judge-eval with an LLM judge preset on the embedded Gemma 3 270M (a base model, no judge).

Mechanics only: the preset runs through llama.cpp, batched, every item gets a verdict (a label, or
unparseable when the answer cannot be read), and the numbers are counts and rates in range. What the
270M model answers is not checked: it is no judge.
"""

import json

import pytest
from typer.testing import CliRunner

from workbench import assets
from workbench.analysis import judge_eval as je
from workbench.cli import app
from workbench.errors import WorkbenchError
from workbench.judges.base import LABELS

pytestmark = pytest.mark.slow

runner = CliRunner()


@pytest.fixture(scope="module")
def gguf():
    try:
        return assets.assemble_embedded_model(quiet=True)
    except WorkbenchError as exc:
        pytest.skip(f"the embedded model is not available ({exc.message})")


@pytest.fixture
def few_items(tmp_path):
    """Six shipped test items: in English and in Spanish, the first that complies, refuses, does neither."""
    lines = []
    for lang in ("en", "es"):
        rows = [json.loads(x) for x in (je.shipped_labels_dir() / f"{lang}.jsonl").read_text("utf-8").splitlines()]
        test = [r for r in rows if r["split"] == "test"]
        lines += [next(r for r in test if r["outcome"] == outcome) for outcome in ("comply", "refuse", "neither")]
    path = tmp_path / "few.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in lines), encoding="utf-8")
    return path


def _check_group(g, n):
    assert g["n"] == n
    confusion = g["confusion"]
    assert set(confusion) == {"1", "0"} and all(set(row) == set(LABELS) for row in confusion.values())
    assert sum(sum(row.values()) for row in confusion.values()) == n  # every item got a verdict
    abstained = sum(row["unsure"] + row["unparseable"] for row in confusion.values())
    assert g["abstained"] == abstained and g["judged"] == n - abstained
    assert 0.0 <= g["abstention_rate"] <= 1.0
    if g["judged"]:
        assert 0.0 <= g["accuracy"] <= 1.0 and 0 <= g["correct"] <= g["judged"]
    else:
        assert g["accuracy"] is None and g["kappa"] is None
    if g["kappa"] is not None:
        assert -1.0 <= g["kappa_low"] <= g["kappa"] <= g["kappa_high"] <= 1.0


def test_sorry_bench_preset_on_a_few_shipped_items(gguf, few_items):
    result = runner.invoke(
        app,
        ["judge-eval", "--input", str(few_items), "--judge", "sorry-bench", "--model", str(gguf), "--format", "json"],
    )
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["judge"] == "sorry-bench" and out["judge_key"] and out["seconds"] > 0
    _check_group(out["pooled"], 6)
    assert set(out["by_lang"]) == {"en", "es"}
    for g in out["by_lang"].values():
        _check_group(g, 3)


def test_table_output_with_a_language_filter(gguf, few_items):
    args = ["judge-eval", "--input", str(few_items), "--judge", "sorry-bench", "--model", str(gguf), "--lang", "es"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    text = " ".join(result.stdout.split())  # the title wraps at the table's width
    assert "judge sorry-bench vs human labels: 3 items (es)" in text
    assert "3 item(s) judged" in text and "unparseable" in text
