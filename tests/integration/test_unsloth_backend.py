"""The Unsloth backend through Unsloth's CPU fallback, in the separate .venv-unsloth environment.

Unsloth pins older transformers/trl releases, so it lives in its own venv (scripts/setup-unsloth.sh,
run by `make test`). The adapter it trains is exported and verified by the main environment.
"""

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.conftest import ROOT
from workbench.engines import chat

UNSLOTH_PY = Path(os.environ.get("WORKBENCH_UNSLOTH_PYTHON", ROOT / ".venv-unsloth" / "bin" / "python"))

TRAIN = """
import json, sys
from pathlib import Path
from workbench.engines import chat, training
from workbench.engines.basemodel import BaseModel

model_dir, out, backend = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
base = BaseModel("tiny", "gemma3", Path(model_dir), chat.TEMPLATES["gemma3"])
rows = [{"prompt": f"Question {i}?", "response": f"Answer number {i}."} for i in range(8)]
cfg = training.TrainConfig(learning_rate=1e-3, epochs=2, batch_size=2, seed=0, max_seq_length=64, lora_r=4,
                           lora_alpha=8, lora_dropout=0.0, backend=backend, target_modules="all-linear")
result = training.train(base, rows, cfg, out, key="unsloth-test")
print("RESULT " + json.dumps(result.summary()))
"""


@pytest.mark.slow
def test_unsloth_cpu_fallback_trains_an_adapter_that_exports_and_passes_the_gate(tiny, tmp_path):
    if not UNSLOTH_PY.exists():
        pytest.skip(f"{UNSLOTH_PY} is missing: run scripts/setup-unsloth.sh (make test does)")
    script = tmp_path / "train.py"
    script.write_text(TRAIN)
    env = {**os.environ, "UNSLOTH_DISABLE_STATISTICS": "1", "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [str(UNSLOTH_PY), str(script), str(tiny["gemma3"]), str(tmp_path / "u"), "unsloth"],
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "training on CPU" in proc.stdout + proc.stderr  # Unsloth's own CPU fallback ran
    result = json.loads(proc.stdout.split("RESULT ", 1)[1].splitlines()[0])
    assert result["backend"] == "unsloth" and result["steps"] == 8

    from safetensors.torch import load_file

    from workbench.engines import export
    from workbench.engines.basemodel import BaseModel

    adapter = tmp_path / "u" / "adapter"
    weights = load_file(adapter / "adapter_model.safetensors")
    assert weights and all(("lora_A" in k or "lora_B" in k) for k in weights)
    assert any(float(v.abs().sum()) > 0 for k, v in weights.items() if "lora_B" in k)  # it trained
    base = BaseModel("tiny", "gemma3", tiny["gemma3"], chat.TEMPLATES["gemma3"])
    exported = export.export_cell(
        base, adapter, tmp_path / "gguf", "unsloth", ["q8_0"], keep_merged=False, min_agreement=0.95
    )
    assert exported.gate.passed and Path(exported.files["q8_0"]).is_file()
