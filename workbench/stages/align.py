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
    return common.train_config(ctx, ctx.recipe.align, seed=ctx.recipe.align.seed, epochs=ctx.recipe.align.epochs)


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
    return result.summary()
