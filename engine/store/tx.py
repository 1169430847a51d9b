"""Everything one transaction can read and write."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import Connection

from engine.runtime import InstanceState, InstanceStatus
from engine.runtime import messages as m
from engine.store.exceptions import ConcurrentUpdate, JobLockLost, JobNotFound, TaskNotOpen
from engine.store.rawsql import Result
from engine.store.schema import (
    definitions,
    deployment_resources,
    deployments,
    incidents,
    instances,
    jobs,
    journal,
    user_tasks,
)
from engine.store.tx_events import EventRows

if TYPE_CHECKING:
    from engine.store.sql import SqlStore


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _text(value: str) -> str:
    """Free text from outside (a handler's error message) as a column value.

    PostgreSQL text cannot hold NUL, which SQLite stores; JSON columns are
    safe, since ``json.dumps`` escapes control characters.
    """
    return value.replace("\x00", "\ufffd")


def _types_filter(types: Sequence[str] | None) -> tuple[str, dict[str, Any]]:
    """`` AND type IN (...)`` with its parameters, or nothing when every type is wanted."""
    if types is None:
        return "", {}
    params = {f"t{i}": t for i, t in enumerate(types)}
    return " AND type IN (" + ", ".join(f":{name}" for name in params) + ")", params


class Tx(EventRows):
    """A unit of work on one connection. It also serves the step as its source of keys."""

    def __init__(self, conn: Connection, store: SqlStore, reserved: list[bool]) -> None:
        self.conn = conn
        self._store = store
        self._reserved = reserved
        self._for_update = store.dialect == "postgresql"
        self._cursor: Any = None

    def _x(self, text: str, params: Any = None) -> Result:
        """Run hand-written SQL on the driver's cursor (see ``engine.store.rawsql``)."""
        if self._cursor is None:  # the transaction has begun (SqlStore.transaction): use its connection
            self._cursor = self.conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        sql = self._store.sql(text)
        if isinstance(params, list):
            self._cursor.executemany(sql, params)
        else:
            self._cursor.execute(sql, params or {})
        return Result(self._cursor)

    def close(self) -> None:
        """Release the driver cursor (``SqlStore`` calls this before the connection is returned to its pool)."""
        cursor, self._cursor = self._cursor, None
        if cursor is not None:
            cursor.close()

    def next_key(self) -> int:
        return self._store.keys.next_key(self.conn, self._reserved)

    # --- deployments and definitions ----------------------------------------------

    def insert_deployment(self, key: int, name: str, at: int) -> None:
        self.conn.execute(insert(deployments).values(key=key, name=name, created_at=at))

    def insert_deployment_resource(self, deployment_key: int, name: str, checksum: str, content: str, at: int) -> None:
        self.conn.execute(
            insert(deployment_resources).values(
                deployment_key=deployment_key, name=name, checksum=checksum, content=content, created_at=at
            )
        )

    def deployment_resource(self, deployment_key: int, name: str) -> str | None:
        return self.conn.execute(
            select(deployment_resources.c.content).where(
                deployment_resources.c.deployment_key == deployment_key, deployment_resources.c.name == name
            )
        ).scalar()

    def definition_deployment(self, definition_key: int) -> int | None:
        found = self.conn.execute(
            select(definitions.c.deployment_key).where(definitions.c.key == definition_key)
        ).scalar()
        return int(found) if found is not None else None

    def deployment_resource_names(self, deployment_key: int) -> list[str]:
        return list(
            self.conn.execute(
                select(deployment_resources.c.name)
                .where(deployment_resources.c.deployment_key == deployment_key)
                .order_by(deployment_resources.c.name)
            ).scalars()
        )

    def insert_definition(self, **values: Any) -> None:
        self.conn.execute(insert(definitions).values(**values))

    def deployment_rows(self, limit: int, after: int | None) -> Sequence[Any]:
        query = select(deployments).order_by(deployments.c.key).limit(limit)
        if after is not None:
            query = query.where(deployments.c.key > after)
        return self.conn.execute(query).all()

    def expose_definition(self, key: int) -> None:
        self.conn.execute(update(definitions).where(definitions.c.key == key).values(exposed=True))

    def latest_definition(self, process_id: str) -> Any:
        return self._x(
            "SELECT key, version, checksum, exposed FROM definitions WHERE process_id = :p"
            " ORDER BY version DESC LIMIT 1",
            {"p": process_id},
        ).first()

    def has_active_instance_started_by(self, process_id: str, start_key: str) -> bool:
        row = self._x(
            "SELECT 1 AS found FROM instances WHERE process_id = :p AND start_key = :k AND status = 'active' LIMIT 1",
            {"p": process_id, "k": start_key},
        ).first()
        return row is not None

    def definition_row(self, process_id: str, version: int | None = None) -> Any:
        """The deployed definition of a process at ``version``, or its latest; None when there is none."""
        if version is None:
            return self.latest_definition(process_id)
        return self._x(
            "SELECT key, version, checksum, exposed FROM definitions WHERE process_id = :p AND version = :v",
            {"p": process_id, "v": version},
        ).first()

    def definition_version(self, key: int) -> int:
        return int(self._x("SELECT version FROM definitions WHERE key = :k", {"k": key}).one().version)

    def definition_xml(self, key: int) -> Any:
        return self.conn.execute(
            select(
                definitions.c.key,
                definitions.c.process_id,
                definitions.c.version,
                definitions.c.xml,
                definitions.c.resource_name,
                definitions.c.deployment_key,
            ).where(definitions.c.key == key)
        ).first()

    def list_definitions(self, process_id: str | None = None) -> Sequence[Any]:
        query = select(
            definitions.c.key,
            definitions.c.process_id,
            definitions.c.version,
            definitions.c.name,
            definitions.c.resource_name,
            definitions.c.deployment_key,
            definitions.c.created_at,
            definitions.c.exposed,
        ).order_by(definitions.c.process_id, definitions.c.version)
        if process_id is not None:
            query = query.where(definitions.c.process_id == process_id)
        return self.conn.execute(query).all()

    # --- instances and journal -----------------------------------------------------------

    def load_instance(self, key: int, *, lock: bool = True) -> tuple[InstanceState, int] | None:
        """The instance's state and revision; on PostgreSQL the row stays locked until commit unless ``lock=False``.

        Read without the lock only to look, never to save: a reader that took
        row locks would queue behind writers and, holding job rows, could
        deadlock with a writer that holds the instance and cancels those jobs.
        """
        lock_clause = " FOR UPDATE" if self._for_update and lock else ""
        row = self._x(f"SELECT state, rev FROM instances WHERE key = :k{lock_clause}", {"k": key}).first()
        if row is None:
            return None
        return InstanceState.from_dict(json.loads(row.state)), int(row.rev)

    def save_instance(self, state: InstanceState, rev: int | None, now: int) -> None:
        ended = now if state.status != InstanceStatus.ACTIVE else None
        values = {
            "status": state.status.value,
            "incidents": len(state.incidents),
            "state": _dumps(state.to_dict()),
            "ended_at": ended,
        }
        if rev is None:
            self._x(
                "INSERT INTO instances (key, process_id, definition_key, version, status, incidents, parent_instance,"
                " created_at, ended_at, rev, state, start_key) VALUES (:key, :process_id, :definition_key, :version,"
                " :status, :incidents, :parent_instance, :created_at, :ended_at, 1, :state, :start_key)",
                {
                    "key": state.key,
                    "process_id": state.process_id,
                    "definition_key": state.definition_key,
                    "version": state.version,
                    "parent_instance": state.parent.instance if state.parent else None,
                    "start_key": state.start_key,
                    "created_at": now,
                    **values,
                },
            )
            return
        result = self._x(
            "UPDATE instances SET rev = :new_rev, status = :status, incidents = :incidents, state = :state,"
            " ended_at = :ended_at WHERE key = :key AND rev = :rev",
            {"key": state.key, "rev": rev, "new_rev": rev + 1, **values},
        )
        if result.rowcount != 1:
            raise ConcurrentUpdate(f"instance {state.key} was changed by another transaction")

    def append_journal(self, instance_key: int, events: Iterable[m.JournalEvent], at: int) -> None:
        rows = [
            {
                "instance_key": instance_key,
                "type": e.type,
                "element_id": e.element_id,
                "element_instance": e.element_instance,
                "data": _dumps(e.data) if e.data else None,
                "at": at,
            }
            for e in events
        ]
        if rows:
            self._x(
                "INSERT INTO journal (instance_key, type, element_id, element_instance, data, at)"
                " VALUES (:instance_key, :type, :element_id, :element_instance, :data, :at)",
                rows,
            )

    def instance_rows(
        self,
        *,
        status: str | None = None,
        process_id: str | None = None,
        incidents_only: bool = False,
        limit: int = 100,
        after: int | None = None,
    ) -> Sequence[Any]:
        query = select(instances).order_by(instances.c.key).limit(limit)
        if status is not None:
            query = query.where(instances.c.status == status)
        if incidents_only:
            query = query.where(instances.c.status == "active", instances.c.incidents > 0)
        if process_id is not None:
            query = query.where(instances.c.process_id == process_id)
        if after is not None:
            query = query.where(instances.c.key > after)
        return self.conn.execute(query).all()

    def journal_rows(self, instance_key: int, *, after: int = 0, limit: int = 1000) -> Sequence[Any]:
        return self.conn.execute(
            select(journal)
            .where(journal.c.instance_key == instance_key, journal.c.id > after)
            .order_by(journal.c.id)
            .limit(limit)
        ).all()

    # --- jobs --------------------------------------------------------------------------------

    def insert_job(
        self, effect: m.CreateJob, instance_key: int, process_id: str, now: int, lock: tuple[str, int] | None = None
    ) -> None:
        """A new job, ready for any worker, or with ``lock=(owner, expires_at)`` already locked by one."""
        self._x(
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
                "headers": _dumps(effect.headers),
                "created_at": now,
            },
        )

    def release_job(self, key: int, owner: str, lock_version: int) -> None:
        self.conn.execute(
            update(jobs)
            .where(
                jobs.c.key == key,
                jobs.c.state == "locked",
                jobs.c.lock_owner == owner,
                jobs.c.lock_version == lock_version,
            )
            .values(state="ready", lock_owner=None, lock_expires_at=None)
        )

    def complete_job_row(self, key: int) -> None:
        """Keep a completed job as a tombstone until its instance ends, so a late report from a worker whose
        lease expired is told it lost the job rather than that the job never existed."""
        self._x("UPDATE jobs SET state = 'completed', lock_expires_at = NULL WHERE key = :k", {"k": key})

    def delete_instance_jobs(self, instance_key: int) -> None:
        self._x("DELETE FROM jobs WHERE instance_key = :k", {"k": instance_key})

    def delete_job(self, key: int) -> None:
        self._x("DELETE FROM jobs WHERE key = :k", {"k": key})

    def retry_job(self, key: int, retries: int, now: int) -> None:
        self.conn.execute(
            update(jobs)
            .where(jobs.c.key == key)
            .values(state="ready", retries=retries, due_at=now, lock_owner=None, lock_expires_at=None, stalls=0)
        )

    def locked_job(self, key: int, owner: str | None, lock_version: int | None) -> Any:
        """The job row, checked against the caller's lease (fencing: an expired, re-claimed lease loses)."""
        lock_clause = " FOR UPDATE" if self._for_update else ""
        row = self._x(f"SELECT * FROM jobs WHERE key = :k{lock_clause}", {"k": key}).first()
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
                f"job {key} is no longer locked by worker '{owner}': its lease expired and it was "
                "given to another worker"
            )
        return row

    def fail_job(self, key: int, retries: int, due_at: int, message: str) -> None:
        self.conn.execute(
            update(jobs)
            .where(jobs.c.key == key)
            .values(
                state="ready" if retries > 0 else "failed",
                retries=retries,
                due_at=due_at,
                lock_owner=None,
                lock_expires_at=None,
                error_message=_text(message),
            )
        )

    def claim_jobs(
        self, types: Sequence[str] | None, owner: str, now: int, lease_ms: int, limit: int, *, alone_after: int = 1
    ) -> Sequence[Any]:
        """Lock up to ``limit`` due jobs (ready, or locked by a worker whose lease ran out) for ``owner``.

        Fair by construction: jobs whose worker died take at most half the batch, so fresh work keeps flowing
        during a recovery; and no instance takes more than half of the ready jobs while others have some due,
        so one multi-instance activity over thousands of items does not hold every slot until it is done.
        A job that stalled ``alone_after`` times or more is claimed alone (it may be what kills workers).
        """
        type_clause, params = _types_filter(types)
        params.update(now=now)
        lock_clause = " FOR UPDATE SKIP LOCKED" if self._for_update else ""
        share = max(1, (limit + 1) // 2)
        # Ordered, limited index scans (ix_jobs_lock, ix_jobs_due) rather than one query over both states,
        # which had to read and sort every due job to lock the first few (docs/BENCHMARKS.md, scale-out).
        found = list(self._x(
            "SELECT key, state, stalls, due_at, instance_key FROM jobs"
            f" WHERE state = 'locked' AND lock_expires_at < :now{type_clause}"
            f" ORDER BY lock_expires_at LIMIT :limit{lock_clause}",
            {**params, "limit": share},
        ).all())
        if len(found) < limit:
            found.extend(self._ready(type_clause, params, lock_clause, limit - len(found)))
        # A job whose worker died again and again is claimed alone: if it is the one that kills workers, the jobs
        # that happened to share its batch must not stall with it until they become incidents too.
        repeat = [r for r in found if r.stalls + (1 if r.state == "locked" else 0) >= alone_after]
        if repeat:
            found = repeat[:1]
        if not found:
            return []
        keys = {f"k{i}": r.key for i, r in enumerate(found)}
        claimed = self._x(
            "UPDATE jobs SET stalls = stalls + (CASE WHEN state = 'locked' THEN 1 ELSE 0 END), state = 'locked',"
            " lock_owner = :owner, lock_expires_at = :expires, lock_version = lock_version + 1"
            " WHERE key IN (" + ", ".join(f":{k}" for k in keys) + ") RETURNING *",
            {"owner": owner, "expires": now + lease_ms, **keys},
        ).all()
        return sorted(claimed, key=lambda r: (r.due_at, r.key))

    def _ready(self, type_clause: str, params: dict[str, Any], lock_clause: str, limit: int) -> list[Any]:
        """Up to ``limit`` ready due jobs, oldest first, no instance taking more than half while others wait."""
        select_ready = (
            "SELECT key, state, stalls, due_at, instance_key FROM jobs WHERE state = 'ready' AND due_at <= :now"
            f"{type_clause}"
        )
        rows = list(self._x(f"{select_ready} ORDER BY due_at, key LIMIT :limit{lock_clause}",
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
        others = self._x(
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

    def extend_lease(self, key: int, owner: str, lock_version: int, expires_at: int) -> bool:
        result = self.conn.execute(
            update(jobs)
            .where(
                jobs.c.key == key,
                jobs.c.state == "locked",
                jobs.c.lock_owner == owner,
                jobs.c.lock_version == lock_version,
            )
            .values(lock_expires_at=expires_at)
        )
        return result.rowcount == 1

    def job_row(self, key: int) -> Any:
        return self._x("SELECT key, type, instance_key, element_instance, state FROM jobs WHERE key = :k",
                       {"k": key}).first()

    def job_rows(self, instance_key: int) -> Sequence[Any]:
        return self._x(
            "SELECT key, type, element_id, state, retries, due_at, error_message FROM jobs"
            " WHERE instance_key = :i AND state != 'completed' ORDER BY key",
            {"i": instance_key},
        ).all()

    def ready_jobs(self, instance_keys: Sequence[int]) -> list[Any]:
        """The jobs of these instances that no worker holds now: what they wait on a worker for (ix_jobs_instance)."""
        found: list[Any] = []
        for start in range(0, len(instance_keys), 500):  # bounded IN lists, whatever the page size
            found.extend(
                self.conn.execute(
                    select(
                        jobs.c.key, jobs.c.instance_key, jobs.c.type, jobs.c.retries, jobs.c.due_at,
                        jobs.c.lock_version, jobs.c.error_message,
                    ).where(jobs.c.instance_key.in_(instance_keys[start : start + 500]), jobs.c.state == "ready")
                ).all()
            )
        return found

    def next_job_due(self, types: Sequence[str] | None) -> int | None:
        type_clause, params = _types_filter(types)
        # a locked job counts from the moment its lease runs out: its worker may have died, and then it is due
        # again (a live worker's heartbeat keeps pushing that moment on until the job is done)
        value = self._x(
            "SELECT MIN(CASE WHEN state = 'ready' THEN due_at ELSE lock_expires_at END) FROM jobs"
            f" WHERE state IN ('ready', 'locked'){type_clause}",
            params,
        ).scalar()
        return int(value) if value is not None else None

    def count_jobs(self, types: Sequence[str] | None = None, *, state: str | None = None) -> int:
        query = select(func.count()).select_from(jobs)
        if types is not None:
            query = query.where(jobs.c.type.in_(types))
        if state is not None:
            query = query.where(jobs.c.state == state)
        return int(self.conn.execute(query).scalar_one())

    # --- user tasks --------------------------------------------------------------------------

    def insert_user_task(self, effect: m.CreateUserTask, instance_key: int, process_id: str, now: int) -> None:
        self.conn.execute(
            insert(user_tasks).values(
                key=effect.key,
                instance_key=instance_key,
                element_instance=effect.element_instance,
                element_id=effect.element_id,
                process_id=process_id,
                name=effect.name,
                state="created",
                assignee=effect.assignee,
                candidate_groups=_dumps(effect.candidate_groups),
                candidate_users=_dumps(effect.candidate_users),
                due_date=effect.due_date,
                follow_up_date=effect.follow_up_date,
                form_key=effect.form_key,
                priority=effect.priority,
                details=_dumps(effect.details) if effect.details else None,
                created_at=now,
            )
        )

    def open_user_task(self, key: int) -> Any:
        query = select(user_tasks).where(user_tasks.c.key == key)
        if self._for_update:
            query = query.with_for_update()
        row = self.conn.execute(query).first()
        if row is None:
            raise TaskNotOpen(f"user task {key} does not exist")
        if row.state != "created":
            raise TaskNotOpen(f"user task {key} is {row.state}, no longer open")
        return row

    def end_user_task(self, key: int, state: str, now: int, variables: dict[str, Any] | None = None) -> None:
        self.conn.execute(
            update(user_tasks)
            .where(user_tasks.c.key == key, user_tasks.c.state == "created")
            .values(state=state, ended_at=now, variables=_dumps(variables) if variables is not None else None)
        )

    def assign_user_task(self, key: int, assignee: str | None) -> None:
        self.conn.execute(update(user_tasks).where(user_tasks.c.key == key).values(assignee=assignee))

    def user_task_rows(
        self,
        *,
        state: str | None = "created",
        instance_key: int | None = None,
        candidate_group: str | None = None,
        limit: int = 100,
        after: int | None = None,
    ) -> Sequence[Any]:
        query = select(user_tasks).order_by(user_tasks.c.key)
        if state is not None:
            query = query.where(user_tasks.c.state == state)
        if instance_key is not None:
            query = query.where(user_tasks.c.instance_key == instance_key)
        if after is not None:
            query = query.where(user_tasks.c.key > after)
        rows = self.conn.execute(query).all()
        if candidate_group is not None:
            rows = [r for r in rows if candidate_group in json.loads(r.candidate_groups)]
        return rows[:limit]

    def user_task(self, key: int) -> Any:
        return self.conn.execute(select(user_tasks).where(user_tasks.c.key == key)).first()

    # --- incidents -------------------------------------------------------------------------------

    def insert_incident(self, effect: m.CreateIncident, instance_key: int, process_id: str, now: int) -> None:
        self.conn.execute(
            insert(incidents).values(
                key=effect.key,
                instance_key=instance_key,
                element_instance=effect.element_instance,
                element_id=effect.element_id,
                process_id=process_id,
                type=effect.type,
                message=_text(effect.message),
                job_key=effect.job,
                state="open",
                created_at=now,
            )
        )

    def resolve_incident_row(self, key: int, now: int) -> None:
        self.conn.execute(
            update(incidents)
            .where(incidents.c.key == key, incidents.c.state == "open")
            .values(state="resolved", resolved_at=now)
        )

    def incident(self, key: int) -> Any:
        return self.conn.execute(select(incidents).where(incidents.c.key == key)).first()

    def incident_rows(
        self, *, state: str | None = "open", instance_key: int | None = None, limit: int = 100, after: int | None = None
    ) -> Sequence[Any]:
        query = select(incidents).order_by(incidents.c.key).limit(limit)
        if after is not None:
            query = query.where(incidents.c.key > after)
        if state is not None:
            query = query.where(incidents.c.state == state)
        if instance_key is not None:
            query = query.where(incidents.c.instance_key == instance_key)
        return self.conn.execute(query).all()
