"""Tiny random models of the Llama-3, Qwen3 and Gemma-3 architectures with locally trained tokenizers.

They round-trip HF -> LoRA -> merge -> GGUF -> llama.cpp in seconds, so the export path and its gate
are tested for each family without downloads. The SentencePiece vocabulary is trained on the shipped
data, with the family's chat-template tokens as user-defined pieces.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from workbench import data
from workbench.engines import chat, ggufvocab

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


def random_model(model_cls, config, seed: int):
    """A float32 ``model_cls`` with seeded weights a little larger than the default init (matrices
    N(0, 0.08)), so greedy tokens are not all ties."""
    import torch

    torch.manual_seed(seed)
    model = model_cls(config).to(torch.float32)
    with torch.no_grad():
        for p in model.parameters():
            if p.dim() > 1:
                p.normal_(0, 0.08)
    return model


def make_tiny_model(out: Path, family: str, seed: int = 0) -> Path:
    """Write a tiny random ``family`` model with its tokenizer and chat template to ``out``."""
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
    model = random_model(model_cls, config, seed)
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


# -- tiny models with real tokenizers ------------------------------------------------------------------
# llama.cpp's vocab-only GGUFs (in the llama-cpp-python sdist the set-up caches) carry the real
# vocabularies with reference tokenizations (``.gguf.inp`` strings, ``.gguf.out`` token ids). transformers
# builds a tokenizer from each; two details make the Llama 3 one the real ``tokenizer.json``:
# ``ignore_merges`` (whole-word vocabulary hits win over merges) and the post-processor that prepends
# ``<|begin_of_text|>`` (without it llama.cpp's converter hashes the tokenizer to ``smaug-bpe``).

# Meta-Llama-3-8B-Instruct's own template (tokenizer_config.json).
LLAMA3_INSTRUCT_TEMPLATE = (
    "{% set loop_messages = messages %}{% for message in loop_messages %}"
    "{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n'"
    "+ message['content'] | trim + '<|eot_id|>' %}"
    "{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{% endif %}"
)


@dataclass(frozen=True)
class RealVocab:
    vocab: str  # llama.cpp's name: models/ggml-vocab-<vocab>.gguf
    family: str | None  # the recipe family (None: a family outside the built-in three)
    pre: str  # the tokenizer.ggml.pre the exported GGUF must carry
    bos: str | None  # prepended by the post-processor, as the real tokenizer.json does
    eos: str
    ignore_merges: bool = False
    chat_template: str | None = None  # None: the vocabulary GGUF's own
    # where the reference token ids come from: "vocab" (llama.cpp's .gguf.out files) or "embedded"
    # (the embedded Gemma 3 GGUF tokenized by llama.cpp, for the .inp strings of ``vocab``)
    reference: str = "vocab"


# SmolLM2-Instruct's own template (ChatML with a default system prompt), for a family outside the three.
SMOLLM2_TEMPLATE = (
    "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
    "{{ '<|im_start|>system\\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\\n' }}"
    "{% endif %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)

REAL_VOCABS = {
    "llama3-bpe": RealVocab(
        "llama-bpe", "llama3", "llama-bpe", "<|begin_of_text|>", "<|eot_id|>", True, LLAMA3_INSTRUCT_TEMPLATE
    ),
    # the vocabulary GGUF's own template (Qwen2-Instruct's), not the workbench's qwen3 fallback
    "qwen3-bpe": RealVocab("qwen2", "qwen3", "qwen2", None, "<|im_end|>"),
    # A Mistral-architecture chat model outside the three families: config.json says "mistral", its
    # template sits in tokenizer_config.json. It borrows the Qwen2 vocabulary (which has ChatML's tokens).
    "mistral-chatml": RealVocab("qwen2", None, "qwen2", None, "<|im_end|>", chat_template=SMOLLM2_TEMPLATE),
    # Gemma 3's real 262,144-piece SentencePiece vocabulary and chat template, from the embedded model's
    # GGUF (llama.cpp ships no Gemma 3 vocab file); the reference strings are the llama-bpe set's
    # (multilingual, emoji, whitespace runs), their ids the embedded GGUF's own tokenization.
    "gemma3-spm": RealVocab("llama-bpe", "gemma3", "default", "<bos>", "<end_of_turn>", reference="embedded"),
}


def vocab_files(out: Path, vocab: str) -> Path:
    """``ggml-vocab-<vocab>.gguf`` with its ``.inp``/``.out`` files, extracted from the cached sdist into ``out``."""
    import tarfile

    from workbench import paths

    gguf = out / f"ggml-vocab-{vocab}.gguf"
    if gguf.is_file():
        return gguf
    sdist = paths.cache_dir() / "src" / f"llama_cpp_python-{paths.LLAMA_CPP_VERSION}.tar.gz"
    wanted = {f"ggml-vocab-{vocab}.gguf{s}" for s in ("", ".inp", ".out")}
    out.mkdir(parents=True, exist_ok=True)
    with tarfile.open(sdist) as tar:
        for member in tar:
            name = member.name.rsplit("/", 1)[-1]
            if name in wanted and "/vendor/llama.cpp/models/" in member.name and member.isfile():
                (out / name).write_bytes(tar.extractfile(member).read())
    if not gguf.is_file():
        raise FileNotFoundError(f"{sdist} has no models/{gguf.name}")
    return gguf


def reference_tokenizations(gguf: Path) -> list[tuple[str, list[int]]]:
    """llama.cpp's reference strings for a vocabulary and the token ids its tokenizer must give them."""
    texts = gguf.with_name(gguf.name + ".inp").read_text(encoding="utf-8").split("\n__ggml_vocab_test__\n")[:-1]
    ids = gguf.with_name(gguf.name + ".out").read_text(encoding="utf-8").split("\n")[: len(texts)]
    return [(t, [int(x) for x in line.split()]) for t, line in zip(texts, ids, strict=True)]


