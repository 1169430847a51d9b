"""Untrusted values made fit to show: what agents, tools and people wrote, never trusted by the console.

Jinja's autoescaping already makes such text inert HTML; this module adds
the two things escaping does not: characters that change how text *looks*
(controls, and the bidirectional overrides such as U+202E that can make
``exe.txt`` read as ``txt.exe``) are shown as their escapes, the way
``agenthub journal`` shows them in a terminal; and a long value is cut, so a
1 MB tool result neither slows the page nor buries it. The full value stays
in the API (``/api/v1/...``) for whoever needs it.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["LIMIT", "clip", "visible"]

LIMIT = 4000  # characters of one value shown on a page
_KEPT = {"\n", "\t"}


def visible(text: str) -> str:
    """``text`` with every non-printable character (controls, bidi overrides, zero-width ones) as its escape."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() or c in _KEPT else repr(c)[1:-1] for c in text)


def clip(value: Any, limit: int = LIMIT) -> str:
    """A value as people read it: a string as itself, anything else as indented JSON; cut after ``limit``."""
    if isinstance(value, str):
        text = value
    else:
        text = json.dumps(value, ensure_ascii=False, indent=2, default=str, sort_keys=True)
    if len(text) > limit:
        text = f"{text[:limit]}… ({len(text) - limit:,} more characters not shown)"
    return visible(text)
