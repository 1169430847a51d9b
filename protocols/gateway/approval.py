"""A federated call that must wait: a process instance of ``agenthub_gateway_call``, the engine's to keep.

When the hub's policies say ``approve``, or the caller asks for an MCP Task,
the call becomes an instance of this built-in process (deployed by the
gateway, not exposed as a tool: its id starts with ``agenthub_``)::

    start -> needsApproval? -> [user task "approve"] -> approved? -> call (job) -> done
                                                      \\-> rejected

The approval is a user task offered to the approving policies' candidate
groups and users, and an approval task (``<agenthub:approval/>``,
``engine.runtime.task_approval``) under the rules of an agent's approvals:
four eyes (the caller, who started the instance, may not approve their own
call: refused on every surface, and by the engine) and persons only unless
every approving policy says ``allowMachines``. Completing it with
``{"approved": true}`` lets the call go on, anything else ends the instance
at ``rejected``. The call itself
is a job of type ``JOB_TYPE`` (one try: a ``tools/call`` is never sent twice;
a failure is an incident a person can see and retry), run by the hub's worker
loop through the same gateway, pins and audit as a direct call. So the caller
is kept waiting durably: across a restart of the hub, for as long as the
person takes, and an MCP Task's id is the instance id (``protocols.mcp._tasks``).

Variables: ``tool`` (the federated name), ``arguments``, ``principal`` (who
called: name, scopes, groups, person, token), ``needsApproval``,
``candidateGroups``, ``candidateUsers``, ``allowMachines``, ``question`` (what the person is
asked), ``policies`` and ``reason``; the job adds ``result`` (the upstream's
answer: ``content``, ``structuredContent``, ``isError``).
"""

from __future__ import annotations

import threading
from typing import Any

from engine import Engine
from protocols.gateway import GATEWAY_JOB_TYPE, GATEWAY_PROCESS_ID
from registry import Principal

__all__ = ["JOB_TYPE", "PROCESS_ID", "ApprovalProcess", "principal_from", "principal_json"]

PROCESS_ID = GATEWAY_PROCESS_ID
JOB_TYPE = GATEWAY_JOB_TYPE

_BPMN = f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" xmlns:agenthub="urn:agenthub:bpmn:1" id="gateway_call"
    targetNamespace="urn:agenthub:gateway">
  <bpmn:process id="{PROCESS_ID}" name="Federated tool call" isExecutable="true">
    <bpmn:startEvent id="start"/>
    <bpmn:sequenceFlow id="f_start" sourceRef="start" targetRef="needsApproval"/>
    <bpmn:exclusiveGateway id="needsApproval" default="f_direct"/>
    <bpmn:sequenceFlow id="f_ask" sourceRef="needsApproval" targetRef="approve">
      <bpmn:conditionExpression>=needsApproval = true</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f_direct" sourceRef="needsApproval" targetRef="call"/>
    <bpmn:userTask id="approve" name="Approve a federated tool call">
      <bpmn:extensionElements>
        <zeebe:userTask/>
        <zeebe:assignmentDefinition candidateGroups="=candidateGroups" candidateUsers="=candidateUsers"/>
        <agenthub:approval allowMachines="=allowMachines"/>
        <zeebe:ioMapping>
          <zeebe:input source="=question" target="question"/>
          <zeebe:input source="=tool" target="tool"/>
          <zeebe:input source="=arguments" target="arguments"/>
          <zeebe:input source="=principal.name" target="caller"/>
        </zeebe:ioMapping>
      </bpmn:extensionElements>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="f_decided" sourceRef="approve" targetRef="approved"/>
    <bpmn:exclusiveGateway id="approved" default="f_rejected"/>
    <bpmn:sequenceFlow id="f_approved" sourceRef="approved" targetRef="call">
      <bpmn:conditionExpression>=approved = true</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f_rejected" sourceRef="approved" targetRef="rejected"/>
    <bpmn:endEvent id="rejected" name="Rejected"/>
    <bpmn:serviceTask id="call" name="Call the federated tool">
      <bpmn:extensionElements>
        <zeebe:taskDefinition type="{JOB_TYPE}" retries="1"/>
      </bpmn:extensionElements>
    </bpmn:serviceTask>
    <bpmn:sequenceFlow id="f_called" sourceRef="call" targetRef="done"/>
    <bpmn:endEvent id="done" name="Called"/>
  </bpmn:process>
</bpmn:definitions>
"""


def principal_json(principal: Principal) -> dict[str, Any]:
    return {"name": principal.name, "scopes": sorted(principal.scopes), "groups": sorted(principal.groups),
            "person": principal.person, "token": principal.token_id}


def principal_from(data: Any) -> Principal:
    """The caller as the instance recorded it (the job runs long after the request that carried the token)."""
    if not isinstance(data, dict) or not isinstance(data.get("name"), str):
        raise ValueError("the gateway call's variable 'principal' is missing or not an object with a name")
    return Principal(name=data["name"], scopes=frozenset(data.get("scopes") or ()),
                     token_id=data.get("token"), groups=frozenset(data.get("groups") or ()),
                     person=bool(data.get("person")))


class ApprovalProcess:
    """Deploys the process once per hub process (an identical deployment is reused, not versioned again)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._deployed = False
        self._lock = threading.Lock()

    def ensure(self) -> None:
        """Blocking: run it off the event loop."""
        with self._lock:
            if not self._deployed:
                self.engine.deploy([(f"{PROCESS_ID}.bpmn", _BPMN)], name="agenthub gateway")
                self._deployed = True
