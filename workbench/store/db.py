"""The study database: one SQLite file per study, WAL mode, foreign keys on, migrations on open.

Writers commit each unit of work (a response, a judgment, a stage run's status) in its own
transaction, so a crash loses at most the unit in flight. Readers (the TUI, ``workbench status``)
read while a stage writes, which WAL allows.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import sqlite3
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import sqlite_utils

from workbench.errors import from_sqlite_error
from workbench.store import read
from workbench.store.migrations import migrations


def now() -> str:
    """UTC timestamp in ISO 8601, to the millisecond."""
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="milliseconds")


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)


class StudyDB:
    """A study database opened for reading and writing."""

    def __init__(self, path: str | Path, *, check: bool = False):
        """``check``: run SQLite's ``quick_check`` before anything is written (a run does, so a damaged
        file is reported instead of written to; it reads every page once, ~0.1 s per 100 MB)."""
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        read._opened.append(self.path)
        try:
            conn = sqlite3.connect(str(self.path), timeout=30, isolation_level=None)
            self.db = sqlite_utils.Database(conn)
            self.db.execute("PRAGMA foreign_keys = ON")
            self.db.execute("PRAGMA busy_timeout = 30000")
            if check:
                verdict = conn.execute("PRAGMA quick_check").fetchone()
                if verdict and verdict[0] != "ok":
                    raise sqlite3.DatabaseError(f"database disk image is malformed: {verdict[0]}")
            self.db.enable_wal()
            migrations.apply(self.db)
        except sqlite3.DatabaseError as exc:
            raise from_sqlite_error(exc, self.path) from None

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> StudyDB:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- study, recipe, environment ---------------------------------------------------------------
    def ensure_study(self, name: str, description: str = "") -> int:
        """The id of the study called ``name``, creating it if needed."""
        row = self.db.execute("SELECT id FROM studies WHERE name = ?", [name]).fetchone()
        if row:
            return row[0]
        with self.db.atomic():
            t = now()
            return (
                self.db["studies"]
                .insert({"name": name, "description": description, "created_at": t, "updated_at": t})
                .last_pk
            )

    def record_recipe(
        self, study_id: int, recipe_hash: str, toml_text: str, resolved: dict, source_path: str | None
    ) -> None:
        """Keep a snapshot of the recipe (once per hash) and mark it as the study's current one."""
        with self.db.atomic():
            if not self.db.execute("SELECT 1 FROM recipe_snapshots WHERE hash = ?", [recipe_hash]).fetchone():
                self.db["recipe_snapshots"].insert(
                    {
                        "hash": recipe_hash,
                        "study_id": study_id,
                        "source_path": source_path,
                        "toml": toml_text,
                        "resolved_json": _json(resolved),
                        "recorded_at": now(),
                    }
                )
            self.db.execute(
                "UPDATE studies SET current_recipe_hash = ?, updated_at = ? WHERE id = ?",
                [recipe_hash, now(), study_id],
            )

    def record_environment(self, env: dict[str, Any]) -> int:
        """Store a description of the software and hardware (one row per distinct one); its id."""
        fingerprint = hashlib.sha256(_json(env).encode()).hexdigest()
        row = self.db.execute("SELECT id FROM environments WHERE fingerprint = ?", [fingerprint]).fetchone()
        if row:
            return row[0]
        with self.db.atomic():
            return (
                self.db["environments"]
                .insert(
                    {
                        "fingerprint": fingerprint,
                        "recorded_at": now(),
                        "python": env.get("python", ""),
                        "platform": env.get("platform", ""),
                        "cpu": env.get("cpu"),
                        "cpu_count": env.get("cpu_count"),
                        "ram_bytes": env.get("ram_bytes"),
                        "gpu": env.get("gpu"),
                        "vram_bytes": env.get("vram_bytes"),
                        "cuda": env.get("cuda"),
                        "packages_json": _json(env.get("packages", {})),
                    }
                )
                .last_pk
            )

    # -- cells ------------------------------------------------------------------------------------
    def upsert_cell(self, study_id: int, cell: dict[str, Any]) -> None:
        """Insert or update a cell (id, model, kind, finetune_lang, seed, epochs, config)."""
        config = cell.get("config", {})
        row = {
            "id": cell["id"],
            "study_id": study_id,
            "model": cell["model"],
            "kind": cell["kind"],
            "finetune_lang": cell.get("finetune_lang"),
            "seed": cell.get("seed"),
            "epochs": cell.get("epochs"),
            "config_hash": cell["config_hash"],
            "config_json": _json(config),
        }
        with self.db.atomic():
            existing = self.db.execute("SELECT 1 FROM cells WHERE id = ?", [cell["id"]]).fetchone()
            if existing:
                sets = ", ".join(f"{k} = ?" for k in row if k != "id")
                self.db.execute(
                    f"UPDATE cells SET {sets} WHERE id = ?", [*(v for k, v in row.items() if k != "id"), cell["id"]]
                )
            else:
                self.db["cells"].insert({**row, "created_at": now()})

    # -- stage runs -------------------------------------------------------------------------------
    def start_stage_run(
        self,
        study_id: int,
        stage: str,
        *,
        cell_id: str | None = None,
        unit: str = "",
        input_key: str | None = None,
        environment_id: int | None = None,
        recipe_hash: str | None = None,
        pid: int | None = None,
    ) -> int:
        """Record that a stage started on a cell/unit; returns the run id."""
        with self.db.atomic():
            return (
                self.db["stage_runs"]
                .insert(
                    {
                        "study_id": study_id,
                        "stage": stage,
                        "cell_id": cell_id,
                        "unit": unit,
                        "status": "running",
                        "uid": uuid.uuid4().hex,
                        "input_key": input_key,
                        "started_at": now(),
                        "pid": pid,
                        "environment_id": environment_id,
                        "recipe_hash": recipe_hash,
                        "details_json": "{}",
                    }
                )
                .last_pk
            )

    def finish_stage_run(
        self,
        run_id: int,
        status: str,
        *,
        error: str | None = None,
        hint: str | None = None,
        details: dict | None = None,
    ) -> None:
        """Close a stage run as done, failed or skipped."""
        if status not in ("done", "failed", "skipped"):
            raise ValueError(f"not a final status: {status}")
        with self.db.atomic():
            self.db.execute(
                "UPDATE stage_runs SET status = ?, finished_at = ?, error = ?, hint = ?, details_json = ? WHERE id = ?",
                [status, now(), error, hint, _json(details or {}), run_id],
            )

    # -- artifacts --------------------------------------------------------------------------------
    def add_artifact(
        self,
        *,
        kind: str,
        path: str | Path,
        cell_id: str | None = None,
        stage_run_id: int | None = None,
        quantization: str | None = None,
        meta: dict | None = None,
        sha256: str | None = None,
    ) -> int:
        """Record a file produced by a stage (its hash and size are computed unless given)."""
        p = Path(path)
        digest = sha256 or file_sha256(p)
        with self.db.atomic():
            existing = self.db.execute(
                "SELECT id FROM artifacts WHERE path = ? AND sha256 = ?", [str(p), digest]
            ).fetchone()
            if existing:
                return existing[0]
            return (
                self.db["artifacts"]
                .insert(
                    {
                        "cell_id": cell_id,
                        "stage_run_id": stage_run_id,
                        "kind": kind,
                        "path": str(p),
                        "sha256": digest,
                        "size_bytes": p.stat().st_size,
                        "quantization": quantization,
                        "created_at": now(),
                        "meta_json": _json(meta or {}),
                    }
                )
                .last_pk
            )

    # -- prompts ----------------------------------------------------------------------------------
    def add_prompts(self, study_id: int, prompts: Iterable[dict[str, Any]]) -> int:
        """Insert or refresh evaluation prompts; returns how many were written."""
        rows = [
            {
                "id": f"{p['item_id']}:{p['lang']}",
                "study_id": study_id,
                "item_id": p["item_id"],
                "lang": p["lang"],
                "category": p.get("category"),
                "domain": p.get("domain"),
                "text": p["text"],
                "source": p["source"],
            }
            for p in prompts
        ]
        with self.db.atomic():
            self.db["prompts"].upsert_all(rows, pk="id")
        return len(rows)

    # -- responses, judgments, human labels -------------------------------------------------------
    def add_response(self, row: dict[str, Any]) -> int | None:
        """Commit one response. Returns its id, or None if that (prompt, cell, generation key) exists."""
        row = {**row, "created_at": row.get("created_at") or now()}
        if isinstance(row.get("params_json"), dict):
            row["params_json"] = _json(row["params_json"])
        cols = ", ".join(row)
        marks = ", ".join("?" for _ in row)
        with self.db.atomic():
            cur = self.db.execute(f"INSERT OR IGNORE INTO responses ({cols}) VALUES ({marks})", list(row.values()))
            return cur.lastrowid if cur.rowcount else None

    def add_judgment(self, row: dict[str, Any]) -> None:
        """Store (or replace) the judgment of one response by one judge with one judge key."""
        row = {**row, "created_at": row.get("created_at") or now()}
        if isinstance(row.get("evidence_json"), (dict, list)):
            row["evidence_json"] = _json(row["evidence_json"])
        with self.db.atomic():
            self.db.execute(
                f"INSERT OR REPLACE INTO judgments ({', '.join(row)}) VALUES ({', '.join('?' for _ in row)})",
                list(row.values()),
            )

    def add_measurement(self, row: dict[str, Any]) -> None:
        """Commit one item's measurement (a row with the same identity is kept as it is)."""
        row = {**row, "created_at": row.get("created_at") or now()}
        if isinstance(row.get("meta_json"), dict):
            row["meta_json"] = _json(row["meta_json"])
        with self.db.atomic():
            self.db.execute(
                f"INSERT OR IGNORE INTO measurements ({', '.join(row)}) VALUES ({', '.join('?' for _ in row)})",
                list(row.values()),
            )

    def add_translation(self, row: dict[str, Any]) -> None:
        """Commit one translation (``text_sha`` is computed from ``source_text``; an existing row with
        the same identity is kept)."""
        row = {**row, "text_sha": text_sha(row["source_text"]), "created_at": row.get("created_at") or now()}
        for col in ("flags_json", "quality_json"):
            if not isinstance(row.get(col), str):
                row[col] = _json(row.get(col) or ([] if col == "flags_json" else {}))
        with self.db.atomic():
            self.db.execute(
                f"INSERT OR IGNORE INTO translations ({', '.join(row)}) VALUES ({', '.join('?' for _ in row)})",
                list(row.values()),
            )

    def set_current_measurement(
        self, cell_id: str, measure: str, measure_key: str, items: int, missing: list[str]
    ) -> None:
        """Make ``measure_key`` the cell's current ``measure`` (once every item has its row)."""
        with self.db.atomic():
            self.db.execute(
                """INSERT INTO current_measurements (cell_id, measure, measure_key, items, missing_json, recorded_at)
                   VALUES (?, ?, ?, ?, ?, ?)
                   ON CONFLICT (cell_id, measure) DO UPDATE SET measure_key = excluded.measure_key,
                       items = excluded.items, missing_json = excluded.missing_json,
                       recorded_at = excluded.recorded_at""",
                [cell_id, measure, measure_key, items, _json(missing), now()],
            )

    def set_current_generation(
        self, cell_id: str, generation_key: str, settings_key: str, prompt_ids: Iterable[str] | None = None
    ) -> None:
        """Make this generation the cell's current one, answering ``prompt_ids`` (default: every prompt
        it has answered). The generate stage calls it once the recipe's prompts are all answered."""
        with self.db.atomic():
            if prompt_ids is None:
                prompt_ids = [
                    r[0]
                    for r in self.db.execute(
                        "SELECT prompt_id FROM responses WHERE cell_id = ? AND generation_key = ?",
                        [cell_id, generation_key],
                    ).fetchall()
                ]
            prompt_ids = list(dict.fromkeys(prompt_ids))
            self.db.execute(
                """INSERT INTO current_generations (cell_id, generation_key, settings_key, responses, recorded_at)
                   VALUES (?, ?, ?, ?, ?)
                   ON CONFLICT (cell_id) DO UPDATE SET generation_key = excluded.generation_key,
                       settings_key = excluded.settings_key, responses = excluded.responses,
                       recorded_at = excluded.recorded_at""",
                [cell_id, generation_key, settings_key, len(prompt_ids), now()],
            )
            self.db.execute("DELETE FROM current_prompts WHERE cell_id = ?", [cell_id])
            self.db.conn.executemany(
                "INSERT INTO current_prompts (cell_id, prompt_id) VALUES (?, ?)", [(cell_id, p) for p in prompt_ids]
            )

    def set_current_judgments(
        self, cell_id: str, judge: str, judge_key: str, generation_key: str, judgments: int
    ) -> None:
        """Make this judge key's judgments of a generation the current ones (once all are judged)."""
        with self.db.atomic():
            self.db.execute(
                """INSERT INTO current_judgments (cell_id, judge, judge_key, generation_key, judgments, recorded_at)
                   VALUES (?, ?, ?, ?, ?, ?)
                   ON CONFLICT (cell_id, judge) DO UPDATE SET judge_key = excluded.judge_key,
                       generation_key = excluded.generation_key, judgments = excluded.judgments,
                       recorded_at = excluded.recorded_at""",
                [cell_id, judge, judge_key, generation_key, judgments, now()],
            )

    def set_human_label(self, response_id: int, annotator: str, label: str, note: str = "") -> None:
        """Save a person's label for a response (replacing that person's earlier label)."""
        with self.db.atomic():
            self.db.execute(
                """INSERT INTO human_labels (response_id, annotator, label, note, created_at)
                   VALUES (?, ?, ?, ?, ?)
                   ON CONFLICT (response_id, annotator) DO UPDATE SET label = excluded.label,
                       note = excluded.note, created_at = excluded.created_at""",
                [response_id, annotator, label, note, now()],
            )

    def remove_human_label(self, response_id: int, annotator: str) -> None:
        """Undo a label."""
        with self.db.atomic():
            self.db.execute(
                "DELETE FROM human_labels WHERE response_id = ? AND annotator = ?", [response_id, annotator]
            )

    def query(self, sql: str, params: Iterable[Any] = ()) -> Iterator[dict[str, Any]]:
        """Rows of a read query as dicts."""
        return self.db.query(sql, list(params))


def text_sha(text: str) -> str:
    """The sha256 of a text (UTF-8), the address of its translations."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def file_sha256(path: Path, chunk: int = 1 << 20) -> str:
    """The sha256 of a file, read in chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def open_study_db(path: str | Path, *, check: bool = False) -> StudyDB:
    """Open (creating and migrating if needed) the study database at ``path``; ``check``: see StudyDB."""
    return StudyDB(path, check=check)
