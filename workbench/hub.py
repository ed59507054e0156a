"""The Hugging Face hub, read through its local cache first: one way in for models, data sets and
judge GGUFs.

:func:`hub_snapshot` looks in the cache without the network, and downloads only when the recipe (or
``--allow-downloads``) allows it and ``HF_HUB_OFFLINE`` does not forbid it; the files fetched are the
caller's ``allow_patterns`` only (safetensors, configs, data files; never pickles or code). Every
failure is one line naming what and where, with a hint: not cached, gated, not found, no such
revision, hub unreachable.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from workbench.errors import DataError, WorkbenchError

# The files of a dataset repo read as data (never scripts or pickles; `datasets` runs no scripts anyway).
DATASET_FILES = (
    "README.md", "*.parquet", "*.arrow", "*.jsonl", "*.json", "*.csv", "*.tsv", "*.txt",
    "*.gz", "*.bz2", "*.xz", "*.zst", "*.zip",
)  # fmt: skip
LOGIN_HINT = "set HF_TOKEN to a token of that account (or run `hf auth login`)"


def hub_snapshot(
    repo_id: str,
    *,
    repo_type: str = "model",
    revision: str | None = None,
    allow_patterns: list[str] | None = None,
    allow_downloads: bool,
    label: str,
    error: type[Exception] = DataError,
    log=None,
) -> Path:
    """The local snapshot folder of a hub repo (its ``allow_patterns`` files) in the Hugging Face cache.

    The cache is looked in first, without the network (``revision``: a branch or tag the cache has a ref
    for, or a commit); only when the snapshot is not there, and ``allow_downloads``, is it downloaded
    (which ``HF_HUB_OFFLINE=1`` forbids). Every failure is one ``error`` (a one-line message naming
    ``label`` and the repo, with a hint): not cached, gated, not found, no such revision, hub unreachable.
    """
    from huggingface_hub import constants, snapshot_download
    from huggingface_hub.errors import IncompleteSnapshotError, LocalEntryNotFoundError

    kind = "dataset" if repo_type == "dataset" else "model"
    what = f"hub {kind} {repo_id!r}" + (f" (revision {revision!r})" if revision else "")
    args: dict[str, Any] = {"repo_type": repo_type, "revision": revision, "allow_patterns": allow_patterns}
    try:
        return Path(snapshot_download(repo_id, local_files_only=True, **args))
    except IncompleteSnapshotError:
        cached = "is only partly in the local Hugging Face cache"
    except LocalEntryNotFoundError:
        cached = "is not in the local Hugging Face cache"
    except Exception as exc:  # e.g. an unreadable cache folder
        raise error(*_hub_failure(exc, label, what, repo_id, kind)) from None
    cache = constants.HF_HUB_CACHE
    if not allow_downloads:
        raise error(
            f"{label}: {what} {cached} ({cache}) and downloading it is not allowed",
            "set study.allow_downloads = true in the recipe, or pass --allow-downloads "
            "(or point HF_HOME / HF_HUB_CACHE at a cache that has it)",
        )
    if constants.HF_HUB_OFFLINE:
        raise error(
            f"{label}: {what} {cached} ({cache}) and HF_HUB_OFFLINE=1 forbids downloading it",
            "download it once with network access (HF_HUB_OFFLINE=0), or point HF_HOME / HF_HUB_CACHE at a "
            "cache that has it",
        )
    if log is not None:
        log(f"downloading {what} into {cache}")
    try:
        return Path(snapshot_download(repo_id, **args))
    except Exception as exc:  # network, gating and auth errors come in many types
        raise error(*_hub_failure(exc, label, what, repo_id, kind)) from None


def _hub_failure(exc: BaseException, label: str, what: str, repo_id: str, kind: str) -> tuple[str, str]:
    """(one-line message, hint) for a failed hub download."""
    from huggingface_hub import constants
    from huggingface_hub.errors import (
        GatedRepoError,
        HfHubHTTPError,
        IncompleteSnapshotError,
        OfflineModeIsEnabled,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    page = _page(repo_id, kind)
    chain = _chain(exc)
    status = getattr(getattr(exc, "response", None), "status_code", None)
    if isinstance(exc, GatedRepoError):
        return (
            f"{label}: {what} is gated and this account has no access to it",
            f"accept its licence at {page} while logged in, then {LOGIN_HINT}",
        )
    if isinstance(exc, RevisionNotFoundError):
        return f"{label}: {what}: no such revision on the hub", f"check the branch, tag or commit at {page}"
    if isinstance(exc, RepositoryNotFoundError):
        return (
            f"{label}: {what} was not found on the hub (or it is private)",
            f"check the id (owner/name); for a private repo, {LOGIN_HINT}",
        )
    if isinstance(exc, HfHubHTTPError) and status in (401, 403):
        return (
            f"{label}: {what}: the hub refused access (HTTP {status})",
            f"{LOGIN_HINT}; a gated repo: accept at {page}",
        )
    if isinstance(exc, IncompleteSnapshotError):
        return (
            f"{label}: {what}: the cached copy is incomplete and the hub cannot be reached",
            "rerun with network access to complete it, or copy a complete cache into HF_HUB_CACHE",
        )
    if any(isinstance(e, OfflineModeIsEnabled) for e in chain):
        return (
            f"{label}: {what} is not in the local Hugging Face cache and HF_HUB_OFFLINE=1 forbids downloading it",
            "download it once with network access (HF_HUB_OFFLINE=0), or point HF_HOME / HF_HUB_CACHE at a "
            "cache that has it",
        )
    if any(isinstance(e, (ConnectionError, TimeoutError)) or "Connect" in type(e).__name__ for e in chain) or (
        type(exc).__name__ == "LocalEntryNotFoundError"
    ):
        return (
            f"{label}: cannot reach the hub ({constants.ENDPOINT}) to download {what}: {first_line(exc)}",
            "check the network and proxy settings (HTTPS_PROXY, HF_ENDPOINT); or download it on a machine "
            "with access, copy the cache into HF_HUB_CACHE and set HF_HUB_OFFLINE=1",
        )
    return (
        f"{label}: cannot download {what}: {first_line(exc)}",
        f"check the id and revision at {page}; for a gated or private repo, {LOGIN_HINT}",
    )


def _chain(exc: BaseException) -> list[BaseException]:
    """``exc`` and its causes, outermost first."""
    out = [exc]
    for _ in range(8):  # a chain is short; the bound only guards against a cycle
        inner = out[-1].__cause__ or out[-1].__context__
        if inner is None:
            break
        out.append(inner)
    return out


def first_line(exc: BaseException) -> str:
    """``Type: first line of the message`` of the innermost cause (some errors have an empty message)."""
    for _ in range(8):  # a chain is short; the bound only guards against a cycle
        inner = exc.__cause__ or exc.__context__
        if inner is None:
            break
        exc = inner
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0][:200]}" if lines else type(exc).__name__


def hub_file(
    repo_id: str,
    filename: str,
    *,
    revision: str | None = None,
    allow_downloads: bool,
    label: str,
    error: type[Exception] = WorkbenchError,
    log=None,
) -> Path:
    """One file of a hub model repo (a judge's GGUF), through :func:`hub_snapshot` with that file as
    the only pattern: nothing else of the repo is fetched."""
    folder = hub_snapshot(
        repo_id,
        revision=revision,
        allow_patterns=[filename],
        allow_downloads=allow_downloads,
        label=label,
        error=error,
        log=log,
    )
    path = folder / filename
    if path.is_file():
        return path
    # The cache has this revision's snapshot (another file of the repo, e.g. another quantization) but not
    # this file: it is not cached, whatever snapshot_download's cache look-up said.
    from huggingface_hub import constants, hf_hub_download

    what = f"hub model {repo_id!r}" + (f" (revision {revision!r})" if revision else "")
    if not allow_downloads or constants.HF_HUB_OFFLINE:
        why = "downloading it is not allowed" if not allow_downloads else "HF_HUB_OFFLINE=1 forbids downloading it"
        raise error(
            f"{label}: {what}: {filename!r} is not in the local Hugging Face cache ({constants.HF_HUB_CACHE}) and "
            f"{why}",
            f"check the file name in the repo's file list ({_page(repo_id, 'model')}); to fetch it set "
            "study.allow_downloads = true (or pass --allow-downloads) with network access",
        )
    if log is not None:
        log(f"downloading {filename} of {what}")
    try:
        return Path(hf_hub_download(repo_id, filename, revision=revision))
    except Exception as exc:  # network, gating, a file the repo does not have
        raise error(*_hub_failure(exc, label, what, repo_id, "model")) from None


def _page(repo_id: str, kind: str) -> str:
    from huggingface_hub import constants

    return f"{constants.ENDPOINT}/{'datasets/' if kind == 'dataset' else ''}{repo_id}"
