"""String built-ins: substring, string length, case, contains, regular expressions, split, join, uuid, base64."""

from __future__ import annotations

import base64
import datetime as _dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from engine.feel.builtins._registry import builtin
from engine.feel.builtins.regex import compile_xpath_regex
from engine.feel.exceptions import FeelLimitError
from engine.feel.linear_regex import LinearMatch, LinearRegex
from engine.feel.text import to_text
from engine.feel.values import MAX_STRING, to_int

__all__ = ["translate_regex"]



def _text(value: Any) -> str:
    if type(value) is not str:
        raise TypeError("string expected")
    return value


def translate_regex(pattern: Any, flags: Any) -> LinearRegex:
    """Compile an XPath regular expression (see ``engine.feel.builtins.regex``)."""
    return compile_xpath_regex(pattern, flags)


@builtin("substring", "string", "start position", "length", required=2)
def substring(string: Any, start: Any, length: Any = None) -> Any:
    text = _text(string)
    if type(start) is not Decimal:
        return None
    first = to_int(start)
    if first == 0 or abs(first) > len(text) + (1 if first > 0 else 0):
        return None if first == 0 else ("" if first > 0 else None)
    index = first - 1 if first > 0 else len(text) + first
    if length is None:
        return text[index:]
    if type(length) is not Decimal or length < 0:
        return None
    return text[index : index + to_int(length)]


@builtin("string length", "string")
def string_length(string: Any) -> Any:
    return Decimal(len(_text(string)))


@builtin("upper case", "string")
def upper_case(string: Any) -> Any:
    return _text(string).upper()


@builtin("lower case", "string")
def lower_case(string: Any) -> Any:
    return _text(string).lower()


@builtin("substring before", "string", "match")
def substring_before(string: Any, match: Any) -> Any:
    text, part = _text(string), _text(match)
    index = text.find(part)
    return "" if index < 0 else text[:index]


@builtin("substring after", "string", "match")
def substring_after(string: Any, match: Any) -> Any:
    text, part = _text(string), _text(match)
    index = text.find(part)
    return "" if index < 0 else text[index + len(part) :]


@builtin("contains", "string", "match")
def contains(string: Any, match: Any) -> Any:
    return _text(match) in _text(string)


@builtin("starts with", "string", "match")
def starts_with(string: Any, match: Any) -> Any:
    return _text(string).startswith(_text(match))


@builtin("ends with", "string", "match")
def ends_with(string: Any, match: Any) -> Any:
    return _text(string).endswith(_text(match))


@builtin("matches", "input", "pattern", "flags", required=2)
def matches(input: Any, pattern: Any, flags: Any = None) -> Any:
    return translate_regex(pattern, flags).search(_text(input))


def _expand(m: LinearMatch, groups: int, template: str) -> str:
    """XPath replacement text: ``$n`` is group n, ``\\$`` and ``\\\\`` are literal characters."""
    out: list[str] = []
    i, size = 0, len(template)
    while i < size:
        ch = template[i]
        if ch == "\\":
            if i + 1 >= size or template[i + 1] not in "$\\":
                raise ValueError("bad escape in replacement")
            out.append(template[i + 1])
            i += 2
        elif ch == "$":
            j = i + 1
            while j < size and template[j].isdigit():
                j += 1
            if j == i + 1:
                raise ValueError("bad $ in replacement")
            group = int(template[i + 1 : j])
            out.append((m.group(group) or "") if group <= groups else "")
            i = j
        else:
            out.append(ch)
            i += 1
    return "".join(out)


@builtin("replace", "input", "pattern", "replacement", "flags", required=3)
def replace(input: Any, pattern: Any, replacement: Any, flags: Any = None) -> Any:
    regex = translate_regex(pattern, flags)
    text, template = _text(input), _text(replacement)
    if regex.matches_empty():
        raise ValueError("pattern matches the empty string")
    if "q" in (flags or ""):
        result = regex.sub(lambda m: template, text)
    else:
        result = regex.sub(lambda m: _expand(m, regex.groups, template), text)
    if len(result) > MAX_STRING:
        raise FeelLimitError(f"string longer than {MAX_STRING} characters")
    return result


@builtin("split", "string", "delimiter")
def split(string: Any, delimiter: Any) -> Any:
    regex = translate_regex(_text(delimiter), None)
    if regex.matches_empty():
        return None
    return regex.split(_text(string))


@builtin("extract", "string", "pattern")
def extract(string: Any, pattern: Any) -> Any:
    return [m.group(0) or "" for m in translate_regex(pattern, None).finditer(_text(string))]


@builtin("string join", "list", "delimiter", required=1)
@builtin("string join", "list", "delimiter", "prefix", "suffix")
def string_join(items: Any, delimiter: Any = None, prefix: Any = None, suffix: Any = None) -> Any:
    if type(items) is str:
        items = [items]
    if type(items) is not list or any(v is not None and type(v) is not str for v in items):
        return None
    sep = "" if delimiter is None else _text(delimiter)
    body = sep.join(v for v in items if v is not None)
    return ("" if prefix is None else _text(prefix)) + body + ("" if suffix is None else _text(suffix))


@builtin("string", "from")
def string(value: Any) -> Any:
    return None if value is None else to_text(value)


@builtin("is blank", "string")
def is_blank(string: Any) -> Any:
    return _text(string).strip() == ""


@builtin("trim", "string")
def trim(string: Any) -> Any:
    return _text(string).strip()


@builtin("uuid", needs_clock=True, needs_entropy=True)
def uuid_(now: _dt.datetime, entropy: Callable[[int], bytes]) -> Any:
    """A UUID version 7 (RFC 9562), as Camunda's ``uuid()``: the evaluation's time in milliseconds, then random."""
    millis = int(now.timestamp() * 1000) & ((1 << 48) - 1)
    rand = int.from_bytes(entropy(10), "big") & ((1 << 74) - 1)
    value = (millis << 80) | (0x7 << 76) | ((rand >> 62) << 64) | (0b10 << 62) | (rand & ((1 << 62) - 1))
    text = f"{value:032x}"
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


@builtin("to base64", "value")
def to_base64(value: Any) -> Any:
    return base64.b64encode(_text(value).encode("utf-8")).decode("ascii")


@builtin("from base64", "value")
def from_base64(value: Any) -> Any:
    return base64.b64decode(_text(value), validate=True).decode("utf-8")  # not base64 or not UTF-8: null
