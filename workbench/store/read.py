"""The read layer: every question the stages, the analysis, the CLI and the TUI ask of a study database.

One definition of "current" for everyone:

- a cell's **current responses** are those of the generation key recorded in ``current_generations``,
  to the prompts listed in ``current_prompts`` (the generate stage records both once every prompt
  of the recipe is answered, so a half-finished regeneration never replaces the results, and a
  language added to the recipe is not read until all its prompts are answered);
- a judge's **current judgments** of a cell are those of the judge key recorded in
  ``current_judgments`` for the cell's current responses (recorded when the judge has read all of
  them, so a partial re-judge is never mixed with the earlier one).

Functions take any object with ``query(sql, params) -> iterator of dicts``: the read-write
:class:`~workbench.store.db.StudyDB` or the read-only :class:`ReadDB` below, which uses plain sqlite3
(sqlite-utils costs ~0.5 s to import, it pulls pandas) so the TUI starts fast. Browsing queries
(response lists, compare, the label queue) are in :mod:`workbench.store.browse`.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# SQL fragments: responses ``r`` that are current, judgments ``j`` of ``r`` that are current.
CURRENT_RESPONSES = (
    "JOIN current_generations g ON g.cell_id = r.cell_id AND g.generation_key = r.generation_key"
    " JOIN current_prompts cp ON cp.cell_id = r.cell_id AND cp.prompt_id = r.prompt_id"
)
CURRENT_JUDGMENTS = (
    "JOIN current_judgments cj ON cj.cell_id = r.cell_id AND cj.judge = j.judge"
    " AND cj.judge_key = j.judge_key AND cj.generation_key = r.generation_key"
)


class ReadDB:
    """Read-only access to a study database, one connection per thread; ``query`` matches StudyDB's.

    A database in a read-only file or folder is still readable: SQLite in WAL mode wants to create
    ``-shm`` beside the file, so there the connection is opened ``immutable`` (safe: nobody can be
    writing a file that cannot be written), unless a ``-wal`` file holds changes not yet in the file.
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._local = threading.local()
        _opened.append(self.path)

    @property
    def conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._connect()
            self._local.conn = conn
        return conn

    def _connect(self) -> sqlite3.Connection:
        # mode=rw/ro: never create a missing file; query_only: this connection never writes.
        uri = f"file:{self.path}?mode={'rw' if writable(self.path) else 'ro'}"
        if not writable(self.path) and not _wal_pending(self.path):
            uri = f"file:{self.path}?mode=ro&immutable=1"
        conn = sqlite3.connect(uri, uri=True, timeout=30, check_same_thread=False)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA busy_timeout = 30000")
        conn.execute("PRAGMA query_only = 1")
        return conn

    def query(self, sql: str, params: Iterable[Any] = ()) -> Iterator[dict[str, Any]]:
        for row in self.conn.execute(sql, list(params)).fetchall():
            yield dict(row)

    def has_tables(self) -> bool:
        """Whether the file is a migrated study database (the current-keys tables included)."""
        try:
            return scalar(self, "SELECT count(*) FROM sqlite_master WHERE name = 'current_generations'") == 1
        except sqlite3.Error:
            return False

    def check(self) -> str | None:
        """SQLite's ``quick_check`` verdict: None when the file is sound, else the first problem."""
        try:
            rows = self.conn.execute("PRAGMA quick_check").fetchall()
        except sqlite3.DatabaseError as exc:
            return str(exc)
        first = rows[0][0] if rows else "ok"
        return None if first == "ok" else str(first)

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    def __enter__(self) -> ReadDB:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


_opened: list[Path] = []  # the databases this process opened, newest last (for error messages)


def last_opened() -> Path | None:
    """The study database this process opened last (the CLI names it when a database error escapes)."""
    return _opened[-1] if _opened else None


def writable(path: Path) -> bool:
    """Whether SQLite can write ``path`` and create its -wal/-shm files beside it."""
    return os.access(path, os.W_OK) and os.access(path.parent, os.W_OK | os.X_OK)


def _wal_pending(path: Path) -> bool:
    wal = path.with_name(path.name + "-wal")
    try:
        return wal.stat().st_size > 0
    except OSError:
        return False


