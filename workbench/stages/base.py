"""What a stage is: a small protocol every stage module exposes as ``STAGE``.

A stage has a name, a scope (one unit for the whole ``study``, or one unit per ``cell`` it applies
to), the stages whose outputs it reads (``needs``), an input key (a digest of everything that
determines its output: a finished unit with the same key is skipped), ``run`` and ``estimate``.
The runner, ``workbench plan`` / ``status``, ``--only`` and the TUI grid all iterate the registry
(:mod:`workbench.registry`) and call only these; nothing else lists stages.

Stage modules import their heavy libraries inside ``run``, so reading the plan stays fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Literal

if TYPE_CHECKING:
    from workbench.cells import Cell
    from workbench.context import StageContext
    from workbench.estimates import Estimate, GpuClass
    from workbench.recipe.models import Recipe

Scope = Literal["study", "cell"]
STUDY_UNIT = "study"  # the unit name of a study-scoped stage


class Stage:
    """Base of every stage. Subclasses set ``name``, ``scope`` and ``needs`` and define
    ``input_key`` and ``run``; ``applies_to`` and ``estimate`` have defaults."""

    name: ClassVar[str] = ""
    scope: ClassVar[Scope] = "cell"
    needs: ClassVar[tuple[str, ...]] = ()
    # Cheap stages that another stage needs are added to a run by themselves (``--only generate``
    # runs ``prepare`` too when it is not done); any other missing need is reported, not run.
    auto: ClassVar[bool] = False
    # Run on a cluster worker together with the same cell's unit of its latest need (export with the
    # fine-tune whose weights it converts), not as a task of its own.
    runs_with_input: ClassVar[bool] = False
    description: ClassVar[str] = ""

    def applies_to(self, cell: Cell, recipe: Recipe) -> bool:
        """Whether this cell goes through the stage (cell-scoped stages only)."""
        return True

    def input_key(self, ctx: StageContext, cell: Cell | None) -> str:
        """A digest of everything that determines this unit's output."""
        raise NotImplementedError

    def run(self, ctx: StageContext, cell: Cell | None) -> dict[str, Any]:
        """Do the unit's work, committing as it goes; returns details kept with the stage run."""
        raise NotImplementedError

    def estimate(self, recipe: Recipe, cells: list[Cell], gpu: GpuClass) -> Estimate | None:
        """Rough time, disk and memory for this stage over ``cells`` on a machine of class ``gpu``
        (None: nothing worth estimating). ``gpu`` is falsy for the CPU class."""
        return None

    def units(self, recipe: Recipe, cells: list[Cell]) -> list[Cell | None]:
        """The units of this stage among ``cells``: one ``None`` for a study-scoped stage."""
        if self.scope == "study":
            return [None]
        return [c for c in cells if self.applies_to(c, recipe)]

    def __repr__(self) -> str:
        return f"<stage {self.name} ({self.scope})>"


def unit_name(cell: Cell | None) -> str:
    """The unit a stage run is recorded under: the cell id, or ``study``."""
    return STUDY_UNIT if cell is None else cell.id
