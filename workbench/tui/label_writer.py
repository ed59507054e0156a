"""Human labels are written on one thread of their own, in the order the keys were pressed.

A sqlite3 connection belongs to the thread that opened it, and a write can wait on a busy database
(a run writing responses) for seconds: neither may happen on the UI thread. One worker thread opens
the study database (importing sqlite-utils there, ~0.5 s, off the first frame) and saves each label
in its own transaction; ``saved`` is called on that thread once it is committed (the label screen
posts :class:`~workbench.tui.messages.LabelsChanged` from it: ``post_message`` is thread-safe).
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path


class LabelWriter:
    """Saves and removes one study's human labels, one at a time, on its own thread."""

    def __init__(self, path: Path, saved: Callable[[int, str], None], failed: Callable[[str], None]):
        self.path = Path(path)
        self.saved = saved  # (response id, annotator) once committed
        self.failed = failed  # a message for the user when a write did not go through
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="label-writer")
        self.db = None  # opened on the writer thread, used only there

    def save(self, response_id: int, annotator: str, label: str, note: str = "") -> Future:
        """Save (or replace) this annotator's label of a response."""
        return self.pool.submit(self._write, "set_human_label", response_id, annotator, label, note)

    def remove(self, response_id: int, annotator: str) -> Future:
        """Remove this annotator's label of a response (undo of a first label)."""
        return self.pool.submit(self._write, "remove_human_label", response_id, annotator)

    def close(self) -> None:
        """Close the database after the writes already asked for."""
        self.pool.submit(self._close)
        self.pool.shutdown(wait=False)

    def _write(self, method: str, response_id: int, annotator: str, *args) -> None:
        try:
            if self.db is None:
                from workbench.store import StudyDB

                self.db = StudyDB(self.path)
            getattr(self.db, method)(response_id, annotator, *args)
        except Exception as exc:  # noqa: BLE001  a locked or damaged database: a lost label must be said
            self.failed(f"label of #{response_id} not saved: {getattr(exc, 'message', exc)}")
            return
        self.saved(response_id, annotator)

    def _close(self) -> None:
        if self.db is not None:
            self.db.close()
            self.db = None
