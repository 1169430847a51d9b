"""Daily call budgets in the registry: spent all or none, refused once used up, renewed on a new day."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from registry import BudgetExhausted, Registry


@pytest.fixture
def registry(db_url: str) -> Iterator[Registry]:
    opened = Registry.open(db_url)
    yield opened
    opened.close()


def test_a_call_spends_one_of_each_budget_until_one_is_used_up_and_then_spends_nothing(registry: Registry) -> None:
    budgets = registry.budgets
    wanted = [("principal:alice", 5), ("tool:up__add", 2)]
    assert budgets.take(wanted, "2026-12-06") is None
    assert budgets.take(wanted, "2026-12-06") is None
    assert budgets.take(wanted, "2026-12-06") == BudgetExhausted("tool:up__add", 2, 2)
    assert (budgets.used("principal:alice", "2026-12-06"), budgets.used("tool:up__add", "2026-12-06")) == (2, 2)


def test_a_new_day_starts_from_nothing_and_drops_the_old_days_count(registry: Registry) -> None:
    budgets = registry.budgets
    assert budgets.take([("principal:bob", 1)], "2026-12-06") is None
    assert budgets.take([("principal:bob", 1)], "2026-12-06") is not None
    assert budgets.take([("principal:bob", 1)], "2026-12-07") is None
    assert (budgets.used("principal:bob", "2026-12-06"), budgets.used("principal:bob", "2026-12-07")) == (0, 1)
