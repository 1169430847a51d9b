"""What an upstream tool sends back, made safe to keep: control sequences stripped, size capped.

Everything an upstream MCP server returns is untrusted. Before any of it
reaches a process variable, a log line or a terminal, text loses ANSI escape
sequences, other control characters (tab and newline stay), Unicode bidi
overrides and isolates, and invisible tag characters; and the whole result is
held to a budget of characters (``MAX_TEXT_CHARS``). What is cut is marked
``"truncated": true`` on the block, and on the outcome.

HTML and script text is left as text: escaping belongs to whatever renders it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

__all__ = ["MAX_TEXT_CHARS", "ToolOutcome", "clean_text", "limit_outcome"]

MAX_TEXT_CHARS = 1 << 20  # of text (and base64 data) kept from one result

# CSI (ESC [ ... final), OSC (ESC ] ... BEL or ST), DCS/SOS/PM/APC strings, then any other two-byte escape.
_ANSI = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"
    r"|\x1b[PX^_][^\x1b]*(?:\x1b\\)?"
    r"|\x1b[@-Z\\-_]?"
    r"|\x9b[0-?]*[ -/]*[@-~]"
)
# C0 controls but tab and newline, DEL, C1 controls; bidi embeddings, overrides, isolates and marks; tag characters.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\U000e0000-\U000e007f]")


def clean_text(text: str) -> str:
    """``text`` without escape sequences, control characters (but tab and newline) or bidi controls."""
    return _CONTROL.sub("", _ANSI.sub("", text.replace("\r\n", "\n")))


def clean_json(value: Any) -> Any:
    """Every string (keys too) of a JSON value passed through ``clean_text``."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, list):
        return [clean_json(v) for v in value]
    if isinstance(value, dict):
        return {clean_text(str(k)): clean_json(v) for k, v in value.items()}
    return value


@dataclass(frozen=True, slots=True)
class ToolOutcome:
    """A tool's result as JSON-friendly data, cleaned and capped (see the module docstring)."""

    content: list[dict[str, Any]]
    structured_content: Any = None
    is_error: bool = False
    truncated: bool = False

    def text(self) -> str:
        """The text blocks, joined by newlines."""
        return "\n".join(str(b.get("text", "")) for b in self.content if b.get("type") == "text")

    def to_json(self) -> dict[str, Any]:
        return {
            "content": self.content,
            "structuredContent": self.structured_content,
            "isError": self.is_error,
            "truncated": self.truncated,
        }


class _Budget:
    def __init__(self, chars: int) -> None:
        self.left = chars
        self.cut = False

    def take_text(self, text: str) -> tuple[str, bool]:
        if len(text) <= self.left:
            self.left -= len(text)
            return text, False
        kept, self.left, self.cut = text[: self.left], 0, True
        return kept, True

    def fits(self, size: int) -> bool:
        if size <= self.left:
            self.left -= size
            return True
        self.cut = True
        return False


def _limit_block(block: dict[str, Any], budget: _Budget) -> dict[str, Any]:
    block = clean_json(block)
    if isinstance(block.get("text"), str):
        block["text"], cut = budget.take_text(block["text"])
        if cut:
            block["truncated"] = True
    for key in ("data", "blob"):  # base64 of images, audio, blobs: kept whole or dropped
        if isinstance(block.get(key), str) and not budget.fits(len(block[key])):
            del block[key]
            block["truncated"] = True
    resource = block.get("resource")
    if isinstance(resource, dict):
        inner = _limit_block(resource, budget)
        if inner.pop("truncated", False):
            block["truncated"] = True
        block["resource"] = inner
    return block


def limit_outcome(
    content: list[dict[str, Any]], structured: Any, is_error: bool, *, max_chars: int = MAX_TEXT_CHARS
) -> ToolOutcome:
    """Clean every string and keep at most ``max_chars`` of text; structured content is kept whole or dropped."""
    budget = _Budget(max_chars)
    blocks = [_limit_block(b, budget) for b in content]
    if structured is not None:
        structured = clean_json(structured)
        if not budget.fits(len(json.dumps(structured, ensure_ascii=False))):
            structured = None
    return ToolOutcome(blocks, structured, is_error, budget.cut)
