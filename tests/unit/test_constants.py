"""Each constant is written once: the pinned versions, the end-of-turn tokens and the study languages.

A second copy of a constant drifts: setup.sh once named a version file that did not exist, and a
redefined language tuple silently disagreed with the real one. These tests read the source itself.
"""

import ast
import re
import subprocess
from pathlib import Path

import pytest

from workbench import languages, paths
from workbench.engines import chat

ROOT = Path(__file__).resolve().parents[2]
PY_SOURCES = sorted(ROOT.glob("workbench/**/*.py"))
SHELL_SOURCES = sorted(ROOT.glob("scripts/*.sh")) + [ROOT / "Makefile"]
# The built-in chat templates are Jinja text that must spell out their special tokens (a template
# cannot refer to a Python constant), so string literals inside these assignments do not count as
# definitions. Recipe templates (workbench/recipe/templates/*.toml) are not scanned for the same
# reason: a recipe may carry its own Jinja chat_template.
TEMPLATE_ASSIGNMENTS = {"workbench/engines/chat.py": {"GEMMA3", "LLAMA3", "QWEN3"}}
# Files whose version-like text is an example of stored data, not a pin: a migration's SQL comment
# shows what a recorded environment looks like, and applied migrations must never be edited.
VERSION_EXAMPLES = {"workbench/store/migrations.py"}


def _rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _template_lines(path: Path, tree: ast.Module) -> set[int]:
    """Source lines of the allow-listed Jinja template assignments in ``path``."""
    names = TEMPLATE_ASSIGNMENTS.get(_rel(path), set())
    lines: set[int] = set()
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id in names for t in node.targets):
            lines.update(range(node.lineno, node.end_lineno + 1))
    return lines


def _string_literal_hits(needle: str) -> list[str]:
    """``file:line`` of every string literal (outside template assignments) containing ``needle``."""
    hits = []
    for path in PY_SOURCES:
        tree = _tree(path)
        allowed = _template_lines(path, tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and needle in node.value:
                if node.lineno not in allowed:
                    hits += [f"{_rel(path)}:{node.lineno}"] * node.value.count(needle)
    for path in SHELL_SOURCES:
        for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            hits += [f"{_rel(path)}:{i}"] * line.count(needle)
    return hits


def _version_hits(version: str, files) -> list[str]:
    pattern = re.compile(rf"(?<![\w.]){re.escape(version)}(?![\w.])")
    return [
        f"{_rel(path)}:{i}"
        for path in files
        for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if pattern.search(line)
    ]


@pytest.mark.parametrize("package", ["llama-cpp-python", "torch"])
def test_pinned_versions_are_written_only_in_pyproject(package):
    version = paths.pinned_version(package)
    sources = [p for p in PY_SOURCES + SHELL_SOURCES if _rel(p) not in VERSION_EXAMPLES]
    assert _version_hits(version, sources) == [], (
        f"{package} {version} is written in the source; read it from pyproject.toml "
        "(workbench.paths.pinned_version, or `scripts/setup.sh --versions` in shell)"
    )
    pyproject = ROOT / "pyproject.toml"
    assert len(_version_hits(version, [pyproject])) == 1
    assert f'"{package}=={version}"' in pyproject.read_text(encoding="utf-8")


def test_setup_script_installs_the_versions_the_workbench_expects():
    out = subprocess.run(
        ["bash", str(ROOT / "scripts" / "setup.sh"), "--versions"], capture_output=True, text=True, check=True
    ).stdout
    found = dict(line.split("=", 1) for line in out.split())
    assert found == {"TORCH_VERSION": paths.TORCH_VERSION, "LLAMA_CPP_VERSION": paths.LLAMA_CPP_VERSION}


@pytest.mark.parametrize("token", ["<end_of_turn>", "<|eot_id|>", "<|im_end|>"])
def test_each_end_of_turn_token_is_written_once(token):
    assert token in chat.END_OF_TURN.values()
    hits = _string_literal_hits(token)
    assert len(hits) == 1, f"{token} is written in {hits}; use workbench.engines.chat.END_OF_TURN"
    path, line = hits[0].split(":")
    assert path == "workbench/engines/chat.py"
    assert "END_OF_TURN = " in (ROOT / path).read_text(encoding="utf-8").splitlines()[int(line) - 1]


def test_the_study_languages_are_listed_once():
    study = set(languages.STUDY_LANGUAGES)
    assert len(study) == len(languages.STUDY_LANGUAGES) == 9
    hits = []
    for path in PY_SOURCES:
        for node in ast.walk(_tree(path)):
            if isinstance(node, (ast.Tuple, ast.List, ast.Set)) and len(node.elts) == len(study):
                values = {e.value for e in node.elts if isinstance(e, ast.Constant)}
                if values == study:
                    hits.append(f"{_rel(path)}:{node.lineno}")
    assert len(hits) == 1, f"the study languages are listed in {hits}; import workbench.languages.STUDY_LANGUAGES"
    assert hits[0].startswith("workbench/languages.py:")
