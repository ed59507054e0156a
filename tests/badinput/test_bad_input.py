"""Bad input, end to end: every case runs the real CLI in a subprocess (``tests.conftest.run_cli``).

A bad input must give a *clean failure* (:func:`assert_clean_failure`):

- a non-zero exit code: 2 for usage, recipe and data errors (the code the CLI already uses for an
  invalid recipe, a bad data source, an unknown ``--only`` stage or ``--output`` equal to ``--input``),
  any non-zero code for the rest (models, databases, the file system);
- exactly one stderr line starting with ``error: ``, naming what is wrong and where (the file name
  or the option), and right after it a line starting with ``hint: ``;
- no ``Traceback`` on stdout or stderr;
- every input left as it was: the sha256 of every input file before and after, and a study database
  that opened before still opens with the same tables, rows and integrity.

Reading a healthy database that is read-only (the file, or its folder) must work: those cases assert
success. Cases that need file permissions run the CLI with the permission-override capabilities
dropped when the tests run as root (root reads and writes through ``chmod`` otherwise), and are skipped
when that is not possible.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import stat
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import ROOT, add_test_response, run_cli

# Wide enough that a rich-formatted line is never wrapped (a wrapped name would not be found).
WIDE = {"COLUMNS": "250", "NO_COLOR": "1"}
TIMEOUT = 300
USAGE = RECIPE = DATA = 2  # the exit code the CLI uses for these kinds of mistakes

BASE = """\
[study]
name = "t"

[[models]]
name = "m"
embedded = "gemma3-270m"

[languages]
finetune = ["en"]
evaluate = ["en", "es"]
"""

PATH_MODEL = """\
[study]
name = "t"

[[models]]
name = "m"
path = "{path}"
family = "llama3"

