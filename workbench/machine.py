"""The machine a plan is made for: its RAM, VRAM, free disk and GPU class.

Read from the OS and ``nvidia-smi`` (never torch: ``workbench plan`` must answer at once), or built by
hand: tests and ``workbench plan --gpu CLASS`` plan for a machine that is not this one.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from workbench import environment
from workbench import estimates as est


@dataclass(frozen=True)
class Machine:
    """What the plan's estimates are checked against; None where a fact is unknown (not checked)."""

    ram_bytes: float | None
    vram_bytes: float | None
    free_disk_bytes: float | None
    gpu_class: str = "cpu"  # a name of estimates.GPU_CLASSES
    description: str = ""  # in words, for the plan's title
    disk_path: str = ""  # the folder whose free space ``free_disk_bytes`` is

    @property
    def gpu(self) -> est.GpuClass:
        return est.gpu_class(self.gpu_class)

    def as_dict(self) -> dict:
        return {
            "gpu_class": self.gpu_class,
            "description": self.description,
            "ram_bytes": self.ram_bytes,
            "vram_bytes": self.vram_bytes,
            "free_disk_bytes": self.free_disk_bytes,
            "disk_path": self.disk_path,
        }


def free_disk(folder: Path) -> float | None:
    """Free bytes on the file system that holds ``folder`` (or its nearest existing parent)."""
    p = Path(folder).resolve()
    while not p.exists() and p != p.parent:
        p = p.parent
    try:
        return float(shutil.disk_usage(p).free)
    except OSError:
        return None


def this_machine(models_dir: Path) -> Machine:
    """This machine: RAM from the OS, the largest GPU ``nvidia-smi`` lists (none without it on PATH),
    free disk where the study's models folder is."""
    gpus = environment.nvidia_gpus()
    ram = environment.ram_bytes()
    disk = free_disk(models_dir)
    if not gpus:
        return Machine(ram, None, disk, "cpu", "this machine, CPU only", str(models_dir))
    best = max(gpus, key=lambda g: g["vram_bytes"])
    cls = est.classify_gpu(best["name"])
    return Machine(
        ram, float(best["vram_bytes"]), disk, cls, f"this machine, {best['name']} ({cls} class)", str(models_dir)
    )


def planned_for(gpu: str, models_dir: Path) -> Machine:
    """Another machine for ``--gpu CLASS``: the class's throughputs and typical VRAM, with this machine's
    RAM and free disk (the study's models folder is here). An unknown class is a usage error."""
    cls = est.gpu_class(gpu)
    return Machine(
        environment.ram_bytes(),
        cls.vram_bytes,
        free_disk(models_dir),
        cls.name,
        f"--gpu {cls.name}: {cls.description}" + ("; RAM and disk of this machine" if cls.is_gpu else ""),
        str(models_dir),
    )
