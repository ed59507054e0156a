"""The judge registry: build a judge from a recipe's ``[[judges]]`` entry.

``heuristic`` needs nothing but text; ``llm`` judges run a GGUF judge model through llama.cpp with a
preset (prompt template, output parser, label mapping). See :mod:`workbench.judges.base`.
"""

from __future__ import annotations

from workbench.judges.base import LABELS, Judge, JudgeItem, Verdict

__all__ = ["LABELS", "Judge", "JudgeItem", "Verdict", "build", "builtin_names"]


def builtin_names() -> list[str]:
    """Judges usable without a recipe entry (``workbench judge --judge NAME``)."""
    return ["heuristic"]


def build(spec, *, n_parallel: int = 8, emit=None) -> Judge:
    """A judge for a ``JudgeSpec``; raises WorkbenchError when an LLM judge's model is not usable."""
    if spec.kind == "heuristic":
        from workbench.judges.heuristic import HeuristicJudge

        judge = HeuristicJudge()
        judge.name = spec.name
        return judge
    from workbench.judges.llm import build_judge

    return build_judge(spec, n_parallel=n_parallel, emit=emit)
