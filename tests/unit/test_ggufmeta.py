"""The GGUF header walker against the ``gguf`` package's own writer and reader (an independent reference)."""

import os
import struct
import subprocess
import sys

import pytest

from tests.conftest import ROOT
from workbench import ggufmeta
from workbench.ggufmeta import GGUFError, NotGGUF, Truncated, UnknownValueType, UnsupportedVersion

SCALARS = {
    "llama.context_length": 2048,
    "llama.block_count": 4,
    "general.name": "tiny test model ✓",
    "test.u8": 200,
    "test.i8": -5,
    "test.u16": 60000,
    "test.i16": -300,
    "test.i32": -70000,
    "test.f32": 0.25,
    "test.bool": True,
    "test.u64": 1 << 40,
    "test.i64": -(1 << 40),
    "test.f64": 1e-300,
}


def _write(path, *, alignment=None):
    """A small GGUF with a value of every type, arrays before and after them, and three tensor types."""
    import gguf
    import numpy as np

    w = gguf.GGUFWriter(str(path), "llama")
    if alignment:
        w.add_custom_alignment(alignment)
    w.add_token_list([f"tok{i}" for i in range(40)])  # a string array before the values wanted
    w.add_context_length(SCALARS["llama.context_length"])
    w.add_block_count(SCALARS["llama.block_count"])
    w.add_name(SCALARS["general.name"])
    w.add_uint8("test.u8", SCALARS["test.u8"])
    w.add_int8("test.i8", SCALARS["test.i8"])
    w.add_uint16("test.u16", SCALARS["test.u16"])
    w.add_int16("test.i16", SCALARS["test.i16"])
    w.add_int32("test.i32", SCALARS["test.i32"])
    w.add_float32("test.f32", SCALARS["test.f32"])
    w.add_bool("test.bool", SCALARS["test.bool"])
    w.add_uint64("test.u64", SCALARS["test.u64"])
    w.add_int64("test.i64", SCALARS["test.i64"])
    w.add_float64("test.f64", SCALARS["test.f64"])
    w.add_array("test.floats", [0.5, 1.5, 2.5])  # a numeric array
    w.add_tensor("f32", np.ones((8, 8), dtype=np.float32))
    w.add_tensor("f16", np.ones((3, 5), dtype=np.float16))
    q8 = gguf.GGMLQuantizationType.Q8_0
    w.add_tensor("q8", np.zeros((2, 2 * 34), dtype=np.uint8), raw_dtype=q8)  # 2 x 64 values, 4 blocks
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return path.read_bytes()


@pytest.fixture(params=[None, 64], ids=["default-alignment", "alignment-64"])
def model(request, tmp_path):
    path = tmp_path / "tiny.gguf"
    return path, _write(path, alignment=request.param)


def test_the_header_matches_the_gguf_reader(model):
    import gguf

    path, blob = model
    reader = gguf.GGUFReader(str(path))
    header = ggufmeta.read_header(path, wanted=lambda key: True)
    assert header.version == reader.fields["GGUF.version"].contents()
    assert header.n_tensors == reader.fields["GGUF.tensor_count"].contents() == 3
    assert header.n_kv == reader.fields["GGUF.kv_count"].contents()
    assert header.alignment == reader.alignment
    assert header.data_start == reader.data_offset
    assert header.data_end == max(t.data_offset + int(t.n_bytes) for t in reader.tensors)
    assert header.size == len(blob) >= header.data_end and header.complete  # the writer pads the last tensor
    expected = {
        name: f.contents()
        for name, f in reader.fields.items()
        if not name.startswith("GGUF.") and f.types[0] != gguf.GGUFValueType.ARRAY
    }
    assert header.metadata == expected
    assert {k: v for k, v in expected.items() if k in SCALARS} == SCALARS
    assert "tokenizer.ggml.tokens" not in header.metadata and "test.floats" not in header.metadata  # arrays


def test_metadata_reads_only_the_keys_wanted(model):
    path, _ = model
    assert ggufmeta.read_header(path).metadata == {}
    assert ggufmeta.metadata(path, ["llama.context_length", "general.name", "test.floats", "absent"]) == {
        "llama.context_length": 2048,
        "general.name": SCALARS["general.name"],
    }
    picked = ggufmeta.metadata(path, lambda key: key.startswith("test.i"))
    assert picked == {k: v for k, v in SCALARS.items() if k.startswith("test.i")}
    assert ggufmeta.metadata(path)["general.architecture"] == "llama"


def test_a_file_cut_anywhere_is_truncated(tmp_path):
    blob = _write(tmp_path / "full.gguf")
    full = ggufmeta.read_header(tmp_path / "full.gguf", wanted=lambda key: True)
    cut_path = tmp_path / "cut.gguf"
    cut_path.write_bytes(blob)
    seen = set()
    for cut in range(len(blob) - 1, 0, -1):  # every cut point, shortening one file (rewriting it is slow)
        os.truncate(cut_path, cut)
        problem = ggufmeta.gguf_problem(cut_path)
        if cut >= full.data_end:  # only the padding after the last tensor is gone
            assert problem is None, (cut, problem)
            seen.add("padding")
            continue
        assert problem and "truncated" in problem and str(cut_path) in problem, (cut, problem)
        try:
            header = ggufmeta.read_header(cut_path, wanted=lambda key: True)
        except Truncated as exc:
            assert str(exc) == problem
            seen.add("shorter than a GGUF header" if cut < 24 else "runs past the end")
        else:  # cut inside the tensor data (or its padding): the header is whole, the file is not
            assert cut >= full.data_start - full.alignment and not header.complete
            assert header.metadata == full.metadata and header.data_end == full.data_end
            assert problem == f"{cut_path}: truncated: its tensors need {full.data_end} bytes, the file has {cut}"
            seen.add("tensor data")
    assert seen == {"shorter than a GGUF header", "runs past the end", "tensor data", "padding"}
    assert ggufmeta.gguf_problem(tmp_path / "full.gguf") is None


