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


TINY_DEMO_PROFILE = """
[quick.languages]
finetune = ["es"]
evaluate = ["en", "es"]

[quick.align]
examples_per_language = 8
epochs = 1

[quick.training]
examples_per_language = 8
epochs = [1]

[quick.data.evaluation]
shipped = "adversarial"
limit = 6

[quick.generation]
max_new_tokens = 24
"""


def tiny_demo_recipe(folder: Path, study: str, extra: str = "") -> Path:
    """The demo recipe as study ``study`` with its [quick] profile replaced by a tiny one (a few training
    steps, six prompts per language) plus ``extra`` TOML; written to ``folder/<study>.toml``."""
    text = (RECIPES / "demo.toml").read_text(encoding="utf-8")
    text = text[: text.index("# A smaller profile")].replace('name = "demo"', f'name = "{study}"', 1)
    path = folder / f"{study}.toml"
    path.write_text(text + TINY_DEMO_PROFILE + extra, encoding="utf-8")
    return path


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


def kill_then_resume(cmd, db_path, sql, total, **kw):
    """:func:`kill_mid_run`, then run ``cmd`` again to the end (it must succeed). Returns (rows at the kill,
    rows after the rerun); asserts the rows committed before the kill are the rerun's first rows, unchanged."""
    import sqlite3

    _, at_kill = kill_mid_run(cmd, db_path, sql, total, **kw)
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600, env=os.environ)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr
    with sqlite3.connect(db_path) as db:
        after = db.execute(sql).fetchall()
    assert after[: len(at_kill)] == at_kill  # nothing committed was redone or replaced
    return at_kill, after


def kill_mid_run(cmd, db_path, sql, total, *, at_least=2, timeout=120):
    """Start ``cmd``, SIGKILL it once ``sql`` returns ``at_least`` rows (but fewer than ``total``).

    Returns (rows seen before the kill, rows after it); asserts that the kill landed mid-run and that
    the rows committed before it are intact.
    """
    import signal
    import sqlite3
    import time

    def rows():
        with sqlite3.connect(db_path) as db:
            try:
                return db.execute(sql).fetchall()
            except sqlite3.OperationalError:  # the database or table does not exist yet
                return []

    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + timeout
        before: list[tuple] = []
        while time.time() < deadline:
            before = rows()
            if len(before) >= at_least:
                break
            time.sleep(0.02)
        assert at_least <= len(before) < total, "the kill must land mid-run"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    at_kill = rows()
    assert at_kill[: len(before)] == before  # committed rows are intact
    return before, at_kill


def add_test_response(db, prompt_id, cell, *, key="g1", text="..."):
    """Commit one response with fixed generation fields (store, results and judge-eval tests)."""
    return db.add_response(
        {
            "prompt_id": prompt_id,
            "cell_id": cell,
            "generation_key": key,
            "text": text,
            "temperature": 0.0,
            "top_p": 1.0,
            "max_new_tokens": 8,
            "params_json": {},
            "prompt_tokens": 5,
            "completion_tokens": 3,
            "finish_reason": "stop",
        }
    )
