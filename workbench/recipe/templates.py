"""``workbench init``: a new recipe from the template."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from workbench.errors import WorkbenchError
from workbench.fsutil import atomic_write
from workbench.recipe.models import NAME_RE


def template_text(name: str) -> str:
    """The template recipe with the study name filled in."""
    text = (resources.files("workbench.recipe") / "templates" / "study.toml").read_text(encoding="utf-8")
    return text.replace("__NAME__", name)


def write_template(name: str, directory: Path, *, force: bool = False) -> Path:
    """Write ``directory/name.toml``; refuses to overwrite unless ``force``."""
    if not NAME_RE.match(name):
        err = WorkbenchError(
            f"study name {name!r}: use 1-64 lowercase letters, digits, '.', '_' or '-'",
            "e.g. `workbench init my-study`",
        )
        err.exit_code = 2
        raise err
    path = Path(directory) / f"{name}.toml"
    if path.exists() and not force:
        raise WorkbenchError(f"{path} already exists", "pick another name, or pass --force to overwrite it")
    return atomic_write(path, template_text(name))
