"""The ``finetune`` stage: one LoRA adapter per cell on the benign data of its fine-tune language.

A finished cell is never retrained unless its inputs change: the key hashes the cell's configuration,
its data file and the base it starts from. Interrupted training resumes from its last checkpoint.
"""

from __future__ import annotations

from workbench import data
from workbench.context import StageContext
from workbench.stages import common


def input_key(ctx: StageContext, cell_id: str) -> str:
    cell = common.cell_by_id(ctx, cell_id)
    return common.digest(
        {
            "cell": cell.config,
            "base": common.base_key(ctx, cell.model),
            "data": common.file_digest(ctx.models_dir / "data" / f"benign-{cell.finetune_lang}.jsonl"),
        }
    )


def train_config(ctx: StageContext, seed: int, epochs: int):
    from workbench.engines.training import TrainConfig

    t = ctx.recipe.training
    return TrainConfig(
        learning_rate=t.learning_rate,
        epochs=epochs,
        max_steps=t.max_steps,
        batch_size=t.batch_size,
        gradient_accumulation=t.gradient_accumulation,
        seed=seed,
        max_seq_length=t.max_seq_length,
        lora_r=t.lora.r,
        lora_alpha=t.lora.alpha,
        lora_dropout=t.lora.dropout,
        target_modules=t.lora.target_modules,
        warmup_steps=t.warmup_steps,
        lr_scheduler=t.lr_scheduler,
        weight_decay=t.weight_decay,
        save_every_steps=t.save_every_steps,
        backend=t.backend,
        load_in_4bit=t.load_in_4bit,
    )


def run(ctx: StageContext, cell_id: str) -> dict:
    from workbench.engines import training

    cell = common.cell_by_id(ctx, cell_id)
    rows = data.read_jsonl(common.data_file(ctx, f"benign-{cell.finetune_lang}.jsonl"))
    records = [{"prompt": r["instruction"], "response": r["response"]} for r in rows]
    base = common.study_base(ctx, cell.model)
    out = common.cell_dir(ctx, cell_id)
    result = training.train(
        base,
        records,
        train_config(ctx, cell.seed, cell.epochs),
        out,
        key=input_key(ctx, cell_id),
        emit=common.unit_emit(ctx, "finetune", cell_id),
    )
    ctx.db.add_artifact(
        kind="adapter",
        path=out / "adapter" / "adapter_model.safetensors",
        cell_id=cell_id,
        meta={"steps": result.steps, "final_loss": result.final_loss},
    )
    return {
        "steps": result.steps,
        "examples": result.examples,
        "final_loss": result.final_loss,
        "seconds": round(result.seconds, 1),
        "tokens_per_s": round(result.tokens_per_s, 1),
        "backend": result.backend,
        "peak_rss_bytes": result.peak_rss_bytes,
        "resumed_from": result.resumed_from,
    }
