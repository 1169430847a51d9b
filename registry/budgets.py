"""Daily call budgets: how many calls each budget admitted on one UTC day, counted durably.

A budget is a name (the gateway's: ``principal:<name>``, ``tool:<federated
name>``) with a limit per day. ``take`` spends one call of several budgets at
once, all or none, in one transaction: a call one budget refuses spends
nothing of the others. The counts are rows (migration 0008), so they hold
across restarts and across hub processes sharing one database; a budget's
row of an earlier day is dropped when its first call of a new day arrives,
so the table holds about one row per budget.

This module counts; it does not know what the budgets are for, their limits
(the caller passes them) or the clock (the caller says which day it is).
Rejected: counting the audit rows at every call, which has no index to
count by principal and grows without end.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from registry.schema import gateway_budget_usage as usage
from registry.store import RegistryStore

__all__ = ["BudgetExhausted", "CallBudgets"]


@dataclass(frozen=True, slots=True)
class BudgetExhausted:
    """The budget that refused: its name, limit, and the calls it admitted that day."""

    budget: str
    limit: int
    used: int


class _Refused(Exception):
    def __init__(self, found: BudgetExhausted) -> None:
        self.found = found


class CallBudgets:
    def __init__(self, store: RegistryStore) -> None:
        self.store = store

    def take(self, budgets: Sequence[tuple[str, int]], day: str) -> BudgetExhausted | None:
        """Spend one call of each ``(budget, limit)`` on ``day``, or nothing and the first budget that is spent."""
        if not budgets:
            return None
        for attempt in range(2):  # two first calls of a day inserting the same row at once: the loser counts again
            try:
                with self.store.begin() as conn:
                    for budget, limit in budgets:
                        spent = conn.execute(
                            update(usage).where(usage.c.budget == budget, usage.c.day == day, usage.c.used < limit)
                            .values(used=usage.c.used + 1)
                        ).rowcount
                        if spent:
                            continue
                        row = conn.execute(
                            select(usage.c.used).where(usage.c.budget == budget, usage.c.day == day)
                        ).first()
                        if row is not None or limit < 1:
                            raise _Refused(BudgetExhausted(budget, limit, int(row.used) if row else 0))
                        conn.execute(delete(usage).where(usage.c.budget == budget, usage.c.day < day))
                        conn.execute(insert(usage).values(budget=budget, day=day, used=1))
                return None
            except _Refused as refused:
                return refused.found
            except IntegrityError:
                if attempt:
                    raise
        return None  # not reached: the second attempt returns or raises

    def used(self, budget: str, day: str) -> int:
        """The calls ``budget`` admitted on ``day``."""
        with self.store.read() as conn:
            row = conn.execute(select(usage.c.used).where(usage.c.budget == budget, usage.c.day == day)).first()
        return int(row.used) if row is not None else 0
