"""The ``align`` stage: teach a base model chat and refusals on the alignment mix (once per input).

Trains a LoRA adapter on the prepared alignment mix (helpful answers and refusals in English and every
evaluation language), merges it, and keeps the merged "aligned base" that the study's fine-tunes and
its base cell use. Reused while the base model, the align settings and the data are unchanged.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import TYPE_CHECKING

from workbench import estimates as est
from workbench.cells import Cell, digest
from workbench.modelshape import model_shape
from workbench.stages import common
from workbench.stages.base import Stage

if TYPE_CHECKING:
    from workbench.context import StageContext


class Align(Stage):
    name = "align"
    scope = "cell"
    needs = ("prepare",)
    description = "LoRA on the alignment mix, merged into the aligned base (models with align = true)"

    def applies_to(self, cell: Cell, recipe) -> bool:
        return cell.kind == "base" and next(m for m in recipe.models if m.name == cell.model).align

    def input_key(self, ctx: StageContext, cell: Cell) -> str:
        return digest(ctx.artifacts.base_key(cell.model))

    def run(self, ctx: StageContext, cell: Cell) -> dict:
        from workbench import fsutil
        from workbench.engines import export, training
        from workbench.engines.basemodel import BASE_MARKER

        art = ctx.artifacts
        key = self.input_key(ctx, cell)
        records = [{"prompt": r["prompt"], "response": r["response"]} for r in art.alignment()]
        base = art.raw_base(cell.model)
        work = art.align_work_dir(cell.model)
        a = ctx.recipe.align
        result = training.train(
            base,
            records,
            common.train_config(ctx, a, seed=a.seed, epochs=a.epochs),
            work,
            key=key,
            report=ctx.reporter(self.name, cell),
        )
        target = art.aligned_dir(cell.model)
        with fsutil.atomic_dir(target) as tmp:
            export.merge(base, work / "adapter", tmp)
            fsutil.atomic_write_json(
                tmp / BASE_MARKER, {"fingerprint": key, "family": base.family, "aligned_from": str(base.hf_dir)}
            )
        ctx.db.add_artifact(
            kind="adapter",
            path=work / "adapter" / "adapter_model.safetensors",
            cell_id=cell.id,
            meta={"stage": "align"},
        )
        ctx.db.add_artifact(kind="aligned_base", path=target / "model.safetensors", cell_id=cell.id, meta={"key": key})
        return result.summary()

    def estimate(self, recipe, cells, gpu):
        aligned = [m for m in recipe.models if m.align and any(c.model == m.name for c in self.units(recipe, cells))]
        if not aligned:
            return None
        gpu = est.gpu_class(gpu)
        params = est.params_by_model(recipe)
        a = recipe.align
        data = common.data_counts(recipe)["alignment"]
        # align shares [training]'s sequence length and 4-bit setting (common.train_config)
        settings = SimpleNamespace(
            batch_size=a.batch_size,
            lora=a.lora,
            max_seq_length=recipe.training.max_seq_length,
            load_in_4bit=recipe.training.load_in_4bit,
        )
        mean, longest = est.train_seq_tokens(recipe.data.alignment, settings)
        tokens = (
            a.max_steps * a.batch_size * a.gradient_accumulation * mean if a.max_steps else data.total * a.epochs * mean
        )
        secs, mems = [], []
        for m in aligned:
            p, shape = params[m.name], model_shape(m)
            secs.append(
                tokens * est.train_seconds_factor(p, shape, settings) / est.train_tokens_per_s(p, gpu) if p else None
            )
            mems.append(est.train_memory(p, gpu, shape, settings, longest) or 0)
        merged = est.total([(params[m.name] * 4 if params[m.name] else None) for m in aligned])
        memory = max(mems)
        return est.Estimate(
            "align",
            len(aligned),
            est.total(secs),
            merged,
            memory,
            gpu.memory_kind,
            note=f"{a.max_steps} steps" if a.max_steps else f"{data.total:,} alignment examples x {a.epochs} epochs",
            counts_from=data.source,
        )


STAGE = Align()
