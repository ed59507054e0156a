"""Writing files so that a reader never sees half of one: a temporary file beside the target, then a rename.

Every file the workbench writes whole (data files, manifests, results, caches, judged output) goes
through :func:`atomic_write`; folders (adapters, merged models, checkpoints) through
:func:`atomic_dir`. A crash or a full disk leaves the previous file (or none), never a truncated one.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

# mkstemp and mkdtemp create private files (0600) and folders (0700); the rename would keep that mode,
# so results, caches and adapters would become unreadable to other users and to tools run as them.
# They get the mode a plain open() or mkdir() would give instead. The umask is read once, at import:
# reading it means setting it, which is not safe once other threads create files.
_UMASK = os.umask(0o022)
os.umask(_UMASK)


def atomic_write(path: str | Path, data: str | bytes, *, fsync: bool = True) -> Path:
    """Write ``data`` (text as UTF-8) to ``path`` through a temporary file in the same folder.

    A symlink is followed (its target is replaced, the link kept); a path that exists but is not a
    regular file (a FIFO, a device) is refused rather than replaced by one. OS errors name ``path``,
    not the temporary file.
    """
    given = Path(path)
    path = Path(os.path.realpath(given)) if given.is_symlink() else given
    if path.exists() and not path.is_file():
        import stat

        kind = "a folder" if path.is_dir() else "not a regular file"
        if not path.is_dir() and stat.S_ISFIFO(path.stat().st_mode):
            kind = "a FIFO (named pipe)"
        from workbench.errors import WorkbenchError

        raise WorkbenchError(
            f"{given}: is {kind}; it would be replaced", "write to a regular file, or to stdout and redirect it"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            os.fchmod(f.fileno(), 0o666 & ~_UMASK)
            f.write(data.encode("utf-8") if isinstance(data, str) else data)
            if fsync:
                f.flush()
                os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise OSError(exc.errno, exc.strerror, str(given)) from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return given


def atomic_write_json(path: str | Path, obj: Any, *, indent: int | None = 1) -> Path:
    """``obj`` as JSON (UTF-8, non-ASCII kept, unknown types as strings), atomically."""
    return atomic_write(path, json.dumps(obj, indent=indent, default=str, ensure_ascii=False))


def atomic_write_jsonl(path: str | Path, rows: Iterable[dict[str, Any]]) -> Path:
    """One JSON object per line (keys sorted, so the file's hash is stable), atomically."""
    return atomic_write(path, "".join(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n" for r in rows))


@contextlib.contextmanager
def atomic_dir(target: str | Path) -> Iterator[Path]:
    """A temporary folder beside ``target`` to fill; on success it replaces ``target`` whole.

    On an exception the temporary folder is removed and ``target`` is left as it was.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp"))
    try:
        tmp.chmod(0o777 & ~_UMASK)
        yield tmp
        shutil.rmtree(target, ignore_errors=True)
        os.replace(tmp, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def same_file(a: str | Path, b: str | Path) -> bool:
    """Whether two paths name the same file (through links or another spelling); False if either is missing."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def bad_utf8_lines(path: str | Path, *, limit: int = 3, max_bytes: int | None = None) -> list[int]:
    """The numbers (from 1) of the first ``limit`` lines of a file that are not UTF-8; [] when it all is.

    ``max_bytes`` reads only the start of the file. A multi-byte character never spans lines (no byte
    of one is a newline), so once the fast whole-file pass fails each line is decoded on its own.
    """
    import codecs

    budget = max_bytes if max_bytes is not None else float("inf")
    with open(path, "rb") as f:
        decoder = codecs.getincrementaldecoder("utf-8")()
        read = 0
        try:
            while read < budget and (block := f.read(int(min(1 << 20, budget - read)))):
                read += len(block)
                decoder.decode(block)
            if read < budget:  # the whole file was read: a character cut off at its end is a fault
                decoder.decode(b"", final=True)
            return []
        except UnicodeDecodeError:
            pass
        f.seek(0)
        bad: list[int] = []
        read = 0
        for number, line in enumerate(f, start=1):
            read += len(line)
            if read > budget:
                break  # the line cut off by max_bytes may end mid-character: not a fault of the file
            try:
                line.decode("utf-8")
            except UnicodeDecodeError:
                bad.append(number)
                if len(bad) >= limit:
                    break
        return bad
