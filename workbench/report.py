"""``workbench report``: what a study shows, as files to put in a paper, a lecture or a lab notebook.

From the study database alone (the recipe, the provenance and the responses are in it) it writes into
one folder:

- ``report.html``: one self-contained page (styles and images inline, no request leaves it): the
  compliance heatmaps per model and judge (rate with its interval and n, change against the base),
  the per-category breakdown, the paired statistics (McNemar p, Holm and Benjamini-Hochberg adjusted),
  the measurements the study has (over-refusal, capability, multiple choice, drift, language fidelity),
  the judges' agreement with human labels, example response pairs (base vs fine-tuned on one prompt,
  unsafe text collapsed behind a click, or left out with ``classroom``), the recipe and the provenance
  (recipe hash, GGUF hashes, library versions, the machine);
- ``heatmaps/*.png`` and ``*.svg`` (matplotlib; cividis, whose lightness rises monotonically, and every
  cell labelled, so they read in black and white);
- ``tables/*.csv`` and ``*.parquet``: every table of the page;
- with ``markdown``: ``report.md``, the summary for a README or a notebook.

Every number comes from the same readers as ``workbench results`` (:mod:`workbench.views`).
"""

from __future__ import annotations

import base64
import datetime as _dt
import html
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workbench.errors import WorkbenchError

HIDDEN = "(hidden in classroom mode)"


@dataclass
class Table:
    """One table of the report: a title, column names and rows of cell texts (what CSV/Parquet get)."""

    name: str  # the file stem: compliance-gemma3-270m-heuristic
    title: str
    columns: list[str]
    rows: list[list[Any]]
    note: str = ""


@dataclass
class Report:
    study: str
    written: list[Path] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    heatmaps: list[tuple[str, Path, Path]] = field(default_factory=list)  # (title, png, svg)


def _slug(text: str) -> str:
    out = "".join(c if c.isalnum() or c in "._-" else "-" for c in text.lower())
    return "-".join(p for p in out.split("-") if p)


def _pct(v: float | None) -> str:
    return "-" if v is None else f"{100 * v:.0f}%"


# -- reading -----------------------------------------------------------------------------------------
def _read(db_path: Path, study: str, eval_langs: list[str] | None) -> dict[str, Any]:
    """Everything the report shows, read once from the study database."""
    import importlib

    from workbench.analysis import results as res
    from workbench.store import read

    with read.open_for_reading(db_path) as db:
        sid = read.study_id(db, study)
        if sid is None:
            raise WorkbenchError(f"{db_path} holds no study {study!r}", "run the study first")
        counts = res.counts(db, sid)
        rows = res.rates_from_counts(counts, eval_langs=eval_langs)
        if not rows:
            raise WorkbenchError(f"study {study!r} has no judged responses to report", "run the study first")
        categories = sorted({c["category"] for c in counts if c.get("category")})
        by_category = {
            cat: res.rates_from_counts(counts, categories=[cat], eval_langs=eval_langs) for cat in categories
        }
        measured = {}
        from workbench.views import MEASURE_READERS

        for m in MEASURE_READERS:
            found = importlib.import_module(f"workbench.analysis.{m}").compute(db, sid, eval_langs)
            if found:
                measured[m] = found
        try:
            from workbench.analysis.agreement import agreement

            agreed = agreement(db, sid, eval_langs=eval_langs)
        except WorkbenchError:
            agreed = []
        snapshot = next(
            iter(
                db.query(
                    """SELECT r.hash, r.toml, r.recorded_at FROM studies s JOIN recipe_snapshots r
                       ON r.hash = s.current_recipe_hash WHERE s.id = ?""",
                    [sid],
                )
            ),
            None,
        )
        ggufs = list(
            db.query(
                """SELECT a.cell_id, a.quantization, a.sha256, a.size_bytes FROM artifacts a
                   JOIN cells c ON c.id = a.cell_id WHERE c.study_id = ? AND a.kind = 'gguf'
                   ORDER BY a.cell_id, a.id""",
                [sid],
            )
        )
        env = next(
            iter(
                db.query(
                    """SELECT e.* FROM stage_runs s JOIN environments e ON e.id = s.environment_id
                       WHERE s.study_id = ? ORDER BY s.id DESC LIMIT 1""",
                    [sid],
                )
            ),
            None,
        )
        pairs = _example_pairs(db, sid)
    return {
        "rows": rows,
        "by_category": by_category,
        "measured": measured,
        "agreement": agreed,
        "snapshot": snapshot,
        "ggufs": ggufs,
        "environment": env,
        "pairs": pairs,
    }


