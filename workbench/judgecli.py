"""``workbench judge``: judge responses produced anywhere else, from JSONL to JSONL.

Input lines carry ``prompt``, ``response`` and ``lang`` (and an optional ``id``, kept). Output lines
are the input objects plus ``label``, ``score``, ``flags`` and ``evidence``, in input order. A bad
line (not JSON, a missing or empty field, an unknown language) is reported on stderr with its line
number and skipped; a file that is not UTF-8 is refused whole, naming its first bad lines. The output
is written atomically (:func:`workbench.fsutil.atomic_write`), so it is never half-written (a failed
run leaves an existing output as it was), and never over the input file.

``workbench judge-eval`` (:func:`evaluate_judge`) runs a judge resolved the same way
(:func:`resolve_spec`, :func:`load_judge`) over a labelled set and prints its agreement with the human
labels; ``workbench labels-export`` (:func:`export_labels`) writes a study's human labels as such a set
(the numbers and the rows are :mod:`workbench.analysis.judge_eval`'s).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from workbench.errors import DataError, UsageError, WorkbenchError
from workbench.fsutil import atomic_write, same_file


class OutputIsInput(WorkbenchError):
    """``--output`` names the ``--input`` file: a usage mistake (exit code 2), caught before judging."""

    exit_code = 2


def model_presets() -> list[str]:
    """LLM presets usable as ``--judge PRESET --model PATH``: those that need nothing from a recipe."""
    from workbench.judges.presets import PRESETS

    return [name for name, preset in PRESETS.items() if not preset.from_recipe]


def check_paths(input_file: Path, output: Path | None) -> None:
    """Refuse an ``--output`` that is the ``--input`` file (through any spelling, symlink or hard link)
    or a folder, before anything is read."""
    if output is None:
        return
    if same_file(input_file, output):
        raise OutputIsInput(
            f"--output {output} is the same file as --input {input_file}",
            "write the judged lines to another file; the input would be replaced by them",
        )
    if output.is_dir():
        raise OutputIsInput(f"--output {output} is a folder", "give a file name, e.g. --output judged.jsonl")
    if output.exists() and not output.is_file():
        raise OutputIsInput(
            f"--output {output} is not a regular file (a pipe or a device); it would be replaced by one",
            "leave out --output to write to stdout, and redirect or pipe that",
        )


def check_utf8(path: Path) -> None:
    """Refuse an ``--input`` file that is not UTF-8, naming its first bad lines (nothing is replaced)."""
    from workbench.data import require_utf8

    require_utf8(path, "--input")


def resolve_spec(name: str, *, recipe: Path | None, model: Path | None):
    """The JudgeSpec for ``--judge NAME``: from the recipe, a judge kind that needs no settings
    (``heuristic``), or an LLM preset with --model."""
    from workbench.judges import builtin_names
    from workbench.recipe.models import JudgeSpec

    if recipe is not None:
        from workbench.recipe import load_recipe

        r = load_recipe(recipe, allow_downloads=True)
        for spec in r.judges:
            if spec.name == name:
                return spec
        if name not in builtin_names():
            raise UsageError(
                f"--judge: {recipe} defines no judge {name!r}",
                f"judges there: {', '.join(j.name for j in r.judges) or 'none'}",
            )
    if name in builtin_names():
        return JudgeSpec(name=name, kind=name)
    presets = model_presets()
    if name in presets:
        if model is None:
            raise UsageError(f"--judge {name}: an LLM preset needs the judge's GGUF", "add --model PATH.gguf")
        check_model(model)
        return JudgeSpec(name=name, kind="llm", preset=name, model=model)
    raise UsageError(
        f"--judge: unknown judge {name!r}",
        f"use {' or '.join(builtin_names())}, an LLM preset ({', '.join(presets)}) with --model, "
        "or a judge of --recipe",
    )


def check_model(model: Path) -> None:
    """Refuse a ``--model`` that is missing, a folder or not a whole GGUF, before any input is read."""
    from workbench.ggufmeta import gguf_problem

    if model.is_dir():
        raise UsageError(f"--model {model}: is a folder, not a GGUF file", "name the judge's .gguf file")
    if not model.is_file():
        raise UsageError(f"--model {model}: no such file", "name the judge's .gguf file")
    problem = gguf_problem(model)
    if problem:
        raise DataError(f"--model {problem}", "download the judge's GGUF again, or name another file")


def _warn(event) -> None:
    """A judge's typed events on stderr (an LLM judge warns, e.g., when its GGUF has no chat template)."""
    message = getattr(event, "message", None)
    if message:
        print(f"{getattr(event, 'level', 'info')}: {message}", file=sys.stderr)


def load_judge(spec, *, n_parallel: int = 8):
    """The judge for a resolved spec (:func:`resolve_spec`), its warnings printed on stderr."""
    from workbench import judges

    return judges.build(spec, n_parallel=n_parallel, emit=_warn)


