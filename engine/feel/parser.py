"""Parser: tokens to a syntax tree (``nodes``), Pratt style for the operators.

Names may contain spaces. Consecutive words that are not keywords are joined
into one name (``Monthly Salary``); names that contain keywords or operator
characters (``date and time``, ``get or else``, ``Date-Time``) are recognised
when they are known: the built-ins, names bound by the expression itself
(context entries, parameters, iteration variables) and any ``known`` names
the caller passes in.
"""

from __future__ import annotations

from decimal import DecimalException

from engine.feel import nodes as n
from engine.feel import parser_forms as forms
from engine.feel.builtins import MULTI_WORD_NAMES
from engine.feel.exceptions import FeelSyntaxError
from engine.feel.lexer import Token, tokenize
from engine.feel.temporal import parse_temporal
from engine.feel.values import DECIMAL_CONTEXT

__all__ = ["Parser", "parse_expression", "parse_unary_tests"]

KEYWORDS = frozenset(
    {"and", "or", "in", "return", "then", "else", "satisfies", "between", "instance",
     "if", "for", "some", "every", "function", "true", "false", "null"}
)
_COMPARE = frozenset({"=", "!=", "<", "<=", ">", ">="})
_INFIX_BP = {"+": 40, "-": 40, "*": 50, "/": 50, "**": 60}
_MAX_DEPTH = 80


def _describe(tok: Token) -> str:
    if tok.kind == "EOF":
        return "end of expression"
    if tok.kind == "STRING":
        return "string"
    return f"'{tok.value}'"


