"""Rewriting a GGUF's metadata as bytes (workbench.ggufmeta.rewrite_metadata) against gguf-py's own
reader and writer (gguf.scripts.gguf_new_metadata.copy_with_new_metadata): the same fields, the same
tensors, and a file gguf-py and llama.cpp's format rules read back."""

from __future__ import annotations

import numpy as np
import pytest

gguf = pytest.importorskip("gguf")

from workbench import ggufmeta as gm  # noqa: E402

TOKENS = ["<pad>", "<eos>", "▁hello", "▁wörld", "你好", "😀", "\t\t", "  "] * 50


def _source(path, alignment=None):
    w = gguf.GGUFWriter(str(path), arch="llama")
    if alignment:
        w.add_custom_alignment(alignment)
    w.add_block_count(2)
    w.add_context_length(128)
    w.add_tokenizer_model("llama")
    w.add_token_list(TOKENS)
    w.add_token_scores([float(-i) / 3 for i in range(len(TOKENS))])
    w.add_token_types([1] * (len(TOKENS) - 2) + [4, 3])
    w.add_bos_token_id(0)
    w.add_add_bos_token(True)
    w.add_chat_template("{{ old }}")
    rng = np.random.default_rng(0)
    w.add_tensor("token_embd.weight", rng.standard_normal((len(TOKENS), 8)).astype(np.float16))
    w.add_tensor("blk.0.attn_q.weight", rng.standard_normal((8, 8)).astype(np.float32))
    w.add_tensor("output_norm.weight", rng.standard_normal(7).astype(np.float32))  # odd size: padding
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return path


def _fields(path):
    r = gguf.GGUFReader(str(path))
    fields = {k: (list(f.types), f.contents()) for k, f in r.fields.items() if not k.startswith("GGUF.")}
    tensors = {t.name: (t.tensor_type, list(t.shape), bytes(np.asarray(t.data).tobytes())) for t in r.tensors}
    return fields, tensors


def test_rewrite_matches_gguf_py(tmp_path, alignment=None):
    from gguf.scripts.gguf_new_metadata import MetadataDetails, copy_with_new_metadata

    src = _source(tmp_path / "src.gguf", alignment)
    types = [1] * len(TOKENS)
    types[5] = 4
    theirs_new = {
        "tokenizer.chat_template": MetadataDetails(gguf.GGUFValueType.STRING, "{{ new }} ✓"),
        "tokenizer.ggml.token_type": MetadataDetails(
            gguf.GGUFValueType.ARRAY, types, sub_type=gguf.GGUFValueType.INT32
        ),
        "tokenizer.ggml.add_space_prefix": MetadataDetails(gguf.GGUFValueType.BOOL, False),
    }
    reader = gguf.GGUFReader(str(src))
    writer = gguf.GGUFWriter(str(tmp_path / "theirs.gguf"), arch="llama", endianess=reader.endianess)
    copy_with_new_metadata(reader, writer, theirs_new, [])
    del reader
    ours_new = {
        "tokenizer.chat_template": gm.encode_entry("tokenizer.chat_template", gm.STRING, "{{ new }} ✓"),
        "tokenizer.ggml.token_type": gm.encode_entry("tokenizer.ggml.token_type", gm.ARRAY, types, item=gm.INT32),
        "tokenizer.ggml.add_space_prefix": gm.encode_entry("tokenizer.ggml.add_space_prefix", gm.BOOL, False),
    }
    gm.rewrite_metadata(src, tmp_path / "ours.gguf", ours_new)
    ours, theirs = _fields(tmp_path / "ours.gguf"), _fields(tmp_path / "theirs.gguf")
    assert ours[0] == theirs[0]
    assert ours[1] == theirs[1] == _fields(src)[1]  # tensors untouched
    assert ours[0]["tokenizer.chat_template"][1] == "{{ new }} ✓"
    assert ours[0]["tokenizer.ggml.tokens"][1] == TOKENS
    assert gm.gguf_problem(tmp_path / "ours.gguf") is None
    assert gm.int32_array(tmp_path / "ours.gguf", "tokenizer.ggml.token_type") == types


def test_custom_alignment_is_kept(tmp_path):
    """general.alignment = 64: the data section is re-aligned to it (gguf-py's copy_with_new_metadata
    writes such a file with its default alignment of 32, which its own reader then cannot read)."""
    src = _source(tmp_path / "src.gguf", alignment=64)
    key = "tokenizer.chat_template"
    gm.rewrite_metadata(
        src, tmp_path / "ours.gguf", {key: gm.encode_entry(key, gm.STRING, "{{ a much longer template }}")}
    )
    before, after = _fields(src), _fields(tmp_path / "ours.gguf")
    assert after[1] == before[1]
    assert {k: v for k, v in after[0].items() if k != key} == {k: v for k, v in before[0].items() if k != key}
    header = gm.read_header(tmp_path / "ours.gguf")
    assert header.alignment == 64 and header.data_start % 64 == 0 and header.complete


def test_entries_are_copied_verbatim_between_files(tmp_path):
    src = _source(tmp_path / "src.gguf")
    other = tmp_path / "other.gguf"
    w = gguf.GGUFWriter(str(other), arch="llama")
    w.add_token_list(["a", "b"])
    w.add_tensor("x", np.zeros(4, dtype=np.float32))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    vocab = gm.entries(src, lambda k: k.startswith("tokenizer.ggml."))
    assert set(vocab) >= {"tokenizer.ggml.tokens", "tokenizer.ggml.scores", "tokenizer.ggml.token_type"}
    gm.rewrite_metadata(other, tmp_path / "out.gguf", vocab)
    fields, tensors = _fields(tmp_path / "out.gguf")
    assert fields["tokenizer.ggml.tokens"][1] == TOKENS  # replaced
    assert fields["tokenizer.ggml.bos_token_id"][1] == 0  # added
    assert fields["general.architecture"][1] == "llama"  # kept
    assert tensors["x"][2] == bytes(16)


def test_encoded_entries_decode_in_gguf_py(tmp_path):
    new = {
        "a.u32": gm.encode_entry("a.u32", 4, 7),
        "a.f32s": gm.encode_entry("a.f32s", gm.ARRAY, [0.5, -1.25], item=6),
        "a.strs": gm.encode_entry("a.strs", gm.ARRAY, ["x", "ÿ", ""], item=gm.STRING),
    }
    src = _source(tmp_path / "src.gguf")
    gm.rewrite_metadata(src, tmp_path / "out.gguf", new)
    fields, _ = _fields(tmp_path / "out.gguf")
    assert fields["a.u32"][1] == 7 and fields["a.f32s"][1] == [0.5, -1.25] and fields["a.strs"][1] == ["x", "ÿ", ""]


def test_truncated_source_is_refused(tmp_path):
    src = _source(tmp_path / "src.gguf")
    cut = tmp_path / "cut.gguf"
    cut.write_bytes(src.read_bytes()[:-40])
    with pytest.raises(gm.Truncated, match="truncated"):
        gm.rewrite_metadata(cut, tmp_path / "out.gguf", {})