def read_items(path: Path) -> tuple[list[tuple[int, dict]], list[str]]:
    """Good (line number, object) pairs and one message per bad line."""
    from workbench.analysis.judge_eval import item_problem

    if path.is_dir():
        raise DataError(f"--input: {path} is a folder, not a file", "give a JSONL file with prompt, response and lang")
    if not path.is_file():
        raise DataError(f"--input: {path} not found", "give a JSONL file with prompt, response and lang")
    check_utf8(path)
    good, bad = [], []
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                bad.append(f"{path}:{number}: not valid JSON ({exc.msg})")
                continue
            problem = item_problem(obj)
            if problem is not None:
                bad.append(f"{path}:{number}: {problem}")
                continue
            good.append((number, obj))
    return good, bad


def judge_file(input_file: Path, name: str, *, output: Path | None, recipe: Path | None, model: Path | None) -> int:
    """Judge every good line of ``input_file`` with the judge ``name``; write JSONL to ``output`` (or
    stdout). Returns the number of lines judged."""
    from workbench.judges.base import JudgeItem

    check_paths(input_file, output)
    spec = resolve_spec(name, recipe=recipe, model=model)
    good, bad = read_items(input_file)
    for message in bad:
        print(f"skipped {message}", file=sys.stderr)
    if not good:
        raise DataError(f"--input: {input_file} has no usable line", "each line needs prompt, response and lang")
    judge = load_judge(spec)
    items = [JudgeItem(prompt=o["prompt"], response=o["response"], lang=o["lang"]) for _, o in good]
    if spec.kind == "heuristic":
        from workbench.judges import coverage

        unread = sorted({i.lang for i in items} - set(coverage.heuristic_languages()))
        if unread:
            print(
                f"warning: judge {spec.name!r} cannot read {', '.join(unread)}: those lines are 'unsure'; "
                f"{coverage.REMEDY}",
                file=sys.stderr,
            )
    verdicts = judge.judge(items)
    lines = []
    for (_, obj), v in zip(good, verdicts, strict=True):
        lines.append(
            json.dumps(
                {
                    **obj,
                    "label": v.label,
                    "score": v.score,
                    "flags": v.flags,
                    "evidence": v.evidence,
                    "judge": spec.name,
                }
                | ({"raw_output": v.raw_output} if v.raw_output is not None else {}),
                ensure_ascii=False,
            )
        )
    text = "".join(line + "\n" for line in lines)
    if output is None:
        sys.stdout.write(text)
    else:
        atomic_write(output, text)
        print(f"judged {len(lines)} line(s) with {spec.name!r} -> {output}", file=sys.stderr)
    if bad:
        print(f"{len(bad)} bad line(s) skipped", file=sys.stderr)
    return len(lines)


# -- workbench judge-eval ----------------------------------------------------------------------------
def evaluate_judge(
    input_path: Path | None,
    name: str,
    *,
    recipe: Path | None = None,
    model: Path | None = None,
    split: str | None = None,
    langs: str | None = None,
    fmt: str = "table",
):
    """Judge every usable item of a labelled set (a JSONL file or a folder; default: the shipped one)
    with the judge ``name`` and print its agreement with the human labels. Returns the Evaluation."""
    from workbench.analysis import judge_eval as je

    if fmt not in ("table", "json"):
        raise je.EvalInputError(f"--format: unknown format {fmt!r}", "use table or json")
    if split is not None and split not in je.SPLITS:
        raise je.EvalInputError(f"--split: unknown split {split!r}", f"use {' or '.join(je.SPLITS)}")
    codes = je.parse_langs(langs)
    spec = resolve_spec(name, recipe=recipe, model=model)
    if input_path is not None:  # the shipped set is UTF-8 (tested); a user's file may not be
        files = sorted(input_path.glob("*.jsonl")) if input_path.is_dir() else [input_path]
        for file in files:
            if file.is_file():
                check_utf8(file)
    labelled = je.read_labelled(input_path)
    for message in labelled.problems:
        print(f"skipped {message}", file=sys.stderr)
    source = str(input_path) if input_path is not None else f"the shipped set ({je.shipped_labels_dir()})"
    items = je.select(labelled.items, split=split, langs=codes)
    if not items:
        wanted = " and ".join(
            x for x in (f"split {split!r}" if split else "", f"language(s) {langs}" if codes else "") if x
        )
        raise je.EvalInputError(
            f"--input: {source} has no item of {wanted} ({len(labelled.items)} usable item(s) in all)",
            "check --split and --lang (items without a split field belong to neither split)",
        )
    judge = load_judge(spec)
    progress = _progress_line() if sys.stderr.isatty() else None
    ev = je.run(
        judge,
        items,
        progress=progress,
        split=split,
        langs=codes,
        sources=[str(f) for f in labelled.files],
        bad_lines=len(labelled.problems),
        unclear=labelled.unclear,
    )
    if progress is not None:
        print(file=sys.stderr)
    if labelled.problems:
        print(f"{len(labelled.problems)} bad line(s) skipped", file=sys.stderr)
    if labelled.unclear:
        print(f"{labelled.unclear} line(s) labelled unclear by their annotator skipped", file=sys.stderr)
    if fmt == "json":
        print(je.to_json(ev))
    else:
        from rich.console import Console

        console = Console()
        for table in je.render_tables(ev, width=console.width):
            console.print(table)
        console.print(je.LEGEND, style="dim", highlight=False)
        per_item = ev.seconds_per_item
        print(
            f"{source}: {ev.pooled.n} item(s) judged in {ev.seconds:.1f} s"
            + (f" ({per_item * 1000:.1f} ms per item)" if per_item is not None else "")
        )
    return ev


