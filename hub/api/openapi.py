"""The OpenAPI 3.1 document of ``/api/v1``, served at ``/api/v1/openapi.json``.

Written as data next to the routes rather than generated from docstrings:
the document is part of the public surface, and a test checks that it names
every route the app serves and nothing more. The shapes the operations
answer with are in ``hub.api.openapi_schemas``.
"""

from __future__ import annotations

from typing import Any

from engine import TASK_SORTS
from hub.api.openapi_schemas import ID, OBJ, SCHEMAS, page, ref


def _body(properties: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        schema["required"] = required
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def _ok(schema: dict[str, Any], status: str = "200") -> dict[str, Any]:
    return {status: {"description": "OK", "content": {"application/json": {"schema": schema}}}}


def _items(item: str) -> dict[str, Any]:
    """``{"items": [...]}``: a listing that is not paged."""
    return {"type": "object", "properties": {"items": {"type": "array", "items": ref(item)}}, "required": ["items"]}


_S = {"type": "string"}
_VARS = {"variables": OBJ}
# The lease a job was activated with; every report on the job must carry it (RELIABILITY I6, fencing).
_LEASE: dict[str, Any] = {"worker": _S, "lockVersion": {"type": "integer"}}
_PAGING = [
    {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100}},
    {"name": "after", "in": "query", "schema": ID},
]

