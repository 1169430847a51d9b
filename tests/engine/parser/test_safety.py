"""Hostile XML is refused cleanly (RELIABILITY.md section 5, tests X1-X7).

These pin lxml's and libxml2's behaviour too, so an upgrade that changes a
default cannot silently open a hole.
"""

from __future__ import annotations

import ast
import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from lxml import etree

from engine.parser import BpmnParseError, ParserLimits, Problem, parse_bpmn
from engine.parser._xml import PARSER_OPTIONS

REPO = Path(__file__).resolve().parents[3]
BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"


def bpmn_with_doctype(doctype: str, inner: str = "&x;") -> str:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
{doctype}
<bpmn:definitions xmlns:bpmn="{BPMN_NS}">
  <bpmn:process id="p" isExecutable="true"><bpmn:documentation>{inner}</bpmn:documentation>
    <bpmn:startEvent id="s"/></bpmn:process>
</bpmn:definitions>"""


DEFAULT = ParserLimits()


def problems(data: bytes | str, limits: ParserLimits = DEFAULT) -> tuple[Problem, ...]:
    with pytest.raises(BpmnParseError) as caught:
        parse_bpmn(data, source_name="evil.bpmn", limits=limits)
    return caught.value.problems


class Listener:
    """A loopback TCP listener that counts connections, standing in for an attacker's server."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.server.settimeout(0.05)
        self.port: int = self.server.getsockname()[1]
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.server.accept()
            except OSError:
                continue
            self.connections += 1
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self.server.close()


@pytest.fixture
def listener() -> Iterator[Listener]:
    server = Listener()
    yield server
    server.close()


def test_x1_an_external_file_entity_is_refused_and_never_read(tmp_path: Path) -> None:
    canary = tmp_path / "canary"
    canary.write_text("CANARY-7f3a")
    text = bpmn_with_doctype(f'<!DOCTYPE d [<!ENTITY x SYSTEM "file://{canary}">]>')
    (problem,) = problems(text)
    assert "DTD not allowed" in problem.message
    assert "CANARY" not in str(problem)


def test_x1_the_configured_lxml_parser_alone_does_not_expand_a_file_entity(tmp_path: Path) -> None:
    canary = tmp_path / "canary"
    canary.write_text("CANARY-7f3a")
    text = f'<!DOCTYPE d [<!ENTITY x SYSTEM "file://{canary}">]><d>&x;</d>'
    root = etree.fromstring(text.encode(), etree.XMLParser(**PARSER_OPTIONS))
    assert b"CANARY" not in etree.tostring(root)


@pytest.mark.parametrize(
    "doctype",
    [
        '<!DOCTYPE d [<!ENTITY x SYSTEM "http://127.0.0.1:{port}/x">]>',
        '<!DOCTYPE d [<!ENTITY % p SYSTEM "http://127.0.0.1:{port}/p"> %p;]>',
        '<!DOCTYPE d SYSTEM "http://127.0.0.1:{port}/evil.dtd">',
    ],
)
def test_x2_x3_network_entities_and_external_dtds_are_refused_without_a_connection(
    doctype: str, listener: Listener
) -> None:
    text = bpmn_with_doctype(doctype.format(port=listener.port), inner="x")
    (problem,) = problems(text)
    assert "DTD not allowed" in problem.message
    # Also with the byte scan out of the way: libxml2 itself must not fetch anything.
    with contextlib.suppress(etree.XMLSyntaxError):
        etree.fromstring(text.encode(), etree.XMLParser(**PARSER_OPTIONS))
    time.sleep(0.1)
    assert listener.connections == 0


def test_x3_xinclude_is_refused_and_never_processed() -> None:
    text = f"""<bpmn:definitions xmlns:bpmn="{BPMN_NS}" xmlns:xi="http://www.w3.org/2001/XInclude">
  <xi:include href="file:///etc/passwd" parse="text"/>
</bpmn:definitions>"""
    (problem,) = problems(text)
    assert "XInclude" in problem.message
    assert "root:" not in str(problem)


def test_x3_a_schema_location_is_ignored_without_a_connection(listener: Listener) -> None:
    text = f"""<bpmn:definitions xmlns:bpmn="{BPMN_NS}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
  xsi:schemaLocation="{BPMN_NS} http://127.0.0.1:{listener.port}/x.xsd">
  <bpmn:process id="p" isExecutable="false"/></bpmn:definitions>"""
    assert "p" in parse_bpmn(text).processes
    time.sleep(0.1)
    assert listener.connections == 0


LAUGHS = "".join(
    f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10}">' if i else '<!ENTITY lol0 "lol">' for i in range(10)
)


