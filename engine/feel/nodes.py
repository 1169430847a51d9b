"""The FEEL abstract syntax tree: frozen data produced by the parser, read by the compiler."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = [
    "And",
    "Between",
    "Binary",
    "Call",
    "ContextLit",
    "Filter",
    "For",
    "FunctionDef",
    "If",
    "In",
    "InstanceOf",
    "ListLit",
    "Literal",
    "Name",
    "Neg",
    "Node",
    "Or",
    "Path",
    "Quantified",
    "RangeLit",
    "TypeRef",
    "UnaryAny",
    "UnaryCompare",
    "UnaryNot",
    "UnaryValue",
]


@dataclass(frozen=True, slots=True)
class Node:
    """Base of every syntax node; ``pos`` is the source offset where it starts."""

    pos: int


@dataclass(frozen=True, slots=True)
class Literal(Node):
    value: Any


@dataclass(frozen=True, slots=True)
class Name(Node):
    name: str


@dataclass(frozen=True, slots=True)
class Neg(Node):
    operand: Node


@dataclass(frozen=True, slots=True)
class Binary(Node):
    """Arithmetic (``+ - * / **``) or comparison (``= != < <= > >=``)."""

    op: str
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class And(Node):
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class Or(Node):
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class Between(Node):
    value: Node
    low: Node
    high: Node


@dataclass(frozen=True, slots=True)
class In(Node):
    """``value in tests``: true when any of the positive unary tests matches."""

    value: Node
    tests: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class TypeRef(Node):
    """A type in ``instance of``: a name, plus parameters for list/range/context/function."""

    name: str
    args: tuple[TypeRef, ...] = ()
    keys: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class InstanceOf(Node):
    value: Node
    type: TypeRef


@dataclass(frozen=True, slots=True)
class If(Node):
    cond: Node
    then: Node
    other: Node


@dataclass(frozen=True, slots=True)
class For(Node):
    """``for n in e (.. end)?, ... return body``; ``end`` set for ``a..b`` iteration."""

    bindings: tuple[tuple[str, Node, Node | None], ...]
    body: Node


@dataclass(frozen=True, slots=True)
class Quantified(Node):
    every: bool
    bindings: tuple[tuple[str, Node, Node | None], ...]
    cond: Node


@dataclass(frozen=True, slots=True)
class Filter(Node):
    target: Node
    cond: Node


@dataclass(frozen=True, slots=True)
class Path(Node):
    target: Node
    name: str


@dataclass(frozen=True, slots=True)
class Call(Node):
    """A call; ``named`` is None for positional arguments, else the argument names."""

    target: Node
    args: tuple[Node, ...]
    named: tuple[str, ...] | None


@dataclass(frozen=True, slots=True)
class ListLit(Node):
    items: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class ContextLit(Node):
    entries: tuple[tuple[str, Node], ...]


@dataclass(frozen=True, slots=True)
class RangeLit(Node):
    start: Node | None
    end: Node | None
    start_included: bool
    end_included: bool


@dataclass(frozen=True, slots=True)
class FunctionDef(Node):
    """``function(a, b: number) body``; ``types`` holds each parameter's declared type or None."""

    params: tuple[str, ...]
    body: Node
    types: tuple[TypeRef | None, ...] = ()


@dataclass(frozen=True, slots=True)
class UnaryCompare(Node):
    """A unary test ``< e``, ``<= e``, ``> e``, ``>= e``, ``= e`` or ``!= e`` against the input."""

    op: str
    operand: Node


@dataclass(frozen=True, slots=True)
class UnaryValue(Node):
    """A unary test that is an expression: equal to, contained in, or (if boolean with ``?``) the result."""

    expr: Node


@dataclass(frozen=True, slots=True)
class UnaryNot(Node):
    tests: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class UnaryAny(Node):
    """The ``-`` unary test, which matches anything."""
