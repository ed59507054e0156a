"""The ``export`` stage: every cell (the base included) as verified GGUF files with a manifest."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

from workbench import environment
from workbench.context import StageContext
from workbench.errors import WorkbenchError
from workbench.stages import common, finetune


def input_key(ctx: StageContext, cell_id: str) -> str:
    cell = common.cell_by_id(ctx, cell_id)
    upstream = finetune.input_key(ctx, cell_id) if cell.kind == "finetune" else common.base_key(ctx, cell.model)
    return common.digest({"upstream": upstream, "export": ctx.recipe.export.model_dump(mode="json")})


def run(ctx: StageContext, cell_id: str) -> dict:
    from workbench.engines import export as engine
    from workbench.engines.llamacpp import quiet
    from workbench.store import file_sha256

    quiet()
    cell = common.cell_by_id(ctx, cell_id)
    out = common.cell_dir(ctx, cell_id)
    adapter = None
    if cell.kind == "finetune":
        adapter = out / "adapter"
        if not (adapter / "adapter_config.json").is_file():
            raise WorkbenchError(
                f"cell {cell_id}: no adapter to export ({adapter})", "run the finetune stage for this cell first"
            )
    base = common.study_base(ctx, cell.model)
    stem = cell_id.replace("/", ".")
    x = ctx.recipe.export
    result = engine.export_cell(
        base,
        adapter,
        out,
        stem,
        list(x.quantizations),
        keep_merged=x.keep_merged,
        min_agreement=x.min_agreement,
        emit=ctx.emit,
    )
    files = {}
    for kind, path in result.files.items():
        digest = file_sha256(Path(path))
        ctx.db.add_artifact(
            kind="gguf",
            path=path,
            cell_id=cell_id,
            quantization=kind,
            sha256=digest,
            meta={"gate": asdict(result.gate)},
        )
        files[kind] = {"path": path, "sha256": digest}
    common.write_json_atomic(
        out / "manifest.json",
        {
            "cell": cell_id,
            "config": cell.config,
            "export": x.model_dump(mode="json"),
            "files": files,
            "gate": asdict(result.gate),
            "chat_template": base.chat_template,
            "versions": environment.package_versions(),
            "key": input_key(ctx, cell_id),
        },
    )
    return {"files": files, "gate": asdict(result.gate)}
