"""FEEL, the expression language of BPMN and DMN: tokenizer, parser, compiler, values, built-ins.

Owns: turning FEEL text into a compiled ``Expression`` (cached by source) and
evaluating it against a read-only mapping of variables, with DMN 1.4 semantics
(null for type errors, three-valued logic, decimal arithmetic) plus the Camunda 8
extensions; DMN unary tests for decision tables; the mapping between JSON-like
Python values and FEEL values.

Does not know: BPMN, DMN models, variable scopes or persistence. The caller
passes a ``Mapping`` (typically its scope chain) and, for ``now()``/``today()``,
the current time, and for ``uuid()``/``random number()`` the ``entropy`` (random
bytes; ``seeded_entropy`` makes them follow from a seed, so a step replays); the
package never reads the clock when ``now`` is given, nor the system's randomness
when ``entropy`` is, and never uses Python ``eval``.
"""

from engine.feel.api import (
    Expression,
    UnaryTests,
    compile_expression,
    compile_unary_tests,
    evaluate,
    is_expression,
    strip_marker,
)
from engine.feel.exceptions import FeelError, FeelEvaluationError, FeelLimitError, FeelSyntaxError
from engine.feel.runtime import Entropy, seeded_entropy
from engine.feel.text import to_json
from engine.feel.values import FeelFunction, Range, YearsMonthsDuration, to_feel

__all__ = [
    "Entropy",
    "Expression",
    "FeelError",
    "FeelEvaluationError",
    "FeelFunction",
    "FeelLimitError",
    "FeelSyntaxError",
    "Range",
    "UnaryTests",
    "YearsMonthsDuration",
    "compile_expression",
    "compile_unary_tests",
    "evaluate",
    "is_expression",
    "seeded_entropy",
    "strip_marker",
    "to_feel",
    "to_json",
]
