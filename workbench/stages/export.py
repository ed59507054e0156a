"""The ``export`` stage: every cell (the base included) as verified GGUF files with a manifest."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

from workbench import environment
from workbench import estimates as est
from workbench.cells import Cell, digest
from workbench.errors import WorkbenchError
from workbench.stages.base import Stage

if TYPE_CHECKING:
    from workbench.context import StageContext


class Export(Stage):
    name = "export"
    scope = "cell"
    needs = ("prepare", "align", "finetune")  # prepare: the cell rows its runs are recorded under
    runs_with_input = True  # on a cluster: on the worker that trained the weights it converts
    description = "merge, convert to GGUF, quantize, verify (the gate), write the manifest"

    def input_key(self, ctx: StageContext, cell: Cell) -> str:
        if cell.kind == "finetune":
            upstream = ctx.input_key("finetune", cell)
        else:
            upstream = ctx.artifacts.base_key(cell.model)
        return digest({"upstream": upstream, "export": ctx.recipe.export.model_dump(mode="json")})

    def run(self, ctx: StageContext, cell: Cell) -> dict:
        from workbench.engines import export as engine
        from workbench.engines.llamacpp import quiet
        from workbench.store import file_sha256

        quiet()
        art = ctx.artifacts
        out = art.cell_dir(cell.id)
        adapter = None
        if cell.kind == "finetune":
            adapter = art.adapter_dir(cell.id)
            if not (adapter / "adapter_config.json").is_file():
                raise WorkbenchError(
                    f"cell {cell.id}: no adapter to export ({adapter})", "run the finetune stage for this cell first"
                )
        base = art.study_base(cell.model)
        x = ctx.recipe.export
        result = engine.export_cell(
            base,
            adapter,
            out,
            cell.id.replace("/", "."),
            list(x.quantizations),
            keep_merged=x.keep_merged,
            min_agreement=x.min_agreement,
            report=ctx.reporter(self.name, cell),
        )
        files = {}
        for kind, path in result.files.items():
            sha = file_sha256(Path(path))
            ctx.db.add_artifact(
                kind="gguf",
                path=path,
                cell_id=cell.id,
                quantization=kind,
                sha256=sha,
                meta={"gate": asdict(result.gate)},
            )
            files[kind] = {"path": path, "sha256": sha}
        art.write_manifest(
            cell.id,
            {
                "cell": cell.id,
                "config": cell.config,
                "export": x.model_dump(mode="json"),
                "files": files,
                "gate": asdict(result.gate),
                "training": _trained(art.training_record(cell.id, cell.model, cell.kind)),
                "chat_template": base.chat_template,
                "versions": environment.package_versions(),
                "key": self.input_key(ctx, cell),
            },
        )
        return {"files": files, "gate": asdict(result.gate), "seconds": result.seconds}

    def estimate(self, recipe, cells, gpu):
        units = self.units(recipe, cells)
        params = est.params_by_model(recipe)
        bpp = sum(est.QUANT_BYTES_PER_PARAM[q] for q in recipe.export.quantizations)
        disk = est.total([(params[c.model] * bpp if params[c.model] else None) for c in units])
        secs = est.total(
            [
                (params[c.model] / est.REF_PARAMS * est.EXPORT_SECONDS_PER_REF_MODEL if params[c.model] else None)
                for c in units
            ]
        )
        merged = max(((params[c.model] or 0) * 4 for c in units), default=0)
        return est.Estimate(
            "export",
            len(units),
            secs,
            disk,
            merged + 1e9,
            "RAM",
            note="merged weights need ~4 bytes/param on disk while exporting",
        )


def _trained(record: dict | None) -> dict | None:
    """The manifest's summary of how the weights were trained (None: not trained here)."""
    if record is None:
        return None
    r = record.get("result", {})
    return {
        k: r.get(k)
        for k in ("precision", "backend", "load_in_4bit", "steps", "final_loss", "tokens_per_s", "padded_tokens")
    } | {"requested_precision": record.get("config", {}).get("precision", "auto")}


STAGE = Export()
