"""A stand-in for ``python -m workbench`` in TUI tests: the real CLI and runner, with fake stages.

It registers the fake stages of ``tests/stages/fake.py`` under the real stages' names and calls the
real ``workbench`` command line, so ``run RECIPE [--quick] [--only S] [--cells C] [--events-file F]``
plans, skips finished units, writes stage runs and events exactly as the real runner does: it takes
the study's real run lock (``workbench.runner.run_plan`` -> ``workbench.runlock.acquire``, so a second
runner is refused with the holder's pid), appends its events to ``--events-file`` (or, without it, to
a new ``runs/<stamp>.events.jsonl``, as a run typed in a terminal does) and names that file in the
lock. Only the stages' work is fake (no model; each step sleeps ``FAKE_RUNNER_STEP_S``).

The TUI starts it through ``WORKBENCH_TUI_RUNNER`` / ``make_app(runner=...)``; tests also start it
directly as "a run from the CLI" (``tests/tui/test_tui_lock.py``).
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
