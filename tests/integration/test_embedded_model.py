"""The embedded model through align -> finetune -> export -> gate -> generate -> judge -> results (slow)."""

import json

import pytest

from tests.conftest import tiny_demo_recipe
from workbench.recipe import load_recipe
from workbench.runner import run_plan


@pytest.mark.slow
def test_embedded_align_finetune_export_gate(workspace, tmp_path):
    # The demo recipe with its own [quick] profile replaced by a tiny one (a few training steps).
    path = tiny_demo_recipe(tmp_path, "embedded")
    recipe = load_recipe(path, quick=True)
    summary = run_plan(recipe)
    assert summary.count("failed") == 0, [o for o in summary.outcomes if o.status == "failed"]
    models = workspace / "models" / "embedded" / "gemma3-270m"
    for cell in ("base", "es/s0-e1"):
        manifest = json.loads((models / cell / "manifest.json").read_text())
        gate = manifest["gate"]
        assert gate["tokens_match"] and gate["chat_prompt_match"], gate
        assert gate["agreement"] >= 0.95 and gate["agreement_quantized"]["q8_0"] > 0.8
        gguf = manifest["files"]["q8_0"]["path"]
        assert gguf.endswith(".q8_0.gguf")

    import llama_cpp

    llm = llama_cpp.Llama(str(models / "es" / "s0-e1" / "gemma3-270m.es.s0-e1.q8_0.gguf"), n_ctx=256, verbose=False)
    try:
        assert "<start_of_turn>" in llm.metadata["tokenizer.chat_template"]
        assert llm.metadata["tokenizer.ggml.model"] == "llama"  # the SentencePiece vocabulary, not a GPT-2 one
    finally:
        llm.close()

    # generate: every cell answered every prompt in both languages, in the chat format it was trained on
    import sqlite3

    db = sqlite3.connect(workspace / "studies" / "embedded.sqlite")
    rows = db.execute(
        """SELECT r.cell_id, p.lang, r.text, r.completion_tokens, r.finish_reason FROM responses r
           JOIN prompts p ON p.id = r.prompt_id"""
    ).fetchall()
    assert len(rows) == 2 * 2 * 6
    assert all(r[3] >= 1 and r[4] in ("stop", "length") for r in rows)
    assert not [r for r in rows if "<start_of_turn>" in r[2] or "<end_of_turn>" in r[2]]
    # judge: one heuristic judgment per response; results: a rate per cell and language
    labels = db.execute("SELECT label FROM judgments WHERE judge = 'heuristic'").fetchall()
    assert len(labels) == len(rows) and {x[0] for x in labels} <= {"comply", "refuse", "neither", "unsure"}
    db.close()
    results = json.loads((workspace / "models" / "embedded" / "results" / "results.json").read_text())
    assert {(r["finetune_lang"], r["eval_lang"]) for r in results} == {
        (None, "en"),
        (None, "es"),
        ("es", "en"),
        ("es", "es"),
    }
    assert all(r["n"] + r["unsure"] + r["unparseable"] == 6 for r in results)  # abstentions apart from n
