"""Finding instances for people (the console): filters, newest first, keyset pages, and per-element counts.

``InstanceFilter`` is what a person can ask for; ``search_sql`` and
``search_memory`` answer it the same way on the two stores: newest first
(key descending), at most ``limit`` rows with a key below ``before``. Every
filter but the variable one is served by an index (``ix_instances_*``,
migration 0011), so a page costs the same at the first page and the
thousandth, at a million instances. The variable filter reads the root
scope's variables out of the state column, so it looks at the newest
``SCAN`` candidates the other filters leave and no more; ``scanned_to`` says
where it stopped, and the next search goes on below that key (rejected: a
variables table kept beside the state, which every step would have to write).

``element_tally_*`` feeds the heat map of one process version: for each
element, how many times it was entered, completed and terminated (the
journal's events, summed in SQL) and its open incidents. ``after`` asks only
for the journal rows past a position, so a caller that keeps the sums (the
console does) adds what is new instead of reading everything again.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, and_, func, literal_column, select, text

from engine.store.rows import IncidentRow, InstanceRow, JournalRow
from engine.store.schema import incidents, instances, journal

__all__ = [
    "SCAN", "VARIABLE_NAME", "ElementCount", "ElementTally", "InstanceFilter", "ProcessCount", "count_memory",
    "count_sql", "counts_memory", "counts_sql",
    "element_counts", "element_tally_memory", "element_tally_sql", "scanned_to_memory", "scanned_to_sql",
    "search_memory", "search_sql",
]

SCAN = 5000  # candidates a variable filter looks at per page: its cost per page is bounded, not its reach
VARIABLE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_ENTERED, _COMPLETED, _TERMINATED = "element_activated", "element_completed", "element_terminated"
_ELEMENT_EVENTS = (_ENTERED, _COMPLETED, _TERMINATED)


@dataclass(frozen=True, slots=True)
class InstanceFilter:
    """Times are epoch milliseconds, ``*_from`` inclusive and ``*_to`` exclusive; ``variable`` is a root-scope
    variable's name (``VARIABLE_NAME``) and the JSON value it must equal."""

    process_id: str | None = None
    version: int | None = None
    status: str | None = None  # active | completed | terminated
    incidents_only: bool = False
    variable: tuple[str, Any] | None = None
    created_from: int | None = None
    created_to: int | None = None
    ended_from: int | None = None
    ended_to: int | None = None
    parent: int | None = None  # the instances a call activity of this instance started
    started_by: str | None = None  # the instances this principal started

    def __post_init__(self) -> None:
        if self.variable is not None and not VARIABLE_NAME.match(self.variable[0]):
            raise ValueError(f"'{self.variable[0]}' is not a variable name (letters, digits and _)")


@dataclass(frozen=True, slots=True)
class ProcessCount:
    process_id: str
    version: int
    status: str
    count: int


@dataclass(frozen=True, slots=True)
class ElementTally:
    """One process version's element events in the journal up to position ``last`` (and after the ``after``
    asked for), as (element, event type, count); with the open incidents per element, counted now."""

    passed: tuple[tuple[str, str, int], ...]
    incidents: tuple[tuple[str, int], ...]
    last: int


@dataclass(frozen=True, slots=True)
class ElementCount:
    element_id: str
    entered: int = 0
    completed: int = 0
    terminated: int = 0
    incidents: int = 0

    @property
    def active(self) -> int:
        """Entered and not left yet (a loop's element counts once per pass)."""
        return max(0, self.entered - self.completed - self.terminated)


