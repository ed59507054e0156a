"""What the model stages share: finding cells, base models, prepared data and artifact folders."""

from __future__ import annotations

import json
import os
from pathlib import Path

from workbench.context import StageContext
from workbench.engines.basemodel import BaseModel, resolve
from workbench.errors import WorkbenchError
from workbench.plan import Cell, cells, digest  # noqa: F401  (digest is used by the stages)
from workbench.recipe.models import ModelSpec


def file_digest(path: Path) -> str:
    from workbench.store import file_sha256

    return file_sha256(path)[:16] if path.is_file() else "missing"


def cell_by_id(ctx: StageContext, cell_id: str) -> Cell:
    for c in cells(ctx.recipe):
        if c.id == cell_id:
            return c
    raise WorkbenchError(f"no cell {cell_id!r} in study {ctx.study!r}", "`workbench plan RECIPE` lists the cells")


def model_spec(ctx: StageContext, name: str) -> ModelSpec:
    return next(m for m in ctx.recipe.models if m.name == name)


def cell_dir(ctx: StageContext, cell_id: str) -> Path:
    return ctx.models_dir / cell_id


def data_file(ctx: StageContext, name: str) -> Path:
    path = ctx.models_dir / "data" / name
    if not path.is_file():
        raise WorkbenchError(
            f"{path} is missing: the prepare stage has not run for this recipe",
            "run `workbench run RECIPE --only prepare` (or the whole plan)",
        )
    return path


def raw_base(ctx: StageContext, name: str) -> BaseModel:
    """The model as the recipe names it (downloaded or converted once, cached)."""
    return resolve(
        model_spec(ctx, name), allow_downloads=ctx.allow_downloads or ctx.recipe.study.allow_downloads, log=ctx.log
    )


def aligned_dir(ctx: StageContext, name: str) -> Path:
    return cell_dir(ctx, f"{name}/base") / "aligned"


def study_base(ctx: StageContext, name: str) -> BaseModel:
    """The base the study treats as its model: the aligned base when the recipe aligns it."""
    spec = model_spec(ctx, name)
    base = raw_base(ctx, name)
    if not spec.align:
        return base
    folder = aligned_dir(ctx, name)
    if not (folder / "config.json").is_file():
        raise WorkbenchError(
            f"model {name!r} has align = true but its aligned base is missing ({folder})",
            "run the align stage first: `workbench run RECIPE --only align`",
        )
    return BaseModel(name, base.family, folder, base.chat_template, base.source_gguf, base.enable_thinking)


def base_key(ctx: StageContext, name: str) -> dict:
    """What determines the study base's weights, without loading anything heavy."""
    spec = model_spec(ctx, name)
    key = {"model": spec.model_dump(mode="json")}
    if spec.align:
        key["align"] = ctx.recipe.align.model_dump(mode="json")
        key["alignment_data"] = file_digest(ctx.models_dir / "data" / "alignment.jsonl")
    return key


def train_config(ctx: StageContext, settings, *, seed: int, epochs: int):
    """A TrainConfig from ``[training]`` or ``[align]`` settings (both share the LoRA and loop keys);
    sequence length, checkpoint interval and backend always come from ``[training]``."""
    from workbench.engines.training import TrainConfig

    t = ctx.recipe.training
    return TrainConfig(
        learning_rate=settings.learning_rate,
        epochs=epochs,
        max_steps=settings.max_steps,
        batch_size=settings.batch_size,
        gradient_accumulation=settings.gradient_accumulation,
        seed=seed,
        max_seq_length=t.max_seq_length,
        lora_r=settings.lora.r,
        lora_alpha=settings.lora.alpha,
        lora_dropout=settings.lora.dropout,
        target_modules=settings.lora.target_modules,
        warmup_steps=settings.warmup_steps,
        lr_scheduler=getattr(settings, "lr_scheduler", "cosine"),
        weight_decay=getattr(settings, "weight_decay", 0.0),
        save_every_steps=t.save_every_steps,
        backend=t.backend,
        load_in_4bit=t.load_in_4bit,
    )


def write_json_atomic(path: Path, obj) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    tmp.write_text(json.dumps(obj, indent=1, default=str, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, path)


def unit_emit(ctx: StageContext, stage: str, unit: str):
    """An emit function that tags training events with the stage and unit."""

    def emit(event: dict) -> None:
        ctx.emit({**event, "stage": stage, "unit": unit})

    return emit
