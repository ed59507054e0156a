"""The cells of a study and the short, stable digests that key their work.

A *cell* is (base model, fine-tune language or none, seed, epochs). The base cell of each model is
the model as the study receives it (after ``align`` when the recipe asks for it); each fine-tune cell
is one LoRA adapter and one GGUF. This module sits below the stages and the store: everything that
names a cell or hashes a configuration imports it from here.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

from workbench.errors import WorkbenchError
from workbench.recipe.models import Recipe


def digest(obj) -> str:
    """A short, stable hash of JSON-serialisable data (cell configs, stage input keys)."""
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Cell:
    id: str
    model: str
    kind: str  # "base" or "finetune"
    finetune_lang: str | None = None
    seed: int | None = None
    epochs: int | None = None
    config: dict = field(default_factory=dict, compare=False, hash=False)

    @property
    def config_hash(self) -> str:
        return digest(self.config)

    def as_row(self) -> dict:
        return {
            "id": self.id,
            "model": self.model,
            "kind": self.kind,
            "finetune_lang": self.finetune_lang,
            "seed": self.seed,
            "epochs": self.epochs,
            "config": self.config,
            "config_hash": self.config_hash,
        }


def cells(recipe: Recipe) -> list[Cell]:
    """Every cell of the study: per model, the base cell then the fine-tune grid."""
    out: list[Cell] = []
    t = recipe.training
    for m in recipe.models:
        base_cfg = {"model": m.model_dump(mode="json")}
        if m.align:
            base_cfg["align"] = recipe.align.model_dump(mode="json")
            base_cfg["alignment_data"] = recipe.data.alignment.model_dump(mode="json")
            base_cfg["align_languages"] = recipe.align_languages()
        out.append(Cell(id=f"{m.name}/base", model=m.name, kind="base", config=base_cfg))
        for lang in recipe.languages.finetune:
            for seed in t.seeds:
                for epochs in t.epochs:
                    cfg = {
                        "base": base_cfg,
                        "finetune_lang": lang,
                        "seed": seed,
                        "epochs": epochs,
                        "training": t.model_dump(mode="json", exclude={"seeds", "epochs"}),
                        "benign_data": recipe.data.benign.model_dump(mode="json"),
                    }
                    out.append(
                        Cell(
                            id=f"{m.name}/{lang}/s{seed}-e{epochs}",
                            model=m.name,
                            kind="finetune",
                            finetune_lang=lang,
                            seed=seed,
                            epochs=epochs,
                            config=cfg,
                        )
                    )
    return out


def filter_cells(all_cells: list[Cell], pattern: str | None) -> list[Cell]:
    """Cells whose id matches any comma-separated glob (``gemma3-270m/es/*``) or equals a part of it."""
    if not pattern:
        return all_cells
    import fnmatch

    pats = [p.strip() for p in pattern.split(",") if p.strip()]
    return [c for c in all_cells if any(fnmatch.fnmatch(c.id, p) or p in c.id.split("/") for p in pats)]


def cell_by_id(recipe: Recipe, cell_id: str) -> Cell:
    """The cell called ``cell_id``; a clear error naming the study when there is none."""
    for c in cells(recipe):
        if c.id == cell_id:
            return c
    raise WorkbenchError(
        f"no cell {cell_id!r} in study {recipe.study.name!r}", "`workbench plan RECIPE` lists the cells"
    )
