"""The in-memory store's definitions, instances with their journal, user tasks, incidents and conversations.

Each class reads and writes one transaction's copy of the tables
(``engine.store.memory.Tables``) and mirrors what its SQL counterpart
(``engine.store.tx_*``) does: same filters, same order, same limits.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Sequence
from typing import Any

from engine.runtime import InstanceState, InstanceStatus
from engine.runtime import messages as m
from engine.store.columns import dumps, element_needle, free_text
from engine.store.event_log import LogFilter, LoggedInstanceRow, journal_of_memory, log_instances_memory
from engine.store.exceptions import ConcurrentUpdate, TaskMissing, TaskNotOpen
from engine.store.instance_search import (
    ElementTally,
    InstanceFilter,
    ProcessCount,
    count_memory,
    counts_memory,
    element_tally_memory,
    scanned_to_memory,
    search_memory,
)
from engine.store.memory_tables import Tables
from engine.store.rows import (
    DefinitionRow,
    DefinitionSource,
    DeploymentRow,
    IncidentRow,
    InstanceRow,
    JournalRow,
    UserTaskRow,
)
from engine.store.task_order import TaskOrder, page_of


class MemoryDefinitions:
    def __init__(self, tables: Tables) -> None:
        self._t = tables

    def insert_deployment(self, key: int, name: str, at: int) -> None:
        self._t.deployments[key] = DeploymentRow(key, name, at)

    def insert_resource(self, deployment_key: int, name: str, checksum: str, content: str, at: int) -> None:
        self._t.resources[(deployment_key, name)] = content

    def resource(self, deployment_key: int, name: str) -> str | None:
        return self._t.resources.get((deployment_key, name))

    def deployment_of(self, definition_key: int) -> int | None:
        row = self._t.definitions.get(definition_key)
        return row.deployment_key if row is not None else None

    def deployments(self, limit: int, after: int | None) -> Sequence[DeploymentRow]:
        rows = sorted(self._t.deployments.values(), key=lambda r: r.key)
        return [r for r in rows if after is None or r.key > after][:limit]

    def insert(self, row: DefinitionRow, xml: str) -> None:
        self._t.definitions[row.key] = row
        self._t.xml[row.key] = xml

    def expose(self, key: int) -> None:
        self._t.definitions[key] = dataclasses.replace(self._t.definitions[key], exposed=True)

    def latest(self, process_id: str) -> DefinitionRow | None:
        rows = self.versions(process_id)
        return rows[-1] if rows else None

    def find(self, process_id: str, version: int | None = None) -> DefinitionRow | None:
        if version is None:
            return self.latest(process_id)
        return next((r for r in self.versions(process_id) if r.version == version), None)

    def version_of(self, key: int) -> int:
        return self._t.definitions[key].version

    def source(self, key: int) -> DefinitionSource | None:
        row = self._t.definitions.get(key)
        if row is None:
            return None
        return DefinitionSource(row.key, row.process_id, row.version, self._t.xml[key], row.resource_name,
                                row.deployment_key)

    def versions(self, process_id: str | None = None) -> Sequence[DefinitionRow]:
        rows = [r for r in self._t.definitions.values() if process_id is None or r.process_id == process_id]
        return sorted(rows, key=lambda r: (r.process_id, r.version))


class MemoryInstances:
    def __init__(self, tables: Tables) -> None:
        self._t = tables

    def load(self, key: int, *, lock: bool = True) -> tuple[InstanceState, int] | None:
        row = self._t.instances.get(key)
        if row is None:
            return None
        return InstanceState.from_dict(json.loads(row.state)), row.rev

    def save(self, state: InstanceState, rev: int | None, now: int) -> None:
        ended = now if state.status != InstanceStatus.ACTIVE else None
        text = dumps(state.to_dict())
        old = self._t.instances.get(state.key)
        if rev is None:
            if old is not None:
                raise ConcurrentUpdate(f"instance {state.key} exists already")
            self._t.instances[state.key] = InstanceRow(
                key=state.key, process_id=state.process_id, definition_key=state.definition_key,
                version=state.version, status=state.status.value, incidents=len(state.incidents),
                parent_instance=state.parent.instance if state.parent else None, created_at=now, ended_at=ended,
                rev=1, start_key=state.start_key, state=text, started_by=state.started_by,
            )
            return
        if old is None or old.rev != rev:
            raise ConcurrentUpdate(f"instance {state.key} was changed by another transaction")
        self._t.instances[state.key] = dataclasses.replace(
            old, rev=rev + 1, status=state.status.value, incidents=len(state.incidents), state=text, ended_at=ended
        )

    def append_journal(self, instance_key: int, events: Iterable[m.JournalEvent], at: int) -> None:
        for e in events:
            position = self._t.counters["journal"] + 1
            self._t.counters["journal"] = position
            self._t.journal[position] = JournalRow(
                position, instance_key, e.type, e.element_id, e.element_instance, dumps(e.data) if e.data else None, at
            )

    def rows(
        self,
        *,
        status: str | None = None,
        process_id: str | None = None,
        incidents_only: bool = False,
        limit: int = 100,
        after: int | None = None,
    ) -> Sequence[InstanceRow]:
        found = [
            r for r in sorted(self._t.instances.values(), key=lambda r: r.key)
            if (status is None or r.status == status)
            and (not incidents_only or (r.status == "active" and r.incidents > 0))
            and (process_id is None or r.process_id == process_id)
            and (after is None or r.key > after)
        ]
        return found[:limit]

    def journal(self, instance_key: int, *, after: int = 0, limit: int = 1000) -> Sequence[JournalRow]:
        # ids only grow, and dicts keep insertion order
        return [r for r in self._t.journal.values() if r.instance_key == instance_key and r.id > after][:limit]

    def search(self, where: InstanceFilter, *, limit: int, before: int | None = None) -> Sequence[InstanceRow]:
        return search_memory(self._t.instances.values(), where, limit=limit, before=before)

    def scanned_to(self, where: InstanceFilter, *, before: int | None = None) -> int | None:
        return scanned_to_memory(self._t.instances.values(), where, before=before)

    def count(self, where: InstanceFilter) -> int:
        return count_memory(self._t.instances.values(), where)

    def counts(self) -> Sequence[ProcessCount]:
        return counts_memory(self._t.instances.values())

    def element_tally(self, process_id: str, version: int, *, after: int = 0) -> ElementTally:
        return element_tally_memory(self._t.instances.values(), self._t.journal.values(),
                                    self._t.incidents.values(), process_id, version, after)

    def log_instances(self, where: LogFilter, *, after: int | None, limit: int) -> Sequence[LoggedInstanceRow]:
        return log_instances_memory(self._t.instances.values(), where, after=after, limit=limit)

    def journal_of(self, keys: Sequence[int], *, after: tuple[int, int] | None, limit: int) -> Sequence[JournalRow]:
        return journal_of_memory(self._t.journal.values(), keys, after=after, limit=limit)

    def journal_heads(self, keys: Sequence[int]) -> dict[int, int]:
        wanted, heads = set(keys), {}
        for row in self._t.journal.values():  # ids only grow: the last seen is the head
            if row.instance_key in wanted:
                heads[row.instance_key] = row.id
        return heads

    def holding(self, element_instance: int) -> Sequence[int]:
        needle = element_needle(element_instance)
        return sorted((r.key for r in self._t.instances.values()
                       if r.status == "active" and needle in r.state), reverse=True)

    def has_active_started_by(self, process_id: str, start_key: str) -> bool:
        return any(
            r.process_id == process_id and r.start_key == start_key and r.status == "active"
            for r in self._t.instances.values()
        )


class MemoryUserTasks:
    def __init__(self, tables: Tables) -> None:
        self._t = tables

    def insert(self, effect: m.CreateUserTask, instance_key: int, process_id: str, now: int) -> None:
        self._t.user_tasks[effect.key] = UserTaskRow(
            key=effect.key, instance_key=instance_key, element_instance=effect.element_instance,
            element_id=effect.element_id, process_id=process_id, name=effect.name, state="created",
            assignee=effect.assignee, candidate_groups=dumps(effect.candidate_groups),
            candidate_users=dumps(effect.candidate_users), due_date=effect.due_date,
            follow_up_date=effect.follow_up_date, form_key=effect.form_key, priority=effect.priority,
            details=dumps(effect.details) if effect.details else None, variables=None, created_at=now, ended_at=None,
            due_at=effect.due_at, follow_up_at=effect.follow_up_at,
        )

    def open(self, key: int) -> UserTaskRow:
        row = self._t.user_tasks.get(key)
        if row is None:
            raise TaskMissing(f"user task {key} does not exist")
        if row.state != "created":
            raise TaskNotOpen(f"user task {key} is {row.state}, no longer open")
        return row

    def end(self, key: int, state: str, now: int, variables: dict[str, Any] | None = None) -> None:
        row = self._t.user_tasks.get(key)
        if row is not None and row.state == "created":
            self._t.user_tasks[key] = dataclasses.replace(
                row, state=state, ended_at=now, variables=dumps(variables) if variables is not None else None
            )

    def assign(self, key: int, assignee: str | None) -> None:
        row = self._t.user_tasks.get(key)
        if row is not None:
            self._t.user_tasks[key] = dataclasses.replace(row, assignee=assignee)

    def update_details(self, key: int, details: dict[str, Any]) -> None:
        row = self._t.user_tasks.get(key)
        if row is not None and row.state == "created":
            merged = {**(json.loads(row.details) if row.details else {}), **details}
            self._t.user_tasks[key] = dataclasses.replace(row, details=dumps(merged))

    def schedule(self, key: int, due_date: str, due_at: int) -> None:
        row = self._t.user_tasks.get(key)
        if row is not None and row.state == "created":
            self._t.user_tasks[key] = dataclasses.replace(row, due_date=due_date, due_at=due_at)

    def revise(self, key: int, fields: dict[str, Any]) -> None:
        row = self._t.user_tasks.get(key)
        if row is not None and row.state == "created":
            values: dict[str, Any] = {k: dumps(v) if k.startswith("candidate_") else v for k, v in fields.items()}
            self._t.user_tasks[key] = dataclasses.replace(row, **values)

    def escalate(self, key: int, priority: int, now: int) -> None:
        row = self._t.user_tasks.get(key)
        if row is not None and row.state == "created":
            self._t.user_tasks[key] = dataclasses.replace(row, priority=priority, escalated_at=now)

    def rows(
        self,
        *,
        state: str | None = "created",
        instance_key: int | None = None,
        candidate_group: str | None = None,
        limit: int = 100,
        after: int | None = None,
        order: TaskOrder | None = None,
    ) -> Sequence[UserTaskRow]:
        found = [
            r for r in self._t.user_tasks.values()
            if (state is None or r.state == state)
            and (instance_key is None or r.instance_key == instance_key)
            and (candidate_group is None or candidate_group in json.loads(r.candidate_groups))
        ]
        order = order or TaskOrder()
        cursor = order.cursor(self._t.user_tasks.get(after), after) if after is not None else None
        return page_of(found, order, cursor, limit)

    def get(self, key: int) -> UserTaskRow | None:
        return self._t.user_tasks.get(key)


class MemoryIncidents:
    def __init__(self, tables: Tables) -> None:
        self._t = tables

    def insert(self, effect: m.CreateIncident, instance_key: int, process_id: str, now: int) -> None:
        self._t.incidents[effect.key] = IncidentRow(
            key=effect.key, instance_key=instance_key, element_instance=effect.element_instance,
            element_id=effect.element_id, process_id=process_id, type=effect.type, message=free_text(effect.message),
            job_key=effect.job, state="open", created_at=now, resolved_at=None,
        )

    def resolve(self, key: int, now: int) -> None:
        row = self._t.incidents.get(key)
        if row is not None and row.state == "open":
            self._t.incidents[key] = dataclasses.replace(row, state="resolved", resolved_at=now)

    def get(self, key: int) -> IncidentRow | None:
        return self._t.incidents.get(key)

    def rows(
        self, *, state: str | None = "open", instance_key: int | None = None, limit: int = 100, after: int | None = None
    ) -> Sequence[IncidentRow]:
        found = [
            r for r in sorted(self._t.incidents.values(), key=lambda r: r.key)
            if (after is None or r.key > after)
            and (state is None or r.state == state)
            and (instance_key is None or r.instance_key == instance_key)
        ]
        return found[:limit]


class MemoryConversations:
    def __init__(self, tables: Tables) -> None:
        self._t = tables

    def append(self, owner: int, instance_key: int, first: int, items: Sequence[Any], at: int) -> None:
        for i, item in enumerate(items):
            self._t.conversations[(owner, first + i)] = (instance_key, json.dumps(item, separators=(",", ":")))

    def read(self, owner: int, *, after: int = -1, limit: int | None = None) -> list[Any]:
        seqs = sorted(seq for (o, seq) in self._t.conversations if o == owner and seq > after)
        if limit is not None:
            seqs = seqs[:limit]
        return [json.loads(self._t.conversations[(owner, seq)][1]) for seq in seqs]
