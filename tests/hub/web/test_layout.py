"""The automatic layout: every flow node a shape, every flow an edge, nothing overlapping, nested inside its container.

Models come from ``tests/data`` and, where this machine has it, the shared corpus
(``/work/shared/corpus``, read in place, never copied), each with its DI stripped.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from lxml import etree

from engine.parser.layout import BPMN, BPMNDI, DC, DI, layout, needs_layout
from tests.models import chain_with_loops

DATA = Path(__file__).resolve().parents[2] / "data"
CORPUS = Path("/work/shared/corpus")
NS = {"bpmn": BPMN, "bpmndi": BPMNDI, "dc": DC, "di": DI}
FLOW_NODES = {
    "startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent", "task", "userTask",
    "serviceTask", "scriptTask", "sendTask", "receiveTask", "manualTask", "businessRuleTask", "callActivity",
    "subProcess", "adHocSubProcess", "transaction", "exclusiveGateway", "inclusiveGateway", "parallelGateway",
    "eventBasedGateway", "complexGateway",
}  # fmt: skip
CONTAINERS = {"process", "subProcess", "adHocSubProcess", "transaction"}


def _models() -> list[Path]:
    found = sorted(DATA.rglob("*.bpmn"))
    if CORPUS.is_dir():
        found += sorted(CORPUS.rglob("*.bpmn"))
    usable = []
    for path in found:
        try:
            root = etree.fromstring(path.read_bytes())
        except etree.XMLSyntaxError:
            continue  # the deliberately broken ones
        if root.find("bpmn:process", NS) is not None:
            usable.append(path)
    return usable


def _strip(raw: bytes) -> bytes:
    root = etree.fromstring(raw)
    for diagram in root.findall("bpmndi:BPMNDiagram", NS):
        root.remove(diagram)
    return bytes(etree.tostring(root))


def _local(element: etree._Element) -> str:
    return etree.QName(element).localname


Bounds = tuple[float, float, float, float]


def _bounds(root: etree._Element) -> dict[str, Bounds]:
    shapes = {}
    for shape in root.iterfind(".//bpmndi:BPMNShape", NS):
        b = shape.find("dc:Bounds", NS)
        assert b is not None
        shapes[shape.get("bpmnElement")] = (
            float(b.get("x")),
            float(b.get("y")),
            float(b.get("width")),
            float(b.get("height")),
        )
    return shapes


def _overlap(a: Bounds, b: Bounds) -> bool:
    return a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and b[1] < a[1] + a[3]


def _inside(inner: Bounds, outer: Bounds) -> bool:
    return (
        outer[0] <= inner[0]
        and outer[1] <= inner[1]
        and inner[0] + inner[2] <= outer[0] + outer[2]
        and inner[1] + inner[3] <= outer[1] + outer[3]
    )


def assert_drawn(xml: bytes) -> None:
    """The properties every laid-out model has (see the module docstring)."""
    root = etree.fromstring(xml)
    shapes = _bounds(root)
    edges = {e.get("bpmnElement"): e.findall("di:waypoint", NS) for e in root.iterfind(".//bpmndi:BPMNEdge", NS)}
    nodes = {e.get("id"): e for e in root.iter(f"{{{BPMN}}}*") if _local(e) in FLOW_NODES and e.get("id")}
    for node_id in nodes:
        assert node_id in shapes, f"flow node {node_id} has no shape"
    for flow in root.iterfind(".//bpmn:sequenceFlow", NS):
        if flow.get("sourceRef") in nodes and flow.get("targetRef") in nodes:
            assert len(edges.get(flow.get("id"), [])) >= 2, f"sequence flow {flow.get('id')} has no edge"
    for container in root.iter(*(f"{{{BPMN}}}{c}" for c in CONTAINERS)):
        members = [c.get("id") for c in container if c.get("id") in nodes]
        for a, b in itertools.combinations(members, 2):
            attached = {nodes[a].get("attachedToRef"), nodes[b].get("attachedToRef")}
            if a in attached or b in attached:
                continue  # a boundary event sits on its host's edge by design
            assert not _overlap(shapes[a], shapes[b]), f"{a} and {b} overlap in {container.get('id')}"
        if _local(container) != "process":
            for member in members:
                assert _inside(shapes[member], shapes[container.get("id")]), f"{member} outside {container.get('id')}"


@pytest.mark.parametrize("path", _models(), ids=lambda p: str(p).replace(str(CORPUS), "corpus"))
def test_a_model_stripped_of_its_diagram_is_drawn_whole(path: Path) -> None:
    stripped = _strip(path.read_bytes())

    drawn = layout(stripped)

    assert_drawn(drawn)
    assert not needs_layout(etree.fromstring(drawn))


def test_a_model_with_a_complete_diagram_is_returned_as_it_was() -> None:
    raw = (DATA / "parser" / "camunda8_order.bpmn").read_bytes()
    assert layout(raw) is raw


def test_a_partial_diagram_is_drawn_anew() -> None:
    root = etree.fromstring((DATA / "parser" / "camunda8_order.bpmn").read_bytes())
    shape = root.find(".//bpmndi:BPMNShape", NS)
    assert shape is not None
    shape.getparent().remove(shape)

    drawn = layout(etree.tostring(root))

    assert_drawn(drawn)
    assert len(etree.fromstring(drawn).findall("bpmndi:BPMNDiagram", NS)) == 1


def test_an_agents_tools_lie_in_a_grid_inside_the_ad_hoc_subprocess() -> None:
    drawn = layout(_strip((DATA / "agent" / "support_agent.bpmn").read_bytes()))

    root = etree.fromstring(drawn)
    shapes = _bounds(root)
    tools = ["lookup_order", "refund", "delete_account", "summarize", "ask_customer"]
    assert len({shapes[t][1] for t in tools}) == 2  # five tools: two rows
    assert all(_inside(shapes[t], shapes["Support"]) for t in tools)
    host, event = shapes["Support"], shapes["OverBudget"]
    assert event[1] + event[3] / 2 == host[1] + host[3]  # the boundary event sits on its host's bottom edge


def test_a_thousand_nodes_are_laid_out_whole() -> None:
    """How fast it is drawn is bench/layout.py's business (never a timed assertion here): that it is drawn right."""
    assert_drawn(layout(chain_with_loops(1000)))


