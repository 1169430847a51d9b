"""The SQL rows of jobs: created by the step, claimed by workers under leases, completed or failed."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import case, func, select, update

from engine.runtime import messages as m
from engine.store.columns import dumps, free_text
from engine.store.leases import check_lease
from engine.store.rawsql import Session, types_filter
from engine.store.schema import jobs
from engine.store.tx_claim import claim_jobs


class SqlJobs:
    def __init__(self, session: Session) -> None:
        self._s = session

    def insert(
        self, effect: m.CreateJob, instance_key: int, process_id: str, now: int, lock: tuple[str, int] | None = None
    ) -> None:
        """A new job, ready for any worker, or with ``lock=(owner, expires_at)`` already locked by one."""
        self._s.run(
            "INSERT INTO jobs (key, instance_key, element_instance, element_id, process_id, type, state, lock_owner,"
            " lock_expires_at, retries, due_at, lock_version, stalls, headers, created_at) VALUES (:key,"
            " :instance_key, :element_instance, :element_id, :process_id, :type, :state, :lock_owner,"
            " :lock_expires_at, :retries, :due_at, :lock_version, 0, :headers, :created_at)",
            {
                "key": effect.key,
                "instance_key": instance_key,
                "element_instance": effect.element_instance,
                "element_id": effect.element_id,
                "process_id": process_id,
                "type": effect.type,
                "state": "ready" if lock is None else "locked",
                "lock_owner": None if lock is None else lock[0],
                "lock_expires_at": None if lock is None else lock[1],
                "retries": effect.retries,
                "due_at": now,
                "lock_version": 0 if lock is None else 1,
                "headers": dumps(effect.headers),
                "created_at": now,
            },
        )

    def release(self, key: int, owner: str, lock_version: int) -> None:
        self._s.conn.execute(
            update(jobs)
            .where(jobs.c.key == key, jobs.c.state == "locked", jobs.c.lock_owner == owner,
                   jobs.c.lock_version == lock_version)
            .values(state="ready", lock_owner=None, lock_expires_at=None, wait_reason=None)
        )

    def complete(self, key: int) -> None:
        """Keep a completed job as a tombstone until its instance ends, so a late report from a worker whose
        lease expired is told it lost the job rather than that the job never existed."""
        self._s.run("UPDATE jobs SET state = 'completed', lock_expires_at = NULL WHERE key = :k", {"k": key})

    def delete_of_instance(self, instance_key: int) -> None:
        self._s.run("DELETE FROM jobs WHERE instance_key = :k", {"k": instance_key})

    def delete(self, key: int) -> None:
        self._s.run("DELETE FROM jobs WHERE key = :k", {"k": key})

    def retry(self, key: int, retries: int, now: int) -> None:
        self._s.conn.execute(
            update(jobs)
            .where(jobs.c.key == key)
            .values(state="ready", retries=retries, due_at=now, lock_owner=None, lock_expires_at=None, stalls=0,
                    wait_reason=None, failures=0)
        )

    def wait(self, key: int, due_at: int, reason: str) -> None:
        """The job waits on work elsewhere (``WaitRemote``): no lease, due again at ``due_at``, stalls reset."""
        self._s.conn.execute(
            update(jobs)
            .where(jobs.c.key == key)
            .values(state="ready", due_at=due_at, lock_owner=None, lock_expires_at=None, stalls=0,
                    wait_reason=free_text(reason))
        )

    def wake(self, key: int, now: int) -> bool:
        """A waiting job due at ``now`` (if it is later): whether the job is waiting at all."""
        result = self._s.conn.execute(
            update(jobs)
            .where(jobs.c.key == key, jobs.c.state == "ready", jobs.c.wait_reason.is_not(None))
            .values(due_at=case((jobs.c.due_at > now, now), else_=jobs.c.due_at))
        )
        return result.rowcount == 1

    def locked(self, key: int, owner: str | None, lock_version: int | None) -> Any:
        """The job row, checked against the caller's lease (fencing: an expired, re-claimed lease loses)."""
        lock_clause = " FOR UPDATE" if self._s.for_update else ""
        row = self._s.run(f"SELECT * FROM jobs WHERE key = :k{lock_clause}", {"k": key}).first()
        check_lease(row, key, owner, lock_version)
        return row

    def fail(self, key: int, retries: int, due_at: int, message: str) -> None:
        self._s.conn.execute(
            update(jobs)
            .where(jobs.c.key == key)
            .values(state="ready" if retries > 0 else "failed", retries=retries, due_at=due_at, lock_owner=None,
                    lock_expires_at=None, error_message=free_text(message), wait_reason=None,
                    failures=jobs.c.failures + 1)
        )

    def claim(
        self, types: Sequence[str] | None, owner: str, now: int, lease_ms: int, limit: int, *, alone_after: int = 1
    ) -> Sequence[Any]:
        return claim_jobs(self._s, types, owner, now, lease_ms, limit, alone_after=alone_after)

    def extend_lease(self, key: int, owner: str, lock_version: int, expires_at: int) -> bool:
        result = self._s.conn.execute(
            update(jobs)
            .where(jobs.c.key == key, jobs.c.state == "locked", jobs.c.lock_owner == owner,
                   jobs.c.lock_version == lock_version)
            .values(lock_expires_at=expires_at)
        )
        return result.rowcount == 1

    def get(self, key: int) -> Any:
        return self._s.run("SELECT * FROM jobs WHERE key = :k", {"k": key}).first()

    def of_instance(self, instance_key: int) -> Sequence[Any]:
        return self._s.run(
            "SELECT * FROM jobs WHERE instance_key = :i AND state != 'completed' ORDER BY key", {"i": instance_key}
        ).all()

    def ready(self, instance_keys: Sequence[int]) -> list[Any]:
        """The jobs of these instances that no worker holds now: what they wait on a worker for (ix_jobs_instance)."""
        if len(instance_keys) == 1:  # every start and every command answers with its instance: the hot case
            return self._s.run(
                "SELECT * FROM jobs WHERE instance_key = :i AND state = 'ready'", {"i": instance_keys[0]}
            ).all()
        found: list[Any] = []
        for start in range(0, len(instance_keys), 500):  # bounded IN lists, whatever the page size
            params = {f"i{n}": key for n, key in enumerate(instance_keys[start : start + 500])}
            found.extend(
                self._s.run(
                    "SELECT * FROM jobs WHERE state = 'ready' AND instance_key IN ("
                    + ", ".join(f":{name}" for name in params) + ")",
                    params,
                ).all()
            )
        return found

    def next_due(self, types: Sequence[str] | None) -> int | None:
        type_clause, params = types_filter(types)
        # a locked job counts from the moment its lease runs out: its worker may have died, and then it is due
        # again (a live worker's heartbeat keeps pushing that moment on until the job is done)
        value = self._s.run(
            "SELECT MIN(CASE WHEN state = 'ready' THEN due_at ELSE lock_expires_at END) FROM jobs"
            f" WHERE state IN ('ready', 'locked'){type_clause}",
            params,
        ).scalar()
        return int(value) if value is not None else None

    def count(self, types: Sequence[str] | None = None, *, state: str | None = None) -> int:
        query = select(func.count()).select_from(jobs)
        if types is not None:
            query = query.where(jobs.c.type.in_(types))
        if state is not None:
            query = query.where(jobs.c.state == state)
        return int(self._s.conn.execute(query).scalar_one())

