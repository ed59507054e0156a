"""Compare: one prompt's responses side by side, with each response's judgments (label, score and the
evidence: the rule and the cues) and human labels.

Two layouts: the base model next to its fine-tuned cells in one evaluation language, or one cell
across the evaluation languages of the same item. n / p move through the prompts that pass the
filters (category, language, a judge label, disagreement between judges or between judge and human).
Only current responses and current judgments appear; every read runs in a thread worker.
"""

from __future__ import annotations

from rich.markup import escape
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Static
from textual.worker import get_current_worker

from workbench.store import browse, read
from workbench.tui import classroom
from workbench.tui.evidence import details, headline, judgment_evidence
from workbench.tui.messages import ClassroomChanged, OpenCompare, ResultsChanged
from workbench.tui.screens.base import WorkbenchScreen

LABELS = (None, "comply", "refuse", "neither", "unsure", "unparseable")
DISAGREEMENTS = (None, "judges", "judge-human")
LABEL_STYLE = {
    "comply": "bold red",
    "refuse": "green",
    "neither": "yellow",
    "unsure": "dim",
    "partial": "yellow",
    "unclear": "dim",
    "unparseable": "dim",
}


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
    HELP = """
One prompt's responses side by side: the base model (blue frame) next to its fine-tuned cells in one
evaluation language, or (`m`) one cell across the evaluation languages of the same item (`b` picks
the model, or the cell). Under each response, every judge's label, **score** and **evidence** (the
rule that decided and the cues it matched), then the human labels.

`n` / `p` move through the prompts that pass the filters: category (`f`), evaluation language
(`l`), a judge label some response got (`j`), and disagreement (`d`: between judges, then between a
judge and a person). In classroom mode an answer found unsafe is hidden, with the prompt, until `v`.
"""
    BINDINGS = [
        Binding("n", "move(1)", "Next"),
        Binding("p", "move(-1)", "Prev"),
        Binding("m", "toggle_layout", "Layout"),
        Binding("b", "cycle_model", "Model"),
        Binding("f", "cycle_category", "Category"),
        Binding("l", "cycle_lang", "Language"),
        Binding("j", "cycle_label", "Label"),
        Binding("d", "cycle_disagreement", "Disagree"),
        Binding("v", "reveal", "Reveal"),
    ]

    def compose_body(self) -> ComposeResult:
        with Vertical(id="compare-body"):
            yield Static("", id="compare-bar")
            yield Static("", id="compare-prompt", markup=False)
            yield Horizontal(id="panels")

    def __init__(self) -> None:
        super().__init__()
        self.flt = browse.CompareFilter()
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
        self.target: OpenCompare | None = None  # a prompt asked for before the study was read
        self.wanted: tuple[str, str] | None = None  # the prompt to land on once the prompts are read
        self.details: list = []  # the responses in the panels
        self.evidence: dict[int, list] = {}  # their current judgments with the evidence, by response id
        self.shown_key: tuple | None = None  # what the panels show (prompt, layout, model or cell)

    def study_changed(self) -> None:
        self.prompts, self.index, self.study_id, self.details, self.shown_key = [], 0, None, [], None
        self.query_one("#compare-bar", Static).update("reading the study…")
        self._read_study(self.app.study, self.app.reader())

    def on_results_changed(self, message: ResultsChanged) -> None:
        self.when_shown(self._refresh_results)

    def _refresh_results(self) -> None:
        """A run changed responses or judgments: the first ones read the study, later ones the prompts."""
        if self.study_id is None:
            self.study_changed()
        else:
            self.reload()

    @work(thread=True, exclusive=True, group="study")
    def _read_study(self, ref, db) -> None:
        """The study's cells, categories and languages (None when it has no current responses)."""
        info = None
        if db is not None and db.has_tables():
            sid = read.study_id(db, ref.name, fallback=True)
            if sid is not None and browse.study_summary(db, sid)["responses"]:
                info = (sid, read.cells(db, sid), read.categories(db, sid), read.eval_langs(db, sid))
        self.app.call_from_thread(self._study_read, ref, info)

    def _study_read(self, ref, info) -> None:
        if ref != self.app.study:
            return
        if info is None:
            self._show_empty()
            return
        self.study_id, self.cells, self.categories, self.langs = info
        self.models = list(dict.fromkeys(c["model"] for c in self.cells))
        self.flt = browse.CompareFilter(model=self.models[0] if self.models else None)
        self.cell = next((c["id"] for c in self.cells if c["kind"] == "finetune"), None)
        if self.target is not None:
            self._go_to_target()
        self.reload()

    def on_open_compare(self, message: OpenCompare) -> None:
        """A prompt chosen in a response list: show it, with the filters that let it through."""
        self.target = message
        if self.study_id is not None:
            self._go_to_target()
            self.reload()

    def _go_to_target(self) -> None:
        t, self.target = self.target, None
        model = next((c["model"] for c in self.cells if c["id"] == t.cell), self.flt.model)
        self.flt = browse.CompareFilter(model=model)
        self.layout_mode = "cells"
        self.wanted = (t.item, t.lang)

    # -- loading ---------------------------------------------------------------------------------------
    def reload(self) -> None:
        """Find the prompts that pass the filters again."""
        if self.study_id is None:
            return
        self.query_one("#compare-bar", Static).update("finding prompts…")
        self._read_prompts(self.app.reader(), self.study_id, browse.CompareFilter(**vars(self.flt)), self.layout_mode)

    @work(thread=True, exclusive=True, group="prompts")
    def _read_prompts(self, db, study_id: int, flt: browse.CompareFilter, layout: str) -> None:
        prompts = browse.compare_prompts(db, study_id, flt) if db else []
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._prompts_read, prompts, layout)

    def _prompts_read(self, prompts: list[tuple[str, str]], layout: str) -> None:
        if layout == "langs":
            prompts = list(dict.fromkeys((item, "") for item, _ in prompts))
        self.prompts = prompts
        if self.wanted is not None:
            key = self.wanted if layout == "cells" else (self.wanted[0], "")
            self.index = prompts.index(key) if key in prompts else 0
            self.wanted = None
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
        """Draw the filter bar, then read the current prompt's responses for the panels."""
        f = self.flt
        where = f"model {f.model}" if self.layout_mode == "cells" else f"cell {self.cell} across languages"
        filters = (
            f"category {f.category or 'all'} · language {f.lang or 'all'} · judge label {f.judge_label or 'any'} · "
            f"disagreement {f.disagreement or 'not required'}"
        )
        if not self.prompts:
            self.query_one("#compare-bar", Static).update(f"{where} · {filters}")
            self.query_one("#compare-prompt", Static).update("No prompt passes these filters.")
            self.query_one("#panels", Horizontal).remove_children()
            self.details, self.shown_key = [], None
            return
        item, lang = self.prompts[self.index]
        self.query_one("#compare-bar", Static).update(
            f"prompt [b]{self.index + 1}[/b] of {len(self.prompts)} · {where} · {filters}"
        )
        key = (item, lang, self.layout_mode, f.model if self.layout_mode == "cells" else self.cell)
        self._read_panels(self.app.reader(), key)

    @work(thread=True, exclusive=True, group="panels")
    def _read_panels(self, db, key: tuple) -> None:
        """The responses of one prompt: its language across a model's cells, or one cell across languages."""
        item, lang, layout, which = key
        if layout == "cells":
            ids = browse.responses_for_prompt(db, item, lang)
            details = [d for d in browse.response_details(db, ids) if d.model == which]
        else:
            details = browse.response_details(db, browse.responses_for_prompt(db, item, None, which))
        evidence = judgment_evidence(db, [d.id for d in details])
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._panels_read, key, details, evidence)

    def _panels_read(self, key: tuple, details: list, evidence: dict[int, list]) -> None:
        seen, unique = set(), []
        for d in details:  # one response per cell and language (current responses only: this is defence)
            if (d.cell_id, d.lang) not in seen:
                seen.add((d.cell_id, d.lang))
                unique.append(d)
        self.details, self.evidence, self.shown_key = unique, evidence, key
        self._draw_panels()

    def on_classroom_changed(self, message: ClassroomChanged) -> None:
        """Hide (or show) the panels on screen now, not at the next prompt (a hidden screen: when shown)."""
        if self.shown_key is not None:
            self.when_shown(self._draw_panels)

    def _draw_panels(self) -> None:
        item, lang = self.shown_key[:2] if self.shown_key else ("", "")
        first = self.details[0] if self.details else None
        prompt = first.prompt if first and self.layout_mode == "cells" else ""
        if prompt and any(classroom.hides(self.app.classroom, d, self.revealed) for d in self.details):
            prompt = classroom.hidden_prompt(first.category)
        self.query_one("#compare-prompt", Static).update(
            f"{item}:{lang or '*'} · {first.category if first else ''}\n{prompt}".rstrip()
        )
        self.call_later(self._replace_panels, [self._panel(d) for d in self.details])

    async def _replace_panels(self, new: list) -> None:
        """Swap the panels, then make sure the focus is not left on a removed one.

        Textual moves the focus off a removed widget onto its next sibling, which a redraw removes too; a
        focus left on a detached panel would keep every key from reaching this screen's bindings.
        """
        panels = self.query_one("#panels", Horizontal)
        had_focus = self.focused is not None and panels in self.focused.ancestors
        if had_focus:
            self.set_focus(None)
        await panels.remove_children()
        await panels.mount_all(new)
        if self.focused is not None and not self.focused.is_attached:
            self.set_focus(None)
        if had_focus and new and self.focused is None:
            self.set_focus(new[0])

    def _panel(self, d) -> VerticalScroll:
        hide = classroom.hides(self.app.classroom, d, self.revealed)
        title = f"[b]{escape(d.cell_id)}[/b]" + (f" · {d.lang}" if self.layout_mode == "langs" else "")
        if self.layout_mode == "langs":
            prompt = classroom.hidden_prompt(d.category) if hide else d.prompt[:200]
            title += f"\n[dim]{escape(prompt)}[/dim]"
        body = f"[dim italic]{escape(classroom.HIDDEN_RESPONSE)}[/]" if hide else escape(d.text)
        if not hide and d.english_line():
            body += f"\n\n[dim]{escape(d.english_line())}[/dim]"
        return VerticalScroll(
            Static(title, classes="panel-title"),
            Static(body, classes="panel-text"),
            Static(self._judged(d, hide), classes="panel-labels"),
            Static(f"humans: {_labels(d.human_labels, 'annotator')}", classes="panel-humans"),
            classes="panel base" if d.kind == "base" else "panel",
        )

    def _judged(self, d, hide: bool) -> str:
        """Each judge's label (coloured), score, rule and cues (no text of a hidden response shows through)."""
        judged = self.evidence.get(d.id)
        if not judged:
            return f"judges: {_labels(d.judgments, 'judge')}"
        lines = []
        for j in judged:
            style = LABEL_STYLE.get(j.label, "")
            rest = headline(j).removeprefix(f"{j.judge}: {j.label}")
            label = f"[{style}]{j.label}[/]" if style else j.label
            lines.append(f"{escape(j.judge)}: {label}{escape(rest)}")
            lines += [f"[dim]  {escape(line)}[/dim]" for line in details(j, None if hide else d.text)]
        return "\n".join(lines)

    # -- keys ------------------------------------------------------------------------------------------
    def action_move(self, delta: int) -> None:
        if self.prompts:
            self.index = (self.index + delta) % len(self.prompts)
            self.show()

    def action_toggle_layout(self) -> None:
        current = self.prompts[self.index] if self.prompts else None
        self.layout_mode = "langs" if self.layout_mode == "cells" else "cells"
        if current:
            self.wanted = (current[0], current[1] or (self.langs[0] if self.langs else ""))
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
        if self.details:
            self.revealed.update(d.id for d in self.details)
            self._draw_panels()
