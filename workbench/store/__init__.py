"""The study database (SQLite via sqlite-utils)."""

from workbench.store.db import StudyDB, file_sha256, now, open_study_db

__all__ = ["StudyDB", "file_sha256", "now", "open_study_db"]
