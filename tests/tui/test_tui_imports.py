"""The TUI's first frame imports none of the heavy stack (torch, transformers, unsloth, llama_cpp)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import asyncio, json, sys
from workbench.tui.app import make_app

async def main():
    recipe = sys.argv[1] if len(sys.argv) > 1 else None
    app = make_app(recipe)
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.pause()
        if recipe is None:
            assert type(app.screen).__name__ == "StudiesScreen"
        else:  # the study's grid is read by thread workers: wait for them
            await pilot.pause(0.2)
            await app.workers.wait_for_complete()
            await pilot.pause()
            print(type(app.screen).__name__, file=sys.stderr)
    mods = ("torch", "transformers", "unsloth", "llama_cpp", "scipy", "sqlite_utils", "pandas", "plotext")
    print(json.dumps({m: m in sys.modules for m in mods}))

asyncio.run(main())
"""


def test_first_frame_imports_no_heavy_library(workspace):
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, cwd=workspace, timeout=120, check=True
    )
    loaded = json.loads(out.stdout.strip().splitlines()[-1])
    assert not any(loaded[m] for m in ("torch", "transformers", "unsloth", "llama_cpp")), loaded
    # Not forbidden, but each costs 0.3-1 s: the first frame does without them too.
    assert not any(loaded[m] for m in ("scipy", "sqlite_utils", "pandas", "plotext")), loaded


def test_opening_a_study_imports_neither_sqlite_utils_nor_pandas(workspace):
    """A study with a current database is read with sqlite3 alone: sqlite-utils (and the pandas it
    pulls in, ~0.6 s) is for migrations and writes."""
    import shutil

    from workbench.recipe import load_recipe
    from workbench.store import open_study_db

    recipe = workspace / "demo.toml"
    shutil.copy(ROOT / "recipes" / "demo.toml", recipe)
    name = load_recipe(recipe).study.name
    db = open_study_db(workspace / "studies" / f"{name}.sqlite")
    db.ensure_study(name)
    db.close()
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(recipe)], capture_output=True, text=True, cwd=workspace, timeout=120
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert "RunScreen" in out.stderr  # the study really opened
    loaded = json.loads(out.stdout.strip().splitlines()[-1])
    assert not any(loaded[m] for m in ("torch", "transformers", "unsloth", "llama_cpp", "sqlite_utils", "pandas")), (
        loaded
    )


def test_cli_tui_command_imports_the_app_lazily():
    code = "import sys, workbench.tui, workbench.cli; print('textual' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == "False"
