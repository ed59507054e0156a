"""The set-up placed a llama.cpp build that runs here, the matching converter and the embedded model."""

import os
import subprocess
import sys

import pytest

from workbench import assets, paths


def test_embedded_model_is_assembled_and_checked():
    path = assets.embedded_model()
    assert path.stat().st_size == 253_113_024
    assert assets.embedded_model_ok(path)


def test_llama_cpp_build_decodes_the_embedded_model():
    """Catches a build that crashes on this CPU (e.g. AMX on VMs): runs in a subprocess."""
    code = (
        "import llama_cpp, sys\n"
        f"m = llama_cpp.Llama({str(assets.embedded_model())!r}, n_ctx=256, n_threads=2, verbose=False, seed=0)\n"
        "out = m.create_completion('The capital of France is', max_tokens=8, temperature=0.0)\n"
        "print('TEXT', repr(out['choices'][0]['text']), out['usage']['completion_tokens'])\n"
        "print('ARCH', m.metadata.get('general.architecture'))\n"
        "m.close()\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "ARCH gemma3" in proc.stdout
    tokens = int(proc.stdout.split("TEXT", 1)[1].split("\n")[0].rsplit(" ", 1)[1])
    assert tokens > 0


def test_cached_converter_matches_llama_cpp_version_and_runs():
    script, gguf_py = assets.converter()
    assert paths.LLAMA_CPP_VERSION in str(script)
    import importlib.metadata as md

    assert md.version("llama-cpp-python") == paths.LLAMA_CPP_VERSION
    env = {**os.environ, "PYTHONPATH": str(gguf_py)}
    proc = subprocess.run(
        [sys.executable, str(script), "--help"], capture_output=True, text=True, env=env, cwd=script.parent, timeout=300
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "--outtype" in proc.stdout


def test_missing_assets_give_a_clear_error(tmp_path, monkeypatch):
    from workbench.errors import MissingAsset

    monkeypatch.setenv("WORKBENCH_CACHE", str(tmp_path))
    with pytest.raises(MissingAsset, match="embedded model is missing"):
        assets.embedded_model()
    with pytest.raises(MissingAsset, match="converter is missing"):
        assets.converter()