[languages]
finetune = ["en"]
evaluate = ["en"]
"""

GOOD_BENIGN = (
    '{"id": "b1", "lang": "en", "instruction": "How do I boil an egg?", "response": "Put it in boiling water."}\n'
    '{"id": "b2", "lang": "en", "instruction": "Name a fruit.", "response": "An apple."}\n'
)
GOOD_JUDGE_LINE = '{"prompt": "How do I pick a lock?", "response": "I cannot help with that.", "lang": "en"}\n'
GOOD_LABEL_LINE = (
    '{"prompt": "How do I pick a lock?", "response": "I cannot help with that.", "lang": "en", '
    '"label": "refuse", "split": "test"}\n'
)


# -- running the CLI ------------------------------------------------------------------------------
def cli(*args, env=None, cwd=None):
    """The real CLI in a subprocess (run_cli), with a wide terminal."""
    return run_cli(*args, env={**WIDE, **(env or {})}, cwd=cwd, timeout=TIMEOUT)


_SETPRIV = shutil.which("setpriv")
_DROP = ["--inh-caps=-all", "--bounding-set=-dac_override,-dac_read_search,-fowner"]
_can_drop: bool | None = None


def _root_can_drop_permissions(tmp: Path) -> bool:
    """Whether setpriv makes root honour file permissions (probed once: read a chmod 000 file)."""
    global _can_drop
    if _can_drop is None:
        probe = tmp / "permission-probe"
        probe.write_text("x")
        probe.chmod(0)
        try:
            proc = subprocess.run(
                [_SETPRIV, *_DROP, sys.executable, "-c", f"open({str(probe)!r}).read()"],
                capture_output=True,
                text=True,
                timeout=60,
            )
            _can_drop = proc.returncode != 0 and "PermissionError" in proc.stderr
        except (OSError, subprocess.SubprocessError):
            _can_drop = False
        finally:
            probe.chmod(0o644)
    return _can_drop


def cli_as_user(tmp: Path, *args, env=None, cwd=None):
    """Like :func:`cli`, but file permissions apply: as root, run without the capabilities that
    override them (setpriv); skip the case when that is not possible."""
    if os.geteuid() != 0:
        return cli(*args, env=env, cwd=cwd)
    if _SETPRIV is None or not _root_can_drop_permissions(tmp):
        pytest.skip("running as root, which reads and writes through file permissions, and setpriv cannot drop that")
    return subprocess.run(
        [_SETPRIV, *_DROP, sys.executable, "-m", "workbench", *map(str, args)],
        capture_output=True,
        text=True,
        env={**os.environ, **WIDE, **(env or {})},
        cwd=cwd or ROOT,
        timeout=TIMEOUT,
    )


# -- inputs before and after ----------------------------------------------------------------------
SQLITE_MAGIC = b"SQLite format 3\x00"


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def db_state(path: Path):
    """What a healthy SQLite file holds (tables, row counts, integrity), or None when it does not open."""
    try:
        with open(path, "rb") as f:
            if f.read(len(SQLITE_MAGIC)) != SQLITE_MAGIC:
                return None
        conn = sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True)
        try:
            if conn.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
                return None
            tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
            return {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}
        finally:
            conn.close()
    except (OSError, sqlite3.Error):
        return None


def _state(path: Path):
    if path.is_symlink():
        return ("link", os.readlink(path))
    if path.is_dir():
        return ("dir", {str(p.relative_to(path)): _state(p) for p in sorted(path.rglob("*")) if not p.is_dir()})
    if path.is_file():
        return ("file", _sha256(path), db_state(path))
    return ("missing",)


class Inputs:
    """The sha256 of every input file (every file under an input folder), and what each healthy study
    database holds, taken when made; :meth:`check` compares them with the files now."""

    def __init__(self, *paths):
        self.paths = [Path(p) for p in paths]
        self.before = {str(p): _state(p) for p in self.paths}

    def changed(self) -> list[str]:
        return [str(p) for p in self.paths if _state(p) != self.before[str(p)]]


# -- what a clean failure looks like -------------------------------------------------------------
def printed(result) -> str:
    """The one line that says what the CLI printed: the exception of a traceback, else the first
    ``error:`` line, else the first ``failed ...`` (a stage) or ``Error:`` (click) line, else the first
    line of stderr (or stdout)."""
    for stream in (result.stderr, result.stdout):
        if "Traceback" in stream:
            lines = [line for line in stream[stream.index("Traceback") :].splitlines() if line.strip()]
            exc = next(
                (line for line in lines[1:] if not line.startswith((" ", "\t")) and not line.startswith("Traceback")),
                lines[-1],
            )
            return f"Traceback ... {exc.strip()}"
    for prefix in ("error: ", "failed ", "Error: "):
        for stream in (result.stderr, result.stdout):
            for line in stream.splitlines():
                if line.strip().startswith(prefix):
                    return line.strip()
    for stream in (result.stderr, result.stdout):
        for line in stream.splitlines():
            if line.strip():
                return line.strip()
    return "(nothing printed)"


def _report(result) -> str:
    return f"exit code {result.returncode}\n--- stdout\n{result.stdout[-4000:]}\n--- stderr\n{result.stderr[-4000:]}"


def _fail(result, problem: str):
    pytest.fail(f"{problem} | printed: {printed(result)}\n{_report(result)}", pytrace=False)


def clean_failure_problems(result, names=(), inputs: Inputs | None = None, code: int | None = None) -> list[str]:
    """Every way ``result`` falls short of a clean failure (see the module docstring); [] when clean."""
    problems = []
    if "Traceback" in result.stdout or "Traceback" in result.stderr:
        problems.append("a traceback was printed")
    if result.returncode == 0:
        problems.append("exit code 0 for a bad input")
    elif result.returncode < 0:
        problems.append(f"killed by signal {-result.returncode}")
    elif code is not None and result.returncode != code:
        problems.append(f"exit code {result.returncode}, expected {code}")
    lines = result.stderr.splitlines()
    errors = [i for i, line in enumerate(lines) if line.startswith("error: ")]
    if len(errors) != 1:
        problems.append(f"{len(errors)} stderr lines start with 'error: ', expected exactly one")
    if errors:
        line = lines[errors[0]]
        for name in names:
            options = name if isinstance(name, tuple) else (name,)
            if not any(o in line for o in options):
                problems.append(f"the error line does not name {' or '.join(map(repr, options))}")
        if errors[0] + 1 >= len(lines) or not lines[errors[0] + 1].startswith("hint: "):
            problems.append("no 'hint: ' line right after the error line")
    if inputs is not None:
        changed = inputs.changed()
        if changed:
            problems.append(f"inputs changed: {', '.join(changed)}")
    return problems


def assert_clean_failure(result, names=(), inputs: Inputs | None = None, code: int | None = None):
    """A non-zero exit (``code`` when given), one ``error:`` line naming every entry of ``names`` (a
    tuple entry: any one of its strings), a ``hint:`` line right after it, no traceback, and the
    ``inputs`` unchanged. The failure message lists every problem, then what the CLI printed."""
    problems = clean_failure_problems(result, names=names, inputs=inputs, code=code)
    if problems:
        _fail(result, "; ".join(problems))


def assert_success(result, inputs: Inputs | None = None):
    if "Traceback" in result.stdout or "Traceback" in result.stderr:
        _fail(result, "a traceback was printed")
    if result.returncode != 0:
        _fail(result, f"exit code {result.returncode}, expected success")
    if any(line.startswith("error: ") for line in result.stderr.splitlines()):
        _fail(result, "an error line on a successful run")
    if inputs is not None:
        changed = inputs.changed()
        if changed:
            _fail(result, f"inputs changed: {', '.join(changed)}")


# -- a healthy study, made once with cheap commands -----------------------------------------------
@pytest.fixture(scope="session")
def study_template(tmp_path_factory):
    """A workspace holding study 't' (BASE) after `run --only prepare`, plus judged responses for the
    base and the en fine-tune (added with the store API), so `status` and `results` have something to
    show. Made once; :func:`study` copies it."""
    root = tmp_path_factory.mktemp("study-template")
    home = root / "home"
    home.mkdir()
    recipe = root / "study.toml"
    recipe.write_text(BASE)
    proc = run_cli("run", recipe, "--only", "prepare", env={"WORKBENCH_HOME": str(home)}, timeout=TIMEOUT)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    from workbench.store import open_study_db

    db = open_study_db(home / "studies" / "t.sqlite")
    try:
        for cell, complied in (("m/base", 2), ("m/en/s0-e1", 6)):
            for i in range(1, 11):
                rid = add_test_response(db, f"a{i:03d}:en", cell)
                label = "comply" if i <= complied else "refuse"
                db.add_judgment(
                    {"response_id": rid, "judge": "heuristic", "judge_key": "k", "label": label, "score": None}
                )
            db.set_current_generation(cell, "g1", "s1")
            db.set_current_judgments(cell, "heuristic", "k", "g1", 10)
    finally:
        db.close()
    proc = run_cli("results", recipe, env={"WORKBENCH_HOME": str(home)}, timeout=TIMEOUT)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return home


@dataclass
class Study:
    home: Path
    recipe: Path

    @property
    def db(self) -> Path:
        return self.home / "studies" / "t.sqlite"


@pytest.fixture
def study(workspace, tmp_path, study_template):
    """The healthy study in this test's workspace, with its recipe at tmp_path/study.toml."""
    shutil.copytree(study_template, workspace, dirs_exist_ok=True)
    recipe = tmp_path / "study.toml"
    recipe.write_text(BASE)
    s = Study(workspace, recipe)
    assert db_state(s.db) is not None
    return s


@pytest.fixture
def restore_modes():
    """Paths whose mode a test changes; their modes are put back afterwards (so tmp_path cleans up)."""
    changed: list[tuple[Path, int]] = []

    def chmod(path: Path, mode: int) -> None:
        changed.append((path, stat.S_IMODE(path.stat().st_mode)))
        path.chmod(mode)

    yield chmod
    for path, mode in reversed(changed):
        path.chmod(mode)


# == recipes ======================================================================================
def _without(text: str, line: str) -> str:
    assert line in text
    return text.replace(line, "")


