"""The study database (SQLite): writes through :class:`StudyDB`, reads through :mod:`workbench.store.read`.

Names are resolved lazily: ``workbench.store.read`` (plain sqlite3) must not pay for sqlite-utils,
which the read-write :mod:`workbench.store.db` imports (~0.5 s, it pulls pandas).
"""

from __future__ import annotations

__all__ = ["StudyDB", "file_sha256", "now", "open_study_db"]


def __getattr__(name: str):
    if name in __all__:
        from workbench.store import db

        return getattr(db, name)
    raise AttributeError(f"module 'workbench.store' has no attribute {name!r}")