def make_real_tokenizer_model(out: Path, kind: str, vocab_dir: Path, seed: int = 0) -> Path:
    """A tiny random model with a real vocabulary (see :data:`REAL_VOCABS`) and its own chat template."""
    import transformers as tf

    spec = REAL_VOCABS[kind]
    if spec.reference == "embedded":
        return _make_gemma3_spm_model(out, seed)
    tok, info = _real_tokenizer(spec, vocab_dir)
    out.mkdir(parents=True, exist_ok=True)
    n_vocab = info["n_vocab"]
    common = dict(
        vocab_size=n_vocab,
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=512,
        bos_token_id=tok.bos_token_id,
        eos_token_id=tok.eos_token_id,
        pad_token_id=tok.pad_token_id,
        tie_word_embeddings=True,  # as the small real models do; halves the 128k-152k-row tables
    )
    if kind == "llama3-bpe":
        config = tf.LlamaConfig(**common, head_dim=16, rms_norm_eps=1e-5, rope_theta=500000.0)
        model_cls = tf.LlamaForCausalLM
    elif kind == "qwen3-bpe":
        config = tf.Qwen3Config(**common, head_dim=16, rms_norm_eps=1e-6)
        model_cls = tf.Qwen3ForCausalLM
    else:
        config = tf.MistralConfig(**common, head_dim=16, rms_norm_eps=1e-5, sliding_window=None)
        model_cls = tf.MistralForCausalLM
    model = random_model(model_cls, config, seed)
    model.save_pretrained(out)
    tok.chat_template = spec.chat_template or info["chat_template"]
    tok.save_pretrained(out)
    if spec.family is None:  # as older hub models keep it: the template inside tokenizer_config.json
        config_path = out / "tokenizer_config.json"
        tok_config = json.loads(config_path.read_text(encoding="utf-8"))
        tok_config["chat_template"] = (out / "chat_template.jinja").read_text(encoding="utf-8")
        config_path.write_text(json.dumps(tok_config, indent=2), encoding="utf-8")
        (out / "chat_template.jinja").unlink()
    (out / "tiny.json").write_text(json.dumps({"kind": kind, "family": spec.family, "seed": seed}))
    return out


def _real_tokenizer(spec: RealVocab, vocab_dir: Path):
    """The fast tokenizer for ``spec`` (built from the vocabulary GGUF once per ``vocab_dir``: ~40-80 s)."""
    import hashlib

    import transformers as tf

    key = hashlib.sha256(repr((spec.vocab, spec.bos, spec.eos, spec.ignore_merges)).encode()).hexdigest()[:12]
    cached = vocab_dir / f"tokenizer-{spec.vocab}-{key}"
    if not (cached / "info.json").is_file():
        gguf = vocab_files(vocab_dir, spec.vocab)
        tok = tf.AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
        meta = ggufvocab.read_metadata(gguf)
        n_vocab = len(meta["tokenizer.ggml.tokens"])
        backend = json.loads(tok.backend_tokenizer.to_str())
        # transformers adds an ``<|endoftext|>`` past the end of a GGUF vocabulary that has no unknown token
        backend["added_tokens"] = [t for t in backend["added_tokens"] if t["id"] < n_vocab]
        if spec.ignore_merges:
            backend["model"]["ignore_merges"] = True
        if spec.bos:
            bos_id = tok.convert_tokens_to_ids(spec.bos)
            bos = {"SpecialToken": {"id": spec.bos, "type_id": 0}}
            backend["post_processor"] = {
                "type": "TemplateProcessing",
                "single": [bos, {"Sequence": {"id": "A", "type_id": 0}}],
                "pair": [bos, {"Sequence": {"id": "A", "type_id": 0}}, bos, {"Sequence": {"id": "B", "type_id": 1}}],
                "special_tokens": {spec.bos: {"id": spec.bos, "ids": [bos_id], "tokens": [spec.bos]}},
            }
        from tokenizers import Tokenizer

        pad = tok.pad_token if tok.pad_token_id is not None and tok.pad_token_id < n_vocab else None
        tok = tf.PreTrainedTokenizerFast(
            tokenizer_object=Tokenizer.from_str(json.dumps(backend)),
            bos_token=spec.bos,
            eos_token=spec.eos,
            pad_token=pad,
        )
        tmp = cached.with_name(cached.name + ".tmp")
        tok.save_pretrained(tmp)
        (tmp / "info.json").write_text(
            json.dumps({"n_vocab": n_vocab, "chat_template": meta.get("tokenizer.chat_template")}), encoding="utf-8"
        )
        tmp.rename(cached)
    return tf.AutoTokenizer.from_pretrained(cached), json.loads((cached / "info.json").read_text(encoding="utf-8"))


