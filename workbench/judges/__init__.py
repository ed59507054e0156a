"""Judges: build one from a recipe's ``[[judges]]`` entry through the judge registry.

``heuristic`` needs nothing but text; ``llm`` judges run a GGUF judge model through llama.cpp with a
preset (prompt template, output parser, label mapping). Kinds map to lazy factory strings
(:mod:`workbench.judges.registry`), so importing this package imports no judge module; the protocol
every judge follows is :class:`workbench.judges.base.Judge`.
"""

from __future__ import annotations

from workbench.judges.base import LABELS, Judge, JudgeItem, Verdict, missing_members
from workbench.judges.registry import judge_kinds, register_judge, resolve_judge, unregister_judge

__all__ = [
    "LABELS",
    "Judge",
    "JudgeItem",
    "Verdict",
    "build",
    "builtin_names",
    "judge_kinds",
    "register_judge",
    "unregister_judge",
]


def builtin_names() -> list[str]:
    """Judges usable without a recipe entry (``workbench judge --judge NAME``): every kind but ``llm``,
    which needs a preset and a model."""
    return [kind for kind in judge_kinds() if kind != "llm"]


def build(spec, *, n_parallel: int = 8, emit=None) -> Judge:
    """A judge for a ``JudgeSpec``, from its kind's registered factory.

    Raises WorkbenchError when the kind is unknown or an LLM judge's model is not usable (the caller
    skips that judge with a warning), TypeError when the factory's object does not follow the
    :class:`~workbench.judges.base.Judge` protocol.
    """
    factory = resolve_judge(spec.kind)
    judge = factory(spec, n_parallel=n_parallel, emit=emit)
    missing = missing_members(judge) if judge is not None else ["everything (the factory returned None)"]
    if missing:
        raise TypeError(f"judge {spec.name!r} (kind {spec.kind!r}) lacks {', '.join(missing)} of the Judge protocol")
    if not isinstance(judge.batched, bool):
        raise TypeError(f"judge {spec.name!r}: batched must be True or False, not {judge.batched!r}")
    return judge
