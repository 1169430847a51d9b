"""Claiming due jobs in SQL, fairly: the one query path every worker polls."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from engine.store.rawsql import Session, types_filter


def claim_jobs(
    s: Session, types: Sequence[str] | None, owner: str, now: int, lease_ms: int, limit: int, *, alone_after: int = 1
) -> Sequence[Any]:
    """Lock up to ``limit`` due jobs (ready, or locked by a worker whose lease ran out) for ``owner``.

    Fair by construction: jobs whose worker died take at most half the batch, so fresh work keeps flowing
    during a recovery; and no instance takes more than half of the ready jobs while others have some due,
    so one multi-instance activity over thousands of items does not hold every slot until it is done.
    A job that stalled ``alone_after`` times or more is claimed alone (it may be what kills workers).
    """
    type_clause, params = types_filter(types)
    params.update(now=now)
    lock_clause = " FOR UPDATE SKIP LOCKED" if s.for_update else ""
    share = max(1, (limit + 1) // 2)
    # Ordered, limited index scans (ix_jobs_lock, ix_jobs_due) rather than one query over both states,
    # which had to read and sort every due job to lock the first few (docs/BENCHMARKS.md, scale-out).
    found = list(s.run(
        "SELECT key, state, stalls, due_at, instance_key FROM jobs"
        f" WHERE state = 'locked' AND lock_expires_at < :now{type_clause}"
        f" ORDER BY lock_expires_at LIMIT :limit{lock_clause}",
        {**params, "limit": share},
    ).all())
    if len(found) < limit:
        found.extend(_ready(s, type_clause, params, lock_clause, limit - len(found)))
    # A job whose worker died again and again is claimed alone: if it is the one that kills workers, the jobs
    # that happened to share its batch must not stall with it until they become incidents too.
    repeat = [r for r in found if r.stalls + (1 if r.state == "locked" else 0) >= alone_after]
    if repeat:
        found = repeat[:1]
    if not found:
        return []
    keys = {f"k{i}": r.key for i, r in enumerate(found)}
    claimed = s.run(
        "UPDATE jobs SET stalls = stalls + (CASE WHEN state = 'locked' THEN 1 ELSE 0 END), state = 'locked',"
        " lock_owner = :owner, lock_expires_at = :expires, lock_version = lock_version + 1"
        " WHERE key IN (" + ", ".join(f":{k}" for k in keys) + ") RETURNING *",
        {"owner": owner, "expires": now + lease_ms, **keys},
    ).all()
    return sorted(claimed, key=lambda r: (r.due_at, r.key))


def _ready(s: Session, type_clause: str, params: dict[str, Any], lock_clause: str, limit: int) -> list[Any]:
    """Up to ``limit`` ready due jobs, oldest first, no instance taking more than half while others wait."""
    select_ready = (
        "SELECT key, state, stalls, due_at, instance_key FROM jobs WHERE state = 'ready' AND due_at <= :now"
        f"{type_clause}"
    )
    rows = list(s.run(f"{select_ready} ORDER BY due_at, key LIMIT :limit{lock_clause}",
                      {**params, "limit": limit}).all())
    share = max(1, (limit + 1) // 2)
    counts: dict[int, int] = {}
    for row in rows:
        counts[row.instance_key] = counts.get(row.instance_key, 0) + 1
    crowded = [instance for instance, count in counts.items() if count > share]
    if not crowded:
        return rows
    # One instance filled the batch: give the other instances' oldest due jobs their turn.
    excluded = {f"i{n}": instance for n, instance in enumerate(crowded)}
    others = s.run(
        f"{select_ready} AND instance_key NOT IN ({', '.join(f':{k}' for k in excluded)})"
        f" ORDER BY due_at, key LIMIT :limit{lock_clause}",
        {**params, **excluded, "limit": limit - share},
    ).all()
    if not others:
        return rows
    kept: list[Any] = []
    left: list[Any] = []
    taken = dict.fromkeys(crowded, 0)
    for row in rows:
        if row.instance_key in taken:
            if taken[row.instance_key] >= share:
                left.append(row)  # fills the batch only where the others leave room
                continue
            taken[row.instance_key] += 1
        kept.append(row)
    return (kept + list(others) + left)[:limit]
