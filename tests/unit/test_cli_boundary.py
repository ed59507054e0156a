"""The CLI boundary: OS and database errors, user text printed as markup, option values, conventions.

Each error case checks one line naming what and where, a hint, no traceback and a non-zero exit.
"""

from __future__ import annotations

import errno
import json
import os
import sqlite3

import pytest
from typer.testing import CliRunner

from tests.conftest import RECIPES, run_cli
from workbench.cli import app
from workbench.errors import from_os_error, from_sqlite_error

runner = CliRunner()
DEMO = RECIPES / "demo.toml"


def _clean_failure(result, code, *names):
    err = result.stderr
    lines = err.strip().splitlines()
    assert result.returncode == code if hasattr(result, "returncode") else result.exit_code == code, err
    assert "Traceback" not in err + (result.stdout or "")
    assert lines and lines[0].startswith("error: "), err
    assert len([x for x in lines if x.startswith("error: ")]) == 1, err
    assert lines[-1].startswith("hint: "), err
    for name in names:
        assert str(name) in lines[0], (name, lines[0])


@pytest.mark.parametrize(
    ("code", "words"),
    [
        (errno.EACCES, "permission denied"),
        (errno.EROFS, "read-only file system"),
        (errno.EISDIR, "is a folder"),
        (errno.ENOTDIR, "where a folder was expected"),
        (errno.ENOSPC, "no space left"),
        (errno.EIO, "input/output error"),
    ],
)
def test_os_errors_name_the_path_and_say_what(code, words):
    err = from_os_error(OSError(code, os.strerror(code), "/some/where.jsonl"))
    assert err.message.startswith("/some/where.jsonl: ") and words in err.message
    assert err.hint


def test_an_os_error_without_a_known_code_keeps_the_system_text():
    err = from_os_error(OSError(errno.ECONNRESET, os.strerror(errno.ECONNRESET), "x"))
    assert err.message == f"x: {os.strerror(errno.ECONNRESET)}"


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("attempt to write a readonly database", "read-only"),
        ("database is locked", "locked"),
        ("database disk image is malformed", "damaged"),
        ("file is not a database", "damaged"),
    ],
)
def test_sqlite_errors_are_classified(text, kind):
    err = from_sqlite_error(sqlite3.DatabaseError(text), "/w/studies/s.sqlite")
    assert err.message.startswith("/w/studies/s.sqlite: ") and kind in err.message
    if kind != "damaged":
        assert "move it away" not in err.hint  # never advise moving a healthy database


def _make_study(workspace):
    r = run_cli("run", DEMO, "--only", "prepare", env={"WORKBENCH_HOME": str(workspace)})
    assert r.returncode == 0, r.stderr
    return workspace / "studies" / "demo.sqlite"


def _damage(db_path):
    with sqlite3.connect(db_path) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data = bytearray(db_path.read_bytes())
    page = 4096
    for i in range(page, len(data), page):  # every page after the first: headers garbled
        data[i : i + 64] = b"\xde\xad\xbe\xef" * 16
    db_path.write_bytes(bytes(data))


@pytest.mark.parametrize("command", [("status", DEMO), ("results", DEMO), ("run", DEMO, "--only", "prepare")])
def test_a_damaged_database_is_said_to_be_damaged(workspace, command):
    db_path = _make_study(workspace)
    _damage(db_path)
    before = db_path.read_bytes()
    r = run_cli(*command, env={"WORKBENCH_HOME": str(workspace)})
    _clean_failure(r, 1, db_path)
    assert "damaged" in r.stderr.splitlines()[0]
    assert db_path.read_bytes() == before


def test_a_read_only_healthy_database_is_read_not_called_damaged(workspace, monkeypatch):
    """Root ignores file modes here, so the read-only case is made by the check the code uses."""
    from workbench.recipe import load_recipe
    from workbench.runner import status_grid
    from workbench.store import read

    db_path = _make_study(workspace)
    for suffix in ("-wal", "-shm"):
        p = db_path.with_name(db_path.name + suffix)
        assert not p.exists() or p.stat().st_size == 0 or suffix == "-shm"
    with sqlite3.connect(db_path) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    for suffix in ("-wal", "-shm"):
        db_path.with_name(db_path.name + suffix).unlink(missing_ok=True)
    monkeypatch.setattr(read, "writable", lambda path: False)
    grid = status_grid(load_recipe(DEMO))
    assert grid["study_stages"]["prepare"]["status"] == "done"
    assert not db_path.with_name(db_path.name + "-shm").exists()  # immutable: nothing written beside it


def test_user_text_is_not_read_as_markup(capsys):
    from workbench.events import Log, RunStarted, StageStarted, UnitEnded
    from workbench.progress import Reporter

    with Reporter() as rep:
        rep.emit(RunStarted(study="s", pid=1, notes=["column [/x] is odd"]))
        rep.emit(StageStarted(stage="prepare", total=1))
        rep.emit(Log(message="data column [/x] [bold]"))
        rep.emit(
            UnitEnded(
                stage="prepare", unit="study", status="failed", error="column '[/x]' missing", hint="map [b]x[/b]"
            )
        )
    out = capsys.readouterr().out
    assert "[/x]" in out and "column '[/x]' missing" in out and "map [b]x[/b]" in out


@pytest.mark.parametrize(
    "args",
    [
        ["status", str(DEMO), "--format", "xml"],
        ["plan", str(DEMO), "--format", "xml"],
        ["results", str(DEMO), "--format", "xml"],
        ["validate", str(DEMO), "--format", "xml"],
        ["languages", "--format", "xml"],
        ["doctor", "--format", "xml"],
        ["judge-eval", "--format", "xml"],
        ["run", str(DEMO), "--events", "xml"],
    ],
)
def test_format_values_are_checked_everywhere(workspace, args):
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert "unknown format 'xml'" in result.output


