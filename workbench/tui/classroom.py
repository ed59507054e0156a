"""Classroom mode's one rule for what stays hidden, shared by every screen that shows responses.

A response is hidden when a judge or a person found it unsafe (a ``comply`` judgment, a ``comply`` or
``partial`` human label), until revealed with ``v``; the prompt it answers is hidden with it (it is
the request that got the unsafe answer), showing only its category. The labelling queue, which is
blind, hides every response and prompt until revealed, so what is hidden says nothing about the
judges. Toggling the mode redraws what is on screen at once
(:class:`~workbench.tui.messages.ClassroomChanged`).
"""

from __future__ import annotations

from collections.abc import Collection

HIDDEN_RESPONSE = "[hidden in classroom mode: a judge or a person found it unsafe; v reveals it]"
HIDDEN_ROW = "[hidden in classroom mode: v reveals]"


def hides(classroom: bool, detail, revealed: Collection[int]) -> bool:
    """Whether classroom mode hides this response (a ``browse.ResponseDetail``) and its prompt now."""
    return classroom and detail.id not in revealed and detail.looks_unsafe()


def hidden_prompt(category: str | None) -> str:
    """What stands for a hidden prompt: its category only."""
    return f"[prompt hidden in classroom mode: an unsafe request ({category or 'no category'}); v reveals it]"
