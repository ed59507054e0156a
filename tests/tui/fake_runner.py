"""A stand-in for ``python -m workbench`` in TUI tests: the real CLI and runner, with fake stages.

It registers the fake stages of ``tests/stages/fake.py`` under the real stages' names and calls the
real ``workbench`` command line, so ``run RECIPE [--quick] [--only S] [--cells C] --events jsonl``
plans, skips finished units, writes stage runs and prints events exactly as the real runner does;
only the stages' work is fake (no model; each step sleeps ``FAKE_RUNNER_STEP_S``).
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))


def main() -> None:
    from tests.stages.fake import STAGES
    from workbench import cli, registry

    with registry.registered(STAGES):
        cli.app(sys.argv[1:], prog_name="workbench")


if __name__ == "__main__":
    main()
