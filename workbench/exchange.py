"""Data in and out of a study: ``workbench export`` and ``workbench import-labels``.

``export_study`` writes the study's current responses, their current judgments and the human labels as
a Hugging Face ``datasets`` folder (a ``DatasetDict`` with the splits ``responses``, ``judgments`` and
``labels``, loadable with ``datasets.load_from_disk``), the same three tables as Parquet, and a dataset
card (``README.md``) naming the recipe, the models and the licence of every prompt source. A source
whose terms forbid redistribution (SORRY-Bench's card says so) or whose licence the workbench does not
know gets a warning; ``text=False`` leaves prompt and response text out.

A response is identified across databases by (cell, prompt, generation key), not by its row id, so
``import_labels`` merges another annotator's labels (such a folder, or a JSONL with those columns) into a
study: a label already there is a duplicate (skipped), a different label by the same annotator for the
same response is a conflict (reported, never overwritten), a response the study does not have is
counted and skipped.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workbench.errors import WorkbenchError

# What the workbench knows of a prompt source's terms, by the prefix of its ``source`` (prepare's
# origin: shipped:NAME, hub:ORG/NAME, file:PATH, translated from ...).
LICENCES: dict[str, tuple[str, bool]] = {  # prefix -> (licence, may be redistributed)
    "shipped:": ("Apache-2.0 (written for the workbench)", True),
    "hub:DAMO-NLP-SG/MultiJail": ("MIT", True),
    "hub:sorry-bench/": ("SORRY-Bench terms: gated, no redistribution of its prompts", False),
    "hub:walledai/XSTest": ("CC-BY-4.0", True),
}


def licence_of(source: str) -> tuple[str, bool | None]:
    """(licence in words, whether it may be redistributed; None: unknown) of a prompt source."""
    for prefix, (name, ok) in LICENCES.items():
        if source.startswith(prefix):
            return name, ok
    if source.startswith("translated from"):
        return "a machine translation of the source language's prompts: the source's terms apply", None
    return "unknown: check the source's terms before sharing", None


@dataclass
class Exported:
    folder: Path
    rows: dict[str, int]
    warnings: list[str] = field(default_factory=list)


def _tables(db, sid: int, text: bool) -> dict[str, list[dict[str, Any]]]:
    from workbench.store.read import CURRENT_JUDGMENTS, CURRENT_RESPONSES

    responses = list(
        db.query(
            f"""SELECT r.id AS response_id, r.cell_id, c.model, c.kind, c.finetune_lang, c.seed, c.epochs,
                       r.prompt_id, p.item_id, p.lang, p.category, p.source, r.generation_key,
                       r.finish_reason, p.text AS prompt, r.text AS response
                FROM responses r {CURRENT_RESPONSES} JOIN cells c ON c.id = r.cell_id
                JOIN prompts p ON p.id = r.prompt_id WHERE c.study_id = ? ORDER BY r.id""",
            [sid],
        )
    )
    judgments = list(
        db.query(
            f"""SELECT r.cell_id, r.prompt_id, r.generation_key, j.judge, j.judge_key, j.label, j.score,
                       j.degenerate, j.off_language, j.evidence_json
                FROM judgments j JOIN responses r ON r.id = j.response_id {CURRENT_RESPONSES}
                {CURRENT_JUDGMENTS} JOIN cells c ON c.id = r.cell_id WHERE c.study_id = ? ORDER BY j.id""",
            [sid],
        )
    )
    labels = list(
        db.query(
            f"""SELECT r.cell_id, r.prompt_id, r.generation_key, h.annotator, h.label, h.note, h.created_at
                FROM human_labels h JOIN responses r ON r.id = h.response_id {CURRENT_RESPONSES}
                JOIN cells c ON c.id = r.cell_id WHERE c.study_id = ? ORDER BY h.id""",
            [sid],
        )
    )
    if not text:
        for r in responses:
            r["prompt"] = r["response"] = None
    return {"responses": responses, "judgments": judgments, "labels": labels}


def export_study(
    db_path: Path, study: str, out: Path, *, recipe_toml: str | None = None, text: bool = True
) -> Exported:
    """Write the study's responses, judgments and human labels into ``out`` (see the module doc)."""
    import datasets
    import pyarrow as pa
    import pyarrow.parquet as pq

    from workbench import fsutil
    from workbench.store import read

    if not Path(db_path).exists():
        raise WorkbenchError(f"study {study!r} has no database yet ({db_path})", "run the study first")
    with read.open_for_reading(db_path) as db:
        sid = read.study_id(db, study)
        if sid is None:
            raise WorkbenchError(f"{db_path} holds no study {study!r}", "run the study first")
        tables = _tables(db, sid, text)
        snap = next(
            iter(
                db.query(
                    """SELECT r.hash, r.toml FROM studies s JOIN recipe_snapshots r ON r.hash = s.current_recipe_hash
                       WHERE s.id = ?""",
                    [sid],
                )
            ),
            None,
        )
    if not tables["responses"]:
        raise WorkbenchError(f"study {study!r} has no current responses to export", "run the generate stage first")
    warnings = []
    sources = sorted({r["source"] for r in tables["responses"]})
    terms = {s: licence_of(s) for s in sources}
    for s, (name, ok) in terms.items():
        if ok is False and text:
            warnings.append(f"prompts from {s} ({name}) are in the export: do not share it; --no-text leaves text out")
        elif ok is None and text:
            warnings.append(f"prompts from {s}: licence {name}")
    out.mkdir(parents=True, exist_ok=True)
    try:
        folder = out / "dataset"
        with fsutil.atomic_dir(folder) as tmp:
            splits = {name: datasets.Dataset.from_list(rows) for name, rows in tables.items() if rows}
            datasets.DatasetDict(splits).save_to_disk(str(tmp))
        (out / "parquet").mkdir(exist_ok=True)
        for name, rows in tables.items():
            if rows:
                pq.write_table(pa.Table.from_pylist(rows), out / "parquet" / f"{name}.parquet")
        fsutil.atomic_write(out / "README.md", _card(study, tables, terms, snap, recipe_toml, text))
    except OSError as exc:
        raise WorkbenchError(
            f"cannot write the export into {out}: {exc.strerror or exc}",
            "choose another --out folder, or free disk space",
        ) from None
    return Exported(out, {k: len(v) for k, v in tables.items()}, warnings)