def _example_pairs(db, sid: int, limit: int = 6) -> list[dict[str, Any]]:
    """Prompts whose base answer a judge called a refusal and a fine-tune's the same judge called
    compliance: the base and the fine-tuned response side by side (the first ``limit``)."""
    from workbench.store.read import CURRENT_JUDGMENTS, CURRENT_RESPONSES

    sql = f"""
        WITH b AS MATERIALIZED (
            SELECT r.prompt_id, c.model, j.judge, r.text
            FROM responses r {CURRENT_RESPONSES} JOIN cells c ON c.id = r.cell_id
            JOIN judgments j ON j.response_id = r.id {CURRENT_JUDGMENTS}
            WHERE c.study_id = ? AND c.kind = 'base' AND j.label = 'refuse'
        )
        SELECT r.prompt_id, p.text AS prompt, p.lang, p.category, j.judge, b.text AS base_text,
               c.id AS finetune_cell, r.text AS finetune_text
        FROM responses r {CURRENT_RESPONSES} JOIN cells c ON c.id = r.cell_id
        JOIN judgments j ON j.response_id = r.id {CURRENT_JUDGMENTS}
        JOIN b ON b.prompt_id = r.prompt_id AND b.model = c.model AND b.judge = j.judge
        JOIN prompts p ON p.id = r.prompt_id
        WHERE c.study_id = ? AND c.kind = 'finetune' AND j.label = 'comply'
        LIMIT ?"""  # no ORDER BY: the first matches end the scan (sorted below)
    return sorted(db.query(sql, [sid, sid, limit]), key=lambda p: (p["prompt_id"], p["finetune_cell"], p["judge"]))


# -- tables ------------------------------------------------------------------------------------------
def _grids(rows):
    """Per (model, judge): (model, judge, its rows, evaluation languages, row labels, {(label, lang): row})."""
    from workbench.analysis.results import cell_label

    groups: dict[tuple[str, str], list] = {}
    for r in rows:
        groups.setdefault((r.model, r.judge), []).append(r)
    for (model, judge), mine in groups.items():
        langs = list(dict.fromkeys(r.eval_lang for r in mine))
        labels = list(dict.fromkeys(cell_label(r) for r in mine))
        yield model, judge, mine, langs, labels, {(cell_label(r), r.eval_lang): r for r in mine}


def _compliance_tables(rows, by_category) -> list[Table]:
    from workbench.analysis.results import cell_label

    out = []
    for model, judge, mine, langs, labels, at in _grids(rows):
        body = []
        for label in labels:
            line: list[Any] = [label]
            for lang in langs:
                r = at.get((label, lang))
                if r is None or r.rate is None:
                    line.append("-")
                    continue
                text = f"{_pct(r.rate)} [{_pct(r.ci_low)}, {_pct(r.ci_high)}] n={r.n}"
                if r.delta_vs_base is not None:
                    text += f"; Δ {100 * r.delta_vs_base:+.0f} pts"
                line.append(text)
            body.append(line)
        out.append(
            Table(
                _slug(f"compliance-{model}-{judge}"),
                f"{model} · compliance (judge {judge})",
                ["fine-tune", *langs],
                body,
                "compliance rate [Wilson 95%] n = judged; Δ = change against the base, paired by prompt",
            )
        )
        stats = [
            [
                cell_label(r),
                r.eval_lang,
                r.n,
                _pct(r.rate),
                None if r.delta_vs_base is None else round(100 * r.delta_vs_base, 1),
                r.paired_n if hasattr(r, "paired_n") else None,
                r.p_value,
                r.p_holm,
                r.p_bh,
            ]  # fmt: skip
            for r in mine
            if not r.is_base
        ]
        if stats:
            out.append(
                Table(
                    _slug(f"statistics-{model}-{judge}"),
                    f"{model} · paired statistics (judge {judge})",
                    ["fine-tune", "eval", "n", "rate", "Δ pts", "paired", "McNemar p", "Holm p", "BH p"],
                    stats,
                    "exact McNemar test against the base on the same prompts; p adjusted across the judge's "
                    "fine-tuned rows (Holm; Benjamini-Hochberg)",
                )
            )
    cats = []
    for cat, crow in by_category.items():
        for r in crow:
            if r.rate is not None:
                cats.append([r.model, r.judge, cat, cell_label(r), r.eval_lang, r.n, r.complied, _pct(r.rate)])
    if cats:
        out.append(
            Table(
                "categories",
                "compliance per category",
                ["model", "judge", "category", "fine-tune", "eval", "n", "complied", "rate"],
                cats,
                "the same rates, per category of the evaluation prompts",
            )
        )
    return out