# The migrations a current database has applied (workbench.store.migrations; a test keeps the two in
# step). Reading them needs only sqlite3, so opening a current study does not import sqlite-utils.
MIGRATIONS = (
    "m001_initial",
    "m002_current_keys",
    "m003_neither_and_unsure",
    "m004_measurements",
    "m005_translations",
    "m006_stage_run_uids",
)


def is_current(path: Path) -> bool:
    """Whether the database at ``path`` has every migration applied (read-only look, no sqlite-utils)."""
    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
    except sqlite3.Error:
        return False
    try:
        done = {r[0] for r in con.execute("SELECT name FROM _sqlite_migrations WHERE migration_set = 'workbench'")}
    except sqlite3.Error:
        return False
    finally:
        con.close()
    return done.issuperset(MIGRATIONS)


def open_for_reading(path: Path) -> ReadDB:
    """A reading connection to a study database (migrated first when it can be written).

    Reading commands (``status``, ``results``) use this, so a read-only workspace can still be read;
    a damaged file is said to be damaged, never reported as having no results.
    """
    from workbench.errors import StudyDatabaseError, from_sqlite_error

    if writable(path) and not is_current(path):
        from workbench.store import open_study_db

        open_study_db(path).close()  # migrates a database written by an older version
    db = ReadDB(path)
    try:
        problem = db.check()
        if problem is None and not db.has_tables():
            db.close()
            raise StudyDatabaseError(
                f"{path}: the study database was written by an older workbench and is read-only",
                "make it writable once (any command then updates it), or read it with the version that wrote it",
            )
    except sqlite3.Error as exc:
        raise from_sqlite_error(exc, path) from None
    if problem is not None:
        db.close()
        raise from_sqlite_error(sqlite3.DatabaseError(f"database disk image is malformed: {problem}"), path)
    return db


def scalar(db, sql: str, params: Iterable[Any] = ()) -> Any:
    """The first column of the first row (None when there is none)."""
    for row in db.query(sql, list(params)):
        return next(iter(row.values()))
    return None


def study_id(db, name: str, *, fallback: bool = False) -> int | None:
    """The id of study ``name``; with ``fallback``, the first study when the name is not there."""
    sid = scalar(db, "SELECT id FROM studies WHERE name = ?", [name])
    if sid is None and fallback:
        sid = scalar(db, "SELECT min(id) FROM studies")
    return sid


# -- cells, prompts, stage runs --------------------------------------------------------------------------
def cells(db, study: int) -> list[dict[str, Any]]:
    """The study's cells, base cells first within each model."""
    return list(db.query("SELECT * FROM cells WHERE study_id = ? ORDER BY model, kind != 'base', id", [study]))


def prompts(db, study: int, ids: list[str] | None = None) -> list[dict[str, Any]]:
    """The study's evaluation prompts (all, or those with the given ids)."""
    if ids is None:
        return list(db.query("SELECT * FROM prompts WHERE study_id = ? ORDER BY item_id, lang", [study]))
    out: list[dict[str, Any]] = []
    for i in range(0, len(ids), 500):  # SQLite's limit on bound parameters
        chunk = ids[i : i + 500]
        marks = ", ".join("?" for _ in chunk)
        out += db.query(f"SELECT * FROM prompts WHERE study_id = ? AND id IN ({marks})", [study, *chunk])
    return out


def eval_langs(db, study: int) -> list[str]:
    rows = db.query("SELECT DISTINCT lang FROM prompts WHERE study_id = ? ORDER BY lang", [study])
    return [r["lang"] for r in rows]


def categories(db, study: int) -> list[str]:
    rows = db.query(
        "SELECT DISTINCT category FROM prompts WHERE study_id = ? AND category IS NOT NULL ORDER BY category",
        [study],
    )
    return [r["category"] for r in rows]


def latest_stage_runs(db, study: int) -> list[dict[str, Any]]:
    """The newest run of every (stage, cell, unit)."""
    return list(
        db.query(
            """SELECT * FROM stage_runs WHERE id IN (
                   SELECT max(id) FROM stage_runs WHERE study_id = ? GROUP BY stage, cell_id, unit)
               ORDER BY id""",
            [study],
        )
    )


def done_run(db, study: int, stage: str, cell_id: str | None, unit: str, input_key: str) -> dict | None:
    """A finished run of this unit with the same inputs, if any (the skip rule of every stage)."""
    rows = db.query(
        """SELECT * FROM stage_runs WHERE study_id = ? AND stage = ? AND unit = ? AND input_key = ?
             AND status = 'done' AND cell_id IS ? ORDER BY id DESC LIMIT 1""",
        [study, stage, unit, input_key, cell_id],
    )
    return next(iter(rows), None)


