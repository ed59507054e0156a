"""The output forms of the results: JSON, CSV, Markdown and rich tables, compliance and refusal side by side."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator

from workbench.analysis.results import COLUMNS, NO_BASE, RateRow, cell_label, significant


def _matrices(
    rows: list[RateRow],
) -> Iterator[tuple[str, str, list[str], dict[str, dict[str, RateRow]], list[RateRow]]]:
    """Per (model, judge): the evaluation languages (columns), the rows by label then language, the rows."""
    groups: dict[tuple[str, str], list[RateRow]] = {}
    for r in rows:
        groups.setdefault((r.model, r.judge), []).append(r)
    for (model, judge), group in groups.items():
        by_row: dict[str, dict[str, RateRow]] = {}
        for r in group:
            by_row.setdefault(cell_label(r), {})[r.eval_lang] = r
        yield model, judge, list(dict.fromkeys(r.eval_lang for r in group)), by_row, group


def _measure(r: RateRow, measure: str) -> tuple[float | None, float | None, float | None, float | None]:
    """(rate, interval low, high, paired change) of the compliance or the refusal rate."""
    if measure == "compliance":
        return r.rate, r.ci_low, r.ci_high, r.delta_vs_base
    return r.refusal_rate, r.refusal_ci_low, r.refusal_ci_high, r.refusal_delta_vs_base


def to_json(rows: list[RateRow]) -> str:
    return json.dumps([r.as_dict() for r in rows], indent=1, ensure_ascii=False)


def to_csv(rows: list[RateRow]) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(COLUMNS), lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow({k: ("" if v is None else v) for k, v in r.as_dict().items()})
    return buf.getvalue()


def to_markdown(rows: list[RateRow]) -> str:
    """Markdown tables per (model, judge): the compliance and the refusal rate with their Wilson
    intervals and n, and for fine-tuned cells the paired change in points (bold when significant
    after Holm's correction); then what the rates leave out (neither, abstained)."""

    def pct(x: float | None) -> str:
        return "–" if x is None else f"{x:.0%}"

    out = []
    for model, judge, langs, by_row, group in _matrices(rows):
        for measure in ("compliance", "refusal"):
            out.append(f"{model} · {measure} rate (judge: {judge}), n per cell in brackets\n")
            out.append("| fine-tune | " + " | ".join(langs) + " |")
            out.append("|---|" + "---|" * len(langs))
            for label, per_lang in by_row.items():
                entries = []
                for lang in langs:
                    r = per_lang.get(lang)
                    if r is None or r.n == 0:
                        entries.append("–")
                        continue
                    rate, low, high, delta = _measure(r, measure)
                    text = f"{pct(rate)} [{pct(low)}–{pct(high)}] (n={r.n})"
                    if delta is not None:
                        change = f"{delta * 100:+.0f} pts"
                        text += f", **{change}**" if measure == "compliance" and significant(r) else f", {change}"
                    entries.append(text)
                out.append(f"| {label} | " + " | ".join(entries) + " |")
            out.append("")
        left_out = [
            f"{cell_label(r)}/{r.eval_lang}: neither {r.neither}, abstained {r.abstained}"
            for r in group
            if r.neither or r.abstained
        ]
        if left_out:
            out.append(
                "Neither refused nor complied (in n, in neither rate's numerator) and abstained (outside n): "
                + "; ".join(left_out)
                + ".\n"
            )
    return "\n".join(out)


def render_tables(rows: list[RateRow]):
    """Rich tables, two per (model, judge), compliance rate then refusal rate: rows base then fine-tune
    cells, columns evaluation languages.

    Each entry shows the rate with its interval and n and, for fine-tuned cells, the paired change
    against the base in points (bold when it is significant after Holm's correction, compliance
    only) with the ratio; the compliance table also says how many responses were neither and how many
    the judge abstained on, and why a change is missing.
    """
    from rich.table import Table

    tables = []
    for model, judge, langs, by_row, _ in _matrices(rows):
        for measure in ("compliance", "refusal"):
            t = Table(title=f"{model} · {measure} rate (judge: {judge})", title_justify="left")
            t.add_column("fine-tune", style="bold")
            for lang in langs:
                t.add_column(lang, justify="center")
            for label, per_lang in by_row.items():
                t.add_row(label, *(_entry(per_lang.get(lang), measure) for lang in langs))
            tables.append(t)
    return tables


def _entry(r: RateRow | None, measure: str):
    from rich.text import Text

    compliance = measure == "compliance"
    rate, low, high, delta = _measure(r, measure) if r is not None else (None, None, None, None)
    if rate is None:
        return Text("–", style="dim")
    txt = Text(f"{rate:4.0%}", style=_colour(rate if compliance else 1 - rate))
    txt.append(f" [{low:.0%}–{high:.0%}] n={r.n}", style="dim")
    if compliance and (r.neither or r.abstained):
        txt.append(f"\nneither {r.neither} · abstained {r.abstained}", style="dim")
    if r.note and r.note != NO_BASE:
        txt.append("\n" + r.note.split(":")[0], style="dim italic")
    if delta is not None:
        sign = "+" if delta >= 0 else "−"
        bold = compliance and significant(r)
        txt.append(f"\n{sign}{abs(delta) * 100:.0f} pts", style="bold magenta" if bold else "magenta")
        if compliance and r.ratio_vs_base is not None:
            txt.append(f" ×{r.ratio_vs_base:.1f}", style="magenta")
    return txt


def _colour(rate: float) -> str:
    if rate < 0.2:
        return "green"
    if rate < 0.5:
        return "yellow"
    return "red"
