"""The judge registry: judge kind -> a lazy ``"module:object"`` string naming the kind's factory.

The recipe loader and ``workbench --help`` read the kinds from here, so this module imports nothing
but the standard library and :mod:`workbench.errors`; a judge's module (and whatever heavy library it
needs) is imported only when a judge of that kind is built (lm-evaluation-harness's registry works the
same way). A new judge is one module with a factory plus one :func:`register_judge` line.

A factory is called as ``factory(spec, n_parallel=..., emit=...)`` with the recipe's ``JudgeSpec`` and
returns an object that follows :class:`workbench.judges.base.Judge`.
"""

from __future__ import annotations

import contextlib
import difflib
import importlib
import re
from collections.abc import Iterator
from typing import Any

from workbench.errors import WorkbenchError

# The kinds every workbench has. A registered kind of the same name hides one of these until it is
# unregistered again.
BUILTIN_JUDGES: dict[str, str] = {
    "heuristic": "workbench.judges.factories:heuristic",
    "llm": "workbench.judges.llm:build_judge",
}

_registered: dict[str, str] = {}

# a kind is written in recipes (kind = "...") and on the command line, so it follows the recipe's names
_KIND = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
_TARGET = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*$")


def judge_kinds() -> tuple[str, ...]:
    """Every judge kind a recipe may name: the built-in ones, then the registered ones."""
    return tuple(dict.fromkeys([*BUILTIN_JUDGES, *_registered]))


def judge_target(kind: str) -> str:
    """The ``"module:object"`` string of ``kind``'s factory; raises WorkbenchError for an unknown kind."""
    target = _registered.get(kind) or BUILTIN_JUDGES.get(kind)
    if target is None:
        known = judge_kinds()
        close = difflib.get_close_matches(kind, known, n=1, cutoff=0.5)
        raise WorkbenchError(
            f"unknown judge kind {kind!r}" + (f"; did you mean {close[0]!r}?" if close else ""),
            f"use one of {', '.join(known)}",
        )
    return target


def register_judge(kind: str, target: str, *, replace: bool = False) -> None:
    """Make ``kind`` a judge kind built by the factory ``target`` (``"package.module:factory"``).

    Nothing is imported here. Registering a kind twice is refused unless ``replace`` is given; a
    built-in kind may be hidden by a registered one (for a study that swaps a judge).
    """
    if not _KIND.match(kind):
        raise ValueError(f"judge kind {kind!r} must be 1-64 lowercase letters, digits, '.', '_' or '-'")
    if not _TARGET.match(target):
        raise ValueError(f"judge target {target!r} is not of the form 'package.module:factory'")
    if kind in _registered and not replace:
        raise ValueError(f"judge kind {kind!r} is already registered (as {_registered[kind]!r})")
    _registered[kind] = target


def unregister_judge(kind: str) -> None:
    """Undo :func:`register_judge` for ``kind`` (a built-in kind it hid comes back)."""
    if kind not in _registered:
        raise ValueError(f"judge kind {kind!r} was not registered with register_judge")
    del _registered[kind]


@contextlib.contextmanager
def registered_judges(entries: dict[str, str]) -> Iterator[None]:
    """Register ``kind -> target`` entries for the duration of a ``with`` block (tests); the registry
    is restored on exit, also after an error."""
    saved = dict(_registered)
    try:
        for kind, target in entries.items():
            register_judge(kind, target, replace=True)
        yield
    finally:
        _registered.clear()
        _registered.update(saved)


def resolve_judge(kind: str) -> Any:
    """Import and return ``kind``'s factory. Raises WorkbenchError for an unknown kind or a target
    that does not import."""
    target = judge_target(kind)
    module_name, _, attr = target.partition(":")
    try:
        obj: Any = importlib.import_module(module_name)
        for part in attr.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError) as exc:
        raise WorkbenchError(
            f"judge kind {kind!r}: cannot load its factory {target} ({exc})",
            "check the register_judge line of this kind, or install what its module needs",
        ) from exc
    if not callable(obj):
        raise WorkbenchError(f"judge kind {kind!r}: {target} is not callable", "register a factory function or class")
    return obj