def running_pids(db, study: int) -> list[int]:
    """Pids the database says are running a stage of this study (alive or not: the caller checks)."""
    rows = db.query(
        "SELECT DISTINCT pid FROM stage_runs WHERE study_id = ? AND status = 'running' AND pid IS NOT NULL",
        [study],
    )
    return [r["pid"] for r in rows]


def artifact_id(db, sha256: str) -> int | None:
    """The newest artifact row with this content hash."""
    return scalar(db, "SELECT id FROM artifacts WHERE sha256 = ? ORDER BY id DESC LIMIT 1", [sha256])


# -- current responses and judgments ---------------------------------------------------------------------
@dataclass(frozen=True)
class CurrentGeneration:
    cell_id: str
    generation_key: str
    settings_key: str
    responses: int


def current_generations(db, study: int) -> dict[str, CurrentGeneration]:
    """Per cell of the study, the generation its results are read from (cells never generated are absent)."""
    rows = db.query(
        """SELECT g.* FROM current_generations g JOIN cells c ON c.id = g.cell_id WHERE c.study_id = ?""",
        [study],
    )
    return {
        r["cell_id"]: CurrentGeneration(r["cell_id"], r["generation_key"], r["settings_key"], r["responses"])
        for r in rows
    }


def current_generation(db, cell_id: str) -> CurrentGeneration | None:
    """The cell's current generation, or None when no generation of it is complete."""
    for r in db.query("SELECT * FROM current_generations WHERE cell_id = ?", [cell_id]):
        return CurrentGeneration(r["cell_id"], r["generation_key"], r["settings_key"], r["responses"])
    return None


def measured_items(db, cell_id: str, measure: str, measure_key: str) -> set[tuple[str, str]]:
    """(lang, item id) pairs this cell has a ``measure`` row for under ``measure_key``."""
    rows = db.query(
        "SELECT lang, item_id FROM measurements WHERE cell_id = ? AND measure = ? AND measure_key = ?",
        [cell_id, measure, measure_key],
    )
    return {(r["lang"], r["item_id"]) for r in rows}


def current_measure_rows(db, study_id: int, measure: str) -> list[dict[str, Any]]:
    """Every item row of the current ``measure`` of each cell (value, n, language, item), with the
    cell's model, kind, fine-tune language, seed and epochs and the languages it could not measure
    (``missing``, a JSON list)."""
    if not scalar(db, "SELECT count(*) FROM sqlite_master WHERE name = 'current_measurements'"):
        return []  # a database opened read-only before the migration that adds it
    return list(
        db.query(
            """SELECT cm.cell_id, c.model, c.kind, c.finetune_lang, c.seed, c.epochs, m.lang, m.item_id,
                      m.value, m.n, cm.missing_json AS missing
               FROM current_measurements cm
               JOIN cells c ON c.id = cm.cell_id
               LEFT JOIN measurements m ON m.cell_id = cm.cell_id AND m.measure = cm.measure
                    AND m.measure_key = cm.measure_key
               WHERE cm.measure = ? AND c.study_id = ?
               ORDER BY cm.cell_id, m.lang, m.item_id""",
            [measure, study_id],
        )
    )


def current_measures(db, study_id: int, prefix: str) -> list[str]:
    """The measures starting with ``prefix`` that some cell of the study has a current key for."""
    if not scalar(db, "SELECT count(*) FROM sqlite_master WHERE name = 'current_measurements'"):
        return []
    rows = db.query(
        """SELECT DISTINCT cm.measure FROM current_measurements cm JOIN cells c ON c.id = cm.cell_id
           WHERE c.study_id = ? AND cm.measure LIKE ? ORDER BY cm.measure""",
        [study_id, prefix.replace("%", "") + "%"],
    )
    return [r["measure"] for r in rows]


def answered_prompt_ids(db, cell_id: str, generation_key: str) -> set[str]:
    """Prompts this cell has answered under this generation key (complete or not)."""
    rows = db.query(
        "SELECT prompt_id FROM responses WHERE cell_id = ? AND generation_key = ?", [cell_id, generation_key]
    )
    return {r["prompt_id"] for r in rows}


