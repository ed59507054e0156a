"""Rough resource estimates: what each stage's ``estimate`` is built from.

Calibrated on measurements of the embedded model (docs/estimates.md) and scaled by parameter count;
they are meant to tell minutes from hours, not to schedule to the second. Each stage module turns
these into its own :class:`Estimate`; ``workbench plan`` lists them in registry order.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from workbench.recipe.models import ModelSpec, Recipe

EMBEDDED_PARAMS = {"gemma3-270m": 268e6}

# Calibration (embedded model, 2 CPU cores; see docs/estimates.md). Throughputs scale with 1/params.
REF_PARAMS = 268e6
CPU_TRAIN_TOKENS_S = 115.0  # LoRA fp32, batch 4 (~95 tokens/example): ~3.3 s/step, measured on the demo
CPU_GEN_TOKENS_S = 165.0  # llama.cpp, 16 sequences batched, Q8_0, AVX-512 build (measured on the demo)
GPU_TRAIN_TOKENS_S_1B = 8000.0  # Unsloth 4-bit LoRA on a consumer GPU, 1B model (order of magnitude)
GPU_GEN_TOKENS_S_1B = 3000.0  # llama.cpp with full offload, batched, 1B Q4_K_M
TOKENS_PER_EXAMPLE = 95  # shipped data in the Gemma 3 tokenizer, with the chat template
SHIPPED_ROWS = {"benign": 60, "adversarial": 45, "alignment": 80}
EXPORT_SECONDS_PER_REF_MODEL = 35.0  # merge + convert + quantize + gate, embedded model, measured
QUANT_BYTES_PER_PARAM = {
    "q4_k_m": 0.6,
    "q5_k_m": 0.7,
    "q6_k": 0.82,
    "q8_0": 1.07,
    "f16": 2.0,
    "bf16": 2.0,
    "f32": 4.0,
}


@dataclass
class Estimate:
    stage: str
    units: int
    seconds: float | None
    disk_bytes: float | None
    memory_bytes: float | None
    memory_kind: str  # "RAM" or "VRAM"
    note: str = ""


def model_params(m: ModelSpec) -> float | None:
    """Parameter count from the embedded table, a size in the hub id/name, or a local config.json."""
    if m.embedded:
        return EMBEDDED_PARAMS.get(m.embedded)
    name = (m.hub or str(m.path or "")).lower()
    match = re.search(r"(\d+(?:\.\d+)?)\s*([bm])(?![a-z])", name.split("/")[-1])
    if match:
        return float(match.group(1)) * (1e9 if match.group(2) == "b" else 1e6)
    if m.path and (Path(m.path) / "config.json").is_file():
        try:
            cfg = json.loads((Path(m.path) / "config.json").read_text())
            cfg = cfg.get("text_config", cfg)
            h, layers, vocab = cfg["hidden_size"], cfg["num_hidden_layers"], cfg["vocab_size"]
            inter = cfg.get("intermediate_size", 4 * h)
            return layers * (4 * h * h + 3 * h * inter) + vocab * h
        except (OSError, ValueError, KeyError):
            return None
    return None


def params_by_model(recipe: Recipe) -> dict[str, float | None]:
    """Parameter count per recipe model name (None where it cannot be told)."""
    return {m.name: model_params(m) for m in recipe.models}


def source_rows(src, default: int) -> int:
    """How many rows a data source will give: its limit, the shipped file's size, or ``default``."""
    if src.limit:
        return src.limit
    if src.shipped:
        return SHIPPED_ROWS.get(src.shipped, default)
    return default


def train_tokens_per_s(params: float, gpu: bool) -> float:
    return (GPU_TRAIN_TOKENS_S_1B * 1e9 / params) if gpu else (CPU_TRAIN_TOKENS_S * REF_PARAMS / params)


def gen_tokens_per_s(params: float, gpu: bool) -> float:
    return (GPU_GEN_TOKENS_S_1B * 1e9 / params) if gpu else (CPU_GEN_TOKENS_S * REF_PARAMS / params)


def train_memory(params: float | None, gpu: bool) -> float | None:
    """Peak memory of LoRA training: 4-bit weights on a GPU, float32 weights and activations on a CPU."""
    if params is None:
        return None
    return params * 0.75 + 1.5e9 if gpu else params * 12 + 1.5e9


def total(values) -> float | None:
    """The sum, or None when any part is unknown (an unknown part makes the whole unknown)."""
    values = list(values)
    return None if any(v is None for v in values) else sum(values)


def eval_prompts(recipe: Recipe) -> int:
    """Evaluation prompts over all evaluation languages."""
    return source_rows(recipe.data.evaluation, 440) * len(recipe.languages.evaluate)
