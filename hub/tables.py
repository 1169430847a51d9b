"""Plain text tables and times for the command line: a header row, aligned columns, times in UTC.

Owns only layout: which columns a listing has is decided by its printer
(``hub.output``). Cells are one line each; a long cell is shortened with
``…`` so a row stays one line, and the last column is never padded.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

__all__ = ["RAW_IN_JSON", "clip", "compact", "due_time", "printable", "table", "utc_time"]

_TIME = "%Y-%m-%d %H:%M:%S"
# DEL, the C1 controls (U+009B is a one-character CSI) and the bidirectional marks, overrides and isolates that
# reorder what a terminal shows: what JSON may carry raw in a string but a terminal acts on.
RAW_IN_JSON = "\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069"
# Those and the C0 controls (ESC starts ANSI sequences): never written raw to a terminal.
_UNPRINTABLE = re.compile(f"[\x00-\x1f{RAW_IN_JSON}]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str) -> str:
    """``text`` with every control character and bidi override shown as an escape (``\\x1b``), never acted on."""
    return _UNPRINTABLE.sub(_escape, text)


def utc_time(millis: int | None) -> str:
    """``2026-12-06 10:01:02``: a stored time (milliseconds since the epoch) in UTC; empty when unknown."""
    if millis is None:
        return ""
    return datetime.fromtimestamp(millis / 1000, UTC).strftime(_TIME)


def due_time(text: str | None) -> str:
    """A due date as a model gives it (ISO 8601, usually with an offset), in UTC when it has an offset."""
    if not text:
        return ""
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return text  # not ours to judge: show what the model said
    if parsed.tzinfo is None:
        return parsed.strftime(_TIME)
    return parsed.astimezone(UTC).strftime(_TIME)


def clip(text: str, width: int) -> str:
    """``text`` on one line, at most ``width`` characters (shortened with ``…``)."""
    line = printable(" ".join(text.split()))
    return line if len(line) <= width else line[: width - 1] + "…"


def compact(values: Mapping[str, Any], width: int = 60) -> str:
    """``question="Which size?", amount=120``: named values as one short line."""
    parts = [f"{name}={json.dumps(value, ensure_ascii=False)}" for name, value in values.items()]
    return clip(", ".join(parts), width)


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """The lines of a table: the header row, then one line per row, columns two spaces apart."""
    rows = [[printable(cell) for cell in row] for row in rows]
    widths = [max([len(h), *(len(r[i]) for r in rows)]) for i, h in enumerate(headers)]
    lines = []
    for cells in (headers, *rows):
        padded = [cell.ljust(widths[i]) for i, cell in enumerate(cells[:-1])]
        lines.append("  ".join([*padded, cells[-1]]).rstrip())
    return lines