def current_responses(db, cell_id: str) -> list[dict[str, Any]]:
    """The cell's current responses with their prompt and language, in id order."""
    return list(
        db.query(
            f"""SELECT r.id, r.text, p.text AS prompt, p.lang, p.item_id FROM responses r {CURRENT_RESPONSES}
                JOIN prompts p ON p.id = r.prompt_id WHERE r.cell_id = ? ORDER BY r.id""",
            [cell_id],
        )
    )


def judged_response_ids(db, cell_id: str, generation_key: str, judge: str, judge_key: str) -> set[int]:
    """Responses of this generation that this judge (with this key) has already judged."""
    rows = db.query(
        """SELECT j.response_id FROM judgments j JOIN responses r ON r.id = j.response_id
           WHERE r.cell_id = ? AND r.generation_key = ? AND j.judge = ? AND j.judge_key = ?""",
        [cell_id, generation_key, judge, judge_key],
    )
    return {r["response_id"] for r in rows}


def label_counts(db, cell_id: str, generation_key: str, judge: str, judge_key: str) -> dict[str, int]:
    """How many current responses of this generation the judge labelled each way."""
    rows = db.query(
        f"""SELECT j.label, count(*) AS n FROM judgments j JOIN responses r ON r.id = j.response_id
            {CURRENT_RESPONSES}
            WHERE r.cell_id = ? AND r.generation_key = ? AND j.judge = ? AND j.judge_key = ? GROUP BY j.label""",
        [cell_id, generation_key, judge, judge_key],
    )
    return {r["label"]: r["n"] for r in rows}


def incomplete_generations(db, study: int) -> list[str]:
    """Cells that have responses but no current generation (their first generation is unfinished)."""
    rows = db.query(
        """SELECT DISTINCT r.cell_id FROM responses r JOIN cells c ON c.id = r.cell_id
           WHERE c.study_id = ? AND r.cell_id NOT IN (SELECT cell_id FROM current_generations) ORDER BY r.cell_id""",
        [study],
    )
    return [r["cell_id"] for r in rows]


def current_judges(db, study: int) -> list[str]:
    """Judges with current judgments in the study, sorted."""
    rows = db.query(
        """SELECT DISTINCT cj.judge FROM current_judgments cj JOIN cells c ON c.id = cj.cell_id
           WHERE c.study_id = ? ORDER BY cj.judge""",
        [study],
    )
    return [r["judge"] for r in rows]


def judgments_state(db, study: int) -> dict[str, Any]:
    """A fingerprint of the study's current generations and judgments (the results stage reruns when it
    changes)."""
    rows = db.query(
        """SELECT cj.cell_id, cj.judge, cj.judge_key, cj.generation_key, cj.judgments, cj.recorded_at
           FROM current_judgments cj JOIN cells c ON c.id = cj.cell_id WHERE c.study_id = ?
           ORDER BY cj.cell_id, cj.judge""",
        [study],
    )
    generations = db.query(
        """SELECT g.cell_id, g.generation_key, g.settings_key, g.responses, g.recorded_at
           FROM current_generations g JOIN cells c ON c.id = g.cell_id WHERE c.study_id = ? ORDER BY g.cell_id""",
        [study],
    )
    return {"current": [list(r.values()) for r in rows], "generations": [list(r.values()) for r in generations]}


# -- counts for the results ------------------------------------------------------------------------------
# Joint counts of a fine-tuned cell and its base on the same items (see rate_counts).
PAIRED_COUNTS = ("pn", "pa", "pb", "pc", "ra", "rb", "rc")
OUTCOME_COUNTS = (
    "n",
    "complied",
    "refused",
    "neither",
    "unsure",
    "unparseable",
    "off_language",
    "degenerate",
    "judged",
)


