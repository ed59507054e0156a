"""The layering of docs/architecture.md, enforced by the import-linter contracts in pyproject.toml."""

import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT

LINT = Path(sys.executable).with_name("lint-imports")


def _lint(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(LINT), *args], cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_every_layering_contract_is_kept():
    proc = _lint()
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    for name in ("never imports a shell", "store imports nothing above it", "Only the TUI imports textual"):
        assert name in proc.stdout and "KEPT" in proc.stdout.split(name, 1)[1].splitlines()[0]


def test_a_broken_contract_is_reported(tmp_path):
    """The checker really reads the imports: a contract the code breaks (the runner uses the store) fails."""
    config = tmp_path / "contracts.toml"
    config.write_text(
        '[tool.importlinter]\nroot_package = "workbench"\n\n'
        '[[tool.importlinter.contracts]]\nname = "runner without store"\ntype = "forbidden"\n'
        'source_modules = ["workbench.runner"]\nforbidden_modules = ["workbench.store"]\n'
    )
    proc = _lint("--config", str(config))
    assert proc.returncode == 1 and "runner without store BROKEN" in proc.stdout, proc.stdout[-2000:]
