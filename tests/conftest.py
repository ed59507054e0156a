import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
RECIPES = ROOT / "recipes"
DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture
def workspace(tmp_path, monkeypatch):
    """A fresh WORKBENCH_HOME (studies/ and models/) for one test; the set-up cache stays shared."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("WORKBENCH_HOME", str(home))
    return home


@pytest.fixture(scope="session")
def tiny(tmp_path_factory):
    """Tiny random Llama-3, Qwen3 and Gemma-3 models (see tests/tinymodels.py), made once per session."""
    from tests.tinymodels import make_tiny_model

    root = tmp_path_factory.mktemp("tiny")
    return {f: make_tiny_model(root / f, f) for f in ("llama3", "qwen3", "gemma3")}


def run_cli(*args, env=None, cwd=None, timeout=600):
    """Run the real console entry point in a subprocess; returns CompletedProcess."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "workbench", *map(str, args)],
        capture_output=True,
        text=True,
        env=full_env,
        cwd=cwd or ROOT,
        timeout=timeout,
    )
