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
    app = make_app()
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.pause()
        assert type(app.screen).__name__ == "StudiesScreen"
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


def test_cli_tui_command_imports_the_app_lazily():
    code = "import sys, workbench.tui, workbench.cli; print('textual' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == "False"
