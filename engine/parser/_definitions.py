"""From a safe XML root to ``Definitions``: root elements first, then each process, then DI.

Root elements (messages, signals, errors, escalations) and the ids of all
processes are read before any process, so a reference may point forward.

Processes that are not executable (``isExecutable`` other than ``true``, as in
Camunda 8, where a missing attribute means not executable) are parsed with a
muted problem sink: the model keeps what could be built, with
``executable=False``, and nothing inside them is reported, because nothing
inside them will run. Document-level problems (XML, safety, limits, duplicate
ids, unsupported root elements, DI) are reported for every file.
"""

from __future__ import annotations

from collections.abc import Collection

from engine.model import Definitions, Diagram, Process, Value
from engine.parser._checks import check_process
from engine.parser._context import MessageRef, ProcessContext, RootIndex, checked_value
from engine.parser._diagram import diagram
from engine.parser._extensions import check_zeebe, zeebe_child
from engine.parser._names import BPMN, BPMNDI, ID_NAMESPACES, bpmn, prefixed, split
from engine.parser._problems import ProblemSink
from engine.parser._scopes import PlacedFlow, assemble, new_process, walk
from engine.parser._table import IGNORED_AT_ROOT
from engine.parser._tree import Element, elements, line_of, tag_of

_PROCESS = bpmn("process")
_DIAGRAM = f"{{{BPMNDI}}}BPMNDiagram"
_ROOT_REFERENCES = frozenset(bpmn(t) for t in ("message", "signal", "error", "escalation"))


def build_definitions(
    root: Element, sink: ProblemSink, known_process_ids: Collection[str] | None
) -> Definitions | None:
    if tag_of(root) != bpmn("definitions"):
        sink.at(root, f"the root element is {prefixed(str(root.tag))}, not bpmn:definitions")
        return None
    _report_duplicate_ids(root, sink)
    roots = _root_index(root, sink)
    known = frozenset(known_process_ids) if known_process_ids is not None else None
    processes: dict[str, Process] = {}
    diagrams: list[Diagram] = []
    for tag, child in elements(root):
        if tag == _PROCESS:
            process = _process(child, roots, sink, known)
            if process is not None and process.id not in processes:
                processes[process.id] = process
        elif tag == _DIAGRAM:
            diagrams.append(diagram(child, len(diagrams)))
        elif split(tag)[0] == BPMN and tag not in IGNORED_AT_ROOT and tag not in _ROOT_REFERENCES:
            sink.at(child, f"unsupported element {prefixed(tag)}")
    return Definitions(
        id=root.get("id"),
        target_namespace=root.get("targetNamespace"),
        processes=processes,
        messages={k: v.name or "" for k, v in roots.messages.items()},
        signals={k: v or "" for k, v in roots.signals.items()},
        errors={k: v or "" for k, v in roots.errors.items()},
        escalations={k: v or "" for k, v in roots.escalations.items()},
        diagrams=tuple(diagrams),
        exporter=root.get("exporter"),
        exporter_version=root.get("exporterVersion"),
    )


def _root_index(root: Element, sink: ProblemSink) -> RootIndex:
    roots = RootIndex()
    for tag, child in elements(root):
        element_id = (child.get("id") or "").strip()
        if tag == _PROCESS:
            flag = (child.get("isExecutable") or "false").strip()
            if flag not in ("true", "1", "false", "0"):
                sink.at(child, f"attribute isExecutable={flag!r} is not a boolean (true or false)")
            if element_id:
                executable = flag in ("true", "1")
                (roots.executable_processes if executable else roots.other_processes).add(element_id)
            continue
        if tag not in _ROOT_REFERENCES:
            continue
        if not element_id:
            sink.at(child, f"{prefixed(tag)} has no id")
            continue
        local = split(tag)[1]
        if local == "message":
            roots.messages[element_id] = MessageRef(child.get("name"), _correlation_key(child, sink))
        elif local == "signal":
            roots.signals[element_id] = child.get("name")
        elif local == "error":
            roots.errors[element_id] = child.get("errorCode")
        else:
            roots.escalations[element_id] = child.get("escalationCode")
    return roots


def _correlation_key(message: Element, sink: ProblemSink) -> Value | None:
    subscription = zeebe_child(message, "subscription")
    raw = (subscription.get("correlationKey") or "").strip() if subscription is not None else ""
    if subscription is None or not raw:
        return None
    return checked_value(raw, subscription, "zeebe:subscription correlationKey", sink)


def _process(element: Element, roots: RootIndex, sink: ProblemSink, known: frozenset[str] | None) -> Process | None:
    process_id = (element.get("id") or "").strip()
    executable = process_id in roots.executable_processes
    if not process_id:
        sink.at(element, "bpmn:process has no id")
        return None
    ctx = ProcessContext(
        sink=sink.muted_copy(not executable),
        roots=roots,
        process_id=process_id,
        executable=executable,
        known_process_ids=known,
    )
    check_zeebe(element, ctx.sink)
    flows: list[PlacedFlow] = []
    walk(element, process_id, ctx, flows)
    process = new_process(element, ctx, assemble(ctx, flows))
    if executable:
        check_process(process, ctx)
    return process


def _report_duplicate_ids(root: Element, sink: ProblemSink) -> None:
    first_line: dict[str, int | None] = {}
    for element in root.iter():
        tag = tag_of(element)
        element_id = element.get("id") if tag is not None and split(tag)[0] in ID_NAMESPACES else None
        if element_id is None:
            continue
        if element_id in first_line:
            where = first_line[element_id]
            sink.at(element, f"duplicate id (first used on line {where})" if where else "duplicate id")
        else:
            first_line[element_id] = line_of(element)
