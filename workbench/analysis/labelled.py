"""Labelled sets: JSONL of (prompt, response, lang, human label) read, checked and filtered.

The shipped set (``workbench/data/shipped/judge_labels/``) and a study's exported human labels
(``workbench labels-export``) are both labelled sets; :mod:`workbench.analysis.judge_eval` measures
a judge on one. Labels are on the SORRY-Bench scale: ``1``/``0``, or the TUI's words (``comply`` and
``partial`` are 1, ``refuse`` and ``neither`` are 0, ``unclear`` is skipped and counted).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from workbench import languages
from workbench.errors import WorkbenchError
from workbench.judges.base import JudgeItem

HUMAN_VALUES: dict[str, int] = {"comply": 1, "partial": 1, "refuse": 0, "neither": 0}
HUMAN_SKIPPED = ("unclear",)  # the person could not tell: the line is skipped, counted apart
JUDGE_VALUES: dict[str, int] = {"comply": 1, "refuse": 0, "neither": 0}
ABSTAIN = ("unsure", "unparseable")  # the judge gave no 1/0: left out of kappa and accuracy
SPLITS = ("dev", "test")
POOLED = "all"  # the group that pools every language
REQUIRED = ("prompt", "response", "lang")


class EvalInputError(WorkbenchError):
    """A labelled set that cannot be evaluated as asked (no usable line, nothing left after the
    filters, a bad filter): a usage mistake, exit code 2."""

    exit_code = 2


def shipped_labels_dir() -> Path:
    """The shipped labelled set: one ``<lang>.jsonl`` per study language."""
    return Path(str(resources.files("workbench.data") / "shipped" / "judge_labels"))


# -- reading a labelled set ------------------------------------------------------------------------
@dataclass(frozen=True)
class LabelledItem:
    prompt: str
    response: str
    lang: str  # the prompt's language (ISO 639-1)
    label: int  # the person's: 1 = the response complies, 0 = it does not
    where: str  # "file:line"
    human: Any = None  # the label as written in the file (1, "partial", ...)
    id: str | None = None
    split: str | None = None
    kind: str | None = None
    outcome: str | None = None

    def judge_item(self) -> JudgeItem:
        return JudgeItem(prompt=self.prompt, response=self.response, lang=self.lang)


@dataclass
class LabelledSet:
    items: list[LabelledItem]
    problems: list[str] = field(default_factory=list)  # one "file:line: what" per bad line
    unclear: int = 0  # lines skipped because the person labelled them unclear
    files: list[Path] = field(default_factory=list)


def item_problem(obj: Any) -> str | None:
    """What is wrong with one input line's object for judging (``prompt``, ``response``, ``lang``), or
    None. Shared with ``workbench judge``."""
    if not isinstance(obj, dict):
        return "expected a JSON object"
    missing = [k for k in REQUIRED if not isinstance(obj.get(k), str)]
    if missing:
        return f"missing or non-text field(s): {', '.join(missing)}"
    if obj["lang"] not in languages.LANGUAGES:
        guess = languages.suggest(obj["lang"])
        return f"unknown language {obj['lang']!r}" + (f"; did you mean {guess!r}?" if guess else "")
    return None


def human_value(label: Any) -> int | None:
    """The person's label as 1 or 0, or None for ``unclear``; ValueError for anything else."""
    if isinstance(label, bool):
        return int(label)
    if isinstance(label, int) and label in (0, 1):
        return label
    if isinstance(label, str):
        word = label.strip().lower()
        if word in ("0", "1"):
            return int(word)
        if word in HUMAN_VALUES:
            return HUMAN_VALUES[word]
        if word in HUMAN_SKIPPED:
            return None
    raise ValueError(f"label {label!r} is not 1/0 or one of {', '.join([*HUMAN_VALUES, *HUMAN_SKIPPED])}")


def _optional_text(obj: dict, key: str) -> str | None:
    value = obj.get(key)
    if value is None:
        return None
    return value if isinstance(value, str) else str(value)


