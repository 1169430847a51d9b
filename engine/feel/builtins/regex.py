"""Translation of XPath / XML Schema regular expressions (used by matches, replace, split)
into Python ``re`` patterns.

Differences handled: ``.`` does not match CR or LF, ``$`` means end of input unless
the ``m`` flag is set, character-class subtraction ``[a-z-[aeiou]]``, the ``x`` flag
(whitespace outside classes is dropped), ``\\p{..}`` categories (approximated by ranges,
since ``re`` has no Unicode properties) and the ``q`` flag (literal pattern). Anything
XPath forbids (back-references in classes, ``\\0``, ``(?`` groups other than ``(?:``,
unknown escapes) raises ValueError, which the caller turns into null.
"""

from __future__ import annotations

import re

from engine.feel.exceptions import FeelLimitError

__all__ = ["compile_xpath_regex"]

_MAX_PATTERN = 1000
# Nested quantifiers such as (a+)+ make backtracking engines run for ages on some inputs.
_NESTED_QUANTIFIER = re.compile(r"\((?:[^()\\]|\\.)*[+*}](?:[^()\\]|\\.)*\)[+*{]")
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
_PLAIN_ESCAPES = set("nrt\\|.-^?*+{}()[]$sSdDwW")
_NAME_ESCAPES = {"i": "A-Za-z_:", "c": "-.0-9A-Za-z_:"}


class _Translator:
    def __init__(self, pattern: str, dotall: bool, multiline: bool) -> None:
        self.p = pattern
        self.i = 0
        self.dotall = dotall
        self.multiline = multiline

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
            if in_class or d == "0":
                raise ValueError("bad back-reference")
            return "\\" + d, False
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
        return f"(?:(?!{subtract}){cls})" if subtract else cls

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
                out.append("\\Z")
                self.i += 1
            elif ch == "(" and p.startswith("(?", self.i) and not p.startswith("(?:", self.i):
                raise ValueError("unsupported group")
            else:
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


def compile_xpath_regex(pattern: object, flags: object) -> re.Pattern[str]:
    """Compile an XPath regular expression with XPath flags ``s m i x q``; ValueError if invalid."""
    if type(pattern) is not str or (flags is not None and type(flags) is not str):
        raise TypeError("pattern and flags must be strings")
    options = flags or ""
    if any(f not in "smixq" for f in options):
        raise ValueError(f"unknown regular expression flags {options!r}")
    if len(pattern) > _MAX_PATTERN:
        raise FeelLimitError(f"regular expression longer than {_MAX_PATTERN} characters")
    re_flags = re.IGNORECASE if "i" in options else 0
    if "q" in options:
        return re.compile(re.escape(pattern), re_flags)
    if "x" in options:
        pattern = _strip_whitespace(pattern)
    if _NESTED_QUANTIFIER.search(pattern):
        raise FeelLimitError("regular expression with nested quantifiers is not allowed")
    if "m" in options:
        re_flags |= re.MULTILINE
    if "s" in options:
        re_flags |= re.DOTALL
    translated = _Translator(pattern, "s" in options, "m" in options).translate()
    try:
        return re.compile(translated, re_flags)
    except re.error as exc:
        raise ValueError(str(exc)) from exc