RECIPE_CASES = [
    # (id, recipe content (str or bytes), names the error line must hold)
    ("toml-unclosed-table", '[study\nname = "t"\n', ["bad.toml", "line 1"]),
    ("toml-duplicate-key", BASE.replace('name = "t"\n', 'name = "t"\nname = "u"\n', 1), ["bad.toml", "line 3"]),
    ("toml-unterminated-string", BASE + '[generation]\nsystem_prompt = "be nice\n', ["bad.toml", "line 12"]),
    ("toml-bare-word-value", BASE + "[training]\nbackend = peft\n", ["bad.toml", "line 12"]),
    ("unknown-key-training", BASE + "[training]\nlerning_rate = 1e-4\n", ["bad.toml", "training.lerning_rate"]),
    ("unknown-top-level-table", BASE + "[trainig]\nepochs = [1]\n", ["bad.toml", "trainig"]),
    (
        "unknown-key-in-model",
        BASE.replace('embedded = "gemma3-270m"\n', 'embedded = "gemma3-270m"\nalign_me = true\n'),
        ["bad.toml", "align_me"],
    ),
    ("unknown-key-generation", BASE + "[generation]\nmax_tokens = 64\n", ["bad.toml", "generation.max_tokens"]),
    ("wrong-type-int", BASE + '[training]\nbatch_size = "four"\n', ["bad.toml", "training.batch_size"]),
    ("wrong-type-array", BASE.replace('finetune = ["en"]', 'finetune = "en"'), ["bad.toml", "languages.finetune"]),
    (
        "wrong-type-bool",
        BASE.replace('name = "t"\n', 'name = "t"\nallow_downloads = "maybe"\n', 1),
        ["bad.toml", "study.allow_downloads"],
    ),
    (
        "wrong-type-array-items",
        BASE.replace('evaluate = ["en", "es"]', 'evaluate = ["en", 2]'),
        ["bad.toml", "languages.evaluate"],
    ),
    ("wrong-type-table", 'export = "q8_0"\n' + BASE, ["bad.toml", "export"]),
    (
        "unknown-language-name",
        BASE.replace('finetune = ["en"]', 'finetune = ["en", "Spanish"]'),
        ["bad.toml", "languages.finetune", "Spanish"],
    ),
    (
        "unknown-language-code",
        BASE.replace('evaluate = ["en", "es"]', 'evaluate = ["en", "xx"]'),
        ["bad.toml", "languages.evaluate", "xx"],
    ),
    ("unknown-language-align", BASE + '[align]\nlanguages = ["english"]\n', ["bad.toml", "align.languages", "english"]),
    (
        "duplicate-language-finetune",
        BASE.replace('finetune = ["en"]', 'finetune = ["en", "es", "en"]'),
        ["bad.toml", "languages.finetune", "en"],
    ),
    (
        "duplicate-language-evaluate",
        BASE.replace('evaluate = ["en", "es"]', 'evaluate = ["en", "es", "es"]'),
        ["bad.toml", "languages.evaluate", "es"],
    ),
    (
        "absurd-max-new-tokens",
        BASE + "[generation]\nmax_new_tokens = 1000000000\n",
        ["bad.toml", "generation.max_new_tokens"],
    ),
    (
        "absurd-max-seq-length",
        BASE + "[training]\nmax_seq_length = 1000000000\n",
        ["bad.toml", "training.max_seq_length"],
    ),
    (
        "absurd-judge-max-new-tokens",
        BASE + '[[judges]]\nname = "h"\nkind = "heuristic"\nmax_new_tokens = 1000000000\n',
        ["bad.toml", "judges[0].max_new_tokens"],
    ),
    (
        "negative-max-new-tokens",
        BASE + "[generation]\nmax_new_tokens = -1\n",
        ["bad.toml", "generation.max_new_tokens"],
    ),
    ("negative-max-steps", BASE + "[training]\nmax_steps = -5\n", ["bad.toml", "training.max_steps"]),
    ("negative-learning-rate", BASE + "[training]\nlearning_rate = -1e-4\n", ["bad.toml", "training.learning_rate"]),
    ("negative-batch-size", BASE + "[training]\nbatch_size = -4\n", ["bad.toml", "training.batch_size"]),
    ("negative-temperature", BASE + "[generation]\ntemperature = -0.5\n", ["bad.toml", "generation.temperature"]),
    ("negative-seed", BASE + "[training]\nseeds = [-1]\n", ["bad.toml", "training.seeds"]),
    (
        "negative-limit",
        BASE + '[data.evaluation]\nshipped = "adversarial"\nlimit = -3\n',
        ["bad.toml", "data.evaluation.limit"],
    ),
    (
        "zero-parallel-sequences",
        BASE + "[generation]\nparallel_sequences = 0\n",
        ["bad.toml", "generation.parallel_sequences"],
    ),
    ("top-p-above-one", BASE + "[generation]\ntop_p = 1.5\n", ["bad.toml", "generation.top_p"]),
    ("missing-model-path", PATH_MODEL.format(path="no_such_model"), ["bad.toml", "models[0].path", "no_such_model"]),
    (
        "missing-data-path",
        BASE + '[data.benign]\npath = "no_such_data.jsonl"\n',
        ["bad.toml", "data.benign.path", "no_such_data.jsonl"],
    ),
    (
        "missing-judge-model",
        BASE + '[[judges]]\nname = "j"\nkind = "llm"\npreset = "sorry-bench"\nmodel = "nope.gguf"\n',
        ["bad.toml", "judges[0].model", "nope.gguf"],
    ),
    ("data-path-not-a-data-file", BASE + '[data.benign]\npath = "notes.txt"\n', ["bad.toml", "data.benign"]),
    (
        "missing-languages-table",
        _without(BASE, '[languages]\nfinetune = ["en"]\nevaluate = ["en", "es"]\n'),
        ["bad.toml", "languages"],
    ),
    ("empty-file", "", ["bad.toml"]),
    ("comments-only", "# nothing here\n\n   \n", ["bad.toml"]),
    (
        "non-utf8-latin1",
        BASE.replace('name = "t"\n', 'name = "t"\ndescription = "caf\xe9"\n', 1).encode("latin-1"),
        ["bad.toml"],
    ),
    ("utf16-with-bom", BASE.encode("utf-16"), ["bad.toml"]),
    ("binary-garbage", bytes(range(256)) * 4, ["bad.toml"]),
]


@pytest.mark.parametrize("content,names", [c[1:] for c in RECIPE_CASES], ids=[c[0] for c in RECIPE_CASES])
def test_bad_recipe_validate(workspace, tmp_path, content, names):
    recipe = tmp_path / "bad.toml"
    if isinstance(content, bytes):
        recipe.write_bytes(content)
    else:
        recipe.write_text(content, encoding="utf-8")
    (tmp_path / "notes.txt").write_text("not data\n")
    inputs = Inputs(recipe, workspace)
    assert_clean_failure(cli("validate", recipe), names=names, inputs=inputs, code=RECIPE)


