"""What a stage gets to work with: the recipe, the study database, paths and an event sink."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workbench import paths
from workbench.recipe import Recipe, recipe_hash
from workbench.store import StudyDB

Event = dict[str, Any]


@dataclass
class StageContext:
    recipe: Recipe
    db: StudyDB
    study_id: int
    recipe_hash: str
    environment_id: int
    allow_downloads: bool = False
    emit: Callable[[Event], None] = field(default=lambda e: None)

    @property
    def study(self) -> str:
        return self.recipe.study.name

    @property
    def models_dir(self) -> Path:
        return paths.study_models_dir(self.study)

    def log(self, message: str, level: str = "info") -> None:
        self.emit({"event": "log", "level": level, "message": message})


def open_context(
    recipe: Recipe, *, allow_downloads: bool = False, emit: Callable[[Event], None] | None = None
) -> StageContext:
    """Open the study database, record the recipe snapshot and the environment."""
    from workbench import environment
    from workbench.store import open_study_db

    db = open_study_db(paths.study_db_path(recipe.study.name))
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


def write_jsonl_atomic(path: Path, rows: list[dict[str, Any]]) -> Path:
    """Write rows to ``path`` through a temporary file and a rename: never a half-written file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            for row in rows:
                f.write(json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
