"""parallel_sequences = "auto": a measured pick, cached per model and machine."""

import json

import pytest

from workbench import paths
from workbench.engines import calibrate


def test_pick_is_the_smallest_count_near_the_best():
    assert calibrate.pick({1: 30, 4: 77, 8: 97, 16: 110, 32: 111}) == 16  # 110 >= 0.95 * 111
    assert calibrate.pick({1: 30, 4: 77, 8: 97, 16: 100, 32: 111}) == 32  # 100 < 105.45
    assert calibrate.pick({1: 50, 4: 40}) == 1
    assert calibrate.pick({8: 100, 16: 96}, tolerance=0.0) == 8


@pytest.fixture
def cache(tmp_path, monkeypatch):
    path = tmp_path / "parallel.json"
    monkeypatch.setattr(calibrate, "cache_path", lambda: path)
    return path


def test_measured_once_then_read_from_the_cache(cache, monkeypatch):
    calls = []

    def fake_measure(gguf, candidates, **kw):
        calls.append(candidates)
        return {n: 100.0 * min(n, 8) for n in candidates}  # flat from 8 on

    monkeypatch.setattr(calibrate, "measure", fake_measure)
    gguf = paths.embedded_model_path()
    logs = []
    assert calibrate.parallel_for(gguf, gpu=False, log=logs.append) == 8
    assert calibrate.parallel_for(gguf, gpu=False, log=logs.append) == 8
    assert calls == [calibrate.CPU_CANDIDATES] and len(logs) == 1 and "auto: 8" in logs[0]
    entry = next(iter(json.loads(cache.read_text()).values()))
    assert entry["pick"] == 8 and entry["tokens_per_s"]["32"] == 800.0
    assert entry["model"]["general.architecture"] == "gemma3" and entry["machine"]["cores"]
    # another machine (here: another thread count) is another key, measured anew
    assert calibrate.parallel_for(gguf, gpu=True, n_threads=1) == 8
    assert calls[-1] == calibrate.GPU_CANDIDATES and len(json.loads(cache.read_text())) == 2


def test_a_damaged_cache_is_measured_again(cache, monkeypatch):
    cache.write_text("{not json")
    monkeypatch.setattr(calibrate, "measure", lambda g, c, **kw: {n: float(n) for n in c})
    assert calibrate.parallel_for(paths.embedded_model_path(), gpu=False) == 32
    assert json.loads(cache.read_text())  # rewritten whole


@pytest.mark.slow
def test_real_calibration_on_the_embedded_model(cache):
    """A real measurement: every candidate measured, more sequences never slower than one."""
    gguf = paths.embedded_model_path()
    chosen = calibrate.parallel_for(gguf, gpu=False)
    entry = json.loads(cache.read_text())[calibrate.cache_key(gguf)]
    rates = {int(k): v for k, v in entry["tokens_per_s"].items()}
    assert chosen in calibrate.CPU_CANDIDATES and set(rates) == set(calibrate.CPU_CANDIDATES)
    assert all(v > 0 for v in rates.values())
    assert max(rates.values()) > 1.5 * rates[1]  # batching pays on any machine
    assert rates[chosen] >= (1 - calibrate.TOLERANCE) * max(rates.values())


def test_bf16_training_is_chosen_by_a_cached_measurement(tmp_path, monkeypatch):
    from workbench import environment

    monkeypatch.setattr(calibrate, "precision_path", lambda: tmp_path / "precision.json")
    monkeypatch.setattr(environment, "cpu_has_fast_bf16", lambda flags=None: True)
    measured = []
    monkeypatch.setattr(calibrate, "matmul_speedup", lambda: measured.append(1) or 0.8)
    logs = []
    assert calibrate.cpu_bf16_pays(logs.append) is False  # units there, but slower: float32
    assert calibrate.cpu_bf16_pays() is False and measured == [1]  # cached
    assert "0.80x" in logs[0] and "float32" in logs[0]
    (tmp_path / "precision.json").unlink()
    monkeypatch.setattr(calibrate, "matmul_speedup", lambda: 2.9)
    assert calibrate.cpu_bf16_pays() is True
    monkeypatch.setattr(environment, "cpu_has_fast_bf16", lambda flags=None: False)
    assert calibrate.cpu_bf16_pays() is False  # no bf16 units: never measured, never bf16


def test_matmul_speedup_is_a_real_ratio():
    speedup = calibrate.matmul_speedup(repeats=2)
    assert 0.05 < speedup < 20
