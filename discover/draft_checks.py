"""What goes to a model that drafts a process change, and what is checked of what comes back.

The prompt holds the goal, the process's improvement brief (its measures,
bottlenecks, rework and ranked opportunities: ``discover.inventory``) and
its current BPMN without the diagram (the draft is laid out again, so
the model need not draw). The answer's BPMN is the final answer (a string,
or ``{"bpmn": "..."}``) or the first BPMN document in its text. It is then
checked as a deployment would check it: parsed by the engine's parser
(every problem with its line), the same process id required, the elements
this engine cannot run refused, and the warnings a deployment gives
(loops with no wait state, connectors nothing handles ...) kept. A draft
that passes is laid out by the engine's own layout (``engine.parser.layout``).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

from discover.inventory import brief
from engine import Engine
from engine.model import Process
from engine.parser import BpmnParseError, Problem, parse_bpmn
from engine.parser.layout import layout
from engine.runtime.support import process_warnings, unsupported_problems

__all__ = ["OWNER_ATTRIBUTE", "DraftCheck", "bpmn_of", "check_draft", "draft_messages", "owner_group"]

OWNER_ATTRIBUTE = "ownerGroup"  # agenthub:ownerGroup="..." on <bpmn:process>: who approves changes to it
_DOCUMENT = re.compile(r"(?:<\?xml[^>]*\?>\s*)?<(?:[A-Za-z_][\w.-]*:)?definitions\b.*?</(?:[A-Za-z_][\w.-]*:)?"
                       r"definitions\s*>", re.S)
_DI = "{http://www.omg.org/spec/BPMN/20100524/DI}BPMNDiagram"
_SYSTEM = (
    "You improve business processes modelled in BPMN 2.0 for agenthub, an engine that runs Camunda 8 models "
    "(zeebe: extension elements) and its own agenthub: namespace. Change the given model so that it reaches the "
    "goal, guided by the measures of how it runs. Keep the process id '{process}', the namespaces, the task "
    "types (zeebe:taskDefinition) and the extension elements of the tasks you keep, and the "
    "agenthub:ownerGroup attribute. Leave out the diagram (BPMNDiagram): it is drawn again. Answer with the whole "
    "changed BPMN XML document and nothing else."
)


def owner_group(process: Process) -> str | None:
    """The group whose members approve changes to ``process`` (``agenthub:ownerGroup`` on it), if it names one."""
    return process.extensions.get(OWNER_ATTRIBUTE) or None


def _without_diagram(xml: str) -> str:
    root = etree.fromstring(xml.encode(), etree.XMLParser(resolve_entities=False, no_network=True))
    for diagram in root.findall(_DI):
        root.remove(diagram)
    return etree.tostring(root, encoding="unicode")


def draft_messages(engine: Engine, process_id: str, version: int, goal: str) -> list[dict[str, Any]]:
    """The conversation that asks for the draft: a system message with the rules, a user message with the goal,
    the brief and the model."""
    b = brief(engine, process_id)
    measures = {k: b[k] for k in ("instances", "completed", "terminated", "incidentRate", "failureRate",
                                  "cycleTimeMs", "bottlenecks", "reworkLoops", "exceptionHotSpots", "opportunities")}
    user = (f"Goal: {goal}\n\nHow process '{process_id}' runs now (its improvement brief, times in ms):\n"
            f"{json.dumps(measures, indent=1)}\n\nIts BPMN (version {version}):\n"
            f"{_without_diagram(engine.definition_xml(process_id, version))}")
    return [{"role": "system", "content": _SYSTEM.format(process=process_id)}, {"role": "user", "content": user}]


def bpmn_of(answer: dict[str, Any]) -> str | None:
    """The BPMN document in a model's answer (``engine.agent.turn``'s format), or None when it holds none."""
    final = answer.get("final")
    for text in (final.get("bpmn") if isinstance(final, dict) else final, answer.get("content")):
        if isinstance(text, str):
            found = _DOCUMENT.search(text)
            if found:
                return found.group(0)
    return None


@dataclass(frozen=True, slots=True)
class DraftCheck:
    bpmn: str  # laid out when it passed, else as the model wrote it
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    process: Process | None = None  # the parsed draft, when it passed

    def to_json(self) -> dict[str, Any]:
        return {"passed": not self.errors, "errors": self.errors, "warnings": self.warnings}


def _texts(problems: tuple[Problem, ...] | list[Problem]) -> list[str]:
    return [str(p) for p in problems]


def check_draft(xml: str, process_id: str, resource: str) -> DraftCheck:
    """Parse, check and lay out a drafted model of ``process_id``; ``resource`` names it in problems."""
    try:
        definitions = parse_bpmn(xml, source_name=resource)
    except BpmnParseError as exc:
        return DraftCheck(xml, _texts(exc.problems))
    process = definitions.processes.get(process_id)
    others = sorted(set(definitions.processes) - {process_id})
    if process is None or not process.executable:
        return DraftCheck(xml, [f"{resource}: the draft holds no executable process '{process_id}'"
                                + (f" (it holds {', '.join(others)})" if others else "")])
    errors = _texts(unsupported_problems(definitions, resource))
    if others:
        errors.append(f"{resource}: the draft may change process '{process_id}' only, and it also holds "
                      f"{', '.join(others)}")
    if errors:
        return DraftCheck(xml, errors)
    try:
        drawn = layout(xml.encode()).decode()
    except (etree.XMLSyntaxError, ValueError) as exc:
        return DraftCheck(xml, [f"{resource}: cannot lay the draft out: {exc}"])
    return DraftCheck(drawn, [], _texts(process_warnings(process, resource)), process)