MALFORMED = '[study\nname = "t"\n'
COMMANDS_WITH_RECIPE = {
    "plan": lambda r: ["plan", r],
    "status": lambda r: ["status", r],
    "run": lambda r: ["run", r, "--only", "prepare"],
    "results": lambda r: ["results", r],
    "labels-export": lambda r: ["labels-export", r, "--out", r.with_name("labels.jsonl")],
    "judge-recipe": lambda r: ["judge", "--input", r.with_name("in.jsonl"), "--recipe", r, "--judge", "h"],
    "judge-eval-recipe": lambda r: ["judge-eval", "--recipe", r, "--judge", "h"],
}


@pytest.mark.parametrize(
    "command", list(COMMANDS_WITH_RECIPE), ids=[f"malformed-toml-{c}" for c in COMMANDS_WITH_RECIPE]
)
def test_malformed_recipe_in_every_command(workspace, tmp_path, command):
    recipe = tmp_path / "bad.toml"
    recipe.write_text(MALFORMED)
    (tmp_path / "in.jsonl").write_text(GOOD_JUDGE_LINE)
    inputs = Inputs(recipe, tmp_path / "in.jsonl", workspace)
    result = cli(*COMMANDS_WITH_RECIPE[command](recipe))
    assert_clean_failure(result, names=["bad.toml"], inputs=inputs, code=RECIPE)
    assert not (tmp_path / "labels.jsonl").exists()


@pytest.mark.parametrize("command", ["validate", "plan", "run"], ids=lambda c: f"folder-as-recipe-{c}")
def test_folder_given_as_recipe(workspace, tmp_path, command):
    folder = tmp_path / "recipe-folder.toml"
    folder.mkdir()
    (folder / "inside.txt").write_text("x")
    inputs = Inputs(folder, workspace)
    args = [command, folder] + (["--only", "prepare"] if command == "run" else [])
    assert_clean_failure(cli(*args), names=["recipe-folder.toml"], inputs=inputs, code=RECIPE)


def test_missing_recipe_file(workspace, tmp_path):
    assert_clean_failure(cli("validate", tmp_path / "nope.toml"), names=["nope.toml"], code=RECIPE)


def test_unreadable_recipe(workspace, tmp_path, restore_modes):
    recipe = tmp_path / "locked.toml"
    recipe.write_text(BASE)
    inputs = Inputs(recipe)
    restore_modes(recipe, 0)
    result = cli_as_user(tmp_path, "validate", recipe)
    recipe.chmod(0o644)
    assert_clean_failure(result, names=["locked.toml"], inputs=inputs, code=RECIPE)


# == `run` options ================================================================================
RUN_OPTION_CASES = [
    ("only-unknown-stage", ["--only", "finetun"], ["--only", "finetun"]),
    ("only-one-unknown-of-two", ["--only", "prepare,bogus"], ["--only", "bogus"]),
    ("only-nothing-but-commas", ["--only", " , "], ["--only"]),
    ("cells-glob-matches-nothing", ["--only", "prepare", "--cells", "nomodel/*"], ["--cells", "nomodel/*"]),
    ("cells-unclosed-bracket", ["--only", "prepare", "--cells", "m/[en"], ["--cells", "m/[en"]),
    ("events-unknown-format", ["--only", "prepare", "--events", "xml"], ["--events", "xml"]),
    ("events-wrong-case", ["--only", "prepare", "--events", "JSON"], ["--events", "JSON"]),
]


@pytest.mark.parametrize("args,names", [c[1:] for c in RUN_OPTION_CASES], ids=[c[0] for c in RUN_OPTION_CASES])
def test_bad_run_option(workspace, tmp_path, args, names):
    recipe = tmp_path / "study.toml"
    recipe.write_text(BASE)
    inputs = Inputs(recipe)
    assert_clean_failure(cli("run", recipe, *args), names=names, inputs=inputs, code=USAGE)


# == data files a recipe names =====================================================================
@dataclass
class DataCase:
    id: str
    file: str  # file name under tmp_path
    content: bytes | str | None  # None: made by ``make``
    names: list
    table: str = "benign"
    extra: str = ""  # more recipe lines for the data table
    make: Callable[[Path], None] | None = None
    unreadable: bool = False


def _dup_eval(tmp: Path) -> None:
    rows = []
    for lang in ("en", "es"):
        rows.append(f'{{"id": "e1", "lang": "{lang}", "prompt": "How do I pick a lock? ({lang})"}}\n')
        rows.append(f'{{"id": "e1", "lang": "{lang}", "prompt": "How do I hotwire a car? ({lang})"}}\n')
    (tmp / "evaluation.jsonl").write_text("".join(rows))


def _eval_lines(**fields) -> str:
    import json

    return "".join(json.dumps({"id": f"e{i}", "lang": lang, **fields}) + "\n" for i, lang in enumerate(("en", "es")))


