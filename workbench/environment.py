"""A description of the software and hardware a stage ran on (the study's manifest).

Reads package versions from metadata and the machine from the OS; imports torch only when asked
(``probe_torch=True``), since the CLI must start fast.
"""

from __future__ import annotations

import importlib.metadata as md
import os
import platform
import shutil
import subprocess
from typing import Any

PACKAGES = (
    "workbench",
    "torch",
    "transformers",
    "datasets",
    "peft",
    "trl",
    "accelerate",
    "unsloth",
    "bitsandbytes",
    "llama-cpp-python",
    "gguf",
    "sqlite-utils",
    "pydantic",
    "textual",
    "sentencepiece",
)


def package_versions() -> dict[str, str]:
    """Installed versions of the packages that shape results (missing ones left out)."""
    out = {}
    for name in PACKAGES:
        try:
            out[name] = md.version(name)
        except md.PackageNotFoundError:
            pass
    return out


def cpu_name() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def cpu_flags() -> frozenset[str]:
    """The instruction-set flags the kernel reports for the first CPU (empty where unknown)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith(("flags", "Features")):
                    return frozenset(line.split(":", 1)[1].split())
    except OSError:
        pass
    return frozenset()


def cpu_has_fast_bf16(flags: frozenset[str] | None = None) -> bool:
    """Whether the CPU reports native bfloat16 matrix units (AVX-512 BF16 or AMX). Without them bf16 is
    emulated and slower than float32; with them it may still be slower (measured: 2.9x float32 on one
    machine type, 0.8x on another), so :func:`workbench.engines.calibrate.cpu_bf16_pays` measures."""
    flags = cpu_flags() if flags is None else flags
    return bool({"avx512_bf16", "amx_bf16"} & flags)


def ram_bytes() -> int | None:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


def nvidia_gpus() -> list[dict[str, Any]]:
    """GPUs that ``nvidia-smi`` reports (name, memory in bytes); empty without one."""
    if not shutil.which("nvidia-smi"):
        return []
    try:
        out = subprocess.run(
            ["nvidia-smi", "--query-gpu=name,memory.total", "--format=csv,noheader,nounits"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout
    except (subprocess.SubprocessError, OSError):
        return []
    gpus = []
    for line in out.strip().splitlines():
        name, _, mem = line.rpartition(",")
        try:
            gpus.append({"name": name.strip(), "vram_bytes": int(float(mem.strip()) * 1024 * 1024)})
        except ValueError:
            continue
    return gpus


def describe(probe_torch: bool = False) -> dict[str, Any]:
    """The environment as stored in the ``environments`` table."""
    gpus = nvidia_gpus()
    env: dict[str, Any] = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu": cpu_name(),
        "cpu_count": os.cpu_count(),
        "ram_bytes": ram_bytes(),
        "gpu": ", ".join(g["name"] for g in gpus) or None,
        "vram_bytes": sum(g["vram_bytes"] for g in gpus) or None,
        "cuda": None,
        "packages": package_versions(),
    }
    if probe_torch:
        import torch

        env["cuda"] = torch.version.cuda if torch.cuda.is_available() else None
    return env
