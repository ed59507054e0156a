"""The embedded model through align -> finetune -> export -> gate (slow: minutes on 2 cores)."""

import json

import pytest

from tests.conftest import RECIPES
from workbench.recipe import load_recipe
from workbench.runner import run_plan


@pytest.mark.slow
def test_embedded_align_finetune_export_gate(workspace, tmp_path):
    # The demo recipe with its own [quick] profile replaced by a tiny one (a few training steps).
    text = (RECIPES / "demo.toml").read_text()
    text = text[: text.index("# A smaller profile")].replace('name = "demo"', 'name = "embedded"', 1)
    text += """
[quick.languages]
finetune = ["es"]
evaluate = ["en", "es"]

[quick.align]
examples_per_language = 8
epochs = 1

[quick.training]
examples_per_language = 8
epochs = [1]
"""
    path = tmp_path / "embedded.toml"
    path.write_text(text)
    recipe = load_recipe(path, quick=True)
    summary = run_plan(recipe, only="align,finetune,export")
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