@pytest.mark.parametrize(
    "payload",
    [
        bpmn_with_doctype(f"<!DOCTYPE d [{LAUGHS}]>", inner="&lol9;").encode(),
        bpmn_with_doctype(f'<!DOCTYPE d [<!ENTITY a "{"a" * 50_000}">]>', inner="&a;" * 5_000).encode(),
        # In UTF-7 the byte scan sees no "<!DOCTYPE"; the check after parsing must still refuse it.
        b'<?xml version="1.0" encoding="UTF-7"?>\n+ADw-!DOCTYPE d +AFs-+ADw-!ENTITY a "aaaaaaaaaa"+AD4-+AF0-+AD4-\n'
        b"<d>" + b"+ACY-a;" * 10_000 + b"</d>",
    ],
    ids=["billion-laughs", "quadratic-blowup", "utf7-doctype"],
)
def test_x4_entity_expansion_bombs_are_refused_quickly(payload: bytes) -> None:
    started = time.perf_counter()
    found = problems(payload)
    assert time.perf_counter() - started < 1.0
    assert any("DTD not allowed" in p.message for p in found), found


def test_x4_the_configured_lxml_parser_alone_stops_a_billion_laughs() -> None:
    payload = f"<!DOCTYPE d [{LAUGHS}]><d>&lol9;</d>".encode()
    started = time.perf_counter()
    with contextlib.suppress(etree.XMLSyntaxError):
        root = etree.fromstring(payload, etree.XMLParser(**PARSER_OPTIONS))
        assert len(etree.tostring(root)) < 10_000  # not expanded
    assert time.perf_counter() - started < 1.0


def test_x5_a_document_over_the_size_limit_is_refused_before_parsing() -> None:
    (problem,) = problems(b" " * (10 * 1024 * 1024 + 1))
    assert "larger than the limit" in problem.message
    (problem,) = problems("<a/>" + " " * 200, ParserLimits(max_bytes=100))
    assert "larger than the limit of 100 bytes" in problem.message


def test_x5_a_document_nested_too_deep_is_refused() -> None:
    (problem,) = problems(b"<a>" * 300_000 + b"</a>" * 300_000)
    assert "nested deeper than the limit of 100" in problem.message
    (problem,) = problems(b"<a>" * 11 + b"</a>" * 11, ParserLimits(max_depth=10))
    assert "nested deeper than the limit of 10" in problem.message
    assert problem.line == 1


def test_x5_a_document_with_too_many_elements_is_refused_while_parsing() -> None:
    (problem,) = problems(b"<r>" + b"<a/>\n" * 1_000_000 + b"</r>")
    assert "more elements than the limit of 100000" in problem.message
    assert problem.line is not None and problem.line <= 100_001  # stopped there, not at the end
    (problem,) = problems(b"<r><a/><a/></r>", ParserLimits(max_elements=2))
    assert "more elements than the limit of 2" in problem.message


def test_x5_a_ten_megabyte_attribute_within_the_size_limit_is_refused_by_libxml2() -> None:
    text = f'<bpmn:definitions xmlns:bpmn="{BPMN_NS}" id="{"x" * 10_400_000}"/>'
    assert problems(text, ParserLimits(max_bytes=20 * 1024 * 1024))


def test_x6_the_parser_options_are_the_hardened_ones() -> None:
    assert PARSER_OPTIONS["resolve_entities"] is False
    assert PARSER_OPTIONS["no_network"] is True
    assert PARSER_OPTIONS["load_dtd"] is False
    assert PARSER_OPTIONS["dtd_validation"] is False
    assert PARSER_OPTIONS["huge_tree"] is False
    assert etree.LXML_VERSION >= (6, 1, 0)


def _imports(path: Path) -> Iterator[str]:
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            yield node.module


def test_x6_only_the_parser_imports_lxml_and_never_uses_unsafe_entry_points() -> None:
    offenders = []
    for package in ("engine", "registry", "protocols", "hub"):
        for path in (REPO / package).rglob("*.py"):
            in_parser = path.is_relative_to(REPO / "engine" / "parser")
            if not in_parser and any(name.split(".")[0] == "lxml" for name in _imports(path)):
                offenders.append(str(path.relative_to(REPO)))
    assert offenders == []
    for path in (REPO / "engine" / "parser").rglob("*.py"):
        source = path.read_text()
        for unsafe in ("iterparse", "ETCompatXMLParser", ".xinclude(", "resolve_entities=True", "huge_tree=True"):
            assert unsafe not in source, f"{path.name} uses {unsafe}"


@pytest.mark.parametrize(
    "payload",
    [
        bpmn_with_doctype('<!DOCTYPE d [<!ENTITY x "boom">]>').encode("utf-16"),
        bpmn_with_doctype('<!DOCTYPE d [<!ENTITY x "boom">]>').encode("utf-16-be"),
        b"\xef\xbb\xbf" + bpmn_with_doctype('<!DOCTYPE d [<!ENTITY x "boom">]>').encode(),
        bpmn_with_doctype('<!DOCTYPE d [<!ENTITY x "boom">]>').encode("utf-32"),
    ],
    ids=["utf16-bom", "utf16-be", "utf8-bom", "utf32"],
)
def test_x7_a_doctype_in_another_encoding_is_refused_the_same_way(payload: bytes) -> None:
    (problem,) = problems(payload)
    assert "DTD not allowed" in problem.message


def test_a_doctype_given_as_text_is_refused() -> None:
    (problem,) = problems(bpmn_with_doctype('<!DOCTYPE d [<!ENTITY x "boom">]>'))
    assert "DTD not allowed" in problem.message
