"""What a stage gets to work with: the recipe, the study database, the artifacts and an event sink."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from workbench import paths
from workbench.artifacts import Artifacts
from workbench.events import Emit, Log, UnitReporter
from workbench.recipe import Recipe, recipe_hash

if TYPE_CHECKING:
    from workbench.cells import Cell
    from workbench.store import StudyDB


@dataclass
class StageContext:
    recipe: Recipe
    db: StudyDB
    study_id: int
    recipe_hash: str
    environment_id: int
    allow_downloads: bool = False
    emit: Emit = field(default=lambda e: None)
    artifacts: Artifacts = field(init=False)

    def __post_init__(self) -> None:
        self.artifacts = Artifacts(self.recipe, self.models_dir, allow_downloads=self.allow_downloads, log=self.log)

    @property
    def study(self) -> str:
        return self.recipe.study.name

    @property
    def models_dir(self) -> Path:
        return paths.study_models_dir(self.study)

    def log(self, message: str, level: str = "info") -> None:
        self.emit(Log(message=message, level=level))

    def reporter(self, stage: str, cell: Cell | None) -> UnitReporter:
        """What a stage hands its engines to report progress and log lines for one unit."""
        from workbench.stages.base import unit_name

        return UnitReporter(self.emit, stage, unit_name(cell))

    def input_key(self, stage: str, cell: Cell | None) -> str:
        """Another stage's input key for this unit, through the registry (keys that build on upstream keys)."""
        from workbench import registry

        return registry.get(stage).input_key(self, cell)


def open_context(
    recipe: Recipe, *, allow_downloads: bool = False, emit: Emit | None = None, db_path: Path | None = None
) -> StageContext:
    """Open the study database (or, on a worker, its copy at ``db_path``), record the recipe snapshot
    and the environment."""
    from workbench import environment
    from workbench.store import open_study_db

    db = open_study_db(db_path or paths.study_db_path(recipe.study.name), check=True)
    study_id = db.ensure_study(recipe.study.name, recipe.study.description)
    h = recipe_hash(recipe)
    db.record_recipe(
        study_id, h, recipe.toml_text, recipe.model_dump(mode="json"), str(recipe.source) if recipe.source else None
    )
    env_id = db.record_environment(environment.describe())
    return StageContext(
        recipe=recipe,
        db=db,
        study_id=study_id,
        recipe_hash=h,
        environment_id=env_id,
        allow_downloads=allow_downloads,
        emit=emit or (lambda e: None),
    )
