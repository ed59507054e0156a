"""The ``drift`` stage: how far fine-tuning moved the model's internal representation of each
evaluation prompt.

For each fine-tuned cell and each evaluation prompt (rendered with the chat template, as generation
sends it), llama.cpp pools the last layer's hidden states (after the output norm, mean over the
prompt's tokens) once with the cell's GGUF and once with its base's; the cosine distance between the
two (1 - cosine similarity) is one ``measurements`` row (``drift_cosine``), committed as it comes.
The base's pooled states are kept beside its GGUF (``drift-<key>.npy``, no pickle) so every fine-tune
of a model reads them once. Only the last layer is measured: llama.cpp exposes no other.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from workbench import estimates as est
from workbench.cells import Cell, digest
from workbench.errors import WorkbenchError
from workbench.fsutil import atomic_write
from workbench.stages import common
from workbench.stages.base import Stage
from workbench.store import read

if TYPE_CHECKING:
    from workbench.context import StageContext

MEASURE = "drift_cosine"


class Drift(Stage):
    name = "drift"
    scope = "cell"
    needs = ("prepare", "export")
    description = "cosine distance of each prompt's pooled last-layer state, fine-tuned vs base (llama.cpp)"

    def applies_to(self, cell: Cell, recipe) -> bool:
        return recipe.drift.enabled and cell.kind == "finetune"

    def input_key(self, ctx: StageContext, cell: Cell) -> str:
        art = ctx.artifacts
        return measure_key(ctx, cell, art.gguf_sha(cell.id), art.gguf_sha(f"{cell.model}/base"))

    def run(self, ctx: StageContext, cell: Cell) -> dict:
        import numpy as np

        from workbench.engines.generate import Engine

        art = ctx.artifacts
        base_id = f"{cell.model}/base"
        gguf, base_gguf = art.gguf(cell.id), art.gguf(base_id)
        key = measure_key(ctx, cell, gguf["sha256"], base_gguf["sha256"])
        wanted = _wanted(ctx)
        prompts = {p["id"]: p for p in read.prompts(ctx.db, ctx.study_id, wanted)}
        missing = [pid for pid in wanted if pid not in prompts]
        if missing:
            raise WorkbenchError(
                f"cell {cell.id}: {len(missing)} evaluation prompts are not in the database (e.g. {missing[0]})",
                "rerun the prepare stage: `workbench run RECIPE --only prepare`",
            )
        done = read.measured_items(ctx.db, cell.id, MEASURE, key)  # (lang, item id): ids repeat across languages
        todo = [pid for pid in wanted if (prompts[pid]["lang"], prompts[pid]["item_id"]) not in done]
        done = [pid for pid in wanted if pid not in set(todo)]
        report = ctx.reporter(self.name, cell)
        g = ctx.recipe.generation
        spec = art.model_spec(cell.model)
        started = time.perf_counter()

        def tokens(engine, pids):
            return [
                engine.chat_tokens(
                    prompts[p]["text"], system=g.system_prompt, template=g.chat_template,
                    enable_thinking=spec.enable_thinking,
                )
                for p in pids
            ]  # fmt: skip

        if todo:
            report.progress(len(done), len(wanted), what="prompts compared", rate=0.0)
            base_states = self._base_states(ctx, base_gguf, wanted, tokens, spec.enable_thinking)
            index = {pid: i for i, pid in enumerate(wanted)}
            with Engine(gguf["path"], n_parallel=1, n_gpu_layers=g.n_gpu_layers) as engine:
                for i in range(0, len(todo), 16):  # in chunks: each chunk's rows commit before the next
                    chunk = todo[i : i + 16]
                    mine = engine.pooled_states(tokens(engine, chunk))
                    for pid, state in zip(chunk, mine, strict=True):
                        base = base_states[index[pid]]
                        cos = float(state @ base / (np.linalg.norm(state) * np.linalg.norm(base)))
                        ctx.db.add_measurement(
                            {
                                "cell_id": cell.id,
                                "measure": MEASURE,
                                "measure_key": key,
                                "lang": prompts[pid]["lang"],
                                "item_id": prompts[pid]["item_id"],
                                "value": 1.0 - cos,
                                "n": 1,
                                "meta_json": {"prompt_id": pid},
                            }
                        )
                    elapsed = time.perf_counter() - started
                    n = len(done) + i + len(chunk)
                    report.progress(n, len(wanted), what="prompts compared", elapsed=elapsed)
        ctx.db.set_current_measurement(cell.id, MEASURE, key, len(wanted), [])
        return {"measure_key": key, "prompts": len(wanted), "new": len(todo), "base": base_id}

    @staticmethod
    def _base_states(ctx: StageContext, base_gguf: dict, wanted: list[str], tokens, enable_thinking: bool):
        """The base GGUF's pooled states of every wanted prompt, computed once per (base GGUF, prompts,
        rendering) and kept as a .npy beside it (loaded without pickle)."""
        import numpy as np

        from workbench.engines.generate import Engine

        g = ctx.recipe.generation
        cache_key = digest(
            [
                base_gguf["sha256"],
                wanted,
                ctx.artifacts.evaluation_digest(),
                g.system_prompt,
                g.chat_template,
                enable_thinking,
            ]
        )
        path = ctx.artifacts.root / "drift" / f"base-{cache_key}.npy"
        if path.is_file():
            try:
                states = np.load(path, allow_pickle=False)
                if states.shape[0] == len(wanted):
                    return states
            except (OSError, ValueError):
                pass  # a damaged cache file is computed again
        with Engine(base_gguf["path"], n_parallel=1, n_gpu_layers=g.n_gpu_layers) as engine:
            states = engine.pooled_states(tokens(engine, wanted))
        import io

        buf = io.BytesIO()
        np.save(buf, states, allow_pickle=False)
        atomic_write(path, buf.getvalue())
        return states

    def estimate(self, recipe, cells, gpu):
        units = self.units(recipe, cells)
        if not units:
            return None
        params = est.params_by_model(recipe)
        count = common.data_counts(recipe)["evaluation"]
        cap = recipe.drift.prompts_per_language
        prompts = sum(min(n, cap or n) for n in count.per_language.values())
        tokens = prompts * est.prompt_tokens(recipe) * 0.5  # prompts average about half the longest
        # two passes per prompt (the cell and its base, the base once per model); prompt processing runs
        # at ~4x generation's throughput
        secs = est.total(
            [2 * tokens / (4 * est.gen_tokens_per_s(params[c.model], gpu)) if params[c.model] else None for c in units]
        )
        return est.Estimate(
            "drift",
            len(units),
            secs,
            len(units) * prompts * 200.0,
            5e8,
            "RAM" if not est.gpu_class(gpu).is_gpu else "VRAM",
            note=f"{prompts:,} prompts per cell, each through the cell's and its base's GGUF",
        )


def _wanted(ctx: StageContext) -> list[str]:
    """The evaluation prompts compared: every one, or the first ``prompts_per_language`` of each language."""
    cap = ctx.recipe.drift.prompts_per_language
    ids = ctx.artifacts.evaluation_ids()
    if not cap:
        return ids
    seen: dict[str, int] = {}
    out = []
    for pid in ids:
        lang = pid.rsplit(":", 1)[1]
        seen[lang] = seen.get(lang, 0) + 1
        if seen[lang] <= cap:
            out.append(pid)
    return out


def measure_key(ctx: StageContext, cell: Cell, gguf_sha: str, base_sha: str) -> str:
    g = ctx.recipe.generation
    return digest(
        {
            "version": 1,
            "gguf": gguf_sha,
            "base": base_sha,
            "prompts": ctx.artifacts.evaluation_digest(),
            "per_language": ctx.recipe.drift.prompts_per_language,
            "system_prompt": g.system_prompt,
            "chat_template": g.chat_template,
            "enable_thinking": ctx.artifacts.model_spec(cell.model).enable_thinking,
        }
    )


STAGE = Drift()
