"""DMN 1.1 to 1.5 XML to ``engine.dmn.model``: the reading half of DMN, kept here with the only lxml importer.

Elements are matched by local name inside any of the DMN model namespaces
(the root must be a ``definitions`` of one of them), so a model saved by any
DMN modeler of those versions reads the same; ``camunda:versionTag`` on a
decision (Camunda Modeler's DMN namespace) becomes the graph's version tag,
and ``<agenthub:tool/>`` in a decision's ``extensionElements`` marks it as a
tool (``engine.decision_tools``).
Problems are collected with line and element id and raised together, as for
BPMN. The evaluation is ``engine.dmn``'s; nothing here knows FEEL semantics.
"""

from __future__ import annotations

import re
from typing import Final

from engine.dmn.model import (
    Aggregation,
    BusinessKnowledgeModel,
    Conditional,
    Context,
    ContextEntry,
    Decision,
    DecisionGraph,
    DecisionService,
    DecisionTable,
    Filter,
    FunctionDefinition,
    HitPolicy,
    InputData,
    Invocation,
    ItemDefinition,
    Iterator,
    ListOf,
    Literal,
    Relation,
    Rule,
    TableInput,
    TableOutput,
    ToolMark,
)
from engine.dmn.model import Boxed as _Boxed
from engine.parser._names import AGENTHUB
from engine.parser._problems import ProblemSink
from engine.parser._tree import Element, elements, line_of
from engine.parser._xml import ParserLimits, load
from engine.parser.exceptions import BpmnParseError

__all__ = ["DMN_NAMESPACES", "DmnParseError", "parse_dmn"]

_TOOL_NAME: Final = re.compile(r"^[A-Za-z0-9._-]{1,128}$")  # what MCP clients accept as a tool name
DMN_NAMESPACES: Final = frozenset({
    "http://www.omg.org/spec/DMN/20151101/dmn.xsd",
    "http://www.omg.org/spec/DMN/20180521/MODEL/",
    "https://www.omg.org/spec/DMN/20191111/MODEL/",
    "https://www.omg.org/spec/DMN/20211108/MODEL/",
    "https://www.omg.org/spec/DMN/20230324/MODEL/",
})
_CAMUNDA_DMN: Final = ("http://camunda.org/schema/1.0/dmn", "http://camunda.org/schema/zeebe/1.0")
_NOT_LOGIC: Final = frozenset({
    "variable", "description", "question", "allowedAnswers", "informationRequirement", "knowledgeRequirement",
    "authorityRequirement", "extensionElements", "formalParameter", "parameter",
})


class DmnParseError(BpmnParseError):
    """A DMN document could not be read; ``problems`` says why, each with its line."""


def _local(element: Element) -> str:
    tag = element.tag
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""


def _kids(element: Element, name: str) -> list[Element]:
    return [c for _, c in elements(element) if _local(c) == name]


def _kid(element: Element | None, name: str) -> Element | None:
    if element is None:
        return None
    found = _kids(element, name)
    return found[0] if found else None


def _text(element: Element | None) -> str | None:
    """The FEEL text of an element holding a ``text`` child (or of a ``text`` element itself)."""
    if element is None:
        return None
    holder = element if _local(element) == "text" else _kid(element, "text")
    if holder is None:
        return None
    return "".join(str(t) for t in holder.itertext())


def _type_ref(element: Element | None) -> str | None:
    if element is None:
        return None
    raw = element.get("typeRef")
    if raw is None:
        inner = _kid(element, "typeRef")  # DMN 1.1 item definitions hold it as an element
        raw = "".join(str(t) for t in inner.itertext()) if inner is not None else None
    if raw is None or not raw.strip():
        return None
    raw = raw.strip()
    return raw.split(":", 1)[1] if raw.startswith(("feel:", "FEEL:")) else raw


def _text_of(element: Element | None) -> str:
    return "".join(str(t) for t in element.itertext()).strip() if element is not None else ""


def _href(element: Element | None) -> str:
    return (element.get("href") or "").rpartition("#")[2] if element is not None else ""