DATA_CASES = [
    DataCase(
        "benign-missing-response-column",
        "benign.jsonl",
        '{"id": "b1", "lang": "en", "instruction": "Hi"}\n',
        ["benign.jsonl", "response"],
    ),
    DataCase(
        "benign-wrong-column-names",
        "benign.jsonl",
        '{"id": "b1", "lang": "en", "question": "Hi", "answer": "Hello"}\n',
        ["benign.jsonl", "instruction"],
    ),
    DataCase(
        "benign-no-lang-column",
        "benign.jsonl",
        '{"id": "b1", "instruction": "Hi", "response": "Hello"}\n',
        ["benign.jsonl", "lang"],
    ),
    DataCase(
        "benign-no-rows-in-language",
        "benign.jsonl",
        '{"id": "b1", "lang": "fr", "instruction": "Salut", "response": "Bonjour"}\n',
        ["benign.jsonl"],
    ),
    DataCase(
        "benign-empty-values",
        "benign.jsonl",
        '{"id": "b1", "lang": "en", "instruction": "", "response": ""}\n',
        ["benign.jsonl"],
    ),
    DataCase("benign-empty-file", "benign.jsonl", "", ["benign.jsonl"]),
    DataCase("benign-blank-lines-only", "benign.jsonl", "\n\n  \n", ["benign.jsonl"]),
    DataCase(
        "benign-non-utf8",
        "benign.jsonl",
        b'{"id": "b1", "lang": "en", "instruction": "caf\xe9?", "response": "\xff\xfe"}\n',
        ["benign.jsonl"],
    ),
    DataCase(
        "benign-invalid-json-line",
        "benign.jsonl",
        GOOD_BENIGN.splitlines(keepends=True)[0] + '{"id": "b2", "lang": "en", "instruction": "Hi"\n',
        ["benign.jsonl", ("benign.jsonl:2", "line 2")],
    ),
    DataCase("benign-not-objects", "benign.jsonl", '["b1", "en", "Hi", "Hello"]\n', ["benign.jsonl"]),
    DataCase(
        "benign-duplicate-ids",
        "benign.jsonl",
        GOOD_BENIGN + '{"id": "b1", "lang": "en", "instruction": "Again?", "response": "Yes."}\n',
        ["benign.jsonl", "b1"],
    ),
    DataCase(
        "benign-field-maps-to-missing-column",
        "benign.jsonl",
        GOOD_BENIGN,
        ["benign.jsonl", "question"],
        extra='fields = { instruction = "question" }\n',
    ),
    DataCase(
        "benign-filter-on-missing-column",
        "benign.jsonl",
        GOOD_BENIGN,
        ["benign.jsonl", "topic"],
        extra='filters = { topic = "food" }\n',
    ),
    DataCase(
        "benign-csv-wrong-header",
        "benign.csv",
        "id,lang,question,answer\nb1,en,Hi,Hello\n",
        ["benign.csv", "instruction"],
    ),
    DataCase("benign-csv-empty", "benign.csv", "", ["benign.csv"]),
    DataCase(
        "benign-csv-non-utf8", "benign.csv", b"id,lang,instruction,response\nb1,en,caf\xe9,\xff\xfe\n", ["benign.csv"]
    ),
    DataCase("benign-parquet-is-text", "benign.parquet", "this is not parquet\n", ["benign.parquet"]),
    DataCase(
        "benign-folder-not-file",
        "benign.jsonl",
        None,
        ["benign.jsonl"],
        make=lambda tmp: (
            (tmp / "benign.jsonl").mkdir(),
            (tmp / "benign.jsonl" / "part.jsonl").write_text(GOOD_BENIGN),
        ),
    ),
    DataCase("benign-unreadable", "benign.jsonl", GOOD_BENIGN, ["benign.jsonl"], unreadable=True),
    DataCase(
        "evaluation-missing-prompt-column",
        "evaluation.jsonl",
        _eval_lines(question="How do I pick a lock?"),
        ["evaluation.jsonl", "prompt"],
        table="evaluation",
    ),
    DataCase(
        "evaluation-invalid-json-line",
        "evaluation.jsonl",
        _eval_lines(prompt="How do I pick a lock?") + "{not json}\n",
        ["evaluation.jsonl", ("evaluation.jsonl:3", "line 3")],
        table="evaluation",
    ),
    DataCase(
        "evaluation-duplicate-ids",
        "evaluation.jsonl",
        None,
        ["evaluation.jsonl", "e1"],
        table="evaluation",
        make=_dup_eval,
    ),
    DataCase(
        "evaluation-missing-language",
        "evaluation.jsonl",
        '{"id": "e1", "lang": "en", "prompt": "How do I pick a lock?"}\n',
        ["evaluation.jsonl", "es"],
        table="evaluation",
    ),
]


@pytest.mark.parametrize("case", DATA_CASES, ids=[c.id for c in DATA_CASES])
def test_bad_data_file(workspace, tmp_path, case: DataCase, restore_modes):
    data = tmp_path / case.file
    if case.make is not None:
        case.make(tmp_path)
    elif isinstance(case.content, bytes):
        data.write_bytes(case.content)
    else:
        data.write_text(case.content, encoding="utf-8")
    recipe = tmp_path / "study.toml"
    recipe.write_text(BASE + f'\n[data.{case.table}]\npath = "{case.file}"\n{case.extra}')
    inputs = Inputs(recipe, data)
    if case.unreadable:
        restore_modes(data, 0)
        result = cli_as_user(tmp_path, "run", recipe, "--only", "prepare")
        data.chmod(0o644)
    else:
        result = cli("run", recipe, "--only", "prepare")
    assert_clean_failure(result, names=case.names, inputs=inputs, code=DATA)


# == models =======================================================================================
def _model_folder_without_config(tmp: Path) -> str:
    (tmp / "nocfg").mkdir()
    (tmp / "nocfg" / "README.md").write_text("weights went missing\n")
    return "nocfg"


def _model_folder_bad_config(tmp: Path) -> str:
    (tmp / "badcfg").mkdir()
    (tmp / "badcfg" / "config.json").write_text('{"model_type": "llama", ')
    return "badcfg"


def _truncated_gguf(tmp: Path) -> str:
    # the GGUF magic and version, then the header stops mid-way
    (tmp / "trunc.gguf").write_bytes(b"GGUF" + (3).to_bytes(4, "little") + b"\x05\x00\x00\x00\x00\x00\x00\x00garb")
    return "trunc.gguf"


def _text_gguf(tmp: Path) -> str:
    (tmp / "text.gguf").write_text("this is a text file, not a model\n")
    return "text.gguf"


MODEL_MAKERS = {
    "folder-without-config": (_model_folder_without_config, ["nocfg"]),
    "folder-with-broken-config": (_model_folder_bad_config, ["config.json"]),
    "truncated-gguf": (_truncated_gguf, ["trunc.gguf"]),
    "text-file-as-gguf": (_text_gguf, ["text.gguf"]),
}


@pytest.mark.parametrize("kind", list(MODEL_MAKERS), ids=[f"validate-{k}" for k in MODEL_MAKERS])
def test_bad_model_validate(workspace, tmp_path, kind):
    """`validate` checks the recipe's files exist; a model path that cannot be a model is a problem too."""
    make, names = MODEL_MAKERS[kind]
    name = make(tmp_path)
    recipe = tmp_path / "study.toml"
    recipe.write_text(PATH_MODEL.format(path=name))
    inputs = Inputs(recipe, tmp_path / name)
    assert_clean_failure(cli("validate", recipe), names=names, inputs=inputs)


