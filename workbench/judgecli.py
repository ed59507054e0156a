"""``workbench judge``: judge responses produced anywhere else, from JSONL to JSONL.

Input lines carry ``prompt``, ``response`` and ``lang`` (and an optional ``id``, kept). Output lines
are the input objects plus ``label``, ``score``, ``flags`` and ``evidence``, in input order. A bad
line (not JSON, a missing or empty field, an unknown language) is reported on stderr with its line
number and skipped. The output is written atomically (:func:`workbench.fsutil.atomic_write`), so it is
never half-written, and never over the input file.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from workbench import languages
from workbench.errors import WorkbenchError
from workbench.fsutil import atomic_write, same_file


class OutputIsInput(WorkbenchError):
    """``--output`` names the ``--input`` file: a usage mistake (exit code 2), caught before judging."""

    exit_code = 2


def model_presets() -> list[str]:
    """LLM presets usable as ``--judge PRESET --model PATH``: those that need nothing from a recipe."""
    from workbench.judges.presets import PRESETS

    return [name for name, preset in PRESETS.items() if not preset.from_recipe]


def check_paths(input_file: Path, output: Path | None) -> None:
    """Refuse an ``--output`` that is the ``--input`` file, through any spelling or link."""
    if output is not None and same_file(input_file, output):
        raise OutputIsInput(
            f"--output {output} is the same file as --input {input_file}",
            "write the judged lines to another file; the input would be replaced by them",
        )


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
            raise WorkbenchError(
                f"--judge: {recipe} defines no judge {name!r}",
                f"judges there: {', '.join(j.name for j in r.judges) or 'none'}",
            )
    if name in builtin_names():
        return JudgeSpec(name=name, kind=name)
    presets = model_presets()
    if name in presets:
        if model is None:
            raise WorkbenchError(f"--judge {name}: an LLM preset needs the judge's GGUF", "add --model PATH.gguf")
        return JudgeSpec(name=name, kind="llm", preset=name, model=model)
    raise WorkbenchError(
        f"--judge: unknown judge {name!r}",
        f"use {' or '.join(builtin_names())}, an LLM preset ({', '.join(presets)}) with --model, "
        "or a judge of --recipe",
    )


def read_items(path: Path) -> tuple[list[tuple[int, dict]], list[str]]:
    """Good (line number, object) pairs and one message per bad line."""
    if not path.is_file():
        raise WorkbenchError(f"--input: {path} not found", "give a JSONL file with prompt, response and lang")
    good, bad = [], []
    with open(path, encoding="utf-8", errors="replace") as f:
        for number, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                bad.append(f"{path}:{number}: not valid JSON ({exc.msg})")
                continue
            if not isinstance(obj, dict):
                bad.append(f"{path}:{number}: expected a JSON object")
                continue
            missing = [k for k in ("prompt", "response", "lang") if not isinstance(obj.get(k), str)]
            if missing:
                bad.append(f"{path}:{number}: missing or non-text field(s): {', '.join(missing)}")
                continue
            if obj["lang"] not in languages.LANGUAGES:
                guess = languages.suggest(obj["lang"])
                extra = f"; did you mean {guess!r}?" if guess else ""
                bad.append(f"{path}:{number}: unknown language {obj['lang']!r}{extra}")
                continue
            good.append((number, obj))
    return good, bad


def judge_file(input_file: Path, name: str, *, output: Path | None, recipe: Path | None, model: Path | None) -> int:
    """Judge every good line of ``input_file`` with the judge ``name``; write JSONL to ``output`` (or
    stdout). Returns the number of lines judged."""
    from workbench import judges
    from workbench.judges.base import JudgeItem

    check_paths(input_file, output)
    spec = resolve_spec(name, recipe=recipe, model=model)
    good, bad = read_items(input_file)
    for message in bad:
        print(f"skipped {message}", file=sys.stderr)
    if not good:
        raise WorkbenchError(f"--input: {input_file} has no usable line", "each line needs prompt, response and lang")
    judge = judges.build(spec)
    items = [JudgeItem(prompt=o["prompt"], response=o["response"], lang=o["lang"]) for _, o in good]
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
