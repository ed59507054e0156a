"""finetune -> export -> llama.cpp -> gate, on tiny random models of each family (offline, seconds)."""

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from workbench.engines import chat
from workbench.recipe import load_recipe
from workbench.runner import run_plan

FAMILIES = ["llama3", "qwen3", "gemma3"]


def write_recipe(path: Path, model_dir: Path, family: str, *, name="tiny", align=False, extra="") -> Path:
    path.write_text(f"""
[study]
name = "{name}"
[[models]]
name = "m"
path = "{model_dir}"
family = "{family}"
align = {str(align).lower()}
[languages]
finetune = ["es"]
evaluate = ["en"]
[align]
examples_per_language = 6
epochs = 1
[training]
learning_rate = 1e-3
epochs = [1]
examples_per_language = 12
max_seq_length = 128
save_every_steps = 2
{extra}
[export]
quantizations = ["q8_0", "f16"]
""")
    return path


@pytest.mark.parametrize("family", FAMILIES)
def test_finetune_export_gate_per_family(tiny, family, workspace, tmp_path):
    recipe = load_recipe(write_recipe(tmp_path / "r.toml", tiny[family], family))
    summary = run_plan(recipe, only="finetune,export")
    statuses = {(o.stage, o.unit): o.status for o in summary.outcomes}
    assert statuses[("finetune", "m/es/s0-e1")] == "done", summary.outcomes
    assert statuses[("export", "m/es/s0-e1")] == "done", summary.outcomes
    assert statuses[("export", "m/base")] == "done"
    manifest = json.loads((workspace / "models" / "tiny" / "m" / "es" / "s0-e1" / "manifest.json").read_text())
    gate = manifest["gate"]
    assert gate["tokens_match"] and gate["chat_prompt_match"] and gate["agreement"] >= 0.95
    assert set(gate["agreement_quantized"]) == {"q8_0"}
    assert set(manifest["files"]) == {"q8_0", "f16"}

    import llama_cpp

    gguf_path = manifest["files"]["q8_0"]["path"]
    llm = llama_cpp.Llama(gguf_path, n_ctx=128, verbose=False)
    try:
        assert llm.metadata["tokenizer.chat_template"] == chat.TEMPLATES[family]
        out = llm.create_completion("Hola", max_tokens=4, temperature=0.0)
        assert out["usage"]["completion_tokens"] >= 1
    finally:
        llm.close()
    # merged weights are deleted unless kept; nothing half-written is left behind
    cell = workspace / "models" / "tiny" / "m" / "es" / "s0-e1"
    assert not (cell / "merged").exists()
    assert not [p for p in cell.iterdir() if ".tmp" in p.name]

    again = run_plan(recipe, only="finetune,export")
    assert {o.status for o in again.outcomes} == {"skipped"}


def test_align_then_finetune_on_the_aligned_base(tiny, workspace, tmp_path):
    recipe = load_recipe(write_recipe(tmp_path / "r.toml", tiny["gemma3"], "gemma3", name="aligned", align=True))
    summary = run_plan(recipe, only="align,finetune,export")
    assert summary.count("failed") == 0, summary.outcomes
    aligned = workspace / "models" / "aligned" / "m" / "base" / "aligned"
    assert (aligned / "model.safetensors").is_file() and (aligned / "tokenizer.model").is_file()
    base_manifest = json.loads((workspace / "models" / "aligned" / "m" / "base" / "manifest.json").read_text())
    assert base_manifest["gate"]["agreement"] >= 0.95


def test_broken_export_wrong_tokenizer_fails_the_gate(tiny, tmp_path):
    """The base claims another model's vocabulary: the exported GGUF tokenizes differently."""
    from workbench.engines import export
    from workbench.engines.basemodel import BaseModel
    from workbench.errors import WorkbenchError

    donor = export.export_cell(
        BaseModel("d", "llama3", tiny["llama3"], chat.TEMPLATES["llama3"]),
        None,
        tmp_path / "donor",
        "donor",
        ["f16"],
        keep_merged=False,
        min_agreement=0.95,
    )
    wrong = BaseModel("g", "gemma3", tiny["gemma3"], chat.TEMPLATES["gemma3"], source_gguf=Path(donor.files["f16"]))
    with pytest.raises(WorkbenchError, match="token ids differ") as info:
        export.export_cell(wrong, None, tmp_path / "broken", "broken", ["q8_0"], keep_merged=False, min_agreement=0.95)
    assert "export gate failed" in info.value.message and info.value.hint
    assert not list((tmp_path / "broken").glob("*.gguf")), "a failed export must not leave GGUF files"


def test_same_seed_gives_the_same_adapter(tiny, tmp_path):
    from safetensors.torch import load_file

    from workbench.engines import training
    from workbench.engines.basemodel import BaseModel

    base = BaseModel("g", "gemma3", tiny["gemma3"], chat.TEMPLATES["gemma3"])
    rows = [{"prompt": f"Question {i}?", "response": f"Answer number {i}."} for i in range(10)]
    cfg = training.TrainConfig(
        learning_rate=1e-3, epochs=2, batch_size=3, seed=7, max_seq_length=64, lora_r=4, lora_alpha=8, lora_dropout=0.1
    )
    a = training.train(base, rows, cfg, tmp_path / "a", key="k")
    b = training.train(base, rows, cfg, tmp_path / "b", key="k")
    training.train(base, rows, training.TrainConfig(**{**cfg.__dict__, "seed": 8}), tmp_path / "c", key="k")
    wa, wb, wc = (load_file(tmp_path / d / "adapter" / "adapter_model.safetensors") for d in "abc")
    assert a.steps == b.steps == 8
    assert all((wa[k] == wb[k]).all() for k in wa)
    assert any((wa[k] != wc[k]).any() for k in wa)