def test_the_layout_is_the_same_every_time() -> None:
    model = _strip((DATA / "agent" / "support_agent.bpmn").read_bytes())
    assert layout(model) == layout(model)


def test_loops_run_back_beneath_the_flow() -> None:
    drawn = etree.fromstring(layout(chain_with_loops(30)))
    shapes = _bounds(drawn)
    lowest = max(y + h for _, y, _, h in shapes.values())
    loop = drawn.find(".//bpmn:sequenceFlow[@sourceRef='n20'][@targetRef='n13']", NS)
    assert loop is not None
    edge = drawn.find(f".//bpmndi:BPMNEdge[@bpmnElement='{loop.get('id')}']", NS)
    assert edge is not None
    assert max(float(w.get("y")) for w in edge.findall("di:waypoint", NS)) > lowest


def test_pools_of_a_collaboration_hold_their_processes() -> None:
    model = f"""<definitions xmlns="{BPMN}" id="d">
      <collaboration id="c">
        <participant id="p1" processRef="a"/><participant id="p2" processRef="b"/>
        <messageFlow id="m" sourceRef="a_send" targetRef="b_start"/>
      </collaboration>
      <process id="a"><startEvent id="a_start"/><sendTask id="a_send"/>
        <sequenceFlow id="fa" sourceRef="a_start" targetRef="a_send"/></process>
      <process id="b"><startEvent id="b_start"/><endEvent id="b_end"/>
        <sequenceFlow id="fb" sourceRef="b_start" targetRef="b_end"/></process>
    </definitions>""".encode()

    drawn = etree.fromstring(layout(model))

    shapes = _bounds(drawn)
    assert drawn.find("bpmndi:BPMNDiagram/bpmndi:BPMNPlane", NS).get("bpmnElement") == "c"
    assert all(_inside(shapes[n], shapes["p1"]) for n in ("a_start", "a_send"))
    assert all(_inside(shapes[n], shapes["p2"]) for n in ("b_start", "b_end"))
    assert not _overlap(shapes["p1"], shapes["p2"])
    assert drawn.find(".//bpmndi:BPMNEdge[@bpmnElement='m']", NS) is not None


def test_a_model_with_an_external_entity_is_refused() -> None:
    model = (
        b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b'<definitions xmlns="' + BPMN.encode() + b'" id="d"><process id="p"><task id="t" name="&x;"/></process>'
        b"</definitions>"
    )
    with pytest.raises(etree.XMLSyntaxError):
        layout(model)