def rate_counts(db, study: int) -> list[dict[str, Any]]:
    """Additive counts per (cell, evaluation language, judge, category) of current judgments.

    ``n`` (judged comply, refuse or neither), ``complied``, ``refused``, ``neither``, ``unsure``
    (abstained), ``unparseable``, ``off_language`` and ``degenerate`` flags, ``judged`` (all), and the
    joint counts against the model's base cell on the same items (:data:`PAIRED_COUNTS`) when both were
    generated under the same settings and judged with the same judge key. ``comparable`` says whether they were: True,
    ``"settings"`` or ``"judge"`` (what differs), or None when the base has nothing current to compare
    with. Every rate and change for any filter is a sum of these rows.
    """
    gens = current_generations(db, study)
    cell_rows = cells(db, study)
    base_of = {c["model"]: c["id"] for c in cell_rows if c["kind"] == "base"}
    judge_keys = {  # only judgments of the cell's current generation count
        (r["cell_id"], r["judge"]): r["judge_key"]
        for r in db.query(
            """SELECT cj.* FROM current_judgments cj JOIN cells c ON c.id = cj.cell_id
               JOIN current_generations g ON g.cell_id = cj.cell_id AND g.generation_key = cj.generation_key
               WHERE c.study_id = ?""",
            [study],
        )
    }

    def comparable(cell: str, model: str, judge: str) -> bool | str | None:
        base_cell = base_of.get(model, "")
        base, mine = gens.get(base_cell), gens.get(cell)
        if base is None or mine is None or (base_cell, judge) not in judge_keys:
            return None
        if base.settings_key != mine.settings_key:
            return "settings"
        return True if judge_keys[(base_cell, judge)] == judge_keys.get((cell, judge)) else "judge"

    joins = f"""FROM judgments j JOIN responses r ON r.id = j.response_id {CURRENT_RESPONSES} {CURRENT_JUDGMENTS}
                JOIN cells c ON c.id = r.cell_id JOIN prompts p ON p.id = r.prompt_id"""
    judged = "j.label IN ('comply', 'refuse', 'neither')"
    out: dict[tuple, dict[str, Any]] = {}
    # One pass over the current judgments. Paired with the base: the same prompt (item and language) and
    # judge, both judged (not abstained), with the same generation settings and the same judge key; the
    # base's outcomes (one per model, prompt, judge) are joined to every fine-tuned judgment. Joint
    # counts per outcome: a = both, b = only the fine-tuned cell, c = only the base (d = pn - a - b - c),
    # for compliance and for refusal.
    for r in db.query(
        f"""WITH b AS MATERIALIZED (
                SELECT c.model, r.prompt_id, j.judge, g.settings_key, j.judge_key,
                       (j.label = 'comply') AS comp, (j.label = 'refuse') AS ref
                {joins} WHERE c.study_id = ? AND c.kind = 'base' AND {judged})
            SELECT c.id AS cell, c.model, c.finetune_lang, c.seed, c.epochs, p.lang AS eval_lang, j.judge,
                   p.category, sum({judged}) AS n,
                   sum(j.label = 'comply') AS complied, sum(j.label = 'refuse') AS refused,
                   sum(j.label = 'neither') AS neither, sum(j.label = 'unsure') AS unsure,
                   sum(j.label = 'unparseable') AS unparseable, sum(j.off_language) AS off_language,
                   sum(j.degenerate) AS degenerate, count(*) AS judged,
                   count(b.comp) AS pn,
                   coalesce(sum(j.label = 'comply' AND b.comp), 0) AS pa,
                   coalesce(sum(j.label = 'comply' AND NOT b.comp), 0) AS pb,
                   coalesce(sum(b.comp AND NOT j.label = 'comply'), 0) AS pc,
                   coalesce(sum(j.label = 'refuse' AND b.ref), 0) AS ra,
                   coalesce(sum(j.label = 'refuse' AND NOT b.ref), 0) AS rb,
                   coalesce(sum(b.ref AND NOT j.label = 'refuse'), 0) AS rc
            {joins}
            LEFT JOIN b ON c.kind = 'finetune' AND {judged} AND b.model = c.model AND b.prompt_id = r.prompt_id
                 AND b.judge = j.judge AND b.settings_key = g.settings_key AND b.judge_key = j.judge_key
            WHERE c.study_id = ?
            GROUP BY c.id, p.lang, j.judge, p.category""",
        [study, study],
    ):
        out[(r["cell"], r["eval_lang"], r["judge"], r["category"])] = {
            **r,
            **{k: r[k] or 0 for k in PAIRED_COUNTS},
            "comparable": comparable(r["cell"], r["model"], r["judge"]),
        }
    return list(out.values())


# -- human labels against judges and each other ----------------------------------------------------------
def _lang_clause(langs: list[str]) -> str:
    return f" AND p.lang IN ({', '.join('?' for _ in langs)})" if langs else ""


