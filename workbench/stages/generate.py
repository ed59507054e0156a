"""The ``generate`` stage: every GGUF of the study answers every evaluation prompt, batched.

One unit per cell. The cell's GGUF (``ctx.artifacts.gguf``) answers the prompts the ``prepare``
stage fixed for this recipe, in every evaluation language, through :mod:`workbench.engines.generate`.
Each response is committed as it finishes; its identity is (prompt, cell, generation key), the key
hashing the GGUF's sha256 and every setting that changes the text. A rerun skips what is there, so
a killed run loses at most the responses in flight. Once every prompt is answered, the generation is
recorded as the cell's current one: only then do results, labelling and compare read it.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from workbench import estimates as est
from workbench.cells import Cell, digest
from workbench.errors import WorkbenchError
from workbench.modelshape import kv_cache_bytes, model_shape
from workbench.stages import common
from workbench.stages.base import Stage
from workbench.store import read

if TYPE_CHECKING:
    from workbench.context import StageContext

PARAMS = ("max_new_tokens", "temperature", "top_p", "seed", "system_prompt", "chat_template")


def settings_key(ctx: StageContext, cell: Cell) -> str:
    """The generation settings alone (the GGUF's quantization included, not the GGUF itself): a
    fine-tuned cell is compared with its base only when theirs are equal."""
    g = ctx.recipe.generation
    spec = ctx.artifacts.model_spec(cell.model)
    quantization = g.quantization or ctx.recipe.export.quantizations[0]
    return digest(
        {**{k: getattr(g, k) for k in PARAMS}, "enable_thinking": spec.enable_thinking, "quantization": quantization}
    )


def generation_key(ctx: StageContext, cell: Cell, gguf_sha: str) -> str:
    """The identity of a generation: the settings and the GGUF that answered."""
    g = ctx.recipe.generation
    spec = ctx.artifacts.model_spec(cell.model)
    blob = {k: getattr(g, k) for k in PARAMS}
    blob.update(gguf=gguf_sha, enable_thinking=spec.enable_thinking)
    return digest(blob)


class Generate(Stage):
    name = "generate"
    scope = "cell"
    needs = ("prepare", "translate", "export")
    description = "every GGUF answers every evaluation prompt (llama.cpp, batched)"

    def input_key(self, ctx: StageContext, cell: Cell) -> str:
        return digest(
            {
                "version": 2,  # 2: records the complete generation as the cell's current one
                "generation_key": generation_key(ctx, cell, ctx.artifacts.gguf_sha(cell.id)),
                "prompts": ctx.artifacts.evaluation_digest(),
                "languages": ctx.recipe.languages.evaluate,
            }
        )

    def run(self, ctx: StageContext, cell: Cell) -> dict:
        gguf = ctx.artifacts.gguf(cell.id)
        key = generation_key(ctx, cell, gguf["sha256"])
        wanted = ctx.artifacts.evaluation_ids()
        done = read.answered_prompt_ids(ctx.db, cell.id, key)
        todo = [pid for pid in wanted if pid not in done]
        summary = {"generation_key": key, "responses": len(wanted), "new": len(todo)}
        if todo:
            summary.update(self._generate(ctx, cell, gguf, key, todo, len(wanted)))
        ctx.db.set_current_generation(cell.id, key, settings_key(ctx, cell), wanted)
        return summary

    def _generate(self, ctx: StageContext, cell: Cell, gguf: dict, key: str, todo: list[str], total: int) -> dict:
        from workbench.engines.generate import Engine, Request

        g = ctx.recipe.generation
        texts = {p["id"]: p["text"] for p in read.prompts(ctx.db, ctx.study_id, todo)}
        missing = [pid for pid in todo if pid not in texts]
        if missing:
            raise WorkbenchError(
                f"cell {cell.id}: {len(missing)} evaluation prompts are not in the database (e.g. {missing[0]})",
                "rerun the prepare stage: `workbench run RECIPE --only prepare`",
            )
        spec = ctx.artifacts.model_spec(cell.model)
        artifact_id = read.artifact_id(ctx.db, gguf["sha256"])
        report = ctx.reporter(self.name, cell)
        par = common.parallel_sequences(ctx, gguf["path"])
        started = time.perf_counter()
        generated = 0
        with Engine(gguf["path"], n_parallel=par, n_gpu_layers=g.n_gpu_layers, n_ctx_per_seq=g.n_ctx) as engine:
            requests = []
            for pid in todo:
                seed = None if g.temperature <= 0 else int(digest([g.seed, pid]), 16) % (2**31)
                tokens = engine.chat_tokens(
                    texts[pid], system=g.system_prompt, template=g.chat_template, enable_thinking=spec.enable_thinking
                )
                requests.append(Request(pid, tokens, g.max_new_tokens, g.temperature, g.top_p, seed))
            params = {
                "quantization": gguf["quantization"],
                "parallel_sequences": par,
                "n_gpu_layers": engine.n_gpu_layers,
                "enable_thinking": spec.enable_thinking,
                "chat_template": "recipe" if g.chat_template else "gguf",
                "gguf_sha256": gguf["sha256"],
            }
            seeds = {r.key: r.seed for r in requests}
            first = count = total - len(todo)
            report.progress(count, total, what="responses", rate=0.0)
            last_emit = 0.0
            for res in engine.generate(requests):
                ctx.db.add_response(
                    {
                        "prompt_id": res.key,
                        "cell_id": cell.id,
                        "artifact_id": artifact_id,
                        "generation_key": key,
                        "text": res.text,
                        "system_prompt": g.system_prompt,
                        "temperature": g.temperature,
                        "top_p": g.top_p,
                        "seed": seeds[res.key],
                        "max_new_tokens": g.max_new_tokens,
                        "params_json": params,
                        "prompt_tokens": res.prompt_tokens,
                        "completion_tokens": res.completion_tokens,
                        "ttft_ms": round(res.ttft_ms, 2),
                        "tokens_per_s": round(res.tokens_per_s, 2),
                        "total_ms": round(res.total_ms, 2),
                        "finish_reason": res.finish_reason,
                    }
                )
                count += 1
                generated += res.completion_tokens
                now = time.perf_counter()
                if now - last_emit > 0.5 or count == total:
                    last_emit = now
                    elapsed = now - started
                    report.progress(
                        count,
                        total,
                        what="responses",
                        rate=generated / elapsed if elapsed > 0 else 0.0,
                        elapsed=elapsed,
                        eta=(total - count) * elapsed / (count - first) if count > first else None,
                    )
        elapsed = time.perf_counter() - started
        return {
            "tokens": generated,
            "seconds": round(elapsed, 2),
            "tokens_per_s": round(generated / elapsed, 2) if elapsed > 0 else None,
            "parallel_sequences": par,
        }

    def estimate(self, recipe, cells, gpu):
        gpu = est.gpu_class(gpu)
        units = self.units(recipe, cells)
        params = est.params_by_model(recipe)
        data = common.data_counts(recipe)["evaluation"]
        n_prompts = data.total
        g = recipe.generation
        secs = est.total(
            [
                (n_prompts * g.max_new_tokens / est.gen_tokens_per_s(params[c.model], gpu) if params[c.model] else None)
                for c in units
            ]
        )
        memory, kv_note = self._memory(recipe, {c.model for c in units}, params, gpu)
        return est.Estimate(
            "generate",
            len(units) * n_prompts,
            secs,
            len(units) * n_prompts * 2000.0,
            memory,
            gpu.memory_kind,
            note=kv_note,
            counts_from=data.source,
        )

    @staticmethod
    def _memory(recipe, models: set[str], params: dict, gpu) -> tuple[float, str]:
        """The largest model's GGUF weights, its KV cache for every parallel sequence, and ~0.5 GB of
        buffers; with a note saying what the KV cache was counted for (or that it was not)."""
        g = recipe.generation
        quant = g.quantization or recipe.export.quantizations[0]
        par = common.planned_parallel(recipe, gpu)
        per_seq = g.n_ctx or est.prompt_tokens(recipe) + g.max_new_tokens
        peak, largest_kv, unknown = 0.0, 0.0, []
        for m in (m for m in recipe.models if m.name in models):
            kv = kv_cache_bytes(model_shape(m), per_seq, par)
            weights = (params[m.name] or 0) * est.QUANT_BYTES_PER_PARAM.get(quant, 0.7)
            peak = max(peak, weights + (kv or 0) + 5e8)
            if kv is None:
                unknown.append(m.name)
            largest_kv = max(largest_kv, kv or 0)
        notes = []
        if largest_kv:
            notes.append(
                f"KV cache {'up to ' if len(models) > 1 else ''}{_size(largest_kv)} ({par} x {per_seq:,} tokens)"
            )
        if unknown:
            which = unknown[0] if len(unknown) == 1 else f"{len(unknown)} models"
            notes.append(f"KV cache of {which} not counted (shape unknown until downloaded)")
        return peak, "; ".join(notes)


def _size(n: float) -> str:
    return f"~{n / 1e9:.1f} GB" if n >= 1e9 else f"~{n / 1e6:.0f} MB"


STAGE = Generate()
