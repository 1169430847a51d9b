"""``POST /v2/deployments``: BPMN, DMN and forms in one multipart upload, as Camunda Modeler and the SDKs send it.

Every file part is a resource, whatever its field name (Camunda's is
``resources``; older clients send ``deployment-name`` and
``deployment-source`` beside them: the name names the deployment, the rest
of the text fields are accepted and ignored). ``tenantId`` may only name the
default tenant: the hub has one. The answer is Camunda's deployment shape:
one entry per process, decision, decision requirements (a DMN document) and
form, each with its string key.
"""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from engine import Engine
from engine.deployment import Deployment
from hub.api.common import ApiError, hub, require
from hub.camunda_api.wire import TENANT

__all__ = ["deploy"]

MAX_FILES = 100


async def deploy(request: Request) -> Response:
    require(request, "deploy")
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media != "multipart/form-data":
        raise ApiError(415, "send the resources as multipart/form-data, one 'resources' file part per file")
    limit: int = hub(request).settings.max_body_bytes
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise ApiError(413, f"the upload is larger than {limit} bytes")
    resources: list[tuple[str, bytes]] = []
    fields: dict[str, str] = {}
    async with request.form(max_files=MAX_FILES, max_fields=MAX_FILES) as form:
        for name, value in form.multi_items():
            if isinstance(value, str):
                fields[name] = value
                continue
            resources.append((value.filename or f"resource-{len(resources) + 1}.bpmn", await value.read()))
    tenant = fields.get("tenantId") or TENANT
    if tenant != TENANT:
        raise ApiError(400, f"tenant '{tenant}' does not exist: agenthub has one tenant, '{TENANT}'")
    if not resources:
        raise ApiError(
            400, "the upload holds no resource: send each .bpmn, .dmn and .form file as a 'resources' file part"
        )
    engine: Engine = hub(request).engine
    done = await asyncio.to_thread(engine.deploy_resources, resources, name=fields.get("deployment-name") or None)
    return JSONResponse(deployment_json(done))


def deployment_json(done: Deployment) -> dict[str, Any]:
    """Camunda's ``DeploymentResult``: the key, the tenant and one entry per thing deployed."""
    entries: list[dict[str, Any]] = [
        {
            "processDefinition": {
                "processDefinitionId": p.process_id,
                "processDefinitionVersion": p.version,
                "resourceName": p.resource_name,
                "tenantId": TENANT,
                "processDefinitionKey": str(p.key),
            }
        }
        for p in done.processes
    ]
    # A DMN document is Camunda's decision requirements; agenthub keeps no key of its own for it, so it takes
    # the key and version of the document's first decision.
    requirements: dict[str, dict[str, Any]] = {}
    for d in done.decisions:
        drg = requirements.setdefault(
            d.resource_name,
            {
                "decisionRequirementsId": d.requirements_id or d.decision_id,
                "decisionRequirementsName": d.requirements_name or d.requirements_id or d.decision_id,
                "version": d.version,
                "resourceName": d.resource_name,
                "tenantId": TENANT,
                "decisionRequirementsKey": str(d.key),
            },
        )
        entries.append(
            {
                "decisionDefinition": {
                    "decisionDefinitionId": d.decision_id,
                    "version": d.version,
                    "name": d.name or d.decision_id,
                    "tenantId": TENANT,
                    "decisionRequirementsId": drg["decisionRequirementsId"],
                    "decisionDefinitionKey": str(d.key),
                    "decisionRequirementsKey": drg["decisionRequirementsKey"],
                }
            }
        )
    entries.extend({"decisionRequirements": drg} for drg in requirements.values())
    entries.extend(
        {
            "form": {
                "formId": f.form_id,
                "version": f.version,
                "resourceName": f.resource_name,
                "tenantId": TENANT,
                "formKey": str(f.key),
            }
        }
        for f in done.forms
    )
    return {"deploymentKey": str(done.key), "tenantId": TENANT, "deployments": entries}
