"""Translation of XPath / XML Schema regular expressions (used by matches, replace, split, extract)
into RE2 patterns, which ``engine.feel.linear_regex`` runs in linear time (no pattern can freeze the hub).

Differences handled: ``.`` does not match CR or LF, ``$`` means end of input unless
the ``m`` flag is set, character-class subtraction ``[a-z-[aeiou]]`` (computed as
ranges, since RE2 has no look-ahead), the ``x`` flag (whitespace outside classes is
dropped), ``\\s`` as XML Schema's four space characters, ``\\d`` and ``\\w`` by Unicode
category, ``\\p{..}`` categories (approximated by ranges) and the ``q`` flag (literal
pattern). Anything XPath forbids (back-references in classes, ``\\0``, a reference to a
group not yet opened, ``(?`` groups other than ``(?:``, unknown escapes) raises ValueError,
which the caller turns into null. XPath's back-references (``(a)\\1``) need a backtracking
engine; they raise ``FeelLimitError`` naming the reason.
"""

from __future__ import annotations

from collections.abc import Sequence

from engine.feel.exceptions import FeelLimitError
from engine.feel.linear_regex import LinearRegex, RegexError, class_ranges, compile_linear

__all__ = ["compile_xpath_regex"]

_MAX_PATTERN = 1000
_CATEGORIES = {
    "L": "a-zA-Z\u00aa\u00b5\u00ba\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u02c1\u0370-\u03ff\u0400-\u0481\u048a-\u052f"
    "\u4e00-\u9fff",
    "Lu": "A-Z\u00c0-\u00d6\u00d8-\u00de",
    "Ll": "a-z\u00b5\u00df-\u00f6\u00f8-\u00ff",
    "N": "0-9\u00b2\u00b3\u00b9\u00bc-\u00be",
    "Nd": "0-9",
    "P": "!-#%-*,-/:;?@\\[-\\]_{}\u00a1\u00a7\u00ab\u00b6\u00b7\u00bb\u00bf",
    "S": "$+<->^`|~\u00a2-\u00a6\u00a8\u00a9\u00ac\u00ae-\u00b1\u00b4\u00d7\u00f7",
    "Z": " \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000",
    "Zs": " \u00a0\u1680\u2000-\u200a\u202f\u205f\u3000",
    "IsBasicLatin": "\x00-\x7f",
    "IsLatin-1Supplement": "\x80-\xff",
    "IsGreek": "\u0370-\u03ff",
    "IsCyrillic": "\u0400-\u04ff",
}
_PLAIN_ESCAPES = set("nrt\\|.-^?*+{}()[]$")
_NAME_ESCAPES = {"i": "A-Za-z_:", "c": "-.0-9A-Za-z_:"}
# Multi-character escapes as RE2 class bodies (the capital letter: the complement). XML Schema's \s is exactly
# these four characters; \d is Unicode's Nd; \w follows Python's (letters, numbers and '_'), as before.
_CLASS_ESCAPES = {
    "s": " \\t\\n\\r",
    "d": "\\p{Nd}",
    "w": "\\p{L}\\p{N}_",
}
_NOT_SPACE = "\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x{21}-\\x{d7ff}\\x{e000}-\\x{10ffff}"


