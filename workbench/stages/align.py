"""The ``align`` stage: teach a base model chat and refusals on the alignment mix (once per input).

Trains a LoRA adapter on the prepared alignment mix (helpful answers and refusals in English and every
evaluation language), merges it, and keeps the merged "aligned base" that the study's fine-tunes and
its base cell use. Reused while the base model, the align settings and the data are unchanged.
"""

from __future__ import annotations

import os
import shutil

from workbench import data
from workbench.context import StageContext
from workbench.stages import common


def input_key(ctx: StageContext, cell_id: str) -> str:
    return common.digest(common.base_key(ctx, common.cell_by_id(ctx, cell_id).model))


def train_config(ctx: StageContext):
    from workbench.engines.training import TrainConfig

    a, t = ctx.recipe.align, ctx.recipe.training
    return TrainConfig(
        learning_rate=a.learning_rate,
        epochs=a.epochs,
        max_steps=a.max_steps,
        batch_size=a.batch_size,
        gradient_accumulation=a.gradient_accumulation,
        seed=a.seed,
        max_seq_length=t.max_seq_length,
        lora_r=a.lora.r,
        lora_alpha=a.lora.alpha,
        lora_dropout=a.lora.dropout,
        target_modules=a.lora.target_modules,
        warmup_steps=a.warmup_steps,
        lr_scheduler="cosine",
        save_every_steps=t.save_every_steps,
        backend=t.backend,
        load_in_4bit=t.load_in_4bit,
    )


def run(ctx: StageContext, cell_id: str) -> dict:
    from workbench.engines import export, training
    from workbench.engines.basemodel import BASE_MARKER

    cell = common.cell_by_id(ctx, cell_id)
    key = input_key(ctx, cell_id)
    rows = data.read_jsonl(common.data_file(ctx, "alignment.jsonl"))
    records = [{"prompt": r["prompt"], "response": r["response"]} for r in rows]
    base = common.raw_base(ctx, cell.model)
    work = common.cell_dir(ctx, cell_id) / "align"
    result = training.train(
        base, records, train_config(ctx), work, key=key, emit=common.unit_emit(ctx, "align", cell_id)
    )
    target = common.aligned_dir(ctx, cell.model)
    tmp = target.with_name(f".aligned.tmp{os.getpid()}")
    export.merge(base, work / "adapter", tmp)
    common.write_json_atomic(
        tmp / BASE_MARKER, {"fingerprint": key, "family": base.family, "aligned_from": str(base.hf_dir)}
    )
    shutil.rmtree(target, ignore_errors=True)
    os.replace(tmp, target)
    ctx.db.add_artifact(
        kind="adapter", path=work / "adapter" / "adapter_model.safetensors", cell_id=cell_id, meta={"stage": "align"}
    )
    ctx.db.add_artifact(kind="aligned_base", path=target / "model.safetensors", cell_id=cell_id, meta={"key": key})
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
