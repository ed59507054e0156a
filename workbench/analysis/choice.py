"""Multiple-choice accuracy per (cell, evaluation language): the share of questions whose right option
letter the GGUF gives the highest probability (the choice stage's rows), with its Wilson 95% interval,
and for a fine-tuned cell the change against its base on the same questions, paired by item (Newcombe's
interval, the exact McNemar test). A language the question set lacks is a row with no numbers and a
note. Chance is 1 / the number of options (25% with four): read small models' numbers against it, and
against ``top_share``, how often the cell picked its favourite letter (a model that always says "A"
scores exactly the share of questions whose answer is A: 25% on the balanced shipped set)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from workbench.analysis.cellrows import CellLangRow

MEASURE = "choice_correct"
NOT_MEASURED = "not measured: the multiple-choice set has no questions in this language"
NO_BASE = "no base: the model's base cell has no multiple-choice measurement"


@dataclass
class ChoiceRow(CellLangRow):
    questions: int = 0
    correct: int = 0
    accuracy: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    paired_n: int = 0
    delta_vs_base: float | None = None
    delta_ci_low: float | None = None
    delta_ci_high: float | None = None
    p_value: float | None = None
    top_letter: str | None = None  # the option letter the cell picked most often in this language
    top_share: float | None = None  # ... and the share of the questions it picked it for
    cell: str = ""
    note: str = ""


def rows_from_items(items: list[dict[str, Any]], eval_langs=None, picked=None) -> list[ChoiceRow]:
    """``picked``: rows of (cell_id, lang, meta_value = letter, n) giving each cell's most picked letter."""
    from workbench.analysis.overrefusal import rows_from_items as binary_rows

    top: dict[tuple[str, str], tuple[str, float]] = {}
    totals: dict[tuple[str, str], int] = {}
    for p in picked or []:
        totals[(p["cell_id"], p["lang"])] = totals.get((p["cell_id"], p["lang"]), 0) + p["n"]
    for p in picked or []:
        key = (p["cell_id"], p["lang"])
        if key not in top or p["n"] / totals[key] > top[key][1]:
            top[key] = (p["meta_value"], p["n"] / totals[key])
    out = []
    for r in binary_rows({"": items}, eval_langs, not_measured=NOT_MEASURED, no_base=NO_BASE):
        out.append(
            ChoiceRow(
                r.model, r.finetune_lang, r.seed, r.epochs, r.eval_lang,
                questions=r.n, correct=r.refused, accuracy=r.rate, ci_low=r.ci_low, ci_high=r.ci_high,
                paired_n=r.paired_n, delta_vs_base=r.delta_vs_base, delta_ci_low=r.delta_ci_low,
                delta_ci_high=r.delta_ci_high, p_value=r.p_value, cell=r.cell, note=r.note,
                top_letter=top.get((r.cell, r.eval_lang), (None, None))[0],
                top_share=top.get((r.cell, r.eval_lang), (None, None))[1],
            )
        )  # fmt: skip
    return out


def compute(db, study_id: int, eval_langs=None) -> list[ChoiceRow]:
    from workbench.store import read

    return rows_from_items(
        read.current_measure_rows(db, study_id, MEASURE),
        eval_langs,
        picked=read.current_meta_counts(db, study_id, MEASURE, "picked"),
    )
