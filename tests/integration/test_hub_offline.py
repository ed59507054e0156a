"""Hub models and data sets, offline, from a Hugging Face cache laid out as the hub client writes it.

The cache (``HF_HUB_CACHE`` in a tmp folder, ``HF_HUB_OFFLINE=1``) holds ``models--owner--tiny``: two
commits of a tiny random Llama (safetensors), ``refs/main`` and a ``refs/v1`` tag, files as links into
``blobs/``. Beside the safe files lie decoys a full download could leave there: ``pytorch_model.bin``
(a pickle whose loading creates a marker folder), ``modeling_evil.py`` (whose import creates a marker)
named by ``auto_map`` in ``config.json``. An audit hook records every socket connection and every open
of a decoy; none may happen. Hub failures (gated, unreachable) are simulated in the client, never
reached for real.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import pickle
import sys
import textwrap
import types
from pathlib import Path

import pytest

from tests.conftest import run_cli
from workbench.errors import DataError, WorkbenchError
from workbench.recipe.models import DataSource, ModelSpec

MAIN = "a1" * 20  # commit of refs/main
V1 = "b2" * 20  # commit of the tag refs/v1
DECOYS = ("pytorch_model.bin", "modeling_evil.py", "prompts_script.py", "evil.pkl")

# -- what must never happen: the network, opening a decoy, importing the evil module ------------------------
_events: list[str] = []
_watching: list[bool] = []


def _audit(event: str, args: tuple) -> None:
    if not _watching:
        return
    if event in ("socket.connect", "socket.getaddrinfo"):
        _events.append(f"{event} {args[1:2]}")
    elif event == "open" and isinstance(args[0], (str, bytes, os.PathLike)):
        name = os.fsdecode(args[0])
        if name.endswith(DECOYS):
            _events.append(f"open {name}")
    elif event == "import" and args[0] in ("modeling_evil", "prompts_script"):
        _events.append(f"import {args[0]}")


sys.addaudithook(_audit)  # hooks cannot be removed; it does nothing unless a test here is watching


@pytest.fixture
def watch(monkeypatch):
    """Record network use, decoy opens and evil imports; any torch.load or pickle load fails the test."""
    import torch

    def refuse(*a, **k):
        raise AssertionError("a pickle was loaded")

    monkeypatch.setattr(torch, "load", refuse)
    monkeypatch.setattr(pickle, "load", refuse)
    monkeypatch.setattr(pickle, "loads", refuse)
    _events.clear()
    _watching.append(True)
    yield _events
    _watching.clear()


class _Boom:
    """Unpickling this creates the folder ``marker`` (what a malicious checkpoint could do)."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (os.makedirs, (str(self.marker),))


# -- a hub cache as the client writes it ---------------------------------------------------------------------
def put_snapshot(repo: Path, commit: str, files: dict[str, bytes], refs: tuple[str, ...] = ()) -> Path:
    """Write ``files`` as ``blobs/<sha256>`` with ``snapshots/<commit>/<name>`` relative links; refs point at it."""
    snap = repo / "snapshots" / commit
    for rel, data in files.items():
        blob = repo / "blobs" / hashlib.sha256(data).hexdigest()
        blob.parent.mkdir(parents=True, exist_ok=True)
        blob.write_bytes(data)
        link = snap / rel
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(os.path.relpath(blob, link.parent))
    for ref in refs:
        (repo / "refs").mkdir(parents=True, exist_ok=True)
        (repo / "refs" / ref).write_text(commit)  # no newline, as the client writes it
    return snap


@pytest.fixture(scope="module")
def tiny_pair(tmp_path_factory):
    """Two tiny random Llama models (seeds 0 and 1): the hub repo's two commits."""
    from tests.tinymodels import make_tiny_model

    root = tmp_path_factory.mktemp("hubtiny")
    return make_tiny_model(root / "s0", "llama3", seed=0), make_tiny_model(root / "s1", "llama3", seed=1)


def _model_files(folder: Path, markers: Path) -> dict[str, bytes]:
    files = {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file() and p.name != "tiny.json"}
    config = json.loads(files["config.json"])
    config["auto_map"] = {"AutoConfig": "modeling_evil.EvilConfig", "AutoModelForCausalLM": "modeling_evil.EvilModel"}
    files["config.json"] = json.dumps(config).encode()
    files["pytorch_model.bin"] = pickle.dumps(_Boom(markers / "unpickled"))
    files["modeling_evil.py"] = textwrap.dedent(
        f"""
        import os
        os.makedirs({str(markers / "imported")!r}, exist_ok=True)
        raise RuntimeError("remote code ran")
        """
    ).encode()
    return files


