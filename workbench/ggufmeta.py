"""The header of a GGUF file, read without its tensor data and without the ``gguf`` package.

``gguf.GGUFReader`` maps the whole file and decodes every metadata array, the vocabulary included:
~26 s on the embedded model, and ``import gguf`` alone costs ~0.3 s (numpy). ``workbench validate`` and
``workbench plan`` need far less: that the file is a whole GGUF (:func:`gguf_problem`) and a few
scalar values such as the context length (:func:`metadata`). Both come from one walk of the header
(:func:`read_header`): the metadata keys, skipping arrays, then the tensor list, whose offsets and
types say how long the file must be.

The value and tensor type codes are the GGUF format's own (``gguf.constants.GGUFValueType`` and
``GGML_QUANT_SIZES``); tests check these tables against the ``gguf`` package, so this module need not
import it.
"""

from __future__ import annotations

import mmap
import os
import struct
from collections.abc import Callable, Collection
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

GGUF_MAGIC = b"GGUF"
HEADER_BYTES = 24  # magic, version (u32), tensor count (u64), metadata key count (u64)
VERSIONS = (2, 3)  # what llama.cpp reads
DEFAULT_ALIGNMENT = 32  # of the tensor data, unless general.alignment says otherwise
MAX_COUNT = 1 << 24  # more keys or tensors than this is far beyond any model: the header is garbage

# GGUF metadata value types (gguf.constants.GGUFValueType): struct formats of the fixed-size ones
STRING, ARRAY = 8, 9
INT32, BOOL = 5, 7
SCALAR_FORMATS = {
    0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q", 12: "<d",
}  # fmt: skip
VALUE_SIZES = {kind: struct.calcsize(fmt) for kind, fmt in SCALAR_FORMATS.items()}
_UINT32 = 4
# ggml tensor types: (values per block, bytes per block); checked against the gguf package by a test
GGML_BLOCKS = {
    0: (1, 4), 1: (1, 2), 2: (32, 18), 3: (32, 20), 6: (32, 22), 7: (32, 24), 8: (32, 34), 9: (32, 40),
    10: (256, 84), 11: (256, 110), 12: (256, 144), 13: (256, 176), 14: (256, 210), 15: (256, 292),
    24: (1, 1), 25: (1, 2), 26: (1, 4), 27: (1, 8), 28: (1, 8), 30: (1, 2),
}  # fmt: skip

_U32, _U64, _U32_U64 = struct.Struct("<I"), struct.Struct("<Q"), struct.Struct("<IQ")


class GGUFError(ValueError):
    """A file that is not a readable GGUF; ``str()`` is the problem in one line, naming the file."""


class NotGGUF(GGUFError):
    """Not a GGUF at all: another kind of file, or a header of nonsense counts."""


class UnsupportedVersion(GGUFError):
    """A GGUF of a version llama.cpp does not read."""


class Truncated(GGUFError):
    """The file ends inside its header."""


class UnknownValueType(GGUFError):
    """A metadata value of a type the format does not define."""


@dataclass(frozen=True)
class Header:
    """What a GGUF's header says; ``metadata`` holds the scalar and string values asked for."""

    path: Path
    size: int  # of the file, in bytes
    version: int
    n_tensors: int
    n_kv: int
    alignment: int
    data_start: int  # where the tensor data begins (after the tensor list, aligned)
    data_end: int  # where the last tensor's data ends: the file needs at least this many bytes
    metadata: dict[str, object] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        """Whether the file holds all the tensor data its header lists."""
        return self.data_end <= self.size


Wanted = Callable[[str], bool] | Collection[str]


def read_header(path: str | Path, wanted: Wanted = ()) -> Header:
    """Walk a GGUF's header: metadata (arrays skipped), then the tensor list; never the tensor data.

    ``wanted`` picks the metadata keys whose scalar or string values to keep: a collection of keys or
    a predicate. Raises a :class:`GGUFError` (bad magic, an unknown version, a header cut short, an
    unknown value type) or OSError; a file too short for its tensor data is not an error here, see
    :attr:`Header.complete`.
    """
    keep = wanted if callable(wanted) else frozenset(wanted).__contains__
    with _walked(path, keep) as (header, _, _):
        return header


