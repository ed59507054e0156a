"""The flags a translation can carry and which of them make it unusable (a foundation: imports nothing,
so the store and the views can tell a failed translation without the language tools)."""

from __future__ import annotations

# The flags that make a translation unusable: it is not the text in the target language.
FAILED = frozenset({"empty", "refused", "untranslated", "off_target", "answered", "too_short", "echoed"})
# Kept as a signal, the translation still used: the translator hit its token limit.
WARNINGS = frozenset({"truncated"})


def failed(flags: list[str] | tuple[str, ...]) -> list[str]:
    """The flags among ``flags`` that make the translation unusable."""
    return [f for f in flags if f in FAILED]
