"""The gateway: one federated call from ``/mcp`` to an upstream MCP tool or a registered A2A agent, governed.

Every call, in this order (each refusal writes the call's audit row, ``audit``, committed in groups by
``audit_log`` before the answer):

1. the name must be federated (``names``, ``settings``) and the caller hold
   ``start``, else the call is refused as for any unknown tool;
2. the per-principal and per-tool rate limits (``governance.GatewayRates``):
   JSON-RPC ``-32029`` with ``data.retryAfterSeconds``;
3. the hub's policies (``governance.verdict``, the agents' ``decide``):
   ``deny`` is a tool error saying why and which policies; then the daily
   budgets (``budgets``): one spent is a tool error of type ``budget``;
   ``approve`` starts
   the ``approval`` process and keeps the caller waiting for the call's budget
   (or, as an MCP Task, for as long as it takes);
4. ``allow``: forwarded now. An MCP tool goes through the ``mcp`` job type's
   pool and pin check (``McpToolTask.call_pinned``): a tool changed upstream
   since its approval is refused (``blocked``) and never called; an A2A
   agent must be callable in the registry (``agent_tool``). Both use the
   hub's egress policy.

On a virtual server (``/mcp/{name}``, ``registry.VirtualServer``) step 1
asks the server's set instead of the settings, and the audit row names the
server (``virtual``); the rest of the path is the same, to the letter.

Owns: that order and the mapping of outcomes onto MCP results. Does not
know: the MCP session, transports or tokens (``protocols.mcp.server`` routes
calls here with the verified principal).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mcp.shared.exceptions import MCPError
from mcp_types import INVALID_PARAMS, CallToolResult, InputRequiredResult, InputResponses, Tool, ToolExecution

from engine import Channel, Engine, InstanceView
from engine.agent import Decision, PolicyDecision
from engine.scheduler import Job
from protocols.a2a.client_errors import A2ACallError
from protocols.actors import actor_of
from protocols.gateway.agent_tool import ask_agent
from protocols.gateway.approval import JOB_TYPE, PROCESS_ID, ApprovalProcess, principal_from, principal_json
from protocols.gateway.audit import CallAudit, Outcome, arguments_digest, size_of
from protocols.gateway.audit_log import AuditLog
from protocols.gateway.budgets import GatewayBudgets
from protocols.gateway.catalog import Catalog
from protocols.gateway.governance import GatewayRates, candidates, policy_context, verdict
from protocols.gateway.names import FederatedName, parse
from protocols.gateway.settings import GatewaySettings
from protocols.gateway.task_state import TaskStates
from protocols.http import EgressPolicy
from protocols.instances import follow, outcome
from protocols.mcp import client_input
from protocols.mcp._context import in_thread, require, tool_error, tool_result
from protocols.mcp._rate import RATE_LIMITED
from protocols.mcp.client import McpClientError, McpProtocolError, ToolOutcome
from protocols.mcp.client_input import Asker
from protocols.mcp.tasks_client import AskingTask, not_elicitations
from protocols.mcp.tool_task import McpToolTask
from registry import Principal, Registry, RegistryNotFound, ToolBlocked, VirtualServer

__all__ = ["JOB_TYPE", "PROCESS_ID", "Gateway"]


class Gateway:
    """Federated tools for ``McpEndpoint``, and (called with a job) the handler of ``JOB_TYPE``: approved calls."""

    def __init__(
        self, engine: Engine, registry: Registry, mcp: McpToolTask, settings: GatewaySettings,
        egress: EgressPolicy, *, call_timeout_s: float = 30.0,
    ) -> None:
        self.engine = engine
        self.registry = registry
        self.mcp = mcp
        self.settings = settings
        self.egress = egress
        self.call_timeout_s = call_timeout_s
        self.catalog = Catalog(registry, mcp, settings)
        self.rates = GatewayRates(settings)
        self.budgets = GatewayBudgets(settings, registry.budgets)
        self.audit_log = AuditLog(registry)
        self.process = ApprovalProcess(engine)
        self.process_id = PROCESS_ID
        self.task_states = TaskStates()

    # --- the MCP server's side -----------------------------------------------------------------

    async def tools(self, principal: Principal, within: VirtualServer | None = None) -> list[Tool]:
        """The federated tools ``/mcp`` offers (``within`` None), or those of the virtual server ``within``."""
        if not principal.has("start"):
            return []
        if within is None and not (self.settings.servers or self.settings.agents):
            return []
        return [Tool(name=t.name, title=t.title, description=t.description, input_schema=t.input_schema,
                     execution=ToolExecution(task_support="optional")) for t in await self.catalog.tools(within)]

    def header_schema(self, name: str) -> dict[str, Any] | None:
        """A federated tool's input schema as last listed, when it has x-mcp-header annotations (else None)."""
        return self.catalog.header_schema(name)

    def owns(self, name: str, within: VirtualServer | None = None) -> bool:
        """Whether ``name`` is a federated tool here: on ``/mcp`` by the settings, on a virtual server by its set."""
        target = parse(name)
        if target is None:
            return False
        if within is not None:
            return target.owner in within.agents if target.is_agent else name in within.tools
        return (self.settings.federates_agent(target.owner) if target.is_agent
                else self.settings.federates_server(target.owner))

    async def call(
        self, principal: Principal, name: str, arguments: Mapping[str, Any] | None, budget_s: float,
        within: VirtualServer | None = None, *, task_after_s: float | None = None, ask: Asker | None = None,
        input_back: bool = False, responses: InputResponses | None = None, state: str | None = None,
    ) -> CallToolResult | InstanceView | InputRequiredResult:
        """A plain ``tools/call``: governed, then forwarded, or waited on while a person decides. ``task_after_s``
        (the client takes tasks, MCP's 2026-07-28 extension): a call that waits for an approval follows its
        instance that long at most and then answers with the instance, to become the client's task. ``ask``: puts
        the upstream's questions (before its result, or in its task) to the caller's user
        (``client_input.answering``), when the caller can be asked by a request of the hub's; ``input_back`` (a
        2026-07-28 caller that offers elicitation): an upstream's ``InputRequiredResult`` asking elicitations only
        is the call's answer, and so is an upstream task's question, under a sealed state of the gateway's own
        (``task_state``); the caller's call that comes back with the answers (``responses``) and the
        ``requestState`` (``state``) sends them on. Otherwise a question fails the call at once, naming it."""
        began = time.monotonic()
        checked = await self._govern(principal, name, dict(arguments or {}), began, within)
        if isinstance(checked, CallToolResult):
            return checked
        audit, decision, context = checked
        if decision.decision == PolicyDecision.APPROVE:
            view = await self._start(audit, dict(arguments or {}), decision, context, began)
            left = max(0.0, budget_s - (time.monotonic() - began))
            view = await follow(self.engine, view.key, left if task_after_s is None else min(left, task_after_s),
                                first=view)
            if task_after_s is not None and view.state == "active":
                return view
            return await self.instance_result(view)
        return await self._forward(audit, dict(arguments or {}), budget_s, began, ask,
                                   Upstream(input_back, responses, state))

    async def start_task(
        self, principal: Principal, name: str, arguments: Mapping[str, Any] | None,
        within: VirtualServer | None = None,
    ) -> InstanceView | CallToolResult:
        """A task-augmented call: governed, then an instance of ``PROCESS_ID`` (the task) or the refusal."""
        began = time.monotonic()
        checked = await self._govern(principal, name, dict(arguments or {}), began, within)
        if isinstance(checked, CallToolResult):
            return checked
        audit, decision, context = checked
        return await self._start(audit, dict(arguments or {}), decision, context, began)

    async def instance_result(self, view: InstanceView) -> CallToolResult:
        """What a call kept waiting in an instance answers: the upstream's result, the refusal, or the wait."""
        meta = {"agenthub/instance": view.key, "agenthub/state": view.state}
        answer = view.variables.get("result")
        if view.state == "completed" and isinstance(answer, dict):
            return CallToolResult.model_validate({**answer, "_meta": meta})
        if view.state == "completed":
            return tool_error("rejected", f"the call of '{view.variables.get('tool')}' was not approved "
                              f"(instance {view.key})", instance=view.key)
        data = await in_thread(lambda: outcome(self.engine, view))
        if view.state in ("incident", "terminated"):
            return tool_result(data, note=f"the call waiting in instance {view.key} stopped: {view.state}",
                               error=True, meta=meta)
        tasks = [w for w in data.get("waitingFor", []) if w.get("kind") == "userTask"]
        what = f"a person's approval (user task {tasks[0]['task']})" if tasks else "its turn to run"
        note = (f"the call of '{view.variables.get('tool')}' waits for {what} in instance {view.key}; check on it "
                f'with agenthub_get_instance {{"instance": {view.key}}}, or call it as an MCP Task to be kept waiting')
        return tool_result(data, note=note, meta=meta)

    # --- the worker's side ---------------------------------------------------------------------

    async def __call__(self, job: Job) -> dict[str, Any]:
        """The approved (or task-augmented) call, made by the worker loop: the upstream's answer as ``result``."""
        principal = principal_from(job.variables.get("principal"))
        name = str(job.variables.get("tool"))
        arguments = job.variables.get("arguments")
        target = parse(name)
        if target is None or not isinstance(arguments, dict):
            raise ValueError(f"instance {job.instance}: variables 'tool' and 'arguments' are not a federated call")
        began = time.monotonic()
        virtual = job.variables.get("virtual")
        audit = CallAudit(principal, name, target, arguments_digest(arguments),
                          {"instance": job.instance, "approvedCall": job.variables.get("needsApproval") is True,
                           **({"virtual": virtual} if isinstance(virtual, str) else {})})
        result = await self._forward(audit, arguments, self.call_timeout_s, began)
        if isinstance(result, InputRequiredResult):  # not asked for (input_back): never one here
            raise ValueError(f"instance {job.instance}: the upstream left the call of '{name}' unanswered")
        return {"result": result.model_dump(by_alias=True, mode="json", exclude_none=True)}

    # --- the steps -----------------------------------------------------------------------------

    def _target(self, name: str, within: VirtualServer | None) -> FederatedName:
        target = parse(name)
        if target is None or not self.owns(name, within):
            raise MCPError(INVALID_PARAMS, f"unknown tool '{name}': list the tools to see what this hub offers")
        return target

    async def _govern(
        self, principal: Principal, name: str, arguments: dict[str, Any], began: float, within: VirtualServer | None
    ) -> tuple[CallAudit, Decision, dict[str, Any]] | CallToolResult:
        target = self._target(name, within)
        require(principal, "start", "calling a federated tool")
        audit = CallAudit(principal, name, target, arguments_digest(arguments),
                          {"virtual": within.name} if within is not None else {})
        refusal = self.rates.take(principal, name)
        if refusal is not None:
            await self._write(audit, Outcome.RATE_LIMITED, began, reason=refusal.message)
            raise MCPError(RATE_LIMITED, refusal.message, {"retryAfterSeconds": refusal.retry_after_s})
        context = policy_context(principal, target)
        decision = verdict(self.engine.agent_policies, name, arguments, context, self.engine.clock.now())
        audit.data.update(decision=str(decision.decision), policies=list(decision.policies))
        if decision.decision == PolicyDecision.DENY:
            await self._write(audit, Outcome.DENIED, began, reason=decision.reason, alert=decision.alert or None)
            return tool_error("denied", f"the hub's policies deny this call of '{name}': {decision.reason}",
                              policies=list(decision.policies))
        if self.budgets.enabled:
            now = self.engine.clock.now()
            spent = await asyncio.to_thread(self.budgets.take, principal, name, now)
            if spent is not None:
                await self._write(audit, Outcome.BUDGET, began, reason=spent.message, budget=spent.budget)
                return tool_error("budget", spent.message, budget=spent.budget, limit=spent.limit,
                                  retryAfterSeconds=spent.retry_after_s)
        return audit, decision, context

    async def _start(
        self, audit: CallAudit, arguments: dict[str, Any], decision: Decision, context: dict[str, Any],
        began: float,
    ) -> InstanceView:
        asked = decision.decision == PolicyDecision.APPROVE
        who = candidates(decision, context, self.engine.clock.now()) if asked else None
        variables = {
            "tool": audit.name, "arguments": arguments, "principal": principal_json(audit.principal),
            "needsApproval": asked, "candidateGroups": list(who.groups) if who else [],
            "candidateUsers": list(who.users) if who else [], "policies": list(decision.policies),
            "allowMachines": asked and all(p.allow_machines for p in decision.approvers),
            "reason": decision.reason, "virtual": audit.data.get("virtual"),
            "question": f"{audit.principal.name} asks to call '{audit.name}': {decision.reason}" if asked else None,
        }
        by = actor_of(audit.principal, Channel.MCP)

        def start() -> InstanceView:
            self.process.ensure()
            return self.engine.start(PROCESS_ID, variables, owner=audit.principal.name, by=by)

        view = await in_thread(start)
        if asked:
            await self._write(audit, Outcome.APPROVAL_REQUESTED, began, instance=view.key, reason=decision.reason,
                              unresolvedCandidates=list(who.unresolved) if who and who.unresolved else None)
        return view

    async def _forward(
        self, audit: CallAudit, arguments: dict[str, Any], budget_s: float, began: float, ask: Asker | None = None,
        upstream: Upstream | None = None,
    ) -> CallToolResult | InputRequiredResult:
        target = audit.target
        questions: list[None] = []  # one per upstream question put to the caller (the audit counts, keeps none)
        try:
            if target.is_agent:
                result, result_outcome = await self._ask_agent(target.owner, arguments, budget_s)
            else:
                with client_input.answering(None if ask is None else _counting(ask, questions)):
                    found = await self._call_mcp(audit, arguments, budget_s, upstream or Upstream())
                if isinstance(found, InputRequiredResult):
                    await self._write(audit, Outcome.INPUT_REQUIRED, began,
                                      questionsAsked=len(found.input_requests or {}) or None)
                    return found
                result, result_outcome = found
        except ToolBlocked as exc:
            await self._write(audit, Outcome.BLOCKED, began, reason=str(exc))
            return tool_error("blocked", str(exc), retryable=False)
        except RegistryNotFound:
            await self._write(audit, Outcome.BLOCKED, began, reason="no longer registered")
            raise MCPError(INVALID_PARAMS, f"unknown tool '{audit.name}': its server or agent is no longer "
                           "registered") from None
        except (McpClientError, A2ACallError, ValueError, OSError) as exc:
            await self._write(audit, Outcome.FAILED, began, reason=f"{type(exc).__name__}: {exc}"[:500],
                              questionsAsked=len(questions) or None)
            return tool_error("upstream", f"the call of '{audit.name}' failed upstream: {exc}", retryable=True)
        except Exception as exc:
            await self._write(audit, Outcome.FAILED, began, reason=type(exc).__name__)
            raise
        await self._write(audit, result_outcome, began, questionsAsked=len(questions) or None,
                          resultBytes=size_of(result.model_dump(by_alias=True, mode="json", exclude_none=True)))
        return result

    async def _call_mcp(
        self, audit: CallAudit, arguments: dict[str, Any], budget_s: float, upstream: Upstream
    ) -> tuple[CallToolResult, Outcome] | InputRequiredResult:
        target = audit.target
        server = await asyncio.to_thread(self.registry.mcp.get, target.owner)  # the pin: checked in call_pinned
        timeout = max(0.001, min(budget_s, float(server.timeout_s)))
        where = f"tool '{target.tool}' of MCP server '{server.name}'"
        if upstream.state is not None and self.task_states.ours(upstream.state):  # answers to a task's question
            held = self.task_states.open(upstream.state, audit.principal.name, audit.name)
            answers = {k: v.model_dump(by_alias=True, mode="json", exclude_none=True)
                       for k, v in (upstream.responses or {}).items()}
            answer: ToolOutcome | InputRequiredResult | AskingTask = await self.mcp.follow_task(
                server, held.task_id, answers, timeout)
        else:
            answer = await self.mcp.call_pinned(server, str(target.tool), lambda _pinned: arguments, timeout,
                                                input_back=upstream.input_back, responses=upstream.responses,
                                                state=upstream.state)
        if isinstance(answer, AskingTask):
            state = self.task_states.seal(audit.principal.name, audit.name, server.name, answer.task_id)
            return InputRequiredResult.model_validate({"inputRequests": answer.requests, "requestState": state})
        if isinstance(answer, InputRequiredResult):
            return passed_back(answer, where)
        result = CallToolResult.model_validate(
            {"content": answer.content, "structuredContent": answer.structured_content, "isError": answer.is_error}
        )
        return result, Outcome.TOOL_ERROR if answer.is_error else Outcome.OK

    async def _ask_agent(
        self, name: str, arguments: dict[str, Any], budget_s: float
    ) -> tuple[CallToolResult, Outcome]:
        agent = await asyncio.to_thread(self.registry.agents.callable_agent, name)
        answer = await ask_agent(agent, arguments, self.egress, budget_s)
        if answer.waiting:
            note = (f"agent '{name}' is still working on task {answer.value.get('taskId')} "
                    f"({answer.value.get('state')}); call again with {{\"taskId\": \"{answer.value.get('taskId')}\"}}")
            return tool_result(answer.value, note=note), Outcome.WAITING
        result = tool_result(answer.value, error=answer.error)
        return result, Outcome.TOOL_ERROR if answer.error else Outcome.OK

    async def _write(self, audit: CallAudit, what: Outcome, began: float, **details: Any) -> None:
        latency_ms = (time.monotonic() - began) * 1000
        shown = {k: v for k, v in details.items() if v is not None}
        await self.audit_log.write(audit.row(what, latency_ms, **shown))


@dataclass(frozen=True, slots=True)
class Upstream:
    """How a federated MCP call treats an upstream's ``InputRequiredResult`` (``Gateway.call``'s ``input_back``),
    and the answers and state the caller's call came back with."""

    input_back: bool = False
    responses: InputResponses | None = None
    state: str | None = None


def passed_back(asked: InputRequiredResult, where: str) -> InputRequiredResult:
    """The upstream's question as the caller's answer, when it asks only elicitations (which the caller offers);
    ``McpProtocolError`` naming the others (the hub declares only elicitation upstream, and passes on no more)."""
    others = not_elicitations(asked.model_dump(by_alias=True, mode="json", exclude_none=True).get("inputRequests", {}))
    if others:
        raise McpProtocolError(f"{where} asks for {', '.join(others)} before it answers, which the hub does not "
                               "pass on to its caller")
    return asked


def _counting(ask: Asker, questions: list[None]) -> Asker:
    """``ask``, noting each question it is given in ``questions`` (for the call's audit row: how many, not what)."""

    async def counted(params: dict[str, Any]) -> dict[str, Any] | None:
        questions.append(None)
        return await ask(params)

    return counted
