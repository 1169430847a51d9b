"""The schemas of the OpenAPI document (``components.schemas``): the shapes the REST API answers with.

Kept apart from the operations (``hub.api.openapi``) so each file stays one list a reader can scan.
"""

from __future__ import annotations

from typing import Any

__all__ = ["ID", "OBJ", "SCHEMAS", "page", "ref"]

OBJ: dict[str, Any] = {"type": "object", "additionalProperties": True}
ID = {"type": "integer", "format": "int64"}


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def page(item: str) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {"items": {"type": "array", "items": ref(item)}, "page": ref("Page")},
        "required": ["items", "page"],
    }


SCHEMAS: dict[str, Any] = {
    "Problem": {
        "type": "object",
        "description": "RFC 9457 problem details (application/problem+json).",
        "properties": {
            "type": {"type": "string"},
            "title": {"type": "string"},
            "status": {"type": "integer"},
            "detail": {"type": "string", "description": "What was wrong and what to do."},
        },
        "required": ["title", "status", "detail"],
    },
    "Page": {
        "type": "object",
        "properties": {
            "limit": {"type": "integer"},
            "next": {"type": ["integer", "null"], "description": "Pass as ?after= for the next page; null at the end."},
        },
    },
    "Instance": {
        "type": "object",
        "description": "The CLI's --json shape, plus details.",
        "properties": {
            "instance": ID,
            "process": {"type": "string"},
            "state": {"type": "string", "enum": ["active", "completed", "terminated", "incident"]},
            "variables": OBJ,
            "version": {"type": "integer"},
            "startedBy": {
                "type": ["string", "null"],
                "readOnly": True,
                "description": "The principal whose request started it (REST, MCP, A2A); null when the engine"
                " started it (timer, message, call activity, CLI) or it predates this field. Not a variable:"
                " nothing but the start sets it, and A2A and MCP task ownership follows it.",
            },
            "activeElements": {"type": "array", "items": ref("ActiveElement")},
            "waitingFor": {"type": "array", "items": OBJ, "description": "User tasks, timers, messages, jobs."},
            "createdAt": {**ID, "description": "Milliseconds since the epoch (UTC)."},
        },
        "required": ["instance", "process", "state", "variables"],
    },
    "ActiveElement": {
        "type": "object",
        "properties": {
            "elementId": {"type": "string"},
            "elementInstance": ID,
            "state": {"type": "string", "enum": ["activating", "active", "completing", "terminating"],
                      "description": "terminating: canceled or interrupted, ending once the canceling listeners "
                                     "of a user task in it have run (waitingFor names the listener's job)."},
            "incident": {**ID, "description": "The open incident that stops it, if any."},
            "waitingFor": {"oneOf": [ref("WaitingForWorker"), ref("WaitingForMessage")]},
        },
        "required": ["elementId", "elementInstance", "state"],
    },
    "WaitingForWorker": {
        "type": "object",
        "description": "The element's job, which no worker holds now: present only while it waits for one.",
        "properties": {
            "jobType": {"type": "string", "description": "Run a worker for this job type to move on."},
            "since": {"type": "string", "format": "date-time", "description": "When it became ready, in UTC."},
            "job": ID,
            "retries": {"type": "integer"},
            "claims": {"type": "integer", "description": "How often a worker took it before (0: none has)."},
            "lastError": {"type": "string", "description": "What the last failed attempt reported."},
            "remoteWait": {
                "type": "object",
                "description": "Present while the job waits on remote work (an A2A task) without holding a worker:"
                " what it waits on and when it is checked next (UTC). POST /api/v1/jobs/{key}/wake checks it now.",
                "properties": {"reason": {"type": "string"}, "nextCheck": {"type": "string", "format": "date-time"}},
                "required": ["reason", "nextCheck"],
            },
        },
        "required": ["jobType", "since", "job", "retries", "claims"],
    },
    "WaitingForMessage": {
        "type": "object",
        "description": "A message wait that the hub keeps going by polling (Camunda's A2A polling catch event or"
        " receive task), present while its last poll failed: the error, the failures in a row, the next poll (UTC).",
        "properties": {
            "message": {"type": "string"},
            "correlationKey": {"type": ["string", "null"]},
            "subscription": ID,
            "lastError": {"type": "string"},
            "failures": {"type": "integer"},
            "nextCheck": {"type": "string", "format": "date-time"},
        },
        "required": ["message", "subscription", "lastError", "failures"],
    },
    "UserTask": {
        "type": "object",
        "properties": {
            "id": ID,
            "instance": ID,
            "element": {"type": "string"},
            "name": {"type": "string"},
            "assignee": {"type": ["string", "null"]},
            "candidateGroups": {"type": "array", "items": {"type": "string"}},
            "candidateUsers": {"type": "array", "items": {"type": "string"}},
            "process": {"type": "string"},
            "state": {"type": "string"},
            "formKey": {"type": ["string", "null"]},
            "priority": {"type": "integer"},
            "dueDate": {"type": ["string", "null"], "description": "When the task is due (ISO 8601 date-time): "
                        "zeebe:taskSchedule, or an approval's policy dueDate."},
            "followUpDate": {"type": ["string", "null"], "description": "When to look at the task again (ISO 8601)."},
            "escalated": {"type": "boolean", "description": "An approval past its due date whose policy says "
                          "onTimeout=\"escalate\" (its priority was raised to 100)."},
            "approvers": {"type": "integer", "description": "An approval: how many distinct principals must "
                          "approve the agent's call (its policies' approvals)."},
            "approvedBy": {"type": "array", "items": {"type": "string"},
                           "description": "An approval: who approved it so far (it stays open until enough have)."},
            "allowMachines": {"type": "boolean", "description": "An approval: may a machine client approve it?"},
            "excludedApprovers": {"type": "array", "items": {"type": "string"},
                                  "description": "An approval: who may not approve it (four eyes: the instance's "
                                  "starter and whoever acted in the agent's run)."},
            "createdAt": {**ID, "description": "Milliseconds since the epoch (UTC)."},
            "inputs": {
                **OBJ,
                "description": "What the person needs to act, by name: the task's input-mapped variables when it "
                "was created (with an agent's tool call arguments, such as its question), or the question and "
                "details of an approval or of a job that asks a person. Long values are shortened.",
            },
        },
        "required": ["id", "instance", "element", "name", "state", "inputs"],
    },
    "Incident": {
        "type": "object",
        "properties": {
            "id": ID,
            "instance": ID,
            "element": {"type": "string"},
            "process": {"type": "string"},
            "type": {"type": "string"},
            "message": {"type": "string"},
            "state": {"type": "string"},
            "createdAt": {**ID, "description": "Milliseconds since the epoch (UTC)."},
        },
    },
    "DeploymentProblem": {
        "type": "object",
        "properties": {
            "file": {"type": "string"},
            "line": {"type": ["integer", "null"]},
            "element": {"type": ["string", "null"]},
            "message": {"type": "string"},
        },
        "required": ["file", "line", "element", "message"],
    },
    "Deployment": {
        "type": "object",
        "properties": {
            "processes": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "processId": {"type": "string"},
                        "version": {"type": "integer"},
                        "key": ID,
                        "resourceName": {"type": "string"},
                        "isNew": {"type": "boolean"},
                        "warnings": {"type": "array", "items": ref("DeploymentProblem")},
                    },
                },
            },
            "warnings": {
                "type": "array",
                "items": ref("DeploymentProblem"),
                "description": "What the models use that the engine accepts but will not act on (deployed anyway).",
            },
            "exposed": {"type": "boolean"},
            "decisions": {
                "type": "array",
                "description": "The DMN decisions of the .dmn files deployed: a new version, or reused (isNew false).",
                "items": {
                    "type": "object",
                    "properties": {
                        "decisionId": {"type": "string"},
                        "name": {"type": ["string", "null"]},
                        "version": {"type": "integer"},
                        "key": ID,
                        "resourceName": {"type": "string"},
                        "isNew": {"type": "boolean"},
                    },
                },
            },
        },
        "required": ["processes", "warnings", "exposed", "decisions"],
    },
    "Job": {
        "type": "object",
        "properties": {
            "key": ID,
            "type": {"type": "string"},
            "instance": ID,
            "element": {"type": "string"},
            "retries": {"type": "integer"},
            "headers": OBJ,
            "kind": {"type": "string", "enum": ["BPMN_ELEMENT", "EXECUTION_LISTENER", "TASK_LISTENER"]},
            "listenerEventType": {"type": ["string", "null"], "description": "a listener job's event: START, END, "
                                  "COMPLETING"},
            "variables": OBJ,
            "worker": {"type": "string"},
            "lockVersion": {"type": "integer"},
        },
    },
    "Definition": {
        "type": "object",
        "properties": {
            "key": ID,
            "processId": {"type": "string"},
            "version": {"type": "integer"},
            "name": {"type": ["string", "null"]},
            "resourceName": {"type": "string"},
            "exposed": {"type": "boolean"},
        },
    },
    "User": {
        "type": "object",
        "description": "A local user: a person whose tokens authenticate as them, with their groups.",
        "properties": {
            "id": {"type": "string"},
            "name": {"type": "string"},
            "groups": {"type": "array", "items": {"type": "string"}},
            "createdAt": {"type": "integer", "description": "milliseconds since the epoch"},
        },
        "required": ["id", "name", "groups", "createdAt"],
    },
}
