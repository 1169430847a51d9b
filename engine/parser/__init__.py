"""BPMN 2.0 XML to the engine's model.

Owns: turning a BPMN document (bytes or text) into ``engine.model.Definitions``,
safely (no DTDs, no entity expansion, no network, no XInclude; bounded size,
depth and element count) and strictly (every problem collected with its line
and element id, and raised together as one ``BpmnParseError``). It is the only
module of the project that imports lxml. It understands BPMN DI, Camunda 8
``zeebe:`` extension elements and agenthub's own namespace
``urn:agenthub:bpmn:1`` (kept generically for the layers that interpret it).
DMN 1.1 to 1.5 documents are read here too (``parse_dmn``, into ``engine.dmn.model``).
The parser is a table (``_table.FLOW_NODES``): one map from tag to builder.

Does not know: how anything runs (``engine.runtime``), FEEL semantics (it only
asks ``engine.feel`` whether an expression compiles), where documents come
from or go (files, HTTP, the store), or which processes are deployed beyond the
``known_process_ids`` it is given.

Non-executable processes are kept with ``executable=False`` and are not
checked beyond XML-level problems; see ``_definitions``.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Final

from engine.model import Definitions
from engine.parser._definitions import build_definitions
from engine.parser._dmn import DmnParseError, parse_dmn
from engine.parser._problems import ProblemSink
from engine.parser._xml import ParserLimits, load
from engine.parser.exceptions import BpmnParseError, Problem

__all__ = ["BpmnParseError", "DmnParseError", "ParserLimits", "Problem", "parse_bpmn", "parse_dmn"]

DEFAULT_LIMITS: Final = ParserLimits()


def parse_bpmn(
    data: bytes | str,
    *,
    source_name: str = "<input>",
    known_process_ids: Collection[str] | None = None,
    limits: ParserLimits = DEFAULT_LIMITS,
) -> Definitions:
    """Parse a BPMN 2.0 document into the engine's model.

    ``source_name`` names the document in problems (``order.bpmn:12: ...``).
    When ``known_process_ids`` is given, a call activity's static
    ``zeebe:calledElement processId`` may not name a process of this document
    that is not executable, unless it is one of these ids; a process found
    nowhere may be deployed later (the call resolves when it runs).

    Raises ``BpmnParseError`` listing every problem found; nothing else escapes.
    """
    sink = ProblemSink(source_name)
    definitions: Definitions | None = None
    try:
        root = load(data, limits, sink)
        if root is not None:
            definitions = build_definitions(root, sink, known_process_ids)
    except Exception as exc:  # the contract is that only BpmnParseError escapes; a bug here is still reported
        sink.add(f"internal parser error ({type(exc).__name__}: {exc}); please report this with the document")
    problems = sorted(sink.problems, key=lambda p: (p.line is not None, p.line or 0))
    if problems or definitions is None:
        raise BpmnParseError(problems)
    return definitions