def test_out_of_memory_ends_the_cell_with_suggestions(tiny, workspace, tmp_path, monkeypatch):
    import torch

    from workbench.engines import training

    def boom(*args, **kwargs):
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")

    monkeypatch.setattr(training, "supervised_loss", boom)
    path = write_recipe(tmp_path / "r.toml", tiny["gemma3"], "gemma3", name="oom")
    text = path.read_text().replace('finetune = ["es"]', 'finetune = ["es", "tl"]')
    path.write_text(text)
    summary = run_plan(load_recipe(path), only="finetune")
    failed = [o for o in summary.outcomes if o.status == "failed"]
    assert len(failed) == 2  # both cells were tried: one failing does not stop the other
    assert "out of GPU memory" in failed[0].reason
    import sqlite3

    hint = (
        sqlite3.connect(workspace / "studies" / "oom.sqlite")
        .execute("SELECT hint FROM stage_runs WHERE status = 'failed'")
        .fetchone()[0]
    )
    assert "batch_size" in hint and "gradient_accumulation" in hint


def test_unsloth_backend_missing_is_a_clear_error(tiny, tmp_path):
    import importlib.util

    if importlib.util.find_spec("unsloth"):
        pytest.skip("unsloth is installed")
    from workbench.engines import training
    from workbench.engines.basemodel import BaseModel
    from workbench.errors import WorkbenchError

    base = BaseModel("g", "gemma3", tiny["gemma3"], chat.TEMPLATES["gemma3"])
    cfg = training.TrainConfig(
        learning_rate=1e-3,
        epochs=1,
        batch_size=2,
        seed=0,
        max_seq_length=64,
        lora_r=4,
        lora_alpha=8,
        lora_dropout=0.0,
        backend="unsloth",
    )
    with pytest.raises(WorkbenchError, match="Unsloth is not installed"):
        training.train(base, [{"prompt": "a", "response": "b"}], cfg, tmp_path / "u", key="k")


def test_resume_after_kill_continues_from_the_checkpoint(tiny, workspace, tmp_path):
    """SIGKILL a real training process mid-way; the rerun resumes and ends with the same adapter."""
    from safetensors.torch import load_file

    extra = "max_steps = 400\nbatch_size = 2\n"
    path = (
        write_recipe(tmp_path / "r.toml", tiny["gemma3"], "gemma3", name="resume", extra=extra)
        .read_text()
        .replace("save_every_steps = 2", "save_every_steps = 20")
    )
    (tmp_path / "r.toml").write_text(path)
    env = {**os.environ, "WORKBENCH_HOME": str(workspace)}
    cmd = [
        sys.executable,
        "-m",
        "workbench",
        "run",
        str(tmp_path / "r.toml"),
        "--only",
        "finetune",
        "--events",
        "jsonl",
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
    killed_at = None
    for line in proc.stdout:
        event = json.loads(line)
        if event.get("event") == "unit_progress" and event["what"] == "steps" and event["done"] >= 45:
            proc.send_signal(signal.SIGKILL)
            killed_at = event["done"]
            break
    proc.wait()
    assert killed_at is not None and proc.returncode == -signal.SIGKILL
    cell = workspace / "models" / "resume" / "m" / "es" / "s0-e1"
    assert (cell / "checkpoint" / "state.json").is_file()
    assert not (cell / "adapter").exists()

    rerun = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    events = [json.loads(x) for x in rerun.stdout.splitlines()]
    steps = [e["done"] for e in events if e.get("event") == "unit_progress" and e["what"] == "steps"]
    assert steps[0] > 20 and steps[-1] == 400, steps[:3]
    assert any("resuming from step" in e.get("message", "") for e in events)
    resumed = load_file(cell / "adapter" / "adapter_model.safetensors")

    # The same cell trained without interruption gives the same adapter.
    from workbench.engines import training
    from workbench.engines.basemodel import BaseModel
    from workbench.recipe import load_recipe as _load
    from workbench.stages import common

    r = _load(tmp_path / "r.toml")
    cfg = common.train_config(type("C", (), {"recipe": r})(), r.training, seed=0, epochs=1)
    rows = [
        json.loads(x) for x in (workspace / "models" / "resume" / "data" / "benign-es.jsonl").read_text().splitlines()
    ]
    records = [{"prompt": x["instruction"], "response": x["response"]} for x in rows]
    straight = training.train(
        BaseModel("m", "gemma3", tiny["gemma3"], chat.TEMPLATES["gemma3"]),
        records,
        cfg,
        tmp_path / "straight",
        key="other",
    )
    assert straight.steps == 400
    ref = load_file(tmp_path / "straight" / "adapter" / "adapter_model.safetensors")
    for k in ref:
        assert (ref[k] - resumed[k]).abs().max() < 1e-5, k
