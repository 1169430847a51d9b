"""Deployed DMN decisions marked ``<agenthub:tool/>`` as MCP tools: list them, and evaluate one per call.

What a decision offers (name, description, input schema from the variables
it reads) is the engine's (``engine.decision_tools``); this module turns it
into an MCP ``Tool`` (``readOnlyHint`` and ``idempotentHint``: an evaluation
changes nothing) and a call into an evaluation of the version listed, the
newest marked one. A call, in this order:

1. the caller needs ``start`` (as for a process tool or
   ``POST /api/v1/decisions/{id}/evaluate``), else ``FORBIDDEN``;
2. the arguments are checked against the input schema (``invalidArguments``);
3. the hub's policies (``AGENTHUB_AGENT_POLICIES``), decided by
   ``engine.agent.decide`` as for a federated tool (``protocols.gateway``):
   ``deny`` is a tool error that says why; ``approve`` is refused too
   (``approvalRequired``), since an evaluation answers at once and there is
   no instance to wait in. A policy's ``when`` sees ``toolName``,
   ``toolCall``, ``principal`` and ``decision`` (the decision id);
4. the evaluation: its result (``DecisionResult.to_dict``, the REST API's
   shape, with the matched rules) as ``structuredContent`` and as JSON text;
   one that fails (a FEEL error, a hit policy violated) is ``isError`` with
   the reason (``evaluationFailed``).

Nothing is journaled (there is no instance), so each call leaves one row in
the registry's audit when the endpoint has a registry (``agenthub audit``,
``GET /api/v1/audit?subject=decision:<id>``): kind ``decision.call``, the
calling principal as actor, and in ``data`` the tool, decision and version,
``argumentsHash`` (not the arguments), ``outcome``, the policies' decision,
the matched rules' ids and ``latencyMs``, as the gateway's rows have them.

A process tool keeps a name that a decision would take (it is listed first);
a decision tool is not offered on virtual servers, which name processes.
"""

from __future__ import annotations

import time
from typing import Any

from mcp_types import CallToolResult, Tool, ToolAnnotations

from engine import Channel, Engine, InvalidInput, NotFound
from engine.agent import PolicyDecision, decide
from engine.arguments import ArgumentError, check_arguments
from engine.canonical import NotCanonical, canonical_hash
from engine.decision_tools import DecisionToolSpec
from protocols.actors import actor_of
from protocols.mcp._context import in_thread, require, tool_error, tool_result
from protocols.mcp._process_tools import BUILTIN_PREFIX, offered
from registry import Principal, Registry

__all__ = ["AUDIT_KIND", "DecisionTools"]

AUDIT_KIND = "decision.call"


def as_tool(spec: DecisionToolSpec) -> Tool:
    return Tool(
        name=spec.name,
        title=spec.title,
        description=spec.description,
        input_schema=spec.input_schema(),
        output_schema=spec.output_schema(),
        annotations=ToolAnnotations(
            read_only_hint=True, idempotent_hint=True, destructive_hint=False, open_world_hint=False
        ),
    )


