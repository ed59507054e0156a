"""The TUI's typed messages: what workers report and what the app tells its screens.

Workers (threads) post these to the app (``post_message`` is thread-safe); the app folds what it
must (the run state) and posts a fresh message to every screen of every mode (public
``App.get_screen_stack``). A screen that is not shown marks itself stale and refreshes when it is
shown again, so nothing recomputes behind the user's back. Nothing here bubbles: a screen's copy
must not travel back up to the app that sent it.

Progress messages override ``can_replace`` (as toolong's do) so a flood of them coalesces into the
newest one instead of queueing a redraw per event.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.message import Message

if TYPE_CHECKING:
    from workbench.events import Event
    from workbench.tui.runner_client import RunHandle
    from workbench.tui.state import StudyRef


class RunEventsArrived(Message, bubble=False):
    """New events read from the followed run's event file (``ended``: its process has gone).

    Posted by the app's tail worker to the app, which folds them into ``app.run_state``. Never
    coalesced: every event counts.
    """

    def __init__(
        self,
        events: list[Event],
        ended: bool = False,
        exit_code: int | None = None,
        stderr_tail: list[str] | None = None,
        *,
        handle: RunHandle | None = None,
    ) -> None:
        super().__init__()
        self.handle = handle  # the run they come from (a run no longer followed is ignored)
        self.events = events
        self.ended = ended
        self.exit_code = exit_code
        self.stderr_tail = stderr_tail or []


class RunStateChanged(Message, bubble=False):
    """``app.run_state`` moved on (``ended``: the run is over). Screens draw from the state itself."""

    def __init__(self, ended: bool = False) -> None:
        super().__init__()
        self.ended = ended

    def can_replace(self, message: Message) -> bool:
        """Whether a newer queued ``message`` supersedes this one (the end is never dropped for a non-end)."""
        return isinstance(message, RunStateChanged) and (message.ended or not self.ended)


class RunFollowed(Message, bubble=False):
    """The app started (or attached to) a run: screens showing the last one start afresh."""


class ClassroomChanged(Message, bubble=False):
    """Classroom mode was switched on or off: screens showing response or prompt text redraw it now."""


class ResultsChanged(Message, bubble=False):
    """Responses or judgments may have changed (a unit finished, a run ended): rates are stale."""

    def can_replace(self, message: Message) -> bool:
        """Any newer ResultsChanged supersedes this one: a single recompute covers both."""
        return isinstance(message, ResultsChanged)


class LabelsChanged(Message, bubble=False):
    """A human label was saved or undone (after it is committed): agreement and kappa are stale."""

    def __init__(self, response_id: int, annotator: str) -> None:
        super().__init__()
        self.response_id = response_id
        self.annotator = annotator


class StudyOpened(Message, bubble=False):
    """Another study is open: every screen reloads (now if shown, else when shown)."""

    def __init__(self, study: StudyRef) -> None:
        super().__init__()
        self.study = study


class OpenCompare(Message, bubble=False):
    """Show this prompt on the compare screen (posted to the app; the app forwards it there)."""

    def __init__(self, item: str, lang: str, cell: str | None) -> None:
        super().__init__()
        self.item = item
        self.lang = lang
        self.cell = cell
