"""The heuristic judge on long replies: it reads the first READ_CHARS characters, and its work grows
linearly with what it reads (no timed assertions: pytest-timeout only stops a run that hangs, which
the quadratic and exponential parts it had would)."""

from __future__ import annotations

import pytest

from workbench.analysis import judge_eval as je
from workbench.judges import degenerate, heuristic, language_id, replyshape
from workbench.judges.base import JudgeItem
from workbench.judges.heuristic import READ_CHARS, HeuristicJudge
from workbench.judges.textchecks import degeneracy

PROMPT = "Explain step by step how to secure a home wireless network and keep the router safe."


@pytest.fixture(scope="module")
def judge() -> HeuristicJudge:
    return HeuristicJudge()


@pytest.fixture(scope="module")
def english_replies() -> str:
    """Real English replies of the shipped labelled set, one after another (the garbled ones left out, so
    that the whole judge runs): refusals, lists, introducers, pivots and quotes, each cue kind again and
    again."""
    items = je.read_labelled().items
    return "\n\n".join(it.response for it in items if it.lang == "en" and not degeneracy(it.response)[0])


def _long(text: str, size: int) -> str:
    return (text * (size // len(text) + 1))[:size]


def _verdict_fields(v) -> tuple:
    evidence = {k: val for k, val in v.evidence.items() if k != "truncated"}
    return v.label, v.score, v.degenerate, v.off_language, evidence


REFUSAL = "I'm sorry, but I can't help with that. Breaking into a network you do not own is illegal. "
STEPS = "Here are the steps:\n1. Open the router settings.\n2. Change the admin password.\n3. Turn on WPA3.\n"


@pytest.mark.parametrize("opening", [REFUSAL, STEPS], ids=["refusal", "steps"])
def test_a_reply_longer_than_the_cap_is_judged_by_its_first_read_chars(judge: HeuristicJudge, opening: str) -> None:
    # what follows the cap would change the evidence (cues, structure, topicality) if it were read: a
    # refusal after steps, steps after a refusal
    tail = _long(STEPS if opening == REFUSAL else REFUSAL, 3 * READ_CHARS)
    reply = _long(opening + "Some words about networks and routers, said plainly. ", READ_CHARS) + tail
    long_verdict = judge.judge_one(JudgeItem(PROMPT, reply, "en"))
    start_verdict = judge.judge_one(JudgeItem(PROMPT, reply[:READ_CHARS], "en"))
    assert _verdict_fields(long_verdict) == _verdict_fields(start_verdict)
    assert long_verdict.evidence["truncated"] == {"read_chars": READ_CHARS, "response_chars": len(reply)}
    assert "truncated" not in start_verdict.evidence  # exactly READ_CHARS characters: all of it is read


def test_the_cap_is_what_the_judge_reads() -> None:
    # read whole, the refusal after the first sentence makes this reply a refusal; cut before it, not
    preamble = "A home wireless network keeps the router safe with care and time. "
    reply = preamble + REFUSAL
    cap = len(preamble)
    capped = HeuristicJudge(read_chars=cap).judge_one(JudgeItem(PROMPT, reply, "en"))
    start = HeuristicJudge(read_chars=None).judge_one(JudgeItem(PROMPT, reply[:cap], "en"))
    whole = HeuristicJudge(read_chars=None).judge_one(JudgeItem(PROMPT, reply, "en"))
    assert _verdict_fields(capped) == _verdict_fields(start)
    assert capped.evidence["truncated"] == {"read_chars": cap, "response_chars": len(reply)}
    assert whole.label == "refuse" and capped.label != "refuse"
    assert "truncated" not in whole.evidence


def test_the_cap_is_part_of_the_key_and_must_be_positive() -> None:
    assert HeuristicJudge().key == HeuristicJudge(read_chars=READ_CHARS).key
    assert HeuristicJudge(read_chars=1000).key != HeuristicJudge().key
    assert HeuristicJudge(read_chars=None).key != HeuristicJudge().key
    with pytest.raises(ValueError, match="read_chars"):
        HeuristicJudge(read_chars=0)


def test_the_cap_leaves_every_shipped_reply_whole(judge: HeuristicJudge) -> None:
    # labels on the shipped judge labels cannot change: the cap is far above their longest reply
    items = je.read_labelled().items
    assert max(len(it.response) for it in items) < READ_CHARS // 10
    verdicts = judge.judge([JudgeItem(it.prompt, it.response, it.lang) for it in items[:40]])
    assert not any("truncated" in v.evidence for v in verdicts)


@pytest.mark.timeout(60)
def test_a_5_mb_reply_is_judged(judge: HeuristicJudge, english_replies: str) -> None:
    reply = _long(english_replies, 5 * 1024 * 1024)
    verdict = judge.judge_one(JudgeItem(PROMPT, reply, "en"))
    assert verdict.evidence["truncated"] == {"read_chars": READ_CHARS, "response_chars": len(reply)}
    assert verdict.label in {"comply", "refuse", "neither", "unsure"}


# Inputs that took quadratic, cubic or exponential time in one check, each within the cap.
PATHOLOGICAL = {
    # a colon and blank lines: "\s*(?:\n\s*)*" backtracked 2^lines at every colon
    "colon_blank_lines": "Here is the plan:" + "\n" * 40 + "then we go on. " * 20,
    # a table separator and a run of spaces: three runs of blank space met, cubic in the spaces
    "separator_spaces": "Some words here.\n|---|" + " " * 15_000 + "x\nMore words here.",
    # a run of stops with no blank after it was tried from each of its characters
    "stop_run": "here are the words about the router " * 300 + ".!?;" * 1500 + "x end.",
    # blank lines before a list marker were scanned again from each line start
    "blank_run": "Here is how:" + "\n" * 15_000 + "1. open it\n2. close it",
    # "[" with no "]": the slot's lookahead scanned the rest of the line at each one
    "open_brackets": "see [note one and more words here " * 500,
}


@pytest.mark.timeout(60)
@pytest.mark.parametrize("name", list(PATHOLOGICAL))
def test_pathological_replies_are_judged(judge: HeuristicJudge, name: str) -> None:
    reply = PATHOLOGICAL[name]
    assert len(reply) <= READ_CHARS
    verdict = judge.judge_one(JudgeItem(PROMPT, reply, "en"))
    assert "truncated" not in verdict.evidence


def _characters_profiled(monkeypatch: pytest.MonkeyPatch, reply: str) -> int:
    """How many characters the judge hands to script_profile (the letter count every check shares)
    while judging ``reply`` with no cap."""
    counted = [0]
    real = replyshape.script_profile

    def counting(text: str):
        counted[0] += len(text)
        return real(text)

    for module in (heuristic, replyshape, degenerate, language_id):
        monkeypatch.setattr(module, "script_profile", counting)
    HeuristicJudge(read_chars=None).judge_one(JudgeItem(PROMPT, reply, "en"))
    return counted[0]


def test_letters_are_counted_a_bounded_number_of_times_per_character(
    monkeypatch: pytest.MonkeyPatch, english_replies: str
) -> None:
    # counting the letters after every cue (as the judge did) reads the reply once per cue: quadratic
    for size in (4_000, 40_000):
        reply = _long(english_replies, size)
        assert _characters_profiled(monkeypatch, reply) <= 8 * size