def _parquet(rows: list[dict]) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    buf = io.BytesIO()
    pq.write_table(pa.Table.from_pylist(rows), buf)
    return buf.getvalue()


def _rows(tag: str) -> list[dict]:
    return [
        {"id": f"{tag}{i}", "lang": lang, "prompt": f"{tag} prompt {i} {lang}", "category": "c"}
        for i in range(3)
        for lang in ("en", "es")
    ]


@pytest.fixture
def hub(tmp_path, monkeypatch, tiny_pair):
    """A Hugging Face cache with the tiny model repo and a parquet dataset repo; HF_HUB_OFFLINE=1."""
    from huggingface_hub import constants

    hf = tmp_path / "hf"
    markers = tmp_path / "markers"
    cache = hf / "hub"
    models = cache / "models--owner--tiny"
    put_snapshot(models, MAIN, _model_files(tiny_pair[0], markers), refs=("main",))
    put_snapshot(models, V1, _model_files(tiny_pair[1], markers), refs=("v1",))
    pickles_only = {"config.json": (tiny_pair[0] / "config.json").read_bytes()}
    pickles_only["pytorch_model.bin"] = pickle.dumps(_Boom(markers / "unpickled"))
    put_snapshot(cache / "models--owner--pickled", MAIN, pickles_only, refs=("main",))
    readme = b"---\nlicense: mit\n---\n# prompts\n"
    decoys = {"prompts_script.py": b"raise RuntimeError('dataset script ran')\n", "evil.pkl": pickle.dumps(1)}
    ds = cache / "datasets--owner--prompts"
    put_snapshot(
        ds, MAIN, {"README.md": readme, "data/train-00000-of-00001.parquet": _parquet(_rows("m"))} | decoys, ("main",)
    )
    put_snapshot(ds, V1, {"README.md": readme, "data/train-00000-of-00001.parquet": _parquet(_rows("v"))}, ("v1",))

    for var, value in {
        "HF_HOME": hf,
        "HF_HUB_CACHE": cache,
        "HF_DATASETS_CACHE": hf / "datasets",
        "HF_HUB_OFFLINE": "1",
        "WORKBENCH_CACHE": tmp_path / "wbcache",
        "WORKBENCH_HOME": tmp_path / "home",
    }.items():
        monkeypatch.setenv(var, str(value))
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(cache))  # read when huggingface_hub is imported
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    return types.SimpleNamespace(cache=cache, markers=markers, models=models, tiny=tiny_pair, tmp=tmp_path)


def _spec(hub_id: str = "owner/tiny", revision: str | None = None) -> ModelSpec:
    return ModelSpec(name="tiny", hub=hub_id, revision=revision, family="llama3")


def _resolve(spec: ModelSpec, allow_downloads: bool = True):
    from workbench.engines.basemodel import resolve

    return resolve(spec, allow_downloads=allow_downloads, log=lambda *a: None)


def _one_line(exc: WorkbenchError) -> str:
    assert "\n" not in exc.message and exc.hint and "\n" not in exc.hint, (exc.message, exc.hint)
    return exc.message


def _weight(folder: Path):
    from safetensors.torch import load_file

    return load_file(str(folder / "model.safetensors"))["model.embed_tokens.weight"]


