"""What the per-cell measurements share: a row per (cell, evaluation language) and the grouping of a
measurement's item rows (:func:`workbench.store.read.current_measure_rows`) by cell and language."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any


@dataclass
class CellLangRow:
    """The cell (model, fine-tune language or None for the base, seed, epochs) and evaluation language."""

    model: str
    finetune_lang: str | None  # None for the base model
    seed: int | None
    epochs: int | None
    eval_lang: str

    @property
    def is_base(self) -> bool:
        return self.finetune_lang is None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def group_items(items: list[dict[str, Any]]):
    """(per (cell, language): {item id: (value, n)}, per cell: its first row, per model: its base cell id)."""
    per: dict[tuple[str, str], dict[str, tuple[float, int]]] = {}
    cells: dict[str, dict[str, Any]] = {}
    for r in items:
        cells.setdefault(r["cell_id"], r)
        if r["lang"] is not None:
            per.setdefault((r["cell_id"], r["lang"]), {})[r["item_id"]] = (r["value"], r["n"])
    base_of = {c["model"]: cid for cid, c in cells.items() if c["kind"] == "base"}
    return per, cells, base_of


def languages(per: dict, cell_id: str, cell: dict[str, Any], eval_langs: list[str] | None) -> list[str]:
    """The languages a cell has rows in or could not measure (``missing``), within ``eval_langs``."""
    langs = sorted({lang for (cid, lang) in per if cid == cell_id} | set(json.loads(cell.get("missing") or "[]")))
    return langs if eval_langs is None else [lang for lang in langs if lang in eval_langs]