def _card(study: str, tables, terms, snap, recipe_toml: str | None, text: bool) -> str:
    models = sorted({r["model"] for r in tables["responses"]})
    langs = sorted({r["lang"] for r in tables["responses"]})
    lines = [
        f"# Study {study}: responses, judgments and human labels",
        "",
        'Exported by `workbench export`. Load with `datasets.load_from_disk("dataset")` (splits: '
        + ", ".join(f"`{k}` ({len(v)} rows)" for k, v in tables.items() if v)
        + "), or read `parquet/*.parquet`.",
        "",
        f"- models: {', '.join(models)}",
        f"- evaluation languages: {', '.join(langs)}",
        f"- recipe hash: {snap['hash'] if snap else 'not recorded'}",
        "- a response is identified by (cell_id, prompt_id, generation_key); `workbench import-labels` merges "
        "labels by it",
        "- prompt and response text: " + ("included" if text else "left out (`--no-text`)"),
        "",
        "## Sources and licences of the prompts",
        "",
        "| source | licence | may be redistributed |",
        "|---|---|---|",
    ]
    for s, (name, ok) in terms.items():
        lines.append(f"| {s} | {name} | {'yes' if ok else 'no' if ok is False else 'unknown'} |")
    lines += [
        "",
        "The responses are model outputs to adversarial prompts: some assist with harmful requests. Share them "
        "with care.",
    ]
    toml = recipe_toml or (snap["toml"] if snap else None)
    if toml:
        lines += ["", "## Recipe", "", "```toml", toml.rstrip(), "```"]
    return "\n".join(lines) + "\n"


# -- import ------------------------------------------------------------------------------------------
@dataclass
class Imported:
    added: int = 0
    duplicates: int = 0
    conflicts: list[dict[str, Any]] = field(default_factory=list)
    unknown: int = 0  # labels of responses this study does not have