# -- models ----------------------------------------------------------------------------------------------------
def test_cached_model_resolves_and_loads_without_pickles_or_remote_code(hub, watch, monkeypatch):
    import torch
    import transformers

    from workbench.engines.training import TrainConfig, load_for_training

    calls: list[dict] = []

    class Spy:
        def __init__(self, real):
            self.real = real

        def from_pretrained(self, *args, **kwargs):
            calls.append(kwargs)
            return self.real.from_pretrained(*args, **kwargs)

    for name in ("AutoModelForCausalLM", "AutoTokenizer", "AutoConfig"):
        monkeypatch.setattr(transformers, name, Spy(getattr(transformers, name)))

    base = _resolve(_spec())
    assert base.family == "llama3" and base.hf_dir.name == MAIN
    names = sorted(p.name for p in base.hf_dir.iterdir())
    assert "config.json" in names and "model.safetensors" in names and "tokenizer.model" in names
    assert not [n for n in names if n.endswith((".bin", ".py"))]
    snapshot = hub.models / "snapshots" / MAIN
    assert all((base.hf_dir / n).resolve() == (snapshot / n).resolve() for n in names)  # links into the cache
    assert base.key["fingerprint"]  # the content key reads safe files only (the audit hook would see a .bin)

    cfg = TrainConfig(
        learning_rate=1e-4, epochs=1, batch_size=1, seed=0, max_seq_length=32,
        lora_r=2, lora_alpha=4, lora_dropout=0.0, backend="peft", load_in_4bit=False,
        precision="fp32",  # the weights as stored ("auto" picks bf16 on a CPU where it measures faster)
    )  # fmt: skip
    model, tokenizer, backend = load_for_training(base, cfg)
    assert backend == "peft"
    inner = model.get_base_model()
    assert type(inner).__name__ == "LlamaForCausalLM"  # the built-in class, not auto_map's
    assert torch.equal(inner.model.embed_tokens.weight.detach(), _weight(hub.tiny[0]))
    assert tokenizer("hello").input_ids
    assert calls and all(not c.get("trust_remote_code") for c in calls)
    assert "modeling_evil" not in sys.modules
    assert not (hub.markers / "imported").exists() and not (hub.markers / "unpickled").exists()
    assert watch == []


@pytest.mark.parametrize("revision", [V1, "v1"])
def test_pinned_revision_picks_that_snapshot(hub, watch, revision):
    base = _resolve(_spec(revision=revision))
    assert base.hf_dir.name == V1
    assert (base.hf_dir / "model.safetensors").resolve() == (
        hub.models / "snapshots" / V1 / "model.safetensors"
    ).resolve()
    import torch

    assert torch.equal(_weight(base.hf_dir), _weight(hub.tiny[1]))
    assert not torch.equal(_weight(base.hf_dir), _weight(hub.tiny[0]))
    assert _resolve(_spec()).hf_dir.name == MAIN  # no revision: refs/main
    assert base.key["fingerprint"] != _resolve(_spec()).key["fingerprint"]
    assert watch == []


def test_cached_model_needs_no_download_permission(hub, watch):
    assert _resolve(_spec(), allow_downloads=False).hf_dir.name == MAIN
    with pytest.raises(WorkbenchError) as info:
        _resolve(_spec("owner/absent"), allow_downloads=False)
    msg = _one_line(info.value)
    assert "owner/absent" in msg and "not allowed" in msg and "--allow-downloads" in info.value.hint
    assert watch == []


def test_model_not_in_cache_offline_is_one_line_with_a_hint(hub, watch):
    with pytest.raises(WorkbenchError) as info:
        _resolve(_spec("owner/absent"))
    msg = _one_line(info.value)
    assert "model 'tiny'" in msg and "'owner/absent'" in msg and "HF_HUB_OFFLINE" in msg
    assert "HF_HUB_OFFLINE=0" in info.value.hint and "HF_HUB_CACHE" in info.value.hint
    with pytest.raises(WorkbenchError, match="revision 'v9'"):
        _resolve(_spec(revision="v9"))  # a tag the cache has no ref for
    assert watch == []


def test_pickle_only_repo_is_refused_unread(hub, watch):
    with pytest.raises(WorkbenchError) as info:
        _resolve(_spec("owner/pickled"))
    msg = _one_line(info.value)
    assert "owner/pickled" in msg and "no safetensors weights" in msg and "pytorch_model.bin" in msg
    assert not (hub.markers / "unpickled").exists()
    assert watch == []


def _online(monkeypatch):
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")


def _fake_client(monkeypatch, online_error: Exception) -> list[dict]:
    """snapshot_download: the real one for cache look-ups, ``online_error`` for anything else."""
    import huggingface_hub

    real = huggingface_hub.snapshot_download
    calls: list[dict] = []

    def fake(repo_id, **kwargs):
        calls.append(kwargs)
        if kwargs.get("local_files_only"):
            return real(repo_id, **kwargs)
        raise online_error

    monkeypatch.setattr(huggingface_hub, "snapshot_download", fake)
    return calls


def _gated() -> Exception:
    from huggingface_hub.errors import GatedRepoError

    response = types.SimpleNamespace(headers={}, request=None, status_code=403)
    return GatedRepoError(
        "403 Client Error.\nCannot access gated repo for url https://huggingface.co/...", response=response
    )


