"""Typed helpers over lxml elements (lxml-stubs types some attributes loosely)."""

from __future__ import annotations

from collections.abc import Iterator

from lxml import etree

Element = etree._Element


def line_of(element: Element) -> int | None:
    line: object = element.sourceline
    return line if isinstance(line, int) else None


def tag_of(element: Element) -> str | None:
    """The Clark tag of an element; None for comments, entities and processing instructions."""
    tag: object = element.tag
    return tag if isinstance(tag, str) else None


def elements(parent: Element) -> Iterator[tuple[str, Element]]:
    """The child elements of ``parent`` with their tags, skipping non-element nodes."""
    for child in parent:
        tag = tag_of(child)
        if tag is not None:
            yield tag, child


def text_of(element: Element) -> str:
    """All text inside ``element`` (CDATA included), stripped."""
    return "".join(t for t in element.itertext() if isinstance(t, str)).strip()