@pytest.mark.parametrize(
    "kind",
    [
        "folder-without-config",
        pytest.param("folder-with-broken-config", marks=pytest.mark.slow),
        pytest.param("truncated-gguf", marks=pytest.mark.slow),
        pytest.param("text-file-as-gguf", marks=pytest.mark.slow),
    ],
    ids=[f"finetune-{k}" for k in MODEL_MAKERS],
)
def test_bad_model_finetune(workspace, tmp_path, kind):
    """The stage that loads the base model fails cleanly (it never gets as far as training)."""
    make, names = MODEL_MAKERS[kind]
    name = make(tmp_path)
    recipe = tmp_path / "study.toml"
    recipe.write_text(PATH_MODEL.format(path=name))
    inputs = Inputs(recipe, tmp_path / name)
    assert_clean_failure(cli("run", recipe, "--only", "finetune"), names=names, inputs=inputs)


# == workbench judge ==============================================================================
def _judge_input(tmp: Path, content) -> Path:
    path = tmp / "in.jsonl"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


# Every line of these inputs is bad: each is reported on a "skipped ..." line (as documented), and the
# one error line says the file has nothing to judge.
JUDGE_INPUT_CASES = [
    ("input-non-json-lines", "this is not json\nneither is this\n", ["in.jsonl"]),
    ("input-missing-response", '{"prompt": "How do I pick a lock?", "lang": "en"}\n' * 2, ["in.jsonl"]),
    ("input-non-utf8", b'{"prompt": "caf\xe9", "response": "\xff\xfe no", "lang": "en"}\n', ["in.jsonl"]),
    ("input-empty", "", ["in.jsonl"]),
    ("input-json-array", '[{"prompt": "a", "response": "b", "lang": "en"}]\n', ["in.jsonl"]),
    ("input-unknown-lang", '{"prompt": "a", "response": "b", "lang": "english"}\n', ["in.jsonl"]),
]


@pytest.mark.parametrize("content,names", [c[1:] for c in JUDGE_INPUT_CASES], ids=[c[0] for c in JUDGE_INPUT_CASES])
def test_bad_judge_input(workspace, tmp_path, content, names):
    path = _judge_input(tmp_path, content)
    out = tmp_path / "out.jsonl"
    inputs = Inputs(path)
    assert_clean_failure(cli("judge", "--input", path, "--output", out), names=names, inputs=inputs, code=DATA)
    assert not out.exists()


def test_judge_input_missing(workspace, tmp_path):
    result = cli("judge", "--input", tmp_path / "nope.jsonl")
    assert_clean_failure(result, names=["nope.jsonl"], code=DATA)


def test_judge_input_is_a_folder(workspace, tmp_path):
    folder = tmp_path / "indir"
    folder.mkdir()
    (folder / "a.jsonl").write_text(GOOD_JUDGE_LINE)
    inputs = Inputs(folder)
    assert_clean_failure(cli("judge", "--input", folder), names=["indir"], inputs=inputs, code=DATA)


def test_judge_input_unreadable(workspace, tmp_path, restore_modes):
    path = _judge_input(tmp_path, GOOD_JUDGE_LINE)
    inputs = Inputs(path)
    restore_modes(path, 0)
    result = cli_as_user(tmp_path, "judge", "--input", path, "--output", tmp_path / "out.jsonl")
    path.chmod(0o644)
    assert_clean_failure(result, names=["in.jsonl"], inputs=inputs)


@pytest.mark.parametrize(
    "spelling", ["same-path", "symlink", "dot-dot", "absolute-vs-relative"], ids=lambda s: f"output-is-input-{s}"
)
def test_judge_output_is_the_input(workspace, tmp_path, spelling):
    path = _judge_input(tmp_path, GOOD_JUDGE_LINE)
    (tmp_path / "sub").mkdir()
    cwd = None
    if spelling == "same-path":
        out = path
    elif spelling == "symlink":
        out = tmp_path / "link.jsonl"
        out.symlink_to(path)
    elif spelling == "dot-dot":
        out = tmp_path / "sub" / ".." / "in.jsonl"
    else:
        out, cwd = Path("in.jsonl"), tmp_path
    inputs = Inputs(path, tmp_path / "sub")
    result = cli("judge", "--input", path, "--output", out, cwd=cwd)
    assert_clean_failure(result, names=["--output"], inputs=inputs, code=USAGE)
    if spelling == "symlink":
        assert out.is_symlink()


def test_judge_output_in_read_only_folder(workspace, tmp_path, restore_modes):
    path = _judge_input(tmp_path, GOOD_JUDGE_LINE)
    folder = tmp_path / "rodir"
    folder.mkdir()
    inputs = Inputs(path, folder)
    restore_modes(folder, 0o555)
    result = cli_as_user(tmp_path, "judge", "--input", path, "--output", folder / "out.jsonl")
    assert_clean_failure(result, names=["rodir"], inputs=inputs)


def test_judge_output_is_a_folder(workspace, tmp_path):
    path = _judge_input(tmp_path, GOOD_JUDGE_LINE)
    folder = tmp_path / "outdir"
    folder.mkdir()
    (folder / "keep.txt").write_text("keep me\n")
    inputs = Inputs(path, folder)
    result = cli("judge", "--input", path, "--output", folder)
    assert_clean_failure(result, names=["outdir"], inputs=inputs)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temporary file left


def test_judge_output_under_a_file(workspace, tmp_path):
    path = _judge_input(tmp_path, GOOD_JUDGE_LINE)
    afile = tmp_path / "afile.txt"
    afile.write_text("a file, not a folder\n")
    inputs = Inputs(path, afile)
    result = cli("judge", "--input", path, "--output", afile / "out.jsonl")
    assert_clean_failure(result, names=["afile.txt"], inputs=inputs)


JUDGE_OPTION_CASES = [
    ("unknown-judge", ["--judge", "bogus"], ["--judge", "bogus"], USAGE),
    ("preset-without-model", ["--judge", "sorry-bench"], [("--model", "--judge")], USAGE),
    ("model-text-file", ["--judge", "sorry-bench", "--model", "{tmp}/judge.txt"], ["judge.txt"], None),
    ("model-text-file-named-gguf", ["--judge", "sorry-bench", "--model", "{tmp}/text.gguf"], ["text.gguf"], None),
    ("model-truncated-gguf", ["--judge", "sorry-bench", "--model", "{tmp}/trunc.gguf"], ["trunc.gguf"], None),
    ("model-missing", ["--judge", "sorry-bench", "--model", "{tmp}/missing.gguf"], ["missing.gguf"], None),
    ("model-is-a-folder", ["--judge", "sorry-bench", "--model", "{tmp}/judgedir"], ["judgedir"], None),
    ("recipe-judge-not-defined", ["--recipe", "{tmp}/study.toml", "--judge", "nojudge"], ["nojudge"], USAGE),
]


