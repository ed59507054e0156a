"""A slow study-scoped test stage, and a script that runs ``workbench`` with it registered.

``python -m tests.stages.sleepy run RECIPE --only sleepy`` is a real ``workbench run`` in its own
process whose one unit reports ``SLEEPY_STEPS`` progress steps ``SLEEPY_STEP_S`` seconds apart, so a
test can start a second runner, ``status`` or ``status --follow`` while it runs.
"""

from __future__ import annotations

import os
import sys
import time

from workbench.cells import digest
from workbench.stages.base import Stage


class Sleepy(Stage):
    name = "sleepy"
    scope = "study"
    description = "wait, reporting progress (a test stage)"

    def input_key(self, ctx, cell=None) -> str:
        return digest({"nonce": os.environ.get("SLEEPY_NONCE", "")})

    def run(self, ctx, cell=None) -> dict:
        steps = int(os.environ.get("SLEEPY_STEPS", "20"))
        pause = float(os.environ.get("SLEEPY_STEP_S", "0.2"))
        report = ctx.reporter(self.name, cell)
        for i in range(1, steps + 1):
            time.sleep(pause)
            report.progress(i, steps, what="steps")
        return {"steps": steps}


STAGE = Sleepy()

if __name__ == "__main__":
    from workbench import registry
    from workbench.cli import app

    registry.register_stage("sleepy", "tests.stages.sleepy:STAGE")
    sys.argv = ["workbench", *sys.argv[1:]]
    app()
