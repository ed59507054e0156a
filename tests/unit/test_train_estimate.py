"""The fine-tune estimate follows the settings that drive a LoRA run: rank, targets, batch, sequence
length and 4-bit. The adapter's size is checked against peft's own count of trainable parameters."""

import pytest

from tests.unit.test_plan_estimates import _by_stage
from tests.unit.test_plan_estimates import _recipe as _local_recipe
from workbench import estimates as est
from workbench.machine import Machine
from workbench.modelshape import EMBEDDED_SHAPES, model_shape, shape_from_config
from workbench.plan import plan_estimate
from workbench.recipe import load_recipe
from workbench.recipe.models import LoraSettings


def _recipe(tmp_path, extra="", model='embedded = "gemma3-270m"'):
    """The plan tests' recipe (local 4-row data), with downloads allowed for a hub model."""
    path = _local_recipe(tmp_path, extra, model=model)
    path.write_text(path.read_text().replace("[study]\n", "[study]\nallow_downloads = true\n", 1))
    return path


GPU = Machine(ram_bytes=1e12, vram_bytes=24e9, free_disk_bytes=1e13, gpu_class="24GB", description="a test GPU")


def _tiny_configs():
    import transformers as tf

    common = dict(vocab_size=256, hidden_size=64, num_hidden_layers=3, num_attention_heads=4, num_key_value_heads=2)
    return {
        "llama": tf.LlamaConfig(**common, intermediate_size=176, head_dim=16),
        "qwen3": tf.Qwen3Config(**common, intermediate_size=96, head_dim=32),  # q wider than hidden, as Qwen3
        "gemma3": tf.Gemma3TextConfig(**common, intermediate_size=128, head_dim=24),
    }


@pytest.mark.parametrize("arch", ["llama", "qwen3", "gemma3"])
@pytest.mark.parametrize("targets", ["all-linear", ["q_proj", "v_proj"], ["down_proj"]])
def test_adapter_size_matches_peft(arch, targets):
    import transformers as tf
    from peft import LoraConfig, get_peft_model

    config = _tiny_configs()[arch]
    model = tf.AutoModelForCausalLM.from_config(config)
    peft_model = get_peft_model(model, LoraConfig(r=8, lora_alpha=16, target_modules=targets))
    trainable = sum(p.numel() for p in peft_model.parameters() if p.requires_grad)
    shape = shape_from_config(config.to_dict())
    assert est.lora_params(shape, None, LoraSettings(r=8, target_modules=targets)) == trainable


def test_the_embedded_adapter_by_hand():
    # Gemma 3 270M, all-linear, r=16: per layer q 640+1024, k and v 640+256, o 1024+640, gate and up
    # 640+2048, down 2048+640 -> 13,184 x 16 x 18 layers; float32 on disk (a real adapter is 15,220,968 bytes
    # with its safetensors header)
    lora = est.lora_params(EMBEDDED_SHAPES["gemma3-270m"], 268e6, LoraSettings(r=16))
    assert lora == 13_184 * 16 * 18
    assert 15_000_000 < lora * 4 < 15_220_968


def test_the_published_shape_stands_in_for_an_uncached_hub_model(tmp_path, workspace, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty-cache"))
    r = load_recipe(_recipe(tmp_path, model='hub = "Qwen/Qwen3-0.6B"'))
    shape = model_shape(r.models[0])
    assert shape is not None and shape.source == "published config of qwen/qwen3-0.6b"
    # Qwen3-0.6B all-linear r=16 by hand: 28 layers x 16 x (q 1024+2048, k and v 1024+1024, o 2048+1024,
    # gate and up 1024+3072, down 3072+1024)
    assert est.lora_params(shape, 0.6e9, LoraSettings(r=16)) == 28 * 16 * (3072 + 2 * 2048 + 3072 + 3 * 4096)


def _finetune(tmp_path, training: str, machine=GPU, model='hub = "Qwen/Qwen3-0.6B"'):
    extra = "[training]\n" + training + "\n"
    plan = plan_estimate(load_recipe(_recipe(tmp_path, extra, model=model)), machine)
    return _by_stage(plan)["finetune"]


def test_the_estimate_follows_rank_batch_sequence_and_4bit(tmp_path, workspace, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty-cache"))
    base = _finetune(tmp_path, "batch_size = 4\nmax_seq_length = 512")
    r64 = _finetune(tmp_path, "batch_size = 4\nmax_seq_length = 512\n[training.lora]\nr = 64")
    # the adapter on disk is rank x (in + out) float32 values: four times the rank, four times the bytes
    assert r64.disk_bytes == pytest.approx(4 * base.disk_bytes)
    assert r64.memory_bytes > base.memory_bytes and r64.seconds > base.seconds
    # a local data file's lengths are not read: its batches are sized at max_seq_length, an upper bound
    long = _finetune(tmp_path, "batch_size = 4\nmax_seq_length = 2048")
    wide = _finetune(tmp_path, "batch_size = 16\nmax_seq_length = 512")
    assert long.memory_bytes > base.memory_bytes and wide.memory_bytes > base.memory_bytes
    assert wide.seconds == pytest.approx(base.seconds)  # the same tokens, in bigger batches
    assert "LoRA r=16, batch 4, sequences up to 512 tokens" in base.note and "4-bit base" in base.note
    sixteen = _finetune(tmp_path, "batch_size = 4\nmax_seq_length = 512\nload_in_4bit = false")
    assert "16-bit base" in sixteen.note
    # 4-bit saves ~1.44 bytes a parameter of the layers (2 - 0.56), the embeddings stay 16-bit
    shape = model_shape(load_recipe(_recipe(tmp_path, model='hub = "Qwen/Qwen3-0.6B"')).models[0])
    params = est.params_by_model(load_recipe(_recipe(tmp_path, model='hub = "Qwen/Qwen3-0.6B"')))["m"]
    body = params - shape.vocab_size * shape.hidden_size
    assert sixteen.memory_bytes - base.memory_bytes == pytest.approx(body * (2 - 0.56))


def test_activations_by_hand_for_the_embedded_model_on_a_cpu(tmp_path, workspace):
    from workbench.recipe.models import TrainingSettings

    shape, params = EMBEDDED_SHAPES["gemma3-270m"], 268e6
    t = TrainingSettings(batch_size=2, max_seq_length=100)
    f = est.train_footprint(params, "cpu", shape, t, 100)
    # no checkpointing on the CPU: 18 layers x 2 x 100 tokens x (17 x 640 + 2.5 x 4 heads x 100) values,
    # float32; logits, log-softmax and gradient of 262,144 rows for the 100 supervised tokens
    layers = 18 * 2 * 100 * (17 * 640 + 2.5 * 4 * 100) * 4
    logits = 2 * 100 * 0.5 * 262_144 * 4 * 3
    assert f.activations == pytest.approx(layers + logits)
    assert f.weights == pytest.approx(params * 4)
    assert f.adapter == pytest.approx(13_184 * 16 * 18 * 16)
