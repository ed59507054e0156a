"""The drift stage on tiny float32 GGUFs: llama.cpp's pooled last-layer states against torch's, the
cosine distance per prompt against the base, the base's states computed once, SIGKILL-safe rows."""

import json
import sys

import pytest

from tests.conftest import kill_then_resume, run_cli
from tests.integration.test_capability import _heldout, resumed_new, write_recipe
from workbench.recipe import load_recipe
from workbench.runner import run_plan


def test_pooled_states_match_torch(tiny, tmp_path):
    """Independent reference: the HF model's last hidden state (after the final norm), mean over tokens."""
    import torch
    import transformers as tf

    from workbench.engines import export
    from workbench.engines.generate import Engine

    hf_dir = tiny["llama3"]
    gguf = export.convert(hf_dir, tmp_path / "m.f32.gguf", "f32")
    tok = tf.AutoTokenizer.from_pretrained(hf_dir)
    model = tf.AutoModelForCausalLM.from_pretrained(hf_dir, dtype=torch.float32).eval()
    texts = ["How do I water tomatoes in a dry summer?", "Tell me a short story about a cat."]
    seqs = [tok(t)["input_ids"] for t in texts]
    with torch.no_grad():
        expected = [model(torch.tensor([s]), output_hidden_states=True).hidden_states[-1][0].mean(0) for s in seqs]
    with Engine(gguf, n_parallel=1) as engine:
        got = engine.pooled_states(seqs)
    assert got.shape == (2, model.config.hidden_size)
    for g, e in zip(got, expected, strict=True):
        assert g == pytest.approx(e.double().numpy(), abs=1e-3, rel=1e-3)


@pytest.mark.slow
def test_drift_stage_compares_every_prompt_with_the_base(tiny, workspace, tmp_path):
    from workbench.analysis import drift
    from workbench.store import read

    recipe_path = write_recipe(tmp_path / "r.toml", tiny["llama3"], _heldout(tmp_path / "h.jsonl", 2))
    recipe = load_recipe(recipe_path)
    summary = run_plan(recipe, only="finetune,export,drift")
    assert summary.count("failed") == 0, [(o.stage, o.reason) for o in summary.outcomes if o.status != "done"]
    assert {o.unit for o in summary.outcomes if o.stage == "drift"} == {"m/es/s0-e1"}  # fine-tuned cells only
    db_path = workspace / "studies" / "cap.sqlite"
    with read.open_for_reading(db_path) as db:
        sid = read.study_id(db, "cap")
        items = read.current_measure_rows(db, sid, "drift_cosine")
        rows = drift.compute(db, sid)
    assert len(items) == 4 and all(0.0 <= r["value"] <= 2.0 for r in items)  # 2 prompts x en, es
    assert any(r["value"] > 1e-6 for r in items)  # the fine-tune moved something
    assert {(r.cell, r.eval_lang, r.prompts) for r in rows} == {("m/es/s0-e1", "en", 2), ("m/es/s0-e1", "es", 2)}
    assert len(list((workspace / "models" / "cap" / "drift").glob("base-*.npy"))) == 1
    shown = run_cli("results", recipe_path, "--measure", "drift", "--format", "json")
    assert shown.returncode == 0, shown.stderr
    assert {d["eval_lang"] for d in json.loads(shown.stdout)} == {"en", "es"}


@pytest.mark.slow
def test_sigkill_during_drift_loses_nothing_measured(tiny, workspace, tmp_path):
    recipe_path = write_recipe(tmp_path / "k.toml", tiny["llama3"], _heldout(tmp_path / "h.jsonl", 2))
    text = recipe_path.read_text().replace("limit = 2", "limit = 45")
    # a long system prompt makes each pooled prompt ~1,500 tokens: the run lasts long enough to be killed
    text += '\n[generation]\nsystem_prompt = "' + " ".join(["Answer kindly and carefully."] * 300) + '"\n'
    recipe_path.write_text(text)
    assert run_plan(load_recipe(recipe_path), only="finetune,export").count("failed") == 0
    db_path = workspace / "studies" / "cap.sqlite"
    cmd = [sys.executable, "-m", "workbench", "run", str(recipe_path), "--only", "drift"]
    sql = "SELECT id, item_id, lang, value FROM measurements WHERE measure = 'drift_cosine' ORDER BY id"
    at_kill, after = kill_then_resume(cmd, db_path, sql, 90)
    assert len(after) == 90 and len({(r[1], r[2]) for r in after}) == 90
    assert resumed_new(db_path, "drift") == 90 - len(at_kill)  # only the prompts not compared yet