@contextmanager
def _walked(path: str | Path, keep, spans: dict[str, tuple[int, int]] | None = None):
    """The checked header walk of :func:`read_header`, with the file still mapped: yields (header,
    the mmap, ``spans``) and unmaps on exit. Raises like :func:`read_header`."""
    path = Path(path)
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        head = f.read(HEADER_BYTES)
        if head and size < HEADER_BYTES and GGUF_MAGIC.startswith(head[:4]):
            raise Truncated(f"{path}: truncated: {size} bytes, shorter than a GGUF header ({HEADER_BYTES} bytes)")
        if head[:4] != GGUF_MAGIC:
            raise NotGGUF(f"{path}: not a GGUF file ({_looks_like(head)})")
        version, n_tensors, n_kv = struct.unpack_from("<IQQ", head, 4)
        if version not in VERSIONS:
            raise UnsupportedVersion(f"{path}: GGUF version {version}, which this llama.cpp does not read (2 or 3)")
        if n_tensors > MAX_COUNT or n_kv > MAX_COUNT:
            raise NotGGUF(f"{path}: not a GGUF file (its header claims {n_kv} metadata keys and {n_tensors} tensors)")
        with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as m:
            try:
                header = _walk(path, m, size, version, n_tensors, n_kv, keep, spans)
            except (struct.error, OverflowError, _PastEnd):  # an offset past the end (or past any file)
                raise Truncated(
                    f"{path}: truncated: its header ({n_kv} metadata keys, {n_tensors} tensors) runs past "
                    f"the end of the file ({size} bytes)"
                ) from None
            yield header, m, spans


def metadata(path: str | Path, wanted: Wanted = lambda key: True) -> dict[str, object]:
    """Scalar and string metadata of a GGUF (arrays such as the vocabulary are skipped, not decoded).

    ``wanted``: the keys to read, or a predicate on them (all by default). Raises like :func:`read_header`.
    """
    return read_header(path, wanted).metadata


def gguf_problem(path: str | Path) -> str | None:
    """What is wrong with a GGUF file (not one, an unknown version, cut short), or None.

    Reads the header (metadata and tensor list, through mmap) but not the tensor data; the file must
    be long enough to hold every tensor the header lists. OSError (unreadable) is left to the caller.
    """
    try:
        header = read_header(path)
    except GGUFError as exc:
        return str(exc)
    if not header.complete:
        return f"{header.path}: truncated: its tensors need {header.data_end} bytes, the file has {header.size}"
    return None


class _PastEnd(Exception):
    pass


