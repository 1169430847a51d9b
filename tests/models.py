"""Small BPMN models that many tests need, written once."""

from __future__ import annotations

__all__ = ["chain_with_loops", "one_service_task"]


def one_service_task(process_id: str, job_type: str = "work") -> bytes:
    """start -> service task ``work`` (a job of ``job_type``) -> end."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" id="d" targetNamespace="t">
  <bpmn:process id="{process_id}" isExecutable="true">
    <bpmn:startEvent id="start"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="work"/>
    <bpmn:serviceTask id="work">
      <bpmn:extensionElements><zeebe:taskDefinition type="{job_type}"/></bpmn:extensionElements>
    </bpmn:serviceTask>
    <bpmn:sequenceFlow id="f2" sourceRef="work" targetRef="end"/>
    <bpmn:endEvent id="end"/>
  </bpmn:process>
</bpmn:definitions>
""".encode()


def chain_with_loops(count: int, namespace: str = "http://www.omg.org/spec/BPMN/20100524/MODEL") -> bytes:
    """A chain of ``count`` tasks with no diagram, a gateway every tenth with a loop back and a branch around (the
    layout's test and bench/layout.py)."""
    parts = [f'<definitions xmlns="{namespace}" id="d"><process id="big">', '<startEvent id="n0"/>']
    flows = []
    for i in range(1, count):
        kind = "exclusiveGateway" if i % 10 == 0 else "task"
        parts.append(f'<{kind} id="n{i}"/>')
        flows.append((f"n{i - 1}", f"n{i}"))
        if i % 10 == 0 and i > 10:
            flows.append((f"n{i}", f"n{i - 7}"))  # a loop
            flows.append((f"n{i - 10}", f"n{i}"))  # a branch around
    parts.append(f'<endEvent id="n{count}"/>')
    flows.append((f"n{count - 1}", f"n{count}"))
    parts += [f'<sequenceFlow id="f{k}" sourceRef="{s}" targetRef="{t}"/>' for k, (s, t) in enumerate(flows)]
    parts.append("</process></definitions>")
    return "".join(parts).encode()
