"""The one atomic-write helper: a failed write leaves the old file or folder, and no temporary behind."""

import json
import os
import stat

import pytest

from workbench import fsutil


class Boom(Exception):
    pass


def _leftovers(folder):
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def test_atomic_write_replaces_the_file_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "sub" / "data.txt"
    fsutil.atomic_write(target, "first")
    fsutil.atomic_write(target, b"second")
    assert target.read_text() == "second"
    assert _leftovers(target.parent) == []


def test_a_write_that_raises_midway_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    target = tmp_path / "data.txt"
    target.write_text("old")

    def failing_fsync(fd):
        # The new data is in the temporary file by now: the failure comes between writing and renaming.
        raise Boom("disk full")

    monkeypatch.setattr(os, "fsync", failing_fsync)
    with pytest.raises(Boom):
        fsutil.atomic_write(target, "new " * 10_000)
    assert target.read_text() == "old"
    assert _leftovers(tmp_path) == []


def test_json_that_cannot_be_serialized_leaves_the_old_file(tmp_path):
    target = tmp_path / "rows.jsonl"
    fsutil.atomic_write_jsonl(target, [{"a": 1}])

    def rows():
        yield {"b": 2}
        raise Boom("generator failed")

    with pytest.raises(Boom):
        fsutil.atomic_write_jsonl(target, rows())
    assert target.read_text() == '{"a": 1}\n'
    assert _leftovers(tmp_path) == []


def test_json_helpers_keep_text_and_sort_jsonl_keys(tmp_path):
    fsutil.atomic_write_json(tmp_path / "a.json", {"text": "ελληνικά", "path": tmp_path})
    assert json.loads((tmp_path / "a.json").read_text(encoding="utf-8")) == {"text": "ελληνικά", "path": str(tmp_path)}
    assert "ελληνικά" in (tmp_path / "a.json").read_text(encoding="utf-8")
    fsutil.atomic_write_jsonl(tmp_path / "b.jsonl", [{"z": 1, "a": 2}])
    assert (tmp_path / "b.jsonl").read_text() == '{"a": 2, "z": 1}\n'


def test_written_files_and_folders_get_the_usual_mode_not_a_private_one(tmp_path):
    # mkstemp/mkdtemp make 0600/0700 entries; results and adapters must stay readable like plain writes.
    umask = os.umask(0o022)
    os.umask(umask)
    plain = tmp_path / "plain"
    plain.write_text("x")
    plain_dir = tmp_path / "plain_dir"
    plain_dir.mkdir()
    fsutil.atomic_write(tmp_path / "atomic", "x")
    with fsutil.atomic_dir(tmp_path / "atomic_dir") as tmp:
        (tmp / "f").write_text("x")
    assert stat.S_IMODE((tmp_path / "atomic").stat().st_mode) == stat.S_IMODE(plain.stat().st_mode)
    assert stat.S_IMODE((tmp_path / "atomic_dir").stat().st_mode) == stat.S_IMODE(plain_dir.stat().st_mode)


def test_atomic_dir_replaces_a_folder_whole(tmp_path):
    target = tmp_path / "adapter"
    target.mkdir()
    (target / "old.bin").write_text("old")
    (target / "shared.json").write_text("old")
    with fsutil.atomic_dir(target) as tmp:
        assert tmp.parent == tmp_path and tmp != target and tmp.is_dir()
        (tmp / "shared.json").write_text("new")
        (tmp / "new.bin").write_text("new")
        # Nothing of the new folder is visible until the block ends.
        assert sorted(p.name for p in target.iterdir()) == ["old.bin", "shared.json"]
    assert sorted(p.name for p in target.iterdir()) == ["new.bin", "shared.json"]
    assert (target / "shared.json").read_text() == "new"
    assert _leftovers(tmp_path) == []


def test_atomic_dir_creates_a_missing_target_and_its_parents(tmp_path):
    target = tmp_path / "a" / "b" / "checkpoint"
    with fsutil.atomic_dir(target) as tmp:
        (tmp / "state.json").write_text("{}")
    assert (target / "state.json").read_text() == "{}"


def test_atomic_dir_leaves_the_old_folder_on_an_exception(tmp_path):
    target = tmp_path / "checkpoint"
    target.mkdir()
    (target / "state.json").write_text("step 10")
    with pytest.raises(Boom), fsutil.atomic_dir(target) as tmp:
        (tmp / "state.json").write_text("step 20")
        raise Boom("killed mid-save")
    assert sorted(p.name for p in target.iterdir()) == ["state.json"]
    assert (target / "state.json").read_text() == "step 10"
    assert _leftovers(tmp_path) == []


def test_atomic_dir_leaves_no_target_when_there_was_none_and_it_fails(tmp_path):
    with pytest.raises(Boom), fsutil.atomic_dir(tmp_path / "new"):
        raise Boom()
    assert list(tmp_path.iterdir()) == []


def test_same_file_through_a_symlink_and_a_relative_path(tmp_path, monkeypatch):
    real = tmp_path / "models" / "cell.gguf"
    real.parent.mkdir()
    real.write_bytes(b"GGUF")
    link = tmp_path / "link.gguf"
    link.symlink_to(real)
    monkeypatch.chdir(tmp_path)
    assert fsutil.same_file(link, real)
    assert fsutil.same_file("models/cell.gguf", real)
    assert fsutil.same_file("./models/../models/cell.gguf", str(link))
    other = tmp_path / "other.gguf"
    other.write_bytes(b"GGUF")
    assert not fsutil.same_file(other, real)
    assert not fsutil.same_file(tmp_path / "missing", real)
