"""Parsing of the bracketed and keyword-led FEEL forms: ranges, lists, contexts, if, for, some/every,
function definitions and type references. Split from ``parser`` to keep each module small.

The forms see the parser only through ``Parser`` below, the cursor and the
expression entry point they need; ``parser.Parser`` satisfies it. That keeps
the dependency one way (``parser`` -> ``parser_forms``) although the grammar
is mutually recursive.
"""

from __future__ import annotations

from typing import Protocol

from engine.feel import nodes as n
from engine.feel.exceptions import FeelSyntaxError
from engine.feel.lexer import Token

__all__ = [
    "Parser", "bracketed", "context", "for_loop", "function", "if_then_else", "open_start_range",
    "parenthesized", "quantified", "type_ref",
]


class Parser(Protocol):
    """What the forms use of the parser: its token cursor, its known names and ``expression``."""

    source: str
    tokens: list[Token]
    i: int
    depth: int
    range_end_depth: int
    known: list[tuple[str, ...]]

    def error(self, message: str, pos: int) -> FeelSyntaxError: ...
    def unexpected(self, tok: Token | None = None) -> FeelSyntaxError: ...
    def peek(self, ahead: int = 0) -> Token: ...
    def advance(self) -> Token: ...
    def at_op(self, *values: str) -> bool: ...
    def at_word(self, *values: str) -> bool: ...
    def expect_op(self, value: str) -> Token: ...
    def expect_word(self, value: str) -> Token: ...
    def bind(self, name: str) -> None: ...
    def name(self) -> str: ...
    def expression(self, min_bp: int = 0) -> n.Node: ...

_TYPE_NAMES = (
    ("days", "and", "time", "duration"),
    ("years", "and", "months", "duration"),
    ("date", "and", "time"),
)


def _range_end(p: Parser, start: n.Node | None, start_included: bool, pos: int) -> n.Node:
    p.expect_op("..")
    saved = p.range_end_depth
    p.range_end_depth = p.depth + 1
    try:
        end = p.expression()
    finally:
        p.range_end_depth = saved
    tok = p.peek()
    if tok.kind != "OP" or tok.value not in ("]", ")", "["):
        raise p.error(f"expected ']', ')' or '[' to close the range but found {tok.value or 'end'!r}", tok.pos)
    p.advance()
    return n.RangeLit(pos, start, end, start_included, tok.value == "]")


def parenthesized(p: Parser) -> n.Node:
    """``( expr )``, a range ``(a..b]``, or a unary test used as a range ``(< 10)``."""
    open_tok = p.advance()
    tok = p.peek()
    if tok.kind == "OP" and tok.value in ("<", "<=", ">", ">=", "=", "!="):
        p.advance()
        operand = p.expression(30)
        p.expect_op(")")
        op = tok.value
        if op in ("<", "<="):
            return n.RangeLit(open_tok.pos, None, operand, False, op == "<=")
        if op in (">", ">="):
            return n.RangeLit(open_tok.pos, operand, None, op == ">=", False)
        if op == "=":
            return n.RangeLit(open_tok.pos, operand, operand, True, True)
        return n.UnaryCompare(open_tok.pos, op, operand)
    inner = p.expression()
    if p.at_op(".."):
        return _range_end(p, inner, False, open_tok.pos)
    p.expect_op(")")
    return inner


def bracketed(p: Parser) -> n.Node:
    """A list ``[a, b]`` or a range ``[a..b]``, ``[a..b)``, ``[a..b[``."""
    open_tok = p.advance()
    if p.at_op("]"):
        p.advance()
        return n.ListLit(open_tok.pos, ())
    first = p.expression()
    if p.at_op(".."):
        return _range_end(p, first, True, open_tok.pos)
    items = [first]
    while p.at_op(","):
        p.advance()
        items.append(p.expression())
    p.expect_op("]")
    return n.ListLit(open_tok.pos, tuple(items))


def open_start_range(p: Parser) -> n.Node:
    """A range whose start is excluded, written ``]a..b]`` or ``]a..b[``."""
    open_tok = p.advance()
    start = p.expression()
    return _range_end(p, start, False, open_tok.pos)