class Parser:
    """A one-shot parser over the tokens of ``source``."""

    def __init__(self, source: str, known: tuple[tuple[str, ...], ...] = ()) -> None:
        self.source = source
        self.tokens = tokenize(source)
        self.i = 0
        self.depth = 0
        # While parsing the end of a range such as [1..10[, '[' closes the range, not a filter.
        self.range_end_depth = -1
        self.known: list[tuple[str, ...]] = list(known)

    # -- helpers -----------------------------------------------------------
    def error(self, message: str, pos: int) -> FeelSyntaxError:
        where = f"column {pos + 1}" + (f" in {self.source!r}" if len(self.source) <= 200 else "")
        return FeelSyntaxError(f"{message} at {where}", self.source, pos)

    def unexpected(self, tok: Token | None = None) -> FeelSyntaxError:
        tok = tok or self.tokens[self.i]
        return self.error(f"unexpected {_describe(tok)}", tok.pos)

    def peek(self, ahead: int = 0) -> Token:
        return self.tokens[min(self.i + ahead, len(self.tokens) - 1)]

    def advance(self) -> Token:
        tok = self.tokens[self.i]
        if tok.kind != "EOF":
            self.i += 1
        return tok

    def at_op(self, *values: str) -> bool:
        tok = self.tokens[self.i]
        return tok.kind == "OP" and tok.value in values

    def at_word(self, *values: str) -> bool:
        tok = self.tokens[self.i]
        return tok.kind == "NAME" and tok.value in values

    def expect_op(self, value: str) -> Token:
        if not self.at_op(value):
            tok = self.peek()
            raise self.error(f"expected '{value}' but found {_describe(tok)}", tok.pos)
        return self.advance()

    def expect_word(self, value: str) -> Token:
        if not self.at_word(value):
            tok = self.peek()
            raise self.error(f"expected '{value}' but found {_describe(tok)}", tok.pos)
        return self.advance()

    def finish(self) -> None:
        if self.peek().kind != "EOF":
            raise self.unexpected()

    def bind(self, name: str) -> None:
        """Make a name bound by the expression known, so names with keywords in them parse."""
        try:
            parts = tuple(t.value for t in tokenize(name)[:-1])
        except FeelSyntaxError:
            return
        if len(parts) > 1:
            self.known.append(parts)

    # -- names ---------------------------------------------------------------
    def name(self) -> str:
        """Read one (possibly multi-word) name at the current token."""
        tok = self.peek()
        if tok.kind == "QNAME":
            self.advance()
            return tok.value
        if tok.kind != "NAME":
            raise self.unexpected(tok)
        start = self.i
        end = start + 1
        while self.tokens[end].kind == "NAME" and self.tokens[end].value not in KEYWORDS:
            end += 1
        best = " ".join(t.value for t in self.tokens[start:end])
        best_len = end - start
        for cand in self._candidates(tok.value):
            if len(cand) > best_len and all(
                self.tokens[start + k].value == part and self.tokens[start + k].kind in ("NAME", "OP", "NUMBER")
                for k, part in enumerate(cand)
            ):
                best_len = len(cand)
                first, last = self.tokens[start], self.tokens[start + best_len - 1]
                best = " ".join(self.source[first.pos : last.end].split())
        self.i = start + best_len
        return best

    def _candidates(self, first: str) -> list[tuple[str, ...]]:
        found = [c for c in self.known if c[0] == first and len(c) + self.i < len(self.tokens)]
        found.extend(c for c in MULTI_WORD_NAMES.get(first, ()) if len(c) + self.i < len(self.tokens))
        return found

    # -- expressions -------------------------------------------------------
    def expression(self, min_bp: int = 0) -> n.Node:
        self.depth += 1
        if self.depth > _MAX_DEPTH:
            raise self.error("expression is nested too deeply", self.peek().pos)
        left = self.prefix()
        while True:
            tok = self.peek()
            if tok.kind == "OP":
                value = tok.value
                if value in _INFIX_BP:
                    bp = _INFIX_BP[value]
                    if bp <= min_bp:
                        break
                    self.advance()
                    left = n.Binary(left.pos, value, left, self.expression(bp))
                elif value in _COMPARE:
                    if min_bp >= 30:
                        break
                    self.advance()
                    left = n.Binary(left.pos, value, left, self.expression(30))
                elif value in (".", "[", "("):
                    if value == "[" and self.depth == self.range_end_depth:
                        break
                    left = self.postfix(left)
                else:
                    break
            elif tok.kind == "NAME":
                word = tok.value
                if word == "or" and min_bp < 10:
                    self.advance()
                    left = n.Or(left.pos, left, self.expression(10))
                elif word == "and" and min_bp < 20:
                    self.advance()
                    left = n.And(left.pos, left, self.expression(20))
                elif word == "between" and min_bp < 30:
                    self.advance()
                    low = self.expression(30)
                    self.expect_word("and")
                    left = n.Between(left.pos, left, low, self.expression(30))
                elif word == "in" and min_bp < 30:
                    self.advance()
                    left = n.In(left.pos, left, self.in_tests())
                elif word == "instance" and min_bp < 35 and self.peek(1).value == "of":
                    self.advance()
                    self.advance()
                    left = n.InstanceOf(left.pos, left, self.type_ref())
                else:
                    break
            else:
                break
        self.depth -= 1
        return left

    def postfix(self, left: n.Node) -> n.Node:
        tok = self.advance()
        if tok.value == ".":
            return n.Path(left.pos, left, self.name())
        if tok.value == "[":
            cond = self.expression()
            self.expect_op("]")
            return n.Filter(left.pos, left, cond)
        return self.call(left)

    def call(self, target: n.Node) -> n.Node:
        args: list[n.Node] = []
        names: list[str] | None = None
        if self.at_op(")"):
            self.advance()
            return n.Call(target.pos, target, (), None)
        if self._at_named_argument():
            names = []
        while True:
            if names is not None:
                names.append(self.name())
                self.expect_op(":")
            args.append(self.expression())
            if self.at_op(")"):
                self.advance()
                break
            self.expect_op(",")
        return n.Call(target.pos, target, tuple(args), None if names is None else tuple(names))

    def _at_named_argument(self) -> bool:
        j = self.i
        while self.tokens[j].kind in ("NAME", "QNAME"):
            j += 1
        return j > self.i and self.tokens[j].kind == "OP" and self.tokens[j].value == ":"

    def prefix(self) -> n.Node:
        tok = self.peek()
        kind = tok.kind
        if kind == "NUMBER":
            self.advance()
            try:
                return n.Literal(tok.pos, DECIMAL_CONTEXT.create_decimal(tok.value))
            except DecimalException:
                return n.Literal(tok.pos, None)  # too large for DECIMAL128, like 1e999999: null
        if kind == "STRING":
            self.advance()
            return n.Literal(tok.pos, tok.value)
        if kind == "TEMPORAL":
            self.advance()
            return n.Literal(tok.pos, parse_temporal(tok.value))
        if kind == "QNAME":
            self.advance()
            return n.Name(tok.pos, tok.value)
        if kind == "OP":
            return self.prefix_op(tok)
        if kind == "NAME":
            word = tok.value
            if word in KEYWORDS:
                return self.keyword(tok)
            return n.Name(tok.pos, self.name())
        raise self.unexpected(tok)

    def prefix_op(self, tok: Token) -> n.Node:
        value = tok.value
        if value == "-":
            self.advance()
            return n.Neg(tok.pos, self.expression(65))
        if value == "+":
            self.advance()
            return self.expression(65)
        if value == "(":
            return forms.parenthesized(self)
        if value == "[":
            return forms.bracketed(self)
        if value == "]":
            return forms.open_start_range(self)
        if value == "{":
            return forms.context(self)
        raise self.unexpected(tok)

    def keyword(self, tok: Token) -> n.Node:
        word = tok.value
        if word == "true" or word == "false":
            self.advance()
            return n.Literal(tok.pos, word == "true")
        if word == "null":
            self.advance()
            return n.Literal(tok.pos, None)
        if word == "if":
            return forms.if_then_else(self)
        if word == "for":
            return forms.for_loop(self)
        if word in ("some", "every"):
            return forms.quantified(self)
        if word == "function":
            return forms.function(self)
        raise self.unexpected(tok)

    # -- unary tests -------------------------------------------------------
    def in_tests(self) -> tuple[n.Node, ...]:
        """The right side of ``in``: one positive unary test or a parenthesised list of them."""
        if self.at_op("(") and not self._paren_is_range():
            self.advance()
            tests = [self.positive_unary_test()]
            while self.at_op(","):
                self.advance()
                tests.append(self.positive_unary_test())
            self.expect_op(")")
            return tuple(tests)
        if self.peek().kind == "OP" and self.peek().value in _COMPARE:
            tok = self.advance()
            return (n.UnaryCompare(tok.pos, tok.value, self.expression(30)),)
        return (n.UnaryValue(self.peek().pos, self.expression(30)),)

    def _paren_is_range(self) -> bool:
        depth = 0
        for tok in self.tokens[self.i :]:
            if tok.kind != "OP":
                continue
            if tok.value in ("(", "{"):
                depth += 1
            elif tok.value in (")", "}"):
                depth -= 1
                if depth == 0:
                    return False
            elif tok.value == "[" or tok.value == "]":
                # brackets may be unbalanced inside ranges such as (1..2[; stay shallow
                continue
            elif tok.value == ".." and depth == 1:
                return True
            elif tok.value == "," and depth == 1:
                return False
        return False

    def positive_unary_test(self) -> n.Node:
        tok = self.peek()
        if tok.kind == "OP" and tok.value in _COMPARE:
            self.advance()
            return n.UnaryCompare(tok.pos, tok.value, self.expression(30))
        return n.UnaryValue(tok.pos, self.expression())

    def unary_tests(self) -> n.Node:
        """A whole DMN unary-tests cell: ``-``, ``not(tests)`` or ``test, test, ...``."""
        tok = self.peek()
        if tok.kind == "OP" and tok.value == "-" and self.peek(1).kind == "EOF":
            self.advance()
            return n.UnaryAny(tok.pos)
        if tok.kind == "NAME" and tok.value == "not" and self.peek(1).value == "(":
            save = self.i
            self.advance()
            self.advance()
            tests = self._test_list()
            if self.at_op(")") and self.peek(1).kind == "EOF":
                self.advance()
                return n.UnaryNot(tok.pos, tests)
            self.i = save
        tests = self._test_list()
        self.finish()
        return n.In(tok.pos, n.Name(tok.pos, "?"), tests)

    def _test_list(self) -> tuple[n.Node, ...]:
        tests = [self.positive_unary_test()]
        while self.at_op(","):
            self.advance()
            tests.append(self.positive_unary_test())
        return tuple(tests)

    # -- types -----------------------------------------------------------
    def type_ref(self) -> n.TypeRef:
        return forms.type_ref(self)


def parse_expression(source: str, known: tuple[tuple[str, ...], ...] = ()) -> n.Node:
    """Parse a whole FEEL expression."""
    parser = Parser(source, known)
    node = parser.expression()
    parser.finish()
    return node


def parse_unary_tests(source: str, known: tuple[tuple[str, ...], ...] = ()) -> n.Node:
    """Parse DMN unary tests (``< 5``, ``[1..3]``, ``-``, ``"a","b"``, ``not(...)``)."""
    parser = Parser(source, known)
    return parser.unary_tests()
