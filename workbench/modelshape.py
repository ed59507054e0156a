"""A model's shape: its context length and what the KV cache holds per token.

What ``workbench plan`` checks a recipe's context against and sizes the generate stage's KV cache
from. Read without loading the model: the embedded table, a local folder's config.json, a GGUF's
header (:mod:`workbench.ggufmeta`), or a hub model's config.json already in the local cache.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from workbench import ggufmeta

if TYPE_CHECKING:
    from workbench.recipe.models import ModelSpec

KV_BYTES_PER_ELEMENT = 2  # llama.cpp keeps K and V in f16 unless told otherwise


@dataclass(frozen=True)
class ModelShape:
    """What the context check and the KV cache need; any part may be unknown (None)."""

    context_length: int | None
    layers: int | None = None
    kv_heads: int | None = None
    head_dim: int | None = None
    source: str = ""  # where it was read: "config.json", "GGUF header", "embedded table"
    # what the training estimate sizes LoRA and activations from
    hidden_size: int | None = None
    heads: int | None = None
    intermediate_size: int | None = None
    vocab_size: int | None = None

    def kv_bytes_per_token(self, bytes_per_element: int = KV_BYTES_PER_ELEMENT) -> int | None:
        """K and V of every layer for one token of one sequence."""
        if not (self.layers and self.kv_heads and self.head_dim):
            return None
        return 2 * self.layers * self.kv_heads * self.head_dim * bytes_per_element


EMBEDDED_SHAPES = {"gemma3-270m": ModelShape(32768, 18, 1, 256, "embedded model (Gemma 3 270M)", 640, 4, 2048, 262144)}

# The published config.json of the study's hub models (text part), for planning before anything is
# downloaded: (context, layers, kv heads, head dim, hidden, heads, intermediate, vocabulary). A config
# in the local Hugging Face cache is read instead when there is one.
_PUBLISHED = {
    "meta-llama/llama-3.2-1b-instruct": (131072, 16, 8, 64, 2048, 32, 8192, 128256),
    "meta-llama/llama-3.2-3b-instruct": (131072, 28, 8, 128, 3072, 24, 8192, 128256),
    "qwen/qwen3-0.6b": (40960, 28, 8, 128, 1024, 16, 3072, 151936),
    "qwen/qwen3-1.7b": (40960, 28, 8, 128, 2048, 16, 6144, 151936),
    "qwen/qwen3-4b": (40960, 36, 8, 128, 2560, 32, 9728, 151936),
    "google/gemma-3-270m-it": (32768, 18, 1, 256, 640, 4, 2048, 262144),
    "google/gemma-3-1b-it": (32768, 26, 1, 256, 1152, 4, 6912, 262144),
    "google/gemma-3-4b-it": (131072, 34, 4, 256, 2560, 8, 10240, 262208),
}
PUBLISHED_SHAPES = {
    hub: ModelShape(ctx, layers, kv, hd, f"published config of {hub}", h, heads, ffn, vocab)
    for hub, (ctx, layers, kv, hd, h, heads, ffn, vocab) in _PUBLISHED.items()
}


def published_shape(hub_id: str) -> ModelShape | None:
    """The published shape of a hub model the table knows (its base or instruct variant alike)."""
    key = hub_id.lower()
    return PUBLISHED_SHAPES.get(key) or PUBLISHED_SHAPES.get(key + "-instruct") or PUBLISHED_SHAPES.get(key + "-it")


def shape_from_config(cfg: dict, source: str = "config.json") -> ModelShape:
    """A shape from a Hugging Face config (a multimodal one's ``text_config`` when present)."""
    cfg = cfg.get("text_config", cfg)
    heads = cfg.get("num_attention_heads")
    head_dim = cfg.get("head_dim") or (cfg["hidden_size"] // heads if heads and cfg.get("hidden_size") else None)
    return ModelShape(
        cfg.get("max_position_embeddings"),
        cfg.get("num_hidden_layers"),
        cfg.get("num_key_value_heads") or heads,
        head_dim,
        source,
        cfg.get("hidden_size"),
        heads,
        cfg.get("intermediate_size"),
        cfg.get("vocab_size"),
    )


def shape_from_gguf(path: Path) -> ModelShape:
    """A shape from a GGUF's ``<arch>.context_length`` and attention metadata (read once per file version)."""
    st = Path(path).stat()
    return _gguf_shape(str(path), st.st_size, st.st_mtime_ns)


@lru_cache(maxsize=16)
def _gguf_shape(path: str, size: int, mtime_ns: int) -> ModelShape:
    meta = ggufmeta.metadata(Path(path), lambda k: not k.startswith("tokenizer."))
    arch = meta.get("general.architecture", "")

    def get(key: str):
        return meta.get(f"{arch}.{key}")

    heads = get("attention.head_count")
    width = get("embedding_length")
    head_dim = get("attention.key_length") or (width // heads if width and heads else None)
    return ModelShape(
        get("context_length"),
        get("block_count"),
        get("attention.head_count_kv") or heads,
        head_dim,
        "GGUF header",
        width,
        heads,
        get("feed_forward_length"),
        get("vocab_size"),
    )


def model_shape(m: ModelSpec) -> ModelShape | None:
    """The model's shape when it can be read cheaply: the embedded table, a local folder's config.json,
    a local GGUF's header, or a hub model's config.json already in the local Hugging Face cache."""
    try:
        if m.embedded:
            return EMBEDDED_SHAPES.get(m.embedded)
        if m.path is not None:
            p = Path(m.path)
            if p.is_file() and p.suffix.lower() == ".gguf":
                return shape_from_gguf(p)
            if (p / "config.json").is_file():
                return shape_from_config(json.loads((p / "config.json").read_text(encoding="utf-8")))
            return None
        if m.hub:
            from huggingface_hub import try_to_load_from_cache  # looks in the cache only: no network

            found = try_to_load_from_cache(m.hub, "config.json", revision=m.revision)
            if isinstance(found, str):
                return shape_from_config(json.loads(Path(found).read_text(encoding="utf-8")), "cached config.json")
            return published_shape(m.hub)
    except (OSError, ValueError, KeyError, TypeError, ImportError):  # ValueError: ggufmeta.GGUFError too
        return None
    return None


def kv_cache_bytes(shape: ModelShape | None, tokens_per_sequence: int, parallel: int) -> float | None:
    """The KV cache llama.cpp allocates: 2 x layers x kv_heads x head_dim x tokens x bytes x sequences."""
    per_token = shape.kv_bytes_per_token() if shape else None
    return None if per_token is None else float(per_token * tokens_per_sequence * parallel)
