"""Errors raised by the FEEL package.

The tree, documented once::

    FeelError                   base; carries ``source`` and ``position``
    ├── FeelSyntaxError         the text is not a FEEL expression (raised by compile_*)
    └── FeelEvaluationError     evaluation cannot go on and cannot be turned into null:
                                a resource limit was hit (depth, size, iterations)
                                or an internal fault was caught and wrapped

Ordinary type errors at run time (``"a" + 1``, a missing variable, a bad argument)
are *not* errors in FEEL: they evaluate to null (``None``).
"""

from __future__ import annotations

__all__ = ["FeelError", "FeelEvaluationError", "FeelLimitError", "FeelSyntaxError"]


class FeelError(Exception):
    """Base class of every error this package raises.

    ``source`` is the FEEL text concerned and ``position`` the 0-based character
    offset where the problem was found, or None when it is not tied to one place.
    """

    def __init__(self, message: str, source: str = "", position: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.source = source
        self.position = position


class FeelSyntaxError(FeelError):
    """The source text is not valid FEEL; the message says what was found and where."""


class FeelEvaluationError(FeelError):
    """Evaluation had to stop: a limit was reached or an internal fault was caught."""


class FeelLimitError(FeelEvaluationError):
    """A resource limit (nesting depth, value size, iteration count) was reached."""
