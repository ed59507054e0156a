import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from tests.conftest import RECIPES, ROOT, run_cli
from workbench import registry
from workbench.cli import app
from workbench.recipe import load_recipe

runner = CliRunner()
HEAVY = ("torch", "transformers", "unsloth", "llama_cpp", "datasets", "peft", "trl", "textual")


def _commands():
    import typer.main

    group = typer.main.get_command(app)
    return group, sorted(group.commands)


def test_every_command_has_help_text():
    group, names = _commands()
    assert {"validate", "plan", "status", "doctor", "init", "demo", "run"} <= set(names)
    for name in names:
        cmd = group.commands[name]
        assert cmd.help and len(cmd.help.strip()) > 15, f"command {name} lacks help text"
        for param in cmd.params:
            if param.name not in ("help",) and getattr(param, "param_type_name", "") == "option":
                assert param.help, f"option {param.name} of {name} lacks help text"


@pytest.mark.parametrize("args", [["--help"], ["validate", "--help"], ["run", "--help"]])
def test_help_imports_no_heavy_library(args):
    code = (
        "import sys\n"
        "from workbench.cli import app\n"
        f"try:\n    app({args!r})\nexcept SystemExit:\n    pass\n"
        f"bad = [m for m in {HEAVY!r} if m in sys.modules]\n"
        "print('HEAVY', bad)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert "HEAVY []" in proc.stdout, proc.stdout + proc.stderr


def test_validate_imports_no_heavy_library():
    code = (
        "import sys\nfrom workbench.recipe import load_recipe\n"
        f"load_recipe({str(RECIPES / 'demo.toml')!r})\n"
        f"print('HEAVY', [m for m in {HEAVY!r} if m in sys.modules])\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert "HEAVY []" in proc.stdout, proc.stdout + proc.stderr


def test_version_and_console_script():
    proc = run_cli("--version")
    assert proc.returncode == 0 and proc.stdout.startswith("workbench ")


def test_validate_ok():
    result = runner.invoke(app, ["validate", str(RECIPES / "demo.toml")])
    assert result.exit_code == 0
    assert "4 cells" in result.output


def test_init_writes_a_recipe_that_validates(tmp_path):
    result = runner.invoke(app, ["init", "my-study", "--dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    recipe = load_recipe(tmp_path / "my-study.toml")
    assert recipe.study.name == "my-study"
    again = runner.invoke(app, ["init", "my-study", "--dir", str(tmp_path)])
    assert again.exit_code == 1 and "already exists" in again.output
    bad = runner.invoke(app, ["init", "My Study", "--dir", str(tmp_path)])
    assert bad.exit_code == 2


def test_plan_json_lists_cells_stages_and_estimates():
    result = runner.invoke(app, ["plan", str(RECIPES / "demo.toml"), "--format", "json"])
    assert result.exit_code == 0, result.output
    plan = json.loads(result.output)
    assert [c["cell"] for c in plan["cells"]][0] == "gemma3-270m/base"
    assert plan["cells"][0]["stages"][0] == "align"
    stages = {e["stage"]: e for e in plan["estimates"]}
    # every stage the demo runs has an estimate; the demo translates nothing (no [translation])
    translating = {s.name for s in registry.stages() if "translat" in s.description}
    assert len(translating) == 2 and set(stages) == set(registry.names()) - translating
    assert stages["generate"]["units"] == 4 * 45 * 4  # 4 GGUFs x 45 prompts x 4 languages
    assert all(e["seconds"] and e["seconds"] > 0 for e in plan["estimates"])
    bigger = json.loads(runner.invoke(app, ["plan", str(RECIPES / "paper.toml"), "--format", "json"]).output)
    big = {e["stage"]: e for e in bigger["estimates"]}
    assert big["finetune"]["seconds"] > stages["finetune"]["seconds"] * 100


def test_status_before_anything_ran(workspace):
    result = runner.invoke(app, ["status", str(RECIPES / "demo.toml"), "--format", "json"])
    assert result.exit_code == 0, result.output
    grid = json.loads(result.output)
    assert grid["study_stages"]["prepare"]["status"] == "pending"
    assert grid["cells"][0]["stages"]["align"]["status"] == "pending"
    assert grid["cells"][1]["stages"]["align"]["status"] == "-"


def test_doctor_reports_each_check():
    result = runner.invoke(app, ["doctor", "--format", "json"])
    checks = json.loads(result.output)
    names = {c["name"] for c in checks}
    assert {"python", "torch", "llama.cpp", "converter", "embedded", "disk"} <= names
    assert all(c["level"] in ("ok", "warning", "problem") for c in checks)
    assert result.exit_code == (1 if any(c["level"] == "problem" for c in checks) else 0)


def test_doctor_flags_missing_assets(tmp_path):
    result = runner.invoke(app, ["doctor", "--format", "json"], env={"WORKBENCH_CACHE": str(tmp_path)})
    checks = {c["name"]: c for c in json.loads(result.output)}
    assert checks["embedded"]["level"] == "problem" and "make demo" in checks["embedded"]["fix"]
    assert checks["converter"]["level"] == "problem"
    assert result.exit_code == 1


def test_run_unknown_stage_is_a_clear_error(workspace):
    result = runner.invoke(app, ["run", str(RECIPES / "demo.toml"), "--only", "finetun"])
    assert result.exit_code == 2
    assert "did you mean 'finetune'" in result.output


def test_languages_lists_the_study_languages():
    result = runner.invoke(app, ["languages"])
    for code in ("en", "zh", "da", "el", "hi", "ga", "pt", "es", "tl", "sw", "jv"):
        assert any(line.startswith(f"{code} ") for line in result.output.splitlines())


def test_every_recipe_key_is_documented():
    from pydantic import BaseModel

    from workbench.recipe.load import _model_in
    from workbench.recipe.models import Recipe

    doc = (ROOT / "docs" / "recipes.md").read_text(encoding="utf-8")
    missing = []

    def walk(model: type[BaseModel]):
        for name, field in model.model_fields.items():
            if f"`{name}`" not in doc and f"[{name}" not in doc and f"{name}]" not in doc:
                missing.append(f"{model.__name__}.{name}")
            inner = _model_in(field.annotation)
            if inner is not None:
                walk(inner)

    walk(Recipe)
    assert not missing, f"undocumented recipe keys: {missing}"
