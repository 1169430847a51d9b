"""Tokenizer: FEEL source text to a list of tokens.

Names are produced one word at a time; joining words into names that contain
spaces (``Monthly Salary``, ``date and time``) is the parser's job, because
only it knows which names are in scope.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from engine.feel.exceptions import FeelSyntaxError

__all__ = ["Token", "tokenize"]

MAX_SOURCE = 100_000


@dataclass(frozen=True, slots=True)
class Token:
    """One token: ``kind`` is NUMBER, STRING, TEMPORAL, NAME, QNAME (backticks), OP or EOF."""

    kind: str
    value: str
    pos: int
    end: int


_TOKEN_RE = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<line_comment>//[^\n]*)
  | (?P<block_comment>/\*(?:.|\n)*?\*/)
  | (?P<open_comment>/\*)
  | (?P<number>(?:\d+(?:\.\d+)?|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<string>"(?:[^"\\]|\\.)*")
  | (?P<temporal>@"(?:[^"\\]|\\.)*")
  | (?P<qname>`[^`]*`)
  | (?P<name>(?:[^\W\d]|[\U00010000-\U000EFFFF])(?:[\w']|[\U00010000-\U000EFFFF])*|\?)
  | (?P<op>\.\.|\*\*|<=|>=|!=|->|[-+*/<>=()\[\]{},.:])
    """,
    re.VERBOSE | re.DOTALL,
)

_ESCAPES = {'"': '"', "\\": "\\", "n": "\n", "t": "\t", "r": "\r", "'": "'", "b": "\b", "f": "\f", "/": "/"}
_ESCAPE_RE = re.compile(r"\\(u[0-9a-fA-F]{4}|U[0-9a-fA-F]{6}|.)", re.DOTALL)


def _column(source: str, pos: int) -> str:
    return f"column {pos + 1} in {source!r}" if len(source) <= 200 else f"column {pos + 1}"


def _unescape(body: str, source: str = "", at: int = 0) -> str:
    """The text of a string literal; an escape naming no Unicode character is a syntax error at its column."""

    def replace(m: re.Match[str]) -> str:
        code = m.group(1)
        if code[0] in "uU" and len(code) > 1:
            number = int(code[1:], 16)
            if number > 0x10FFFF:
                column = at + 1 + m.start()
                raise FeelSyntaxError(
                    f"\\{code} at column {column + 1} names no Unicode character (the largest is \\U10FFFF)",
                    source, column,
                )
            return chr(number)
        # Unknown escapes such as \d or \s stay as written: they are meant for regular expressions.
        return _ESCAPES.get(code, "\\" + code)

    text = _ESCAPE_RE.sub(replace, body) if "\\" in body else body
    # Join UTF-16 surrogate pairs written as two \u escapes into one character.
    if any("\ud800" <= ch <= "\udfff" for ch in text):
        text = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return text


def tokenize(source: str) -> list[Token]:
    """Split ``source`` into tokens, ending with an EOF token; raise FeelSyntaxError on bad input."""
    if len(source) > MAX_SOURCE:
        raise FeelSyntaxError(f"expression is longer than {MAX_SOURCE} characters", source[:200], None)
    tokens: list[Token] = []
    pos, size = 0, len(source)
    match = _TOKEN_RE.match
    while pos < size:
        m = match(source, pos)
        if m is None:
            ch = source[pos]
            what = "unterminated string" if ch in "\"@`" else f"unexpected character {ch!r}"
            if source.startswith("/*", pos):
                what = "unterminated comment"
            raise FeelSyntaxError(f"{what} at {_column(source, pos)}", source, pos)
        kind = m.lastgroup or ""
        end = m.end()
        if kind == "open_comment":
            raise FeelSyntaxError(f"unterminated comment at {_column(source, pos)}", source, pos)
        if kind == "string":
            tokens.append(Token("STRING", _unescape(m.group()[1:-1], source, pos), pos, end))
        elif kind == "temporal":
            tokens.append(Token("TEMPORAL", _unescape(m.group()[2:-1], source, pos + 1), pos, end))
        elif kind == "qname":
            tokens.append(Token("QNAME", m.group()[1:-1], pos, end))
        elif kind == "name":
            tokens.append(Token("NAME", m.group(), pos, end))
        elif kind == "number":
            tokens.append(Token("NUMBER", m.group(), pos, end))
        elif kind == "op":
            tokens.append(Token("OP", m.group(), pos, end))
        pos = end
    tokens.append(Token("EOF", "", size, size))
    return tokens
