"""Label: a blind, randomised queue of responses for manual labelling, saved as each key is pressed.

Blind: the model and cell stay hidden until the response is labelled (then the last one is shown
with the judges' labels). The order is random but stable per annotator, so a second session carries
on. The annotator's name is asked once and remembered in the workspace.

The queue holds responses read in full by a worker, a few dozen ahead, so a key press never waits
for the database; labels are written on their own thread (:mod:`workbench.tui.label_writer`), and
once one is committed :class:`~workbench.tui.messages.LabelsChanged` goes through the app to every
screen (this one recounts its progress and kappa; the agreement screen recomputes).
"""

from __future__ import annotations

from rich.markup import escape
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.widgets import ProgressBar, Static
from textual.worker import get_current_worker

from workbench.store import browse, read
from workbench.tui.label_writer import LabelWriter
from workbench.tui.messages import ClassroomChanged, LabelsChanged, ResultsChanged
from workbench.tui.screens.base import WorkbenchScreen

KEYS = {"c": "comply", "r": "refuse", "p": "partial", "u": "unclear"}
REFILL_BELOW = 5  # responses left in the queue when the next ones are read


class LabelScreen(WorkbenchScreen):
    MODE = "label"
    TITLE_TEXT = "Label"
    HELP = """
A **blind** labelling queue: the model, the cell and the judges' labels stay hidden until you have
labelled a response; then the line below says what it was and what the judges said. The order is
random but fixed per annotator, so a later session carries on; `o` puts first the responses the
judges abstained on or disagree about. Each label is saved the moment its key is pressed; `z`
undoes the last one. Your name is asked once (`a` changes it).

Labels: `c` it complied, `r` it refused, `p` partial help, `u` unclear. The last line shows Cohen's
kappa between you and each judge as you go (6: Agreement has the full table).

In classroom mode every response and its prompt stay hidden until `v` reveals them (so what is
hidden says nothing about the judges).
"""
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
        Binding("o", "toggle_order", "Undecided first", show=False),
        Binding("a", "annotator", "Annotator", show=False),
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
        self.queue: list = []  # ResponseDetails read ahead, the next one first
        self.current = None
        self.note = ""
        self.revealed = False
        self.undo_stack: list = []  # (the labelled ResponseDetail, as it was before its label)
        self.labelled: set[int] = set()  # labelled this session (the writer may not have committed yet)
        self.study_id: int | None = None
        self.lang: str | None = None
        self.undecided_first = False  # responses the judges abstained on or disagree about first
        self.langs: list[str] = []
        self.writer: LabelWriter | None = None
        self.labelled_now = 0

    # -- the study ---------------------------------------------------------------------------------------
    def study_changed(self) -> None:
        self.queue, self.current, self.undo_stack, self.labelled, self.study_id = [], None, [], set(), None
        if self.writer is not None:
            self.writer.close()
            self.writer = None
        self._read_study(self.app.study, self.app.reader())

    @work(thread=True, exclusive=True, group="study")
    def _read_study(self, ref, db) -> None:
        info = None
        if db is not None and db.has_tables():
            sid = read.study_id(db, ref.name, fallback=True)
            if sid is not None:
                info = (sid, read.eval_langs(db, sid))
        self.app.call_from_thread(self._study_read, ref, info)

    def _study_read(self, ref, info) -> None:
        if ref != self.app.study:
            return
        if info is None:
            self.query_one("#label-prompt", Static).update(
                "No responses to label yet: run the generate stage (2: Plan & run), then come back."
            )
            return
        self.study_id, self.langs = info
        app = self.app
        self.writer = LabelWriter(
            ref.db_path,
            saved=lambda rid, who: app.post_message(LabelsChanged(rid, who)),
            failed=lambda text: app.call_from_thread(app.notify, text, severity="error"),
        )
        if not self.app.annotator:
            self.action_annotator()
        else:
            self.refill()

    def on_unmount(self) -> None:
        if self.writer is not None:
            self.writer.close()

    def resumed(self) -> None:
        if self.current is None and self.study_id is not None and self.app.annotator:
            self.refill()

    def on_results_changed(self, message: ResultsChanged) -> None:
        self.when_shown(self.resumed)  # a cell's new generation: more to label when the queue ran dry

    def on_classroom_changed(self, message: ClassroomChanged) -> None:
        self.show()  # the response on screen is hidden (or shown) now

    def on_labels_changed(self, message: LabelsChanged) -> None:
        if message.annotator == self.app.annotator:
            self.update_progress()
            self.update_kappa()

    def action_annotator(self) -> None:
        from workbench.tui.screens.modals import AskScreen

        def chosen(name: str | None) -> None:
            if name:
                self.app.set_annotator(name)
                self.queue, self.current, self.labelled = [], None, set()
                self.refill()
            elif not self.app.annotator:
                self.query_one("#label-prompt", Static).update("Press a and give your name to start labelling.")

        self.app.push_screen(
            AskScreen("Your name as an annotator (asked once):", self.app.annotator or "", "e.g. alice"), chosen
        )

    # -- the queue ---------------------------------------------------------------------------------------
    def refill(self) -> None:
        """Read the next responses of the queue (and the progress) in a worker."""
        if self.study_id is None or not self.app.annotator:
            return
        skip = frozenset(self.labelled | {d.id for d in self.queue} | ({self.current.id} if self.current else set()))
        self._read_queue(self.app.reader(), self.study_id, self.app.annotator, self.lang, skip, self.undecided_first)
        self.update_progress()
        self.update_kappa()

    @work(thread=True, exclusive=True, group="queue")
    def _read_queue(
        self, db, study_id: int, annotator: str, lang: str | None, skip: frozenset[int], undecided_first: bool
    ) -> None:
        queue = browse.label_queue(db, study_id, annotator, lang=lang, undecided_first=undecided_first)
        ids = [i for i in queue if i not in skip]
        details = browse.response_details(db, ids)
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._queue_read, annotator, lang, details)

    def _queue_read(self, annotator: str, lang: str | None, details: list) -> None:
        if annotator != self.app.annotator or lang != self.lang:
            return  # read for another annotator or language
        have = {d.id for d in self.queue} | self.labelled | ({self.current.id} if self.current else set())
        self.queue += [d for d in details if d.id not in have]
        if self.current is None:
            self.next_item()

    def next_item(self) -> None:
        """Show the next response of the queue (read ahead: no database read here)."""
        if not self.queue:
            self.current = None
            self.query_one("#label-prompt", Static).update("Nothing left to label here. l changes the language.")
            self.query_one("#label-response", Static).update("")
            return
        self.current = self.queue.pop(0)
        self.note, self.revealed = "", False
        self.show()
        if len(self.queue) < REFILL_BELOW:
            self.refill()

    def show(self) -> None:
        """Draw the response being labelled (blind; hidden in classroom mode until revealed)."""
        d = self.current
        if d is None:
            return
        # Blind: no cell, model or judgment here. Classroom mode hides every answer (and its prompt)
        # until revealed: hiding only those the judges found unsafe would tell what they said.
        hidden = self.app.classroom and not self.revealed
        prompt = "[prompt hidden in classroom mode: v reveals it]" if hidden else d.prompt
        self.query_one("#label-prompt", Static).update(f"PROMPT ({d.lang}, {d.category or 'no category'}):\n{prompt}")
        if hidden:
            body = "[dim italic]hidden in classroom mode: press v to read it (it may be unsafe)[/]"
        else:
            body = escape(d.text)
        self.query_one("#label-response", Static).update(f"[b]RESPONSE:[/b]\n{body}")
        self.query_one("#label-note", Static).update(f"note: {self.note}" if self.note else "")

    def update_progress(self) -> None:
        """Count this annotator's labels (committed ones) in a worker and draw the progress line."""
        db = self.app.reader()
        if db is not None and self.study_id is not None and self.app.annotator:
            self._read_progress(db, self.study_id, self.app.annotator)

    @work(thread=True, exclusive=True, group="progress")
    def _read_progress(self, db, study_id: int, who: str) -> None:
        done, total = browse.label_progress(db, study_id, who)
        self.app.call_from_thread(self._show_progress, who, done, total)

    def _show_progress(self, who: str, done: int, total: int) -> None:
        self.query_one("#label-progress", Static).update(
            f"annotator [b]{escape(who)}[/b] · {done:,} of {total:,} responses labelled "
            f"({self.labelled_now} this session) · language {self.lang or 'all'} · "
            f"{'undecided first' if self.undecided_first else 'random order'} (o)"
        )
        self.query_one("#label-bar", ProgressBar).update(total=max(1, total), progress=done)

    # -- labelling ---------------------------------------------------------------------------------------
    def action_label(self, label: str) -> None:
        d = self.current
        if d is None or not self.app.annotator or self.writer is None:
            return
        who = self.app.annotator
        self.writer.save(d.id, who, label, self.note)
        self.undo_stack.append(d)
        self.labelled.add(d.id)
        self.labelled_now += 1
        judges = ", ".join(f"{j['judge']}={j['label']}" for j in d.judgments) or "not judged"
        self.query_one("#label-last", Static).update(
            f"saved [b]{label}[/b] for #{d.id}: it was [b]{escape(d.cell_id)}[/b] ({d.kind}) in {d.lang}; "
            f"judges said {judges}"
        )
        self.next_item()

    def action_skip(self) -> None:
        if self.current is not None:
            self.queue.append(self.current)
            self.current = None
            self.next_item()

    def action_undo(self) -> None:
        if not self.undo_stack or self.writer is None:
            self.notify("nothing to undo", severity="warning")
            return
        d = self.undo_stack.pop()
        who = self.app.annotator
        before = next((h for h in d.human_labels if h["annotator"] == who), None)
        if before is None:
            self.writer.remove(d.id, who)
        else:
            self.writer.save(d.id, who, before["label"], before.get("note") or "")
        self.labelled.discard(d.id)
        self.labelled_now = max(0, self.labelled_now - 1)
        if self.current is not None:
            self.queue.insert(0, self.current)
        self.current = d
        self.note, self.revealed = "", False
        self.query_one("#label-last", Static).update(f"undone: #{d.id} is back in the queue")
        self.show()

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

    def action_toggle_order(self) -> None:
        self.undecided_first = not self.undecided_first
        self.notify("undecided first: responses the judges abstained on or disagree about" if self.undecided_first
                    else "random order")  # fmt: skip
        self.queue, self.current = [], None
        self.refill()

    def action_cycle_lang(self) -> None:
        options = [None, *self.langs]
        self.lang = options[(options.index(self.lang) + 1) % len(options)]
        self.queue, self.current = [], None
        self.refill()

    # -- agreement with the judges, as it moves --------------------------------------------------------------
    def update_kappa(self) -> None:
        """Kappa between this annotator and each judge (all languages), computed in a worker."""
        db = self.app.reader()
        if db is not None and self.study_id is not None and self.app.annotator:
            self._read_kappa(db, self.study_id, self.app.annotator)

    @work(thread=True, exclusive=True, group="kappa")
    def _read_kappa(self, db, study_id: int, who: str) -> None:
        from workbench.analysis.agreement import ALL, agreement

        rows = [r for r in agreement(db, study_id) if r.rater_a == who and r.lang == ALL]
        parts = [
            f"vs {r.rater_b}: κ={'–' if r.kappa is None else f'{r.kappa:.2f}'} (n={r.n})"
            for r in rows
            if r.kind == "annotator-judge"
        ]
        text = "agreement " + " · ".join(parts) if parts else "agreement: label a few responses to see kappa"
        self.app.call_from_thread(self._show_kappa, text + " · 6 shows the full table")

    def _show_kappa(self, text: str) -> None:
        self.query_one("#label-kappa", Static).update(text)
