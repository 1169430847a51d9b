"""One federated call's governance before anything goes upstream: rate limits, then the hub-wide policies.

The policies are the hub's (``AGENTHUB_AGENT_POLICIES``, ``Engine.agent_policies``),
decided by ``engine.agent.decide``: the same code, the same rules (strictest
wins, a failing condition denies loudly, a secret in the arguments is denied)
as an agent's tool call. A policy's ``tool`` is matched against the federated
name (``files__read_file``, ``a2a__billing``) or ``*``; its ``when`` sees
``toolName``, ``toolCall`` (the arguments), ``confidence`` (null) and, in place
of an agent's variables, ``principal`` (``name``, ``groups``, ``person``,
``scopes``), ``server``, ``upstreamTool`` and ``agent``. ``maxCalls``, an agent
run's call budget, has no run to count here and is not applied.

An ``approve`` decision names who may approve: the approving policies'
candidate groups and users, static lists or ``=FEEL`` over the same context
(one that fails to evaluate leaves the call with no candidates but admins:
fail closed).

Rate limits reuse ``protocols.mcp._rate.CallRate``: one bucket per principal
over all federated tools, one per federated tool over all principals.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from engine.agent import Decision, Policy, PolicyDecision, decide
from engine.feel import FeelError, compile_expression, to_json
from engine.feel.api import is_expression, strip_marker
from protocols.gateway.names import FederatedName
from protocols.gateway.settings import GatewaySettings
from protocols.mcp._rate import CallRate
from registry import Principal

__all__ = ["Candidates", "GatewayRates", "RateRefusal", "candidates", "policy_context", "verdict"]


def policy_context(principal: Principal, target: FederatedName) -> dict[str, Any]:
    """What a policy's ``when`` sees besides the call itself."""
    return {
        "principal": {"name": principal.name, "groups": sorted(principal.groups), "person": principal.person,
                      "scopes": sorted(principal.scopes)},
        "server": None if target.is_agent else target.owner,
        "upstreamTool": target.tool,
        "agent": target.owner if target.is_agent else None,
    }


def verdict(
    policies: Sequence[Policy], tool: str, arguments: dict[str, Any], context: Mapping[str, Any], now: datetime
) -> Decision:
    """The hub's policies on one federated call: ``engine.agent.decide``, with no call budget to count."""
    return decide(policies, tool, arguments, None, context, 0, now)


@dataclass(frozen=True, slots=True)
class Candidates:
    groups: tuple[str, ...]
    users: tuple[str, ...]
    unresolved: tuple[str, ...]  # expressions that failed


def candidates(decision: Decision, context: Mapping[str, Any], now: datetime) -> Candidates:
    groups: list[str] = []
    users: list[str] = []
    failed: list[str] = []
    for policy in decision.approvers:
        groups.extend(_names(policy.candidate_groups, context, now, failed))
        users.extend(_names(policy.candidate_users, context, now, failed))
    if failed:  # fail closed: nobody but an admin may approve
        return Candidates((), (), tuple(failed))
    return Candidates(tuple(dict.fromkeys(groups)), tuple(dict.fromkeys(users)), ())


def _names(attribute: str | None, context: Mapping[str, Any], now: datetime, failed: list[str]) -> list[str]:
    if not attribute:
        return []
    if not is_expression(attribute):
        return [n.strip() for n in attribute.split(",") if n.strip()]
    try:
        value = to_json(compile_expression(strip_marker(attribute)).evaluate(context, now))
    except FeelError as exc:
        failed.append(f"{attribute}: {exc}")
        return []
    if isinstance(value, str):
        return [n.strip() for n in value.split(",") if n.strip()]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    failed.append(f"{attribute}: gave {value!r}, not a list of names")
    return []


@dataclass(frozen=True, slots=True)
class RateRefusal:
    message: str
    retry_after_s: int


class GatewayRates:
    """The per-principal and per-tool buckets (a call the tool's bucket refuses has spent one of the principal's)."""

    def __init__(self, settings: GatewaySettings) -> None:
        self.settings = settings
        self._principals = CallRate(settings.principal_rate_per_minute, settings.rate_burst)
        self._tools = CallRate(settings.tool_rate_per_minute, settings.rate_burst)

    def take(self, principal: Principal, tool: str) -> RateRefusal | None:
        who = principal.token_id or principal.name
        wait = self._principals.take(who, "*")
        if wait is not None:
            return RateRefusal(
                f"rate limit: one principal may make {self.settings.principal_rate_per_minute:g} federated calls a "
                f"minute (bursts of {self.settings.rate_burst}); retry in {wait} seconds", wait)
        wait = self._tools.take("*", tool)
        if wait is not None:
            return RateRefusal(
                f"rate limit: '{tool[:100]}' takes {self.settings.tool_rate_per_minute:g} calls a minute from all "
                f"callers together (bursts of {self.settings.rate_burst}); retry in {wait} seconds", wait)
        return None


def is_denied(decision: Decision) -> bool:
    return decision.decision == PolicyDecision.DENY
