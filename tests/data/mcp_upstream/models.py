"""Process models built for a test or benchmark: one ``mcp`` service task calling one tool of a registered server."""

from __future__ import annotations

__all__ = ["tool_task_process"]


def tool_task_process(process_id: str, server: str, tool: str, *, retries: int = 3,
                      result_variable: str = "computed", headers: dict[str, str] | None = None) -> bytes:
    """A process whose one service task (``remote``) calls ``tool`` of MCP server ``server`` with the instance's
    variables as arguments, into ``result_variable``; ``headers``: more task headers."""
    more = "".join(f'\n          <zeebe:header key="{k}" value="{v}"/>' for k, v in (headers or {}).items())
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" id="d-{process_id}" targetNamespace="x">
  <bpmn:process id="{process_id}" isExecutable="true">
    <bpmn:startEvent id="s"/>
    <bpmn:serviceTask id="remote" name="{tool} on {server}">
      <bpmn:extensionElements>
        <zeebe:taskDefinition type="mcp" retries="{retries}"/>
        <zeebe:taskHeaders>
          <zeebe:header key="server" value="{server}"/>
          <zeebe:header key="tool" value="{tool}"/>
          <zeebe:header key="resultVariable" value="{result_variable}"/>{more}
        </zeebe:taskHeaders>
      </bpmn:extensionElements>
    </bpmn:serviceTask>
    <bpmn:endEvent id="e"/>
    <bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="remote"/>
    <bpmn:sequenceFlow id="f2" sourceRef="remote" targetRef="e"/>
  </bpmn:process>
</bpmn:definitions>""".encode()
