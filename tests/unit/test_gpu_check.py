"""scripts/gpu-check.sh refuses clearly without CUDA; doctor's "gpu path" check says what is missing."""

import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT
from workbench import doctor

SCRIPT = ROOT / "scripts" / "gpu-check.sh"


def _fake_nvidia_smi(tmp_path, ok: bool):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "nvidia-smi"
    fake.write_text("#!/bin/sh\necho 'GPU 0: Fake GPU (UUID: GPU-0)'\nexit 0\n" if ok else "#!/bin/sh\nexit 9\n")
    fake.chmod(0o755)
    return {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}


def _run(env, *args):
    return subprocess.run(["bash", str(SCRIPT), *args], capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)


def test_refuses_in_one_line_without_a_gpu(tmp_path):
    proc = _run(_fake_nvidia_smi(tmp_path, ok=False))
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("gpu-check: no CUDA GPU")
    assert "[setup]" not in proc.stdout + proc.stderr  # refused before setting anything up


def test_refuses_when_torch_has_no_cuda_before_any_set_up(tmp_path):
    import torch

    if torch.cuda.is_available():
        pytest.skip("torch has CUDA here")
    proc = _run({**_fake_nvidia_smi(tmp_path, ok=True), "VENV": str(ROOT / ".venv")})
    assert proc.returncode == 3, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "torch in" in lines[0] and "has no CUDA" in lines[0]
    assert "--force-reinstall torch==" in lines[0]
    assert "[setup]" not in proc.stdout  # a CPU machine's build is never touched


def test_python_side_refuses_without_cuda():
    import torch

    if torch.cuda.is_available():
        pytest.skip("torch has CUDA here")
    proc = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "gpu_check.py")], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 3
    assert proc.stderr.strip().splitlines()[-1].startswith("gpu-check: torch") and "no CUDA" in proc.stderr


GPU = [{"name": "NVIDIA RTX 4090", "vram_bytes": 24 * 2**30}]
ALL = {"unsloth": "2026.10.9", "bitsandbytes": "0.50.2"}


def test_doctor_gpu_path_without_a_gpu_is_fine():
    c = doctor.gpu_path_check([], False, None, {"bitsandbytes": "0.50.2"}, False)
    assert c.name == "gpu path" and c.level == "ok" and "CPU" in c.detail and "4-bit" in c.detail
    assert "no 4-bit" in doctor.gpu_path_check([], False, None, {}, False).detail


def test_doctor_gpu_path_ready():
    c = doctor.gpu_path_check(GPU, True, "12.8", ALL, True)
    assert c.level == "ok" and c.detail.startswith("ready: NVIDIA RTX 4090") and "gpu-check.sh" in c.detail


@pytest.mark.parametrize(
    "cuda, have, offload, missing, fix",
    [
        (False, ALL, True, "torch's CUDA build", "--force-reinstall torch=="),
        (True, {"bitsandbytes": "0.50.2"}, True, "unsloth", "setup-unsloth.sh"),
        (True, {"unsloth": "2026.10.9"}, True, "bitsandbytes", "pip install -e ."),
        (True, ALL, False, "llama.cpp built with CUDA", "GGML_CUDA"),
    ],
)
def test_doctor_gpu_path_says_what_to_install(cuda, have, offload, missing, fix):
    c = doctor.gpu_path_check(GPU, cuda, "12.8" if cuda else None, have, offload)
    assert c.level == "warning" and missing in c.detail and fix in c.fix and "gpu-check.sh" in c.fix
    assert doctor.gpu_path_check(GPU, True, "12.8", {"bitsandbytes": "0.50.2"}, True, unsloth_venv=True).level == "ok"


def test_doctor_lists_the_gpu_path_check():
    assert "gpu path" in {c.name for c in doctor.run_checks()}
