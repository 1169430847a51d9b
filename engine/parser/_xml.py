"""Safe XML loading: the one place that turns bytes into an lxml tree.

Owns the parser options and the limits. BPMN never needs a DTD, so any
DOCTYPE is refused, both in the raw bytes (before libxml2 sees them) and in
the parsed document's info (for encodings the byte scan cannot see). Entities
are never resolved, DTDs never loaded, the network never touched, XInclude
never processed (``xinclude()`` is never called and ``xi:include`` is refused).
Size is checked before parsing; depth and element count while parsing, so a
document of a million elements is abandoned at the limit rather than built.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass
from typing import Final, TypedDict

from lxml import etree

from engine.parser._problems import ProblemSink
from engine.parser._tree import Element, line_of, tag_of

XINCLUDE: Final = "http://www.w3.org/2001/XInclude"
_CHUNK: Final = 64 * 1024


@dataclass(frozen=True, slots=True)
class ParserLimits:
    """Bounds on a BPMN document, checked before and while parsing."""

    max_bytes: int = 10 * 1024 * 1024
    max_depth: int = 100
    max_elements: int = 100_000


class _ParserOptions(TypedDict):
    resolve_entities: bool
    no_network: bool
    load_dtd: bool
    dtd_validation: bool
    huge_tree: bool
    remove_comments: bool
    remove_pis: bool
    attribute_defaults: bool


# Kept as data so a test can pin them (RELIABILITY X6).
PARSER_OPTIONS: Final[_ParserOptions] = {
    "resolve_entities": False,
    "no_network": True,
    "load_dtd": False,
    "dtd_validation": False,
    "huge_tree": False,
    "remove_comments": True,
    "remove_pis": True,
    "attribute_defaults": False,
}

_FORBIDDEN: Final = tuple(
    needle.encode(codec)
    for needle in ("<!DOCTYPE", "<!ENTITY")
    for codec in ("utf-8", "utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be")
)
_DECLARATION: Final = re.compile(r"\A\ufeff?<\?xml[^>]*\?>")


def _as_bytes(data: bytes | str, sink: ProblemSink) -> bytes | None:
    if isinstance(data, bytes):
        return data
    # A str is already decoded: its declared encoding means nothing any more, and
    # lxml refuses str input that declares one. Dropping the declaration keeps lines.
    try:
        return _DECLARATION.sub("", data, count=1).encode("utf-8")
    except UnicodeEncodeError as exc:
        sink.add(f"input is not valid Unicode: {exc.reason} at character {exc.start}")
        return None


def load(data: bytes | str, limits: ParserLimits, sink: ProblemSink) -> Element | None:
    """Parse ``data`` safely into its root element, or report why not and return None."""
    if not isinstance(data, bytes | str):
        sink.add(f"input must be bytes or str, not {type(data).__name__}")
        return None
    if len(data) > limits.max_bytes:  # a str is checked again once encoded
        sink.add(f"document is larger than the limit of {limits.max_bytes} bytes")
        return None
    raw = _as_bytes(data, sink)
    if raw is None:
        return None
    if len(raw) > limits.max_bytes:
        sink.add(f"document is larger than the limit of {limits.max_bytes} bytes")
        return None
    if any(needle in raw for needle in _FORBIDDEN):
        sink.add("DTD not allowed: a BPMN document must not contain <!DOCTYPE or <!ENTITY declarations")
        return None
    if not raw.strip():
        sink.add("document is empty")
        return None
    return _parse(raw, limits, sink)


class _Shape:
    """Depth and element count seen so far, checked against the limits event by event."""

    def __init__(self, limits: ParserLimits) -> None:
        self.limits = limits
        self.depth = 0
        self.count = 0

    def check(self, parser: etree.XMLPullParser, sink: ProblemSink) -> bool:
        """Consume the parser's pending events; report and return False at the first one over a limit."""
        for event, item in parser.read_events():
            if event == "end":
                self.depth -= 1
                continue
            self.depth += 1
            self.count += 1
            line = line_of(item) if isinstance(item, Element) else None
            if self.depth > self.limits.max_depth:
                sink.add(f"elements are nested deeper than the limit of {self.limits.max_depth}", line=line)
                return False
            if self.count > self.limits.max_elements:
                sink.add(f"document has more elements than the limit of {self.limits.max_elements}", line=line)
                return False
            tag = tag_of(item) if isinstance(item, Element) else None
            if tag is not None and tag.startswith(f"{{{XINCLUDE}}}"):
                sink.add("XInclude is not allowed in a BPMN document", line=line)
                return False
        return True


def _parse(raw: bytes, limits: ParserLimits, sink: ProblemSink) -> Element | None:
    parser = etree.XMLPullParser(events=("start", "end"), **PARSER_OPTIONS)
    shape = _Shape(limits)
    try:
        for offset in range(0, len(raw), _CHUNK):
            parser.feed(raw[offset : offset + _CHUNK])
            if not shape.check(parser, sink):
                return None
        root = parser.close()
    except etree.LxmlError as exc:
        # A limit crossed before libxml2 gave up is the better explanation (its own depth cap is 256).
        if shape.check(parser, sink):
            _report_syntax_error(raw, exc, sink)
        return None
    if not shape.check(parser, sink):
        return None
    docinfo = root.getroottree().docinfo
    doctype: object = getattr(docinfo, "doctype", "")  # missing from lxml-stubs
    if doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        sink.add("DTD not allowed: a BPMN document must not contain a DOCTYPE declaration")
        return None
    return root


def _report_syntax_error(raw: bytes, exc: etree.LxmlError, sink: ProblemSink) -> None:
    # A feed parser's exception carries libxml2's last, often vaguer, error and no log of its
    # own. Parsing the same bytes again stops at the same first fatal error, so it builds no
    # more than the streaming pass did, and this parser's log names the first error and line.
    parser = etree.XMLParser(**PARSER_OPTIONS)
    with contextlib.suppress(etree.LxmlError):
        etree.fromstring(raw, parser)
    for entry in parser.error_log:
        if entry.level >= etree.ErrorLevels.ERROR:
            sink.add(f"invalid XML: {entry.message}", line=entry.line if entry.line > 0 else None)
            return
    sink.add(f"invalid XML: {exc}")
