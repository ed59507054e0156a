"""Shard databases: how units that ran elsewhere (a Ray worker, a Slurm job) bring their rows home.

A remote unit never writes the study database. The coordinator writes a *seed* (a consistent copy of
the study database, :func:`snapshot`) that workers only read; a worker copies it to its own disk,
notes where each table ends (:func:`marks`), runs its stages on the copy, and publishes a *shard*
(:func:`extract`): the rows its stages added, with the rows those refer to, in a file of the same
schema that one process writes and then renames into place. The coordinator merges shards into the
study database (:func:`merge`) by the tables' unique keys, never by row ids, so merging a shard twice
adds nothing and a unit that ran twice (a retry, a pre-empted job) adds its rows once.

So no SQLite file is written by two processes, and none is written over a shared filesystem by more
than one machine: seeds are written by the coordinator alone, shards by one worker alone.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from workbench.errors import WorkbenchError

# Tables whose rows a unit adds under new integer ids: a shard takes the rows past the seed's end.
GROWING = ("stage_runs", "artifacts", "responses", "judgments", "human_labels", "measurements", "translations")
# Small tables keyed by text (or with few rows): a shard carries them whole.
WHOLE = (
    "studies",
    "recipe_snapshots",
    "environments",
    "cells",
    "prompts",
    "current_generations",
    "current_prompts",
    "current_judgments",
    "current_measurements",
)


class ShardError(WorkbenchError):
    """A shard that cannot be merged (damaged, truncated, of another schema): nothing of it is merged."""


@dataclass
class MergeStats:
    """Rows a merge added (or, for the ``current_*`` records, replaced), per table."""

    shard: str
    rows: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.rows.values())


def snapshot(db_path: Path, out: Path) -> Path:
    """A consistent copy of the database at ``db_path`` in ``out`` (SQLite's online backup, so a run
    may write meanwhile), written to a temporary name and renamed; one file, no WAL beside it."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    src = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=30)
    try:
        dst = sqlite3.connect(tmp)
        try:
            src.backup(dst)
            dst.execute("PRAGMA journal_mode = DELETE")
        finally:
            dst.close()
    finally:
        src.close()
    os.replace(tmp, out)
    return out


def marks(con: sqlite3.Connection) -> dict[str, int]:
    """Where each growing table of a worker's copy ends: its rows past these are the unit's own."""
    return {t: con.execute(f"SELECT coalesce(max(id), 0) FROM {t}").fetchone()[0] for t in GROWING}


def extract(local_db: Path, base: dict[str, int], out: Path) -> Path:
    """Write the shard of a worker's database copy: the rows of the growing tables past ``base`` (from
    :func:`marks`, taken before the unit ran), every row of the small tables, and the rows the new ones
    refer to (the responses of new judgments, the artifacts of new responses, the stage runs of new
    artifacts), so :func:`merge` can match them by their unique keys. Written under a temporary name
    and renamed: a shard file is complete or absent."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    con = sqlite3.connect(tmp, isolation_level=None)
    try:
        con.execute("ATTACH DATABASE ? AS w", (str(local_db),))
        con.execute("BEGIN")
        schema = con.execute(
            "SELECT type, name, sql FROM w.sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' "
            "ORDER BY CASE type WHEN 'table' THEN 0 WHEN 'index' THEN 1 ELSE 2 END, rowid"
        ).fetchall()
        for _type, _name, sql in schema:
            con.execute(sql)
        con.execute("INSERT INTO main._sqlite_migrations SELECT * FROM w._sqlite_migrations")
        for t in WHOLE:
            con.execute(f"INSERT INTO main.{t} SELECT * FROM w.{t}")
        b = {t: int(base.get(t, 0)) for t in GROWING}
        # what the new rows refer to, first: they carry the unique keys the merge matches by
        con.execute(
            "INSERT INTO main.responses SELECT * FROM w.responses WHERE id > ? OR id IN ("
            " SELECT response_id FROM w.judgments WHERE id > ? UNION"
            " SELECT response_id FROM w.human_labels WHERE id > ?)",
            (b["responses"], b["judgments"], b["human_labels"]),
        )
        con.execute(
            "INSERT INTO main.artifacts SELECT * FROM w.artifacts WHERE id > ? OR id IN ("
            " SELECT artifact_id FROM main.responses WHERE artifact_id IS NOT NULL)",
            (b["artifacts"],),
        )
        con.execute(
            "INSERT INTO main.stage_runs SELECT * FROM w.stage_runs WHERE id > ? OR id IN ("
            " SELECT stage_run_id FROM main.artifacts WHERE stage_run_id IS NOT NULL)",
            (b["stage_runs"],),
        )
        for t in ("judgments", "human_labels", "measurements", "translations"):
            con.execute(f"INSERT INTO main.{t} SELECT * FROM w.{t} WHERE id > ?", (b[t],))
        con.execute("COMMIT")
        con.execute("DETACH DATABASE w")
    finally:
        con.close()
    with open(tmp, "rb") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, out)
    return out


def _columns(con: sqlite3.Connection, table: str) -> list[str]:
    return [r[1] for r in con.execute(f"PRAGMA main.table_info({table})")]


def _check(con: sqlite3.Connection, shard: Path) -> None:
    """The attached shard ``s`` is intact and of the study database's schema, else :class:`ShardError`."""
    hint = "the unit is rerun by the next `workbench run` (its shard is not merged); delete the file if it stays"
    try:
        verdict = con.execute("PRAGMA s.quick_check").fetchone()[0]
        if verdict != "ok":
            raise ShardError(f"shard {shard}: damaged ({verdict})", hint)
        have = {r[0] for r in con.execute("SELECT name FROM s._sqlite_migrations WHERE migration_set = 'workbench'")}
        want = {r[0] for r in con.execute("SELECT name FROM main._sqlite_migrations WHERE migration_set = 'workbench'")}
    except sqlite3.DatabaseError as exc:
        raise ShardError(f"shard {shard}: not a readable study database ({exc})", hint) from None
    if have != want:
        newer, older = sorted(have - want), sorted(want - have)
        what = f"migrations the study lacks: {', '.join(newer)}" if newer else f"lacks {', '.join(older)}"
        raise ShardError(f"shard {shard}: another schema ({what})", "run the workers with the coordinator's version")


