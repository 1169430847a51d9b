"""Process models built for a test or benchmark: one ``mcp`` service task calling one tool of a registered server,
and a process tool that asks its caller a start form (``WELCOME``)."""

from __future__ import annotations

__all__ = ["WELCOME", "tool_task_process"]


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


# A start form on a tool that may run plainly: asked before its instance starts, on every protocol version.
WELCOME = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
                  xmlns:zeebe="http://camunda.org/schema/zeebe/1.0"
                  xmlns:agenthub="urn:agenthub:bpmn:1" id="welcome-defs" targetNamespace="urn:test">
  <bpmn:process id="welcome" isExecutable="true">
    <bpmn:extensionElements>
      <agenthub:tool><agenthub:input name="team" type="string" required="true"/></agenthub:tool>
    </bpmn:extensionElements>
    <bpmn:startEvent id="start">
      <bpmn:documentation>Who joins the team?</bpmn:documentation>
      <bpmn:extensionElements>
        <agenthub:schema>{"type": "object", "properties": {"name": {"type": "string"}},
                          "required": ["name"]}</agenthub:schema>
      </bpmn:extensionElements>
    </bpmn:startEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="say"/>
    <bpmn:scriptTask id="say">
      <bpmn:extensionElements>
        <zeebe:script expression="=name + &quot; joins &quot; + team" resultVariable="said"/>
      </bpmn:extensionElements>
    </bpmn:scriptTask>
    <bpmn:sequenceFlow id="f2" sourceRef="say" targetRef="end"/>
    <bpmn:endEvent id="end"/>
  </bpmn:process>
</bpmn:definitions>"""