class _Reader:
    def __init__(self, sink: ProblemSink) -> None:
        self.sink = sink
        self.names: set[str] = set()

    def name_of(self, element: Element) -> str:
        name = (element.get("name") or "").strip()
        if name:
            self.names.add(name)
        return name

    def boxed(self, element: Element | None) -> _Boxed | None:
        if element is None:
            return None
        kind = _local(element)
        build = _BOXED.get(kind)
        if build is None:
            self.sink.at(element, f"unsupported DMN expression <{kind}>")
            return None
        return build(self, element)

    def logic_of(self, element: Element | None) -> _Boxed | None:
        """The one boxed expression inside ``element`` (a decision, a context entry, a binding...)."""
        if element is None:
            return None
        inner = next((c for _, c in elements(element) if _local(c) not in _NOT_LOGIC), None)
        return self.boxed(inner)

    def literal(self, element: Element) -> _Boxed:
        return Literal(text=_text(element) or "", type_ref=_type_ref(element))

    def context(self, element: Element) -> _Boxed:
        entries = []
        for entry in _kids(element, "contextEntry"):
            variable = _kid(entry, "variable")
            entries.append(ContextEntry(name=self.name_of(variable) if variable is not None else None,
                                        value=self.logic_of(entry)))
        return Context(entries=tuple(entries))

    def list_of(self, element: Element) -> _Boxed:
        items = [self.boxed(c) for _, c in elements(element) if _local(c) not in _NOT_LOGIC]
        return ListOf(items=tuple(i for i in items if i is not None))

    def relation(self, element: Element) -> _Boxed:
        columns = tuple(self.name_of(c) for c in _kids(element, "column"))
        rows = tuple(
            tuple(self.boxed(c) for _, c in elements(row)) for row in _kids(element, "row")
        )
        return Relation(columns=columns, rows=rows)

    def function(self, element: Element) -> FunctionDefinition:
        params = tuple(self.name_of(p) for p in _kids(element, "formalParameter"))
        return FunctionDefinition(params=params, body=self.logic_of(element), kind=element.get("kind") or "FEEL")

    def invocation(self, element: Element) -> _Boxed:
        target = next((c for _, c in elements(element) if _local(c) not in {*_NOT_LOGIC, "binding"}), None)
        bindings = []
        for binding in _kids(element, "binding"):
            parameter = _kid(binding, "parameter")
            name = self.name_of(parameter) if parameter is not None else ""
            bindings.append((name, self.logic_of(binding)))
        return Invocation(target=self.boxed(target), bindings=tuple(bindings))

    def conditional(self, element: Element) -> _Boxed:
        return Conditional(condition=self.logic_of(_kid(element, "if")), then=self.logic_of(_kid(element, "then")),
                           otherwise=self.logic_of(_kid(element, "else")))

    def filter(self, element: Element) -> _Boxed:
        return Filter(source=self.logic_of(_kid(element, "in")), match=self.logic_of(_kid(element, "match")))

    def iterator(self, element: Element) -> _Boxed:
        kind = _local(element)
        body = _kid(element, "return" if kind == "for" else "satisfies")
        return Iterator(kind=kind, variable=(element.get("iteratorVariable") or "").strip(),
                        source=self.logic_of(_kid(element, "in")), body=self.logic_of(body))

    def table(self, element: Element) -> _Boxed:
        raw_policy = (element.get("hitPolicy") or "UNIQUE").strip()
        try:
            policy = HitPolicy(raw_policy)
        except ValueError:
            self.sink.at(element, f"unknown hit policy {raw_policy!r}")
            policy = HitPolicy.UNIQUE
        raw_aggregation = element.get("aggregation")
        aggregation = None
        if raw_aggregation:
            try:
                aggregation = Aggregation(raw_aggregation.strip())
            except ValueError:
                self.sink.at(element, f"unknown aggregation {raw_aggregation!r}")
        inputs = tuple(
            TableInput(expression=_text(_kid(i, "inputExpression")) or "null", label=i.get("label"),
                       allowed=_text(_kid(i, "inputValues")), type_ref=_type_ref(_kid(i, "inputExpression")))
            for i in _kids(element, "input")
        )
        outputs = tuple(
            TableOutput(name=(o.get("name") or None), label=o.get("label"), type_ref=_type_ref(o),
                        allowed=_text(_kid(o, "outputValues")), default=_text(_kid(o, "defaultOutputEntry")))
            for o in _kids(element, "output")
        )
        rules = tuple(
            Rule(id=r.get("id"), index=index, tests=tuple(_text(e) or "-" for e in _kids(r, "inputEntry")),
                 outputs=tuple(_text(e) or "null" for e in _kids(r, "outputEntry")))
            for index, r in enumerate(_kids(element, "rule"), start=1)
        )
        for rule in rules:
            if len(rule.tests) != len(inputs) or len(rule.outputs) != len(outputs):
                self.sink.add(f"rule {rule.id or rule.index} has {len(rule.tests)} input and {len(rule.outputs)} "
                              f"output entries; the table has {len(inputs)} inputs and {len(outputs)} outputs",
                              line=line_of(element), element_id=rule.id)
        return DecisionTable(inputs=inputs, outputs=outputs, rules=rules, hit_policy=policy,
                             aggregation=aggregation, output_type_ref=_type_ref(element))

    def item(self, element: Element) -> ItemDefinition:
        return ItemDefinition(
            name=self.name_of(element), type_ref=_type_ref(element),
            is_collection=(element.get("isCollection") or "").strip() == "true",
            allowed=_text(_kid(element, "allowedValues")),
            components=tuple(self.item(c) for c in _kids(element, "itemComponent")),
        )


_BOXED: Final = {
    "literalExpression": _Reader.literal,
    "context": _Reader.context,
    "list": _Reader.list_of,
    "relation": _Reader.relation,
    "functionDefinition": _Reader.function,
    "invocation": _Reader.invocation,
    "decisionTable": _Reader.table,
    "conditional": _Reader.conditional,
    "filter": _Reader.filter,
    "for": _Reader.iterator,
    "some": _Reader.iterator,
    "every": _Reader.iterator,
}