def test_dash_h_is_help():
    result = runner.invoke(app, ["status", "-h"])
    assert result.exit_code == 0 and "--follow" in result.output


def test_shell_completion_is_offered():
    result = runner.invoke(app, ["--help"])
    assert "--install-completion" in result.output


def test_languages_json_says_what_has_data_and_judge_coverage():
    result = runner.invoke(app, ["languages", "--format", "json"])
    rows = {r["code"]: r for r in json.loads(result.output)}
    # independent reference: count the shipped adversarial file's Spanish rows here
    from workbench.data import shipped_path

    es = sum(1 for line in open(shipped_path("adversarial"), encoding="utf-8") if json.loads(line)["lang"] == "es")
    assert rows["es"]["shipped_data"]["adversarial"] == es > 0
    assert rows["th"]["shipped_data"]["benign"] == 0 and rows["th"]["heuristic_judge"] is False
    assert rows["es"]["heuristic_judge"] is True


def test_init_fits_its_model_and_writes_where_the_tui_looks(workspace, monkeypatch, tmp_path):
    import tomllib

    from workbench import paths

    monkeypatch.chdir(tmp_path)
    r1 = runner.invoke(app, ["init", "small"])
    assert r1.exit_code == 0, r1.output
    written = workspace / "recipes" / "small.toml"
    assert written.is_file() and paths.recipe_dirs()[0] == workspace / "recipes"
    small = tomllib.loads(written.read_text())
    assert small["export"]["quantizations"] == ["q8_0"]  # q4_k_m erases the 270M model's alignment
    r2 = runner.invoke(app, ["init", "big", "--model", "Qwen/Qwen3-1.7B"])
    assert r2.exit_code == 0, r2.output
    big = tomllib.loads((workspace / "recipes" / "big.toml").read_text())
    assert big["models"][0]["hub"] == "Qwen/Qwen3-1.7B" and big["models"][0]["family"] == "qwen3"
    assert big["training"]["learning_rate"] == 5e-5 and big["export"]["quantizations"] == ["q4_k_m"]


def test_init_into_a_file_is_a_clean_error(tmp_path):
    f = tmp_path / "afile"
    f.write_text("x")
    r = run_cli("init", "s", "--dir", f)
    _clean_failure(r, 2, f)
    assert f.read_text() == "x"


def test_workbench_home_that_is_a_file_is_a_clean_error(tmp_path):
    home = tmp_path / "home"
    home.write_text("not a folder")
    r = run_cli("run", DEMO, "--only", "prepare", env={"WORKBENCH_HOME": str(home)})
    _clean_failure(r, 1, home)
    assert home.read_text() == "not a folder"


def test_doctor_honours_no_color():
    r = run_cli("doctor", env={"NO_COLOR": "1"})
    assert "\033[" not in r.stdout


def test_an_empty_only_is_a_usage_error_not_the_whole_study(workspace):
    r = run_cli("run", DEMO, "--only", "", env={"WORKBENCH_HOME": str(workspace)})
    _clean_failure(r, 2, "--only")
    assert not (workspace / "studies" / "demo.sqlite").exists()  # nothing ran


def test_validate_json_stays_json_when_the_recipe_does_not_load(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[study]\nname = "x"\nbogus = 1\n')
    r = run_cli("validate", bad, "--format", "json")
    assert r.returncode == 2
    out = json.loads(r.stdout)
    assert out["ok"] is False and any("study.bogus" in p for p in out["problems"]) and out["hint"]


@pytest.mark.parametrize("model", ["nonsense", 'ow"ner/na"me', "/tmp/x.gguf", "a/b\nevil = 1"])
def test_init_refuses_a_model_that_is_not_a_hub_id(tmp_path, model):
    result = runner.invoke(app, ["init", "s", "--dir", str(tmp_path), "--model", model])
    assert result.exit_code == 2 and "not a hub id" in result.output
    assert not (tmp_path / "s.toml").exists()


def test_judge_model_checked_before_the_input(tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text('{"prompt": "p", "response": "r", "lang": "en"}\n')
    folder = tmp_path / "models"
    folder.mkdir()
    r = run_cli("judge", "--input", src, "--judge", "sorry-bench", "--model", folder)
    _clean_failure(r, 2, folder)
    assert "is a folder" in r.stderr
    cut = tmp_path / "cut.gguf"
    cut.write_bytes(b"GGUF\x03\x00\x00\x00" + b"\x01" * 10)
    r = run_cli("judge", "--input", src, "--judge", "sorry-bench", "--model", cut)
    _clean_failure(r, 2, cut)
    assert "truncated" in r.stderr


def test_judge_output_that_is_a_pipe_is_refused(tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text('{"prompt": "p", "response": "I cannot help with that.", "lang": "en"}\n')
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    r = run_cli("judge", "--input", src, "--output", fifo, timeout=60)
    _clean_failure(r, 2, fifo)
    assert fifo.exists() and not fifo.is_file()


def test_judge_output_through_a_symlink_writes_its_target(tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text('{"prompt": "p", "response": "I cannot help with that.", "lang": "en"}\n')
    target = tmp_path / "real.jsonl"
    target.write_text("old\n")
    link = tmp_path / "out.jsonl"
    link.symlink_to(target)
    r = run_cli("judge", "--input", src, "--output", link)
    assert r.returncode == 0, r.stderr
    assert link.is_symlink() and json.loads(target.read_text())["label"] == "refuse"
