"""The ``generate`` stage: every GGUF of the study answers every evaluation prompt, batched.

One unit per cell. The cell's GGUF (the recipe's ``[generation] quantization``, else the first
exported one) answers the prompts the ``prepare`` stage fixed for this recipe, in every evaluation
language, through :mod:`workbench.engines.generate`. Each response is committed as it finishes; its
identity is (prompt, cell, generation key), the key hashing the GGUF's sha256 and every setting that
changes the text. A rerun skips what is there, so a killed run loses at most the responses in flight.
"""

from __future__ import annotations

import json
import time

from workbench.context import StageContext
from workbench.errors import WorkbenchError
from workbench.stages import common

PARAMS = ("max_new_tokens", "temperature", "top_p", "seed", "system_prompt", "chat_template")


def gguf_for(ctx: StageContext, cell_id: str) -> dict:
    """The cell's GGUF as its export manifest records it: {"path", "sha256", "quantization"}."""
    manifest = common.cell_dir(ctx, cell_id) / "manifest.json"
    quant = ctx.recipe.generation.quantization or ctx.recipe.export.quantizations[0]
    if not manifest.is_file():
        raise WorkbenchError(
            f"cell {cell_id}: no exported GGUF ({manifest} is missing)", "run the export stage for this cell first"
        )
    files = json.loads(manifest.read_text(encoding="utf-8")).get("files", {})
    if quant not in files:
        raise WorkbenchError(
            f"cell {cell_id}: no {quant} GGUF in {manifest} (exported: {', '.join(files) or 'none'})",
            "set [generation] quantization to an exported one, or add it to [export] quantizations and rerun export",
        )
    return {**files[quant], "quantization": quant}


def generation_key(ctx: StageContext, cell_id: str, gguf_sha: str) -> str:
    g = ctx.recipe.generation
    spec = common.model_spec(ctx, common.cell_by_id(ctx, cell_id).model)
    blob = {k: getattr(g, k) for k in PARAMS}
    blob.update(gguf=gguf_sha, enable_thinking=spec.enable_thinking)
    return common.digest(blob)


def _prompt_ids(ctx: StageContext) -> list[str]:
    path = common.data_file(ctx, "evaluation.jsonl")
    langs = set(ctx.recipe.languages.evaluate)
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [r["id"] for r in rows if r["lang"] in langs]


def input_key(ctx: StageContext, cell_id: str) -> str:
    try:
        sha = gguf_for(ctx, cell_id)["sha256"]
    except WorkbenchError:
        sha = "missing"
    return common.digest(
        {
            "generation_key": generation_key(ctx, cell_id, sha),
            "prompts": common.file_digest(ctx.models_dir / "data" / "evaluation.jsonl"),
            "languages": ctx.recipe.languages.evaluate,
        }
    )


def parallel_sequences(ctx: StageContext) -> int:
    from workbench.engines.generate import default_parallel, gpu_offload_available

    p = ctx.recipe.generation.parallel_sequences
    return default_parallel(gpu_offload_available()) if p == "auto" else int(p)


def run(ctx: StageContext, cell_id: str) -> dict:
    from workbench.engines.generate import Engine, Request

    g = ctx.recipe.generation
    gguf = gguf_for(ctx, cell_id)
    key = generation_key(ctx, cell_id, gguf["sha256"])
    wanted = _prompt_ids(ctx)
    done = {
        r["prompt_id"]
        for r in ctx.db.query(
            "SELECT prompt_id FROM responses WHERE cell_id = ? AND generation_key = ?", [cell_id, key]
        )
    }
    todo = [pid for pid in wanted if pid not in done]
    total = len(wanted)
    unit_emit = common.unit_emit(ctx, "generate", cell_id)
    if not todo:
        return {"generation_key": key, "responses": total, "new": 0}
    texts = {
        p["id"]: p["text"]
        for p in ctx.db.query(f"SELECT id, text FROM prompts WHERE id IN ({', '.join('?' for _ in todo)})", todo)
    }
    missing = [pid for pid in todo if pid not in texts]
    if missing:
        raise WorkbenchError(
            f"cell {cell_id}: {len(missing)} evaluation prompts are not in the database (e.g. {missing[0]})",
            "rerun the prepare stage: `workbench run RECIPE --only prepare`",
        )
    spec = common.model_spec(ctx, common.cell_by_id(ctx, cell_id).model)
    artifact = ctx.db.query("SELECT id FROM artifacts WHERE sha256 = ? ORDER BY id DESC LIMIT 1", [gguf["sha256"]])
    artifact_id = next(iter(artifact), {}).get("id")
    par = parallel_sequences(ctx)
    started = time.perf_counter()
    generated = 0
    with Engine(gguf["path"], n_parallel=par, n_gpu_layers=g.n_gpu_layers, n_ctx_per_seq=g.n_ctx) as engine:
        kw = {"enable_thinking": spec.enable_thinking}
        requests = []
        for pid in todo:
            seed = None if g.temperature <= 0 else int(common.digest([g.seed, pid]), 16) % (2**31)
            tokens = engine.chat_tokens(texts[pid], system=g.system_prompt, template=g.chat_template, **kw)
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
        count = total - len(todo)
        unit_emit({"event": "gen_progress", "done": count, "total": total, "tokens_per_s": 0.0})
        last_emit = 0.0
        for res in engine.generate(requests):
            ctx.db.add_response(
                {
                    "prompt_id": res.key,
                    "cell_id": cell_id,
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
                rate = count - (total - len(todo))
                unit_emit(
                    {
                        "event": "gen_progress",
                        "done": count,
                        "total": total,
                        "tokens_per_s": generated / elapsed if elapsed > 0 else 0.0,
                        "elapsed": elapsed,
                        "eta": (total - count) * elapsed / rate if rate else None,
                    }
                )
    elapsed = time.perf_counter() - started
    return {
        "generation_key": key,
        "responses": total,
        "new": len(todo),
        "tokens": generated,
        "seconds": round(elapsed, 2),
        "tokens_per_s": round(generated / elapsed, 2) if elapsed > 0 else None,
        "parallel_sequences": par,
    }