def _canonical(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _variable_clause(dialect: str, name: str, value: Any) -> Any:
    if dialect == "postgresql":
        return text(
            "EXISTS (SELECT 1 FROM jsonb_array_elements(CAST(instances.state AS jsonb) -> 'variables') AS v(scope)"
            " WHERE v.scope -> 0 = CAST(instances.state AS jsonb) -> 'root'"
            " AND v.scope -> 1 -> :var_name = CAST(:var_value AS jsonb))"
        ).bindparams(var_name=name, var_value=_canonical(value))
    return text(
        "EXISTS (SELECT 1 FROM json_each(instances.state, '$.variables') AS v"
        " WHERE json_extract(v.value, '$[0]') = json_extract(instances.state, '$.root')"
        " AND (v.value -> :var_path) = :var_value)"
    ).bindparams(var_path=f"$[1].{name}", var_value=_canonical(value))


def _indexed(query: Any, where: InstanceFilter, before: int | None) -> Any:
    """The filters an index serves, with the keyset bound."""
    c = instances.c
    if where.process_id is not None:
        query = query.where(c.process_id == where.process_id)
    if where.version is not None:
        query = query.where(c.version == where.version)
    if where.incidents_only:
        query = query.where(c.status == "active", c.incidents > 0)
    elif where.status is not None:
        query = query.where(c.status == where.status)
    if where.parent is not None:
        query = query.where(c.parent_instance == where.parent)
    if where.started_by is not None:
        query = query.where(c.started_by == where.started_by)
    if before is not None:
        query = query.where(c.key < before)
    return query


def _dated(query: Any, where: InstanceFilter) -> Any:
    c = instances.c
    if where.created_from is not None:
        query = query.where(c.created_at >= where.created_from)
    if where.created_to is not None:
        query = query.where(c.created_at < where.created_to)
    if where.ended_from is not None:
        query = query.where(c.ended_at >= where.ended_from)
    if where.ended_to is not None:
        query = query.where(c.ended_at < where.ended_to)
    return query


def _newest_first(query: Any, where: InstanceFilter) -> Any:
    """``ORDER BY key DESC``; with a parent or a date range ``ORDER BY +key DESC``, which SQLite cannot read
    from the primary key, so it takes the parent's or the date's index and sorts what that finds. Otherwise its
    planner walks the whole table in key order (nearly no row has a parent, and it cannot see how narrow a date
    range is). PostgreSQL plans the same either way."""
    narrow = where.parent is not None or any(
        t is not None for t in (where.created_from, where.created_to, where.ended_from, where.ended_to))
    return query.order_by(literal_column("+instances.key").desc() if narrow else instances.c.key.desc())


def search_sql(conn: Connection, where: InstanceFilter, *, limit: int, before: int | None) -> Sequence[Any]:
    """A page of ``where``; with a variable filter, looked for among the newest ``SCAN`` candidates only (the
    page then says where its search stopped: ``scanned_to``)."""
    c = instances.c
    keys = _newest_first(_dated(_indexed(select(c.key), where, before), where), where)
    keys = keys.limit(limit if where.variable is None else SCAN)
    query = select(instances).where(c.key.in_(keys.scalar_subquery())).order_by(c.key.desc()).limit(limit)
    if where.variable is not None:
        query = query.where(_variable_clause(conn.dialect.name, *where.variable))
    return conn.execute(query).all()


def count_sql(conn: Connection, where: InstanceFilter) -> int:
    """How many instances match ``where`` (its indexed filters; a variable filter is refused: that one scans)."""
    if where.variable is not None:
        raise ValueError("a count cannot take a variable filter")
    c = instances.c
    return int(conn.execute(_dated(_indexed(select(func.count(c.key)), where, None), where)).scalar_one())


def scanned_to_sql(conn: Connection, where: InstanceFilter, *, before: int | None) -> int | None:
    """Where a variable search of ``SCAN`` candidates below ``before`` stopped: the key to search below next,
    or None when no candidate lies beyond the ones it looked at."""
    c = instances.c
    keys = _newest_first(_dated(_indexed(select(c.key), where, before), where), where).offset(SCAN - 1).limit(2)
    found = conn.execute(keys).all()
    return int(found[0][0]) if len(found) == 2 else None  # the last candidate looked at, when more lie below


def _root_variables(row: InstanceRow) -> dict[str, Any]:
    state = json.loads(row.state)
    return next((v for k, v in state["variables"] if k == state["root"]), {})


def _matches(row: InstanceRow, where: InstanceFilter) -> bool:
    checks = (
        where.process_id is None or row.process_id == where.process_id,
        where.version is None or row.version == where.version,
        (row.status == "active" and row.incidents > 0) if where.incidents_only
        else where.status is None or row.status == where.status,
        where.created_from is None or row.created_at >= where.created_from,
        where.created_to is None or row.created_at < where.created_to,
        where.ended_from is None or (row.ended_at is not None and row.ended_at >= where.ended_from),
        where.ended_to is None or (row.ended_at is not None and row.ended_at < where.ended_to),
        where.parent is None or row.parent_instance == where.parent,
        where.started_by is None or row.started_by == where.started_by,
    )
    if not all(checks):
        return False
    if where.variable is None:
        return True
    name, value = where.variable
    found = _root_variables(row)
    return name in found and _canonical(found[name]) == _canonical(value)


def _candidates(rows: Iterable[InstanceRow], where: InstanceFilter, before: int | None) -> list[InstanceRow]:
    """Every filter but the variable one, newest first (the SQL store's candidates)."""
    plain = dataclasses.replace(where, variable=None)
    found = [r for r in rows if (before is None or r.key < before) and _matches(r, plain)]
    return sorted(found, key=lambda r: r.key, reverse=True)


def search_memory(
    rows: Iterable[InstanceRow], where: InstanceFilter, *, limit: int, before: int | None
) -> list[InstanceRow]:
    found = _candidates(rows, where, before)
    if where.variable is not None:
        found = [r for r in found[:SCAN] if _matches(r, where)]
    return found[:limit]


def count_memory(rows: Iterable[InstanceRow], where: InstanceFilter) -> int:
    if where.variable is not None:
        raise ValueError("a count cannot take a variable filter")
    return sum(1 for row in rows if _matches(row, where))


def scanned_to_memory(rows: Iterable[InstanceRow], where: InstanceFilter, *, before: int | None) -> int | None:
    found = _candidates(rows, where, before)
    return found[SCAN - 1].key if len(found) > SCAN else None


def counts_sql(conn: Connection) -> list[ProcessCount]:
    """Instances per process version and status (an index-only scan), with ``incident`` for active instances
    with open incidents (from their own partial index)."""
    c = instances.c
    totals = conn.execute(
        select(c.process_id, c.version, c.status, func.count()).group_by(c.process_id, c.version, c.status)
    ).all()
    open_incidents = conn.execute(  # ix_instances_incident, a partial index of just these
        select(c.process_id, c.version, func.count())
        .where(c.status == "active", c.incidents > 0)
        .group_by(c.process_id, c.version)
    ).all()
    return [ProcessCount(p, int(v), s, int(n)) for p, v, s, n in totals] + [
        ProcessCount(p, int(v), "incident", int(n)) for p, v, n in open_incidents
    ]


def counts_memory(rows: Iterable[InstanceRow]) -> list[ProcessCount]:
    totals: dict[tuple[str, int, str], int] = {}
    for r in rows:
        totals[(r.process_id, r.version, r.status)] = totals.get((r.process_id, r.version, r.status), 0) + 1
        if r.status == "active" and r.incidents > 0:
            totals[(r.process_id, r.version, "incident")] = totals.get((r.process_id, r.version, "incident"), 0) + 1
    return [ProcessCount(p, v, s, n) for (p, v, s), n in sorted(totals.items())]


def element_tally_sql(conn: Connection, process_id: str, version: int, after: int = 0) -> ElementTally:
    c, j = instances.c, journal.c
    of_version = and_(c.process_id == process_id, c.version == version)
    last = int(conn.execute(select(func.coalesce(func.max(j.id), 0))).scalar_one())
    query = select(j.element_id, j.type, func.count()).where(of_version, j.type.in_(_ELEMENT_EVENTS))
    if after == 0:  # everything: from the version's instances to their journal rows (index only)
        # +id: a bound SQLite cannot serve from the primary key, or it would walk the whole journal by it
        query = query.select_from(instances.join(journal, j.instance_key == c.key)).where(
            literal_column("+journal.id") <= last)
    else:  # what was added since: from the newest journal rows to their instances
        query = query.select_from(journal.join(instances, j.instance_key == c.key)).where(j.id > after, j.id <= last)
    query = query.group_by(j.element_id, j.type)
    passed = conn.execute(query).all()
    failing = conn.execute(
        select(incidents.c.element_id, func.count())
        .select_from(incidents.join(instances, incidents.c.instance_key == c.key))
        .where(of_version, incidents.c.state == "open")
        .group_by(incidents.c.element_id)
    ).all()
    return ElementTally(
        passed=tuple((str(e), str(t), int(n)) for e, t, n in passed if e),
        incidents=tuple((str(e), int(n)) for e, n in failing),
        last=last,
    )


def element_tally_memory(
    instance_rows: Iterable[InstanceRow], journal_rows: Iterable[JournalRow], incident_rows: Iterable[IncidentRow],
    process_id: str, version: int, after: int = 0,
) -> ElementTally:
    keys = {r.key for r in instance_rows if r.process_id == process_id and r.version == version}
    passed: dict[tuple[str, str], int] = {}
    last = 0
    for e in journal_rows:
        last = max(last, e.id)
        if e.id > after and e.instance_key in keys and e.element_id and e.type in _ELEMENT_EVENTS:
            passed[(e.element_id, e.type)] = passed.get((e.element_id, e.type), 0) + 1
    failing: dict[str, int] = {}
    for i in incident_rows:
        if i.instance_key in keys and i.state == "open":
            failing[i.element_id] = failing.get(i.element_id, 0) + 1
    return ElementTally(
        passed=tuple((e, t, n) for (e, t), n in sorted(passed.items())),
        incidents=tuple(sorted(failing.items())),
        last=max(last, after),
    )


def element_counts(passed: Iterable[tuple[str, str, int]], failing: Iterable[tuple[str, int]]) -> list[ElementCount]:
    """Per element: the journal's element events summed by type, and the open incidents."""
    found: dict[str, dict[str, int]] = {}
    field = {_ENTERED: "entered", _COMPLETED: "completed", _TERMINATED: "terminated"}
    for element, kind, n in passed:
        counts = found.setdefault(element, {})
        counts[field[kind]] = counts.get(field[kind], 0) + n
    for element, n in failing:
        found.setdefault(element, {})["incidents"] = n
    return [ElementCount(element, **values) for element, values in sorted(found.items())]