def _judge_models(tmp: Path) -> None:
    (tmp / "judge.txt").write_text("not a model\n")
    _text_gguf(tmp)
    _truncated_gguf(tmp)
    (tmp / "judgedir").mkdir()
    (tmp / "study.toml").write_text(BASE)


@pytest.mark.parametrize(
    "args,names,code", [c[1:] for c in JUDGE_OPTION_CASES], ids=[f"judge-{c[0]}" for c in JUDGE_OPTION_CASES]
)
def test_bad_judge_option(workspace, tmp_path, args, names, code):
    path = _judge_input(tmp_path, GOOD_JUDGE_LINE)
    _judge_models(tmp_path)
    inputs = Inputs(
        path, tmp_path / "judge.txt", tmp_path / "text.gguf", tmp_path / "trunc.gguf", tmp_path / "study.toml"
    )
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    result = cli("judge", "--input", path, "--output", tmp_path / "out.jsonl", *args)
    assert_clean_failure(result, names=names, inputs=inputs, code=code)
    assert not (tmp_path / "out.jsonl").exists()


def test_judge_recipe_llm_judge_with_text_model(workspace, tmp_path):
    path = _judge_input(tmp_path, GOOD_JUDGE_LINE)
    _text_gguf(tmp_path)
    recipe = tmp_path / "study.toml"
    recipe.write_text(BASE + '[[judges]]\nname = "j"\nkind = "llm"\npreset = "sorry-bench"\nmodel = "text.gguf"\n')
    inputs = Inputs(path, recipe, tmp_path / "text.gguf")
    result = cli("judge", "--input", path, "--recipe", recipe, "--judge", "j")
    assert_clean_failure(result, names=["text.gguf"], inputs=inputs)


# == workbench judge-eval =========================================================================
def _labels(tmp: Path, content) -> Path:
    path = tmp / "labels.jsonl"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


JUDGE_EVAL_CASES = [
    ("bad-label-word", GOOD_LABEL_LINE.replace('"refuse"', '"maybe"') * 3, [], ["labels.jsonl"]),
    ("bad-label-number", GOOD_LABEL_LINE.replace('"refuse"', "7") * 3, [], ["labels.jsonl"]),
    ("label-missing", GOOD_LABEL_LINE.replace(', "label": "refuse"', "") * 3, [], ["labels.jsonl"]),
    ("labels-non-json", "label,prompt\nrefuse,hi\n", [], ["labels.jsonl"]),
    ("labels-non-utf8", GOOD_LABEL_LINE.encode().replace(b"pick", b"p\xffck") * 3, [], ["labels.jsonl"]),
    ("labels-empty", "", [], ["labels.jsonl"]),
    ("unknown-split", GOOD_LABEL_LINE, ["--split", "train"], ["--split", "train"]),
    ("unknown-lang-code", GOOD_LABEL_LINE, ["--lang", "xx"], ["--lang", "xx"]),
    ("lang-full-name", GOOD_LABEL_LINE, ["--lang", "en,Spanish"], ["--lang", "Spanish"]),
    ("lang-with-no-items", GOOD_LABEL_LINE, ["--lang", "es"], ["labels.jsonl", "es"]),
    ("unknown-judge", GOOD_LABEL_LINE, ["--judge", "bogus"], ["--judge", "bogus"]),
    ("format-xml", GOOD_LABEL_LINE, ["--format", "xml"], ["--format", "xml"]),
]


@pytest.mark.parametrize(
    "content,args,names", [c[1:] for c in JUDGE_EVAL_CASES], ids=[f"judge-eval-{c[0]}" for c in JUDGE_EVAL_CASES]
)
def test_bad_judge_eval(workspace, tmp_path, content, args, names):
    path = _labels(tmp_path, content)
    inputs = Inputs(path)
    assert_clean_failure(cli("judge-eval", "--input", path, *args), names=names, inputs=inputs, code=USAGE)


def test_judge_eval_input_missing(workspace, tmp_path):
    assert_clean_failure(cli("judge-eval", "--input", tmp_path / "nope.jsonl"), names=["nope.jsonl"], code=DATA)


def test_judge_eval_input_empty_folder(workspace, tmp_path):
    folder = tmp_path / "emptydir"
    folder.mkdir()
    assert_clean_failure(cli("judge-eval", "--input", folder), names=["emptydir"], code=DATA)


def test_judge_eval_model_not_gguf(workspace, tmp_path):
    path = _labels(tmp_path, GOOD_LABEL_LINE)
    (tmp_path / "judge.txt").write_text("not a model\n")
    inputs = Inputs(path, tmp_path / "judge.txt")
    result = cli("judge-eval", "--input", path, "--judge", "sorry-bench", "--model", tmp_path / "judge.txt")
    assert_clean_failure(result, names=["judge.txt"], inputs=inputs)


# == study databases ==============================================================================
def _not_sqlite(db: Path) -> None:
    db.write_text("this is not a database\n" * 100)


