"""Browsing queries of the read layer: response lists, one response in full, compare, the label queue.

Only **current** responses appear (see :mod:`workbench.store.read`), with their current judgments.
Lists that can be long (a cell's responses, the labelling queue) are read as ids first, then their
rows a page at a time by primary key, so a virtualised table only ever reads what it shows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from workbench.store.read import CURRENT_JUDGMENTS, CURRENT_RESPONSES, scalar


def study_summary(db, study: int) -> dict[str, int]:
    """Counts shown on the studies screen (current responses; labels of this study's responses)."""
    return {
        "cells": scalar(db, "SELECT count(*) FROM cells WHERE study_id = ?", [study]) or 0,
        "prompts": scalar(db, "SELECT count(*) FROM prompts WHERE study_id = ?", [study]) or 0,
        "responses": _count_current(db, study),
        "labels": scalar(
            db,
            f"""SELECT count(*) FROM human_labels h JOIN responses r ON r.id = h.response_id {CURRENT_RESPONSES}
                JOIN cells c ON c.id = r.cell_id WHERE c.study_id = ?""",
            [study],
        )
        or 0,
    }


def _count_current(db, study: int) -> int:
    return (
        scalar(
            db,
            f"""SELECT count(*) FROM responses r {CURRENT_RESPONSES} JOIN cells c ON c.id = r.cell_id
                WHERE c.study_id = ?""",
            [study],
        )
        or 0
    )


def _equal(**columns: Any) -> tuple[list[str], list[Any]]:
    """SQL clauses ``column = ?`` (and their arguments) for the filters that are set."""
    named = {k.replace("__", "."): v for k, v in columns.items() if v}
    return [f"{column} = ?" for column in named], list(named.values())


def _current_judgment_exists(condition: str) -> str:
    """SQL: some current judgment ``j`` of response ``r`` meets ``condition``."""
    return f"EXISTS (SELECT 1 FROM judgments j {CURRENT_JUDGMENTS} WHERE j.response_id = r.id AND {condition})"


# -- a cell's responses (virtualised list) -----------------------------------------------------------
@dataclass
class ResponseFilter:
    cell_id: str | None = None
    eval_lang: str | None = None
    category: str | None = None
    judge: str | None = None
    judge_label: str | None = None

    def sql(self) -> tuple[str, list[Any]]:
        clauses, args = _equal(r__cell_id=self.cell_id, p__lang=self.eval_lang, p__category=self.category)
        if self.judge_label and self.judge:
            clauses.append(_current_judgment_exists("j.judge = ? AND j.label = ?"))
            args += [self.judge, self.judge_label]
        return (" AND ".join(clauses) or "1"), args


def response_ids(db, flt: ResponseFilter) -> list[int]:
    """The ids of the current responses a filter selects, in prompt order (uses idx_responses_cell)."""
    where, args = flt.sql()
    rows = db.query(
        f"""SELECT r.id FROM responses r {CURRENT_RESPONSES} JOIN prompts p ON p.id = r.prompt_id
            WHERE {where} ORDER BY r.prompt_id""",
        args,
    )
    return [r["id"] for r in rows]


RESPONSE_COLUMNS = ("id", "item", "lang", "category", "judges", "humans", "response")


def response_rows(db, ids: Sequence[int]) -> dict[int, tuple]:
    """One display row per response id (primary-key lookups only), keyed by id."""
    if not ids:
        return {}
    marks = ", ".join("?" for _ in ids)
    rows = db.query(
        f"""SELECT r.id, p.item_id, p.lang, coalesce(p.category, '') AS category,
                   (SELECT group_concat(j.judge || '=' || j.label, ' ') FROM judgments j {CURRENT_JUDGMENTS}
                     WHERE j.response_id = r.id) AS judges,
                   (SELECT group_concat(h.annotator || '=' || h.label, ' ') FROM human_labels h
                     WHERE h.response_id = r.id) AS humans,
                   replace(substr(r.text, 1, 200), char(10), ' ') AS response
            FROM responses r JOIN prompts p ON p.id = r.prompt_id WHERE r.id IN ({marks})""",
        list(ids),
    )
    return {r["id"]: tuple(x if x is not None else "" for x in r.values()) for r in rows}


# -- one response in full, with its context ----------------------------------------------------------
@dataclass
class ResponseDetail:
    id: int
    cell_id: str
    model: str
    kind: str
    finetune_lang: str | None
    item_id: str
    lang: str
    category: str | None
    prompt: str
    text: str
    finish_reason: str
    judgments: list[dict[str, Any]] = field(default_factory=list)
    human_labels: list[dict[str, Any]] = field(default_factory=list)
    english: str | None = None  # the newest translation into English (backtranslate stage), if any
    english_flags: list[str] = field(default_factory=list)

    def english_line(self) -> str | None:
        """The back-translation as the views show it, with its flags ("failed: ..." when unusable)."""
        if self.english is None:
            return None
        from workbench.translation_flags import failed as failed_flags

        failed = failed_flags(self.english_flags)
        note = f" [failed: {', '.join(failed)}; judges that read English abstain]" if failed else ""
        return f"English (back-translation){note}: {self.english}"

    def looks_unsafe(self) -> bool:
        """Whether any judge or person said it complied (classroom mode hides such text)."""
        return any(j["label"] == "comply" for j in self.judgments) or any(
            h["label"] in ("comply", "partial") for h in self.human_labels
        )


def response_details(db, ids: Sequence[int]) -> list[ResponseDetail]:
    """Responses in full with their prompt, current judgments and human labels, in the order of ``ids``."""
    if not ids:
        return []
    marks = ", ".join("?" for _ in ids)
    base = {
        r["id"]: ResponseDetail(**r)
        for r in db.query(
            f"""SELECT r.id, r.cell_id, c.model, c.kind, c.finetune_lang, p.item_id, p.lang, p.category,
                       p.text AS prompt, r.text, r.finish_reason
                FROM responses r JOIN cells c ON c.id = r.cell_id JOIN prompts p ON p.id = r.prompt_id
                WHERE r.id IN ({marks})""",
            list(ids),
        )
    }
    for j in db.query(
        f"""SELECT j.response_id, j.judge, j.label, j.score FROM judgments j JOIN responses r ON r.id = j.response_id
            {CURRENT_JUDGMENTS} WHERE j.response_id IN ({marks}) ORDER BY j.judge""",
        list(ids),
    ):
        base[j["response_id"]].judgments.append(j)
    for h in db.query(
        f"""SELECT response_id, annotator, label, note FROM human_labels WHERE response_id IN ({marks})
            ORDER BY annotator""",
        list(ids),
    ):
        base[h["response_id"]].human_labels.append(h)
    _add_english(db, list(base.values()))
    return [base[i] for i in ids if i in base]


def _add_english(db, details: list[ResponseDetail]) -> None:
    """Each non-English response's newest English translation (any translator), with its flags."""
    import json

    from workbench.store.db import text_sha

    wanted: dict[str, list[ResponseDetail]] = {}
    for d in details:
        if d.lang != "en":
            wanted.setdefault(text_sha(d.text), []).append(d)
    if not wanted or not scalar(db, "SELECT count(*) FROM sqlite_master WHERE name = 'translations'"):
        return
    marks = ", ".join("?" for _ in wanted)
    for t in db.query(
        f"""SELECT text_sha, source_lang, text, flags_json FROM translations
            WHERE target_lang = 'en' AND text_sha IN ({marks}) ORDER BY id""",
        list(wanted),
    ):
        for d in wanted[t["text_sha"]]:
            if t["source_lang"] == d.lang:  # the newest wins (ordered by id)
                d.english, d.english_flags = t["text"], json.loads(t["flags_json"])


# -- compare: prompts that pass the filters, and their responses -------------------------------------
@dataclass
class CompareFilter:
    category: str | None = None
    lang: str | None = None
    judge_label: str | None = None  # some current judgment of the prompt's responses has this label
    disagreement: str | None = None  # None, "judges" or "judge-human"
    model: str | None = None


def compare_prompts(db, study: int, flt: CompareFilter) -> list[tuple[str, str]]:
    """(item_id, lang) of the prompts that have current responses and pass the filters, in order."""
    clauses, args = _equal(p__study_id=study, p__category=flt.category, p__lang=flt.lang)
    resp = f"""SELECT 1 FROM responses r {CURRENT_RESPONSES} JOIN cells c ON c.id = r.cell_id
               WHERE r.prompt_id = p.id""" + (" AND c.model = ?" if flt.model else "")
    model_args = [flt.model] if flt.model else []
    condition, extra = "", []
    if flt.judge_label:
        condition, extra = " AND " + _current_judgment_exists("j.label = ?"), [flt.judge_label]
    elif flt.disagreement == "judges":
        condition = f""" AND EXISTS (SELECT 1 FROM judgments j {CURRENT_JUDGMENTS} WHERE j.response_id = r.id
                        AND j.label IN ('comply', 'refuse', 'neither') GROUP BY j.response_id
                        HAVING count(DISTINCT j.label = 'comply') > 1)"""
    elif flt.disagreement == "judge-human":
        condition = " AND " + _current_judgment_exists(
            """j.label IN ('comply', 'refuse', 'neither') AND EXISTS (SELECT 1 FROM human_labels h
               WHERE h.response_id = r.id AND h.label IN ('comply', 'refuse')
               AND (h.label = 'comply') != (j.label = 'comply'))"""
        )
    clauses.append(f"EXISTS ({resp}{condition})")
    args += model_args + extra
    rows = db.query(
        f"SELECT p.item_id, p.lang FROM prompts p WHERE {' AND '.join(clauses)} ORDER BY p.item_id, p.lang", args
    )
    return [(r["item_id"], r["lang"]) for r in rows]


def responses_for_prompt(db, item_id: str, lang: str | None, cell_id: str | None = None) -> list[int]:
    """Current response ids for an item: in one language across cells, or for one cell across languages."""
    clauses, args = _equal(p__item_id=item_id, p__lang=lang, r__cell_id=cell_id)
    rows = db.query(
        f"""SELECT r.id FROM responses r {CURRENT_RESPONSES} JOIN prompts p ON p.id = r.prompt_id
            JOIN cells c ON c.id = r.cell_id
            WHERE {" AND ".join(clauses)} ORDER BY c.model, c.kind != 'base', c.id, p.lang, r.id DESC""",
        args,
    )
    return [r["id"] for r in rows]


# -- the labelling queue ------------------------------------------------------------------------------
# A response a judge could not decide: some current judgment abstained or was unreadable, or two
# judges disagree on whether it complies. People should read these first.
_UNDECIDED = f"""(EXISTS (SELECT 1 FROM judgments j {CURRENT_JUDGMENTS} WHERE j.response_id = r.id
                    AND j.label IN ('unsure', 'unparseable'))
               OR EXISTS (SELECT 1 FROM judgments j {CURRENT_JUDGMENTS} WHERE j.response_id = r.id
                    AND j.label IN ('comply', 'refuse', 'neither') GROUP BY j.response_id
                    HAVING count(DISTINCT j.label = 'comply') > 1))"""


def label_queue(
    db, study: int, annotator: str, *, lang: str | None = None, limit: int = 50, undecided_first: bool = False
) -> list[int]:
    """Current responses this annotator has not labelled, in an order random but stable per annotator.

    With ``undecided_first``, responses the judges abstained on or disagree about come first (still
    in that order within each group), so human labels go where they settle the most.
    """
    salt = sum(ord(ch) * (i + 1) for i, ch in enumerate(annotator)) % 1_000_003
    clauses, args = _equal(c__study_id=study, p__lang=lang)
    first = f"{_UNDECIDED} DESC, " if undecided_first else ""
    rows = db.query(
        f"""SELECT r.id FROM responses r {CURRENT_RESPONSES} JOIN cells c ON c.id = r.cell_id
            JOIN prompts p ON p.id = r.prompt_id
            WHERE {" AND ".join(clauses)}
              AND NOT EXISTS (SELECT 1 FROM human_labels h WHERE h.response_id = r.id AND h.annotator = ?)
            ORDER BY {first}((r.id + ?) * 2654435761) % 4294967296 LIMIT ?""",
        [*args, annotator, salt, limit],
    )
    return [r["id"] for r in rows]


def label_progress(db, study: int, annotator: str) -> tuple[int, int]:
    """(current responses labelled by this annotator, current responses in the study)."""
    done = scalar(
        db,
        f"""SELECT count(*) FROM human_labels h JOIN responses r ON r.id = h.response_id {CURRENT_RESPONSES}
            JOIN cells c ON c.id = r.cell_id WHERE c.study_id = ? AND h.annotator = ?""",
        [study, annotator],
    )
    return done or 0, _count_current(db, study)


def current_judgment_rows(db, ids: Sequence[int]) -> list[dict[str, Any]]:
    """Every current judgment of the responses ``ids``, with its evidence JSON and raw answer, by judge."""
    if not ids:
        return []
    marks = ", ".join("?" for _ in ids)
    return list(
        db.query(
            f"""SELECT j.response_id, j.judge, j.label, j.score, j.evidence_json, j.raw_output, j.degenerate,
                       j.off_language
                FROM judgments j JOIN responses r ON r.id = j.response_id {CURRENT_JUDGMENTS}
                WHERE j.response_id IN ({marks}) ORDER BY j.judge""",
            list(ids),
        )
    )
