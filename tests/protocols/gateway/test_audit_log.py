"""The gateway's audit rows in group commits (``protocols.gateway.audit_log``): durable before answered, one bad row
failing alone."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Connection

from protocols.gateway.audit import AUDIT_KIND, AuditRow
from protocols.gateway.audit_log import AuditLog
from registry import Registry


class GatedStore:
    """Counts the registry's write transactions; the first one waits until ``open`` (so rows queue behind it)."""

    def __init__(self, registry: Registry, monkeypatch: pytest.MonkeyPatch) -> None:
        self.transactions = 0
        self.gate = threading.Event()
        begin = registry.store.begin

        def gated() -> AbstractContextManager[Connection]:
            self.transactions += 1
            if self.transactions == 1:
                assert self.gate.wait(10), "the test never opened the gate"
            return begin()

        monkeypatch.setattr(registry.store, "begin", gated)


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[Registry]:
    opened = Registry.open(f"sqlite:///{tmp_path / 'agenthub.db'}")
    yield opened
    opened.close()


def row(n: int, data: Any = None) -> AuditRow:
    return AuditRow(f"gateway:echo__echo#{n}", {"outcome": "ok", "n": n if data is None else data}, {"id": "bench"})


def stored(registry: Registry) -> list[int]:
    return sorted(e["data"]["n"] for e in registry.store.events(limit=1000) if e["kind"] == AUDIT_KIND)


def test_a_lone_row_is_committed_before_its_write_returns(registry: Registry) -> None:
    async def one() -> list[int]:
        await AuditLog(registry).write(row(1))
        return stored(registry)

    assert asyncio.run(one()) == [1]


def test_rows_arriving_while_a_commit_runs_share_the_next_transaction_and_every_one_is_durable(
    registry: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = GatedStore(registry, monkeypatch)
    log = AuditLog(registry)

    async def many() -> None:
        first = asyncio.create_task(log.write(row(0)))
        await asyncio.sleep(0)  # the writer has taken row 0 and waits at the gate
        rest = [asyncio.create_task(log.write(row(n))) for n in range(1, 30)]
        await asyncio.sleep(0)
        store.gate.set()
        await asyncio.gather(first, *rest)

    asyncio.run(many())
    assert stored(registry) == list(range(30))
    assert store.transactions <= 3  # row 0 alone, then the 29 others together (one more if the writer was slow)


def test_a_row_that_cannot_be_stored_fails_its_own_write_and_no_other(
    registry: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = GatedStore(registry, monkeypatch)
    log = AuditLog(registry)

    async def mixed() -> list[BaseException | None]:
        first = asyncio.create_task(log.write(row(0)))
        await asyncio.sleep(0)
        writes = [log.write(row(1)), log.write(row(2, data=object())), log.write(row(3))]
        rest = asyncio.gather(*writes, return_exceptions=True)
        await asyncio.sleep(0)
        store.gate.set()
        await first
        return list(await rest)

    outcomes = asyncio.run(mixed())
    assert outcomes[0] is None and outcomes[2] is None
    assert isinstance(outcomes[1], TypeError)
    assert stored(registry) == [0, 1, 3]
