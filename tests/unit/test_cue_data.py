"""The heuristic judge's cue data files (workbench/judges/cues/<lang>.toml) and their loader."""

from __future__ import annotations

import fnmatch
import re
import tomllib
from pathlib import Path

import pytest

from workbench.judges.base import JudgeItem, Verdict
from workbench.judges.cuedata import (
    CUE_KINDS,
    REGEX_PREFIX,
    WORD_LISTS,
    load_cues,
    load_words,
    parse_table,
    parse_words,
    shipped_folder,
)
from workbench.judges.cuematch import compile_regex_cue
from workbench.judges.heuristic import HeuristicJudge
from workbench.languages import STUDY_LANGUAGES

ROOT = Path(__file__).resolve().parents[2]


def _raw(lang: str) -> dict:
    """A shipped file as TOML says it is, before the loader touches it."""
    return tomllib.loads((shipped_folder() / f"{lang}.toml").read_text(encoding="utf-8"))


def _copy_shipped(folder: Path) -> Path:
    for entry in shipped_folder().iterdir():
        if entry.name.endswith(".toml"):
            (folder / entry.name).write_bytes(entry.read_bytes())
    return folder


def _verdict(judge: HeuristicJudge, response: str, lang: str) -> Verdict:
    (verdict,) = judge.judge([JudgeItem(prompt="a request", response=response, lang=lang)])
    return verdict


# --- the shipped files -------------------------------------------------------------------------------------


def test_every_study_language_has_a_file_and_nothing_else_is_loaded() -> None:
    names = sorted(e.name for e in shipped_folder().iterdir() if e.name.endswith(".toml"))
    assert names == sorted(f"{lang}.toml" for lang in STUDY_LANGUAGES)
    assert list(load_cues()) == list(STUDY_LANGUAGES)  # in the study's order


@pytest.mark.parametrize("lang", STUDY_LANGUAGES)
def test_a_file_has_exactly_the_cue_kinds_as_lists_of_non_empty_strings(lang: str) -> None:
    raw = _raw(lang)
    assert set(raw) <= {"cues", "fragments", "words"}
    assert list(raw["cues"]) == list(CUE_KINDS)  # every kind, in the documented order
    for kind, cues in raw["cues"].items():
        assert isinstance(cues, list) and cues, (lang, kind)
        assert all(isinstance(c, str) and c.strip() and c != REGEX_PREFIX for c in cues), (lang, kind)


@pytest.mark.parametrize("lang", STUDY_LANGUAGES)
def test_a_file_lists_its_function_words(lang: str) -> None:
    words = _raw(lang)["words"]
    assert set(words) <= set(WORD_LISTS)
    function = words["function"]
    assert len(function) >= 80, lang  # articles, pronouns, auxiliaries, request verbs
    assert all(isinstance(w, str) and w.strip() == w and w for w in function), lang
    assert not {w for w in function if function.count(w) > 1}, lang
    assert load_words()[lang]["function"] == tuple(w.casefold() for w in function)


@pytest.mark.parametrize("lang", STUDY_LANGUAGES)
def test_no_cue_is_listed_twice_within_a_kind(lang: str) -> None:
    for kind, cues in _raw(lang)["cues"].items():
        assert not {c for c in cues if cues.count(c) > 1}, (lang, kind)


@pytest.mark.parametrize("lang", STUDY_LANGUAGES)
def test_every_rule_compiles_and_every_fragment_is_used(lang: str) -> None:
    table = load_cues()[lang]
    rules = [c for cues in table.values() for c in cues if c.startswith(REGEX_PREFIX)]
    for rule in rules:
        assert compile_regex_cue(rule, lang).pattern  # raises ValueError on a bad or upper-case rule
        assert not re.search(r"\{[a-z_][a-z0-9_]*\}", rule), rule  # every {fragment} was substituted
    raw_rules = [c for cues in _raw(lang)["cues"].values() for c in cues if c.startswith(REGEX_PREFIX)]
    for name in _raw(lang).get("fragments", {}):
        assert any("{" + name + "}" in rule for rule in raw_rules), f"{lang}: fragment {name!r} is never used"


def test_the_shipped_tables_build_a_judge() -> None:
    judge = HeuristicJudge(cues=load_cues())
    assert judge.key == HeuristicJudge().key
    assert all(n >= 90 for n in judge.cue_counts().values())


def test_the_files_are_package_data() -> None:
    globs = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["workbench"]
    for entry in shipped_folder().iterdir():
        if entry.name.endswith(".toml"):
            assert any(fnmatch.fnmatch(f"judges/cues/{entry.name}", g) for g in globs), entry.name


# --- fragments ---------------------------------------------------------------------------------------------

FRAGMENT_FILE = r"""
[fragments]
verbs = ["skriver", "laver"]
letter = '[a-z]'

[cues]
refuse = ['re:\bjeg (?:{verbs}) ikke{letter}{0,2}', "{verbs} as written"]
"""


