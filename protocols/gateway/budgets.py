"""The gateway's daily call budgets: per principal and per federated tool, counted in the registry.

Beside the rate limits (``governance.GatewayRates``, buckets per minute in
this hub process) each federated call spends one call of two daily budgets,
when they are set (``settings``): the calling principal's
(``AGENTHUB_GATEWAY_PRINCIPAL_DAILY_CALLS``, all federated tools together,
by principal name: a person's tokens share it) and the tool's
(``AGENTHUB_GATEWAY_TOOL_DAILY_CALLS``, all principals together). A day is
the UTC calendar day of the hub's clock; a budget renews at midnight UTC.

A call spends its budgets once the policies let it through or send it for
approval (a call they deny spends nothing; one sent for approval spends its
call then, whatever the person decides), both or neither
(``registry.CallBudgets.take``). The counts are durable: a restart or a
second hub process on the same database sees them.

Cost budgets are not kept: an upstream MCP tool's result and an A2A task
report no cost in any standard place, so there is nothing to add up.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from protocols.gateway.settings import GatewaySettings
from registry import CallBudgets, Principal

__all__ = ["BudgetRefusal", "GatewayBudgets"]


@dataclass(frozen=True, slots=True)
class BudgetRefusal:
    message: str
    budget: str  # "principal" | "tool"
    limit: int
    retry_after_s: int  # until the budget renews (midnight UTC)


class GatewayBudgets:
    def __init__(self, settings: GatewaySettings, budgets: CallBudgets) -> None:
        self.settings = settings
        self.budgets = budgets

    @property
    def enabled(self) -> bool:
        return self.settings.principal_daily_calls > 0 or self.settings.tool_daily_calls > 0

    def take(self, principal: Principal, tool: str, now: datetime) -> BudgetRefusal | None:
        """Spend one call of the principal's and the tool's budgets for ``now``'s day (blocking: off the loop)."""
        wanted: list[tuple[str, int]] = []
        if self.settings.principal_daily_calls > 0:
            wanted.append((f"principal:{principal.name}", self.settings.principal_daily_calls))
        if self.settings.tool_daily_calls > 0:
            wanted.append((f"tool:{tool}", self.settings.tool_daily_calls))
        today = now.astimezone(UTC)
        spent = self.budgets.take(wanted, today.date().isoformat())
        if spent is None:
            return None
        renews = datetime.combine(today.date() + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
        wait = max(1, int((renews - today).total_seconds()))
        if spent.budget.startswith("principal:"):
            return BudgetRefusal(
                f"budget: '{principal.name}' has made the {spent.limit} federated calls one principal may make in "
                f"a day (AGENTHUB_GATEWAY_PRINCIPAL_DAILY_CALLS); it renews at midnight UTC, in {wait} seconds",
                "principal", spent.limit, wait)
        return BudgetRefusal(
            f"budget: '{tool[:100]}' has taken the {spent.limit} calls it may take in a day from all callers "
            f"together (AGENTHUB_GATEWAY_TOOL_DAILY_CALLS); it renews at midnight UTC, in {wait} seconds",
            "tool", spent.limit, wait)
