"""Compare: one prompt's responses side by side, with each response's judgments and human labels.

Two layouts: the base model next to its fine-tuned cells in one evaluation language, or one cell
across the evaluation languages of the same item. n / p move through the prompts that pass the
filters (category, language, a judge label, disagreement between judges or between judge and human).
"""

from __future__ import annotations

from rich.markup import escape
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Static

from workbench.tui import queries
from workbench.tui.screens.base import WorkbenchScreen

LABELS = (None, "comply", "refuse", "unparseable")
DISAGREEMENTS = (None, "judges", "judge-human")
LABEL_STYLE = {"comply": "bold red", "refuse": "green", "partial": "yellow", "unclear": "dim", "unparseable": "dim"}


def _cycle(options, current):
    options = list(options)
    return options[(options.index(current) + 1) % len(options)] if current in options else options[0]


def _labels(rows: list[dict], who: str) -> str:
    if not rows:
        return "[dim]none[/dim]"
    return ", ".join(f"{escape(r[who])}=[{LABEL_STYLE.get(r['label'], '')}]{r['label']}[/]" for r in rows)


class CompareScreen(WorkbenchScreen):
    MODE = "compare"
    TITLE_TEXT = "Compare"
    BINDINGS = [
        Binding("n", "move(1)", "Next prompt"),
        Binding("p", "move(-1)", "Previous"),
        Binding("m", "toggle_layout", "Cells/languages"),
        Binding("b", "cycle_model", "Model/cell"),
        Binding("f", "cycle_category", "Category"),
        Binding("l", "cycle_lang", "Language"),
        Binding("j", "cycle_label", "Judge label"),
        Binding("d", "cycle_disagreement", "Disagreement"),
        Binding("v", "reveal", "Reveal"),
    ]

    def compose_body(self) -> ComposeResult:
        with Vertical(id="compare-body"):
            yield Static("", id="compare-bar")
            yield Static("", id="compare-prompt", markup=False)
            yield Horizontal(id="panels")

    def __init__(self) -> None:
        super().__init__()
        self.flt = queries.CompareFilter()
        self.layout_mode = "cells"  # or "langs"
        self.cell: str | None = None  # the cell shown across languages
        self.prompts: list[tuple[str, str]] = []
        self.index = 0
        self.revealed: set[int] = set()
        self.study_id: int | None = None
        self.models: list[str] = []
        self.cells: list[dict] = []
        self.categories: list[str] = []
        self.langs: list[str] = []
        self._target_seen = None

    def study_changed(self) -> None:
        db = self.app.reader()
        self.prompts, self.index = [], 0
        if db is None or not db.has_tables() or db.scalar("SELECT count(*) FROM responses") == 0:
            self._show_empty()
            return
        self.study_id = db.study_id(self.app.study.name)
        self.cells = queries.cells(db, self.study_id)
        self.models = list(dict.fromkeys(c["model"] for c in self.cells))
        self.categories = queries.categories(db, self.study_id)
        self.langs = queries.eval_langs(db, self.study_id)
        self.flt = queries.CompareFilter(model=self.models[0] if self.models else None)
        self.cell = next((c["id"] for c in self.cells if c["kind"] == "finetune"), None)
        self._apply_target()
        self.reload()

    def resumed(self) -> None:
        if self.study_id is None:
            self.study_changed()
        elif self._apply_target():
            self.reload()

    def _apply_target(self) -> bool:
        """A prompt chosen in a response list: show it, with the filters that let it through."""
        target = self.app.compare_target
        if target is None or target == self._target_seen:
            return False
        self._target_seen = target
        item, lang, cell = target
        model = next((c["model"] for c in self.cells if c["id"] == cell), self.flt.model)
        self.flt = queries.CompareFilter(model=model)
        self.layout_mode = "cells"
        self._want = (item, lang)
        return True

    # -- loading ---------------------------------------------------------------------------------------
    def reload(self) -> None:
        self.query_one("#compare-bar", Static).update("finding prompts…")
        self._load(self.flt)

    @work(thread=True, exclusive=True, group="prompts")
    def _load(self, flt: queries.CompareFilter) -> None:
        db = self.app.reader()
        prompts = queries.compare_prompts(db, self.study_id, flt) if db else []
        self.app.call_from_thread(self._loaded, prompts)

    def _loaded(self, prompts: list[tuple[str, str]]) -> None:
        if self.layout_mode == "langs":
            prompts = list(dict.fromkeys((item, "") for item, _ in prompts))
        self.prompts = prompts
        want = getattr(self, "_want", None)
        if want is not None:
            key = want if self.layout_mode == "cells" else (want[0], "")
            self.index = prompts.index(key) if key in prompts else 0
            self._want = None
        self.index = min(self.index, max(0, len(prompts) - 1))
        self.show()

    def _show_empty(self) -> None:
        self.query_one("#compare-bar", Static).update("")
        self.query_one("#compare-prompt", Static).update(
            "No responses yet. Run the generate and judge stages (2: Plan & run), then come back."
        )
        self.query_one("#panels", Horizontal).remove_children()

    # -- drawing ---------------------------------------------------------------------------------------
    def show(self) -> None:
        f = self.flt
        where = f"model {f.model}" if self.layout_mode == "cells" else f"cell {self.cell} across languages"
        filters = (
            f"category {f.category or 'all'} · language {f.lang or 'all'} · judge label {f.judge_label or 'any'} · "
            f"disagreement {f.disagreement or 'not required'}"
        )
        panels = self.query_one("#panels", Horizontal)
        if not self.prompts:
            self.query_one("#compare-bar", Static).update(f"{where} · {filters}")
            self.query_one("#compare-prompt", Static).update("No prompt passes these filters.")
            panels.remove_children()
            return
        item, lang = self.prompts[self.index]
        self.query_one("#compare-bar", Static).update(
            f"prompt [b]{self.index + 1}[/b] of {len(self.prompts)} · {where} · {filters}"
        )
        db = self.app.reader()
        if self.layout_mode == "cells":
            ids = queries.responses_for_prompt(db, item, lang)
            details = [d for d in queries.response_details(db, ids) if d.model == f.model]
        else:
            ids = queries.responses_for_prompt(db, item, None, self.cell)
            details = queries.response_details(db, ids)
        seen, unique = set(), []
        for d in details:  # the newest response per cell and language (older generation settings hidden)
            if (d.cell_id, d.lang) not in seen:
                seen.add((d.cell_id, d.lang))
                unique.append(d)
        first = unique[0] if unique else None
        prompt = first.prompt if first and self.layout_mode == "cells" else ""
        self.query_one("#compare-prompt", Static).update(
            f"{item}:{lang or '*'} · {first.category if first else ''}\n{prompt}".rstrip()
        )
        panels.remove_children()
        panels.mount_all([self._panel(d) for d in unique])

    def _panel(self, d) -> VerticalScroll:
        hide = self.app.classroom and d.looks_unsafe() and d.id not in self.revealed
        title = f"[b]{escape(d.cell_id)}[/b]" + (f" · {d.lang}" if self.layout_mode == "langs" else "")
        if self.layout_mode == "langs":
            title += f"\n[dim]{escape(d.prompt[:200])}[/dim]"
        body = (
            "[dim italic]hidden in classroom mode: a judge or a person found it unsafe. Press v to reveal.[/]"
            if hide
            else escape(d.text)
        )
        return VerticalScroll(
            Static(title, classes="panel-title"),
            Static(body, classes="panel-text"),
            Static(
                f"judges: {_labels(d.judgments, 'judge')}\nhumans: {_labels(d.human_labels, 'annotator')}",
                classes="panel-labels",
            ),
            classes="panel base" if d.kind == "base" else "panel",
        )

    # -- keys ------------------------------------------------------------------------------------------
    def action_move(self, delta: int) -> None:
        if self.prompts:
            self.index = (self.index + delta) % len(self.prompts)
            self.show()

    def action_toggle_layout(self) -> None:
        current = self.prompts[self.index] if self.prompts else None
        self.layout_mode = "langs" if self.layout_mode == "cells" else "cells"
        if current:
            self._want = (current[0], current[1] or (self.langs[0] if self.langs else ""))
        self.reload()

    def action_cycle_model(self) -> None:
        if self.layout_mode == "cells":
            self.flt.model = _cycle(self.models, self.flt.model)
            self.reload()
        else:
            self.cell = _cycle([c["id"] for c in self.cells], self.cell)
            self.show()

    def action_cycle_category(self) -> None:
        self.flt.category = _cycle([None, *self.categories], self.flt.category)
        self.reload()

    def action_cycle_lang(self) -> None:
        self.flt.lang = _cycle([None, *self.langs], self.flt.lang)
        self.reload()

    def action_cycle_label(self) -> None:
        self.flt.judge_label = _cycle(LABELS, self.flt.judge_label)
        self.reload()

    def action_cycle_disagreement(self) -> None:
        self.flt.disagreement = _cycle(DISAGREEMENTS, self.flt.disagreement)
        self.reload()

    def action_reveal(self) -> None:
        db = self.app.reader()
        if not self.prompts or db is None:
            return
        item, lang = self.prompts[self.index]
        cell = self.cell if self.layout_mode == "langs" else None
        self.revealed.update(queries.responses_for_prompt(db, item, lang or None, cell))
        self.show()