def merge(study_db: Path, shard: Path) -> MergeStats:
    """Merge the shard at ``shard`` into the study database at ``study_db``, in one transaction.

    Rows are matched by the tables' unique keys (cells and prompts by id, responses by prompt, cell
    and generation key, judgments by response, judge and judge key, stage runs by their uid, artifacts
    by path and hash, ...); ids are the study database's own. A row already there is kept. A
    ``current_*`` record (which generation, judge key or measurement of a cell is read) is taken when
    the shard's was recorded later, so merging shards in any order, or one twice, ends alike.
    A damaged or truncated shard raises :class:`ShardError` and merges nothing.
    """
    if not Path(shard).is_file():
        raise ShardError(f"shard {shard}: no such file", "the unit that should have written it is rerun")
    con = sqlite3.connect(study_db, timeout=60, isolation_level=None)
    stats = MergeStats(str(shard))
    try:
        con.execute("PRAGMA foreign_keys = ON")
        try:
            con.execute("ATTACH DATABASE ? AS s", (f"file:{shard}?mode=ro&immutable=1",))
        except sqlite3.DatabaseError as exc:
            raise ShardError(f"shard {shard}: cannot be opened ({exc})", "delete it; its unit is rerun") from None
        try:
            _check(con, Path(shard))
            con.execute("BEGIN IMMEDIATE")
            try:
                _merge_rows(con, stats)
            except sqlite3.DatabaseError as exc:
                con.execute("ROLLBACK")
                raise ShardError(
                    f"shard {shard}: could not be merged ({exc}); nothing of it was merged",
                    "delete it; its unit is rerun by the next `workbench run`",
                ) from None
            con.execute("COMMIT")
        finally:
            con.execute("DETACH DATABASE s")
    finally:
        con.close()
    return stats


def _run(con: sqlite3.Connection, stats: MergeStats, table: str, sql: str, args: tuple = ()) -> None:
    before = con.total_changes
    con.execute(sql, args)
    stats.rows[table] = stats.rows.get(table, 0) + con.total_changes - before


def _upsert_newer(con: sqlite3.Connection, stats: MergeStats, table: str, keys: tuple[str, ...]) -> None:
    """Take the shard's ``current_*`` records that are new or were recorded later than the study's."""
    cols = _columns(con, table)
    updates = ", ".join(f"{c} = excluded.{c}" for c in cols if c not in keys)
    _run(
        con,
        stats,
        table,
        f"INSERT INTO main.{table} ({', '.join(cols)}) SELECT {', '.join(cols)} FROM s.{table} WHERE true "
        f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {updates} "
        f"WHERE excluded.recorded_at > main.{table}.recorded_at",
    )


