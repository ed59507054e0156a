"""The plan of a study: its cells and the stages each goes through, with rough resource estimates.

A *cell* is (base model, fine-tune language or none, seed, epochs). The base cell of each model is
the model as the study receives it (after ``align`` when the recipe asks for it); each fine-tune cell
is one LoRA adapter and one GGUF. Estimates are calibrated on measurements of the embedded model
(docs/estimates.md) and scaled by parameter count; they are meant to tell minutes from hours.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from workbench.recipe.models import ModelSpec, Recipe

STAGES = ("prepare", "align", "finetune", "export", "generate", "judge", "results")

EMBEDDED_PARAMS = {"gemma3-270m": 268e6}


def digest(obj) -> str:
    """A short, stable hash of JSON-serialisable data (cell configs, stage input keys)."""
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Cell:
    id: str
    model: str
    kind: str  # "base" or "finetune"
    finetune_lang: str | None = None
    seed: int | None = None
    epochs: int | None = None
    config: dict = field(default_factory=dict, compare=False, hash=False)

    @property
    def config_hash(self) -> str:
        return digest(self.config)

    def as_row(self) -> dict:
        return {
            "id": self.id,
            "model": self.model,
            "kind": self.kind,
            "finetune_lang": self.finetune_lang,
            "seed": self.seed,
            "epochs": self.epochs,
            "config": self.config,
            "config_hash": self.config_hash,
        }


def cells(recipe: Recipe) -> list[Cell]:
    """Every cell of the study: per model, the base cell then the fine-tune grid."""
    out: list[Cell] = []
    t = recipe.training
    for m in recipe.models:
        base_cfg = {"model": m.model_dump(mode="json")}
        if m.align:
            base_cfg["align"] = recipe.align.model_dump(mode="json")
            base_cfg["alignment_data"] = recipe.data.alignment.model_dump(mode="json")
            base_cfg["align_languages"] = recipe.align_languages()
        out.append(Cell(id=f"{m.name}/base", model=m.name, kind="base", config=base_cfg))
        for lang in recipe.languages.finetune:
            for seed in t.seeds:
                for epochs in t.epochs:
                    cfg = {
                        "base": base_cfg,
                        "finetune_lang": lang,
                        "seed": seed,
                        "epochs": epochs,
                        "training": t.model_dump(mode="json", exclude={"seeds", "epochs"}),
                        "benign_data": recipe.data.benign.model_dump(mode="json"),
                    }
                    out.append(
                        Cell(
                            id=f"{m.name}/{lang}/s{seed}-e{epochs}",
                            model=m.name,
                            kind="finetune",
                            finetune_lang=lang,
                            seed=seed,
                            epochs=epochs,
                            config=cfg,
                        )
                    )
    return out


def stages_of(cell: Cell, recipe: Recipe) -> list[str]:
    """The per-cell stages this cell goes through (``prepare`` and ``results`` are study-wide)."""
    model = next(m for m in recipe.models if m.name == cell.model)
    if cell.kind == "base":
        return (["align"] if model.align else []) + ["export", "generate", "judge"]
    return ["finetune", "export", "generate", "judge"]


def filter_cells(all_cells: list[Cell], pattern: str | None) -> list[Cell]:
    """Cells whose id matches any comma-separated glob (``gemma3-270m/es/*``) or equals a part of it."""
    if not pattern:
        return all_cells
    import fnmatch

    pats = [p.strip() for p in pattern.split(",") if p.strip()]
    return [c for c in all_cells if any(fnmatch.fnmatch(c.id, p) or p in c.id.split("/") for p in pats)]


# -- estimates -------------------------------------------------------------------------------------
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


@dataclass
class Estimate:
    stage: str
    units: int
    seconds: float | None
    disk_bytes: float | None
    memory_bytes: float | None
    memory_kind: str  # "RAM" or "VRAM"
    note: str = ""


# Calibration (embedded model, 2 CPU cores; see docs/estimates.md). Throughputs scale with 1/params.
_REF_PARAMS = 268e6
_CPU_TRAIN_TOKENS_S = 115.0  # LoRA fp32, batch 4 (~95 tokens/example): ~3.3 s/step, measured on the demo
_CPU_GEN_TOKENS_S = 165.0  # llama.cpp, 16 sequences batched, Q8_0, AVX-512 build (measured on the demo)
_GPU_TRAIN_TOKENS_S_1B = 8000.0  # Unsloth 4-bit LoRA on a consumer GPU, 1B model (order of magnitude)
_GPU_GEN_TOKENS_S_1B = 3000.0  # llama.cpp with full offload, batched, 1B Q4_K_M
_TOKENS_PER_EXAMPLE = 95  # shipped data in the Gemma 3 tokenizer, with the chat template
_SHIPPED_ROWS = {"benign": 60, "adversarial": 45, "alignment": 80}


def estimate(recipe: Recipe, gpu: bool, *, n_cells: int | None = None) -> list[Estimate]:
    """Rough time, disk and memory per stage for the whole study on this kind of machine."""
    all_cells = cells(recipe)
    finetune_cells = [c for c in all_cells if c.kind == "finetune"]
    per_model = {m.name: model_params(m) for m in recipe.models}
    out: list[Estimate] = [Estimate("prepare", 1, 5.0, 1e6, 5e8, "RAM")]

    def rows(src, shipped_default: int) -> int:
        if src.limit:
            return src.limit
        if src.shipped:
            return _SHIPPED_ROWS.get(src.shipped, shipped_default)
        return shipped_default

    def train_tps(p: float) -> float:
        return (_GPU_TRAIN_TOKENS_S_1B * 1e9 / p) if gpu else (_CPU_TRAIN_TOKENS_S * _REF_PARAMS / p)

    def gen_tps(p: float) -> float:
        return (_GPU_GEN_TOKENS_S_1B * 1e9 / p) if gpu else (_CPU_GEN_TOKENS_S * _REF_PARAMS / p)

    def total(values):
        return None if any(v is None for v in values) else sum(values)

    def train_mem(p: float | None) -> float | None:
        if p is None:
            return None
        return p * 0.75 + 1.5e9 if gpu else p * 12 + 1.5e9

    aligned = [m for m in recipe.models if m.align]
    if aligned:
        n_ex = rows(recipe.data.alignment, 80) * len(recipe.align_languages())
        if recipe.align.examples_per_language:
            n_ex = recipe.align.examples_per_language * len(recipe.align_languages())
        secs = []
        for m in aligned:
            p = per_model[m.name]
            tokens = (
                recipe.align.max_steps * recipe.align.batch_size * _TOKENS_PER_EXAMPLE
                if recipe.align.max_steps
                else n_ex * recipe.align.epochs * _TOKENS_PER_EXAMPLE
            )
            secs.append(tokens / train_tps(p) if p else None)
        merged = total([(per_model[m.name] * 4 if per_model[m.name] else None) for m in aligned])
        out.append(
            Estimate(
                "align",
                len(aligned),
                total(secs),
                merged,
                max((train_mem(per_model[m.name]) or 0) for m in aligned),
                "VRAM" if gpu else "RAM",
            )
        )

    t = recipe.training
    n_ex = t.examples_per_language or rows(recipe.data.benign, 1000)
    secs, mems = [], []
    for c in finetune_cells:
        p = per_model[c.model]
        tokens = (
            t.max_steps * t.batch_size * t.gradient_accumulation * _TOKENS_PER_EXAMPLE
            if t.max_steps
            else n_ex * (c.epochs or 1) * _TOKENS_PER_EXAMPLE
        )
        secs.append(tokens / train_tps(p) if p else None)
        mems.append(train_mem(p))
    adapter = total([(per_model[c.model] or 0) * 0.01 for c in finetune_cells])
    out.append(
        Estimate(
            "finetune",
            len(finetune_cells),
            total(secs),
            adapter,
            max((m or 0) for m in mems) if mems else 0,
            "VRAM" if gpu else "RAM",
        )
    )

    quant_bytes = {"q4_k_m": 0.6, "q5_k_m": 0.7, "q6_k": 0.82, "q8_0": 1.07, "f16": 2.0, "bf16": 2.0, "f32": 4.0}
    bpp = sum(quant_bytes[q] for q in recipe.export.quantizations)
    exported = [c for c in all_cells if "export" in stages_of(c, recipe)]
    disk = total([(per_model[c.model] * bpp if per_model[c.model] else None) for c in exported])
    secs = total([(per_model[c.model] / 268e6 * 35 if per_model[c.model] else None) for c in exported])
    merged = max(((per_model[c.model] or 0) * 4 for c in exported), default=0)
    out.append(
        Estimate(
            "export",
            len(exported),
            secs,
            disk,
            merged + 1e9,
            "RAM",
            note="merged weights need ~4 bytes/param on disk while exporting",
        )
    )

    n_prompts = rows(recipe.data.evaluation, 440) * len(recipe.languages.evaluate)
    g = recipe.generation
    secs = total(
        [(n_prompts * g.max_new_tokens / gen_tps(per_model[c.model]) if per_model[c.model] else None) for c in exported]
    )
    out.append(
        Estimate(
            "generate",
            len(exported) * n_prompts,
            secs,
            len(exported) * n_prompts * 2000.0,
            max(((per_model[c.model] or 0) * 0.7 + 5e8) for c in exported) if exported else 0,
            "VRAM" if gpu else "RAM",
        )
    )
    n_resp = len(exported) * n_prompts
    llm_judges = [j for j in recipe.judges if j.kind == "llm"]
    out.append(
        Estimate(
            "judge",
            n_resp * len(recipe.judges),
            n_resp * (0.002 + 0.5 * len(llm_judges)),
            n_resp * len(recipe.judges) * 500.0,
            5e8 + 1.5e9 * len(llm_judges),
            "RAM",
        )
    )
    out.append(Estimate("results", 1, 2.0, 1e5, 2e8, "RAM"))
    return out
