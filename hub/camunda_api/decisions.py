"""``POST /v2/decision-definitions/evaluation``: a deployed DMN decision evaluated on its own.

By ``decisionDefinitionId`` (its latest version) or ``decisionDefinitionKey``
(that version), with ``variables``; the answer is Camunda's
``EvaluateDecisionResult``, outputs as JSON text. agenthub records no
evaluation of its own (only a business rule task's are journaled), so
``decisionEvaluationKey`` and ``decisionInstanceKey`` are the decision's key,
and ``evaluatedInputs`` is empty.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from engine import Engine, NotFound
from hub.api.common import ApiError, field, hub, json_body, require
from hub.camunda_api.wire import TENANT, parse_key

__all__ = ["evaluate"]


def _json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


async def evaluate(request: Request) -> Response:
    require(request, "read")
    body = await json_body(request)
    decision_id = field(body, "decisionDefinitionId", str)
    decision_key = parse_key(body, "decisionDefinitionKey")
    if (decision_id is None) == (decision_key is None):
        raise ApiError(400, "give exactly one of 'decisionDefinitionId' and 'decisionDefinitionKey'")
    variables = field(body, "variables", dict, default={})
    engine: Engine = hub(request).engine

    def work() -> dict[str, Any]:
        versions = engine.decisions()
        version: int | None = None
        did = decision_id
        if decision_key is not None:
            row = next((r for r in versions if r["key"] == decision_key), None)
            if row is None:
                raise NotFound(f"no decision definition has the key {decision_key}")
            did, version = str(row["decisionId"]), int(row["version"])
        assert did is not None
        result = engine.evaluate_decision(did, variables, version=version)
        latest = {str(r["decisionId"]): r for r in versions}  # ordered by id and version: the last one wins
        evaluated = []
        for d in result.evaluated:
            row = latest.get(str(d["decisionId"]), {})
            dkey = str(result.key if d["decisionId"] == result.decision_id else row.get("key", 0))
            rules = [
                {
                    "ruleId": r["ruleId"] or str(r["ruleIndex"]),
                    "ruleIndex": r["ruleIndex"],
                    "evaluatedOutputs": [
                        {
                            "outputId": name,
                            "outputName": name,
                            "outputValue": _json(value),
                            "ruleId": r["ruleId"] or str(r["ruleIndex"]),
                            "ruleIndex": r["ruleIndex"],
                        }
                        for name, value in (r["outputs"].items() if isinstance(r["outputs"], dict) else [])
                    ],
                }
                for r in d["matchedRules"]
            ]
            evaluated.append(
                {
                    "decisionDefinitionId": d["decisionId"],
                    "decisionDefinitionName": d["decisionName"] or d["decisionId"],
                    "decisionDefinitionVersion": result.version
                    if d["decisionId"] == result.decision_id
                    else int(row.get("version", 0)),
                    "decisionDefinitionType": "DECISION_TABLE" if d.get("hitPolicy") else "LITERAL_EXPRESSION",
                    "output": _json(d["result"]),
                    "tenantId": TENANT,
                    "matchedRules": rules,
                    "evaluatedInputs": [],
                    "decisionDefinitionKey": dkey,
                    "decisionEvaluationInstanceKey": dkey,
                }
            )
        return {
            "decisionDefinitionId": result.decision_id,
            "decisionDefinitionKey": str(result.key),
            "decisionDefinitionName": result.decision_name or result.decision_id,
            "decisionDefinitionVersion": result.version,
            "decisionEvaluationKey": str(result.key),
            "decisionInstanceKey": str(result.key),
            "decisionRequirementsId": result.decision_id,
            "decisionRequirementsKey": str(result.key),
            "evaluatedDecisions": evaluated,
            "failedDecisionDefinitionId": None,
            "failureMessage": None,
            "output": _json(result.result),
            "tenantId": TENANT,
        }

    return JSONResponse(await asyncio.to_thread(work))
