"""Errors of the BPMN parser.

The tree is flat on purpose::

    Exception
     └── BpmnParseError     one or more Problems found in a BPMN document

Every problem found in a document is collected first and raised together, so
an author fixes a file in one round instead of one error at a time. Nothing
else escapes ``parse_bpmn``: malformed XML, unsafe XML, limits and semantic
mistakes all arrive as a ``Problem``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a BPMN document: where it is and what is wrong."""

    source_name: str
    line: int | None
    element_id: str | None
    message: str

    def __str__(self) -> str:
        where = self.source_name if self.line is None else f"{self.source_name}:{self.line}"
        if self.element_id is None:
            return f"{where}: {self.message}"
        return f"{where}: element '{self.element_id}': {self.message}"


class BpmnParseError(Exception):
    """A BPMN document could not be turned into a model; ``problems`` says why, each with its line."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: tuple[Problem, ...] = tuple(problems)
        super().__init__("\n".join(str(p) for p in self.problems))