def _refs(element: Element, requirement: str, target: str) -> tuple[str, ...]:
    found = (_kid(r, target) for r in _kids(element, requirement))
    return tuple(_href(f) for f in found if f is not None)


def _version_tag(element: Element) -> str | None:
    """``<extensionElements><zeebe:versionTag value>`` (Camunda 8) or a ``camunda:versionTag`` attribute."""
    for extensions in _kids(element, "extensionElements"):
        for tag, child in elements(extensions):
            if tag == f"{{{_CAMUNDA_DMN[1]}}}versionTag" and (child.get("value") or "").strip():
                return (child.get("value") or "").strip()
    for uri in _CAMUNDA_DMN:
        attribute = element.get(f"{{{uri}}}versionTag")
        if attribute:
            return attribute.strip()
    return None


def _tool_mark(element: Element, sink: ProblemSink) -> ToolMark | None:
    """``<extensionElements><agenthub:tool name? description?/>``: the decision is offered as an MCP tool."""
    for extensions in _kids(element, "extensionElements"):
        for tag, child in elements(extensions):
            if tag != f"{{{AGENTHUB}}}tool":
                continue
            name = (child.get("name") or "").strip() or None
            if name is not None and not _TOOL_NAME.match(name):
                sink.at(child, f"agenthub:tool name '{name}' must be 1 to 128 letters, digits, dots, hyphens or "
                               "underscores")
            return ToolMark(name=name, description=(child.get("description") or "").strip() or None)
    return None


def _graph(root: Element, sink: ProblemSink) -> DecisionGraph:
    reader = _Reader(sink)
    graph = DecisionGraph(id=root.get("id") or "", name=root.get("name") or "", namespace=root.get("namespace") or "")
    tags = []
    for _, element in elements(root):
        kind = _local(element)
        ident = element.get("id") or (element.get("name") or "").strip()  # the TCK has decisions with no id
        if kind == "itemDefinition":
            item = reader.item(element)
            graph.items[item.name] = item
        elif kind == "inputData":
            graph.inputs[ident] = InputData(id=ident, name=reader.name_of(element),
                                            type_ref=_type_ref(_kid(element, "variable")))
        elif kind == "decision":
            variable = _kid(element, "variable")
            graph.decisions[ident] = Decision(
                id=ident, name=reader.name_of(element), logic=reader.logic_of(element),
                type_ref=_type_ref(variable) or _type_ref(element),
                required_decisions=_refs(element, "informationRequirement", "requiredDecision"),
                required_inputs=_refs(element, "informationRequirement", "requiredInput"),
                required_knowledge=_refs(element, "knowledgeRequirement", "requiredKnowledge"),
                version_tag=_version_tag(element), line=line_of(element),
                description=(_text_of(_kid(element, "description")) or None), tool=_tool_mark(element, sink),
            )
            tags.append(graph.decisions[ident].version_tag)
            if not ident:
                sink.at(element, "decision has neither an id nor a name")
        elif kind == "businessKnowledgeModel":
            logic = _kid(element, "encapsulatedLogic")
            function = reader.function(logic) if logic is not None else FunctionDefinition(params=(), body=None)
            graph.knowledge[ident] = BusinessKnowledgeModel(
                id=ident, name=reader.name_of(element), logic=function,
                required_knowledge=_refs(element, "knowledgeRequirement", "requiredKnowledge"))
        elif kind == "decisionService":
            graph.services[ident] = DecisionService(
                id=ident, name=reader.name_of(element),
                outputs=tuple(_href(e) for e in _kids(element, "outputDecision")),
                input_decisions=tuple(_href(e) for e in _kids(element, "inputDecision")),
                input_data=tuple(_href(e) for e in _kids(element, "inputData")),
            )
    version_tag = next((t for t in tags if t), None)
    return DecisionGraph(id=graph.id, name=graph.name, namespace=graph.namespace, decisions=graph.decisions,
                         knowledge=graph.knowledge, services=graph.services, inputs=graph.inputs, items=graph.items,
                         names=frozenset(reader.names), version_tag=version_tag)


def parse_dmn(data: bytes | str, *, source_name: str = "<input>", limits: ParserLimits | None = None) -> DecisionGraph:
    """Read a DMN document (1.1 to 1.5) into a ``DecisionGraph``; DmnParseError lists every problem."""
    sink = ProblemSink(source_name)
    graph: DecisionGraph | None = None
    root = load(data, limits or ParserLimits(), sink)
    if root is not None:
        uri = root.tag.partition("}")[0].lstrip("{") if isinstance(root.tag, str) else ""
        if _local(root) != "definitions" or uri not in DMN_NAMESPACES:
            sink.at(root, f"not a DMN document: the root is <{_local(root)}> in namespace {uri!r}, expected "
                          "<definitions> in a DMN 1.1 to 1.5 model namespace")
        else:
            graph = _graph(root, sink)
            if not graph.decisions:
                sink.add("the DMN document has no decision")
    if sink.problems or graph is None:
        raise DmnParseError(sink.problems)
    return graph