class _Translator:
    def __init__(self, pattern: str, dotall: bool, multiline: bool) -> None:
        self.p = pattern
        self.i = 0
        self.dotall = dotall
        self.multiline = multiline
        self.groups = 0  # capturing groups opened so far, for telling a back-reference from an error

    def escape(self, in_class: bool) -> tuple[str, bool]:
        """Translate the escape at ``self.i``; return (text, is_class_body)."""
        p = self.p
        if self.i + 1 >= len(p):
            raise ValueError("dangling backslash")
        d = p[self.i + 1]
        self.i += 2
        if d in "pP":
            end = p.find("}", self.i)
            if not p.startswith("{", self.i) or end < 0:
                raise ValueError("bad \\p escape")
            body = _CATEGORIES.get(p[self.i + 1 : end])
            if body is None:
                raise ValueError("unknown category")
            self.i = end + 1
            if d == "P":
                if in_class:
                    raise ValueError("\\P inside a class is not supported")
                return f"[^{body}]", False
            return body, True
        if d.isdigit():
            if in_class or d == "0" or int(d) > self.groups:
                raise ValueError("bad back-reference")
            raise FeelLimitError(
                f"back-reference \\{d} in a regular expression is not supported: FEEL regular expressions run on"
                " a linear-time engine, which cannot match back-references"
            )
        if d.lower() in _CLASS_ESCAPES:
            body = _CLASS_ESCAPES[d.lower()]
            if d.islower():
                return body, True
            if not in_class:
                return f"[^{body}]", False
            if d == "D":
                return "\\P{Nd}", True
            return (_NOT_SPACE if d == "S" else _range_text(class_ranges(f"[^{body}]"))), True
        if d in _NAME_ESCAPES:
            return _NAME_ESCAPES[d], True
        if d in ("I", "C"):
            if in_class:
                raise ValueError("negated name escape inside a class")
            return f"[^{_NAME_ESCAPES[d.lower()]}]", False
        if d in _PLAIN_ESCAPES:
            return "\\" + d, False
        raise ValueError(f"unknown escape \\{d}")

    def char_class(self) -> str:
        """Translate the class starting at ``[``; supports subtraction ``[a-z-[aeiou]]``."""
        p = self.p
        self.i += 1
        body = "^" if p.startswith("^", self.i) else ""
        self.i += len(body)
        subtract = ""
        while True:
            if self.i >= len(p):
                raise ValueError("unterminated class")
            ch = p[self.i]
            if ch == "]" and body not in ("", "^"):
                self.i += 1
                break
            if ch == "-" and p.startswith("-[", self.i):
                self.i += 1
                subtract = self.char_class()
                if not p.startswith("]", self.i):
                    raise ValueError("class subtraction must end the class")
                self.i += 1
                break
            if ch == "\\":
                text, _ = self.escape(in_class=True)
                body += text
            elif ch == "[":
                raise ValueError("nested class")
            else:
                body += "\\[" if ch == "[" else ch
                self.i += 1
        cls = f"[{body}]"
        if not subtract:
            return cls
        # RE2 has no look-ahead to write "in cls but not in subtract", so the difference is computed as ranges.
        return f"[{_range_text(_minus(class_ranges(cls), class_ranges(subtract)))}]"

    def translate(self) -> str:
        p, out = self.p, []
        while self.i < len(p):
            ch = p[self.i]
            if ch == "\\":
                text, is_body = self.escape(in_class=False)
                out.append(f"[{text}]" if is_body else text)
            elif ch == "[":
                out.append(self.char_class())
            elif ch == "." and not self.dotall:
                out.append("[^\\n\\r]")
                self.i += 1
            elif ch == "$" and not self.multiline:
                out.append("\\z")
                self.i += 1
            elif ch == "(" and p.startswith("(?", self.i) and not p.startswith("(?:", self.i):
                raise ValueError("unsupported group")
            else:
                self.groups += ch == "(" and not p.startswith("(?", self.i)
                out.append(ch)
                self.i += 1
        return "".join(out)


def _strip_whitespace(pattern: str) -> str:
    out, depth, i = [], 0, 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            # XPath drops whitespace before reading escapes, so "\\ s" means "\\s".
            j = i + 1
            while j < len(pattern) and pattern[j] in " \t\n\r" and not depth:
                j += 1
            out.append(pattern[i] + pattern[j : j + 1])
            i = j + 1
            continue
        depth += ch == "["
        depth -= ch == "]" and depth > 0
        if depth or ch not in " \t\n\r":
            out.append(ch)
        i += 1
    return "".join(out)


def compile_xpath_regex(pattern: object, flags: object) -> LinearRegex:
    """Compile an XPath regular expression with XPath flags ``s m i x q``; ValueError if invalid."""
    if type(pattern) is not str or (flags is not None and type(flags) is not str):
        raise TypeError("pattern and flags must be strings")
    options = flags or ""
    if any(f not in "smixq" for f in options):
        raise ValueError(f"unknown regular expression flags {options!r}")
    if len(pattern) > _MAX_PATTERN:
        raise FeelLimitError(f"regular expression longer than {_MAX_PATTERN} characters")
    ignore_case = "i" in options
    if "q" in options:
        return compile_linear(pattern, ignore_case=ignore_case, literal=True)
    if "x" in options:
        pattern = _strip_whitespace(pattern)
    translated = _Translator(pattern, "s" in options, "m" in options).translate()
    prefix = ("(?m)" if "m" in options else "") + ("(?s)" if "s" in options else "")
    try:
        return compile_linear(prefix + translated, ignore_case=ignore_case)
    except RegexError as exc:
        raise ValueError(str(exc)) from exc


def _minus(ranges: tuple[tuple[int, int], ...], removed: tuple[tuple[int, int], ...]) -> list[tuple[int, int]]:
    """The code points in ``ranges`` and not in ``removed`` (both sorted, inclusive)."""
    result: list[tuple[int, int]] = []
    for low, high in ranges:
        for cut_low, cut_high in removed:
            if cut_high < low or cut_low > high:
                continue
            if cut_low > low:
                result.append((low, cut_low - 1))
            low = cut_high + 1
            if low > high:
                break
        if low <= high:
            result.append((low, high))
    return result


def _range_text(ranges: Sequence[tuple[int, int]]) -> str:
    """Ranges as an RE2 class body; no ranges: a body that matches nothing."""
    if not ranges:
        return "^\\x00-\\x{10ffff}"
    return "".join(f"\\x{{{a:x}}}" if a == b else f"\\x{{{a:x}}}-\\x{{{b:x}}}" for a, b in ranges)
