"""Read queries of the TUI: plain sqlite3 (sqlite-utils costs ~0.5 s to import, it pulls pandas).

Lists that can be long (a cell's responses, the labelling queue) are read as ids first, then their
rows a page at a time by primary key, so a virtualised table only ever reads what it shows.
Each thread gets its own connection; WAL lets these readers run while a stage writes.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


class ReadDB:
    """Read-only access to a study database; ``query`` matches StudyDB's, so analysis code takes it."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._local = threading.local()

    @property
    def conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            # mode=rw: never create a missing file; query_only: this connection never writes.
            conn = sqlite3.connect(f"file:{self.path}?mode=rw", uri=True, timeout=30, check_same_thread=False)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA busy_timeout = 30000")
            conn.execute("PRAGMA query_only = 1")
            self._local.conn = conn
        return conn

    def query(self, sql: str, params: Iterable[Any] = ()) -> Iterator[dict[str, Any]]:
        for row in self.conn.execute(sql, list(params)).fetchall():
            yield dict(row)

    def scalar(self, sql: str, params: Iterable[Any] = ()) -> Any:
        row = self.conn.execute(sql, list(params)).fetchone()
        return row[0] if row else None

    def has_tables(self) -> bool:
        try:
            return bool(self.scalar("SELECT count(*) FROM sqlite_master WHERE name = 'responses'"))
        except sqlite3.Error:
            return False

    def study_id(self, name: str) -> int | None:
        try:
            sid = self.scalar("SELECT id FROM studies WHERE name = ?", [name])
            return sid if sid is not None else self.scalar("SELECT min(id) FROM studies")
        except sqlite3.Error:
            return None


def study_summary(db: ReadDB, study_id: int) -> dict[str, int]:
    """Counts shown on the studies screen."""
    return {
        "cells": db.scalar("SELECT count(*) FROM cells WHERE study_id = ?", [study_id]) or 0,
        "prompts": db.scalar("SELECT count(*) FROM prompts WHERE study_id = ?", [study_id]) or 0,
        "responses": db.scalar(
            "SELECT count(*) FROM responses r JOIN cells c ON c.id = r.cell_id WHERE c.study_id = ?", [study_id]
        )
        or 0,
        "labels": db.scalar("SELECT count(*) FROM human_labels") or 0,
    }


def cells(db: ReadDB, study_id: int) -> list[dict[str, Any]]:
    return list(db.query("SELECT * FROM cells WHERE study_id = ? ORDER BY model, kind != 'base', id", [study_id]))


def eval_langs(db: ReadDB, study_id: int) -> list[str]:
    return [
        r["lang"] for r in db.query("SELECT DISTINCT lang FROM prompts WHERE study_id = ? ORDER BY lang", [study_id])
    ]


def categories(db: ReadDB, study_id: int) -> list[str]:
    return [
        r["category"]
        for r in db.query(
            "SELECT DISTINCT category FROM prompts WHERE study_id = ? AND category IS NOT NULL ORDER BY category",
            [study_id],
        )
    ]


def judges(db: ReadDB) -> list[str]:
    return [r["judge"] for r in db.query("SELECT DISTINCT judge FROM judgments ORDER BY judge")]


# -- a cell's responses (virtualised list) -----------------------------------------------------------
@dataclass
class ResponseFilter:
    cell_id: str | None = None
    eval_lang: str | None = None
    category: str | None = None
    judge: str | None = None
    judge_label: str | None = None

    def sql(self) -> tuple[str, list[Any]]:
        clauses, args = [], []
        if self.cell_id:
            clauses.append("r.cell_id = ?")
            args.append(self.cell_id)
        if self.eval_lang:
            clauses.append("p.lang = ?")
            args.append(self.eval_lang)
        if self.category:
            clauses.append("p.category = ?")
            args.append(self.category)
        if self.judge_label and self.judge:
            clauses.append(
                "EXISTS (SELECT 1 FROM judgments j WHERE j.response_id = r.id AND j.judge = ? AND j.label = ?)"
            )
            args += [self.judge, self.judge_label]
        return (" AND ".join(clauses) or "1"), args


def response_ids(db: ReadDB, flt: ResponseFilter) -> list[int]:
    """The ids of the responses a filter selects, in prompt order (uses idx_responses_cell)."""
    where, args = flt.sql()
    return [
        r[0]
        for r in db.conn.execute(
            f"SELECT r.id FROM responses r JOIN prompts p ON p.id = r.prompt_id WHERE {where} ORDER BY r.prompt_id",
            args,
        )
    ]


RESPONSE_COLUMNS = ("id", "item", "lang", "category", "judges", "humans", "response")


def response_rows(db: ReadDB, ids: Sequence[int]) -> dict[int, tuple]:
    """One display row per response id (primary-key lookups only), keyed by id."""
    if not ids:
        return {}
    marks = ", ".join("?" for _ in ids)
    rows = db.conn.execute(
        f"""SELECT r.id, p.item_id, p.lang, coalesce(p.category, ''),
                   (SELECT group_concat(j.judge || '=' || j.label, ' ') FROM judgments j WHERE j.response_id = r.id),
                   (SELECT group_concat(h.annotator || '=' || h.label, ' ') FROM human_labels h
                     WHERE h.response_id = r.id),
                   replace(substr(r.text, 1, 200), char(10), ' ')
            FROM responses r JOIN prompts p ON p.id = r.prompt_id WHERE r.id IN ({marks})""",
        list(ids),
    ).fetchall()
    return {r[0]: tuple(x if x is not None else "" for x in r) for r in rows}


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

    def looks_unsafe(self) -> bool:
        """Whether any judge or person said it complied (classroom mode hides such text)."""
        return any(j["label"] == "comply" for j in self.judgments) or any(
            h["label"] in ("comply", "partial") for h in self.human_labels
        )