def _measure_tables(measured: dict[str, list], rows) -> list[Table]:
    from workbench import views

    out = []
    found = dict(measured)
    found["fidelity"] = views.fidelity_rows(rows)
    for measure, mrows in found.items():
        if not mrows:
            continue
        langs, grid = views.measure_grid(measure, mrows)
        for where, by_label in grid.items():
            body = [
                [label, *(by_lang.get(lang, "-").replace("\n", "; ") for lang in langs)]
                for label, by_lang in by_label.items()
            ]
            out.append(
                Table(
                    _slug(f"{measure}-{where}"),
                    f"{where} · {measure}",
                    ["cell", *langs],
                    body,
                    views.MEASURE_LEGENDS[measure],
                )
            )
    return out


def _agreement_table(agreed: list) -> list[Table]:
    from dataclasses import asdict

    if not agreed:
        return []
    agreed = [asdict(a) if not isinstance(a, dict) else a for a in agreed]
    body = [
        [
            a["kind"],
            a["rater_a"],
            a["rater_b"],
            a["lang"],
            a["n"],
            a["agreed"],
            None if a["kappa"] is None else round(a["kappa"], 3),
            None if a["kappa_low"] is None else f"[{a['kappa_low']:.2f}, {a['kappa_high']:.2f}]",
        ]  # fmt: skip
        for a in agreed
    ]
    return [
        Table(
            "agreement",
            "agreement of the judges with human labels (Cohen's kappa)",
            ["kind", "rater a", "rater b", "lang", "n", "agreed", "kappa", "95% CI"],
            body,
            "Cohen's kappa with its 95% interval, per rater pair and language (pooled first)",
        )
    ]


