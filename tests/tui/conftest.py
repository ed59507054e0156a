"""Fixtures of the TUI tests: a workspace with recipes, a small synthetic study, a fake runner."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))

from synthetic_study import make_study  # noqa: E402


@pytest.fixture
def home(workspace, monkeypatch):
    """A workspace whose recipes/ holds the demo recipe (full and quick profiles)."""
    (workspace / "recipes").mkdir()
    shutil.copy(ROOT / "recipes" / "demo.toml", workspace / "recipes" / "demo.toml")
    monkeypatch.chdir(workspace)
    return workspace


@pytest.fixture
def synth(home):
    """A synthetic study of 200 responses (two models, two judges, two annotators) with its recipe."""
    make_study(home / "studies" / "synth.sqlite", 200, seed=0, recipe_path=home / "recipes" / "synth.toml")
    return home / "studies" / "synth.sqlite"


@pytest.fixture
def anyio_backend():
    return "asyncio"
