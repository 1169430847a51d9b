"""The SQL rows of process instances (state and revision), their journal, and agents' conversations."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import insert, select

from engine.runtime import InstanceState, InstanceStatus
from engine.runtime import messages as m
from engine.store.columns import dumps, element_needle
from engine.store.event_log import (
    LogFilter,
    LoggedInstanceRow,
    journal_heads_sql,
    journal_of_sql,
    log_instances_sql,
)
from engine.store.exceptions import ConcurrentUpdate
from engine.store.instance_search import (
    ElementTally,
    InstanceFilter,
    ProcessCount,
    count_sql,
    counts_sql,
    element_tally_sql,
    scanned_to_sql,
    search_sql,
)
from engine.store.rawsql import Session
from engine.store.schema import conversations, instances, journal


class SqlInstances:
    def __init__(self, session: Session) -> None:
        self._s = session

    def load(self, key: int, *, lock: bool = True) -> tuple[InstanceState, int] | None:
        """On PostgreSQL the row stays locked until commit unless ``lock=False``.

        Read without the lock only to look, never to save: a reader that took
        row locks would queue behind writers and, holding job rows, could
        deadlock with a writer that holds the instance and cancels those jobs.
        """
        lock_clause = " FOR UPDATE" if self._s.for_update and lock else ""
        row = self._s.run(f"SELECT state, rev FROM instances WHERE key = :k{lock_clause}", {"k": key}).first()
        if row is None:
            return None
        return InstanceState.from_dict(json.loads(row.state)), int(row.rev)

    def save(self, state: InstanceState, rev: int | None, now: int) -> None:
        ended = now if state.status != InstanceStatus.ACTIVE else None
        values = {
            "status": state.status.value,
            "incidents": len(state.incidents),
            "state": dumps(state.to_dict()),
            "ended_at": ended,
        }
        if rev is None:
            self._s.run(
                "INSERT INTO instances (key, process_id, definition_key, version, status, incidents, parent_instance,"
                " created_at, ended_at, rev, state, start_key, started_by) VALUES (:key, :process_id, :definition_key,"
                " :version, :status, :incidents, :parent_instance, :created_at, :ended_at, 1, :state, :start_key,"
                " :started_by)",
                {
                    "key": state.key,
                    "process_id": state.process_id,
                    "definition_key": state.definition_key,
                    "version": state.version,
                    "parent_instance": state.parent.instance if state.parent else None,
                    "start_key": state.start_key,
                    "started_by": state.started_by,
                    "created_at": now,
                    **values,
                },
            )
            return
        result = self._s.run(
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
                "data": dumps(e.data) if e.data else None,
                "at": at,
            }
            for e in events
        ]
        if rows:
            self._s.run(
                "INSERT INTO journal (instance_key, type, element_id, element_instance, data, at)"
                " VALUES (:instance_key, :type, :element_id, :element_instance, :data, :at)",
                rows,
            )

    def rows(
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
        return self._s.conn.execute(query).all()

    def journal(self, instance_key: int, *, after: int = 0, limit: int = 1000) -> Sequence[Any]:
        return self._s.conn.execute(
            select(journal)
            .where(journal.c.instance_key == instance_key, journal.c.id > after)
            .order_by(journal.c.id)
            .limit(limit)
        ).all()

    def search(self, where: InstanceFilter, *, limit: int, before: int | None = None) -> Sequence[Any]:
        return search_sql(self._s.conn, where, limit=limit, before=before)

    def scanned_to(self, where: InstanceFilter, *, before: int | None = None) -> int | None:
        return scanned_to_sql(self._s.conn, where, before=before)

    def count(self, where: InstanceFilter) -> int:
        return count_sql(self._s.conn, where)

    def counts(self) -> Sequence[ProcessCount]:
        return counts_sql(self._s.conn)

    def element_tally(self, process_id: str, version: int, *, after: int = 0) -> ElementTally:
        return element_tally_sql(self._s.conn, process_id, version, after)

    def log_instances(self, where: LogFilter, *, after: int | None, limit: int) -> Sequence[LoggedInstanceRow]:
        return log_instances_sql(self._s.conn, where, after=after, limit=limit)

    def journal_of(self, keys: Sequence[int], *, after: tuple[int, int] | None, limit: int) -> Sequence[Any]:
        return journal_of_sql(self._s.conn, keys, after=after, limit=limit)

    def journal_heads(self, keys: Sequence[int]) -> dict[int, int]:
        return journal_heads_sql(self._s.conn, keys)

    def holding(self, element_instance: int) -> Sequence[int]:
        rows = self._s.run(
            "SELECT key FROM instances WHERE status = 'active' AND state LIKE :needle ORDER BY key DESC",
            {"needle": f"%{element_needle(element_instance)}%"},
        ).all()
        return [int(r.key) for r in rows]

    def has_active_started_by(self, process_id: str, start_key: str) -> bool:
        row = self._s.run(
            "SELECT 1 AS found FROM instances WHERE process_id = :p AND start_key = :k AND status = 'active' LIMIT 1",
            {"p": process_id, "k": start_key},
        ).first()
        return row is not None


class SqlConversations:
    def __init__(self, session: Session) -> None:
        self._s = session

    def append(self, owner: int, instance_key: int, first: int, items: Sequence[Any], at: int) -> None:
        if items:
            self._s.conn.execute(insert(conversations), [
                {"owner": owner, "seq": first + i, "instance_key": instance_key,
                 "message": json.dumps(item, separators=(",", ":")), "at": at}
                for i, item in enumerate(items)
            ])

    def read(self, owner: int, *, after: int = -1, limit: int | None = None) -> list[Any]:
        query = select(conversations.c.seq, conversations.c.message).where(
            conversations.c.owner == owner, conversations.c.seq > after).order_by(conversations.c.seq)
        if limit is not None:
            query = query.limit(limit)
        return [json.loads(row.message) for row in self._s.conn.execute(query)]
