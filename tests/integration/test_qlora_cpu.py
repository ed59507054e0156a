"""4-bit QLoRA on the CPU: peft + bitsandbytes NF4, then merge into the float32 base, export, gate, generate.

The merge is checked against the update computed by hand from the adapter's tensors
(W + B @ A * alpha / r): merging into the 4-bit weights training used would round the base.
"""

import json
from pathlib import Path

import pytest

from workbench.engines import chat, training
from workbench.engines.basemodel import BaseModel
from workbench.errors import WorkbenchError

ROWS = [{"prompt": f"Question {i}?", "response": f"Answer number {i}."} for i in range(8)]


def _cfg(**kw):
    base = dict(
        learning_rate=1e-2,  # large, so the few steps move the adapter visibly
        epochs=1,
        batch_size=2,
        seed=0,
        max_seq_length=64,
        lora_r=4,
        lora_alpha=8,
        lora_dropout=0.0,
        backend="peft",
        load_in_4bit=True,
    )
    return training.TrainConfig(**{**base, **kw})


@pytest.fixture(scope="module")
def qlora(tiny, tmp_path_factory):
    """A tiny Llama trained 4 steps with load_in_4bit = true on the CPU: (base, out dir, result)."""
    out = tmp_path_factory.mktemp("qlora")
    base = BaseModel("t", "llama3", tiny["llama3"], chat.TEMPLATES["llama3"])
    result = training.train(base, ROWS, _cfg(), out, key="qlora")
    return base, out, result


def test_load_in_4bit_true_loads_nf4_linear4bit_layers_on_the_cpu(tiny):
    import bitsandbytes as bnb
    import torch

    assert not torch.cuda.is_available() or pytest.skip("this test is about the CPU path")
    base = BaseModel("t", "llama3", tiny["llama3"], chat.TEMPLATES["llama3"])
    model, _, backend = training.load_for_training(base, _cfg())
    four = [m for m in model.modules() if isinstance(m, bnb.nn.Linear4bit)]
    assert backend == "peft" and four
    assert {m.weight.quant_state.quant_type for m in four} == {"nf4"}
    assert all(m.weight.device.type == "cpu" for m in four)
    lora = [n for n, p in model.named_parameters() if p.requires_grad]
    assert lora and all("lora_" in n for n in lora)  # only the adapter trains
    assert training.is_4bit(model)

    plain, _, _ = training.load_for_training(base, _cfg(load_in_4bit="auto"))  # auto: 4-bit on CUDA only
    assert not any(isinstance(m, bnb.nn.Linear4bit) for m in plain.modules())
    assert not training.is_4bit(plain)


def test_unsloth_4bit_needs_cuda():
    assert training.use_4bit("auto", "peft", cuda=True) and not training.use_4bit("auto", "peft", cuda=False)
    assert training.use_4bit(True, "peft", cuda=False) and training.use_4bit(True, "unsloth", cuda=True)
    assert not training.use_4bit(False, "unsloth", cuda=True)
    with pytest.raises(WorkbenchError, match="needs a CUDA GPU") as info:
        training.use_4bit(True, "unsloth", cuda=False)
    assert 'backend = "peft"' in info.value.hint


def test_qlora_trains_and_records_4bit(qlora):
    _, out, result = qlora
    assert result.steps == 4 and result.load_in_4bit and result.summary()["load_in_4bit"] is True
    record = json.loads((out / "training.json").read_text())
    assert record["result"]["load_in_4bit"] is True and record["config"]["load_in_4bit"] is True
    from safetensors.torch import load_file

    weights = load_file(out / "adapter" / "adapter_model.safetensors")
    assert any(float(v.abs().sum()) > 0 for k, v in weights.items() if "lora_B" in k)  # it trained


