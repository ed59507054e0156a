"""Factories for built-in judges whose classes are not built from a ``JudgeSpec`` themselves.

Each has the registry's factory signature, ``factory(spec, *, n_parallel, emit)``, and imports its
judge's module only when called (see :mod:`workbench.judges.registry`).
"""

from __future__ import annotations

from workbench.events import Emit
from workbench.judges.base import Judge


def heuristic(spec, *, n_parallel: int = 8, emit: Emit | None = None) -> Judge:
    """The cue-table judge, named after the recipe's entry. It reads text alone, one item at a time:
    ``n_parallel`` and ``emit`` are not used."""
    from workbench.judges.heuristic import HeuristicJudge

    judge = HeuristicJudge()
    judge.name = spec.name
    return judge
