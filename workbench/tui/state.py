"""What the TUI has open: a study (from a recipe, its quick profile, or a bare database) and settings."""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass
from pathlib import Path

from workbench import paths
from workbench.fsutil import atomic_write_json


@dataclass(frozen=True)
class StudyRef:
    """A study the TUI can open: its name, its database, and the recipe that runs it (if known)."""

    name: str
    db_path: Path
    recipe_path: Path | None = None
    quick: bool = False

    @property
    def label(self) -> str:
        """How the header names the study (its recipe and profile, or that it is a bare database)."""
        if self.recipe_path is None:
            return f"{self.name} (database only)"
        return f"{self.name} ({self.recipe_path.name}{' --quick' if self.quick else ''})"


def peek_recipe_name(path: Path, quick: bool = False) -> str | None:
    """The study name a recipe declares (its quick profile's name with ``quick``), without validating."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None
    name = raw.get("study", {}).get("name") if isinstance(raw.get("study"), dict) else None
    if quick:
        q = raw.get("quick", {})
        qname = q.get("study", {}).get("name") if isinstance(q, dict) and isinstance(q.get("study"), dict) else None
        name = qname or name
    return name if isinstance(name, str) else None


def has_quick_profile(path: Path) -> bool:
    """Whether a recipe has a ``[quick]`` table (then it is listed twice: full and quick)."""
    try:
        return isinstance(tomllib.loads(path.read_text(encoding="utf-8")).get("quick"), dict)
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return False


def study_from_recipe(path: Path, quick: bool = False) -> StudyRef | None:
    """The study a recipe (or its quick profile) runs, or None when the TOML cannot be read."""
    name = peek_recipe_name(path, quick)
    if name is None:
        return None
    return StudyRef(name=name, db_path=paths.study_db_path(name), recipe_path=path.resolve(), quick=quick)


def study_from_db(path: Path) -> StudyRef:
    """A study opened from its database alone (named after the file)."""
    return StudyRef(name=path.stem, db_path=path.resolve())


# -- settings kept between sessions (the annotator's name) ----------------------------------------
def settings_path() -> Path:
    """Where the TUI keeps its settings between sessions (in the workspace)."""
    return paths.workspace() / ".workbench-tui.json"


def load_settings() -> dict:
    """The saved settings ({} when there are none or the file is unreadable)."""
    try:
        data = json.loads(settings_path().read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def save_setting(key: str, value) -> None:
    """Save one setting (atomically; a read-only workspace keeps it for this session only)."""
    data = load_settings()
    data[key] = value
    try:
        atomic_write_json(settings_path(), data)
    except OSError:
        pass  # a read-only workspace: the setting lasts this session only
