"""The one error type that reaches the user.

Library errors are turned into a :class:`WorkbenchError` carrying a one-line message that names what
went wrong and where, and a hint saying what to do. The CLI prints it without a traceback and exits
with ``exit_code``; the TUI shows it in a modal.
"""

from __future__ import annotations


class WorkbenchError(Exception):
    """A user-facing error: a one-line message, an optional hint and the exit code to use."""

    exit_code = 1

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:  # pragma: no cover - trivial
        return self.message


class RecipeError(WorkbenchError):
    """A recipe that cannot be read or does not validate. Carries one message per problem."""

    exit_code = 2

    def __init__(self, path: str, problems: list[str], hint: str | None = None):
        self.path = path
        self.problems = problems
        super().__init__(problems[0] if problems else f"{path}: invalid recipe", hint)


class UsageError(WorkbenchError):
    """A command-line option with a value the command does not take."""

    exit_code = 2


class DataError(WorkbenchError):
    """A data source that is missing, unreadable or lacks the columns the recipe maps."""

    exit_code = 2


class MissingAsset(WorkbenchError):
    """Something the set-up should have placed (converter, embedded model, llama.cpp build) is absent."""

    exit_code = 3


class StageNotBuilt(WorkbenchError):
    """A stage the plan names but this version of the workbench does not implement yet."""

    exit_code = 4


class StudyDatabaseError(WorkbenchError):
    """A study database that is damaged, read-only or locked, found while it was being used."""


_OS_HINTS = {
    "ENOSPC": ("no space left on device", "free disk space (or point WORKBENCH_HOME elsewhere) and rerun"),
    "EDQUOT": ("disk quota exceeded", "free space in your quota (or point WORKBENCH_HOME elsewhere) and rerun"),
    "EACCES": ("permission denied", "check the file's and its folder's permissions (ls -l), or use another path"),
    "EPERM": ("operation not permitted", "check the file's and its folder's permissions (ls -l), or use another path"),
    "EROFS": ("read-only file system", "write somewhere writable: another --dir/--output, or WORKBENCH_HOME=..."),
    "EISDIR": ("is a folder, a file was expected", "name a file, not a folder"),
    "ENOTDIR": ("a file is in the way where a folder was expected", "move that file away, or use another path"),
    "ENOENT": ("no such file or folder", "check the path"),
    "EEXIST": ("already exists", "move it away, or use another path"),
    "ENAMETOOLONG": ("file name too long", "use a shorter path"),
    "EMFILE": ("too many open files", "raise the limit (ulimit -n) and rerun"),
    "EIO": ("input/output error", "the disk may be failing: check it, then rerun"),
}


def from_os_error(exc: OSError) -> WorkbenchError:
    """One line naming the path and what the operating system said, with a hint; for the CLI boundary."""
    import errno as errno_mod

    name = errno_mod.errorcode.get(exc.errno or 0, "")
    what, hint = _OS_HINTS.get(name, (exc.strerror or str(exc), "check the path and rerun"))
    where = exc.filename if exc.filename is not None else "file system"
    if exc.filename2 is not None:
        where = f"{exc.filename} -> {exc.filename2}"
    return WorkbenchError(f"{where}: {what}", hint)


def one_line(text: str) -> str:
    """A multi-line report (SQLite's integrity checks list one problem a line) as one line: the first
    problem, and how many more there are."""
    import re

    lines = [x.strip() for x in re.sub(r"\*\*\*[^*]*\*\*\*", "", text).splitlines() if x.strip()]
    if not lines:
        return text.strip()
    if len(lines) > 1 and lines[0].endswith(":"):  # "database disk image is malformed:" then the problems
        lines = [f"{lines[0]} {lines[1]}", *lines[2:]]
    return lines[0] + (f" (and {len(lines) - 1} more)" if len(lines) > 1 else "")


def from_sqlite_error(exc: Exception, path: object | None) -> StudyDatabaseError:
    """A clear message for a sqlite3 error met while using the database at ``path``."""
    text = one_line(str(exc))
    low = text.lower()
    where = str(path) if path else "study database"
    if "readonly" in low or "read-only" in low:
        return StudyDatabaseError(
            f"{where}: the study database is read-only ({text})",
            "make the file and its folder writable (SQLite also writes -wal and -shm files beside it); "
            "reading commands (status, results, tui) work without that",
        )
    if "locked" in low or "busy" in low:
        return StudyDatabaseError(
            f"{where}: the study database is locked by another process ({text})",
            "wait for the other process (see `workbench status RECIPE`), then rerun",
        )
    if "malformed" in low or "not a database" in low or "disk image" in low or "corrupt" in low:
        return StudyDatabaseError(
            f"{where}: the study database is damaged ({text})",
            "restore it from a backup, or move it away and rerun to start a new one "
            "(files under models/ are kept; responses and judgments are in the damaged file)",
        )
    if "unable to open" in low:
        return StudyDatabaseError(
            f"{where}: cannot open the study database ({text})",
            "check that the file and its folder exist and are readable",
        )
    return StudyDatabaseError(f"{where}: database error ({text})", "rerun; if it persists, please report it")
