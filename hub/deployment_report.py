"""What a deployment answers, on every surface (REST ``POST /deployments``, ``agenthub deploy --json``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from engine import DeployedProcess
from engine.decisions import DeployedDecision
from engine.parser import Problem

__all__ = ["deployment_report", "problem_json"]


def problem_json(problem: Problem) -> dict[str, Any]:
    """A deployment problem or warning: ``{"file", "line", "element", "message"}``."""
    return {
        "file": problem.source_name,
        "line": problem.line,
        "element": problem.element_id,
        "message": problem.message,
    }


def deployment_report(deployed: Sequence[DeployedProcess], *, expose: bool,
                      decisions: Sequence[DeployedDecision] = ()) -> dict[str, Any]:
    """The processes deployed, each with its warnings, every warning once more in one list, and the DMN decisions."""
    processes = [
        {
            "processId": d.process_id,
            "version": d.version,
            "key": d.key,
            "resourceName": d.resource_name,
            "isNew": d.is_new,
            "warnings": [problem_json(w) for w in d.warnings],
        }
        for d in deployed
    ]
    warnings = [problem_json(w) for w in dict.fromkeys(w for d in deployed for w in d.warnings)]
    return {"processes": processes, "warnings": warnings, "exposed": expose, "decisions": [
        {"decisionId": d.decision_id, "name": d.name, "version": d.version, "key": d.key,
         "resourceName": d.resource_name, "isNew": d.is_new} for d in decisions]}