def response_details(db: ReadDB, ids: Sequence[int]) -> list[ResponseDetail]:
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
            ids,
        )
    }
    for j in db.query(
        f"SELECT response_id, judge, label, score FROM judgments WHERE response_id IN ({marks}) ORDER BY judge", ids
    ):
        base[j["response_id"]].judgments.append(j)
    for h in db.query(
        f"""SELECT response_id, annotator, label, note FROM human_labels WHERE response_id IN ({marks})
            ORDER BY annotator""",
        ids,
    ):
        base[h["response_id"]].human_labels.append(h)
    return [base[i] for i in ids if i in base]


# -- compare: prompts that pass the filters, and their responses -------------------------------------
@dataclass
class CompareFilter:
    category: str | None = None
    lang: str | None = None
    judge_label: str | None = None  # some judgment of the prompt's responses has this label
    disagreement: str | None = None  # None, "judges" or "judge-human"
    model: str | None = None


def compare_prompts(db: ReadDB, study_id: int, flt: CompareFilter) -> list[tuple[str, str]]:
    """(item_id, lang) of the prompts that have responses and pass the filters, in order."""
    clauses, args = ["p.study_id = ?"], [study_id]
    if flt.category:
        clauses.append("p.category = ?")
        args.append(flt.category)
    if flt.lang:
        clauses.append("p.lang = ?")
        args.append(flt.lang)
    resp = "SELECT r.id FROM responses r JOIN cells c ON c.id = r.cell_id WHERE r.prompt_id = p.id"
    if flt.model:
        resp += " AND c.model = ?"
    model_args = [flt.model] if flt.model else []
    clauses.append(f"EXISTS ({resp})")
    args += model_args
    if flt.judge_label:
        clauses.append(f"EXISTS (SELECT 1 FROM judgments j WHERE j.response_id IN ({resp}) AND j.label = ?)")
        args += [*model_args, flt.judge_label]
    if flt.disagreement == "judges":
        clauses.append(
            f"""EXISTS (SELECT 1 FROM judgments j WHERE j.response_id IN ({resp})
                AND j.label IN ('comply', 'refuse') GROUP BY j.response_id HAVING count(DISTINCT j.label) > 1)"""
        )
        args += model_args
    elif flt.disagreement == "judge-human":
        clauses.append(
            f"""EXISTS (SELECT 1 FROM judgments j JOIN human_labels h ON h.response_id = j.response_id
                WHERE j.response_id IN ({resp}) AND j.label IN ('comply', 'refuse')
                AND h.label IN ('comply', 'refuse') AND h.label != j.label)"""
        )
        args += model_args
    rows = db.conn.execute(
        f"SELECT p.item_id, p.lang FROM prompts p WHERE {' AND '.join(clauses)} ORDER BY p.item_id, p.lang", args
    ).fetchall()
    return [(r[0], r[1]) for r in rows]


def responses_for_prompt(db: ReadDB, item_id: str, lang: str | None, cell_id: str | None = None) -> list[int]:
    """Response ids for an item: in one language across cells, or for one cell across languages."""
    clauses, args = ["p.item_id = ?"], [item_id]
    if lang:
        clauses.append("p.lang = ?")
        args.append(lang)
    if cell_id:
        clauses.append("r.cell_id = ?")
        args.append(cell_id)
    rows = db.conn.execute(
        f"""SELECT r.id FROM responses r JOIN prompts p ON p.id = r.prompt_id JOIN cells c ON c.id = r.cell_id
            WHERE {" AND ".join(clauses)} ORDER BY c.model, c.kind != 'base', c.id, p.lang, r.id DESC""",
        args,
    ).fetchall()
    return [r[0] for r in rows]


# -- the labelling queue ------------------------------------------------------------------------------
def label_queue(db: ReadDB, study_id: int, annotator: str, *, lang: str | None = None, limit: int = 50) -> list[int]:
    """Responses this annotator has not labelled, in an order random but stable per annotator."""
    salt = sum(ord(ch) * (i + 1) for i, ch in enumerate(annotator)) % 1_000_003
    clauses, args = ["c.study_id = ?"], [study_id]
    if lang:
        clauses.append("p.lang = ?")
        args.append(lang)
    rows = db.conn.execute(
        f"""SELECT r.id FROM responses r JOIN cells c ON c.id = r.cell_id JOIN prompts p ON p.id = r.prompt_id
            WHERE {" AND ".join(clauses)}
              AND NOT EXISTS (SELECT 1 FROM human_labels h WHERE h.response_id = r.id AND h.annotator = ?)
            ORDER BY ((r.id + ?) * 2654435761) % 4294967296 LIMIT ?""",
        [*args, annotator, salt, limit],
    ).fetchall()
    return [r[0] for r in rows]


def label_progress(db: ReadDB, study_id: int, annotator: str) -> tuple[int, int]:
    """(labelled by this annotator, responses in the study)."""
    total = db.scalar(
        "SELECT count(*) FROM responses r JOIN cells c ON c.id = r.cell_id WHERE c.study_id = ?", [study_id]
    )
    done = db.scalar(
        """SELECT count(*) FROM human_labels h JOIN responses r ON r.id = h.response_id
           JOIN cells c ON c.id = r.cell_id WHERE c.study_id = ? AND h.annotator = ?""",
        [study_id, annotator],
    )
    return done or 0, total or 0
