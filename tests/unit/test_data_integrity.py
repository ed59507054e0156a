"""Bad input is refused with a message naming the file, the id and the lines, and is never changed:
duplicate ids, empty files, text that is not UTF-8, an output that is the input; and stage keys
that follow a file's content, not its path or mtime."""

import json
import os
from pathlib import Path
from types import SimpleNamespace

import pytest
from typer.testing import CliRunner

from workbench import data, filekeys, fsutil, hub
from workbench.cli import app
from workbench.errors import DataError
from workbench.recipe import load_recipe
from workbench.recipe.models import DataSource

runner = CliRunner()


@pytest.fixture(autouse=True)
def own_cache(tmp_path, monkeypatch):
    """Each test hashes into its own cache, so none sees another's remembered digests."""
    monkeypatch.setenv("WORKBENCH_CACHE", str(tmp_path / "cache"))
    filekeys.forget()
    yield
    filekeys.forget()


def _jsonl(path, rows, blank_after=()):
    lines = []
    for n, r in enumerate(rows):
        lines.append(json.dumps(r, ensure_ascii=False))
        if n in blank_after:
            lines.append("")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path.read_bytes()


def _raises(source, kind="benign", langs=("en",)):
    with pytest.raises(DataError) as info:
        data.load(source, kind, list(langs), where=f"data.{kind}")
    return info.value


def _row(i, lang="en", **kw):
    return {"id": f"p{i}", "instruction": f"q{i}", "response": f"a{i}", "lang": lang, **kw}


# -- 1. duplicate ids ------------------------------------------------------------------------------
def test_duplicate_id_in_jsonl_names_file_id_and_lines(tmp_path):
    path = tmp_path / "x.jsonl"
    rows = [_row(1), _row(2), _row(7), _row(3), _row(4), _row(5), _row(6), _row(7)]
    before = _jsonl(path, rows, blank_after=(0,))  # a blank line: line numbers are the file's, not row numbers
    err = _raises(DataSource(path=path))
    assert f"{path}: id 'p7' appears on lines 4 and 9" in err.message and "data.benign" in err.message
    assert "unique" in err.hint and "drop the id column" in err.hint
    assert path.read_bytes() == before