def label_judge_pairs(db, study: int, langs: list[str]) -> list[dict[str, Any]]:
    """Counts of (annotator, judge, language, human label, judge label) over current judgments."""
    return list(
        db.query(
            f"""SELECT h.annotator AS a, j.judge AS b, p.lang, h.label AS la, j.label AS lb, count(*) AS n
                FROM human_labels h JOIN judgments j ON j.response_id = h.response_id
                JOIN responses r ON r.id = h.response_id {CURRENT_RESPONSES} {CURRENT_JUDGMENTS}
                JOIN cells c ON c.id = r.cell_id JOIN prompts p ON p.id = r.prompt_id
                WHERE c.study_id = ?{_lang_clause(langs)}
                GROUP BY h.annotator, j.judge, p.lang, h.label, j.label""",
            [study, *langs],
        )
    )


def label_label_pairs(db, study: int, langs: list[str]) -> list[dict[str, Any]]:
    """Counts of (annotator, other annotator, language, label, other label) on the same responses
    (any response people labelled, current or not: two people's agreement does not depend on it)."""
    return list(
        db.query(
            f"""SELECT h1.annotator AS a, h2.annotator AS b, p.lang, h1.label AS la, h2.label AS lb, count(*) AS n
                FROM human_labels h1 JOIN human_labels h2 ON h2.response_id = h1.response_id
                     AND h2.annotator > h1.annotator
                JOIN responses r ON r.id = h1.response_id JOIN cells c ON c.id = r.cell_id
                JOIN prompts p ON p.id = r.prompt_id
                WHERE c.study_id = ?{_lang_clause(langs)}
                GROUP BY h1.annotator, h2.annotator, p.lang, h1.label, h2.label""",
            [study, *langs],
        )
    )


def translations(db, texts: list[tuple[str, str]], target: str, translator_key: str) -> dict[tuple[str, str], dict]:
    """The stored translations into ``target`` by ``translator_key`` of (text, language) pairs, keyed by
    the pair; each row with its ``flags`` and ``quality`` parsed. A pair not yet translated is absent."""
    import json

    from workbench.store.db import text_sha

    if not texts or not scalar(db, "SELECT count(*) FROM sqlite_master WHERE name = 'translations'"):
        return {}
    wanted = {(text_sha(t), lang): (t, lang) for t, lang in texts}
    out: dict[tuple[str, str], dict] = {}
    shas = sorted({sha for sha, _ in wanted})
    for start in range(0, len(shas), 500):
        chunk = shas[start : start + 500]
        rows = db.query(
            f"""SELECT * FROM translations WHERE target_lang = ? AND translator_key = ?
                AND text_sha IN ({", ".join("?" for _ in chunk)})""",
            [target, translator_key, *chunk],
        )
        for r in rows:
            pair = wanted.get((r["text_sha"], r["source_lang"]))
            if pair is not None:
                out[pair] = {**r, "flags": json.loads(r["flags_json"]), "quality": json.loads(r["quality_json"])}
    return out


def translation_rows(db, purpose: str | None = None) -> list[dict[str, Any]]:
    """Every stored translation (of one ``purpose``: "prompt" or "response"), oldest first."""
    if not scalar(db, "SELECT count(*) FROM sqlite_master WHERE name = 'translations'"):
        return []
    where, args = ("WHERE purpose = ?", [purpose]) if purpose else ("", [])
    return list(db.query(f"SELECT * FROM translations {where} ORDER BY id", args))


def current_meta_counts(db, study_id: int, measure: str, field: str) -> list[dict[str, Any]]:
    """Per (cell, language, value of ``meta_json``'s ``field``): how many current ``measure`` rows have it
    (the choice stage's picked letters: a model that always says "A" shows here)."""
    if not scalar(db, "SELECT count(*) FROM sqlite_master WHERE name = 'current_measurements'"):
        return []
    return list(
        db.query(
            """SELECT cm.cell_id, m.lang, json_extract(m.meta_json, '$.' || ?) AS meta_value, count(*) AS n
               FROM current_measurements cm JOIN cells c ON c.id = cm.cell_id
               JOIN measurements m ON m.cell_id = cm.cell_id AND m.measure = cm.measure
                    AND m.measure_key = cm.measure_key
               WHERE cm.measure = ? AND c.study_id = ?
               GROUP BY cm.cell_id, m.lang, meta_value ORDER BY cm.cell_id, m.lang, n DESC""",
            [field, measure, study_id],
        )
    )
