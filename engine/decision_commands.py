"""Evaluating a deployed DMN decision on its own (``agenthub decide``, the REST API) and listing decisions.

The decision is evaluated exactly as a business rule task would evaluate it
(``engine.dmn.evaluate_decision`` on the version's graph) with the engine's
clock, but outside any instance: nothing is journaled, and a failure is an
error to the caller (``NotFound`` for a decision not deployed, ``InvalidInput``
for an evaluation that fails) rather than an incident.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engine.core import EngineCore
from engine.decision_tools import DecisionToolSpec, decision_tool
from engine.decisions import decision_version, load_version
from engine.dmn import DecisionBinding, DmnError, evaluate_decision
from engine.exceptions import InvalidInput, NotFound
from engine.feel import to_json

__all__ = ["DecisionCommands", "DecisionResult"]


@dataclass(frozen=True, slots=True)
class DecisionResult:
    """A decision evaluated on its own: which version, its result (JSON) and every decision evaluated for it."""

    decision_id: str
    decision_name: str
    version: int
    key: int
    result: Any
    evaluated: tuple[dict[str, Any], ...]

    @property
    def matched_rules(self) -> list[dict[str, Any]]:
        return list(self.evaluated[-1]["matchedRules"]) if self.evaluated else []

    def to_dict(self) -> dict[str, Any]:
        return {"decisionId": self.decision_id, "decisionName": self.decision_name, "version": self.version,
                "decisionKey": self.key, "result": self.result, "matchedRules": self.matched_rules,
                "evaluatedDecisions": list(self.evaluated)}


class DecisionCommands:
    def __init__(self, kernel: EngineCore) -> None:
        self._k = kernel

    def evaluate(self, decision_id: str, variables: dict[str, Any] | None = None, *, version: int | None = None,
                 version_tag: str | None = None) -> DecisionResult:
        binding = DecisionBinding.VERSION_TAG if version_tag is not None else DecisionBinding.LATEST
        with self._k.store.reader() as tx:
            found = decision_version(tx, decision_id, binding, version_tag, version=version)
        if found is None:
            at = f" version {version}" if version is not None else ""
            tag = f" with version tag '{version_tag}'" if version_tag is not None else ""
            raise NotFound(f"decision '{decision_id}'{at}{tag} is not deployed; deploy a .dmn file that defines it")
        try:
            outcome = evaluate_decision(found.graph, found.decision_id, variables or {}, self._k.clock.now())
        except DmnError as exc:
            raise InvalidInput(f"decision '{decision_id}' version {found.version}: {exc.message}") from exc
        evaluated = tuple(
            {"decisionId": d.decision_id, "decisionName": d.decision_name, "hitPolicy": d.hit_policy,
             "result": to_json(d.value),
             "matchedRules": [{"ruleId": r.rule_id, "ruleIndex": r.index, "outputs": to_json(r.outputs)}
                              for r in d.matched_rules]}
            for d in outcome.evaluated
        )
        name = found.graph.decisions[found.decision_id].name
        return DecisionResult(found.decision_id, name, found.version, found.key, to_json(outcome.value), evaluated)

    def tools(self) -> list[DecisionToolSpec]:
        """The decisions offered as tools: each one's newest version, where it is marked ``<agenthub:tool/>``."""
        with self._k.store.reader() as tx:
            newest = {str(r.decision_id): r for r in tx.decisions.versions()}  # ordered by id, then version
            found = [decision_tool(load_version(tx, row)) for row in newest.values()]
        return [spec for spec in found if spec is not None]

    def versions(self, decision_id: str | None = None) -> list[dict[str, Any]]:
        """Every deployed decision version (of one decision), by id and version."""
        with self._k.store.reader() as tx:
            rows = tx.decisions.versions(decision_id)
        return [{"decisionId": r.decision_id, "name": r.name, "version": int(r.version), "key": int(r.key),
                 "versionTag": r.version_tag, "deploymentKey": int(r.deployment_key),
                 "resourceName": r.resource_name} for r in rows]