def read_file(path: Path) -> LabelledSet:
    """The usable items of one JSONL file; bad lines become ``file:line: what`` problems."""
    out = LabelledSet(items=[], files=[path])
    with open(path, encoding="utf-8", errors="replace") as f:
        for number, line in enumerate(f, start=1):
            if not line.strip():
                continue
            where = f"{path}:{number}"
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                out.problems.append(f"{where}: not valid JSON ({exc.msg})")
                continue
            problem = item_problem(obj)
            if problem is None and "label" not in obj:
                problem = "missing field: label (the person's 1/0 or comply/refuse/partial/neither/unclear)"
            if problem is None and obj.get("split") is not None and obj["split"] not in SPLITS:
                problem = f"split {obj['split']!r} is not one of {', '.join(SPLITS)}"
            value = None
            if problem is None:
                try:
                    value = human_value(obj["label"])
                except ValueError as exc:
                    problem = str(exc)
            if problem is not None:
                out.problems.append(f"{where}: {problem}")
                continue
            if value is None:
                out.unclear += 1
                continue
            out.items.append(
                LabelledItem(
                    prompt=obj["prompt"],
                    response=obj["response"],
                    lang=obj["lang"],
                    label=value,
                    where=where,
                    human=obj["label"],
                    id=_optional_text(obj, "id"),
                    split=obj.get("split"),
                    kind=_optional_text(obj, "kind"),
                    outcome=_optional_text(obj, "outcome"),
                )
            )
    return out


def read_labelled(path: str | Path | None = None) -> LabelledSet:
    """The labelled set at ``path``: a JSONL file or a folder of ``*.jsonl`` (default: the shipped set).

    Raises :class:`EvalInputError` when the path is missing, a folder holds no ``*.jsonl``, or a file
    has no usable line (the message names the file).
    """
    path = Path(path) if path is not None else shipped_labels_dir()
    if path.is_dir():
        files = sorted(path.glob("*.jsonl"))
        if not files:
            raise EvalInputError(f"--input: {path} holds no *.jsonl file", "give a JSONL file or a folder of them")
    elif path.is_file():
        files = [path]
    else:
        raise EvalInputError(
            f"--input: {path} not found", "give a JSONL file (or a folder of them) with prompt, response, lang, label"
        )
    total = LabelledSet(items=[])
    for file in files:
        part = read_file(file)
        if not part.items:
            why = f"{len(part.problems)} bad line(s)" if part.problems else "no line"
            if part.unclear:
                why += f", {part.unclear} labelled unclear"
            raise EvalInputError(
                f"--input: {file} has no usable line ({why})",
                "each line needs prompt, response, lang and label (1/0 or comply/refuse/partial/neither)",
            )
        total.items += part.items
        total.problems += part.problems
        total.unclear += part.unclear
        total.files += part.files
    return total


def parse_langs(text: str | None) -> list[str] | None:
    """``--lang en,es`` as a list of known codes (None when not given); EvalInputError otherwise."""
    if text is None or not text.strip():
        return None
    codes = [c.strip() for c in text.split(",") if c.strip()]
    for code in codes:
        if code not in languages.LANGUAGES:
            guess = languages.suggest(code)
            raise EvalInputError(
                f"--lang: unknown language {code!r}" + (f"; did you mean {guess!r}?" if guess else ""),
                "give comma-separated codes, e.g. --lang en,es (`workbench languages` lists them)",
            )
    return list(dict.fromkeys(codes))


def select(
    items: Iterable[LabelledItem], *, split: str | None = None, langs: Sequence[str] | None = None
) -> list[LabelledItem]:
    """The items of one split and of some languages (items without a split are not in either)."""
    if split is not None and split not in SPLITS:
        raise EvalInputError(f"--split: unknown split {split!r}", f"use {' or '.join(SPLITS)}")
    return [i for i in items if (split is None or i.split == split) and (not langs or i.lang in langs)]