def _context_key(p: Parser) -> str:
    tok = p.peek()
    if tok.kind == "STRING":
        p.advance()
        return tok.value
    start = p.i
    while p.peek().kind in ("NAME", "QNAME") or (p.peek().kind == "OP" and p.peek().value in ("-", "+", "*", "/", ".")):
        p.advance()
    if p.i == start:
        raise p.unexpected()
    if p.i == start + 1 and p.tokens[start].kind == "QNAME":
        return p.tokens[start].value
    first, last = p.tokens[start], p.tokens[p.i - 1]
    return " ".join(p.source[first.pos : last.end].split())


def context(p: Parser) -> n.Node:
    """A context literal ``{a: 1, "b c": 2, d: a + 1}``; later entries see earlier keys."""
    open_tok = p.advance()
    entries: list[tuple[str, n.Node]] = []
    mark = len(p.known)
    if not p.at_op("}"):
        while True:
            key = _context_key(p)
            p.expect_op(":")
            entries.append((key, p.expression()))
            p.bind(key)
            if not p.at_op(","):
                break
            p.advance()
    p.expect_op("}")
    del p.known[mark:]
    return n.ContextLit(open_tok.pos, tuple(entries))


def if_then_else(p: Parser) -> n.Node:
    tok = p.advance()
    cond = p.expression()
    p.expect_word("then")
    then = p.expression()
    p.expect_word("else")
    return n.If(tok.pos, cond, then, p.expression())


def _bindings(p: Parser) -> tuple[tuple[str, n.Node, n.Node | None], ...]:
    bindings: list[tuple[str, n.Node, n.Node | None]] = []
    while True:
        name = p.name()
        p.expect_word("in")
        source = p.expression()
        end = None
        if p.at_op(".."):
            p.advance()
            end = p.expression()
        bindings.append((name, source, end))
        p.bind(name)
        if not p.at_op(","):
            return tuple(bindings)
        p.advance()


def for_loop(p: Parser) -> n.Node:
    tok = p.advance()
    mark = len(p.known)
    bindings = _bindings(p)
    p.expect_word("return")
    body = p.expression()
    del p.known[mark:]
    return n.For(tok.pos, bindings, body)


def quantified(p: Parser) -> n.Node:
    tok = p.advance()
    mark = len(p.known)
    bindings = _bindings(p)
    p.expect_word("satisfies")
    cond = p.expression()
    del p.known[mark:]
    return n.Quantified(tok.pos, tok.value == "every", bindings, cond)


def function(p: Parser) -> n.Node:
    """``function(a, b: number) body``."""
    tok = p.advance()
    p.expect_op("(")
    params: list[str] = []
    types: list[n.TypeRef | None] = []
    mark = len(p.known)
    if not p.at_op(")"):
        while True:
            name = p.name()
            declared = None
            if p.at_op(":"):
                p.advance()
                declared = type_ref(p)
            params.append(name)
            types.append(declared)
            p.bind(name)
            if not p.at_op(","):
                break
            p.advance()
    p.expect_op(")")
    if p.at_word("external"):
        raise p.error("external functions are not supported", p.peek().pos)
    body = p.expression()
    del p.known[mark:]
    return n.FunctionDef(tok.pos, tuple(params), body, tuple(types))


def type_ref(p: Parser) -> n.TypeRef:
    """A type after ``instance of`` or in a parameter: ``number``, ``list<string>``, ``context<a: number>``."""
    tok = p.peek()
    if tok.kind not in ("NAME", "QNAME"):
        raise p.unexpected(tok)
    name = ""
    for cand in _TYPE_NAMES:
        if all(p.peek(k).kind == "NAME" and p.peek(k).value == part for k, part in enumerate(cand)):
            name = " ".join(cand)
            p.i += len(cand)
            break
    if not name:
        name = p.advance().value
        while p.at_op(".") and p.peek(1).kind == "NAME":
            p.advance()
            name += "." + p.advance().value
    if not p.at_op("<") or name not in ("list", "range", "context", "function"):
        return n.TypeRef(tok.pos, name)
    p.advance()
    args: list[n.TypeRef] = []
    keys: list[str] = []
    if not p.at_op(">"):
        while True:
            if name == "context":
                keys.append(p.name())
                p.expect_op(":")
            args.append(type_ref(p))
            if not p.at_op(","):
                break
            p.advance()
    p.expect_op(">")
    if name == "function" and p.at_op("->"):
        p.advance()
        args.append(type_ref(p))
    return n.TypeRef(tok.pos, name, tuple(args), tuple(keys))
