"""Human labels of the read layer: what people said about a study's current responses, with the judges'.

The labels the TUI's label screen saves (``comply``, ``refuse``, ``partial``, ``unclear``), one row per
(response, annotator), for **current** responses only (see :mod:`workbench.store.read`), each with
its prompt and the labels of the response's current judgments. ``workbench labels-export`` writes
these rows as a labelled set that ``workbench judge-eval`` reads. Functions take any ``db`` with
``query(sql, params)`` yielding dict rows.
"""

from __future__ import annotations

from typing import Any

from workbench.store.read import CURRENT_JUDGMENTS, CURRENT_RESPONSES


def annotators(db, study: int) -> list[str]:
    """People who labelled a current response of the study, sorted."""
    rows = db.query(
        f"""SELECT DISTINCT h.annotator FROM human_labels h JOIN responses r ON r.id = h.response_id
            {CURRENT_RESPONSES} JOIN cells c ON c.id = r.cell_id WHERE c.study_id = ? ORDER BY h.annotator""",
        [study],
    )
    return [r["annotator"] for r in rows]


def human_labels(db, study: int, *, annotator: str | None = None) -> list[dict[str, Any]]:
    """The human labels of the study's current responses (all annotators, or one), in response order.

    Each row: ``response_id``, ``annotator``, ``label`` (as the person gave it), ``note``,
    ``labelled_at``, ``cell_id``, ``model``, ``finetune_lang`` (None for a base cell), ``item_id``,
    ``lang`` (the prompt's), ``category``, ``prompt``, ``response`` (the text) and ``judges``:
    ``{judge: label}`` of the response's current judgments (empty when no judge is current).
    """
    clauses, args = ["c.study_id = ?"], [study]
    if annotator is not None:
        clauses.append("h.annotator = ?")
        args.append(annotator)
    where = " AND ".join(clauses)
    rows = list(
        db.query(
            f"""SELECT h.response_id, h.annotator, h.label, h.note, h.created_at AS labelled_at,
                       r.cell_id, c.model, c.finetune_lang, p.item_id, p.lang, p.category,
                       p.text AS prompt, r.text AS response
                FROM human_labels h JOIN responses r ON r.id = h.response_id {CURRENT_RESPONSES}
                JOIN cells c ON c.id = r.cell_id JOIN prompts p ON p.id = r.prompt_id
                WHERE {where} ORDER BY h.response_id, h.annotator""",
            args,
        )
    )
    judged: dict[int, dict[str, str]] = {}
    for j in db.query(
        f"""SELECT DISTINCT j.response_id, j.judge, j.label
            FROM human_labels h JOIN responses r ON r.id = h.response_id {CURRENT_RESPONSES}
            JOIN cells c ON c.id = r.cell_id
            JOIN judgments j ON j.response_id = r.id {CURRENT_JUDGMENTS}
            WHERE {where} ORDER BY j.response_id, j.judge""",
        args,
    ):
        judged.setdefault(j["response_id"], {})[j["judge"]] = j["label"]
    for row in rows:
        row["judges"] = judged.get(row["response_id"], {})
    return rows
