"""Why a judge decided: each current judgment's score and evidence (the rule and the cues), as text.

The read layer's browsing queries (:mod:`workbench.store.browse`) give a judgment's label and score;
the evidence (``judgments.evidence_json``: the rule that fired, the cues matched, the reply's
structure and language, an LLM judge's decisive line) and the judge model's raw answer are read here,
through :mod:`workbench.store.read` and its definition of "current", for the responses and compare
screens, the way ``inspect view`` shows a scorer's explanation beside its score.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from workbench.store import browse

MAX_CUES = 6


@dataclass(frozen=True)
class JudgmentEvidence:
    """One current judgment of a response, with what the judge saw."""

    response_id: int
    judge: str
    label: str
    score: float | None
    evidence: dict[str, Any] = field(default_factory=dict)
    raw_output: str | None = None
    degenerate: bool = False
    off_language: bool = False


def judgment_evidence(db, ids: Sequence[int]) -> dict[int, list[JudgmentEvidence]]:
    """The current judgments of each response id, with their evidence, judges in name order."""
    out: dict[int, list[JudgmentEvidence]] = {i: [] for i in ids}
    if not ids:
        return out
    rows = browse.current_judgment_rows(db, ids)
    for r in rows:
        try:
            evidence = json.loads(r["evidence_json"] or "{}")
        except ValueError:
            evidence = {"unreadable": r["evidence_json"]}
        out[r["response_id"]].append(
            JudgmentEvidence(
                r["response_id"],
                r["judge"],
                r["label"],
                r["score"],
                evidence if isinstance(evidence, dict) else {"value": evidence},
                r["raw_output"],
                bool(r["degenerate"]),
                bool(r["off_language"]),
            )
        )
    return out


def headline(j: JudgmentEvidence) -> str:
    """``judge: label · score 0.03 · rule refusal (confidence 0.99)`` and the judgment's flags."""
    parts = [f"{j.judge}: {j.label}"]
    if j.score is not None:
        parts.append(f"score {j.score:.2f}")
    ev = j.evidence
    if ev.get("rule"):
        conf = ev.get("confidence")
        parts.append(f"rule {ev['rule']}" + (f" (confidence {conf:.2f})" if isinstance(conf, (int, float)) else ""))
    if ev.get("preset"):
        parts.append(f"preset {ev['preset']}")
    parts += [flag for flag, on in (("degenerate", j.degenerate), ("off-language", j.off_language)) if on]
    return " · ".join(parts)


def _cue(cue: dict[str, Any], text: str | None) -> str:
    """A matched cue as a person reads it; a pattern cue shows the words it matched (when ``text`` is given)."""
    said = str(cue.get("cue", ""))
    pos = cue.get("pos")
    if said.startswith("re:"):
        if text is not None and isinstance(pos, int) and 0 <= pos < len(text):
            said = text[pos : pos + 40].split("\n")[0].rstrip()
            said += "…" if len(text) > pos + 40 else ""
        else:
            said = "(a pattern)"
    where = " (opening)" if cue.get("in_opening") else ""
    return f"{cue.get('kind', '?')} “{said}”{where}"


def details(j: JudgmentEvidence, text: str | None = None) -> list[str]:
    """The evidence under the headline: cues, reasons, structure, language, an LLM judge's line.

    ``text`` is the response, for showing what a pattern cue matched; pass None where the response
    itself is hidden (classroom mode), so nothing of it shows through the evidence.
    """
    ev, lines = j.evidence, []
    if ev.get("reason"):
        lines.append(f"why: {ev['reason']}")
    cues = [c for c in ev.get("cues") or [] if isinstance(c, dict)]
    if cues:
        shown = [_cue(c, text) for c in cues[:MAX_CUES]]
        more = f" and {len(cues) - MAX_CUES} more" if len(cues) > MAX_CUES else ""
        lines.append("cues: " + " · ".join(shown) + more)
    elif "cues" in ev:
        lines.append("cues: none matched")
    structure = ev.get("structure") or []
    if structure:
        counts = Counter(str(s) for s in structure)
        lines.append("structure: " + ", ".join(f"{k} ×{n}" if n > 1 else k for k, n in counts.items()))
    lang = ev.get("language")
    if isinstance(lang, dict) and lang.get("detected"):
        lines.append(f"reply language: {lang['detected']} (prompt {lang.get('expected', '?')})")
    topic = ev.get("topicality")
    if isinstance(topic, dict) and topic.get("prompt_words"):
        lines.append(
            f"takes up {topic.get('found', 0)} of the request's {topic['prompt_words']:g} content words "
            f"(coverage {topic.get('coverage', 0):.2f})"
        )
    if ev.get("line"):
        lines.append(f"decisive line: {str(ev['line'])[:200]}")
    elif j.raw_output and j.label == "unparseable":
        lines.append(f"judge said: {j.raw_output[:200]}")
    return lines


def explain(j: JudgmentEvidence, text: str | None = None) -> list[str]:
    """The headline, then the evidence lines indented."""
    return [headline(j), *(f"  {line}" for line in details(j, text))]