def _walk(
    path: Path,
    m: mmap.mmap,
    size: int,
    version: int,
    n_tensors: int,
    n_kv: int,
    keep,
    spans: dict[str, tuple[int, int]] | None = None,
) -> Header:
    """The walk behind :func:`read_header`; an offset past the end raises struct.error, OverflowError or
    _PastEnd, which it turns into :class:`Truncated`. ``spans`` (when given) receives each metadata
    entry's byte range (key, type and value) by key, in file order, and ``"<tensors>"`` the tensor list's."""
    u32, u64, u32_u64 = _U32.unpack_from, _U64.unpack_from, _U32_U64.unpack_from
    pos = HEADER_BYTES
    alignment = DEFAULT_ALIGNMENT
    found: dict[str, object] = {}

    def skip_strings(pos: int, count: int) -> int:
        for _ in range(count):
            pos += 8 + u64(m, pos)[0]
        return pos

    for _ in range(n_kv):
        entry = pos
        (length,) = u64(m, pos)
        if pos + 8 + length + 4 > size:  # before slicing a garbage length (a copy of the rest of the file)
            raise _PastEnd
        raw = m[pos + 8 : pos + 8 + length]
        pos += 8 + length
        (kind,) = u32(m, pos)
        pos += 4
        if kind == ARRAY:
            item, count = u32_u64(m, pos)
            pos += 12
            if item == STRING:
                pos = skip_strings(pos, count)
            elif item in VALUE_SIZES:
                pos += count * VALUE_SIZES[item]
            else:
                raise UnknownValueType(_unknown(path, raw, item))
        elif kind == STRING:
            (n,) = u64(m, pos)
            if keep(key := raw.decode("utf-8", "replace")):
                if pos + 8 + n > size:
                    raise _PastEnd
                found[key] = m[pos + 8 : pos + 8 + n].decode("utf-8", "replace")
            pos += 8 + n
        elif kind in SCALAR_FORMATS:
            if raw == b"general.alignment" and kind == _UINT32:
                (alignment,) = u32(m, pos)
            if keep(key := raw.decode("utf-8", "replace")):
                found[key] = struct.unpack_from(SCALAR_FORMATS[kind], m, pos)[0]
            pos += VALUE_SIZES[kind]
        else:
            raise UnknownValueType(_unknown(path, raw, kind))
        if pos > size:
            raise _PastEnd
        if spans is not None:
            spans[raw.decode("utf-8", "replace")] = (entry, pos)
    last = 0
    tensors = pos
    for _ in range(n_tensors):
        pos += 8 + u64(m, pos)[0]  # the name
        (n_dims,) = u32(m, pos)
        if pos + 4 + 8 * n_dims + 12 > size:  # before unpacking a garbage count of dimensions
            raise _PastEnd
        dims = struct.unpack_from(f"<{n_dims}Q", m, pos + 4)
        ggml_type, offset = u32_u64(m, pos + 4 + 8 * n_dims)
        pos += 4 + 8 * n_dims + 12
        values = 1
        for d in dims:
            values *= d
        block, nbytes = GGML_BLOCKS.get(ggml_type, (1, 0))  # an unknown type: at least its first byte
        last = max(last, offset + max(1, values // block * nbytes))
    if pos > size:
        raise _PastEnd
    start = pos + (-pos % alignment if alignment else 0)
    if spans is not None:
        spans["<tensors>"] = (tensors, pos)
    return Header(path, size, version, n_tensors, n_kv, alignment, start, start + last, found)


# -- rewriting the metadata ----------------------------------------------------------------------------
def _keep_none(key: str) -> bool:  # a walk that keeps no values (only the spans)
    return False


def encode_string(value: str) -> bytes:
    raw = value.encode("utf-8")
    return _U64.pack(len(raw)) + raw


def encode_entry(key: str, kind: int, value, item: int | None = None) -> bytes:
    """One metadata entry (key, type, value) in the GGUF encoding; arrays need their ``item`` type."""
    out = encode_string(key) + _U32.pack(kind)
    if kind == STRING:
        return out + encode_string(value)
    if kind in SCALAR_FORMATS:
        return out + struct.pack(SCALAR_FORMATS[kind], value)
    if kind != ARRAY or item is None:
        raise ValueError(f"metadata {key!r}: cannot encode type {kind}")
    values = list(value)
    out += _U32_U64.pack(item, len(values))
    if item == STRING:
        return out + b"".join(encode_string(v) for v in values)
    return out + struct.pack(f"<{len(values)}{SCALAR_FORMATS[item][1]}", *values)


def entries(path: str | Path, keys: Callable[[str], bool]) -> dict[str, bytes]:
    """The raw encoded metadata entries of ``path`` whose keys ``keys`` accepts (copied, not decoded:
    a 262k-token vocabulary is one slice)."""
    with _walked(path, _keep_none, {}) as (_, m, spans):
        return {k: m[a:b] for k, (a, b) in spans.items() if k != "<tensors>" and keys(k)}


def int32_array(path: str | Path, key: str) -> list[int] | None:
    """The values of an INT32 array entry (e.g. ``tokenizer.ggml.token_type``), or None without it."""
    raw = entries(path, lambda k: k == key).get(key)
    if raw is None:
        return None
    head = 8 + len(key.encode()) + 4
    item, count = _U32_U64.unpack_from(raw, head)
    if item != 5:
        raise ValueError(f"{path}: {key} is not an INT32 array (type {item})")
    return list(struct.unpack_from(f"<{count}i", raw, head + 12))


def rewrite_metadata(src: str | Path, dst: str | Path, new: dict[str, bytes]) -> None:
    """Copy the GGUF ``src`` to ``dst`` with the metadata entries in ``new`` (key -> encoded entry, see
    :func:`encode_entry` and :func:`entries`) replacing those of the same key or added after the rest.

    The tensor list and data are copied as bytes (their offsets are relative to the data section, which
    is re-aligned), so this takes the time of a file copy; ``gguf``'s reader and writer decode every
    vocabulary entry on the way (~15 s for a 262k-token vocabulary). ``dst`` is written whole; the
    caller renames it into place.
    """
    with _walked(src, _keep_none, {}) as (header, m, spans):
        if not header.complete:
            raise Truncated(f"{src}: truncated: its tensors need {header.data_end} bytes, the file has {header.size}")
        tensors = spans.pop("<tensors>")
        kept = [(k, m[a:b]) for k, (a, b) in spans.items()]
        have = {k for k, _ in kept}
        body = [new.get(k, raw) for k, raw in kept] + [raw for k, raw in new.items() if k not in have]
        alignment = header.alignment
        if "general.alignment" in new:  # a new alignment moves the data section: not supported
            raise ValueError("rewrite_metadata cannot change general.alignment")
        with open(dst, "wb") as out:
            out.write(GGUF_MAGIC + struct.pack("<IQQ", header.version, header.n_tensors, len(body)))
            for raw in body:
                out.write(raw)
            out.write(m[tensors[0] : tensors[1]])
            pos = out.tell()
            out.write(b"\0" * (-pos % alignment if alignment else 0))
            view = memoryview(m)
            try:
                chunk = 64 << 20
                for start in range(header.data_start, header.size, chunk):  # the data and any end padding
                    out.write(view[start : min(start + chunk, header.size)])
            finally:
                view.release()


def _unknown(path: Path, key: bytes, kind: int) -> str:
    return f"{path}: not a readable GGUF (metadata {key.decode(errors='replace')!r} has type {kind})"


def _looks_like(head: bytes) -> str:
    """What a file that should be a GGUF seems to be instead, from its first bytes."""
    if not head:
        return "it is empty"
    if head.startswith(b"version https://git-lfs"):
        return "it is a Git LFS pointer: run `git lfs pull`"
    if head.lstrip().lower().startswith((b"<!doctype", b"<html")):
        return "it is an HTML page, e.g. a login or error page saved instead of the file"
    if head.startswith(b"PK"):
        return "it is a zip archive, e.g. a PyTorch checkpoint"
    return f"it starts with {head[:4]!r}, not {GGUF_MAGIC!r}"
