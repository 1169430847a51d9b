"""Deployed DMN decisions: reading ``.dmn`` resources at deployment, versioning them, finding a version by binding.

A ``.dmn`` resource of a deployment is read with ``engine.parser.parse_dmn``
(every problem reported with the deployment's other problems) and kept as a
deployment resource; each decision in it becomes a new version of its id
unless the newest version came from the same text, as processes are
versioned. A decision's version row points at the resource, so a version is
always evaluated within the graph (the whole DMN file) it was deployed in.
Parsed graphs are cached by checksum: evaluating a decision in a step reads
one row and one resource, and parses only the first time.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from engine.dmn import DecisionBinding, DecisionGraph, DecisionVersion
from engine.dmn.checks import graph_problems
from engine.parser import DmnParseError, Problem, parse_dmn
from engine.store.protocol import DefinitionRows, StoreTx
from engine.store.rows import DecisionRow

__all__ = ["DeployedDecision", "decision_version", "is_dmn", "read_decisions", "store_decisions"]


@dataclass(frozen=True, slots=True)
class DeployedDecision:
    decision_id: str
    name: str | None
    version: int
    key: int
    resource_name: str
    is_new: bool
    requirements_id: str = ""  # the DMN document's (``definitions``) id and name: Camunda's decision requirements
    requirements_name: str = ""


def is_dmn(name: str) -> bool:
    return name.lower().endswith(".dmn")


def checksum(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@functools.lru_cache(maxsize=256)
def _graph(text: str, digest: str, source_name: str) -> DecisionGraph:
    return parse_dmn(text, source_name=source_name)


def read_decisions(files: Mapping[str, str]) -> tuple[dict[str, DecisionGraph], list[Problem]]:
    """The graphs of the ``.dmn`` files among ``files``, and the problems found in them: XML, FEEL that does not
    compile, requirements not found, decision ids given twice."""
    graphs: dict[str, DecisionGraph] = {}
    problems: list[Problem] = []
    seen: dict[str, str] = {}
    for name, text in sorted(files.items()):
        if not is_dmn(name):
            continue
        try:
            graph = _graph(text, checksum(text), name)
        except DmnParseError as exc:
            problems.extend(exc.problems)
            continue
        problems.extend(Problem(name, line, element, message) for element, line, message in graph_problems(graph))
        for decision in graph.decisions.values():
            if decision.id in seen:
                problems.append(Problem(name, decision.line, decision.id,
                                        f"decision '{decision.id}' is also defined in '{seen[decision.id]}'"))
            seen[decision.id] = name
        graphs[name] = graph
    return graphs, problems


def store_decisions(tx: StoreTx, deployment: int, graphs: Mapping[str, DecisionGraph], files: Mapping[str, str],
                    at: int) -> list[DeployedDecision]:
    """A new version of each decision whose DMN text changed (the resources are stored by the caller)."""
    deployed: list[DeployedDecision] = []
    for resource_name, graph in sorted(graphs.items()):
        digest = checksum(files[resource_name])
        for decision in graph.decisions.values():
            latest = tx.decisions.find(decision.id)
            if latest is not None and latest.checksum == digest:
                deployed.append(DeployedDecision(decision.id, decision.name, int(latest.version), int(latest.key),
                                                 resource_name, False, graph.id, graph.name))
                continue
            version = int(latest.version) + 1 if latest is not None else 1
            key = tx.next_key()
            tx.decisions.insert(DecisionRow(key=key, decision_id=decision.id, version=version, name=decision.name,
                                            version_tag=decision.version_tag, deployment_key=deployment,
                                            resource_name=resource_name, checksum=digest, created_at=at))
            deployed.append(DeployedDecision(decision.id, decision.name, version, key, resource_name, True, graph.id,
                                             graph.name))
    return deployed


def load_version(tx: StoreTx, row: Any) -> DecisionVersion:
    """The version of ``row`` with its parsed graph."""
    text = _resource(tx.definitions, int(row.deployment_key), str(row.resource_name))
    graph = _graph(text, str(row.checksum), str(row.resource_name))
    return DecisionVersion(key=int(row.key), decision_id=str(row.decision_id), version=int(row.version),
                           version_tag=row.version_tag, graph=graph)


def _resource(definitions: DefinitionRows, deployment: int, name: str) -> str:
    text = definitions.resource(deployment, name)
    if text is None:  # a row without its resource: the store was changed by hand
        raise LookupError(f"the DMN resource '{name}' of deployment {deployment} is missing from the store")
    return text


def decision_version(tx: StoreTx, decision_id: str, binding: DecisionBinding, version_tag: str | None = None,
                     deployment: int | None = None, version: int | None = None) -> DecisionVersion | None:
    """The version ``binding`` names: the newest, the newest with ``version_tag``, or ``deployment``'s; or None."""
    if binding == DecisionBinding.DEPLOYMENT:
        row = tx.decisions.in_deployment(decision_id, deployment) if deployment is not None else None
    elif binding == DecisionBinding.VERSION_TAG:
        row = tx.decisions.find(decision_id, version_tag=version_tag or "")
    else:
        row = tx.decisions.find(decision_id, version)
    return load_version(tx, row) if row is not None else None