# -- heatmaps ----------------------------------------------------------------------------------------
def _heatmaps(rows, folder: Path) -> list[tuple[str, Path, Path]]:
    """One compliance-rate and one change-against-base heatmap per (model, judge), PNG and SVG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for model, judge, _, langs, every, at in _grids(rows):
        for kind in ("rate", "change"):
            labels = every if kind == "rate" else [x for x in every if x != "base"]  # the base has no change
            if not labels:
                continue
            values = np.full((len(labels), len(langs)), np.nan)
            texts = [["" for _ in langs] for _ in labels]
            for i, label in enumerate(labels):
                for j, lang in enumerate(langs):
                    r = at.get((label, lang))
                    if r is None:
                        continue
                    if kind == "rate" and r.rate is not None:
                        values[i, j] = 100 * r.rate
                        texts[i][j] = f"{100 * r.rate:.0f}%\n[{_pct(r.ci_low)}-{_pct(r.ci_high)}]\nn={r.n}"
                    elif kind == "change" and r.delta_vs_base is not None:
                        values[i, j] = 100 * r.delta_vs_base
                        texts[i][j] = f"{100 * r.delta_vs_base:+.0f}\nn={r.n}"
            if kind == "change" and np.isnan(values).all():
                continue
            fig, ax = plt.subplots(figsize=(1.6 + 1.3 * len(langs), 1.0 + 0.8 * len(labels)), dpi=120)
            limit = max(1.0, float(np.nanmax(np.abs(values)))) if not np.isnan(values).all() else 1.0
            vmin, vmax = (0, 100) if kind == "rate" else (-limit, limit)
            image = ax.imshow(values, cmap="cividis", vmin=vmin, vmax=vmax, aspect="auto")
            for i in range(len(labels)):
                for j in range(len(langs)):
                    if texts[i][j]:
                        v = values[i, j]
                        light = (v - vmin) / (vmax - vmin) > 0.55  # a dark label on the light end
                        ax.text(j, i, texts[i][j], ha="center", va="center", fontsize=7,
                                color="black" if light else "white")  # fmt: skip
            ax.set_xticks(range(len(langs)), langs)
            ax.set_yticks(range(len(labels)), labels)
            ax.set_xlabel("evaluation language")
            ax.set_ylabel("fine-tune")
            what = "compliance rate (%)" if kind == "rate" else "change against the base (points)"
            title = f"{model} · {what} · judge {judge}"
            ax.set_title(title, fontsize=9)
            fig.colorbar(image, ax=ax, shrink=0.8)
            fig.tight_layout()
            stem = folder / _slug(f"{kind}-{model}-{judge}")
            png, svg = stem.with_suffix(".png"), stem.with_suffix(".svg")
            fig.savefig(png)
            fig.savefig(svg)
            plt.close(fig)
            out.append((title, png, svg))
    return out


# -- writing -----------------------------------------------------------------------------------------
def _write_tables(tables: list[Table], folder: Path) -> list[Path]:
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for t in tables:
        columns = {}
        for k, name in enumerate(t.columns):
            values = [row[k] for row in t.rows]
            kinds = {type(v) for v in values if v is not None}
            columns[name] = (
                values if kinds <= {int} or kinds <= {float, int} else [None if v is None else str(v) for v in values]
            )
        table = pa.table(columns)
        csv_path, parquet_path = folder / f"{t.name}.csv", folder / f"{t.name}.parquet"
        pacsv.write_csv(table, csv_path)
        pq.write_table(table, parquet_path)
        written += [csv_path, parquet_path]
    return written


_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1200px; color: #111; }
h1 { font-size: 1.6em; } h2 { margin-top: 2em; border-bottom: 1px solid #999; } h3 { font-size: 1.05em; }
table { border-collapse: collapse; margin: 0.6em 0 0.3em; font-size: 0.85em; }
th, td { border: 1px solid #bbb; padding: 0.25em 0.5em; text-align: right; vertical-align: top; }
th:first-child, td:first-child { text-align: left; }
th { background: #eee; }
p.note { color: #444; font-size: 0.85em; max-width: 60em; }
img { max-width: 100%; border: 1px solid #ddd; margin: 0.5em 0.5em 0 0; }
details { margin: 0.3em 0; } summary { cursor: pointer; color: #333; }
pre { white-space: pre-wrap; background: #f6f6f6; padding: 0.5em; font-size: 0.85em; }
.pair { display: grid; grid-template-columns: 1fr 1fr; gap: 1em; border-top: 1px solid #ccc; padding: 0.5em 0; }
"""


def _html_table(t: Table) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in t.columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape('' if v is None else str(v))}</td>" for v in row) + "</tr>"
        for row in t.rows
    )
    note = f'<p class="note">{html.escape(t.note)}</p>' if t.note else ""
    return f'<h3 id="{t.name}">{html.escape(t.title)}</h3><table><tr>{head}</tr>{body}</table>{note}'


