"""workbench.preflight: every input problem of a recipe at once, one line each, naming what and where,
without touching the inputs and without heavy imports."""

import json
import subprocess
import sys

import pytest

from tests.conftest import RECIPES, ROOT
from workbench import data, ggufmeta, preflight
from workbench.recipe import load_recipe

HEAVY = ("torch", "transformers", "unsloth", "llama_cpp", "datasets", "peft", "trl", "textual", "gguf")

BASE = '[study]\nname = "pf"\n'
EMBEDDED = '[[models]]\nname = "m"\nembedded = "gemma3-270m"\n'


def _recipe(tmp_path, body, *, models=EMBEDDED, langs=('["en"]', '["en"]')):
    path = tmp_path / "r.toml"
    path.write_text(f"{BASE}{models}[languages]\nfinetune = {langs[0]}\nevaluate = {langs[1]}\n{body}")
    return load_recipe(path), path


def _snapshot(folder):
    return {p.name: p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _problem(problems, *needles):
    hits = [p for p in problems if all(n in p for n in needles)]
    assert hits, f"no problem with {needles} in {problems}"
    assert "\n" not in hits[0] and "; hint: " in hits[0]
    return hits[0]


@pytest.mark.parametrize("name", ["demo", "multijail", "paper"])
def test_the_shipped_recipes_have_no_problems(name):
    recipe = load_recipe(RECIPES / f"{name}.toml", allow_downloads=True)
    assert preflight.problems(recipe) == []


def test_align_languages_default_is_a_warning(tmp_path):
    text = (RECIPES / "demo.toml").read_text(encoding="utf-8")
    unset = "\n".join(line for line in text.splitlines() if not line.startswith('languages = ["en", "es", "tl"'))
    (tmp_path / "demo.toml").write_text(unset, encoding="utf-8")
    warnings = preflight.warnings(load_recipe(tmp_path / "demo.toml"))
    line = next(w for w in warnings if "align.languages" in w)
    assert "demo.toml" in line and "English plus the evaluation languages (en, es, tl, zh)" in line
    assert not any("align.languages" in w for w in preflight.warnings(load_recipe(RECIPES / "demo.toml")))
    assert "hint:" in line
    assert not any(
        "align.languages is not set" in w for w in preflight.warnings(load_recipe(RECIPES / "multijail.toml"))
    )


def test_every_missing_language_is_reported_in_one_go(tmp_path):
    recipe, path = _recipe(
        tmp_path, "", models=EMBEDDED + "align = true\n", langs=('["en", "ko"]', '["en", "th", "ko"]')
    )
    problems = preflight.problems(recipe)
    assert len(problems) == 3
    _problem(problems, str(path), "data.benign", "'benign'", "ko (Korean)", "languages.finetune")
    _problem(problems, "data.evaluation", "'adversarial'", "th (Thai), ko (Korean)", "languages.evaluate")
    line = _problem(problems, "data.alignment", "th (Thai), ko (Korean)", "align.languages")
    assert "it has da, el, en" in line


def test_a_shipped_set_used_for_the_wrong_kind(tmp_path):
    recipe, _ = _recipe(tmp_path, '[data.benign]\nshipped = "adversarial"\n')
    _problem(preflight.problems(recipe), "data.benign", "'adversarial' lacks response")


def _write_jsonl(path, rows):
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


def test_local_file_columns_languages_and_duplicates(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    _write_jsonl(data / "q.jsonl", [{"question": "q", "lang": "en"}])
    _write_jsonl(data / "ok.jsonl", [{"prompt": "p", "lang": "en"}])
    _write_jsonl(data / "dup.jsonl", [{"id": 1, "prompt": "p", "lang": "en"}, {"id": 1, "prompt": "r", "lang": "en"}])
    before = _snapshot(data)
    recipe, _ = _recipe(
        tmp_path,
        '[data.benign]\npath = "data/q.jsonl"\n[data.evaluation]\npath = "data/ok.jsonl"\n',
        langs=('["en"]', '["en", "es"]'),
    )
    problems = preflight.problems(recipe)
    _problem(problems, "data.benign", "q.jsonl", "lacks instruction (column 'instruction')", "it has: lang, question")
    _problem(problems, "data.evaluation", "ok.jsonl", "no rows in es (Spanish)")
    recipe, _ = _recipe(tmp_path, '[data.evaluation]\npath = "data/dup.jsonl"\n')
    _problem(preflight.problems(recipe), "dup.jsonl", "id '1' appears on lines 1 and 2", "unique")
    assert _snapshot(data) == before


def test_local_file_not_utf8_empty_and_bad_json(tmp_path):
    (tmp_path / "latin.jsonl").write_bytes('{"prompt": "café", "lang": "en"}\n'.encode("latin-1"))
    (tmp_path / "empty.csv").write_bytes(b"")
    (tmp_path / "broken.jsonl").write_text('{"prompt": "p", "lang": "en"}\n{oops\n')
    before = _snapshot(tmp_path)
    for name, needle in [
        ("latin.jsonl", "not UTF-8 text on line 1"),
        ("empty.csv", "no rows (the file is empty)"),
        ("broken.jsonl", "broken.jsonl:2: not valid JSON"),
    ]:
        recipe, _ = _recipe(tmp_path, f'[data.evaluation]\npath = "{name}"\n')
        _problem(preflight.problems(recipe), "data.evaluation", name, needle)
    assert {k: v for k, v in _snapshot(tmp_path).items() if k != "r.toml"} == {
        k: v for k, v in before.items() if k != "r.toml"
    }


def test_csv_and_parquet_columns_are_checked(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    (tmp_path / "b.csv").write_text("instruction,answer,lang\nq,a,en\n")
    pq.write_table(pa.table({"prompt": ["p"], "language": ["en"]}), tmp_path / "e.parquet")
    recipe, _ = _recipe(
        tmp_path,
        '[data.benign]\npath = "b.csv"\n[data.evaluation]\npath = "e.parquet"\n'
        '[data.evaluation.fields]\nlang = "language"\n',
    )
    problems = preflight.problems(recipe)
    assert len(problems) == 1
    _problem(problems, "data.benign", "b.csv", "lacks response (column 'response')")


def test_a_huge_file_is_sampled_and_a_gap_beyond_the_sample_is_a_warning(tmp_path, monkeypatch):
    rows = [{"prompt": f"p{i}", "lang": "en"} for i in range(200)] + [{"prompt": "x", "lang": "es"}]
    _write_jsonl(tmp_path / "big.jsonl", rows)
    recipe, _ = _recipe(tmp_path, '[data.evaluation]\npath = "big.jsonl"\n', langs=('["en"]', '["en", "es"]'))
    assert preflight.problems(recipe) == []
    monkeypatch.setattr(data, "SCAN_BYTES", 1024)
    data._tables.clear()
    assert preflight.problems(recipe) == []
    line = next(w for w in preflight.warnings(recipe) if "big.jsonl" in w)
    assert "no rows in es (Spanish) in its first" in line and "prepare reads the rest" in line


def test_fewer_rows_than_examples_per_language_is_a_warning(tmp_path):
    recipe, _ = _recipe(tmp_path, "[training]\nexamples_per_language = 500\n")
    line = next(w for w in preflight.warnings(recipe) if "examples_per_language" in w)
    assert "data.benign" in line and "en (" in line


# -- models ------------------------------------------------------------------------------------------
def _folder(tmp_path, *, config=True, weights=True):
    folder = tmp_path / "llama-3-local"
    folder.mkdir()
    if config:
        (folder / "config.json").write_text('{"model_type": "llama"}')
    if weights:
        (folder / "model.safetensors").write_bytes(b"\0" * 16)
    return folder


def test_a_model_folder_without_config_or_weights(tmp_path):
    models = '[[models]]\nname = "m"\npath = "llama-3-local"\n'
    folder = _folder(tmp_path, config=False)
    recipe, path = _recipe(tmp_path, "", models=models)
    line = _problem(preflight.problems(recipe), str(path), "models[0].path", str(folder), "no config.json")
    assert "save_pretrained" in line
    (folder / "config.json").write_text("{not json")
    data._tables.clear()
    _problem(preflight.problems(recipe), "models[0].path", "config.json: not valid JSON")
    (folder / "config.json").write_text('{"model_type": "llama"}')
    (folder / "model.safetensors").unlink()
    _problem(preflight.problems(recipe), "models[0].path", "no weight files")
    (folder / "model.safetensors").write_bytes(b"\0" * 16)
    assert preflight.problems(recipe) == []


def _gguf(path, *, tensors=2):
    import gguf
    import numpy as np

    w = gguf.GGUFWriter(str(path), "llama")
    w.add_block_count(1)
    w.add_token_list([f"t{i}" for i in range(50)])
    for i in range(tensors):
        w.add_tensor(f"w{i}", np.ones((8, 8), dtype=np.float32))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return path.read_bytes()


def test_gguf_checks(tmp_path):
    good = tmp_path / "good.gguf"
    blob = _gguf(good)
    assert preflight.gguf_problem(good) is None
    cases = {
        "html.gguf": (b"<!DOCTYPE html><html>login</html>", "not a GGUF file (it is an HTML page"),
        "lfs.gguf": (b"version https://git-lfs.github.com/spec/v1\noid sha256:00\n", "Git LFS pointer"),
        "empty.gguf": (b"", "not a GGUF file (it is empty)"),
        "short.gguf": (blob[:12], "truncated: 12 bytes"),
        "header.gguf": (blob[:200], "truncated: its header"),
        "data.gguf": (blob[:-10], f"truncated: its tensors need {len(blob)} bytes, the file has {len(blob) - 10}"),
        "v9.gguf": (blob[:4] + (9).to_bytes(4, "little") + blob[8:], "GGUF version 9"),
    }
    for name, (content, needle) in cases.items():
        (tmp_path / name).write_bytes(content)
        problem = preflight.gguf_problem(tmp_path / name)
        assert problem and needle in problem and name in problem, (name, problem)


def test_a_broken_gguf_named_by_a_recipe(tmp_path):
    blob = _gguf(tmp_path / "full.gguf")
    (tmp_path / "llama-3-cut.gguf").write_bytes(blob[: len(blob) // 2])
    (tmp_path / "judge.gguf").write_bytes(b"PK\x03\x04 not a gguf")
    judge = '[[judges]]\nname = "j"\nkind = "llm"\npreset = "sorry-bench"\nmodel = "judge.gguf"\n'
    recipe, _ = _recipe(tmp_path, judge, models='[[models]]\nname = "m"\npath = "llama-3-cut.gguf"\n')
    before = _snapshot(tmp_path)
    problems = preflight.problems(recipe)
    assert len(problems) == 2
    _problem(problems, "models[0].path", "llama-3-cut.gguf", "truncated", "download or convert it again")
    _problem(problems, "judges[0].model", "judge.gguf", "zip archive")
    assert _snapshot(tmp_path) == before


def test_ggml_block_sizes_match_the_gguf_package():
    from gguf import GGML_QUANT_SIZES, GGMLQuantizationType

    for type_id, sizes in ggufmeta.GGML_BLOCKS.items():
        assert GGML_QUANT_SIZES[GGMLQuantizationType(type_id)] == sizes, type_id


def test_the_embedded_model_is_a_whole_gguf():
    from workbench import paths

    model = paths.embedded_model_path()
    if not model.is_file():
        pytest.skip("the embedded model is not assembled here")
    assert preflight.gguf_problem(model) is None


def test_preflight_imports_no_heavy_library():
    code = (
        "import sys, time\nfrom workbench.recipe import load_recipe\nfrom workbench import preflight\n"
        f"r = load_recipe({str(RECIPES / 'demo.toml')!r})\n"
        "t = time.time(); preflight.problems(r); preflight.warnings(r)\n"
        f"print('HEAVY', [m for m in {HEAVY!r} if m in sys.modules], 'SECONDS', time.time() - t)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert "HEAVY []" in proc.stdout, proc.stdout + proc.stderr
    assert float(proc.stdout.split("SECONDS")[1]) < 2.0


def test_held_out_languages_it_lacks_are_a_warning_not_a_problem(tmp_path):
    recipe, path = _recipe(tmp_path, "", langs=('["en"]', '["en", "th"]'))
    assert not any("data.heldout" in p for p in preflight.problems(recipe))
    (line,) = [w for w in preflight.warnings(recipe) if "data.heldout" in w]
    assert "th (Thai)" in line and "en" not in line.split("no rows in")[1].split(":")[0]
    assert "does not measure those languages" in line and "; hint: " in line
    off, _ = _recipe(tmp_path, "[capability]\nenabled = false\n", langs=('["en"]', '["en", "th"]'))
    assert not any("data.heldout" in w for w in preflight.warnings(off))
    none, _ = _recipe(tmp_path, "", langs=('["en"]', '["th"]'))  # nothing at all to measure: a problem
    _problem(preflight.problems(none), "data.heldout", "no rows in any evaluation language")
    bad, _ = _recipe(tmp_path, '[data.heldout]\nshipped = "adversarial"\n')  # no instruction/response columns
    _problem(preflight.problems(bad), "data.heldout", "'adversarial'")
