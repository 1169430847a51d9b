"""Errors of DMN evaluation.

The tree, documented once::

    DmnError                     base; ``decision_id`` names the decision concerned
    ├── DecisionNotFound         no deployed decision (or version, or version tag) answers the lookup
    └── DecisionEvaluationError  evaluation failed: a FEEL error, a hit policy violated (UNIQUE with two
                                 matches, ANY with differing outputs), an input outside its allowed
                                 values, a cycle in the requirements graph

Reading a DMN document fails with ``engine.parser.DmnParseError`` instead, with every problem and its line.
"""

from __future__ import annotations

__all__ = ["DecisionEvaluationError", "DecisionNotFound", "DmnError"]


class DmnError(Exception):
    def __init__(self, message: str, decision_id: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.decision_id = decision_id


class DecisionNotFound(DmnError):
    """The decision asked for is not deployed (or not at the version or tag asked for)."""


class DecisionEvaluationError(DmnError):
    """The decision could not be evaluated; the message says which decision, rule or expression and why."""
