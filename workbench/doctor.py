"""``workbench doctor``: is this machine ready? Each check says ok, warning or problem, with a fix."""

from __future__ import annotations

import importlib.metadata as md
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from workbench import assets, environment, paths


@dataclass
class Check:
    name: str
    level: str  # ok, warning, problem
    detail: str
    fix: str = ""


def run_checks() -> list[Check]:
    """All checks, in the order a person would fix them."""
    checks = [_python(), *_torch(), _llama_cpp(), _converter(), _embedded(), _disk(), _gpu_path()]
    return [c for c in checks if c is not None]


def _python() -> Check:
    v = sys.version_info
    if v >= (3, 11):
        return Check("python", "ok", f"{v.major}.{v.minor}.{v.micro}")
    return Check("python", "problem", f"{v.major}.{v.minor} is too old", "use Python 3.11 or newer")


def _torch() -> list[Check]:
    try:
        import torch
    except ImportError:
        return [
            Check("torch", "problem", "not installed", f"run `make demo` (installs torch=={paths.TORCH_VERSION} first)")
        ]
    out = [Check("torch", "ok", torch.__version__)]
    gpus = environment.nvidia_gpus()
    if torch.cuda.is_available():
        props = torch.cuda.get_device_properties(0)
        out.append(
            Check("cuda", "ok", f"{props.name}, {props.total_memory / 2**30:.1f} GiB VRAM, CUDA {torch.version.cuda}")
        )
    elif gpus:
        out.append(
            Check(
                "cuda",
                "problem",
                f"nvidia-smi sees {gpus[0]['name']} but torch has no CUDA",
                f"reinstall torch: `.venv/bin/pip install --force-reinstall torch=={paths.TORCH_VERSION}`",
            )
        )
    else:
        out.append(Check("cuda", "ok", "no GPU: training and generation run on the CPU (demo and classroom mode)"))
    return out


def _llama_cpp() -> Check:
    try:
        version = md.version("llama-cpp-python")
    except md.PackageNotFoundError:
        return Check("llama.cpp", "problem", "llama-cpp-python is not installed", "run `make demo`")
    try:
        import llama_cpp
    except Exception as exc:  # a bad build fails here in many ways
        return Check(
            "llama.cpp",
            "problem",
            f"llama-cpp-python {version} does not import ({exc})",
            "rebuild: `rm .venv/.llama-cpp-build && make demo`",
        )
    info = llama_cpp.llama_print_system_info().decode(errors="replace")
    gpu = bool(llama_cpp.llama_supports_gpu_offload())
    feats = [f.split("=")[0].strip() for f in info.replace("|", " ").split() if f.endswith("=1")]
    detail = f"{version}, {'GPU offload' if gpu else 'CPU only'}; features: {' '.join(feats[:12]) or info.strip()[:80]}"
    if version != paths.LLAMA_CPP_VERSION:
        return Check(
            "llama.cpp",
            "warning",
            detail + f" (expected {paths.LLAMA_CPP_VERSION})",
            "rerun `make demo` to build the pinned version",
        )
    if environment.nvidia_gpus() and not gpu:
        return Check(
            "llama.cpp",
            "warning",
            detail,
            "a GPU is present but llama.cpp was built for CPU: "
            "`rm .venv/.llama-cpp-build && make demo` rebuilds it with CUDA",
        )
    if "AMX" in info and "AMX_INT8 = 1" in info:
        return Check(
            "llama.cpp",
            "warning",
            detail,
            "built with AMX, which crashes on some VMs; `rm .venv/.llama-cpp-build && make demo` rebuilds it portably",
        )
    return Check("llama.cpp", "ok", detail)


def _converter() -> Check:
    try:
        script, _ = assets.converter()
    except Exception as exc:
        return Check("converter", "problem", str(exc), getattr(exc, "hint", "") or "")
    return Check("converter", "ok", f"{script} (llama.cpp of llama-cpp-python {paths.LLAMA_CPP_VERSION})")


