"""The FEEL built-in function library (DMN 1.4 plus Camunda 8 extras), one module per family.

Owns the table ``BUILTINS`` (name -> overloads) and ``MULTI_WORD_NAMES``, which the
parser uses to recognise names such as ``date and time`` or ``get or else``.
It knows nothing of parsing or of how calls are compiled.
"""

from __future__ import annotations

from engine.feel.builtins import contexts, lists, numeric, ranges, strings, temporal
from engine.feel.builtins._registry import REGISTRY
from engine.feel.lexer import tokenize
from engine.feel.values import FeelFunction

__all__ = ["BUILTINS", "MULTI_WORD_NAMES"]

_FAMILIES = (contexts, lists, numeric, ranges, strings, temporal)  # imported to fill the registry

BUILTINS: dict[str, tuple[FeelFunction, ...]] = {name: tuple(fns) for name, fns in REGISTRY.items()}


def _multi_word() -> dict[str, tuple[tuple[str, ...], ...]]:
    table: dict[str, list[tuple[str, ...]]] = {}
    for name in BUILTINS:
        parts = tuple(t.value for t in tokenize(name)[:-1])
        if len(parts) > 1:
            table.setdefault(parts[0], []).append(parts)
    return {k: tuple(sorted(v, key=len, reverse=True)) for k, v in table.items()}


#: First word -> the token sequences of built-in names that have several words.
MULTI_WORD_NAMES = _multi_word()