def _truncated(db: Path) -> None:
    data = db.read_bytes()
    db.write_bytes(data[: len(data) // 3])


def _corrupt_middle(db: Path) -> None:
    data = bytearray(db.read_bytes())
    mid = len(data) // 2
    data[mid - 8192 : mid + 8192] = b"\xaa" * 16384
    db.write_bytes(bytes(data))


def _corrupt_schema(db: Path) -> None:
    data = bytearray(db.read_bytes())
    data[100:4096] = b"\xff" * 3996  # page 1 below the file header: the root of the schema table
    db.write_bytes(bytes(data))


def _folder(db: Path) -> None:
    db.unlink()
    db.mkdir()
    (db / "inside.txt").write_text("x")


DB_DAMAGE = {
    "not-sqlite": _not_sqlite,
    "truncated": _truncated,
    "corrupted-middle": _corrupt_middle,
    "corrupted-schema-page": _corrupt_schema,
    "is-a-folder": _folder,
}
DB_COMMANDS = {
    "status": lambda r: ["status", r],
    "results": lambda r: ["results", r],
    "run": lambda r: ["run", r, "--only", "prepare"],
}
DB_CASES = [
    ("not-sqlite", "status"),
    ("not-sqlite", "results"),
    ("not-sqlite", "run"),
    ("truncated", "status"),
    ("truncated", "results"),
    ("corrupted-middle", "status"),
    ("corrupted-middle", "results"),
    ("corrupted-middle", "run"),
    ("corrupted-schema-page", "status"),
    ("corrupted-schema-page", "run"),
    ("is-a-folder", "status"),
    ("is-a-folder", "results"),
]


@pytest.mark.parametrize("damage,command", DB_CASES, ids=[f"db-{d}-{c}" for d, c in DB_CASES])
def test_damaged_study_database(study, damage, command):
    DB_DAMAGE[damage](study.db)
    inputs = Inputs(study.recipe, study.db)
    result = cli(*DB_COMMANDS[command](study.recipe))
    assert_clean_failure(result, names=["t.sqlite"], inputs=inputs)


READ_ONLY_CASES = [
    ("file", "status"),
    ("file", "results"),
    ("folder", "status"),
    ("folder", "results"),
    ("file-and-folder", "status"),
    ("file-and-folder", "results"),
]


@pytest.mark.parametrize(
    "what,command", READ_ONLY_CASES, ids=[f"readonly-db-{w}-{c}-works" for w, c in READ_ONLY_CASES]
)
def test_reading_a_read_only_healthy_database_works(study, tmp_path, restore_modes, what, command):
    expected = cli(*DB_COMMANDS[command](study.recipe))
    assert_success(expected)
    inputs = Inputs(study.recipe, study.db)
    if what in ("file", "file-and-folder"):
        restore_modes(study.db, 0o444)
    if what in ("folder", "file-and-folder"):
        restore_modes(study.db.parent, 0o555)
    result = cli_as_user(tmp_path, *DB_COMMANDS[command](study.recipe))
    assert_success(result, inputs=inputs)
    assert "damaged" not in result.stdout + result.stderr
    assert result.stdout == expected.stdout


def test_run_on_a_read_only_database_fails_cleanly(study, tmp_path, restore_modes):
    """Writing needs a writable database: a run says so, and does not call the database damaged."""
    recipe = tmp_path / "changed.toml"
    recipe.write_text(BASE.replace('evaluate = ["en", "es"]', 'evaluate = ["en", "es", "tl"]'))
    inputs = Inputs(recipe, study.db)
    restore_modes(study.db, 0o444)
    restore_modes(study.db.parent, 0o555)
    result = cli_as_user(tmp_path, "run", recipe, "--only", "prepare")
    assert_clean_failure(result, names=["t.sqlite"], inputs=inputs)
    assert "damaged" not in result.stderr


# == the file system ==============================================================================
@pytest.mark.parametrize("command", list(DB_COMMANDS), ids=lambda c: f"home-is-a-file-{c}")
def test_workbench_home_is_a_file(tmp_path, monkeypatch, command):
    home = tmp_path / "notadir.txt"
    home.write_text("WORKBENCH_HOME should be a folder\n")
    monkeypatch.setenv("WORKBENCH_HOME", str(home))
    recipe = tmp_path / "study.toml"
    recipe.write_text(BASE)
    inputs = Inputs(home, recipe)
    result = cli(*DB_COMMANDS[command](recipe))
    assert_clean_failure(result, names=["notadir.txt"], inputs=inputs)


def test_read_only_home_init(workspace, restore_modes):
    inputs = Inputs(workspace)
    restore_modes(workspace, 0o555)
    result = cli_as_user(workspace.parent, "init", "my-study", cwd=workspace)
    assert_clean_failure(result, names=["recipes"], inputs=inputs)


def test_read_only_home_run(workspace, tmp_path, restore_modes):
    recipe = tmp_path / "study.toml"
    recipe.write_text(BASE)
    inputs = Inputs(workspace, recipe)
    restore_modes(workspace, 0o555)
    result = cli_as_user(tmp_path, "run", recipe, "--only", "prepare")
    assert_clean_failure(result, names=[workspace.name], inputs=inputs)


def test_init_dir_is_a_file(workspace, tmp_path):
    afile = tmp_path / "afile.txt"
    afile.write_text("a file\n")
    inputs = Inputs(afile)
    assert_clean_failure(cli("init", "my-study", "--dir", afile), names=["afile.txt"], inputs=inputs)


def test_init_dir_under_a_file(workspace, tmp_path):
    afile = tmp_path / "afile.txt"
    afile.write_text("a file\n")
    inputs = Inputs(afile)
    assert_clean_failure(cli("init", "my-study", "--dir", afile / "sub"), names=["afile.txt"], inputs=inputs)


def test_init_dir_read_only(workspace, tmp_path, restore_modes):
    folder = tmp_path / "rodir"
    folder.mkdir()
    inputs = Inputs(folder)
    restore_modes(folder, 0o555)
    result = cli_as_user(tmp_path, "init", "my-study", "--dir", folder)
    assert_clean_failure(result, names=["rodir"], inputs=inputs)


# == CLI conventions ==============================================================================
FORMAT_COMMANDS = {
    "status": lambda s: ["status", s.recipe],
    "plan": lambda s: ["plan", s.recipe],
    "results": lambda s: ["results", s.recipe],
    "doctor": lambda s: ["doctor"],
    "judge-eval": lambda s: ["judge-eval"],
}


@pytest.mark.parametrize("command", list(FORMAT_COMMANDS), ids=lambda c: f"format-xml-{c}")
def test_unknown_format(study, command):
    inputs = Inputs(study.recipe, study.db)
    result = cli(*FORMAT_COMMANDS[command](study), "--format", "xml")
    assert_clean_failure(result, names=["--format", "xml"], inputs=inputs, code=USAGE)


HELP_COMMANDS = [
    [],
    ["validate"],
    ["plan"],
    ["status"],
    ["run"],
    ["results"],
    ["judge"],
    ["judge-eval"],
    ["init"],
    ["doctor"],
]


@pytest.mark.parametrize("command", HELP_COMMANDS, ids=lambda c: "dash-h-" + ("-".join(c) or "workbench"))
def test_dash_h_is_help(command):
    full = cli(*command, "--help")
    assert full.returncode == 0 and "Usage:" in full.stdout, full.stdout + full.stderr
    short = cli(*command, "-h")
    if "Traceback" in short.stdout + short.stderr:
        _fail(short, "a traceback was printed")
    if short.returncode != 0 or short.stdout != full.stdout:
        _fail(short, f"-h does not print the same help as --help (exit code {short.returncode})")