def _embedded() -> Check:
    path = paths.embedded_model_path()
    if not path.is_file():
        return Check("embedded", "problem", f"{path} is missing", "run `make demo` or `workbench setup-assets`")
    if not assets.embedded_model_ok(path):
        return Check(
            "embedded", "warning", f"{path} changed since it was checked", "`workbench setup-assets` checks it again"
        )
    return Check("embedded", "ok", f"{path} ({path.stat().st_size / 1e6:.0f} MB)")


def _disk() -> Check:
    where = paths.workspace()
    free = shutil.disk_usage(where if where.exists() else where.parent).free
    detail = f"{free / 1e9:.1f} GB free in {where}"
    if free < 2e9:
        return Check("disk", "problem", detail, "free space or set WORKBENCH_HOME to a larger disk")
    if free < 10e9:
        return Check("disk", "warning", detail, "a study of 1B+ models needs tens of GB for GGUF files")
    return Check("disk", "ok", detail)


def _gpu_path() -> Check:
    """Is the GPU path (CUDA torch, Unsloth 4-bit LoRA, bitsandbytes, llama.cpp offload) ready?"""
    have = {}
    for name in ("unsloth", "bitsandbytes"):
        try:
            have[name] = md.version(name)
        except md.PackageNotFoundError:
            pass
    unsloth_venv = (Path(__file__).resolve().parent.parent / ".venv-unsloth" / "bin" / "python").is_file()
    cuda, cuda_version = False, None
    try:
        import torch  # doctor runs it anyway (_torch); never imported at CLI start

        cuda, cuda_version = torch.cuda.is_available(), torch.version.cuda
    except ImportError:
        pass
    try:
        import llama_cpp

        offload = bool(llama_cpp.llama_supports_gpu_offload())
    except Exception:  # reported by the llama.cpp check
        offload = False
    return gpu_path_check(environment.nvidia_gpus(), cuda, cuda_version, have, offload, unsloth_venv)


def gpu_path_check(
    gpus: list[dict],
    torch_cuda: bool,
    torch_cuda_version: str | None,
    have: dict[str, str],
    llama_offload: bool,
    unsloth_venv: bool = False,
) -> Check:
    """The "gpu path" check from what was found (pure, so each case is testable without a GPU)."""
    bnb = f"bitsandbytes {have['bitsandbytes']}" if "bitsandbytes" in have else "no bitsandbytes"
    if not gpus:
        cpu_4bit = "4-bit LoRA on the CPU through " + bnb if "bitsandbytes" in have else bnb + " (no 4-bit LoRA)"
        return Check("gpu path", "ok", f"no NVIDIA GPU: everything runs on the CPU; {cpu_4bit}")
    missing: list[str] = []
    fixes: list[str] = []
    if not torch_cuda:
        missing.append("torch's CUDA build")
        fixes.append(f"`.venv/bin/pip install --force-reinstall torch=={paths.TORCH_VERSION}` (PyPI's CUDA build)")
    if "unsloth" not in have and not unsloth_venv:
        missing.append("unsloth")
        fixes.append("`bash scripts/setup-unsloth.sh` (its own .venv-unsloth) or `.venv/bin/pip install -e '.[gpu]'`")
    if "bitsandbytes" not in have:
        missing.append("bitsandbytes")
        fixes.append("`.venv/bin/pip install -e .`")
    if not llama_offload:
        missing.append("llama.cpp built with CUDA")
        fixes.append("`rm .venv/.llama-cpp-build && make setup` rebuilds it with -DGGML_CUDA=on")
    name = gpus[0]["name"]
    if missing:
        return Check(
            "gpu path",
            "warning",
            f"{name} found but the GPU path is not ready: missing {', '.join(missing)} (the CPU path works)",
            "; ".join(fixes) + "; then `scripts/gpu-check.sh`",
        )
    unsloth = f"unsloth {have['unsloth']}" if "unsloth" in have else "unsloth in .venv-unsloth"
    return Check(
        "gpu path",
        "ok",
        f"ready: {name}, torch CUDA {torch_cuda_version}, {unsloth}, {bnb}, llama.cpp GPU offload "
        "(`scripts/gpu-check.sh` measures it)",
    )
