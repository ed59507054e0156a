"""Tiny random models of the Llama-3, Qwen3 and Gemma-3 architectures with locally trained tokenizers.

They round-trip HF -> LoRA -> merge -> GGUF -> llama.cpp in seconds, so the export path and its gate
are tested for each family without downloads. The SentencePiece vocabulary is trained on the shipped
data, with the family's chat-template tokens as user-defined pieces.
"""

from __future__ import annotations

import json
from pathlib import Path

from workbench import data
from workbench.engines import chat

VOCAB = 3000


def _corpus(path: Path) -> Path:
    lines = []
    for name in ("benign", "alignment"):
        for r in data.read_jsonl(data.shipped_path(name)):
            lines.append(r.get("instruction") or r.get("prompt"))
            lines.append(r["response"])
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def _train_sentencepiece(out: Path, family: str, dummy_prefix: bool) -> Path:
    import sentencepiece as spm

    specials = list(chat.TURN_TOKENS[family])
    spm.SentencePieceTrainer.train(
        input=str(_corpus(out / "corpus.txt")),
        model_prefix=str(out / "sp"),
        vocab_size=VOCAB,
        model_type="bpe",
        character_coverage=0.9995,
        byte_fallback=True,
        user_defined_symbols=specials,
        pad_id=0,
        eos_id=1,
        bos_id=2,
        unk_id=3,
        pad_piece="<pad>",
        eos_piece="<eos>",
        bos_piece="<bos>",
        unk_piece="<unk>",
        split_digits=True,
        add_dummy_prefix=dummy_prefix,
        remove_extra_whitespaces=False,
        input_sentence_size=20000,
        shuffle_input_sentence=True,
        minloglevel=2,
        num_threads=2,
    )
    (out / "corpus.txt").unlink()
    return out / "sp.model"


def make_tiny_model(out: Path, family: str, seed: int = 0) -> Path:
    """Write a tiny random ``family`` model with its tokenizer and chat template to ``out``."""
    import torch
    import transformers as tf

    out.mkdir(parents=True, exist_ok=True)
    # No dummy prefix; GemmaTokenizer's conversion reproduces such a SentencePiece model exactly (for every
    # family: the tokenizer class is independent of the architecture).
    sp_model = _train_sentencepiece(out, family, dummy_prefix=False)
    common = dict(
        vocab_size=VOCAB,
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=512,
        bos_token_id=2,
        eos_token_id=1,
        pad_token_id=0,
        tie_word_embeddings=False,
    )
    if family == "llama3":
        config = tf.LlamaConfig(**common, head_dim=16, rms_norm_eps=1e-5)
        model_cls = tf.LlamaForCausalLM
    elif family == "qwen3":
        config = tf.Qwen3Config(**common, head_dim=16, rms_norm_eps=1e-6)
        model_cls = tf.Qwen3ForCausalLM
    elif family == "gemma3":
        config = tf.Gemma3TextConfig(
            **{**common, "tie_word_embeddings": True},
            head_dim=16,
            sliding_window=64,
            query_pre_attn_scalar=16,
            rms_norm_eps=1e-6,
        )
        model_cls = tf.Gemma3ForCausalLM
    else:
        raise ValueError(family)
    torch.manual_seed(seed)
    model = model_cls(config).to(torch.float32)
    with torch.no_grad():  # a little larger than the default init, so greedy tokens are not all ties
        for p in model.parameters():
            if p.dim() > 1:
                p.normal_(0, 0.08)
    model.save_pretrained(out)
    (out / "tokenizer.model").write_bytes(sp_model.read_bytes())
    (out / "tokenizer_config.json").write_text(
        json.dumps(
            {
                "tokenizer_class": "GemmaTokenizer",
                "bos_token": "<bos>",
                "eos_token": "<eos>",
                "unk_token": "<unk>",
                "pad_token": "<pad>",
                "add_bos_token": True,
                "add_eos_token": False,
                "additional_special_tokens": list(chat.TURN_TOKENS[family]),
            }
        )
    )
    tok = tf.AutoTokenizer.from_pretrained(out)
    tok.chat_template = chat.TEMPLATES[family]
    tok.save_pretrained(out)
    sp_model.unlink()
    (out / "sp.vocab").unlink(missing_ok=True)
    (out / "tiny.json").write_text(json.dumps({"family": family, "seed": seed}))
    return out
