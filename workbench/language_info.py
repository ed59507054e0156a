"""What the workbench has for each language: shipped data rows per set, and judge coverage.

Read by ``workbench languages`` (and its ``--format json``) so a user can see before writing a
recipe which languages the shipped data and the heuristic judge cover.
"""

from __future__ import annotations

import json
from collections import Counter
from functools import cache
from typing import Any

from workbench.languages import LANGUAGES, MULTIJAIL_LANGUAGES, STUDY_LANGUAGES

SHIPPED_SETS = ("benign", "adversarial", "alignment", "choice", "heldout", "overrefusal")


@cache
def shipped_counts() -> dict[str, Counter]:
    """Rows per language of each shipped data set (the files are small: read once)."""
    from workbench.data import shipped_path

    out: dict[str, Counter] = {}
    for name in SHIPPED_SETS:
        counts: Counter = Counter()
        with open(shipped_path(name), encoding="utf-8") as f:
            for line in f:
                if line.strip():
                    counts[json.loads(line).get("lang")] += 1
        out[name] = counts
    return out


def language_table() -> list[dict[str, Any]]:
    """One row per known language code: names, script, resource level, shipped rows, judge coverage."""
    from workbench.judges.coverage import heuristic_languages

    counts = shipped_counts()
    heuristic = set(heuristic_languages())
    rows = []
    for lang in LANGUAGES.values():
        rows.append(
            {
                "code": lang.code,
                "name": lang.name,
                "native": lang.native,
                "script": lang.script,
                "resource": lang.resource,
                "shipped_data": {name: counts[name].get(lang.code, 0) for name in SHIPPED_SETS},
                "heuristic_judge": lang.code in heuristic,
                "tags": [
                    t for t, s in (("study", STUDY_LANGUAGES), ("multijail", MULTIJAIL_LANGUAGES)) if lang.code in s
                ],
            }
        )
    return rows