class DecisionTools:
    """The decision tools of one engine; ``registry`` (optional) receives each call's audit row."""

    def __init__(self, engine: Engine, registry: Registry | None = None) -> None:
        self.engine = engine
        self.registry = registry

    async def specs(self) -> dict[str, DecisionToolSpec]:
        """The decision tools by name, read on every listing; names a process tool has are left to it."""

        def read() -> dict[str, DecisionToolSpec]:
            taken = {spec.name for spec in self.engine.tools() if offered(spec)}
            found: dict[str, DecisionToolSpec] = {}
            for spec in self.engine.decision_tools():
                if spec.name not in taken and not spec.name.startswith(BUILTIN_PREFIX):
                    found.setdefault(spec.name, spec)
            return found

        return await in_thread(read)

    async def find(self, name: str) -> DecisionToolSpec | None:
        """The decision tool of this name; None also where a process tool has the name (one read of the tools)."""

        def read() -> DecisionToolSpec | None:
            spec = next((s for s in self.engine.decision_tools() if s.name == name), None)
            if (
                spec is None
                or name.startswith(BUILTIN_PREFIX)
                or any(p.name == name for p in self.engine.tools() if offered(p))
            ):
                return None
            return spec

        return await in_thread(read)

    async def tools(self) -> list[Tool]:
        return [as_tool(spec) for spec in (await self.specs()).values()]

    async def call(
        self, principal: Principal, spec: DecisionToolSpec, arguments: dict[str, Any] | None
    ) -> CallToolResult:
        began = time.monotonic()
        require(principal, "start", "calling a decision tool")
        row: dict[str, Any] = {
            "tool": spec.name,
            "decisionId": spec.decision_id,
            "version": spec.version,
            "principal": principal.name,
            "argumentsHash": _digest(arguments or {}),
        }
        try:
            variables = check_arguments(spec.input_schema(), arguments)
        except ArgumentError as exc:
            message = f"invalid arguments for '{spec.name}': {exc}"
            await self._audit(principal, row, "invalidArguments", began, reason=message)
            return tool_error("invalidArguments", message, problems=exc.problems)
        refused = await self._governed(principal, spec, variables, row, began)
        if refused is not None:
            return refused
        try:
            result = await in_thread(
                lambda: self.engine.evaluate_decision(spec.decision_id, variables, version=spec.version)
            )
        except (InvalidInput, NotFound) as exc:
            await self._audit(principal, row, "toolError", began, reason=str(exc))
            return tool_error("evaluationFailed", f"'{spec.name}' could not be evaluated: {exc}")
        await self._audit(
            principal, row, "ok", began, matchedRules=[r["ruleId"] or r["ruleIndex"] for r in result.matched_rules]
        )
        rules = ", ".join(str(r["ruleId"] or r["ruleIndex"]) for r in result.matched_rules) or "none"
        return tool_result(
            result.to_dict(),
            note=f"decision {spec.decision_id} version {result.version}; matched rules: {rules}",
            meta={"agenthub/decision": spec.decision_id, "agenthub/version": result.version},
        )

    async def _governed(
        self, principal: Principal, spec: DecisionToolSpec, variables: dict[str, Any], row: dict[str, Any], began: float
    ) -> CallToolResult | None:
        """The hub's policies on the call: None when they allow it, else the tool error (audited)."""
        context = {
            "principal": {
                "name": principal.name,
                "groups": sorted(principal.groups),
                "person": principal.person,
                "scopes": sorted(principal.scopes),
            },
            "decision": spec.decision_id,
        }
        verdict = decide(self.engine.agent_policies, spec.name, variables, None, context, 0, self.engine.clock.now())
        row.update(decision=str(verdict.decision), policies=list(verdict.policies))
        if verdict.decision == PolicyDecision.DENY:
            await self._audit(principal, row, "denied", began, reason=verdict.reason, alert=verdict.alert or None)
            return tool_error(
                "denied",
                f"the hub's policies deny this call of '{spec.name}': {verdict.reason}",
                policies=list(verdict.policies),
            )
        if verdict.decision == PolicyDecision.APPROVE:
            message = (
                f"the hub's policies ask a person to approve this call of '{spec.name}' ({verdict.reason}); "
                "a decision tool answers at once and cannot wait for an approval, so nothing was evaluated"
            )
            await self._audit(principal, row, "approvalRequired", began, reason=verdict.reason)
            return tool_error("approvalRequired", message, policies=list(verdict.policies))
        return None

    async def _audit(
        self, principal: Principal, row: dict[str, Any], outcome: str, began: float, **details: Any
    ) -> None:
        registry = self.registry
        if registry is None:
            return
        data = {
            **row,
            "outcome": outcome,
            "latencyMs": round((time.monotonic() - began) * 1000, 3),
            **{k: v for k, v in details.items() if v is not None},
        }
        actor = actor_of(principal, Channel.MCP).to_json()

        def write() -> None:
            with registry.store.begin() as conn:
                registry.store.audit(conn, AUDIT_KIND, f"decision:{row['decisionId']}", data, actor=actor)

        await in_thread(write)


def _digest(arguments: dict[str, Any]) -> str:
    try:
        return canonical_hash(arguments)
    except NotCanonical:  # the MCP layer refuses non-finite JSON before this; a fallback, never a crash
        return "not-canonical"
