"""Collecting problems while the parser walks a document."""

from __future__ import annotations

from typing import Final

from engine.parser._tree import Element, line_of, tag_of
from engine.parser.exceptions import Problem

# Parts of an element that may carry ids of their own, which no author looks for:
# a problem inside one is reported against the element that owns it.
_PARTS: Final = frozenset(
    {
        "conditionExpression",
        "completionCondition",
        "loopCardinality",
        "condition",
        "timeDuration",
        "timeDate",
        "timeCycle",
        "multiInstanceLoopCharacteristics",
        "standardLoopCharacteristics",
        "extensionElements",
    }
)


def owner_id(element: Element) -> str | None:
    """The id of ``element`` or of the nearest element around it that an author would name."""
    current: Element | None = element
    while current is not None:
        tag = tag_of(current) or ""
        local = tag.rpartition("}")[2]
        element_id = current.get("id")
        if element_id and local not in _PARTS and not local.endswith("EventDefinition"):
            return element_id
        current = current.getparent()
    return None


class ProblemSink:
    """Collects problems with line and element id; a muted sink drops them.

    Muting is how non-executable processes are parsed leniently: the walk and
    the builders are the same, only what they find is not reported (an
    alternative, a second lenient copy of every builder, was rejected).
    """

    def __init__(self, source_name: str, *, muted: bool = False) -> None:
        self.source_name = source_name
        self.muted = muted
        self._problems: list[Problem] = []

    @property
    def problems(self) -> tuple[Problem, ...]:
        return tuple(self._problems)

    def add(self, message: str, *, line: int | None = None, element_id: str | None = None) -> None:
        if not self.muted:
            self._problems.append(Problem(self.source_name, line, element_id, message))

    def at(self, element: Element, message: str, *, element_id: str | None = None) -> None:
        """Report a problem at ``element``'s line, against the id of the element that owns it."""
        if element_id is None:
            element_id = owner_id(element)
        self.add(message, line=line_of(element), element_id=element_id)

    def muted_copy(self, muted: bool) -> ProblemSink:
        """A sink that shares this one's list, muted or not."""
        sink = ProblemSink(self.source_name, muted=self.muted or muted)
        sink._problems = self._problems
        return sink
