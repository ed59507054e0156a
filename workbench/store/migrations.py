"""Append-only migrations of the study database. Never edit one that has shipped: add ``m00N_...``.

sqlite-utils' ``Migrations`` records what was applied in ``_sqlite_migrations`` and runs each
migration in a transaction together with that record.
"""

from __future__ import annotations

from sqlite_utils.migrations import Migrations

migrations = Migrations("workbench")


def _run(db, script: str) -> None:
    """Execute a script statement by statement (``executescript`` would commit the migration's transaction)."""
    import sqlite3

    statement = ""
    for line in script.splitlines(keepends=True):
        statement += line
        if sqlite3.complete_statement(statement):
            db.execute(statement)
            statement = ""
    if statement.strip():
        raise ValueError(f"incomplete SQL statement in migration: {statement.strip()[:60]}")


def _rebuild_judgments(db, new_constraint: tuple[str, str]) -> None:
    """Rebuild ``judgments`` from its own stored schema with one constraint replaced (SQLite cannot
    change a table's constraints in place: the procedure of https://www.sqlite.org/lang_altertable.html).

    The view over it is dropped first and must be created again by the caller.
    """
    import re

    (schema,) = db.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'judgments'").fetchone()
    old, new = new_constraint
    if old not in schema:
        raise ValueError(f"unexpected judgments schema (no {old!r}); cannot rebuild it")
    # a renamed table's stored schema quotes its name: CREATE TABLE "judgments" (
    schema = re.sub(r'CREATE TABLE\s+"?judgments"?', "CREATE TABLE judgments_new", schema, count=1)
    db.execute("DROP VIEW IF EXISTS response_overview")
    db.execute(schema.replace(old, new))
    _run(
        db,
        """
        INSERT INTO judgments_new SELECT id, response_id, judge, judge_key, label, score, degenerate,
            off_language, harmful, raw_output, evidence_json, created_at FROM judgments;
        DROP TABLE judgments;
        ALTER TABLE judgments_new RENAME TO judgments;
        CREATE INDEX idx_judgments_judge ON judgments(judge, label);
        CREATE INDEX idx_judgments_response ON judgments(response_id, judge, judge_key);
        """,
    )


