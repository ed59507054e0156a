import json

import pytest

from tests.conftest import DATA, RECIPES, run_cli
from workbench.errors import RecipeError
from workbench.plan import cells
from workbench.recipe import load_recipe, recipe_hash

BAD = DATA / "bad_recipes"
EXPECTED = json.loads((BAD / "expected.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", ["demo", "paper", "multijail"])
def test_shipped_recipes_validate(name):
    recipe = load_recipe(RECIPES / f"{name}.toml")
    assert recipe.study.name == name
    assert all(m.family in ("llama3", "qwen3", "gemma3") for m in recipe.models)


def test_demo_recipe_shape():
    r = load_recipe(RECIPES / "demo.toml")
    assert r.models[0].embedded == "gemma3-270m" and r.models[0].align
    assert len(r.languages.finetune) == 3 and "en" in r.languages.finetune
    assert "tl" in r.languages.finetune  # a low-resource language
    assert len(r.languages.evaluate) == 4
    assert len(cells(r)) == 4  # base + one cell per fine-tune language


def test_paper_recipe_grid():
    r = load_recipe(RECIPES / "paper.toml")
    assert sorted(r.languages.finetune) == sorted(["en", "zh", "da", "el", "hi", "ga", "pt", "es", "tl"])
    assert r.training.seeds == [0, 1, 2] and r.training.epochs == [1, 3]
    families = {m.family for m in r.models}
    assert families == {"llama3", "qwen3", "gemma3"}
    # 6 models x (1 base + 9 languages x 3 seeds x 2 epoch counts)
    assert len(cells(r)) == 6 * (1 + 9 * 3 * 2)


def test_quick_profile_is_merged_over_the_recipe():
    full = load_recipe(RECIPES / "demo.toml")
    quick = load_recipe(RECIPES / "demo.toml", quick=True)
    assert quick.languages.finetune == ["es"] and quick.data.evaluation.limit == 20
    assert quick.study.name == "demo-quick"  # its own study: never overwrites the full demo's artifacts
    assert quick.training.epochs == [2] and quick.training.learning_rate == full.training.learning_rate
    assert recipe_hash(quick) != recipe_hash(full)


def test_hash_ignores_comments_and_key_order(tmp_path):
    a = tmp_path / "a.toml"
    b = tmp_path / "b.toml"
    a.write_text(
        '[study]\nname = "x"\n[[models]]\nname = "m"\nembedded = "gemma3-270m"\n'
        '[languages]\nfinetune = ["en"]\nevaluate = ["es"]\n'
    )
    b.write_text(
        '# comment\n[languages]\nevaluate = ["es"]\nfinetune = ["en"]\n[study]\nname = "x"\n'
        '[[models]]\nembedded = "gemma3-270m"\nname = "m"\n'
    )
    assert recipe_hash(load_recipe(a)) == recipe_hash(load_recipe(b))


def test_at_least_twelve_bad_recipe_fixtures():
    assert len(list(BAD.glob("*.toml"))) >= 12
    assert set(EXPECTED) == {p.stem for p in BAD.glob("*.toml")}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_bad_recipe_gives_one_clear_problem(name):
    with pytest.raises(RecipeError) as info:
        load_recipe(BAD / f"{name}.toml")
    problems = info.value.problems
    assert len(problems) == 1, problems
    line = problems[0]
    assert "\n" not in line
    assert line.startswith(str(BAD / f"{name}.toml"))
    for word in EXPECTED[name]:
        assert word in line, f"{word!r} not in {line!r}"


@pytest.mark.parametrize("name", ["unknown_key", "not_toml", "hub_without_permission", "empty"])
def test_cli_validate_bad_recipe_exit_code_and_no_traceback(name):
    proc = run_cli("validate", BAD / f"{name}.toml")
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    errors = [ln for ln in proc.stderr.splitlines() if ln.startswith("error: ")]
    assert len(errors) == 1
    assert EXPECTED[name][0] in errors[0]


def test_several_problems_each_get_a_line(tmp_path):
    p = tmp_path / "many.toml"
    p.write_text(
        '[study]\nname = "x"\n[[models]]\nname = "m"\nembedded = "gemma3-270m"\n'
        '[languages]\nfinetune = ["en"]\nevaluate = ["xx"]\n[training]\nbatch_size = 0\nlerning_rate = 1\n'
    )
    with pytest.raises(RecipeError) as info:
        load_recipe(p)
    text = "\n".join(info.value.problems)
    assert len(info.value.problems) == 3
    assert "languages.evaluate" in text and "training.batch_size" in text and "training.lerning_rate" in text


def test_allow_downloads_flag_grants_permission():
    r = load_recipe(BAD / "hub_without_permission.toml", allow_downloads=True)
    assert r.models[0].hub == "meta-llama/Llama-3.2-1B-Instruct"
    assert r.models[0].family == "llama3"


def test_local_paths_resolve_relative_to_recipe(tmp_path):
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "x.jsonl").write_text('{"instruction": "a", "response": "b", "lang": "en"}\n')
    p = tmp_path / "r.toml"
    p.write_text(
        '[study]\nname = "x"\n[[models]]\nname = "m"\nembedded = "gemma3-270m"\n'
        '[languages]\nfinetune = ["en"]\nevaluate = ["en"]\n[data.benign]\npath = "d/x.jsonl"\n'
    )
    r = load_recipe(p)
    assert r.data.benign.path == (tmp_path / "d" / "x.jsonl").resolve()