def test_merge_is_base_plus_scaled_lora_product_in_full_precision(qlora, tmp_path):
    """merged W == base W + (B @ A) * alpha / r, from the files alone; every other tensor is the base's."""
    import torch
    from safetensors.torch import load_file

    from workbench.engines import export

    base, out, _ = qlora
    adapter = out / "adapter"
    merged_dir = export.merge(base, adapter, tmp_path / "merged")
    base_w = load_file(base.hf_dir / "model.safetensors")
    merged_w = load_file(merged_dir / "model.safetensors")
    lora = load_file(adapter / "adapter_model.safetensors")
    conf = json.loads((adapter / "adapter_config.json").read_text())
    scale = conf["lora_alpha"] / conf["r"]
    assert not json.loads((merged_dir / "config.json").read_text()).get("quantization_config")

    prefix = "base_model.model."
    updated = set()
    for key, a in lora.items():
        if ".lora_A." not in key:
            continue
        b = lora[key.replace(".lora_A.", ".lora_B.")]
        name = key[len(prefix) :].replace(".lora_A.weight", ".weight")
        expected = base_w[name].float() + (b.double() @ a.double()).float() * scale
        assert merged_w[name].dtype == torch.float32
        torch.testing.assert_close(merged_w[name], expected, rtol=0, atol=1e-6)
        assert not torch.equal(merged_w[name], base_w[name].float())  # the update is really there
        updated.add(name)
    assert len(updated) >= 7 * 2  # all-linear: q k v o gate up down in each of the two layers
    for name, w in base_w.items():
        if name not in updated and name in merged_w:
            assert torch.equal(merged_w[name], w.float()), f"{name} changed (4-bit rounding?)"


def test_merge_dequantizes_a_4bit_base_folder(tiny, tmp_path):
    """A base checkpoint saved in bitsandbytes 4-bit is dequantized (bnb's own dequantize_4bit) before merging."""
    import bitsandbytes as bnb
    import torch
    from safetensors.torch import load_file
    from transformers import AutoModelForCausalLM, AutoTokenizer, BitsAndBytesConfig

    from workbench.engines import export

    src = tmp_path / "nf4"
    q = BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_compute_dtype=torch.float32)
    quantized = AutoModelForCausalLM.from_pretrained(tiny["llama3"], quantization_config=q, device_map="cpu")
    reference = {
        n + ".weight": bnb.functional.dequantize_4bit(m.weight.data, m.weight.quant_state).float()
        for n, m in quantized.named_modules()
        if isinstance(m, bnb.nn.Linear4bit)
    }
    quantized.save_pretrained(src)
    AutoTokenizer.from_pretrained(tiny["llama3"]).save_pretrained(src)
    merged = export.merge(BaseModel("q", "llama3", src, chat.TEMPLATES["llama3"]), None, tmp_path / "merged")
    weights = load_file(merged / "model.safetensors")
    assert reference and all(weights[k].dtype == torch.float32 for k in reference)
    for key, want in reference.items():
        torch.testing.assert_close(weights[key], want, rtol=0, atol=1e-6)
    assert "quantization_config" not in json.loads((merged / "config.json").read_text())


@pytest.mark.slow
def test_qlora_exports_through_the_gate_and_generates(qlora, tmp_path):
    from workbench.engines import export
    from workbench.engines.generate import Engine, Request

    base, out, _ = qlora
    result = export.export_cell(
        base, out / "adapter", tmp_path / "gguf", "qlora", ["q8_0"], keep_merged=False, min_agreement=0.95
    )
    assert result.gate.passed, result.gate.failure()
    assert result.gate.tokens_match and result.gate.chat_prompt_match and result.gate.agreement >= 0.95
    assert set(result.files) == {"f16", "q8_0"} or set(result.files) == {"q8_0"}
    with Engine(Path(result.files["q8_0"]), n_parallel=2, n_gpu_layers=0) as engine:
        reqs = [Request(i, engine.chat_tokens(p), 6) for i, p in enumerate(["Question 1?", "Hola"])]
        done = list(engine.generate(reqs))
    assert sorted(r.key for r in done) == [0, 1] and all(r.completion_tokens >= 1 for r in done)
