"""The in-memory store's jobs, with the same leases, fencing and fair claiming as ``engine.store.tx_jobs``."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from engine.runtime import messages as m
from engine.store.columns import dumps, free_text
from engine.store.leases import check_lease
from engine.store.memory_tables import Tables
from engine.store.rows import JobRow


class MemoryJobs:
    def __init__(self, tables: Tables) -> None:
        self._t = tables

    def _update(self, key: int, **values: object) -> None:
        row = self._t.jobs.get(key)
        if row is not None:
            self._t.jobs[key] = dataclasses.replace(row, **values)  # type: ignore[arg-type]

    def insert(
        self, effect: m.CreateJob, instance_key: int, process_id: str, now: int, lock: tuple[str, int] | None = None
    ) -> None:
        self._t.jobs[effect.key] = JobRow(
            key=effect.key, instance_key=instance_key, element_instance=effect.element_instance,
            element_id=effect.element_id, process_id=process_id, type=effect.type,
            state="ready" if lock is None else "locked", retries=effect.retries, due_at=now,
            lock_owner=None if lock is None else lock[0], lock_expires_at=None if lock is None else lock[1],
            lock_version=0 if lock is None else 1, stalls=0, headers=dumps(effect.headers), error_message=None,
            created_at=now,
        )

    def _held(self, key: int, owner: str, lock_version: int) -> bool:
        row = self._t.jobs.get(key)
        return (row is not None and row.state == "locked" and row.lock_owner == owner
                and row.lock_version == lock_version)

    def release(self, key: int, owner: str, lock_version: int) -> None:
        if self._held(key, owner, lock_version):
            self._update(key, state="ready", lock_owner=None, lock_expires_at=None, wait_reason=None)

    def complete(self, key: int) -> None:
        self._update(key, state="completed", lock_expires_at=None)

    def delete(self, key: int) -> None:
        self._t.jobs.pop(key, None)

    def delete_of_instance(self, instance_key: int) -> None:
        for key in [k for k, r in self._t.jobs.items() if r.instance_key == instance_key]:
            del self._t.jobs[key]

    def retry(self, key: int, retries: int, now: int) -> None:
        self._update(key, state="ready", retries=retries, due_at=now, lock_owner=None, lock_expires_at=None, stalls=0,
                     wait_reason=None, failures=0)

    def wait(self, key: int, due_at: int, reason: str) -> None:
        self._update(key, state="ready", due_at=due_at, lock_owner=None, lock_expires_at=None, stalls=0,
                     wait_reason=free_text(reason))

    def wake(self, key: int, now: int) -> bool:
        row = self._t.jobs.get(key)
        if row is None or row.state != "ready" or row.wait_reason is None:
            return False
        self._update(key, due_at=min(row.due_at, now))
        return True

    def locked(self, key: int, owner: str | None, lock_version: int | None) -> JobRow:
        row = self._t.jobs.get(key)
        check_lease(row, key, owner, lock_version)
        assert row is not None
        return row

    def fail(self, key: int, retries: int, due_at: int, message: str) -> None:
        row = self._t.jobs.get(key)
        failures = row.failures + 1 if row is not None else 1
        self._update(key, state="ready" if retries > 0 else "failed", retries=retries, due_at=due_at,
                     lock_owner=None, lock_expires_at=None, error_message=free_text(message), wait_reason=None,
                     failures=failures)

    def claim(
        self, types: Sequence[str] | None, owner: str, now: int, lease_ms: int, limit: int, *, alone_after: int = 1
    ) -> Sequence[JobRow]:
        """The SQL store's rule (``engine.store.tx_claim``): expired leases take at most half the batch, no
        instance more than half of the ready jobs while others have some due, a repeatedly stalled job alone."""
        wanted = [r for r in self._t.jobs.values() if types is None or r.type in types]
        share = max(1, (limit + 1) // 2)
        expired = sorted((r for r in wanted if r.state == "locked" and (r.lock_expires_at or 0) < now),
                         key=lambda r: (r.lock_expires_at or 0, r.key))
        found = expired[:share]
        if len(found) < limit:
            ready = sorted((r for r in wanted if r.state == "ready" and r.due_at <= now),
                           key=lambda r: (r.due_at, r.key))
            found.extend(_fair(ready, limit - len(found)))
        repeat = [r for r in found if r.stalls + (1 if r.state == "locked" else 0) >= alone_after]
        if repeat:
            found = repeat[:1]
        claimed = []
        for r in found:
            row = dataclasses.replace(r, stalls=r.stalls + (1 if r.state == "locked" else 0), state="locked",
                                      lock_owner=owner, lock_expires_at=now + lease_ms, lock_version=r.lock_version + 1)
            self._t.jobs[r.key] = row
            claimed.append(row)
        return sorted(claimed, key=lambda r: (r.due_at, r.key))

    def extend_lease(self, key: int, owner: str, lock_version: int, expires_at: int) -> bool:
        if not self._held(key, owner, lock_version):
            return False
        self._update(key, lock_expires_at=expires_at)
        return True

    def get(self, key: int) -> JobRow | None:
        return self._t.jobs.get(key)

    def of_instance(self, instance_key: int) -> Sequence[JobRow]:
        return sorted((r for r in self._t.jobs.values() if r.instance_key == instance_key and r.state != "completed"),
                      key=lambda r: r.key)

    def ready(self, instance_keys: Sequence[int]) -> Sequence[JobRow]:
        wanted = set(instance_keys)
        return [r for r in self._t.jobs.values() if r.instance_key in wanted and r.state == "ready"]

    def next_due(self, types: Sequence[str] | None) -> int | None:
        due = [
            r.due_at if r.state == "ready" else (r.lock_expires_at or 0)
            for r in self._t.jobs.values()
            if r.state in ("ready", "locked") and (types is None or r.type in types)
        ]
        return min(due) if due else None

    def count(self, types: Sequence[str] | None = None, *, state: str | None = None) -> int:
        return sum(
            1 for r in self._t.jobs.values()
            if (types is None or r.type in types) and (state is None or r.state == state)
        )


def _fair(ready: list[JobRow], limit: int) -> list[JobRow]:
    """The first ``limit`` of the ready jobs (oldest first), no instance taking more than half while others wait."""
    rows = ready[:limit]
    share = max(1, (limit + 1) // 2)
    counts: dict[int, int] = {}
    for row in rows:
        counts[row.instance_key] = counts.get(row.instance_key, 0) + 1
    crowded = {instance for instance, count in counts.items() if count > share}
    if not crowded:
        return rows
    others = [r for r in ready if r.instance_key not in crowded][: limit - share]
    if not others:
        return rows
    kept: list[JobRow] = []
    left: list[JobRow] = []
    taken = dict.fromkeys(crowded, 0)
    for row in rows:
        if row.instance_key in taken:
            if taken[row.instance_key] >= share:
                left.append(row)
                continue
            taken[row.instance_key] += 1
        kept.append(row)
    return (kept + others + left)[:limit]
