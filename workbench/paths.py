"""Where studies, model artifacts and caches live.

Two environment variables redirect everything (tests point both at temporary folders):

- ``WORKBENCH_HOME``: the workspace holding ``studies/<study>.sqlite`` and ``models/<study>/...``
  (default: the current directory, so a clone of the repository keeps its results in ``models/``).
- ``WORKBENCH_CACHE``: set-up assets shared by all studies: the GGUF converter, the embedded model,
  converted base models (default: the user cache dir, e.g. ``~/.cache/workbench``).
"""

from __future__ import annotations

import importlib.metadata as md
import os
import re
import tomllib
from pathlib import Path


def pinned_version(package: str) -> str:
    """The exact version ``pyproject.toml`` pins ``package`` to (``package==X`` in its dependencies).

    pyproject.toml is the one place the torch and llama-cpp-python versions are written: pip enforces
    them from there, ``scripts/setup.sh`` reads them with sed before any environment exists, and the
    workbench reads them here. The installed package's metadata comes first (it is what the set-up
    built against); a source tree that is not installed falls back to the pyproject.toml beside it.
    """
    wanted = _normalize(package)
    for requirement in _requirements():
        m = re.fullmatch(r"\s*([A-Za-z0-9._-]+)\s*==\s*([^\s;,]+)\s*(;.*)?", requirement)
        if m and _normalize(m.group(1)) == wanted and not (m.group(3) or "").strip("; "):
            return m.group(2)
    raise RuntimeError(f"pyproject.toml pins no exact version of {package} (expected a `{package}==X` dependency)")


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _requirements():
    try:
        yield from md.requires("workbench") or ()
    except md.PackageNotFoundError:
        pass
    # Also the source tree's own file: an editable install made before a pin was added lacks it.
    pyproject = Path(__file__).resolve().parent.parent / "pyproject.toml"
    if pyproject.is_file():
        yield from tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["dependencies"]


LLAMA_CPP_VERSION = pinned_version("llama-cpp-python")  # the llama.cpp build and its GGUF converter
TORCH_VERSION = pinned_version("torch")


def workspace() -> Path:
    """The folder that holds ``studies/`` and ``models/``."""
    return Path(os.environ.get("WORKBENCH_HOME") or Path.cwd()).resolve()


def cache_dir() -> Path:
    """The set-up cache (converter, embedded model, converted base models)."""
    env = os.environ.get("WORKBENCH_CACHE")
    if env:
        return Path(env).expanduser().resolve()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return (base / "workbench").resolve()


def study_db_path(study: str) -> Path:
    """The SQLite file of one study."""
    return workspace() / "studies" / f"{study}.sqlite"


def study_models_dir(study: str) -> Path:
    """The artifact folder of one study: ``models/<study>/``."""
    return workspace() / "models" / study


def converter_dir(version: str = LLAMA_CPP_VERSION) -> Path:
    """llama.cpp's ``convert_hf_to_gguf.py`` and its ``gguf-py``, unpacked by the set-up."""
    return cache_dir() / "converter" / version


def embedded_model_path() -> Path:
    """The assembled embedded model (Gemma 3 270M, Q4_K_M GGUF)."""
    return cache_dir() / "models" / "gemma3-270m-q4_k_m.gguf"


def recipes_dir() -> Path:
    """The ``recipes/`` folder of the workspace (falls back to the one beside the package)."""
    here = workspace() / "recipes"
    if here.is_dir():
        return here
    return Path(__file__).resolve().parent.parent / "recipes"


def recipe_dirs() -> list[Path]:
    """Where recipes are looked for, in order: ``WORKBENCH_HOME/recipes``, then the current folder's
    ``recipes/`` and the current folder itself (``workbench init`` writes to the first)."""
    out: list[Path] = []
    if os.environ.get("WORKBENCH_HOME"):
        out.append(workspace() / "recipes")
    cwd = Path.cwd().resolve()
    for d in (cwd / "recipes", cwd):
        if d not in out:
            out.append(d)
    return out