# path -> method -> (summary, scope, extra operation fields)
OPERATIONS: dict[str, dict[str, tuple[str, str, dict[str, Any]]]] = {
    "/deployments": {
        "post": (
            "Deploy BPMN files (multipart, one or more files; or a raw application/xml body). ?expose=true offers "
            "the processes as MCP tools and A2A skills.",
            "deploy",
            {"responses": _ok(ref("Deployment"), "201")},
        ),
        "get": ("List deployments.", "read", {"parameters": _PAGING, "responses": _ok(page("Definition"))}),
    },
    "/process-definitions": {
        "get": (
            "Latest version of each process (?all=true: every version).",
            "read",
            {"parameters": _PAGING, "responses": _ok(page("Definition"))},
        ),
    },
    "/process-definitions/{processId}": {"get": ("Every version of one process.", "read", {})},
    "/process-definitions/{processId}/xml": {"get": ("The BPMN XML (?version=N).", "read", {})},
    "/process-definitions/{processId}/form": {"get": ("The start event's form (?version=N).", "read", {})},
    "/decisions": {"get": ("Every deployed DMN decision version (?decisionId=...).", "read", {})},
    "/decisions/{decisionId}/evaluate": {
        "post": (
            "Evaluate a deployed DMN decision (the latest version, or version / versionTag) with variables; "
            "answers result, matchedRules and evaluatedDecisions.",
            "start",
            {"requestBody": _body({**_VARS, "version": {"type": "integer"}, "versionTag": _S})},
        )
    },
    "/process-instances": {
        "post": (
            "Start an instance; with awaitCompletion (seconds) answer when it ends or the wait runs out.",
            "start",
            {
                "requestBody": _body(
                    {
                        "processId": _S,
                        "variables": OBJ,
                        "version": {"type": "integer"},
                        "awaitCompletion": {"type": "number"},
                    },
                    ["processId"],
                ),
                "responses": _ok(ref("Instance"), "201"),
            },
        ),
        "get": (
            "List instances (filters: state, processId).",
            "read",
            {
                "parameters": [
                    *_PAGING,
                    {"name": "state", "in": "query", "schema": _S},
                    {"name": "processId", "in": "query", "schema": _S},
                ],
                "responses": _ok(page("Instance")),
            },
        ),
    },
    "/process-instances/{key}": {
        "get": ("One instance with its active elements and waits.", "read", {"responses": _ok(ref("Instance"))})
    },
    "/process-instances/{key}/cancel": {"post": ("Cancel an instance.", "start", {"responses": _ok(ref("Instance"))})},
    "/process-instances/{key}/journal": {"get": ("The instance's audit trail.", "read", {"parameters": _PAGING})},
    "/process-instances/{key}/variables": {"post": ("Set root variables.", "start", {"requestBody": _body(_VARS)})},
    "/user-tasks": {
        "get": (
            "List user tasks (filters: state, candidateGroup, instance): the caller's own, those offered to it or "
            "its groups and those offered to no one; an admin sees every task ('all=true' says so, admins only). "
            "sort orders them: created (the default), dueDate, followUpDate or priority, ascending; a leading '-' "
            "is descending (sort=-priority: escalated approvals first). Tasks without the date come last either "
            "way; 'after' goes on after a task id in the same order.",
            "tasks",
            {
                "parameters": [
                    *_PAGING,
                    {"name": "state", "in": "query", "schema": _S},
                    {"name": "all", "in": "query", "schema": {"type": "boolean"}},
                    {"name": "candidateGroup", "in": "query", "schema": _S},
                    {"name": "instance", "in": "query", "schema": ID},
                    {"name": "sort", "in": "query", "schema": {"type": "string", "enum": list(TASK_SORTS)}},
                ],
                "responses": _ok(page("UserTask")),
            },
        ),
    },
    "/user-tasks/{key}": {
        "get": ("One user task.", "tasks", {"responses": _ok(ref("UserTask"))}),
        "patch": (
            "Update a task as Camunda's changeset does (candidateGroups, candidateUsers, dueDate, followUpDate, "
            "priority; null: unchanged, empty: cleared), by whoever may complete it. 202 when its updating "
            "listeners run first (listener.state updating, then denied or updated); 400 for another field.",
            "tasks",
            {"requestBody": _body({"candidateGroups": {"type": "array", "items": _S},
                                   "candidateUsers": {"type": "array", "items": _S}, "dueDate": _S,
                                   "followUpDate": _S, "priority": {"type": "integer"}}),
             "responses": {**_ok(ref("UserTask")), **_ok(ref("UserTask"), "202")}},
        ),
    },
    "/user-tasks/{key}/variables": {
        "put": (
            "Set variables in the task's own scope (local), by whoever may complete it. 202 when its updating "
            "listeners run first (listener.state updating with changes [variables]): written once they have, "
            "not at all when one denies.",
            "tasks",
            {"requestBody": _body(_VARS), "responses": {**_ok(ref("UserTask")), **_ok(ref("UserTask"), "202")}},
        ),
    },
    "/user-tasks/{key}/draft": {
        "put": (
            "Keep a draft of the task's values with it (as Camunda Tasklist's draft variables), by whoever may "
            "complete it: the task's form starts from it; nothing reaches the process and no listener runs; a "
            "later draft replaces it. The task, with its draft.",
            "tasks",
            {"requestBody": _body(_VARS), "responses": _ok(ref("UserTask"))},
        ),
    },
    "/user-tasks/{key}/assignment": {
        "post": (
            "Assign a task: to yourself when you may complete it, to anyone else as an admin; 403 otherwise. "
            "202 when its assigning listeners run first (listener.state assigning, then denied or assigned).",
            "tasks",
            {"requestBody": _body({"assignee": _S}, ["assignee"]),
             "responses": {**_ok(ref("UserTask")), **_ok(ref("UserTask"), "202")}},
        ),
        "delete": (
            "Unassign a task (yours, or anyone's as an admin): it is offered to its candidates again.",
            "tasks",
            {"responses": _ok(ref("UserTask"))},
        ),
    },
    "/user-tasks/{key}/claim": {
        "post": (
            "Claim a task (the older form of POST .../assignment; no body: for yourself; assignee null: unassign).",
            "tasks",
            {"responses": _ok(ref("UserTask"))},
        )
    },
    "/user-tasks/{key}/complete": {
        "post": (
            "Complete a task: its assignee; while unassigned its candidate users and groups; anyone when it names "
            "no one; an admin always (recorded as an override). 403 (nothing changes) otherwise, 409 when it is "
            "no longer open. 202 when its completing listeners run first (the task's listener.state says "
            "completing, then denied or completed).",
            "tasks",
            {"requestBody": _body(_VARS), "responses": {**_ok(ref("UserTask")), **_ok(ref("UserTask"), "202")}},
        )
    },
    "/messages": {
        "post": (
            "Publish a message.",
            "start",
            {
                "requestBody": _body(
                    {
                        "name": _S,
                        "correlationKey": _S,
                        "variables": OBJ,
                        "timeToLive": {"type": "integer"},
                        "messageId": _S,
                    },
                    ["name"],
                )
            },
        )
    },
    "/signals": {
        "post": ("Broadcast a signal.", "start", {"requestBody": _body({"name": _S, "variables": OBJ}, ["name"])})
    },
    "/incidents": {
        "get": (
            "List incidents (state: open, resolved, all).",
            "read",
            {"parameters": _PAGING, "responses": _ok(page("Incident"))},
        )
    },
    "/incidents/{key}/resolve": {"post": ("Retry what failed.", "start", {})},
    "/jobs/activate": {
        "post": (
            "Claim jobs of a type, long polling up to requestTimeout seconds.",
            "jobs",
            {
                "requestBody": _body(
                    {
                        "type": _S,
                        "maxJobs": {"type": "integer"},
                        "leaseSeconds": {"type": "number"},
                        "requestTimeout": {"type": "number"},
                        "worker": _S,
                    },
                    ["type"],
                ),
                "responses": _ok({"type": "object", "properties": {"jobs": {"type": "array", "items": ref("Job")}}}),
            },
        )
    },
    "/jobs/{key}/complete": {
        "post": (
            "Complete a job; send the lease it was activated with (worker, lockVersion): 400 without, 409 if stale. "
            "A task listener's job may send a result: {denied, deniedReason, corrections}.",
            "jobs",
            {"requestBody": _body({"variables": OBJ, "result": OBJ, **_LEASE}, ["worker", "lockVersion"])},
        )
    },
    "/jobs/{key}/fail": {
        "post": (
            "Fail a job attempt (retries, backoff); with the lease it was activated with, as for complete.",
            "jobs",
            {
                "requestBody": _body(
                    {
                        "errorMessage": _S,
                        "retries": {"type": "integer"},
                        "retryBackOff": {"type": "integer"},
                        **_LEASE,
                    },
                    ["errorMessage", "worker", "lockVersion"],
                )
            },
        )
    },
    "/jobs/{key}/error": {
        "post": (
            "Throw a BPMN error from a job; with the lease it was activated with, as for complete.",
            "jobs",
            {
                "requestBody": _body(
                    {"errorCode": _S, "errorMessage": _S, "variables": OBJ, **_LEASE},
                    ["errorCode", "worker", "lockVersion"],
                )
            },
        )
    },
    "/jobs/{key}/wake": {
        "post": ("Check a job that waits on remote work (an A2A task) now; 409 if it is not waiting.", "jobs", {})
    },
    "/mcp-servers": {
        "get": ("List registered MCP servers.", "read", {}),
        "post": (
            "Register an MCP server (its tools are fetched and pinned).",
            "admin",
            {
                "requestBody": _body(
                    {
                        "name": _S,
                        "url": _S,
                        "command": {"type": "array", "items": _S},
                        "headers": {"type": "object", "additionalProperties": _S},
                        "bearerEnv": _S,
                        "env": {"type": "array", "items": _S},
                        "timeoutSeconds": {"type": "integer"},
                    },
                    ["name"],
                )
            },
        ),
    },
    "/mcp-servers/virtual": {"get": ("List virtual MCP servers (curated sets served at /mcp/{name}).", "read", {})},
    "/mcp-servers/virtual/{name}": {
        "get": ("One virtual MCP server.", "read", {}),
        "put": (
            "Create or replace a virtual MCP server (201 when new).",
            "admin",
            {
                "requestBody": _body(
                    {"description": _S, "a2a": {"type": "boolean"}, **{k: {"type": "array", "items": _S} for k in (
                        "processes", "tools", "agents", "allowUsers", "allowGroups")}},
                )
            },
        ),
        "delete": ("Remove a virtual MCP server.", "admin", {}),
    },
    "/mcp-servers/{name}": {"get": ("One MCP server.", "read", {}), "delete": ("Remove an MCP server.", "admin", {})},
    "/mcp-servers/{name}/tools": {"get": ("Its tools and their pinning state (?refresh=true).", "read", {})},
    "/mcp-servers/{name}/approve": {
        "post": (
            "Approve changed or new tools (with tool and hash: refused if the tool changed again).",
            "admin",
            {"requestBody": {**_body({"tool": _S, "hash": _S}), "required": False}},
        )
    },
    "/mcp-servers/{name}/reject": {
        "post": (
            "Reject the reviewed definition of a held tool (tool, hash, reason): it stays blocked.",
            "admin",
            {"requestBody": _body({"tool": _S, "hash": _S, "reason": _S}, ["tool", "hash"])},
        )
    },
    "/agents": {
        "get": ("List registered A2A agents.", "read", {}),
        "post": ("Register an A2A agent by URL (its card is fetched and pinned).", "admin", {}),
    },
    "/agents/{name}": {"get": ("One agent with its card.", "read", {}), "delete": ("Remove an agent.", "admin", {})},
    "/agents/{name}/approve": {"post": ("Approve the agent's current card.", "admin", {})},
    "/inbound": {
        "get": ("The active inbound webhooks (/inbound/{id}): element, method and guards, never a secret.", "admin", {})
    },
    "/tokens": {
        "get": ("List API tokens (never their secrets).", "admin", {}),
        "post": (
            "Create an API token; the secret is in this answer only. With user, the token acts as that user.",
            "admin",
            {"requestBody": _body({"name": _S, "scopes": {"type": "array", "items": _S}, "user": _S}, ["scopes"])},
        ),
    },
    "/tokens/{tokenId}": {"delete": ("Revoke a token (by id or name).", "admin", {})},
    "/audit": {
        "get": (
            "The registry's audit, newest first: who changed a token, user, MCP server or A2A agent, and how.",
            "admin",
            {"parameters": [
                {"name": "subject", "in": "query", "schema": _S},
                {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 1000,
                                                            "default": 100}},
            ]},
        )
    },
    "/export": {
        "get": (
            "The instances' journal as an event log, streamed: XES (IEEE 1849) or OCEL 2.0 JSON.",
            "read",
            {"parameters": [
                {"name": "format", "in": "query", "schema": {"type": "string", "enum": ["xes", "ocel"],
                                                             "default": "xes"}},
                {"name": "process", "in": "query", "schema": _S},
                {"name": "version", "in": "query", "schema": {"type": "integer", "minimum": 1}},
                {"name": "from", "in": "query", "schema": _S, "description": "started at or after (ISO 8601)"},
                {"name": "to", "in": "query", "schema": _S, "description": "started before (ISO 8601)"},
            ]},
        )
    },
    "/discover/inventory": {
        "get": ("Every process: instances, completed, incidents, failure rate, cycle-time percentiles.", "read", {})
    },
    "/discover/conformance/{processId}": {
        "get": ("Fitness and precision of a deployed version's instances against its model, and the deviating "
                "instances (pm4py).", "read",
                {"parameters": [{"name": "version", "in": "query", "schema": {"type": "integer", "minimum": 1}}]})
    },
    "/discover/model": {
        "get": ("A BPMN model with its diagram, mined from how the instances ran (pm4py's inductive miner).", "read",
                {"parameters": [
                    {"name": "process", "in": "query", "schema": _S},
                    {"name": "version", "in": "query", "schema": {"type": "integer", "minimum": 1}},
                    {"name": "noise", "in": "query", "schema": {"type": "number", "minimum": 0, "maximum": 1}},
                ]})
    },
    "/discover/brief/{processId}": {
        "get": ("One process's improvement brief: bottlenecks, rework, hot spots, ranked automation opportunities; "
                "with ?compare=OLD,NEW two versions side by side on the same measures.", "read",
                {"parameters": [{"name": "compare", "in": "query", "schema": _S}]})
    },
    "/discover/logs": {
        "get": ("The imported event logs (kept apart from the hub's own runs).", "read", {}),
        "post": ("Import the body (XES, OCEL 2.0 JSON or CSV) as an event log named ?name=; 400 lists each problem "
                 "of an unreadable file with its line, 409 if the name is taken.", "deploy",
                 {"parameters": [{"name": n, "in": "query", "schema": _S} for n in (
                     "name", "format", "filename", "caseColumn", "activityColumn", "timestampColumn",
                     "resourceColumn", "lifecycleColumn", "caseType")]}),
    },
    "/discover/logs/{name}": {"delete": ("Delete an imported event log.", "deploy", {})},
    "/discover/logs/{name}/brief": {
        "get": ("An imported log's improvement brief: cycle times, waiting, rework, opportunities.", "read", {})
    },
    "/discover/logs/{name}/model": {
        "get": ("A BPMN model mined from an imported log (pm4py).", "read",
                {"parameters": [{"name": "noise", "in": "query", "schema": {"type": "number", "minimum": 0,
                                                                            "maximum": 1}}]})
    },
    "/discover/logs/{name}/conformance/{processId}": {
        "get": ("How well an imported log's cases fit a deployed process (pm4py).", "read",
                {"parameters": [{"name": "version", "in": "query", "schema": {"type": "integer", "minimum": 1}}]})
    },
    "/discover/drafts": {
        "get": ("AI-drafted process changes, newest first.", "read",
                {"parameters": [{"name": "process", "in": "query", "schema": _S},
                                {"name": "state", "in": "query", "schema": _S}]}),
        "post": ("Ask a model to draft a change of a process ({processId, goal, model}) from its brief: checked, "
                 "laid out, diffed; deployed only on approval.", "deploy", {}),
    },
    "/discover/drafts/{draftId}": {
        "get": ("A draft: checks, structural diff, diagram marks, BPMN, and once deployed the measured result.",
                "read", {})
    },
    "/discover/drafts/{draftId}/approve": {
        "post": ("Approve and deploy a draft: a member of the process's owner group, not its requester (403 "
                 "otherwise).", "tasks", {})
    },
    "/discover/drafts/{draftId}/reject": {
        "post": ("Reject a draft ({reason}): an owner-group member, or its requester withdrawing it.", "tasks", {})
    },
    "/discover/agents": {
        "get": ("Each agent region's own decisions: tool sequences and directly-follows graph, loops, policy and "
                "human overrule rates, tokens and cost per outcome, drift by model, provider and version.", "read",
                {"parameters": [{"name": "process", "in": "query", "schema": _S}]})
    },
    "/users": {
        "get": ("List the local users with their groups.", "admin", {"responses": _ok(_items("User"))}),
        "post": (
            "Add a local user (a person); 409 if the id is taken.",
            "admin",
            {
                "requestBody": _body({"id": _S, "name": _S, "groups": {"type": "array", "items": _S}}, ["id"]),
                "responses": _ok(ref("User"), "201"),
            },
        ),
    },
    "/users/{userId}": {
        "patch": (
            "Change a user's name and/or groups; their tokens see the change at once.",
            "admin",
            {
                "requestBody": _body({"name": _S, "groups": {"type": "array", "items": _S}}),
                "responses": _ok(ref("User")),
            },
        ),
        "delete": ("Remove a user and revoke their tokens.", "admin", {}),
    },
}


