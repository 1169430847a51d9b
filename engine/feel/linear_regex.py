"""Regular expressions that run in time linear in the input: FEEL's ``matches``, ``replace``, ``split``, ``extract``.

Python's ``re`` backtracks: ``matches("aaa…a!", "^(a|a)*$")`` on 30 characters
held the GIL (and so the whole hub, ``/health`` included) for 32 s, and no
syntactic guard catches every such pattern. RE2 (``google-re2``) matches
without backtracking, so no pattern can freeze the process. A time limit on
``re`` in another thread was rejected: the matching thread holds the GIL and
cannot be interrupted. The price is what RE2 lacks: back-references and
look-around, which XML Schema regular expressions (FEEL's flavour) do not have
anyway (XPath's back-references are refused with a clear error by the
translator in ``engine.feel.builtins.regex``).

This is the only module that imports ``re2``; it takes patterns already in
RE2 syntax.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import lru_cache
from typing import Any, Protocol

import re2

__all__ = ["LinearMatch", "LinearRegex", "RegexError", "class_ranges", "compile_linear"]

_MAX_MEMORY = 8 << 20  # RE2's default program budget per pattern; a larger pattern is refused, not run slowly


class RegexError(ValueError):
    """RE2 refused the pattern (bad syntax, or a program over its memory budget)."""


class LinearMatch(Protocol):
    def group(self, index: int = 0, /) -> str | None: ...

    def start(self, index: int = 0, /) -> int: ...

    def end(self, index: int = 0, /) -> int: ...


class LinearRegex:
    """A compiled pattern; the methods FEEL's string functions need, nothing more."""

    __slots__ = ("_regex", "groups")

    def __init__(self, regex: Any) -> None:
        self._regex = regex
        self.groups: int = int(regex.groups)

    def search(self, text: str) -> bool:
        return self._regex.search(text) is not None

    def matches_empty(self) -> bool:
        return self._regex.fullmatch("") is not None

    def finditer(self, text: str) -> Iterator[LinearMatch]:
        matches: Iterator[LinearMatch] = self._regex.finditer(text)
        return matches

    def sub(self, replacement: Callable[[LinearMatch], str], text: str) -> str:
        result: str = self._regex.sub(replacement, text)
        return result

    def split(self, text: str) -> list[str]:
        """``text`` cut at every match (the groups' text is not kept, unlike ``re.split``)."""
        pieces: list[str] = []
        end = 0
        for match in self.finditer(text):
            pieces.append(text[end : match.start()])
            end = match.end()
        pieces.append(text[end:])
        return pieces


def compile_linear(pattern: str, *, ignore_case: bool = False, literal: bool = False) -> LinearRegex:
    """Compile an RE2 pattern (``literal``: the text itself); ``RegexError`` if RE2 refuses it.

    Multi-line and dot-all are written into the pattern as ``(?m)`` and ``(?s)`` by the caller.
    """
    try:
        return LinearRegex(_compiled(pattern, ignore_case, literal))
    except re2.error as exc:
        raise RegexError(str(exc) or "invalid regular expression") from None
    except UnicodeEncodeError:
        raise RegexError("the pattern holds a lone surrogate") from None


@lru_cache(maxsize=256)
def _compiled(pattern: str, ignore_case: bool, literal: bool) -> Any:
    options = re2.Options()
    options.max_mem = _MAX_MEMORY
    options.case_sensitive = not ignore_case
    options.literal = literal
    options.log_errors = False
    return re2.compile(pattern, options)


@lru_cache(maxsize=64)
def class_ranges(char_class: str) -> tuple[tuple[int, int], ...]:
    """The code points an RE2 character class (``[a-z\\p{Nd}]``) matches, as sorted inclusive ranges.

    Used where RE2 cannot express a class directly (XML Schema's class
    subtraction ``[a-z-[aeiou]]``): the caller subtracts range lists. Found by
    one linear scan over every code point, once per class.
    """
    runs = compile_linear(f"(?:{char_class})+")
    ranges: list[tuple[int, int]] = []
    for match in runs.finditer(_every_code_point()):
        first, last = _code_point(match.start()), _code_point(match.end() - 1)
        if first < _SURROGATES[0] <= last:  # a run across the surrogate gap is two ranges
            ranges += [(first, _SURROGATES[0] - 1), (_SURROGATES[1] + 1, last)]
        else:
            ranges.append((first, last))
    return tuple(ranges)


_SURROGATES = (0xD800, 0xDFFF)


@lru_cache(maxsize=1)
def _every_code_point() -> str:
    low = "".join(map(chr, range(_SURROGATES[0])))
    return low + "".join(map(chr, range(_SURROGATES[1] + 1, 0x110000)))


def _code_point(index: int) -> int:
    return index if index < _SURROGATES[0] else index + (_SURROGATES[1] - _SURROGATES[0] + 1)
