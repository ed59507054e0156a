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
    return common.train_config(ctx, ctx.recipe.training, seed=seed, epochs=epochs)


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
    return result.summary()
