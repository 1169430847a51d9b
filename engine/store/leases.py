"""The fencing rule of job leases, written once for every store."""

from __future__ import annotations

from typing import Any

from engine.store.exceptions import JobLockLost, JobNotFound


def check_lease(row: Any, key: int, owner: str | None, lock_version: int | None) -> None:
    """Raise unless ``row`` is an open job held under the caller's lease (no owner: any open job will do).

    One rule for both stores: a completed job reported by another worker is a lost lease, not a missing job.
    """
    if row is not None and row.state == "completed" and owner is not None and row.lock_owner != owner:
        raise JobLockLost(
            f"job {key} was completed by worker '{row.lock_owner}' after the lease of worker '{owner}' expired"
        )
    if row is None or row.state in ("failed", "completed"):
        raise JobNotFound(f"job {key} is not open (it was completed, canceled or failed)")
    if owner is not None and (
        row.state != "locked"
        or row.lock_owner != owner
        or (lock_version is not None and row.lock_version != lock_version)
    ):
        raise JobLockLost(
            f"job {key} is no longer locked by worker '{owner}': its lease expired and it was given to another worker"
        )
