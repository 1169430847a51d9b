"""Camunda's ad-hoc tools schema connector (job type ``io.camunda.agenticai:adhoctoolsschema:1``), built in.

It answers, without asking any model, the tools an ad-hoc subprocess offers:
``data.containerElementId`` names the ad-hoc subprocess (of the job's own
process), and the answer is Camunda's ``AdHocToolsSchemaResponse``:

    {"toolDefinitions": [{"name", "description", "inputSchema"}],
     "gatewayToolDefinitions": [{"type", "name", "description"}]}   # only when there are gateways

``toolDefinitions`` are the inner elements without incoming flows with their
``fromAi`` parameters, exactly as a Camunda agent is offered them
(``engine.agent.gateway.agent_tools``); MCP and A2A client elements in their
gateway mode are not tools themselves but ``gatewayToolDefinitions`` (``type``
``mcpClient`` / ``a2aClient``, the element id, its documentation), left for the
caller to list. Camunda's task headers (``resultVariable``, ``resultExpression``)
apply: the hub wraps it with ``protocols.http.outbound.CamundaOutbound``.

Owns: reading the request and shaping the answer. Does not know: how tools are
derived (the engine's agent package) or where the process comes from.
"""

from __future__ import annotations

from typing import Any, Final

from engine.agent import gateway
from engine.agent.camunda import nested
from engine.agent.tools import ToolProblem
from engine.model import AdHocSubProcess
from engine.scheduler import Job
from protocols.http.exceptions import ConnectorInputError
from protocols.llm.camunda_task import ProcessSource

__all__ = ["TOOLS_SCHEMA_TYPE", "CamundaToolsSchema"]

TOOLS_SCHEMA_TYPE: Final = "io.camunda.agenticai:adhoctoolsschema:1"


class CamundaToolsSchema:
    """The job handler: ``{toolDefinitions, gatewayToolDefinitions?}`` of ``data.containerElementId``."""

    def __init__(self, processes: ProcessSource) -> None:
        self.processes = processes

    def __call__(self, job: Job) -> dict[str, Any]:
        where = f"task '{job.element_id}' of process '{job.process_id}'"
        container = nested(job.variables.get("data"), "containerElementId")
        view = self.processes.instance(job.instance)
        process = self.processes.process(view.process_id, view.version)
        node = process.nodes.get(container) if isinstance(container, str) else None
        if not isinstance(node, AdHocSubProcess):
            found = sorted(n.id for n in process.nodes.values() if isinstance(n, AdHocSubProcess))
            raise ConnectorInputError(
                f"{where}: data.containerElementId {container!r} is not an ad-hoc subprocess "
                f"of process '{process.id}' (its ad-hoc subprocesses: "
                f"{', '.join(found) or 'none'})"
            )
        try:
            tools = gateway.agent_tools(process, node, None)
        except ToolProblem as exc:
            raise ConnectorInputError(f"{where}: the tools of '{node.id}' are declared wrongly: {exc}") from None
        answer: dict[str, Any] = {
            "toolDefinitions": [
                {"name": t.name, "description": t.description, "inputSchema": t.input_schema} for t in tools
            ]
        }
        gateways = [
            {"type": gateway.gateway_type(n), "name": n.id, "description": n.documentation}
            for n in gateway.gateway_nodes(process, node)
        ]
        if gateways:  # Camunda leaves the list out when it is empty
            answer["gatewayToolDefinitions"] = gateways
        return answer
