"""Label: a blind, randomised queue of responses for manual labelling, saved as each key is pressed.

Blind: the model and cell stay hidden until the response is labelled (then the last one is shown
with the judges' labels). The order is random but stable per annotator, so a second session carries
on. The annotator's name is asked once and remembered in the workspace.
"""

from __future__ import annotations

from rich.markup import escape
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.widgets import ProgressBar, Static

from workbench.tui import queries
from workbench.tui.screens.base import WorkbenchScreen

KEYS = {"c": "comply", "r": "refuse", "p": "partial", "u": "unclear"}


class LabelScreen(WorkbenchScreen):
    MODE = "label"
    TITLE_TEXT = "Label"
    BINDINGS = [
        Binding("c", "label('comply')", "Comply"),
        Binding("r", "label('refuse')", "Refuse"),
        Binding("p", "label('partial')", "Partial"),
        Binding("u", "label('unclear')", "Unclear"),
        Binding("n", "note", "Note"),
        Binding("z", "undo", "Undo"),
        Binding("s", "skip", "Skip"),
        Binding("v", "reveal", "Reveal"),
        Binding("l", "cycle_lang", "Language"),
        Binding("a", "annotator", "Annotator"),
    ]

    def compose_body(self) -> ComposeResult:
        with Vertical(id="label-body"):
            yield Static("", id="label-progress")
            yield ProgressBar(id="label-bar", total=1, show_eta=False)
            with VerticalScroll(id="label-item"):
                yield Static("", id="label-prompt", markup=False)
                yield Static("", id="label-response")
            yield Static("", id="label-note", markup=False)
            yield Static("", id="label-last")
            yield Static("", id="label-kappa")

    def __init__(self) -> None:
        super().__init__()
        self.queue: list[int] = []
        self.current = None
        self.note = ""
        self.revealed = False
        self.undo_stack: list[tuple[int, dict | None]] = []  # (response id, the label it replaced)
        self.study_id: int | None = None
        self.lang: str | None = None
        self.langs: list[str] = []
        self.writer = None
        self.labelled_now = 0

    def study_changed(self) -> None:
        db = self.app.reader()
        self.queue, self.current, self.undo_stack = [], None, []
        if db is None or not db.has_tables():
            self.query_one("#label-prompt", Static).update("No responses yet: run the generate stage first.")
            return
        self.study_id = db.study_id(self.app.study.name)
        self.langs = queries.eval_langs(db, self.study_id)
        self._open_writer()
        if not self.app.annotator:
            self.action_annotator()
        else:
            self.refill()

    def resumed(self) -> None:
        if self.current is None and self.study_id is not None and self.app.annotator:
            self.refill()

    @work(thread=True, group="writer")
    def _open_writer(self) -> None:
        import workbench.store  # noqa: F401  ~0.5 s to import (sqlite-utils): off the UI thread

        # sqlite3 connections belong to the thread that opened them: open it on the UI thread.
        self.app.call_from_thread(self._db)

    def _db(self):
        if self.writer is None or self.writer.path != self.app.study.db_path:
            from workbench.store import StudyDB

            self.writer = StudyDB(self.app.study.db_path)
        return self.writer

    def action_annotator(self) -> None:
        from workbench.tui.screens.modals import AskScreen

        def chosen(name: str | None) -> None:
            if name:
                self.app.set_annotator(name)
                self.queue, self.current = [], None
                self.refill()
            elif not self.app.annotator:
                self.query_one("#label-prompt", Static).update("Press a and give your name to start labelling.")

        self.app.push_screen(
            AskScreen("Your name as an annotator (asked once):", self.app.annotator or "", "e.g. alice"), chosen
        )

    # -- the queue ---------------------------------------------------------------------------------------
    def refill(self) -> None:
        db = self.app.reader()
        if db is None or self.study_id is None or not self.app.annotator:
            return
        fresh = [
            i for i in queries.label_queue(db, self.study_id, self.app.annotator, lang=self.lang) if i not in self.queue
        ]
        self.queue += fresh
        self.next_item()
        self.update_progress()
        self.update_kappa()

    def next_item(self) -> None:
        db = self.app.reader()
        current_id = self.current.id if self.current else None
        self.queue = [i for i in self.queue if i != current_id]
        if not self.queue:
            self.current = None
            self.query_one("#label-prompt", Static).update("Nothing left to label here. l changes the language.")
            self.query_one("#label-response", Static).update("")
            return
        details = queries.response_details(db, [self.queue[0]])
        self.current = details[0] if details else None
        self.note, self.revealed = "", False
        self.show()

    def show(self) -> None:
        d = self.current
        if d is None:
            return
        self.query_one("#label-prompt", Static).update(f"PROMPT ({d.lang}, {d.category or 'no category'}):\n{d.prompt}")
        # Blind: no cell, model or judgment here. Classroom mode hides every answer until revealed.
        if self.app.classroom and not self.revealed:
            body = "[dim italic]hidden in classroom mode: press v to read it (it may be unsafe)[/]"
        else:
            body = escape(d.text)
        self.query_one("#label-response", Static).update(f"[b]RESPONSE:[/b]\n{body}")
        self.query_one("#label-note", Static).update(f"note: {self.note}" if self.note else "")

    def update_progress(self) -> None:
        db = self.app.reader()
        if db is None or self.study_id is None or not self.app.annotator:
            return
        done, total = queries.label_progress(db, self.study_id, self.app.annotator)
        self.query_one("#label-progress", Static).update(
            f"annotator [b]{escape(self.app.annotator)}[/b] · {done:,} of {total:,} responses labelled "
            f"({self.labelled_now} this session) · language {self.lang or 'all'} · "
            "c comply · r refuse · p partial · u unclear · n note · z undo"
        )
        bar = self.query_one("#label-bar", ProgressBar)
        bar.update(total=max(1, total), progress=done)

    # -- labelling ---------------------------------------------------------------------------------------
    def action_label(self, label: str) -> None:
        d = self.current
        if d is None or not self.app.annotator:
            return
        who = self.app.annotator
        before = next((h for h in d.human_labels if h["annotator"] == who), None)
        self._db().set_human_label(d.id, who, label, self.note)
        self.undo_stack.append((d.id, before))
        self.labelled_now += 1
        self.app.labels_version += 1
        judges = ", ".join(f"{j['judge']}={j['label']}" for j in d.judgments) or "not judged"
        self.query_one("#label-last", Static).update(
            f"saved [b]{label}[/b] for #{d.id}: it was [b]{escape(d.cell_id)}[/b] ({d.kind}) in {d.lang}; "
            f"judges said {judges}"
        )
        self.next_item()
        self.update_progress()
        self.update_kappa()
        if len(self.queue) < 5:
            self.refill()

    def action_skip(self) -> None:
        if self.current is not None:
            self.queue.append(self.current.id)
            self.queue.pop(0)
            details = queries.response_details(self.app.reader(), [self.queue[0]])
            self.current = details[0] if details else None
            self.note, self.revealed = "", False
            self.show()

    def action_undo(self) -> None:
        if not self.undo_stack:
            self.notify("nothing to undo", severity="warning")
            return
        rid, before = self.undo_stack.pop()
        who = self.app.annotator
        if before is None:
            self._db().remove_human_label(rid, who)
        else:
            self._db().set_human_label(rid, who, before["label"], before.get("note", ""))
        self.labelled_now = max(0, self.labelled_now - 1)
        self.app.labels_version += 1
        self.queue.insert(0, rid)
        self.current = queries.response_details(self.app.reader(), [rid])[0]
        self.note, self.revealed = "", False
        self.query_one("#label-last", Static).update(f"undone: #{rid} is back in the queue")
        self.show()
        self.update_progress()
        self.update_kappa()

    def action_note(self) -> None:
        from workbench.tui.screens.modals import AskScreen

        def noted(text: str | None) -> None:
            if text is not None:
                self.note = text
                self.show()

        self.app.push_screen(AskScreen("A note for this response (saved with its label):", self.note), noted)

    def action_reveal(self) -> None:
        self.revealed = True
        self.show()

    def action_cycle_lang(self) -> None:
        options = [None, *self.langs]
        self.lang = options[(options.index(self.lang) + 1) % len(options)]
        self.queue, self.current = [], None
        self.refill()

    # -- agreement with the judges, as it moves --------------------------------------------------------------
    @work(thread=True, exclusive=True, group="kappa")
    def update_kappa(self) -> None:
        from workbench.analysis.agreement import ALL, agreement

        db, who = self.app.reader(), self.app.annotator
        if db is None or self.study_id is None or not who:
            return
        rows = [r for r in agreement(db, self.study_id) if r.rater_a == who and r.lang == ALL]
        parts = [
            f"vs {r.rater_b}: κ={'–' if r.kappa is None else f'{r.kappa:.2f}'} (n={r.n})"
            for r in rows
            if r.kind == "annotator-judge"
        ]
        text = "agreement " + " · ".join(parts) if parts else "agreement: label a few responses to see kappa"
        self.app.call_from_thread(self.query_one("#label-kappa", Static).update, text + " · 6 shows the full table")
