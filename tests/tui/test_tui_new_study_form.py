"""The new-study form guides a fine-tune: every key, defaults fitted to the model, the plan's estimate
for a GPU class updating as fields change, and a warning where a stage exceeds the class."""

from __future__ import annotations

import pytest
from tui_helpers import FAKE_RUNNER, SIZE, wait_for

from workbench.tui.app import make_app
from workbench.tui.screens.new_study import FIELDS, model_defaults

pytestmark = pytest.mark.anyio


def test_every_field_has_one_line_of_help_and_defaults_follow_the_model_size():
    assert all(help_text and "\n" not in help_text for *_, help_text in FIELDS)
    embedded = model_defaults("gemma3-270m")
    assert (embedded["learning_rate"], embedded["quantizations"], embedded["gpu"]) == ("0.0002", "q8_0", "cpu")
    hub = model_defaults("meta-llama/Llama-3.2-1B-Instruct")
    assert (hub["learning_rate"], hub["quantizations"], hub["load_in_4bit"], hub["gpu"]) == (
        "5e-05",
        "q4_k_m",
        "auto",
        "24GB",
    )
    big = model_defaults("google/gemma-3-27b-it")
    assert big["load_in_4bit"] == "true" and big["gpu"] == "48GB"


def _stage_line(estimate: str, stage: str) -> str:
    lines = [line for line in estimate.splitlines() if line.strip().startswith(stage)]
    assert lines, f"no {stage} line in {estimate!r}"
    return lines[0]


async def _change(pilot, form, what, **values):
    """Set fields, wait for the debounced check that follows, and return the estimate it shows."""
    await pilot.pause(0.5)  # a check still under way ends first
    before = form.checked
    for fid, value in values.items():
        form.query_one(f"#f-{fid}").value = value
    await pilot.pause(0.4)
    await wait_for(pilot, lambda: form.checked > before, what=what)
    await pilot.pause(0.4)
    return form.estimate_text


async def test_a_4bit_lora_study_on_24gb_sees_its_estimate_change(home):
    app = make_app(runner=FAKE_RUNNER)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("n")
        form = app.screen
        await wait_for(pilot, lambda: form.estimate_text.startswith("estimate for"), what="first estimate")
        assert form.estimate_text.startswith("estimate for cpu")  # the embedded model's class

        form.query_one("#f-models").value = "meta-llama/Llama-3.2-1B-Instruct"
        form.query_one("#f-downloads").value = True
        await wait_for(pilot, lambda: "estimate for 24GB" in form.estimate_text, what="the hub model's defaults")
        # the hub model's defaults replaced the embedded ones the user had not edited
        assert form.query_one("#f-learning_rate").value == "5e-05"
        assert form.query_one("#f-quantizations").value == "q4_k_m"
        one_seed = await _change(
            pilot, form, "a 4-bit LoRA study", load_in_4bit="true", lora_r="32", lora_alpha="64", max_seq_length="1024"
        )
        assert form.problems == []
        text = form.text()
        assert "load_in_4bit = true" in text and "r = 32" in text and "max_seq_length = 1024" in text
        assert "24 GB VRAM" in one_seed and "finetune" in one_seed and "VRAM" in one_seed and not form.warnings

        # the fine-tune's memory and adapter size follow the batch and the rank, not only the model
        bigger = await _change(pilot, form, "a bigger batch and rank", batch_size="16", lora_r="64")
        assert _stage_line(bigger, "finetune") != _stage_line(one_seed, "finetune")
        assert "batch 16" in form.text() or "batch_size = 16" in form.text()
        await _change(pilot, form, "the first batch and rank", batch_size="4", lora_r="32")

        three_seeds = await _change(pilot, form, "the estimate for three seeds", seeds="0, 1, 2")
        assert three_seeds != one_seed
        units = [line for line in three_seeds.splitlines() if line.strip().startswith("finetune")]
        assert units and units[0].split()[1] == "6"  # 2 languages x 3 seeds

        # an 8B model exported at 16 bits on an 8 GB card does not fit: a warning before it is saved
        await _change(
            pilot, form, "the memory warning", models="meta-llama/Llama-3.1-8B-Instruct", quantizations="f16", gpu="8GB"
        )
        assert any("of VRAM" in w and "8GB" in w for w in form.warnings)
        assert "over VRAM" in form.estimate_text
