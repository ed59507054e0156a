"""Where studies, model artifacts and caches live.

Two environment variables redirect everything (tests point both at temporary folders):

- ``WORKBENCH_HOME``: the workspace holding ``studies/<study>.sqlite`` and ``models/<study>/...``
  (default: the current directory, so a clone of the repository keeps its results in ``models/``).
- ``WORKBENCH_CACHE``: set-up assets shared by all studies: the GGUF converter, the embedded model,
  converted base models (default: the user cache dir, e.g. ``~/.cache/workbench``).
"""

from __future__ import annotations

import os
from pathlib import Path

LLAMA_CPP_VERSION = "0.3.36"  # keep in step with scripts/setup.sh and pyproject.toml


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
