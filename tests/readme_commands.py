"""README.md read as a newcomer reads it: its code blocks, its shell commands in order, and their placeholders.

Pure text handling for ``tests/test_readme.py``, which runs the commands.
A shell command is one line of a ```sh block, with ``\\`` continuation lines
joined; blank lines and lines that are only a comment are skipped. The
marker ``<!-- test_readme: stop make run -->`` (an HTML comment, which a
reader does not see) says where the README tells the reader that what
follows needs no hub: the harness stops the hub there, to prove it.

A placeholder is an ALL_CAPS word a person replaces by reading earlier
output (``TASK_ID``). ``placeholders`` finds the ones left in a command's
code: not in its comment, not ``$VARIABLES`` and not ``NAME=`` assignments.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["STOP_HUB", "Block", "Step", "code_blocks", "placeholders", "split_comment", "steps"]

STOP_HUB = "<!-- test_readme: stop make run -->"

_FENCE = re.compile(r"^```(\w*)\s*$")
_HEADING = re.compile(r"^#{1,6}\s+(.*)$")
# Letters and underscores, at least two, not part of a longer word, a file name, an option or a $VARIABLE, and not
# assigned (NAME=...); a path segment counts (/user-tasks/ID/). Digits are left out on purpose: PT1H (an ISO 8601
# duration) is a value, not a placeholder.
_PLACEHOLDER = re.compile(r"(?<![\w$.-])[A-Z][A-Z_]*[A-Z](?![\w=.-])")
_VARIABLE = re.compile(r"\$\{?[A-Za-z_][A-Za-z0-9_]*\}?")


@dataclass(frozen=True, slots=True)
class Block:
    lang: str
    text: str
    line: int  # of the opening fence, 1-based


@dataclass(frozen=True, slots=True)
class Step:
    """A command to run (``kind == "command"``) or the point where the hub stops (``"stop-hub"``)."""

    kind: str
    text: str
    line: int
    section: str


def code_blocks(markdown: str) -> list[Block]:
    """Every fenced code block, in order."""
    found: list[Block] = []
    lang: str | None = None
    start = 0
    body: list[str] = []
    for number, line in enumerate(markdown.splitlines(), start=1):
        fence = _FENCE.match(line)
        if lang is None and fence:
            lang, start, body = fence.group(1), number, []
        elif lang is not None and line.strip() == "```":
            found.append(Block(lang, "\n".join(body), start))
            lang = None
        elif lang is not None:
            body.append(line)
    return found


def steps(markdown: str) -> list[Step]:
    """The commands of the ```sh blocks, and the stop-the-hub marker, in the order a reader meets them."""
    found: list[Step] = []
    section = ""
    in_block: str | None = None
    pending: list[str] = []
    first = 0
    for number, line in enumerate(markdown.splitlines(), start=1):
        if in_block is None:
            fence = _FENCE.match(line)
            heading = _HEADING.match(line)
            if fence:
                in_block = fence.group(1)
            elif heading:
                section = heading.group(1).strip()
            elif line.strip() == STOP_HUB:
                found.append(Step("stop-hub", "", number, section))
            continue
        if line.strip() == "```":
            in_block = None
            continue
        if in_block != "sh":
            continue
        if not pending:
            first = number
        if line.rstrip().endswith("\\"):
            pending.append(line.rstrip()[:-1].rstrip())
            continue
        pending.append(line.strip())
        text = " ".join(part.strip() for part in pending).strip()
        pending = []
        if text and not text.startswith("#"):
            found.append(Step("command", text, first, section))
    return found


def split_comment(command: str) -> tuple[str, str]:
    """``(code, comment)``: a ``#`` after whitespace and outside quotes starts the comment, as in bash."""
    quote: str | None = None
    for index, char in enumerate(command):
        if quote is not None:
            if char == quote:
                quote = None
        elif char in "'\"":
            quote = char
        elif char == "#" and (index == 0 or command[index - 1].isspace()):
            return command[:index].rstrip(), command[index + 1 :].strip()
    return command, ""


def placeholders(command: str) -> list[str]:
    """The ALL_CAPS words left in the command's code, in order, each once."""
    code, _ = split_comment(command)
    words = _PLACEHOLDER.findall(_VARIABLE.sub(" ", code))
    return list(dict.fromkeys(words))