def test_fragments_are_substituted_into_rules_only() -> None:
    table = parse_table(FRAGMENT_FILE)
    # a list is an alternation, a string is used as it is, a repetition count stays, a literal is untouched
    assert table == {"refuse": (r"re:\bjeg (?:skriver|laver) ikke[a-z]{0,2}", "{verbs} as written")}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[cues]\nrefuse = ['re:{verbz}']\n", r"names fragment \{verbz\}"),
        ("[cues]\nrefusals = ['no']\n", "unknown cue kind 'refusals'"),
        ("[cues]\nrefuse = ['no', '']\n", "empty cue"),
        ("[cues]\nrefuse = 'no'\n", "list of strings"),
        ("[cue]\nrefuse = ['no']\n", "unknown section"),
        ("[fragments]\nverbs = []\n[cues]\nrefuse = ['re:{verbs}']\n", "fragment 'verbs'"),
        ("[cues]\nrefuse = ['no'\n", "not valid TOML"),
        ("", "no \\[cues\\] table"),
    ],
)
def test_a_broken_file_is_refused_with_its_name(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message) as info:
        parse_table(text, "cues/xx.toml")
    assert "cues/xx.toml" in str(info.value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[words]\nstopwords = ['the']\n", "unknown word list 'stopwords'"),
        ("[words]\nfunction = 'the'\n", "list of non-empty strings"),
        ("[words]\nfunction = ['the', ' ']\n", "list of non-empty strings"),
        ("words = 3\n", "table of word lists"),
    ],
)
def test_a_broken_word_list_is_refused_with_its_name(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message) as info:
        parse_words(text, "cues/xx.toml")
    assert "cues/xx.toml" in str(info.value)


def test_word_lists_are_optional_and_casefolded() -> None:
    assert parse_words("[cues]\nrefuse = ['no']\n") == {}
    assert parse_words("[words]\nfunction = ['The', 'Of']\n") == {"function": ("the", "of")}
    # the [words] section is not a cue kind: the cue table ignores it
    assert parse_table("[cues]\nrefuse = ['no']\n[words]\nfunction = ['the']\n") == {"refuse": ("no",)}


def test_a_folder_needs_language_named_files(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no cue files"):
        load_cues(tmp_path)
    (tmp_path / "es copy.toml").write_text("[cues]\nrefuse = ['no']\n", encoding="utf-8")
    with pytest.raises(ValueError, match="must be a language code"):
        load_cues(tmp_path)


# --- editing -----------------------------------------------------------------------------------------------

REPLY = "Me temo que eso no va a ser posible para mí."


def test_an_edit_to_a_copy_of_the_files_is_picked_up(tmp_path: Path) -> None:
    folder = _copy_shipped(tmp_path)
    assert load_cues(folder) == load_cues()
    # no cue matches, and the request ("a request") gives nothing to compare: no evidence either way
    assert _verdict(HeuristicJudge(cues=load_cues(folder)), REPLY, "es").label == "unsure"

    es = folder / "es.toml"
    shipped_text = es.read_text(encoding="utf-8")
    es.write_text(shipped_text.replace("refuse = [\n", 'refuse = [\n    "me temo que",\n', 1), encoding="utf-8")
    judge = HeuristicJudge(cues=load_cues(folder))
    verdict = _verdict(judge, REPLY, "es")
    assert verdict.label == "refuse"
    assert {"table": "es", "kind": "refuse", "cue": "me temo que"}.items() <= verdict.evidence["cues"][0].items()
    assert judge.key != HeuristicJudge().key  # stored judgments tell the edited tables apart
    assert "me temo que" not in load_cues()["es"]["refuse"]  # the shipped tables are untouched

    es.write_text(shipped_text, encoding="utf-8")  # a folder passed in is read again on every call
    assert _verdict(HeuristicJudge(cues=load_cues(folder)), REPLY, "es").label == "unsure"


def test_a_word_added_to_a_fragment_reaches_its_rules(tmp_path: Path) -> None:
    folder = _copy_shipped(tmp_path)
    reply = "Jeg oversætter ikke den tekst for dig, og det bliver ved med at være sådan."
    assert _verdict(HeuristicJudge(cues=load_cues(folder)), reply, "da").label == "unsure"  # no cue: no evidence
    da = folder / "da.toml"
    da.write_text(da.read_text(encoding="utf-8").replace("verbs = [\n", 'verbs = [\n    "oversætter",\n', 1))
    verdict = _verdict(HeuristicJudge(cues=load_cues(folder)), reply, "da")
    assert verdict.label == "refuse" and verdict.evidence["cues"][0]["cue"].startswith(r"re:\bjeg (?:oversætter|")


def test_a_language_is_added_by_adding_its_file(tmp_path: Path) -> None:
    folder = _copy_shipped(tmp_path)
    reply = "Non posso farlo, mi dispiace, ma è contro le regole che seguo."
    before = _verdict(HeuristicJudge(cues=load_cues(folder)), reply, "it")
    assert before.label == "unsure" and before.evidence["rule"] == "unsupported_language"  # no table for it
    assert "Italian" in before.evidence["reason"]
    (folder / "it.toml").write_text('[cues]\nrefuse = ["non posso"]\n', encoding="utf-8")
    tables = load_cues(folder)
    assert list(tables) == [*STUDY_LANGUAGES, "it"]
    verdict = _verdict(HeuristicJudge(cues=tables), reply, "it")
    assert verdict.label == "refuse" and verdict.evidence["tables"] == ["en", "it"]


def test_the_loaded_tables_are_the_callers_to_change() -> None:
    tables = load_cues()
    tables["es"]["refuse"] = ("me temo que",)
    del tables["en"]
    again = load_cues()
    assert "en" in again and "me temo que" not in again["es"]["refuse"]
