"""A toy stage for the registry tests: one module, registered with one call.

It counts each cell's current responses per evaluation language and writes them to a JSON file in
the cell's folder, so a test can see it ran, was skipped when its inputs did not change, and ran
again when they did.
"""

from __future__ import annotations

from workbench import fsutil
from workbench.cells import Cell, digest
from workbench.estimates import Estimate
from workbench.stages.base import Stage
from workbench.store import read


class ResponseCount(Stage):
    name = "toy"
    scope = "cell"
    needs = ("generate",)
    description = "count each cell's current responses (a test stage)"

    def applies_to(self, cell: Cell, recipe) -> bool:
        return cell.kind == "finetune"

    def input_key(self, ctx, cell: Cell) -> str:
        gen = read.current_generation(ctx.db, cell.id)
        return digest({"generation": gen.generation_key if gen else None})

    def run(self, ctx, cell: Cell) -> dict:
        gen = read.current_generation(ctx.db, cell.id)
        if gen is None:
            from workbench.errors import WorkbenchError

            raise WorkbenchError(f"cell {cell.id}: no complete generation to count", "run generate first")
        rows = read.current_responses(ctx.db, cell.id)
        per_lang: dict[str, int] = {}
        for r in rows:
            per_lang[r["lang"]] = per_lang.get(r["lang"], 0) + 1
        fsutil.atomic_write_json(ctx.artifacts.cell_dir(cell.id) / "toy.json", per_lang)
        ctx.reporter(self.name, cell).progress(len(rows), len(rows), what="responses")
        return {"responses": per_lang}

    def estimate(self, recipe, cells, gpu) -> Estimate:
        return Estimate(self.name, len(self.units(recipe, cells)), 1.0, 1e3, 1e6, "RAM")


STAGE = ResponseCount()