def _parameters(path: str) -> list[dict[str, Any]]:
    names = [part[1:-1] for part in path.split("/") if part.startswith("{")]
    return [{"name": n, "in": "path", "required": True, "schema": ID if n == "key" else _S} for n in names]


def openapi_document(settings: Any = None) -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for path, methods in OPERATIONS.items():
        item: dict[str, Any] = {}
        for method, (summary, scope, extra) in methods.items():
            operation: dict[str, Any] = {
                "summary": summary,
                "description": f"Needs a token with the '{scope}' scope (or 'admin').",
                "security": [{"bearer": [scope]}],
                "parameters": [*_parameters(path), *extra.get("parameters", [])],
                "responses": {
                    **extra.get("responses", {"200": {"description": "OK"}}),
                    "default": {
                        "description": "An error",
                        "content": {"application/problem+json": {"schema": ref("Problem")}},
                    },
                },
            }
            if "requestBody" in extra:
                operation["requestBody"] = extra["requestBody"]
            item[method] = operation
        paths["/api/v1" + path] = item
    server = settings.base_url if settings is not None else "http://127.0.0.1:8600"
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "agenthub REST API",
            "version": "1",
            "description": "Deploy and run BPMN processes, work user tasks, publish messages, run jobs from "
            "workers in any language, and manage the registry. Errors are application/problem+json.",
        },
        "servers": [{"url": server}],
        "paths": paths,
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "description": "An agenthub API token"}},
        },
        "security": [{"bearer": []}],
    }
