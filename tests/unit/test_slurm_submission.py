"""What the Slurm engine hands sbatch: one job array per set of parameters, with the recipe's
partition, account, GPUs, memory, time limit and extra options (submitit writes the sbatch file; a
stand-in ``sbatch`` on PATH records it and answers as Slurm does)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from workbench.executors.coordinator import Resources
from workbench.recipe.models import SlurmSettings


def _fake_sbatch(folder: Path) -> Path:
    log = folder / "sbatch-calls"
    script = folder / "sbatch"
    script.write_text(
        f'#!/bin/sh\nfor a in "$@"; do last="$a"; done\ncp "$last" "{log}.$$"\necho "Submitted batch job 4242"\n'
    )
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    srun = folder / "srun"  # submitit checks that it is on a Slurm host
    srun.write_text("#!/bin/sh\nexit 0\n")
    srun.chmod(srun.stat().st_mode | stat.S_IEXEC)
    return log


def test_tasks_asking_alike_go_as_one_array_with_the_recipes_options(tmp_path, monkeypatch):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = _fake_sbatch(bin_dir)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    from workbench.executors.engines import SlurmEngine

    settings = SlurmSettings(partition="gpu", account="lab", gpus_per_task=1, cpus_per_task=8,
                             sbatch={"qos": "high"})  # fmt: skip
    engine = SlurmEngine(settings, tmp_path / "slurm")
    train = Resources(gpus=1, memory_bytes=12e9, seconds=3600)
    judge = Resources(gpus=0, memory_bytes=2e9, seconds=60)
    spec = {"task_id": "t"}
    jobs = engine.submit_many([(spec, train), (spec, train), (spec, train), (spec, judge)])
    assert len(jobs) == 4
    files = sorted(log.parent.glob("sbatch-calls.*"), key=lambda p: p.stat().st_mtime)
    assert len(files) == 2  # the three alike as one array, the judge pass alone
    array, single = (f.read_text() for f in files)
    assert "#SBATCH --array=0-2" in array and "--array" not in single
    for text in (array, single):
        assert "#SBATCH --partition=gpu" in text and "#SBATCH --account=lab" in text
        assert "#SBATCH --qos=high" in text and "#SBATCH --cpus-per-task=8" in text
    assert "#SBATCH --gpus-per-node=1" in array and "#SBATCH --mem=18GB" in array
    assert "#SBATCH --time=121" in array  # 2x the estimate, in minutes, plus one
    assert "#SBATCH --time=30" in single  # never under 30 minutes
    assert "gpus-per-node" not in single