@migrations()
def m001_initial(db) -> None:
    _run(
        db,
        """
        CREATE TABLE studies (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            description TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            current_recipe_hash TEXT REFERENCES recipe_snapshots(hash)
        );
        CREATE TABLE recipe_snapshots (
            hash TEXT PRIMARY KEY,            -- sha256 of the validated recipe (canonical JSON)
            study_id INTEGER NOT NULL REFERENCES studies(id),
            source_path TEXT,
            toml TEXT NOT NULL,               -- the recipe file as it was
            resolved_json TEXT NOT NULL,      -- the validated recipe with defaults filled in
            recorded_at TEXT NOT NULL
        );
        CREATE TABLE environments (
            id INTEGER PRIMARY KEY,
            fingerprint TEXT NOT NULL UNIQUE, -- sha256 of the JSON below; one row per distinct setup
            recorded_at TEXT NOT NULL,
            python TEXT NOT NULL,
            platform TEXT NOT NULL,
            cpu TEXT,
            cpu_count INTEGER,
            ram_bytes INTEGER,
            gpu TEXT,
            vram_bytes INTEGER,
            cuda TEXT,
            packages_json TEXT NOT NULL       -- {"torch": "2.13.0", "llama-cpp-python": ...}
        );
        CREATE TABLE cells (
            id TEXT PRIMARY KEY,              -- e.g. "gemma3-270m/base", "gemma3-270m/es/s0-e3"
            study_id INTEGER NOT NULL REFERENCES studies(id),
            model TEXT NOT NULL,              -- the recipe's model name
            kind TEXT NOT NULL CHECK (kind IN ('base', 'finetune')),
            finetune_lang TEXT,               -- NULL for the base model
            seed INTEGER,
            epochs INTEGER,
            config_hash TEXT NOT NULL,        -- hash of everything that determines the cell's weights
            config_json TEXT NOT NULL,
            created_at TEXT NOT NULL,
            CHECK ((kind = 'base') = (finetune_lang IS NULL))
        );
        CREATE TABLE stage_runs (
            id INTEGER PRIMARY KEY,
            study_id INTEGER NOT NULL REFERENCES studies(id),
            stage TEXT NOT NULL,              -- prepare, align, finetune, export, generate, judge, results
            cell_id TEXT REFERENCES cells(id),
            unit TEXT NOT NULL DEFAULT '',    -- what the run covers inside the stage (model, judge, ...)
            status TEXT NOT NULL CHECK (status IN ('pending', 'running', 'done', 'failed', 'skipped')),
            input_key TEXT,                   -- hash of the inputs; a done run with the same key is reused
            started_at TEXT,
            finished_at TEXT,
            error TEXT,
            hint TEXT,
            pid INTEGER,
            environment_id INTEGER REFERENCES environments(id),
            recipe_hash TEXT REFERENCES recipe_snapshots(hash),
            details_json TEXT NOT NULL DEFAULT '{}'
        );
        CREATE INDEX idx_stage_runs_lookup ON stage_runs(study_id, stage, cell_id, unit);
        CREATE TABLE artifacts (
            id INTEGER PRIMARY KEY,
            cell_id TEXT REFERENCES cells(id),
            stage_run_id INTEGER REFERENCES stage_runs(id),
            kind TEXT NOT NULL,               -- adapter, gguf, merged, aligned_base, manifest, data
            path TEXT NOT NULL,
            sha256 TEXT NOT NULL,
            size_bytes INTEGER NOT NULL,
            quantization TEXT,
            created_at TEXT NOT NULL,
            meta_json TEXT NOT NULL DEFAULT '{}',
            UNIQUE (path, sha256)
        );
        CREATE INDEX idx_artifacts_cell ON artifacts(cell_id, kind);
        CREATE TABLE prompts (
            id TEXT PRIMARY KEY,              -- "<item id>:<lang>", e.g. "a001:es"
            study_id INTEGER NOT NULL REFERENCES studies(id),
            item_id TEXT NOT NULL,            -- the same item across languages
            lang TEXT NOT NULL,
            category TEXT,
            domain TEXT,
            text TEXT NOT NULL,
            source TEXT NOT NULL              -- "shipped:adversarial", "hub:<id>", "file:<path>"
        );
        CREATE INDEX idx_prompts_lang ON prompts(study_id, lang, category);
        CREATE TABLE responses (
            id INTEGER PRIMARY KEY,
            prompt_id TEXT NOT NULL REFERENCES prompts(id),
            cell_id TEXT NOT NULL REFERENCES cells(id),
            artifact_id INTEGER REFERENCES artifacts(id),   -- the GGUF that answered
            generation_key TEXT NOT NULL,     -- hash of the generation parameters; part of the identity
            text TEXT NOT NULL,
            system_prompt TEXT,
            temperature REAL NOT NULL,
            top_p REAL NOT NULL,
            seed INTEGER,
            max_new_tokens INTEGER NOT NULL,
            params_json TEXT NOT NULL,
            prompt_tokens INTEGER NOT NULL,
            completion_tokens INTEGER NOT NULL,
            ttft_ms REAL,
            tokens_per_s REAL,
            total_ms REAL,
            finish_reason TEXT NOT NULL CHECK (finish_reason IN ('stop', 'length', 'error')),
            created_at TEXT NOT NULL,
            UNIQUE (prompt_id, cell_id, generation_key)
        );
        CREATE INDEX idx_responses_cell ON responses(cell_id, prompt_id);
        CREATE TABLE judgments (
            id INTEGER PRIMARY KEY,
            response_id INTEGER NOT NULL REFERENCES responses(id) ON DELETE CASCADE,
            judge TEXT NOT NULL,
            judge_key TEXT NOT NULL,          -- hash of the judge's configuration
            label TEXT NOT NULL CHECK (label IN ('comply', 'refuse', 'unparseable')),
            score REAL CHECK (score IS NULL OR (score >= 0 AND score <= 1)),
            degenerate INTEGER NOT NULL DEFAULT 0,
            off_language INTEGER NOT NULL DEFAULT 0,
            harmful INTEGER,                  -- a harmfulness flag where the judge gives one
            raw_output TEXT,                  -- the judge model's raw answer, kept as it was
            evidence_json TEXT NOT NULL DEFAULT '{}',
            created_at TEXT NOT NULL,
            UNIQUE (response_id, judge)
        );
        CREATE INDEX idx_judgments_judge ON judgments(judge, label);
        CREATE TABLE human_labels (
            id INTEGER PRIMARY KEY,
            response_id INTEGER NOT NULL REFERENCES responses(id) ON DELETE CASCADE,
            annotator TEXT NOT NULL,
            label TEXT NOT NULL CHECK (label IN ('comply', 'refuse', 'partial', 'unclear')),
            note TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL,
            UNIQUE (response_id, annotator)
        );
        CREATE INDEX idx_human_labels_annotator ON human_labels(annotator);

        -- A flat view for browsing (Datasette, sqlite3): one row per response with its context.
        CREATE VIEW response_overview AS
            SELECT r.id AS response_id, c.model, c.finetune_lang, c.seed, c.epochs,
                   p.lang AS eval_lang, p.category, p.item_id, p.text AS prompt, r.text AS response,
                   r.finish_reason, r.completion_tokens, r.tokens_per_s,
                   (SELECT group_concat(j.judge || '=' || j.label, ', ') FROM judgments j
                     WHERE j.response_id = r.id) AS judgments,
                   (SELECT group_concat(h.annotator || '=' || h.label, ', ') FROM human_labels h
                     WHERE h.response_id = r.id) AS human_labels
            FROM responses r JOIN cells c ON c.id = r.cell_id JOIN prompts p ON p.id = r.prompt_id;
        """,
    )


