"""Content keys of input files: what a stage key says about a data file, a model folder or a GGUF.

A stage is skipped when its input key is unchanged, so a key that named a file by its path would keep
the old output after the file is edited. Every key that depends on a file hashes its bytes instead:
editing a data file reruns ``prepare``; touching it or copying it elsewhere with the same bytes does not.

Hashing is cached by the file's identity on disk, (real path, size, mtime_ns, ctime_ns, inode) ->
sha256, in ``<cache_dir>/filekeys.json``. The cache is a file, not a per-process dict, because keys are
computed by many short processes (``plan``, ``status``, each ``run``, the TUI): a 7 GB model folder
would otherwise be read again by every one of them (seconds to a minute each). ctime and the inode go
beyond size and mtime because ``touch -d``, ``rsync -t`` and ``cp -p`` can restore an old mtime on new
bytes, but not the ctime. A file whose mtime is less than :data:`SETTLE_S` old is hashed but not
remembered: a file rewritten with the same size within one filesystem timestamp tick would keep its
stat signature (git calls this "racy clean"). The JSON is written atomically; two processes writing
at once lose at most each other's new entries, which are hashed again next time, never wrong.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from pathlib import Path
from typing import Any

from workbench import fsutil, paths

CACHE_NAME = "filekeys.json"
CACHE_VERSION = 1
MAX_ENTRIES = 4096  # one per input file; the least recently seen are dropped beyond this
SETTLE_S = 2.0  # a file modified more recently than this is not remembered (see the module docstring)
CHUNK = 1 << 20

# The files of a Hugging Face model folder that determine what loading it gives: the configs, the
# tokenizer and chat template, and the weights (top level only, as from_pretrained reads them).
MODEL_FILE_SUFFIXES = (".json", ".jinja", ".safetensors", ".bin", ".pt", ".pth", ".model", ".tiktoken")
MODEL_FILE_NAMES = ("merges.txt", "vocab.txt")

_lock = threading.Lock()
_entries: dict[str, dict[str, Any]] | None = None  # loaded from the cache file on first use


def sha256(path: str | Path) -> str:
    """The sha256 (hex) of a file's bytes, read once per version of the file. Raises OSError if missing."""
    real = os.path.realpath(path)
    st = os.stat(real)
    signature = _signature(st)
    with _lock:
        entry = _load().get(real)
    if entry is not None and entry.get("stat") == signature:
        return entry["sha256"]
    started = time.time_ns()
    digest = _hash_file(real)
    after = os.stat(real)
    settled = started - st.st_mtime_ns >= SETTLE_S * 1e9
    if settled and _signature(after) == signature:  # not being written while it was read
        _remember(real, signature, digest)
    return digest


def file_key(path: str | Path) -> str:
    """The first 16 hex digits of a file's sha256 (cached), or ``missing`` when it is not a file."""
    p = Path(path)
    return sha256(p)[:16] if p.is_file() else "missing"


def model_files(folder: str | Path) -> list[Path]:
    """The files of a model folder that go into its key: configs, tokenizer, template and weights."""
    folder = Path(folder)
    return sorted(
        p
        for p in folder.iterdir()
        if p.is_file()
        and not p.name.startswith(".")
        and (p.suffix.lower() in MODEL_FILE_SUFFIXES or p.name in MODEL_FILE_NAMES)
    )


def model_key(path: str | Path) -> str:
    """A content key of a local model: a GGUF file's hash, or a folder's config, tokenizer and weights.

    ``missing`` when the path is neither a file nor a folder (the recipe check reports that).
    """
    p = Path(path)
    if p.is_file():
        return file_key(p)
    if not p.is_dir():
        return "missing"
    parts = {f.name: sha256(f)[:16] for f in model_files(p)}
    blob = json.dumps(parts, sort_keys=True).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


def cache_path() -> Path:
    """The JSON file holding the remembered hashes."""
    return paths.cache_dir() / CACHE_NAME


def forget() -> None:
    """Drop what this process remembers (tests point WORKBENCH_CACHE elsewhere and start afresh)."""
    global _entries
    with _lock:
        _entries = None


# -- helpers ---------------------------------------------------------------------------------------
def _signature(st: os.stat_result) -> list[int]:
    return [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev]


def _hash_file(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(CHUNK):
            h.update(block)
    return h.hexdigest()


def _read_cache() -> dict[str, dict[str, Any]]:
    try:
        raw = json.loads(cache_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}  # none yet, or unreadable: a cache may always be rebuilt
    if not isinstance(raw, dict) or raw.get("version") != CACHE_VERSION or not isinstance(raw.get("files"), dict):
        return {}
    return {k: v for k, v in raw["files"].items() if isinstance(v, dict) and "sha256" in v and "stat" in v}


def _load() -> dict[str, dict[str, Any]]:
    global _entries
    if _entries is None:
        _entries = _read_cache()
    return _entries


def _remember(real: str, signature: list[int], digest: str) -> None:
    with _lock:
        entries = _load()
        entries.update(_read_cache())  # keep what other processes remembered meanwhile
        entries[real] = {"stat": signature, "sha256": digest, "seen": time.time()}
        if len(entries) > MAX_ENTRIES:
            keep = sorted(entries.items(), key=lambda kv: kv[1].get("seen", 0), reverse=True)[:MAX_ENTRIES]
            entries.clear()
            entries.update(keep)
        try:
            fsutil.atomic_write_json(cache_path(), {"version": CACHE_VERSION, "files": entries}, indent=None)
        except OSError:
            pass  # a read-only cache only costs hashing again