def reference_ids(spec: RealVocab, vocab_dir: Path) -> list[tuple[str, list[int]]]:
    """The reference strings of ``spec`` with the token ids a faithful export must give them."""
    refs = reference_tokenizations(vocab_files(vocab_dir, spec.vocab))
    if spec.reference == "vocab":
        return refs
    import llama_cpp

    from workbench import assets

    original = llama_cpp.Llama(str(assets.embedded_model()), vocab_only=True, verbose=False)
    try:
        return [(text, original.tokenize(text.encode(), add_bos=False, special=False)) for text, _ in refs]
    finally:
        original.close()


def _make_gemma3_spm_model(out: Path, seed: int) -> Path:
    """A tiny random Gemma 3 with the embedded model's tokenizer files (its 262k vocabulary, its
    ``tokenizer.model`` rebuilt from the GGUF, its template) and its config shrunk to two layers."""
    import shutil

    import torch
    import transformers as tf

    from workbench.engines import basemodel
    from workbench.recipe.models import ModelSpec

    base = basemodel.resolve(ModelSpec(name="g", embedded="gemma3-270m"), allow_downloads=False, log=lambda *_: None)
    out.mkdir(parents=True, exist_ok=True)
    for f in base.hf_dir.iterdir():
        if f.name.startswith(("tokenizer", "special_tokens", "chat_template")):
            shutil.copy2(f, out / f.name)
    cfg = json.loads((base.hf_dir / "config.json").read_text(encoding="utf-8"))
    cfg.update(
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=1,
        head_dim=16,
        query_pre_attn_scalar=16,
        layer_types=["sliding_attention", "full_attention"],
        max_position_embeddings=2048,
    )
    for k in ("_model_name_or_path", "transformers_version", "dtype"):
        cfg.pop(k, None)
    config = tf.Gemma3TextConfig(**{k: v for k, v in cfg.items() if k not in ("architectures", "model_type")})
    model = random_model(tf.Gemma3ForCausalLM, config, seed)
    with torch.no_grad():
        # a wider (tied) embedding spreads the logits over 262k rows: with 0.08 the top two are often
        # closer than f16 rounding, and the gate's greedy agreement measures ties instead of the export
        model.get_input_embeddings().weight.normal_(0, 0.5)
    model.save_pretrained(out)
    (out / "tiny.json").write_text(json.dumps({"kind": "gemma3-spm", "family": "gemma3", "seed": seed}))
    return out


# -- a tiny random NLLB-style translator --------------------------------------------------------------
NLLB_CODES = ("eng_Latn", "spa_Latn", "dan_Latn", "zho_Hans")


def make_tiny_nllb(path: Path, seed: int = 0) -> Path:
    """A tiny random M2M100 seq2seq model with an NLLB tokenizer (a character vocabulary and four FLORES-200
    language tokens), saved with ``save_pretrained``: what ``[translation] kind = "nllb"`` loads."""
    from transformers import M2M100Config, M2M100ForConditionalGeneration, NllbTokenizerFast

    if (path / "config.json").is_file():
        return path
    letters = "abcdefghijklmnopqrstuvwxyzáéíóúñæøå.,?!'"
    specials = ["<s>", "<pad>", "</s>", "<unk>", "▁"]
    vocab = {t: i for i, t in enumerate(specials + list(letters) + ["▁" + c for c in letters])}
    tok = NllbTokenizerFast(vocab=vocab, merges=[], src_lang="eng_Latn", extra_special_tokens=list(NLLB_CODES))
    config = M2M100Config(
        vocab_size=len(tok),
        d_model=32,
        encoder_layers=1,
        decoder_layers=1,
        encoder_attention_heads=2,
        decoder_attention_heads=2,
        encoder_ffn_dim=64,
        decoder_ffn_dim=64,
        max_position_embeddings=256,
        pad_token_id=tok.pad_token_id,
        bos_token_id=tok.bos_token_id,
        eos_token_id=tok.eos_token_id,
        decoder_start_token_id=tok.eos_token_id,
    )
    model = random_model(M2M100ForConditionalGeneration, config, seed)
    path.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(path)
    tok.save_pretrained(path)
    return path
