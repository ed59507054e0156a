"""Training precision and batching: bf16 on the base with float32 LoRA weights, chosen by measurement
("auto"), recorded where it ran; length-grouped batches that still visit every example once an epoch.

The bf16 run is checked against the float32 run of the same seed and data (the reference computation):
its first loss within bf16's rounding, and the same descent over the run.
"""

import json
import random

import pytest

from workbench.engines import chat, training
from workbench.engines.basemodel import BaseModel
from workbench.environment import cpu_has_fast_bf16
from workbench.errors import WorkbenchError
from workbench.events import UnitReporter

ROWS = [
    {"prompt": f"Question {i}: what is {i} plus {i}?", "response": f"It is {2 * i}." * (1 + i % 4)} for i in range(12)
]


def _cfg(**kw):
    base = dict(
        learning_rate=5e-3,
        epochs=1,
        max_steps=8,
        batch_size=3,
        seed=0,
        max_seq_length=96,
        lora_r=4,
        lora_alpha=8,
        lora_dropout=0.0,
        backend="peft",
        load_in_4bit=False,
    )
    return training.TrainConfig(**{**base, **kw})


def test_auto_precision_follows_the_hardware():
    assert training.resolve_precision("auto", cuda=False, four_bit=False, bf16_ok=True) == "bf16"
    assert training.resolve_precision("auto", cuda=False, four_bit=False, bf16_ok=False) == "fp32"
    assert training.resolve_precision("auto", cuda=False, four_bit=True, bf16_ok=True) == "fp32"  # bnb on CPU
    assert training.resolve_precision("auto", cuda=True, four_bit=True, bf16_ok=True) == "bf16"
    assert training.resolve_precision("auto", cuda=True, four_bit=False, bf16_ok=False) == "fp32"
    assert training.resolve_precision("fp32", cuda=True, four_bit=False, bf16_ok=True) == "fp32"
    assert training.resolve_precision("bf16", cuda=False, four_bit=False, bf16_ok=False) == "bf16"
    with pytest.raises(WorkbenchError, match="unknown training precision"):
        training.resolve_precision("fp8", cuda=False, four_bit=False)


def test_native_bf16_is_read_from_the_cpu_flags():
    assert cpu_has_fast_bf16(frozenset({"avx512f", "avx512_bf16"}))
    assert cpu_has_fast_bf16(frozenset({"amx_bf16", "amx_tile"}))
    assert not cpu_has_fast_bf16(frozenset({"avx2", "avx512f", "fma"}))
    assert not cpu_has_fast_bf16(frozenset())


def _lengths(n, seed=3):
    rng = random.Random(seed)
    return [rng.randint(10, 250) for _ in range(n)]


def _padding(batches, lengths):
    return sum(max(lengths[i] for i in b) * len(b) - sum(lengths[i] for i in b) for b in batches)


@pytest.mark.parametrize("n", [1, 7, 64, 200])
def test_length_grouped_batches_cover_the_epoch_once_and_pad_less(n):
    lengths = _lengths(n)
    cfg = _cfg(batch_size=4, group_by_length=True)
    grouped = training._batches(n, cfg, 0, lengths)
    plain = training._batches(n, _cfg(batch_size=4, group_by_length=False), 0, lengths)
    assert sorted(i for b in grouped for i in b) == list(range(n))
    assert all(1 <= len(b) <= 4 for b in grouped)
    assert training._batches(n, cfg, 0, lengths) == grouped  # seeded
    if n >= 64:
        assert _padding(grouped, lengths) < 0.5 * _padding(plain, lengths)
        assert training._batches(n, cfg, 1, lengths) != grouped  # a new order each epoch
    # plain batching is the seeded shuffle cut in order (computed here by hand)
    order = list(range(n))
    random.Random(0 * 1000 + 0).shuffle(order)
    assert plain == [order[i : i + 4] for i in range(0, n, 4)]


class _Losses:
    def __init__(self):
        self.losses = []

    def reporter(self):
        def emit(event):
            loss = (getattr(event, "metrics", None) or {}).get("loss")
            if loss is not None:
                self.losses.append(loss)

        return UnitReporter(emit, "t", "t")


@pytest.fixture(scope="module")
def runs(tiny, tmp_path_factory):
    base = BaseModel("t", "gemma3", tiny["gemma3"], chat.TEMPLATES["gemma3"])
    out = {}
    for precision in ("fp32", "bf16"):
        rec = _Losses()
        folder = tmp_path_factory.mktemp(precision)
        result = training.train(base, ROWS, _cfg(precision=precision), folder, key=precision, report=rec.reporter())
        out[precision] = (folder, result, rec.losses)
    return base, out


def test_bf16_base_trains_float32_lora_weights(runs, tiny):
    import torch

    base, _ = runs
    model, _, _ = training.load_for_training(base, _cfg(precision="bf16"))
    frozen = {p.dtype for p in model.parameters() if not p.requires_grad}
    trained = {n: p.dtype for n, p in model.named_parameters() if p.requires_grad}
    assert frozen == {torch.bfloat16}
    assert trained and set(trained.values()) == {torch.float32} and all("lora_" in n for n in trained)
    assert training.precision_of(model) == "bf16"
    plain, _, _ = training.load_for_training(base, _cfg(precision="fp32"))
    assert {p.dtype for p in plain.parameters()} == {torch.float32} and training.precision_of(plain) == "fp32"


def test_precision_is_recorded_with_the_adapter(runs):
    import torch
    from safetensors.torch import load_file

    _, out = runs
    for precision, (folder, result, losses) in out.items():
        assert result.precision == precision and result.summary()["precision"] == precision
        record = json.loads((folder / "training.json").read_text())
        assert record["result"]["precision"] == precision and record["config"]["precision"] == precision
        assert len(record["losses"]) == len(losses) == 8  # the progress events show 4 decimals, the record 5
        assert all(abs(a - b) <= 1e-4 for a, b in zip(record["losses"], losses, strict=True))
        assert result.padded_tokens >= result.supervised_tokens > 0
        weights = load_file(folder / "adapter" / "adapter_model.safetensors")
        assert {w.dtype for w in weights.values()} == {torch.float32}


def test_bf16_loss_curve_follows_the_float32_one(runs):
    _, out = runs
    fp32, bf16 = out["fp32"][2], out["bf16"][2]
    # step 1: same weights, same batch; bf16 rounds activations to 8 mantissa bits (~0.4% each)
    assert abs(bf16[0] - fp32[0]) / fp32[0] < 0.02, (fp32, bf16)
    drop32, drop16 = fp32[0] - min(fp32), bf16[0] - min(bf16)
    assert drop32 > 0.05 * fp32[0], fp32  # the run really learns, so the comparison means something
    assert abs(drop16 - drop32) < 0.25 * drop32, (fp32, bf16)
    assert max(abs(a - b) / a for a, b in zip(fp32, bf16, strict=True)) < 0.1, (fp32, bf16)