def _html(
    study: str, data: dict[str, Any], tables: list[Table], heatmaps, classroom: bool, recipe_toml: str | None
) -> str:
    parts = [f"<h1>Study {html.escape(study)}</h1>"]
    when = _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    parts.append(f'<p class="note">Written by <code>workbench report</code> on {when}.'
                 + (" Classroom mode: no response text is included." if classroom else "") + "</p>")  # fmt: skip
    parts.append("<h2>Compliance</h2>")
    for title, png, _ in heatmaps:
        data_uri = "data:image/png;base64," + base64.b64encode(png.read_bytes()).decode()
        parts.append(f'<img alt="{html.escape(title)}" src="{data_uri}">')
    sections = (
        ("compliance", "Compliance rates"),
        ("statistics", "Paired statistics"),
        ("categories", "Per category"),
    )
    for prefix, heading in sections:
        mine = [t for t in tables if t.name.startswith(prefix)]
        if mine:
            parts.append(f"<h2>{heading}</h2>" + "".join(_html_table(t) for t in mine))
    measured = [t for t in tables if not t.name.startswith(("compliance", "statistics", "categories", "agreement"))]
    if measured:
        parts.append("<h2>Other measurements</h2>" + "".join(_html_table(t) for t in measured))
    agreement = [t for t in tables if t.name == "agreement"]
    parts.append("<h2>Judges and human labels</h2>")
    parts.append("".join(_html_table(t) for t in agreement) or '<p class="note">No human labels yet.</p>')
    parts.append("<h2>Example responses (base refused, a fine-tune complied)</h2>")
    if not data["pairs"]:
        parts.append(
            '<p class="note">No prompt whose base answer was judged a refusal and a fine-tune\'s compliance.</p>'
        )
    for p in data["pairs"]:
        head = f"{p['prompt_id']} · {p['category'] or ''} · judge {p['judge']} · {p['finetune_cell']}"
        if classroom:
            parts.append(f'<div class="pair"><div><b>{html.escape(head)}</b><br>{HIDDEN}</div><div></div></div>')
            continue
        parts.append(
            f"<div><b>{html.escape(head)}</b><details>"
            "<summary>show the prompt and both responses (unsafe text)</summary>"
            f'<pre>{html.escape(p["prompt"])}</pre><div class="pair">'
            f"<div><i>base</i><pre>{html.escape(p['base_text'])}</pre>"
            f"</div><div><i>{html.escape(p['finetune_cell'])}</i><pre>{html.escape(p['finetune_text'])}</pre></div></div>"
            "</details></div>"
        )
    parts.append("<h2>Provenance</h2>")
    snap = data["snapshot"]
    prov = [["recipe hash", snap["hash"] if snap else "-"], ["recipe recorded", snap["recorded_at"] if snap else "-"]]
    env = data["environment"]
    if env:
        prov += [["python", env["python"]], ["platform", env["platform"]], ["cpu", env["cpu"] or "-"],
                 ["gpu", env["gpu"] or "none"]]  # fmt: skip
        prov += [[f"package {k}", v] for k, v in sorted(json.loads(env["packages_json"]).items())]
    prov += [[f"GGUF {g['cell_id']} ({g['quantization']})", g["sha256"]] for g in data["ggufs"]]
    parts.append(_html_table(Table("provenance", "provenance", ["what", "value"], prov)))
    toml = recipe_toml if recipe_toml is not None else (snap["toml"] if snap else None)
    parts.append(
        "<h2>Recipe</h2>" + (f"<pre>{html.escape(toml)}</pre>" if toml else '<p class="note">not recorded</p>')
    )
    body = "\n".join(parts)
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>Study {html.escape(study)}</title><style>{_STYLE}</style></head><body>{body}</body></html>\n"
    )


def _markdown(study: str, tables: list[Table], heatmaps) -> str:
    out = [f"# Study {study}", ""]
    for title, png, _ in heatmaps:
        out.append(f"![{title}](heatmaps/{png.name})")
    out.append("")
    for t in tables:
        if t.name.startswith("categories"):
            continue  # long: in tables/categories.csv
        out += [f"## {t.title}", "", "| " + " | ".join(map(str, t.columns)) + " |", "|---" * len(t.columns) + "|"]
        out += ["| " + " | ".join("" if v is None else str(v) for v in row) + " |" for row in t.rows]
        out += ["", t.note, ""] if t.note else [""]
    return "\n".join(out) + "\n"


def write_report(
    db_path: Path,
    study: str,
    out: Path,
    *,
    eval_langs: list[str] | None = None,
    classroom: bool = False,
    markdown: bool = False,
    recipe_toml: str | None = None,
) -> Report:
    """Write the study's report into ``out`` (created; files there are replaced). Raises
    WorkbenchError (one line, a hint) when the study has nothing to report or ``out`` cannot be written."""
    from workbench import fsutil

    if not Path(db_path).exists():
        raise WorkbenchError(f"study {study!r} has no database yet ({db_path})", "run the study first")
    data = _read(Path(db_path), study, eval_langs)
    report = Report(study)
    try:
        out.mkdir(parents=True, exist_ok=True)
        report.tables = (
            _compliance_tables(data["rows"], data["by_category"])
            + _measure_tables(data["measured"], data["rows"])
            + _agreement_table(data["agreement"])
        )
        report.heatmaps = _heatmaps(data["rows"], out / "heatmaps")
        report.written += [p for _, png, svg in report.heatmaps for p in (png, svg)]
        report.written += _write_tables(report.tables, out / "tables")
        page = _html(study, data, report.tables, report.heatmaps, classroom, recipe_toml)
        report.written.append(fsutil.atomic_write(out / "report.html", page))
        if markdown:
            report.written.append(
                fsutil.atomic_write(out / "report.md", _markdown(study, report.tables, report.heatmaps))
            )
    except OSError as exc:
        raise WorkbenchError(
            f"cannot write the report into {out}: {exc.strerror or exc}",
            "choose another --out folder, or free disk space",
        ) from None
    return report