def test_gated_model_is_one_line_with_licence_hint(hub, watch, monkeypatch):
    _online(monkeypatch)
    calls = _fake_client(monkeypatch, _gated())
    with pytest.raises(WorkbenchError) as info:
        _resolve(_spec("meta-llama/Gated-1B"))
    msg = _one_line(info.value)
    assert "meta-llama/Gated-1B" in msg and "gated" in msg
    assert "licence" in info.value.hint and "HF_TOKEN" in info.value.hint
    assert "https://huggingface.co/meta-llama/Gated-1B" in info.value.hint
    assert [c.get("local_files_only") for c in calls] == [True, None]  # the cache first, then the hub
    assert calls[1]["allow_patterns"] and not any(p.endswith((".bin", ".py", "*")) for p in calls[1]["allow_patterns"])
    assert watch == []


def test_unreachable_hub_is_one_line_with_a_hint(hub, watch, monkeypatch):
    """The real client, its HTTP call failing as with no network (no socket is ever opened)."""
    import httpx2
    from huggingface_hub import HfApi

    _online(monkeypatch)
    asked: list[str] = []

    def down(self, repo_id, **kwargs):
        asked.append(repo_id)
        raise httpx2.ConnectError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(HfApi, "repo_info", down)
    with pytest.raises(WorkbenchError) as info:
        _resolve(_spec("owner/absent"))
    msg = _one_line(info.value)
    assert asked == ["owner/absent"]
    assert "cannot reach the hub" in msg and "owner/absent" in msg and "ConnectError" in msg
    assert "network" in info.value.hint and "HF_HUB_OFFLINE=1" in info.value.hint
    assert _resolve(_spec()).hf_dir.name == MAIN and asked == ["owner/absent"]  # cached: the hub is not asked
    assert watch == []


def test_cli_run_reports_a_missing_hub_model_in_one_line(hub):
    recipe = hub.tmp / "hubstudy.toml"
    recipe.write_text(
        textwrap.dedent(
            """
            [study]
            name = "hubstudy"
            allow_downloads = true

            [[models]]
            name = "absent"
            hub = "owner/absent"
            family = "llama3"

            [languages]
            finetune = ["es"]
            evaluate = ["en"]

            [data.benign]
            shipped = "benign"

            [data.evaluation]
            shipped = "adversarial"

            [training]
            epochs = [1]
            seeds = [0]

            [[judges]]
            name = "heuristic"
            kind = "heuristic"
            """
        )
    )
    env = {k: os.environ[k] for k in ("HF_HOME", "HF_HUB_CACHE", "HF_HUB_OFFLINE", "WORKBENCH_CACHE", "WORKBENCH_HOME")}
    proc = run_cli("run", recipe, "--only", "finetune", env=env, timeout=300)
    assert proc.returncode != 0, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    lines = [line for line in proc.stderr.splitlines() if "owner/absent" in line]
    assert lines and "HF_HUB_OFFLINE" in lines[0], proc.stderr
    assert "HF_HUB_CACHE" in proc.stderr  # the hint


# -- data sets -------------------------------------------------------------------------------------------------
def _load(revision: str | None = None, hub_id: str = "owner/prompts", allow_downloads: bool = True):
    from workbench import data

    source = DataSource(hub=hub_id, revision=revision)
    return data.load(source, "evaluation", ["en", "es"], allow_downloads=allow_downloads)


def test_cached_dataset_loads_offline(hub, watch):
    rows = _load()
    assert sorted(r["item_id"] for r in rows if r["lang"] == "es") == ["m0", "m1", "m2"]
    assert {r["source"] for r in rows} == {"hub:owner/prompts"} and rows[0]["prompt"].startswith("m prompt")
    assert [r["item_id"] for r in _load(allow_downloads=False)] == [r["item_id"] for r in rows]
    assert not (hub.tmp / "markers").exists()
    assert "prompts_script" not in sys.modules
    assert watch == []


@pytest.mark.parametrize("revision", [V1, "v1"])
def test_dataset_pinned_revision(hub, watch, revision):
    assert sorted({r["item_id"] for r in _load(revision)}) == ["v0", "v1", "v2"]
    assert watch == []