def test_duplicate_id_in_csv_counts_header_and_multiline_fields(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text('id,instruction,response,lang\np1,"two\nlines",a,en\np2,q,a,en\np1,q,a,en\n', encoding="utf-8")
    before = path.read_bytes()
    err = _raises(DataSource(path=path))
    assert f"{path}: id 'p1' appears on lines 2 and 5" in err.message
    assert path.read_bytes() == before


def test_duplicate_id_in_parquet_names_rows(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "x.parquet"
    pq.write_table(pa.Table.from_pylist([_row(1), _row(2), _row(1)]), path)
    err = _raises(DataSource(path=path))
    assert f"{path}: id 'p1' appears on rows 1 and 3" in err.message


def test_duplicates_are_per_language_and_counted(tmp_path):
    path = tmp_path / "x.jsonl"
    _jsonl(path, [_row(1, "en"), _row(1, "es"), _row(2, "es")])  # one item in two languages: fine
    assert len(data.load(DataSource(path=path), "benign", ["en", "es"])) == 3
    _jsonl(path, [_row(1, "es"), _row(2, "es"), _row(1, "es"), _row(2, "es"), _row(3, "en")])
    err = _raises(DataSource(path=path), langs=("en", "es"))
    assert "id 'p1' appears on lines 1 and 3 among its es (Spanish) rows; 1 more id(s)" in err.message


def test_mapped_id_column_and_derived_ids(tmp_path):
    path = tmp_path / "x.jsonl"
    _jsonl(path, [{"q": "a", "r": "b", "lang": "en", "n": 5}, {"q": "c", "r": "d", "lang": "en", "n": 5}])
    mapped = DataSource(path=path, fields={"instruction": "q", "response": "r", "id": "n"})
    assert "id '5' appears on lines 1 and 2" in _raises(mapped).message
    derived = DataSource(path=path, fields={"instruction": "q", "response": "r"})  # no id column: row ids
    assert [r["item_id"] for r in data.load(derived, "benign", ["en"])] == ["row00000", "row00001"]


def test_duplicate_id_in_a_shipped_set(tmp_path, monkeypatch):
    path = tmp_path / "benign.jsonl"
    _jsonl(path, [_row(1), _row(1)])
    monkeypatch.setattr(data, "shipped_path", lambda name: path)
    err = _raises(DataSource(shipped="benign"))
    assert f"{path}: id 'p1' appears on lines 1 and 2" in err.message


# -- 2. empty files ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "name,content,why",
    [
        ("e.jsonl", b"", "no rows (the file is empty)"),
        ("e.jsonl", b"\n  \n\n", "no rows"),
        ("e.json", b"[]", "no rows"),
        ("e.csv", b"", "no rows (the file is empty)"),
        ("e.csv", b"instruction,response,lang\n", "no rows (only a header line)"),
    ],
)
def test_an_empty_file_is_a_clear_error(tmp_path, name, content, why):
    path = tmp_path / name
    path.write_bytes(content)
    err = _raises(DataSource(path=path))
    assert err.message == f"data.benign: {path}: {why}"
    assert path.read_bytes() == content


def test_an_empty_parquet_file(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "e.parquet"
    pq.write_table(pa.table({"instruction": pa.array([], pa.string()), "response": pa.array([], pa.string())}), path)
    assert _raises(DataSource(path=path)).message == f"data.benign: {path}: no rows"


def test_an_exception_without_a_message_is_named_by_its_type():
    assert hub.first_line(StopIteration()) == "StopIteration"
    try:
        try:
            raise ValueError("inner problem\nmore")
        except ValueError as exc:
            raise RuntimeError("An error occurred while generating the dataset") from exc
    except RuntimeError as outer:
        assert hub.first_line(outer) == "ValueError: inner problem"


# -- 3. text that is not UTF-8 ------------------------------------------------------------------------
def _latin1(path, lines):
    path.write_bytes("".join(line + "\n" for line in lines).encode("latin-1"))
    return path.read_bytes()


def test_non_utf8_jsonl_names_the_first_bad_lines(tmp_path):
    path = tmp_path / "x.jsonl"
    lines = [json.dumps(_row(i, instruction=f"caf{'é' if i in (2, 4) else 'e'}"), ensure_ascii=False) for i in range(5)]
    before = _latin1(path, lines)
    err = _raises(DataSource(path=path))
    assert err.message == f"data.benign: {path}: not UTF-8 text on lines 3 and 5"
    assert "UTF-8" in err.hint
    assert path.read_bytes() == before


def test_non_utf8_csv_and_many_bad_lines(tmp_path):
    path = tmp_path / "x.csv"
    _latin1(path, ["instruction,response,lang", *[f"qé{i},a,en" for i in range(6)]])
    assert "not UTF-8 text on lines 2, 3 and 4 (and maybe more)" in _raises(DataSource(path=path)).message


def test_read_jsonl_refuses_non_utf8(tmp_path):
    path = tmp_path / "prepared.jsonl"
    _latin1(path, ['{"a": "ok"}', '{"a": "é"}'])
    with pytest.raises(DataError, match=r"prepared.jsonl: not UTF-8 text on line 2$"):
        data.read_jsonl(path)


def test_bad_utf8_lines(tmp_path):
    path = tmp_path / "t.txt"
    path.write_bytes(b"ok\n\xff\nok\n\xe9t\xe9\n" + "fine ä\n".encode() * 3)
    assert fsutil.bad_utf8_lines(path) == [2, 4]
    assert fsutil.bad_utf8_lines(path, limit=1) == [2]
    assert fsutil.bad_utf8_lines(path, max_bytes=4) == []  # only "ok\n" and part of the next line
    path.write_bytes("ä".encode()[:1])  # a character cut off at the end of the file
    assert fsutil.bad_utf8_lines(path) == [1]
    path.write_bytes("all fine ä\n".encode())
    assert fsutil.bad_utf8_lines(path) == []


def _judge_lines(n=5):
    return [{"prompt": f"p{i}", "response": "I cannot help with that.", "lang": "en", "id": i} for i in range(n)]


def test_judge_refuses_non_utf8_input(tmp_path):
    path = tmp_path / "in.jsonl"
    before = _latin1(
        path, [json.dumps(r) for r in _judge_lines(2)] + ['{"prompt": "é", "response": "x", "lang": "en"}']
    )
    out = tmp_path / "out.jsonl"
    result = runner.invoke(app, ["judge", "--input", str(path), "--output", str(out)])
    assert result.exit_code == 2
    assert f"--input: {path}: not UTF-8 text on line 3" in result.output and "hint:" in result.output
    assert path.read_bytes() == before and not out.exists()


def test_judge_eval_refuses_non_utf8_input_file_and_folder(tmp_path):
    folder = tmp_path / "labels"
    folder.mkdir()
    good = folder / "a.jsonl"
    good.write_text(json.dumps({**_judge_lines(1)[0], "label": 0}) + "\n", encoding="utf-8")
    bad = folder / "b.jsonl"
    _latin1(bad, [json.dumps({"prompt": "é", "response": "x", "lang": "en", "label": 1}, ensure_ascii=False)])
    for target in (bad, folder):
        result = runner.invoke(app, ["judge-eval", "--input", str(target)])
        assert result.exit_code == 2, result.output
        assert f"{bad}: not UTF-8 text on line 1" in result.output


# -- 4. an output that is the input -----------------------------------------------------------------
def _judge_input(tmp_path):
    path = tmp_path / "in.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in _judge_lines()), encoding="utf-8")
    return path, path.read_bytes()


@pytest.mark.parametrize("how", ["same", "symlink", "hardlink", "dotdot"])
def test_judge_output_that_is_the_input_is_refused_before_reading(tmp_path, how, monkeypatch):
    path, before = _judge_input(tmp_path)
    if how == "same":
        out = path
    elif how == "symlink":
        out = tmp_path / "link.jsonl"
        out.symlink_to(path)
    elif how == "hardlink":
        out = tmp_path / "hard.jsonl"
        os.link(path, out)
    else:
        (tmp_path / "sub").mkdir()
        out = tmp_path / "sub" / ".." / "in.jsonl"
    from workbench import judgecli

    monkeypatch.setattr(judgecli, "read_items", lambda p: pytest.fail("read before the check"))
    result = runner.invoke(app, ["judge", "--input", str(path), "--output", str(out)])
    assert result.exit_code == 2
    assert f"--output {out} is the same file as --input {path}" in result.output
    assert path.read_bytes() == before


def test_judge_output_to_a_folder_is_refused(tmp_path):
    path, _ = _judge_input(tmp_path)
    result = runner.invoke(app, ["judge", "--input", str(path), "--output", str(tmp_path)])
    assert result.exit_code == 2 and "is a folder" in result.output


def test_a_failed_judge_or_write_leaves_the_existing_output_untouched(tmp_path, monkeypatch):
    from workbench import judgecli

    path, _ = _judge_input(tmp_path)
    out = tmp_path / "out.jsonl"
    out.write_text("previous results\n")

    class Broken:
        def judge(self, items):
            raise RuntimeError("judge crashed")

    with monkeypatch.context() as m:
        m.setattr(judgecli, "load_judge", lambda spec: Broken())
        with pytest.raises(RuntimeError):
            judgecli.judge_file(path, "heuristic", output=out, recipe=None, model=None)
    assert out.read_text() == "previous results\n"

    def disk_full(src, dst):
        raise OSError(28, "No space left on device")

    with monkeypatch.context() as m:
        m.setattr(fsutil.os, "replace", disk_full)  # the judged lines are written, the rename fails
        with pytest.raises(OSError):
            judgecli.judge_file(path, "heuristic", output=out, recipe=None, model=None)
    assert out.read_text() == "previous results\n"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temporary left

    assert judgecli.judge_file(path, "heuristic", output=out, recipe=None, model=None) == 5
    assert len(out.read_text().splitlines()) == 5


def test_labels_export_refuses_a_file_the_recipe_reads(tmp_path):
    from workbench.judgecli import OutputIsInput, check_export_path, recipe_inputs

    (tmp_path / "bench.jsonl").write_text(json.dumps(_row(1)) + "\n")
    recipe = tmp_path / "r.toml"
    recipe.write_text(
        '[study]\nname = "r"\n[[models]]\nname = "m"\nembedded = "gemma3-270m"\n'
        '[languages]\nfinetune = ["en"]\nevaluate = ["en"]\n[data.benign]\npath = "bench.jsonl"\n'
    )
    r = load_recipe(recipe)
    (tmp_path / "sub").mkdir()
    with pytest.raises(OutputIsInput) as info:
        check_export_path(
            tmp_path / "sub" / ".." / "bench.jsonl",
            database=tmp_path / "db.sqlite",
            recipe=recipe,
            inputs=recipe_inputs(r),
        )
    assert "the recipe's data.benign.path" in info.value.message and info.value.exit_code == 2
    check_export_path(
        tmp_path / "labels.jsonl", database=tmp_path / "db.sqlite", recipe=recipe, inputs=recipe_inputs(r)
    )


# -- 5. keys follow content ---------------------------------------------------------------------------
def _recipe(tmp_path, extra="", models='embedded = "gemma3-270m"'):
    path = tmp_path / "r.toml"
    path.write_text(
        f'[study]\nname = "r"\n[[models]]\nname = "m"\n{models}\n'
        f'[languages]\nfinetune = ["en"]\nevaluate = ["en"]\n{extra}'
    )
    return load_recipe(path)


def _prepare_key(recipe):
    from workbench.stages.prepare import STAGE

    return STAGE.input_key(SimpleNamespace(recipe=recipe))


def _age(path, seconds=60):
    """Set a file's mtime into the past, as if it had been written a while ago (its ctime moves on)."""
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns - int(seconds * 1e9)))