@migrations()
def m002_current_keys(db) -> None:
    """Which responses and judgments are a cell's current ones, recorded when they are complete.

    Before this, readers took "the newest generation key" per cell, so a half-finished regeneration
    with new settings silently became the results, and a partial re-judge replaced judgments in
    place (the unique key was (response, judge)), mixing two judge keys. Now judgments are unique per
    (response, judge, judge key), so an older judge key's judgments survive a re-judge, and the
    stages record a cell's generation key and each judge's key once they are complete (the backfill
    for existing studies is described in the SQL below).
    """
    _rebuild_judgments(db, ("UNIQUE (response_id, judge)", "UNIQUE (response_id, judge, judge_key)"))
    _run(
        db,
        """
        -- a cell's current responses in prompt order, read from the index alone
        CREATE INDEX idx_responses_current ON responses(cell_id, generation_key, prompt_id);

        -- The generation a cell's results are read from: recorded when every prompt of the recipe is
        -- answered; its prompts are listed in current_prompts (a language added to the recipe later is
        -- not read until its prompts are answered too, a language removed is no longer read).
        CREATE TABLE current_generations (
            cell_id TEXT PRIMARY KEY REFERENCES cells(id),
            generation_key TEXT NOT NULL,     -- responses.generation_key of the cell's current responses
            settings_key TEXT NOT NULL,       -- the generation settings alone (without the GGUF)
            responses INTEGER NOT NULL,       -- how many prompts it answers (rows in current_prompts)
            recorded_at TEXT NOT NULL
        );
        CREATE TABLE current_prompts (
            cell_id TEXT NOT NULL REFERENCES current_generations(cell_id) ON DELETE CASCADE,
            prompt_id TEXT NOT NULL REFERENCES prompts(id),
            PRIMARY KEY (cell_id, prompt_id)
        ) WITHOUT ROWID;
        -- The judgments a cell's results are read from, per judge: recorded when the judge has read
        -- every current response of the cell.
        CREATE TABLE current_judgments (
            cell_id TEXT NOT NULL REFERENCES cells(id),
            judge TEXT NOT NULL,
            judge_key TEXT NOT NULL,
            generation_key TEXT NOT NULL,     -- the responses it judged
            judgments INTEGER NOT NULL,
            recorded_at TEXT NOT NULL,
            PRIMARY KEY (cell_id, judge)
        );

        -- Databases written before: per cell the generation key with the most responses (the newest
        -- among equals), per (cell, judge) the judge key with the most judgments of those responses.
        -- The generate and judge stages rerun once after this (their input keys changed) and record
        -- the recipe's own keys; this only keeps readers meaningful until then.
        WITH per_key AS (
                SELECT cell_id, generation_key, count(*) AS n, max(id) AS last FROM responses
                GROUP BY cell_id, generation_key),
             ranked AS (
                SELECT *, row_number() OVER (PARTITION BY cell_id ORDER BY n DESC, last DESC) AS rank
                FROM per_key)
        INSERT INTO current_generations (cell_id, generation_key, settings_key, responses, recorded_at)
            SELECT k.cell_id, k.generation_key,
                   -- the settings as the old rows recorded them, without what differs between cells
                   'legacy:' || r.temperature || ':' || r.top_p || ':' || r.max_new_tokens || ':'
                       || coalesce(r.system_prompt, '') || ':'
                       || json_remove(r.params_json, '$.gguf_sha256', '$.parallel_sequences', '$.n_gpu_layers'),
                   k.n, strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
            FROM ranked k JOIN responses r ON r.id = k.last WHERE k.rank = 1;
        INSERT INTO current_prompts (cell_id, prompt_id)
            SELECT g.cell_id, r.prompt_id FROM current_generations g
            JOIN responses r ON r.cell_id = g.cell_id AND r.generation_key = g.generation_key;
        WITH per_key AS (
                SELECT r.cell_id, j.judge, j.judge_key, r.generation_key, count(*) AS n, max(j.id) AS last
                FROM judgments j JOIN responses r ON r.id = j.response_id
                JOIN current_generations g ON g.cell_id = r.cell_id AND g.generation_key = r.generation_key
                GROUP BY r.cell_id, j.judge, j.judge_key),
             ranked AS (
                SELECT *, row_number() OVER (PARTITION BY cell_id, judge ORDER BY n DESC, last DESC) AS rank
                FROM per_key)
        INSERT INTO current_judgments (cell_id, judge, judge_key, generation_key, judgments, recorded_at)
            SELECT cell_id, judge, judge_key, generation_key, n, strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
            FROM ranked WHERE rank = 1;

        -- One row per current response with its current judgments (browse with Datasette, sqlite3).
        CREATE VIEW response_overview AS
            SELECT r.id AS response_id, c.model, c.finetune_lang, c.seed, c.epochs,
                   p.lang AS eval_lang, p.category, p.item_id, p.text AS prompt, r.text AS response,
                   r.finish_reason, r.completion_tokens, r.tokens_per_s,
                   (SELECT group_concat(j.judge || '=' || j.label, ', ') FROM judgments j
                     JOIN current_judgments cj ON cj.cell_id = r.cell_id AND cj.judge = j.judge
                          AND cj.judge_key = j.judge_key AND cj.generation_key = r.generation_key
                     WHERE j.response_id = r.id) AS judgments,
                   (SELECT group_concat(h.annotator || '=' || h.label, ', ') FROM human_labels h
                     WHERE h.response_id = r.id) AS human_labels
            FROM responses r JOIN cells c ON c.id = r.cell_id JOIN prompts p ON p.id = r.prompt_id
            JOIN current_generations g ON g.cell_id = r.cell_id AND g.generation_key = r.generation_key
            JOIN current_prompts cp ON cp.cell_id = r.cell_id AND cp.prompt_id = r.prompt_id;
        """,
    )


