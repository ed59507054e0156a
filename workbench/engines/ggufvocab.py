"""Read a GGUF's tokenizer and rebuild a SentencePiece ``tokenizer.model`` from it.

llama.cpp's converter needs ``tokenizer.model`` to write a SentencePiece ("llama") vocabulary; without
it, it silently falls back to a GPT-2 style vocabulary and token ids stop matching. The embedded model
ships only as a GGUF, so the vocabulary (pieces, scores, types) is carried over from there. GGUF token
types use SentencePiece's own enum (1 normal, 2 unknown, 3 control, 4 user defined, 5 unused, 6 byte).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


def read_metadata(path: Path, prefixes: tuple[str, ...] = ("general.", "tokenizer.")) -> dict[str, Any]:
    """Scalar and array metadata of a GGUF file (arrays as lists), as gguf-py decodes it."""
    from gguf import GGUFReader

    reader = GGUFReader(str(path))
    return {key: field.contents() for key, field in reader.fields.items() if key.startswith(prefixes) and field.types}


def sentencepiece_model_from_gguf(meta: dict[str, Any]) -> bytes:
    """A serialized SentencePiece ModelProto equivalent to the GGUF's "llama" vocabulary."""
    from sentencepiece import sentencepiece_model_pb2 as sp

    if meta.get("tokenizer.ggml.model") != "llama":
        raise ValueError(f"not a SentencePiece vocabulary: {meta.get('tokenizer.ggml.model')!r}")
    proto = sp.ModelProto()
    tokens = meta["tokenizer.ggml.tokens"]
    scores = meta.get("tokenizer.ggml.scores") or [0.0] * len(tokens)
    types = meta.get("tokenizer.ggml.token_type") or [1] * len(tokens)
    for piece, score, kind in zip(tokens, scores, types, strict=True):
        p = proto.pieces.add()
        p.piece, p.score, p.type = piece, float(score), int(kind)
    t = proto.trainer_spec
    t.model_type = sp.TrainerSpec.BPE
    t.vocab_size = len(tokens)
    t.byte_fallback = any(k == 6 for k in types)
    t.unk_id = int(meta.get("tokenizer.ggml.unknown_token_id", 3))
    t.bos_id = int(meta.get("tokenizer.ggml.bos_token_id", 2))
    t.eos_id = int(meta.get("tokenizer.ggml.eos_token_id", 1))
    t.pad_id = int(meta.get("tokenizer.ggml.padding_token_id", 0))
    t.unk_piece, t.bos_piece = tokens[t.unk_id], tokens[t.bos_id]
    t.eos_piece, t.pad_piece = tokens[t.eos_id], tokens[t.pad_id]
    t.split_digits = True
    t.split_by_whitespace = False
    t.allow_whitespace_only_pieces = True
    n = proto.normalizer_spec
    n.name = "identity"
    n.add_dummy_prefix = bool(meta.get("tokenizer.ggml.add_space_prefix", False))
    n.remove_extra_whitespaces = False
    n.escape_whitespaces = True
    return proto.SerializeToString()