def test_prepare_key_follows_a_local_files_bytes_not_its_mtime(tmp_path):
    bench = tmp_path / "bench.jsonl"
    _jsonl(bench, [_row(1), _row(2)])
    recipe = _recipe(tmp_path, '[data.benign]\npath = "bench.jsonl"\n')
    first = _prepare_key(recipe)
    assert _prepare_key(recipe) == first
    _age(bench)  # touched: same bytes
    assert _prepare_key(recipe) == first
    _jsonl(bench, [_row(1), _row(3)])  # same size, other bytes, at once (one timestamp tick)
    assert bench.stat().st_size == len(json.dumps(_row(1))) * 2 + 2
    changed = _prepare_key(recipe)
    assert changed != first
    st = bench.stat()
    _jsonl(bench, [_row(1), _row(2)])  # the old bytes back, and the mtime restored as `touch -r` would
    os.utime(bench, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert _prepare_key(recipe) == first


def test_prepare_key_of_shipped_data_is_unchanged_by_this(tmp_path):
    recipe = _recipe(tmp_path)
    assert _prepare_key(recipe) == _prepare_key(recipe)
    assert "file:benign" not in json.dumps(recipe.data.model_dump(mode="json"))


def test_file_hashes_are_remembered_across_processes_once_settled(tmp_path, monkeypatch):
    path = tmp_path / "weights.bin"
    path.write_bytes(b"x" * 1000)
    calls = []
    real = filekeys._hash_file
    monkeypatch.setattr(filekeys, "_hash_file", lambda p: calls.append(p) or real(p))
    filekeys.sha256(path)
    filekeys.sha256(path)
    assert len(calls) == 2  # just written: not remembered (it could change within one timestamp tick)
    _age(path)
    digest = filekeys.sha256(path)
    filekeys.forget()  # a new process: reads the cache file
    assert filekeys.sha256(path) == digest and len(calls) == 3
    assert str(path.resolve()) in json.loads(filekeys.cache_path().read_text())["files"]
    st = path.stat()
    path.write_bytes(b"y" * 1000)  # same size, and the old mtime put back (`touch -r`, `rsync -t`)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert filekeys.sha256(path) != digest  # the ctime moved: hashed again


def _model_folder(tmp_path, weights=b"w" * 64):
    folder = tmp_path / "llama-3-tiny"
    folder.mkdir(exist_ok=True)
    (folder / "config.json").write_text('{"model_type": "llama"}')
    (folder / "model.safetensors").write_bytes(weights)
    (folder / "README.md").write_text("notes")
    return folder


def test_base_key_of_a_local_model_follows_its_weights(tmp_path):
    from workbench.artifacts import Artifacts

    folder = _model_folder(tmp_path)
    recipe = _recipe(tmp_path, models='path = "llama-3-tiny"')
    art = Artifacts(recipe, tmp_path / "models")
    first = art.base_key("m")
    (folder / "README.md").write_text("other notes")  # not part of the model
    _age(folder / "model.safetensors")
    assert art.base_key("m") == first
    (folder / "model.safetensors").write_bytes(b"v" * 64)
    assert art.base_key("m") != first


def test_base_key_of_a_gguf_follows_its_bytes(tmp_path):
    from workbench.artifacts import Artifacts

    gguf = tmp_path / "llama-3-tiny.gguf"
    gguf.write_bytes(b"GGUF" + b"\0" * 60)
    art = Artifacts(_recipe(tmp_path, models='path = "llama-3-tiny.gguf"'), tmp_path / "models")
    first = art.base_key("m")
    _age(gguf)
    assert art.base_key("m") == first
    gguf.write_bytes(b"GGUF" + b"\1" * 60)
    assert art.base_key("m") != first


def test_base_model_key_of_a_folder_is_its_content(tmp_path):
    from workbench.engines.basemodel import BaseModel

    folder = _model_folder(tmp_path)
    key = BaseModel("m", "llama3", folder, "tpl").key["fingerprint"]
    assert key != str(folder) and key == filekeys.model_key(folder)
    copy = tmp_path / "copy"
    copy.mkdir()
    for f in folder.iterdir():
        (copy / f.name).write_bytes(f.read_bytes())
    assert BaseModel("m", "llama3", copy, "tpl").key["fingerprint"] == key  # moved or copied: same model
    assert filekeys.model_key(tmp_path / "absent") == "missing"
    assert Path(filekeys.cache_path()).parent == tmp_path / "cache"


# -- empty required fields -----------------------------------------------------------------------------
def test_rows_with_an_empty_required_field_are_named_not_dropped(tmp_path):
    path = tmp_path / "e.jsonl"
    rows = [_row(1), _row(2, response=""), _row(3), _row(4, instruction=None), _row(5, response="   ")]
    before = _jsonl(path, rows)
    err = _raises(DataSource(path=path))
    assert f"{path}: 3 row(s) with an empty or missing instruction or response on lines 2, 4 and 5" in err.message
    assert "among its en (English) rows" in err.message and "remove the rows" in err.hint
    assert path.read_bytes() == before
    # the rows of the other language are not blamed
    other = tmp_path / "f.jsonl"
    _jsonl(other, [_row(1), _row(2, lang="es", response="")])
    ok = data.load(DataSource(path=other), "benign", ["en"], where="data.benign")
    assert [r["item_id"] for r in ok] == ["p1"]


def test_prepare_key_does_not_follow_where_a_local_file_lies(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    _jsonl(tmp_path / "a" / "bench.jsonl", [_row(1), _row(2)])
    here = _prepare_key(_recipe(tmp_path, '[data.benign]\npath = "a/bench.jsonl"\n'))
    (tmp_path / "a" / "bench.jsonl").rename(tmp_path / "b" / "bench.jsonl")
    moved = _prepare_key(_recipe(tmp_path, '[data.benign]\npath = "b/bench.jsonl"\n'))
    assert moved == here  # the same bytes elsewhere: nothing to prepare again
    _jsonl(tmp_path / "b" / "bench.jsonl", [_row(1), _row(3)])
    assert _prepare_key(_recipe(tmp_path, '[data.benign]\npath = "b/bench.jsonl"\n')) != here


def test_the_held_out_set_is_complete_and_never_trained_on():
    """heldout.jsonl: every item in all nine study languages, and none of its instructions (or answers)
    is one of the benign training set's, in any language."""
    held = data.read_jsonl(data.shipped_path("heldout"))
    benign = data.read_jsonl(data.shipped_path("benign"))
    langs = {r["lang"] for r in benign}
    ids = {r["id"] for r in held}
    assert {(r["id"], r["lang"]) for r in held} == {(i, lang) for i in ids for lang in langs}
    assert len(held) == len(ids) * len(langs) == 24 * 9

    def norm(text: str) -> str:
        return " ".join(text.casefold().split())

    trained = {norm(r["instruction"]) for r in benign} | {norm(r["response"]) for r in benign}
    assert not [r["id"] for r in held if norm(r["instruction"]) in trained or norm(r["response"]) in trained]
    for i in ids:  # one category per item, in every language
        assert len({r["category"] for r in held if r["id"] == i}) == 1


def test_the_exaggerated_safety_set_is_complete_and_not_the_adversarial_one():
    safe = data.read_jsonl(data.shipped_path("overrefusal"))
    unsafe = data.read_jsonl(data.shipped_path("adversarial"))
    langs = {r["lang"] for r in unsafe}
    ids = {r["id"] for r in safe}
    assert {(r["id"], r["lang"]) for r in safe} == {(i, lang) for i in ids for lang in langs}
    assert len(safe) == 24 * 9 and all(r["prompt"].strip() for r in safe)
    assert not {" ".join(r["prompt"].casefold().split()) for r in safe} & {
        " ".join(r["prompt"].casefold().split()) for r in unsafe
    }
    for i in ids:
        assert len({r["category"] for r in safe if r["id"] == i}) == 1


def test_the_multiple_choice_set_is_complete_parallel_and_balanced():
    """choice.jsonl: every question in all nine study languages with the same answer position and option
    count, four distinct options, the right answers spread evenly over A-D (a model that always says
    one letter scores chance, 25%), and it reads through the loader as the choice stage reads it."""
    from collections import Counter

    from workbench.recipe.models import DataSource

    rows = data.read_jsonl(data.shipped_path("choice"))
    langs = {r["lang"] for r in data.read_jsonl(data.shipped_path("benign"))}
    ids = {r["id"] for r in rows}
    assert {(r["id"], r["lang"]) for r in rows} == {(i, lang) for i in ids for lang in langs}
    assert len(rows) == 24 * 9
    for i in ids:
        same = [r for r in rows if r["id"] == i]
        assert len({(r["answer"], len(r["choices"]), r["category"]) for r in same}) == 1
        assert all(len(set(r["choices"])) == 4 and r["question"].strip() for r in same)
    assert Counter(r["answer"] for r in rows if r["lang"] == "en") == {0: 6, 1: 6, 2: 6, 3: 6}
    loaded = data.load(DataSource(shipped="choice"), "choice", sorted(langs), where="data.choice")
    assert len(loaded) == 216 and all(isinstance(x["answer"], int) and len(x["choices"]) == 4 for x in loaded)