def _merge_rows(con: sqlite3.Connection, stats: MergeStats) -> None:
    study = "(SELECT m.id FROM main.studies m JOIN s.studies x ON x.name = m.name WHERE x.id = {}.study_id)"
    _run(
        con,
        stats,
        "studies",
        "INSERT OR IGNORE INTO main.studies (name, description, created_at, updated_at) "
        "SELECT name, description, created_at, updated_at FROM s.studies",
    )
    _run(
        con,
        stats,
        "recipe_snapshots",
        "INSERT OR IGNORE INTO main.recipe_snapshots (hash, study_id, source_path, toml, resolved_json, recorded_at) "
        f"SELECT hash, {study.format('r')}, source_path, toml, resolved_json, recorded_at FROM s.recipe_snapshots r",
    )
    env_cols = [c for c in _columns(con, "environments") if c != "id"]
    _run(
        con,
        stats,
        "environments",
        f"INSERT OR IGNORE INTO main.environments ({', '.join(env_cols)}) SELECT {', '.join(env_cols)} "
        "FROM s.environments",
    )
    cell_cols = [c for c in _columns(con, "cells") if c != "study_id"]
    _run(
        con,
        stats,
        "cells",
        f"INSERT OR IGNORE INTO main.cells ({', '.join(cell_cols)}, study_id) "
        f"SELECT {', '.join('c.' + c for c in cell_cols)}, {study.format('c')} FROM s.cells c",
    )
    run_cols = [c for c in _columns(con, "stage_runs") if c not in ("id", "study_id", "environment_id")]
    _run(
        con,
        stats,
        "stage_runs",
        f"INSERT OR IGNORE INTO main.stage_runs ({', '.join(run_cols)}, study_id, environment_id) "
        f"SELECT {', '.join('r.' + c for c in run_cols)}, {study.format('r')}, me.id FROM s.stage_runs r "
        "LEFT JOIN s.environments se ON se.id = r.environment_id "
        "LEFT JOIN main.environments me ON me.fingerprint = se.fingerprint WHERE r.uid IS NOT NULL",
    )
    art_cols = [c for c in _columns(con, "artifacts") if c not in ("id", "stage_run_id")]
    _run(
        con,
        stats,
        "artifacts",
        f"INSERT OR IGNORE INTO main.artifacts ({', '.join(art_cols)}, stage_run_id) "
        f"SELECT {', '.join('a.' + c for c in art_cols)}, mr.id FROM s.artifacts a "
        "LEFT JOIN s.stage_runs sr ON sr.id = a.stage_run_id LEFT JOIN main.stage_runs mr ON mr.uid = sr.uid",
    )
    prompt_cols = [c for c in _columns(con, "prompts") if c != "study_id"]
    _run(
        con,
        stats,
        "prompts",
        f"INSERT OR IGNORE INTO main.prompts ({', '.join(prompt_cols)}, study_id) "
        f"SELECT {', '.join('p.' + c for c in prompt_cols)}, {study.format('p')} FROM s.prompts p",
    )
    resp_cols = [c for c in _columns(con, "responses") if c not in ("id", "artifact_id")]
    _run(
        con,
        stats,
        "responses",
        f"INSERT OR IGNORE INTO main.responses ({', '.join(resp_cols)}, artifact_id) "
        f"SELECT {', '.join('r.' + c for c in resp_cols)}, ma.id FROM s.responses r "
        "LEFT JOIN s.artifacts sa ON sa.id = r.artifact_id "
        "LEFT JOIN main.artifacts ma ON ma.path = sa.path AND ma.sha256 = sa.sha256 ORDER BY r.id",
    )
    matched = (
        "JOIN s.responses sr ON sr.id = x.response_id JOIN main.responses mr ON mr.prompt_id = sr.prompt_id "
        "AND mr.cell_id = sr.cell_id AND mr.generation_key = sr.generation_key"
    )
    for table in ("judgments", "human_labels"):
        cols = [c for c in _columns(con, table) if c not in ("id", "response_id")]
        _run(
            con,
            stats,
            table,
            f"INSERT OR IGNORE INTO main.{table} ({', '.join(cols)}, response_id) "
            f"SELECT {', '.join('x.' + c for c in cols)}, mr.id FROM s.{table} x {matched} ORDER BY x.id",
        )
    for table in ("measurements", "translations"):
        cols = [c for c in _columns(con, table) if c != "id"]
        _run(
            con,
            stats,
            table,
            f"INSERT OR IGNORE INTO main.{table} ({', '.join(cols)}) SELECT {', '.join(cols)} FROM s.{table} "
            "ORDER BY id",
        )
    _upsert_newer(con, stats, "current_generations", ("cell_id",))
    # the prompts of every generation record the study now holds as the shard's: the shard's list
    won = (
        "SELECT g.cell_id FROM s.current_generations g JOIN main.current_generations m ON m.cell_id = g.cell_id "
        "AND m.generation_key = g.generation_key AND m.recorded_at = g.recorded_at"
    )
    con.execute(
        f"DELETE FROM main.current_prompts WHERE cell_id IN ({won}) AND (cell_id, prompt_id) NOT IN "
        "(SELECT cell_id, prompt_id FROM s.current_prompts)"
    )
    _run(
        con,
        stats,
        "current_prompts",
        "INSERT OR IGNORE INTO main.current_prompts (cell_id, prompt_id) SELECT cell_id, prompt_id "
        f"FROM s.current_prompts WHERE cell_id IN ({won})",
    )
    _upsert_newer(con, stats, "current_judgments", ("cell_id", "judge"))
    _upsert_newer(con, stats, "current_measurements", ("cell_id", "measure"))
