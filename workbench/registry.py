"""The stage registry: stage names in run order, each a lazy ``"module:object"`` string.

Nothing is imported until a stage is asked for, so ``workbench --help`` stays fast (the same trick
as lm-evaluation-harness's registry). Adding a stage is one module exposing a
:class:`~workbench.stages.base.Stage` and one line here (or one :func:`register_stage` call from a
plugin or a test). The order is the run order: a stage comes after every stage it needs.
"""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import Iterator
from typing import TYPE_CHECKING

from workbench.errors import WorkbenchError

if TYPE_CHECKING:
    from workbench.stages.base import Stage

_BUILTIN: dict[str, str] = {
    "prepare": "workbench.stages.prepare:STAGE",
    "translate": "workbench.stages.translate:STAGE",
    "align": "workbench.stages.align:STAGE",
    "finetune": "workbench.stages.finetune:STAGE",
    "export": "workbench.stages.export:STAGE",
    "generate": "workbench.stages.generate:STAGE",
    "backtranslate": "workbench.stages.backtranslate:STAGE",
    "judge": "workbench.stages.judge:STAGE",
    "overrefusal": "workbench.stages.overrefusal:STAGE",
    "capability": "workbench.stages.capability:STAGE",
    "choice": "workbench.stages.choice:STAGE",
    "drift": "workbench.stages.drift:STAGE",
    "results": "workbench.stages.results:STAGE",
}

_stages: dict[str, str] = dict(_BUILTIN)
_loaded: dict[str, Stage] = {}


def names() -> list[str]:
    """Every registered stage, in run order."""
    return list(_stages)


def entries() -> dict[str, str]:
    """Every registered stage's ``"module:object"`` target, in run order (what a worker process needs
    to see the registry as this one does, plugins and tests included)."""
    return dict(_stages)


def use(targets: dict[str, str]) -> None:
    """Make the registry exactly ``targets`` (from :func:`entries`), in their order."""
    _stages.clear()
    _stages.update(targets)
    _loaded.clear()


def get(name: str) -> Stage:
    """The stage called ``name`` (imported on first use)."""
    if name not in _stages:
        raise unknown_stage(name)
    stage = _loaded.get(name)
    if stage is None:
        module, _, attr = _stages[name].partition(":")
        stage = getattr(importlib.import_module(module), attr)
        if stage.name != name:
            raise RuntimeError(f"registry entry {name!r} points at stage {stage.name!r} ({_stages[name]})")
        _loaded[name] = stage
    return stage


def stages() -> list[Stage]:
    """Every registered stage object, in run order."""
    return [get(n) for n in _stages]


def check_order() -> None:
    """Every stage comes after the stages it needs (a registration that breaks it is a clear error)."""
    order = {n: i for i, n in enumerate(_stages)}
    for stage in stages():
        for need in stage.needs:
            if need not in order:
                raise WorkbenchError(
                    f"stage {stage.name!r} needs {need!r}, which is not registered", f"stages: {', '.join(_stages)}"
                )
            if order[need] > order[stage.name]:
                raise WorkbenchError(
                    f"stage {stage.name!r} is registered before {need!r}, which it needs",
                    f"register it after {need!r} (register_stage(..., after={need!r}))",
                )


def of_scope(scope: str) -> list[Stage]:
    """The registered stages of one scope (``study`` or ``cell``), in run order."""
    return [s for s in stages() if s.scope == scope]


def unknown_stage(name: str, where: str = "stage") -> WorkbenchError:
    """The error for a stage name nobody registered, with the closest registered name."""
    import difflib

    close = difflib.get_close_matches(name, list(_stages), n=1)
    extra = f"; did you mean {close[0]!r}?" if close else ""
    err = WorkbenchError(f"{where}: unknown stage {name!r}{extra}", f"stages: {', '.join(_stages)}")
    err.exit_code = 2
    return err


def register_stage(name: str, target: str, *, after: str | None = None, before: str | None = None) -> None:
    """Add (or replace) stage ``name`` pointing at ``"module:object"``, placed after/before another stage.

    Without ``after``/``before`` a new stage goes last and a replaced one keeps its place.
    """
    anchor = after or before
    if anchor == name:
        raise WorkbenchError(f"register_stage: {name!r} cannot be placed next to itself", "name another stage")
    if anchor is not None and anchor not in _stages:
        raise unknown_stage(anchor, "register_stage")
    items = [(k, v) for k, v in _stages.items() if k != name]
    if anchor is None:
        if name in _stages:
            items = [(k, target if k == name else v) for k, v in _stages.items()]
        else:
            items.append((name, target))
    else:
        i = next(i for i, (k, _) in enumerate(items) if k == anchor) + (1 if after else 0)
        items.insert(i, (name, target))
    _stages.clear()
    _stages.update(items)
    _loaded.pop(name, None)


@contextlib.contextmanager
def registered(entries: dict[str, str] | None = None, **placement: str) -> Iterator[None]:
    """Temporarily register stages (tests, the fake runner); the registry is restored on exit.

    ``entries`` maps names to targets; ``after=``/``before=`` places new ones as in :func:`register_stage`.
    """
    saved, saved_loaded = dict(_stages), dict(_loaded)
    try:
        for name, target in (entries or {}).items():
            register_stage(name, target, **placement)
            if placement.get("after"):
                placement = {"after": name}  # keep several new stages in the order given
        yield
    finally:
        _stages.clear()
        _stages.update(saved)
        _loaded.clear()
        _loaded.update(saved_loaded)