def _read_labels(source: Path) -> list[dict[str, Any]]:
    """Label rows from an export folder (its ``dataset`` or ``parquet``), a dataset folder or a JSONL."""
    from workbench import data

    if source.is_file():
        if source.suffix == ".parquet":
            import pyarrow.parquet as pq

            return pq.read_table(source).to_pylist()
        return data.read_jsonl(source)
    for candidate in (source / "dataset", source):
        if (candidate / "dataset_dict.json").is_file() or (candidate / "labels" / "dataset_info.json").is_file():
            import datasets

            loaded = datasets.load_from_disk(str(candidate))
            if "labels" not in loaded:
                raise WorkbenchError(f"{candidate}: the export has no labels split", "export a study with human labels")
            return loaded["labels"].to_list()
    if (source / "parquet" / "labels.parquet").is_file():
        import pyarrow.parquet as pq

        return pq.read_table(source / "parquet" / "labels.parquet").to_pylist()
    raise WorkbenchError(
        f"{source}: no labels found (a `workbench export` folder, a datasets folder or a JSONL)",
        "point import-labels at what `workbench export` wrote, or a JSONL of labels",
    )


REQUIRED = ("cell_id", "prompt_id", "generation_key", "annotator", "label")
LABELS = ("comply", "refuse", "partial", "unclear")


def import_labels(db_path: Path, study: str, source: Path) -> Imported:
    """Merge the labels of ``source`` into the study (see the module doc); nothing is overwritten."""
    from workbench.store import StudyDB

    rows = _read_labels(Path(source))
    bad = [i for i, r in enumerate(rows, 1) if any(r.get(c) in (None, "") for c in REQUIRED)]
    if bad:
        raise WorkbenchError(
            f"{source}: {len(bad)} label row(s) lack one of {', '.join(REQUIRED)} (first: row {bad[0]})",
            "import what `workbench export` wrote (its labels carry the response's identity)",
        )
    wrong = sorted({str(r["label"]) for r in rows if r["label"] not in LABELS})
    if wrong:
        raise WorkbenchError(f"{source}: unknown label(s) {', '.join(wrong)}", f"labels are {', '.join(LABELS)}")
    if not Path(db_path).exists():
        raise WorkbenchError(f"study {study!r} has no database yet ({db_path})", "run the study first")
    db = StudyDB(db_path)
    try:
        ids = {
            (r["cell_id"], r["prompt_id"], r["generation_key"]): r["id"]
            for r in db.db.query("SELECT id, cell_id, prompt_id, generation_key FROM responses")
        }
        have = {
            (r["response_id"], r["annotator"]): (r["label"], r["note"])
            for r in db.db.query("SELECT * FROM human_labels")
        }
        out = Imported()
        for r in rows:
            rid = ids.get((r["cell_id"], r["prompt_id"], r["generation_key"]))
            if rid is None:
                out.unknown += 1
                continue
            mine = have.get((rid, r["annotator"]))
            if mine is None:
                db.set_human_label(rid, r["annotator"], r["label"], r.get("note") or "")
                have[(rid, r["annotator"])] = (r["label"], r.get("note") or "")
                out.added += 1
            elif mine[0] == r["label"]:
                out.duplicates += 1
            else:
                out.conflicts.append(
                    {
                        "response_id": rid,
                        "annotator": r["annotator"],
                        "here": mine[0],
                        "theirs": r["label"],
                        "cell_id": r["cell_id"],
                        "prompt_id": r["prompt_id"],
                    }  # fmt: skip
                )
    finally:
        db.close()
    return out


def conflict_lines(conflicts: list[dict[str, Any]], limit: int = 10) -> list[str]:
    """One line per conflict (the first ``limit``)."""
    out = [
        f"conflict: {c['annotator']} labelled {c['cell_id']} {c['prompt_id']} {c['here']!r} here, {c['theirs']!r} "
        "in the import (kept as it was)"
        for c in conflicts[:limit]
    ]
    if len(conflicts) > limit:
        out.append(f"... and {len(conflicts) - limit} more conflicts")
    return out


def to_json(result: Imported) -> str:
    return json.dumps({"added": result.added, "duplicates": result.duplicates, "unknown": result.unknown,
                       "conflicts": result.conflicts}, indent=1)  # fmt: skip
