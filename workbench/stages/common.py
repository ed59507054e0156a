"""What stages share: a training configuration from recipe settings (align, finetune), the parallel
sequences of generation and judging, and what their estimates read (data counts, planned parallelism)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from workbench.context import StageContext
    from workbench.estimates import DataCount, GpuClass
    from workbench.recipe.models import Recipe


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
        precision=t.precision,
        group_by_length=t.group_by_length,
    )


def parallel_sequences(ctx: StageContext, gguf: str | None = None) -> int:
    """The recipe's ``[generation] parallel_sequences``, with ``auto`` resolved for this machine: by a
    short calibration on ``gguf`` (cached per model and machine, :mod:`workbench.engines.calibrate`)
    when the caller generates with it, else the measured default (LLM judges, translators)."""
    from workbench.engines.generate import gpu_offload_available
    from workbench.estimates import default_parallel

    g = ctx.recipe.generation
    if g.parallel_sequences != "auto":
        return int(g.parallel_sequences)
    gpu = gpu_offload_available() and g.n_gpu_layers != 0
    if gguf is None:
        return default_parallel(gpu)
    from workbench.engines import calibrate

    return calibrate.parallel_for(gguf, gpu=gpu, n_gpu_layers=g.n_gpu_layers, log=ctx.log)


def data_counts(recipe: Recipe) -> dict[str, DataCount]:
    """The rows the stages will read, per kind (:func:`workbench.estimates.data_counts`): the prepared
    files of the study once ``prepare`` has run, else the sources."""
    from workbench import estimates, paths
    from workbench.artifacts import Artifacts

    return estimates.data_counts(recipe, Artifacts(recipe, paths.study_models_dir(recipe.study.name)))


def planned_parallel(recipe: Recipe, gpu: GpuClass) -> int:
    """``[generation] parallel_sequences`` as a run on a machine of class ``gpu`` would resolve ``auto``."""
    from workbench.estimates import default_parallel

    p = recipe.generation.parallel_sequences
    return default_parallel(gpu.is_gpu) if p == "auto" else int(p)


def scoring_estimate(stage: str, recipe, units, gpu, kind: str, tokens_per_item: int, what: str):
    """The estimate of a stage that scores a data set's items with each cell's GGUF (prompt processing,
    one sequence: about 4x the generation throughput): ``kind`` names the data count."""
    from workbench import estimates as est

    if not units:
        return None
    params = est.params_by_model(recipe)
    data = data_counts(recipe).get(kind)
    per_cell = data.total if data is not None else 0
    tokens = per_cell * tokens_per_item
    secs = est.total(
        [tokens / (4 * est.gen_tokens_per_s(params[c.model], gpu)) if params[c.model] else None for c in units]
    )
    return est.Estimate(
        stage,
        len(units),
        secs,
        len(units) * per_cell * 200.0,
        5e8,
        "RAM" if not est.gpu_class(gpu).is_gpu else "VRAM",
        note=f"{per_cell:,} {what} per cell",
        counts_from=data.source if data is not None else "",
    )


def scoring_key(ctx: StageContext, cell, gguf_sha: str, data: dict[str, Any]) -> str:
    """What a scored item depends on: the GGUF, the prompt's rendering and ``data`` (the data file's
    digest, the stage's version and anything else of its own)."""
    from workbench.cells import digest

    g = ctx.recipe.generation
    return digest(
        {
            **data,
            "gguf": gguf_sha,
            "system_prompt": g.system_prompt,
            "chat_template": g.chat_template,
            "enable_thinking": ctx.artifacts.model_spec(cell.model).enable_thinking,
        }
    )