@migrations()
def m003_neither_and_unsure(db) -> None:
    """Two more judgment labels: ``neither`` (the response neither refuses nor assists: an echo, a loop,
    gibberish, an off-topic answer) and ``unsure`` (the judge has no evidence either way and abstains)."""
    (view,) = db.execute("SELECT sql FROM sqlite_master WHERE type = 'view' AND name = 'response_overview'").fetchone()
    _rebuild_judgments(
        db,
        (
            "CHECK (label IN ('comply', 'refuse', 'unparseable'))",
            "CHECK (label IN ('comply', 'refuse', 'neither', 'unsure', 'unparseable'))",
        ),
    )
    db.execute(view)


@migrations()
def m004_measurements(db) -> None:
    """Per-item measurements of a cell beyond its judged responses (the capability stage's answer
    log-likelihoods first), and per (cell, measure) the key whose rows are current."""
    _run(
        db,
        """
        CREATE TABLE measurements (
            id INTEGER PRIMARY KEY,
            cell_id TEXT NOT NULL REFERENCES cells(id),
            measure TEXT NOT NULL,            -- e.g. "answer_nll": what ``value`` is
            measure_key TEXT NOT NULL,        -- hash of everything that determines the value (GGUF, data, settings)
            lang TEXT NOT NULL,
            item_id TEXT NOT NULL,
            value REAL NOT NULL,              -- answer_nll: summed negative log-likelihood, nats
            n INTEGER NOT NULL,               -- answer_nll: the answer tokens it sums over
            meta_json TEXT NOT NULL DEFAULT '{}',
            created_at TEXT NOT NULL,
            UNIQUE (cell_id, measure, measure_key, lang, item_id)
        );
        -- Recorded when a measurement has every item of the cell: readers read this key's rows.
        CREATE TABLE current_measurements (
            cell_id TEXT NOT NULL REFERENCES cells(id),
            measure TEXT NOT NULL,
            measure_key TEXT NOT NULL,
            items INTEGER NOT NULL,
            missing_json TEXT NOT NULL DEFAULT '[]',  -- evaluation languages it could not measure
            recorded_at TEXT NOT NULL,
            PRIMARY KEY (cell_id, measure)
        );
        """,
    )


