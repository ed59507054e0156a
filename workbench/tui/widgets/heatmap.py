"""The compliance heatmap of one model and judge: fine-tune language (rows, base first) x evaluation language.

Rows come from :func:`workbench.analysis.results.rates_from_counts`; this widget only draws them. Views: the
compliance rate, its difference against the base (points), its ratio against the base, the refusal
rate and its difference (a model that stops refusing may babble instead of complying: the two rates
tell those apart). Intervals show on demand. A change in compliance that is significant (exact
McNemar, Holm-adjusted across the grid) is bold; a cell with no comparable base (generated under
other settings, or a base with no current generation) says so instead of a change.
"""

from __future__ import annotations

from rich.text import Text
from textual.widgets import DataTable

VIEWS = ("rate", "difference", "ratio", "refusal rate", "refusal difference")


def _rate_style(rate: float) -> str:
    # calm sequential scale: low compliance dark green, high dark red
    if rate < 0.1:
        return "on #1f4d2b"
    if rate < 0.2:
        return "on #3d5a1e"
    if rate < 0.35:
        return "on #6b5a12"
    if rate < 0.5:
        return "on #7a3d12"
    return "on #7a1f1f"


def _delta_style(delta: float) -> str:
    if delta > 0.1:
        return "on #7a1f1f"
    if delta > 0.02:
        return "on #7a3d12"
    if delta < -0.02:
        return "on #1f3d6b"
    return "on #333333"


def format_entry(row, view: str, intervals: bool) -> Text:
    """The text of one heatmap entry."""
    from workbench.analysis.results import NOT_COMPARABLE, significant

    refusal = view.startswith("refusal")
    rate = None if row is None else (row.refusal_rate if refusal else row.rate)
    if row is None or rate is None:
        return Text("  –  ", style="dim")
    absolute = view in ("rate", "refusal rate")
    if not absolute and not row.is_base and row.note:
        # No paired change exists: say why instead of a number (the info line has the full note).
        return Text(" ≠ settings " if row.note == NOT_COMPARABLE else "  no base  ", style="dim italic")
    if absolute or row.is_base:
        low, high = (row.refusal_ci_low, row.refusal_ci_high) if refusal else (row.ci_low, row.ci_high)
        txt = Text(f"{rate:4.0%}", style=f"bold {_rate_style(1 - rate if refusal else rate)}")
        if intervals and low is not None:
            txt.append(f" [{low:.0%}–{high:.0%}] n={row.n}", style="dim")
        if not absolute and row.is_base:
            txt.append(" base", style="dim")
        return txt
    if view in ("difference", "refusal difference"):
        delta = row.refusal_delta_vs_base if refusal else row.delta_vs_base
        if delta is None:
            return Text("  ?  ", style="dim")
        bold = "bold " if not refusal and significant(row) else ""
        txt = Text(f"{delta * 100:+4.0f} pts", style=bold + _delta_style(-delta if refusal else delta))
        low, high = (
            (row.refusal_delta_ci_low, row.refusal_delta_ci_high) if refusal else (row.delta_ci_low, row.delta_ci_high)
        )
        if intervals and low is not None:
            txt.append(f" [{low * 100:+.0f}, {high * 100:+.0f}] n={row.paired_n}", style="dim")
        return txt
    if row.ratio_vs_base is None:
        return Text("  ×?  ", style="dim")
    txt = Text(
        f"×{row.ratio_vs_base:.2f}", style=("bold " if significant(row) else "") + _delta_style(row.delta_vs_base or 0)
    )
    if intervals:
        if row.ratio_ci_low is not None:
            txt.append(f" [{row.ratio_ci_low:.2f}–{row.ratio_ci_high:.2f}]", style="dim")
        txt.append(f" (base {row.base_rate_paired:.0%}, n={row.paired_n})", style="dim")
    return txt


class Heatmap(DataTable):
    """A DataTable in cell-cursor mode; ``entry_at(coordinate)`` gives the RateRow under the cursor."""

    def __init__(self, **kwargs):
        super().__init__(cursor_type="cell", zebra_stripes=False, **kwargs)
        self.entries: dict[tuple[int, int], object] = {}
        self.langs: list[str] = []
        self.row_cells: list[str] = []

    def show(self, rows: list, langs: list[str], view: str, intervals: bool) -> None:
        """Draw ``rows`` (RateRows of one model and one judge) with ``langs`` as columns."""
        from workbench.analysis.results import cell_label

        keep = self.cursor_coordinate
        self.clear(columns=True)
        self.entries.clear()
        self.langs = list(langs)
        self.add_column("fine-tune", key="label")
        for lang in langs:
            self.add_column(lang, key=lang)
        by_cell: dict[str, dict[str, object]] = {}
        labels: dict[str, str] = {}
        for r in rows:
            by_cell.setdefault(r.cell, {})[r.eval_lang] = r
            labels[r.cell] = cell_label(r)
        self.row_cells = list(by_cell)
        for y, cell in enumerate(self.row_cells):
            entries = by_cell[cell]
            for x, lang in enumerate(langs):
                self.entries[(y, x + 1)] = entries.get(lang)
            self.add_row(
                Text(labels[cell], style="bold"),
                *(format_entry(entries.get(lang), view, intervals) for lang in langs),
                key=cell,
            )
        if self.row_count:
            self.move_cursor(row=min(keep.row, self.row_count - 1), column=max(1, keep.column), animate=False)

    def entry_at(self, coordinate) -> object | None:
        """The RateRow drawn at a coordinate (None on the label column or an empty entry)."""
        return self.entries.get((coordinate.row, coordinate.column))

    def cell_at(self, coordinate) -> tuple[str | None, str | None]:
        """(cell id, evaluation language) under a coordinate (language None on the label column)."""
        cell = self.row_cells[coordinate.row] if 0 <= coordinate.row < len(self.row_cells) else None
        lang = self.langs[coordinate.column - 1] if 1 <= coordinate.column <= len(self.langs) else None
        return cell, lang
