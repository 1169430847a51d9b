"""The public entry points: compiling FEEL text once and evaluating it many times."""

from __future__ import annotations

import datetime as _dt
import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from engine.feel import nodes as n
from engine.feel.compiler import compile_node
from engine.feel.compiler_forms import Test, compile_tests, free_names
from engine.feel.exceptions import FeelError, FeelEvaluationError, FeelLimitError, FeelSyntaxError
from engine.feel.lexer import tokenize
from engine.feel.parser import parse_expression, parse_unary_tests
from engine.feel.runtime import Entropy, Env, State
from engine.feel.values import to_feel

__all__ = [
    "Expression", "UnaryTests", "compile_expression", "compile_unary_tests", "evaluate", "is_expression",
    "strip_marker",
]

_CACHE_SIZE = 4096


def _foreign(exc: BaseException, source: str) -> FeelError:
    """The FeelError that stands for an exception of another kind raised while compiling or evaluating."""
    if isinstance(exc, RecursionError):
        return FeelLimitError(f"expression nests too deeply to evaluate: {source[:80]!r}", source)
    if isinstance(exc, MemoryError):
        return FeelLimitError(f"expression needs too much memory: {source[:80]!r}", source)
    return FeelEvaluationError(f"internal error evaluating {source[:80]!r}: {exc!r}", source)


def _run(source: str, body: Callable[[], Any]) -> Any:
    """Run ``body``, letting only FeelError subclasses out (with ``source`` filled in)."""
    try:
        return body()
    except FeelError as exc:
        if not exc.source:
            exc.source = source
        raise
    except (Exception, RecursionError, MemoryError) as exc:
        raise _foreign(exc, source) from exc


@dataclass(frozen=True, slots=True)
class Expression:
    """A compiled FEEL expression. ``names`` holds the free variable names it reads (best effort)."""

    source: str
    names: frozenset[str]
    _fn: Callable[[Env], Any] = field(repr=False, compare=False)

    def evaluate(
        self, variables: Mapping[str, Any], now: _dt.datetime | None = None, *, entropy: Entropy | None = None
    ) -> Any:
        """Evaluate against ``variables`` (read lazily, JSON-like or FEEL values) and return a FEEL value.

        ``now`` is the current time seen by ``now()``, ``today()`` and ``uuid()``; pass it in for
        deterministic results (the system clock is read only when it is None). ``entropy`` gives the
        random bytes of ``uuid()`` and ``random number()`` (``os.urandom`` when None).
        Type errors give None (FEEL null); FeelEvaluationError is raised only when a
        limit is reached or evaluation cannot go on.
        """
        try:
            return self._fn(Env(variables, None, State(now, entropy)))
        except FeelError as exc:
            if not exc.source:
                exc.source = self.source
            raise
        except (Exception, RecursionError, MemoryError) as exc:  # only FeelError may leave evaluate()
            raise _foreign(exc, self.source) from exc


@dataclass(frozen=True, slots=True)
class UnaryTests:
    """Compiled DMN unary tests (a decision table input entry)."""

    source: str
    _fn: Callable[[Any, Env], bool | None] = field(repr=False, compare=False)

    def matches(self, input_value: Any, variables: Mapping[str, Any], now: _dt.datetime | None = None) -> bool:
        """Whether ``input_value`` satisfies the tests; null results count as no match."""
        env = Env(variables, None, State(now))
        fn = self._fn
        return bool(_run(self.source, lambda: fn(to_feel(input_value), env)) is True)


def _known(names: frozenset[str]) -> tuple[tuple[str, ...], ...]:
    """Token sequences of the caller's names that span several tokens."""
    known: list[tuple[str, ...]] = []
    for name in names:
        try:
            parts = tuple(t.value for t in tokenize(name)[:-1])
        except FeelSyntaxError:
            continue
        if len(parts) > 1:
            known.append(parts)
    return tuple(known)


@functools.lru_cache(maxsize=_CACHE_SIZE)
def _compile_expression(source: str, known_names: frozenset[str]) -> Expression:
    def build() -> Expression:
        known = _known(known_names)
        node = parse_expression(source, known)
        return Expression(source, free_names(node), compile_node(node))

    try:
        return _run(source, build)  # type: ignore[no-any-return]
    except FeelEvaluationError as exc:
        raise FeelSyntaxError(exc.message, source, exc.position) from exc


def compile_expression(source: str, known_names: frozenset[str] = frozenset()) -> Expression:
    """Parse and compile a FEEL expression (results are cached by source text).

    ``known_names`` lists variable names that contain keywords (``Rock and Roll``) so
    they parse as one name; names made only of ordinary words need not be listed.
    Raises FeelSyntaxError, whose message says what is wrong and at which column.
    """
    if not isinstance(source, str):
        raise FeelSyntaxError(f"FEEL source must be a string, not {type(source).__name__}", repr(source), None)
    return _compile_expression(source, known_names)


@functools.lru_cache(maxsize=_CACHE_SIZE)
def _compile_unary_tests(source: str, known_names: frozenset[str]) -> UnaryTests:
    def build() -> UnaryTests:
        known = _known(known_names)
        node = parse_unary_tests(source, known)
        tests: list[Test] = compile_tests((node,), compile_node) if not isinstance(node, n.In) else []
        if isinstance(node, n.In):
            inner = compile_tests(node.tests, compile_node)

            def any_of(v: Any, env: Env) -> bool | None:
                unknown = False
                for t in inner:
                    r = t(v, env)
                    if r is True:
                        return True
                    unknown = unknown or r is None
                return None if unknown else False

            return UnaryTests(source, any_of)
        return UnaryTests(source, tests[0])

    try:
        return _run(source, build)  # type: ignore[no-any-return]
    except FeelEvaluationError as exc:
        raise FeelSyntaxError(exc.message, source, exc.position) from exc


def compile_unary_tests(source: str, known_names: frozenset[str] = frozenset()) -> UnaryTests:
    """Parse and compile DMN unary tests such as ``< 5``, ``[1..3]``, ``"a","b"``, ``-`` or ``not(1, 2)``."""
    if not isinstance(source, str):
        raise FeelSyntaxError(f"FEEL source must be a string, not {type(source).__name__}", repr(source), None)
    return _compile_unary_tests(source, known_names)


def evaluate(source: str, variables: Mapping[str, Any], now: _dt.datetime | None = None) -> Any:
    """Compile (cached) and evaluate ``source`` against ``variables``; see Expression.evaluate."""
    return compile_expression(source).evaluate(variables, now)


def is_expression(text: str) -> bool:
    """Whether a BPMN attribute value is an expression, i.e. starts with the ``=`` marker."""
    return text.lstrip().startswith("=")


def strip_marker(text: str) -> str:
    """The FEEL source of an ``=``-marked attribute value (the text itself if it has no marker)."""
    stripped = text.lstrip()
    return stripped[1:] if stripped.startswith("=") else text