@migrations()
def m005_translations(db) -> None:
    """Translations (evaluation prompts into languages the data set lacks, responses back into English),
    addressed by content: the same text, language pair and translator is translated once per study."""
    _run(
        db,
        """
        CREATE TABLE translations (
            id INTEGER PRIMARY KEY,
            text_sha TEXT NOT NULL,           -- sha256 of the source text
            source_lang TEXT NOT NULL,
            target_lang TEXT NOT NULL,
            translator_key TEXT NOT NULL,     -- hash of the translator: model, prompt, token limit
            purpose TEXT NOT NULL,            -- "prompt" (translate stage) or "response" (backtranslate)
            source_text TEXT NOT NULL,
            text TEXT NOT NULL,               -- the translation as it came back
            finish_reason TEXT,
            flags_json TEXT NOT NULL DEFAULT '[]',    -- workbench.translation.assess: failures and warnings
            quality_json TEXT NOT NULL DEFAULT '{}',  -- detected language, length ratio, round-trip chrF
            created_at TEXT NOT NULL,
            UNIQUE (text_sha, source_lang, target_lang, translator_key)
        );
        """,
    )


@migrations()
def m006_stage_run_uids(db) -> None:
    """A unique id per stage run, so a stage run recorded in a shard database (a unit that ran on a
    Ray worker or a Slurm job) is merged into the study database once, however often its shard is
    merged. Runs recorded before get one now."""
    _run(
        db,
        """
        ALTER TABLE stage_runs ADD COLUMN uid TEXT;
        UPDATE stage_runs SET uid = lower(hex(randomblob(16))) WHERE uid IS NULL;
        CREATE UNIQUE INDEX idx_stage_runs_uid ON stage_runs(uid);
        """,
    )
