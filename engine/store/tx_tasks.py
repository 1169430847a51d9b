"""The SQL rows of user tasks and incidents: what waits on a person."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import insert, select, update

from engine.runtime import messages as m
from engine.store.columns import dumps, free_text
from engine.store.exceptions import TaskMissing, TaskNotOpen
from engine.store.rawsql import Session
from engine.store.schema import incidents, user_task_groups, user_tasks


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

    def rows(
        self,
        *,
        state: str | None = "created",
        instance_key: int | None = None,
        candidate_group: str | None = None,
        limit: int = 100,
        after: int | None = None,
    ) -> Sequence[Any]:
        query = select(user_tasks).order_by(user_tasks.c.key).limit(limit)
        if candidate_group is not None:  # each task in key order (the state index) probes the group's primary key
            query = query.join(user_task_groups, user_task_groups.c.task_key == user_tasks.c.key).where(
                user_task_groups.c.group_name == candidate_group
            )
        if after is not None:
            query = query.where(user_tasks.c.key > after)
        if state is not None:
            query = query.where(user_tasks.c.state == state)
        if instance_key is not None:
            query = query.where(user_tasks.c.instance_key == instance_key)
        return self._s.conn.execute(query).all()

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
