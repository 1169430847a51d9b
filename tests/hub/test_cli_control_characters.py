"""RELIABILITY G12: what a model or a caller wrote reaches a terminal as text, never as terminal commands.

A variable holding an ANSI sequence that clears the screen, a one-character
CSI (U+009B) and a right-to-left override is shown by the real ``agenthub``
executable in ``instance``, ``journal`` and ``--json`` output with each of
those characters as an escape; the JSON still reads back to the same value.
The hub's log lines do the same.
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

from hub.logs import SafeFormatter
from hub.tables import printable
from tests.hub.test_cli_listings import DATA, Cli

HOSTILE = "ok\x1b[2J\x1b]0;pwned\x07\x9b31m\u202egnp.exe\r\nnext"
RAW = ("\x1b", "\x07", "\x9b", "\u202e", "\r")


def _clean(text: str) -> None:
    found = [repr(c) for c in RAW if c in text]
    assert not found, f"raw control characters reached the terminal: {found}"


def test_instance_journal_and_json_output_show_control_characters_as_escapes(tmp_path: Path) -> None:
    cli = Cli(tmp_path)
    cli("deploy", str(DATA / "cli" / "refund_review.bpmn"))
    order = {"order": {"customer": HOSTILE, "total": 120, "reason": HOSTILE}}
    key = cli.json("start", "refund_review", "--vars", json.dumps(order))["instance"]
    shown = cli("instance", str(key)).stdout
    _clean(shown)
    assert "\\u001b[2J" in shown and "\\x9b" in shown and "\\u202e" in shown
    journal = cli("journal", str(key)).stdout
    _clean(journal)
    as_json = cli("instance", str(key), "--json").stdout
    _clean(as_json)
    assert json.loads(as_json)["variables"]["order"]["customer"] == HOSTILE  # the same data, escaped
    _clean(cli("tasks").stdout)


def test_log_lines_escape_control_characters_but_keep_tracebacks_readable() -> None:
    try:
        raise ValueError(HOSTILE)
    except ValueError:
        record = logging.LogRecord("agenthub.worker", logging.WARNING, __file__, 1, "job 7 failed: %s", (HOSTILE,),
                                   exc_info=sys.exc_info())
    line = SafeFormatter("%(levelname)s %(message)s").format(record)
    _clean(line)
    assert line.startswith("WARNING job 7 failed: ok\\x1b[2J")
    assert "Traceback (most recent call last):\n" in line  # the newline between message and traceback stays


def test_printable_escapes_only_what_a_terminal_would_act_on() -> None:
    assert printable("naïve café — 東京 ✓\ttab") == "naïve café — 東京 ✓\\x09tab"
    assert printable("\x00\x7f\u2066") == "\\x00\\x7f\\u2066"
