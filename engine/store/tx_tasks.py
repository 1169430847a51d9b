"""The SQL rows of user tasks and incidents: what waits on a person."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, and_, delete, insert, or_, select, update

from engine.runtime import messages as m
from engine.store.columns import dumps, free_text
from engine.store.exceptions import TaskMissing, TaskNotOpen
from engine.store.rawsql import Session
from engine.store.schema import incidents, user_task_groups, user_tasks
from engine.store.task_order import TaskOrder, TaskSort


class SqlUserTasks:
    def __init__(self, session: Session) -> None:
        self._s = session

    def insert(self, effect: m.CreateUserTask, instance_key: int, process_id: str, now: int) -> None:
        self._s.conn.execute(
            insert(user_tasks).values(
                key=effect.key,
                instance_key=instance_key,
                element_instance=effect.element_instance,
                element_id=effect.element_id,
                process_id=process_id,
                name=effect.name,
                state="created",
                assignee=effect.assignee,
                candidate_groups=dumps(effect.candidate_groups),
                candidate_users=dumps(effect.candidate_users),
                due_date=effect.due_date,
                follow_up_date=effect.follow_up_date,
                due_at=effect.due_at,
                follow_up_at=effect.follow_up_at,
                form_key=effect.form_key,
                priority=effect.priority,
                details=dumps(effect.details) if effect.details else None,
                created_at=now,
            )
        )
        groups = sorted({g for g in effect.candidate_groups if g})
        if groups:
            self._s.conn.execute(insert(user_task_groups), [{"group_name": g, "task_key": effect.key} for g in groups])

    def open(self, key: int) -> Any:
        query = select(user_tasks).where(user_tasks.c.key == key)
        if self._s.for_update:
            query = query.with_for_update()
        row = self._s.conn.execute(query).first()
        if row is None:
            raise TaskMissing(f"user task {key} does not exist")
        if row.state != "created":
            raise TaskNotOpen(f"user task {key} is {row.state}, no longer open")
        return row

    def end(self, key: int, state: str, now: int, variables: dict[str, Any] | None = None) -> None:
        self._s.conn.execute(
            update(user_tasks)
            .where(user_tasks.c.key == key, user_tasks.c.state == "created")
            .values(state=state, ended_at=now, variables=dumps(variables) if variables is not None else None)
        )

    def assign(self, key: int, assignee: str | None) -> None:
        self._s.conn.execute(update(user_tasks).where(user_tasks.c.key == key).values(assignee=assignee))

    def update_details(self, key: int, details: dict[str, Any]) -> None:
        stored = self._s.conn.execute(
            select(user_tasks.c.details).where(user_tasks.c.key == key, user_tasks.c.state == "created")
        ).scalar_one_or_none()
        merged = {**(json.loads(stored) if stored else {}), **details}
        self._s.conn.execute(
            update(user_tasks)
            .where(user_tasks.c.key == key, user_tasks.c.state == "created")
            .values(details=dumps(merged))
        )

    def rows(
        self,
        *,
        state: str | None = "created",
        instance_key: int | None = None,
        candidate_group: str | None = None,
        limit: int = 100,
        after: int | None = None,
        order: TaskOrder | None = None,
    ) -> Sequence[Any]:
        order = order or TaskOrder()
        query = select(user_tasks)
        if candidate_group is not None:  # each task in key order (the state index) probes the group's primary key
            query = query.join(user_task_groups, user_task_groups.c.task_key == user_tasks.c.key).where(
                user_task_groups.c.group_name == candidate_group
            )
        if state is not None:
            query = query.where(user_tasks.c.state == state)
        if instance_key is not None:
            query = query.where(user_tasks.c.instance_key == instance_key)
        key = user_tasks.c.key
        if order.by == TaskSort.CREATED:
            if after is not None:
                query = query.where(key < after if order.descending else key > after)
            return self._s.conn.execute(query.order_by(key.desc() if order.descending else key).limit(limit)).all()
        return self._by_value(query, order, order.cursor(self.get(after), after) if after is not None else None,
                              limit)

    def _by_value(self, query: Select[Any], order: TaskOrder, cursor: tuple[int | None, int] | None,
                  limit: int) -> list[Any]:
        """Tasks with the sort value, then (while the page has room) those without: ``engine.store.task_order``."""
        column, key = user_tasks.c[order.by.column], user_tasks.c.key
        found: list[Any] = []
        if cursor is None or cursor[0] is not None:
            valued = query.where(column.is_not(None))
            if cursor is not None:
                value, last = cursor
                if order.descending:
                    valued = valued.where(or_(column < value, and_(column == value, key < last)))
                else:
                    valued = valued.where(or_(column > value, and_(column == value, key > last)))
            ordering = (column.desc(), key.desc()) if order.descending else (column, key)
            found.extend(self._s.conn.execute(valued.order_by(*ordering).limit(limit)).all())
        if len(found) < limit:
            unvalued = query.where(column.is_(None))
            if cursor is not None and cursor[0] is None:  # the previous page ended among them
                unvalued = unvalued.where(key > cursor[1])
            found.extend(self._s.conn.execute(unvalued.order_by(key).limit(limit - len(found))).all())
        return found

    def schedule(self, key: int, due_date: str, due_at: int) -> None:
        self._s.conn.execute(
            update(user_tasks)
            .where(user_tasks.c.key == key, user_tasks.c.state == "created")
            .values(due_date=due_date, due_at=due_at)
        )

    def revise(self, key: int, fields: dict[str, Any]) -> None:
        values = {k: dumps(v) if k.startswith("candidate_") else v for k, v in fields.items()}
        changed = self._s.conn.execute(
            update(user_tasks).where(user_tasks.c.key == key, user_tasks.c.state == "created").values(**values)
        ).rowcount
        if changed and "candidate_groups" in fields:  # the index a listing by candidate group reads
            self._s.conn.execute(delete(user_task_groups).where(user_task_groups.c.task_key == key))
            groups = sorted({g for g in fields["candidate_groups"] if g})
            if groups:
                self._s.conn.execute(insert(user_task_groups), [{"group_name": g, "task_key": key} for g in groups])

    def escalate(self, key: int, priority: int, now: int) -> None:
        self._s.conn.execute(
            update(user_tasks)
            .where(user_tasks.c.key == key, user_tasks.c.state == "created")
            .values(priority=priority, escalated_at=now)
        )

    def get(self, key: int) -> Any:
        return self._s.conn.execute(select(user_tasks).where(user_tasks.c.key == key)).first()


class SqlIncidents:
    def __init__(self, session: Session) -> None:
        self._s = session

    def insert(self, effect: m.CreateIncident, instance_key: int, process_id: str, now: int) -> None:
        self._s.conn.execute(
            insert(incidents).values(
                key=effect.key,
                instance_key=instance_key,
                element_instance=effect.element_instance,
                element_id=effect.element_id,
                process_id=process_id,
                type=effect.type,
                message=free_text(effect.message),
                job_key=effect.job,
                state="open",
                created_at=now,
            )
        )

    def resolve(self, key: int, now: int) -> None:
        self._s.conn.execute(
            update(incidents)
            .where(incidents.c.key == key, incidents.c.state == "open")
            .values(state="resolved", resolved_at=now)
        )

    def get(self, key: int) -> Any:
        return self._s.conn.execute(select(incidents).where(incidents.c.key == key)).first()

    def rows(
        self, *, state: str | None = "open", instance_key: int | None = None, limit: int = 100, after: int | None = None
    ) -> Sequence[Any]:
        query = select(incidents).order_by(incidents.c.key).limit(limit)
        if after is not None:
            query = query.where(incidents.c.key > after)
        if state is not None:
            query = query.where(incidents.c.state == state)
        if instance_key is not None:
            query = query.where(incidents.c.instance_key == instance_key)
        return self._s.conn.execute(query).all()