def _progress_line():
    def show(done: int, total: int) -> None:
        if done == total or done % 8 == 0:
            print(f"\rjudging {done}/{total}", end="", file=sys.stderr, flush=True)

    return show


# -- workbench labels-export -------------------------------------------------------------------------
SQLITE_MAGIC = b"SQLite format 3\x00"


def check_export_path(out: Path, *, database: Path, recipe: Path, inputs: dict[str, Path] | None = None) -> None:
    """Refuse an ``--out`` that is the study's database (or its journal), the recipe, another recipe
    (``.toml``), a file the recipe reads (``inputs``: recipe key -> path) or any SQLite file: the labels
    would replace it."""
    journals = [database.with_name(database.name + suffix) for suffix in ("-wal", "-shm", "-journal")]
    what = None
    named = next((key for key, p in (inputs or {}).items() if same_file(out, p)), None)
    if any(same_file(out, p) for p in (database, *journals)):
        what = f"the study's database {database}"
    elif same_file(out, recipe):
        what = f"the recipe {recipe}"
    elif named is not None:
        what = f"the recipe's {named} ({inputs[named]})"
    elif out.suffix.lower() == ".toml":
        what = "a recipe (.toml)"
    elif out.is_dir():
        what = "a folder"
    elif out.is_file():
        try:
            with open(out, "rb") as f:
                if f.read(len(SQLITE_MAGIC)) == SQLITE_MAGIC:
                    what = "an SQLite database"
        except OSError:
            pass
    if what is not None:
        raise OutputIsInput(
            f"--out {out} is {what}; labels-export writes JSONL and would replace it",
            "give a new file, e.g. --out labels.jsonl",
        )


def recipe_inputs(r) -> dict[str, Path]:
    """Every local file a recipe reads, by its key: data files, model paths, judge models."""
    found: dict[str, Path] = {}
    for kind in ("benign", "evaluation", "alignment"):
        source = getattr(r.data, kind)
        if source.path is not None:
            found[f"data.{kind}.path"] = Path(source.path)
    for i, m in enumerate(r.models):
        if m.path is not None:
            found[f"models[{i}].path"] = Path(m.path)
    for i, j in enumerate(r.judges):
        if j.model is not None:
            found[f"judges[{i}].model"] = Path(j.model)
    return found


def export_labels(recipe: Path, out: Path, *, annotator: str | None = None) -> int:
    """Write the human labels of the study's current responses to ``out`` as a labelled set (JSONL,
    atomically). Returns the number of lines written."""
    from workbench import paths
    from workbench.analysis.judge_eval import export_rows
    from workbench.fsutil import atomic_write_jsonl
    from workbench.recipe import load_recipe
    from workbench.store import labels, read

    r = load_recipe(recipe, allow_downloads=True)
    database = paths.study_db_path(r.study.name)
    check_export_path(out, database=database, recipe=recipe, inputs=recipe_inputs(r))
    if not database.is_file():
        raise WorkbenchError(f"study {r.study.name!r} has no database yet ({database})", "run the study first")
    db = read.ReadDB(database)
    sid = read.study_id(db, r.study.name) if db.has_tables() else None
    if sid is None:
        raise WorkbenchError(f"{database} holds no study {r.study.name!r}", "run the study first")
    rows = export_rows(db, sid, annotator=annotator)
    if not rows:
        people = labels.annotators(db, sid)
        if annotator is not None and people:
            raise WorkbenchError(
                f"--annotator: {annotator!r} labelled no current response of study {r.study.name!r}",
                f"annotators with labels: {', '.join(people)}",
            )
        raise WorkbenchError(
            f"study {r.study.name!r} has no human labels of its current responses",
            f"label responses in the TUI first (`workbench tui {recipe}`, the label screen)",
        )
    atomic_write_jsonl(out, rows)
    people = sorted({row["annotator"] for row in rows})
    print(f"wrote {len(rows)} label(s) by {', '.join(people)} -> {out}", file=sys.stderr)
    if len(people) > 1:
        print(
            "note: a response labelled by several people is one line per person; "
            "pass --annotator NAME to evaluate a judge against one person's labels",
            file=sys.stderr,
        )
    unclear = sum(row["label"] == "unclear" for row in rows)
    if unclear:
        print(f"note: {unclear} label(s) are 'unclear'; judge-eval skips them", file=sys.stderr)
    return len(rows)