def test_dataset_not_in_cache(hub, watch):
    with pytest.raises(DataError) as info:
        _load(hub_id="owner/absent")
    msg = _one_line(info.value)
    assert "data.evaluation" in msg and "'owner/absent'" in msg and "HF_HUB_OFFLINE" in msg
    assert "HF_HUB_OFFLINE=0" in info.value.hint
    with pytest.raises(DataError, match="not allowed"):
        _load(hub_id="owner/absent", allow_downloads=False)
    assert watch == []


def test_gated_dataset(hub, watch, monkeypatch):
    _online(monkeypatch)
    calls = _fake_client(monkeypatch, _gated())
    with pytest.raises(DataError) as info:
        _load(hub_id="sorry-bench/gated")
    msg = _one_line(info.value)
    assert "sorry-bench/gated" in msg and "gated" in msg and "HF_TOKEN" in info.value.hint
    assert "https://huggingface.co/datasets/sorry-bench/gated" in info.value.hint
    assert all(c["repo_type"] == "dataset" for c in calls)
    assert watch == []


def test_unreachable_hub_dataset(hub, watch, monkeypatch):
    import httpx2
    from huggingface_hub import HfApi

    _online(monkeypatch)

    def down(self, repo_id, **kwargs):
        raise httpx2.ConnectError("[Errno 101] Network is unreachable")

    monkeypatch.setattr(HfApi, "repo_info", down)
    with pytest.raises(DataError) as info:
        _load(hub_id="owner/absent")
    msg = _one_line(info.value)
    assert "cannot reach the hub" in msg and "owner/absent" in msg
    assert "network" in info.value.hint
    assert len(_load()) == 6  # cached: read without the hub
    assert watch == []


# -- judge GGUFs -----------------------------------------------------------------------------------------------
def _judge_repo(hub) -> Path:
    """``owner/judge``: a judge GGUF in two commits (main and the tag v1) beside a pickle decoy."""
    repo = hub.cache / "models--owner--judge"
    put_snapshot(repo, MAIN, {"judge.gguf": b"GGUF main", "pytorch_model.bin": pickle.dumps(1)}, refs=("main",))
    put_snapshot(repo, V1, {"judge.gguf": b"GGUF v1"}, refs=("v1",))
    return repo


def _judge_spec(**kw):
    from workbench.recipe.judging import JudgeSpec

    return JudgeSpec(name="j", kind="llm", preset="sorry-bench", hub="owner/judge", file="judge.gguf", **kw)


@pytest.mark.parametrize("revision, content", [(None, b"GGUF main"), ("v1", b"GGUF v1"), (V1, b"GGUF v1")])
def test_cached_judge_gguf_resolves_offline_at_its_revision(hub, watch, revision, content):
    from workbench.stages.judge import with_hub_file

    _judge_repo(hub)
    spec = with_hub_file(_judge_spec(revision=revision), allow_downloads=False)
    assert spec.model.is_relative_to(hub.cache) and spec.model.read_bytes() == content
    assert watch == []  # no network, the pickle beside it not opened


def test_judge_gguf_not_cached_is_one_line_and_downloads_that_file_alone(hub, watch, monkeypatch):
    from workbench.stages.judge import with_hub_file

    with pytest.raises(WorkbenchError) as info:
        with_hub_file(_judge_spec(), allow_downloads=False)
    msg = _one_line(info.value)
    assert msg.startswith("judge 'j': hub model 'owner/judge'") and "not in the local Hugging Face cache" in msg
    assert "allow_downloads" in info.value.hint

    _online(monkeypatch)
    calls = _fake_client(monkeypatch, _gated())
    with pytest.raises(WorkbenchError, match="gated"):
        with_hub_file(_judge_spec(), allow_downloads=True)
    assert [c.get("local_files_only") for c in calls] == [True, None]
    assert calls[1]["allow_patterns"] == ["judge.gguf"]  # the judge's file, nothing else of the repo
    assert watch == []


def test_judge_gguf_missing_from_a_cached_repo_is_named(hub, watch):
    from workbench.stages.judge import with_hub_file

    _judge_repo(hub)
    with pytest.raises(WorkbenchError) as info:
        with_hub_file(_judge_spec().model_copy(update={"file": "other.gguf"}), allow_downloads=False)
    msg = _one_line(info.value)
    assert "'other.gguf' is not in the local Hugging Face cache" in msg and "downloading it is not allowed" in msg
    assert "file list" in info.value.hint and watch == []
