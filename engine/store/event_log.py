"""The event log's reads: instances oldest first in keyset pages, and their journal rows in (instance, position) pages.

An export or a mining run reads every step of a set of instances, which may
be millions of journal rows: it never reads them at once. ``LogFilter`` says
which instances (a process, a version, a start-time range); a page of them is
one indexed query (``ix_instances_process``, ``ix_instances_created``) with a
``LIMIT`` above the last key seen, and it leaves out the state column, which
an event log does not need. Their journal comes in pages ordered by
(instance, position) and bounded by the last pair seen, served by
``ix_journal_instance`` (rejected: one ``ORDER BY id`` pass over the whole
journal, which interleaves instances, so a reader would have to hold every
open trace in memory to write them one after another).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, and_, func, or_, select

from engine.store.rows import InstanceRow, JournalRow
from engine.store.schema import instances, journal

HEADS_PAGE = 500  # keys per query: well under the bound parameters any backend takes

__all__ = [
    "LogFilter", "LoggedInstanceRow", "journal_of_memory", "journal_of_sql", "log_instances_memory",
    "log_instances_sql",
]


@dataclass(frozen=True, slots=True)
class LogFilter:
    """Which instances an event log holds: times are epoch milliseconds of the start, ``started_from`` inclusive
    and ``started_to`` exclusive; None means any."""

    process_id: str | None = None
    version: int | None = None
    started_from: int | None = None
    started_to: int | None = None


@dataclass(frozen=True, slots=True)
class LoggedInstanceRow:
    """An instance as an event log needs it: no state."""

    key: int
    process_id: str
    version: int
    status: str
    incidents: int
    parent_instance: int | None
    created_at: int
    ended_at: int | None


_COLUMNS = ("key", "process_id", "version", "status", "incidents", "parent_instance", "created_at", "ended_at")


def log_instances_sql(conn: Connection, where: LogFilter, *, after: int | None, limit: int) -> list[LoggedInstanceRow]:
    c = instances.c
    query = select(*(c[name] for name in _COLUMNS)).order_by(c.key).limit(limit)
    if where.process_id is not None:
        query = query.where(c.process_id == where.process_id)
    if where.version is not None:
        query = query.where(c.version == where.version)
    if where.started_from is not None:
        query = query.where(c.created_at >= where.started_from)
    if where.started_to is not None:
        query = query.where(c.created_at < where.started_to)
    if after is not None:
        query = query.where(c.key > after)
    return [_logged(row) for row in conn.execute(query)]


def journal_heads_sql(conn: Connection, keys: Sequence[int]) -> dict[int, int]:
    """The last journal position of each instance of ``keys`` that has one: one query on ``ix_journal_instance``,
    a page of ``HEADS_PAGE`` keys at a time."""
    heads: dict[int, int] = {}
    unique = sorted(set(keys))
    for start in range(0, len(unique), HEADS_PAGE):
        page = unique[start:start + HEADS_PAGE]
        query = (select(journal.c.instance_key, func.max(journal.c.id))
                 .where(journal.c.instance_key.in_(page)).group_by(journal.c.instance_key))
        heads.update({int(key): int(head) for key, head in conn.execute(query)})
    return heads


def journal_of_sql(
    conn: Connection, keys: Sequence[int], *, after: tuple[int, int] | None, limit: int
) -> Sequence[Any]:
    """The journal rows of the instances ``keys`` in (instance, position) order, past the pair ``after``."""
    if not keys:
        return []
    j = journal.c
    query = select(journal).where(j.instance_key.in_(list(keys))).order_by(j.instance_key, j.id).limit(limit)
    if after is not None:
        query = query.where(or_(j.instance_key > after[0], and_(j.instance_key == after[0], j.id > after[1])))
    return conn.execute(query).all()


def log_instances_memory(
    rows: Iterable[InstanceRow], where: LogFilter, *, after: int | None, limit: int
) -> list[LoggedInstanceRow]:
    found = [
        r for r in rows
        if (where.process_id is None or r.process_id == where.process_id)
        and (where.version is None or r.version == where.version)
        and (where.started_from is None or r.created_at >= where.started_from)
        and (where.started_to is None or r.created_at < where.started_to)
        and (after is None or r.key > after)
    ]
    return [_logged(r) for r in sorted(found, key=lambda r: r.key)[:limit]]


def journal_of_memory(
    rows: Iterable[JournalRow], keys: Sequence[int], *, after: tuple[int, int] | None, limit: int
) -> list[JournalRow]:
    wanted = set(keys)
    found = [r for r in rows if r.instance_key in wanted and (after is None or (r.instance_key, r.id) > after)]
    return sorted(found, key=lambda r: (r.instance_key, r.id))[:limit]


def _logged(row: Any) -> LoggedInstanceRow:
    return LoggedInstanceRow(
        key=int(row.key), process_id=str(row.process_id), version=int(row.version), status=str(row.status),
        incidents=int(row.incidents or 0),
        parent_instance=None if row.parent_instance is None else int(row.parent_instance),
        created_at=int(row.created_at), ended_at=None if row.ended_at is None else int(row.ended_at),
    )
