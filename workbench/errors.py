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


class DataError(WorkbenchError):
    """A data source that is missing, unreadable or lacks the columns the recipe maps."""

    exit_code = 2


class MissingAsset(WorkbenchError):
    """Something the set-up should have placed (converter, embedded model, llama.cpp build) is absent."""

    exit_code = 3


class StageNotBuilt(WorkbenchError):
    """A stage the plan names but this version of the workbench does not implement yet."""

    exit_code = 4
