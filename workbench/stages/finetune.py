"""The ``finetune`` stage: one LoRA adapter per cell on the benign data of its fine-tune language.

A finished cell is never retrained unless its inputs change: the key hashes the cell's configuration,
its data file and the base it starts from. Interrupted training resumes from its last checkpoint.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from workbench import estimates as est
from workbench.artifacts import file_digest
from workbench.cells import Cell, digest
from workbench.modelshape import model_shape
from workbench.stages import common
from workbench.stages.base import Stage

if TYPE_CHECKING:
    from workbench.context import StageContext


class Finetune(Stage):
    name = "finetune"
    scope = "cell"
    needs = ("prepare", "align")
    description = "one LoRA adapter per fine-tune cell, on benign data in its language"

    def applies_to(self, cell: Cell, recipe) -> bool:
        return cell.kind == "finetune"

    def input_key(self, ctx: StageContext, cell: Cell) -> str:
        return digest(
            {
                "cell": cell.config,
                "base": ctx.artifacts.base_key(cell.model),
                "data": file_digest(ctx.artifacts.benign_path(cell.finetune_lang)),
            }
        )

    def run(self, ctx: StageContext, cell: Cell) -> dict:
        from workbench.engines import training

        art = ctx.artifacts
        records = [{"prompt": r["instruction"], "response": r["response"]} for r in art.benign(cell.finetune_lang)]
        base = art.study_base(cell.model)
        out = art.cell_dir(cell.id)
        result = training.train(
            base,
            records,
            common.train_config(ctx, ctx.recipe.training, seed=cell.seed, epochs=cell.epochs),
            out,
            key=self.input_key(ctx, cell),
            report=ctx.reporter(self.name, cell),
        )
        ctx.db.add_artifact(
            kind="adapter",
            path=art.adapter_dir(cell.id) / "adapter_model.safetensors",
            cell_id=cell.id,
            meta={"steps": result.steps, "final_loss": result.final_loss},
        )
        return result.summary()

    def estimate(self, recipe, cells, gpu):
        gpu = est.gpu_class(gpu)
        units = self.units(recipe, cells)
        params = est.params_by_model(recipe)
        shapes = {m.name: model_shape(m) for m in recipe.models}
        t = recipe.training
        data = common.data_counts(recipe)["benign"]
        mean, longest = est.train_seq_tokens(recipe.data.benign, t)
        secs, mems, adapters = [], [], []
        for c in units:
            p, shape = params[c.model], shapes.get(c.model)
            tokens = (
                t.max_steps * t.batch_size * t.gradient_accumulation * mean
                if t.max_steps
                else data.rows(c.finetune_lang) * (c.epochs or 1) * mean
            )
            factor = est.train_seconds_factor(p, shape, t)
            secs.append(tokens * factor / est.train_tokens_per_s(p, gpu) if p else None)
            mems.append(est.train_memory(p, gpu, shape, t, longest))
            lora = est.lora_params(shape, p, t.lora)
            adapters.append(None if lora is None else lora * 4)  # float32 safetensors
        memory = max((m or 0) for m in mems) if mems else 0
        shown = sorted(set(data.per_language.values()))
        per_lang = f"{shown[0]:,}" if len(shown) == 1 else f"{shown[0]:,}-{shown[-1]:,}"
        bits = "4-bit" if est.four_bit_planned(t, gpu) else ("16-bit" if gpu.is_gpu else "float32")
        setup = f"{bits} base, LoRA r={t.lora.r}, batch {t.batch_size}, sequences up to {longest} tokens"
        return est.Estimate(
            "finetune",
            len(units),
            est.total(secs),
            est.total(adapters),
            memory,
            gpu.memory_kind,
            note=(f"{t.max_steps} steps per cell" if t.max_steps else f"{per_lang} examples per language")
            + f"; {setup}",
            counts_from=data.source,
        )


STAGE = Finetune()
