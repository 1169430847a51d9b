"""The hub's own log lines, with whatever a model, a payload or a peer wrote made harmless for a terminal.

Log messages name jobs, errors and answers that come from outside: a model's
output or a remote agent's error text can hold ANSI escapes (recolour,
move the cursor, rewrite earlier lines), other control characters or
bidirectional overrides. The formatter shows each of them as an escape
(``\\x1b``, ``\\u202e``), so a log line says what happened and nothing more
(RELIABILITY G12). ``configure_logging`` is called once by the CLI.
"""

from __future__ import annotations

import logging
import sys

from hub.tables import printable

__all__ = ["SafeFormatter", "configure_logging"]


class SafeFormatter(logging.Formatter):
    """A formatter whose lines carry no control characters but the newline between a message and its traceback."""

    def format(self, record: logging.LogRecord) -> str:
        return "\n".join(printable(line) for line in super().format(record).split("\n"))


def configure_logging(level: int | str = logging.WARNING) -> None:
    """Send the ``agenthub`` loggers to stderr through ``SafeFormatter`` (idempotent; ``level`` may be raised)."""
    logger = logging.getLogger("agenthub")
    if isinstance(level, str):
        level = logging.getLevelName(level.upper())
        if not isinstance(level, int):
            level = logging.INFO
    logger.setLevel(level)
    if any(isinstance(h.formatter, SafeFormatter) for h in logger.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(SafeFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logger.addHandler(handler)
    logger.propagate = False