def test_cut_points_name_what_is_missing(tmp_path):
    blob = _write(tmp_path / "full.gguf")
    header = ggufmeta.read_header(tmp_path / "full.gguf")
    end = header.data_end
    cases = {
        12: "truncated: 12 bytes, shorter than a GGUF header (24 bytes)",
        30: f"truncated: its header ({header.n_kv} metadata keys, 3 tensors) runs past the end of the file (30 bytes)",
        header.data_start - 40: "runs past the end of the file",  # inside the tensor list
        end - 1: f"truncated: its tensors need {end} bytes, the file has {end - 1}",  # the last byte of data
    }
    for cut, needle in cases.items():
        (tmp_path / "cut.gguf").write_bytes(blob[:cut])
        assert needle in ggufmeta.gguf_problem(tmp_path / "cut.gguf"), cut


@pytest.mark.parametrize(
    "content,error,needle",
    [
        (b"", NotGGUF, "not a GGUF file (it is empty)"),
        (b"GGML" + b"\0" * 40, NotGGUF, "it starts with b'GGML', not b'GGUF'"),
        (b"<!DOCTYPE html><html>sign in</html>", NotGGUF, "it is an HTML page"),
        (b"version https://git-lfs.github.com/spec/v1\noid sha256:00\n", NotGGUF, "Git LFS pointer"),
        (b"PK\x03\x04" + b"\0" * 40, NotGGUF, "zip archive"),
        (b"GGUF" + struct.pack("<IQQ", 1, 0, 0), UnsupportedVersion, "GGUF version 1, which this llama.cpp"),
        (b"GGUF" + struct.pack("<IQQ", 9, 0, 0), UnsupportedVersion, "GGUF version 9"),
        (b"GGUF" + struct.pack("<IQQ", 3, 5, 1 << 40), NotGGUF, "claims 1099511627776 metadata keys and 5 tensors"),
        (b"GGUF" + struct.pack("<IQQ", 3, 0, 1) + struct.pack("<Q", 1) + b"x" + struct.pack("<I", 13), UnknownValueType,
         "not a readable GGUF (metadata 'x' has type 13)"),
        (b"GGUF" + struct.pack("<IQQ", 3, 0, 1) + struct.pack("<Q", 1) + b"x" + struct.pack("<IIQ", 9, 42, 1),
         UnknownValueType, "metadata 'x' has type 42"),
        (b"GGUF" + struct.pack("<IQQ", 3, 0, 1) + struct.pack("<Q", (1 << 64) - 1) + b"x" * 8, Truncated,
         "runs past the end"),  # a length beyond any file
        (b"GGUF" + struct.pack("<IQQ", 3, 1, 0) + struct.pack("<QI", 0, (1 << 32) - 1), Truncated,
         "runs past the end"),  # a tensor of four billion dimensions
        (b"GGUF" + struct.pack("<IQQ", 3, 1, 0) + struct.pack("<Q", (1 << 64) - 1) + b"\0" * 16, Truncated,
         "runs past the end"),  # a tensor name longer than any file
    ],
)  # fmt: skip
def test_what_is_not_a_gguf(tmp_path, content, error, needle):
    path = tmp_path / "model.gguf"
    path.write_bytes(content)
    with pytest.raises(error) as exc:
        ggufmeta.read_header(path)
    assert isinstance(exc.value, GGUFError) and isinstance(exc.value, ValueError)
    assert str(exc.value).startswith(f"{path}: ") and needle in str(exc.value), str(exc.value)
    assert ggufmeta.gguf_problem(path) == str(exc.value)


def test_value_types_match_the_gguf_package():
    from gguf.constants import GGUFValueType
    from gguf.gguf_writer import GGUFWriter

    assert ggufmeta.STRING == GGUFValueType.STRING and ggufmeta.ARRAY == GGUFValueType.ARRAY
    assert set(ggufmeta.SCALAR_FORMATS) | {ggufmeta.STRING, ggufmeta.ARRAY} == {int(t) for t in GGUFValueType}
    packing = GGUFWriter._simple_value_packing
    assert {int(t): "<" + fmt for t, fmt in packing.items()} == ggufmeta.SCALAR_FORMATS


def test_reading_a_header_imports_neither_gguf_nor_numpy(tmp_path):
    path = tmp_path / "tiny.gguf"
    _write(path)
    code = (
        "import sys\nfrom workbench import ggufmeta, modelshape\n"
        f"assert ggufmeta.gguf_problem({str(path)!r}) is None\n"
        f"print(modelshape.shape_from_gguf({str(path)!r}).context_length)\n"
        "print('HEAVY', [m for m in ('gguf', 'numpy') if m in sys.modules])\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert proc.stdout.split() == ["2048", "HEAVY", "[]"], proc.stdout + proc.stderr
