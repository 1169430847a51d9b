"""A unit of work: one transaction's worth of commands across instances, and the rows their effects ask for.

A command to one instance can set off commands to others: a call activity
starts a child, a child reports to its parent, a thrown signal reaches every
instance waiting for it, an opened subscription finds a buffered message.
They all run here, in the caller's transaction, and every instance they
touched is saved once at the end.
"""

from __future__ import annotations

import json
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from engine import telemetry
from engine.actor import Actor
from engine.agent.config import Policy
from engine.decisions import decision_version
from engine.dmn import DecisionBinding, DecisionVersion
from engine.exceptions import Conflict, NotFound
from engine.kernel import BEHAVIORS
from engine.model import EventDefinitionKind, Process, StartEvent
from engine.runtime import CommandRejected, InstanceState, InstanceStatus, ParentLink, ScopeView, Step
from engine.runtime import messages as m
from engine.runtime.expressions import evaluate
from engine.runtime.limits import RuntimeLimits
from engine.scheduler.local import LocalJobs
from engine.scheduler.timers import TimerDefinitionError, parse_date, schedule, to_millis
from engine.store.protocol import StoreTx
from engine.store.rows import SubscriptionRow, TimerRow
from engine.views import ActivatedJob


class UnitContext(Protocol):
    """What a unit of work needs of its engine (``engine.core.EngineCore``): parsed processes and the settings."""

    @property
    def local_jobs(self) -> LocalJobs | None: ...
    @property
    def agent_policies(self) -> tuple[Policy, ...]: ...
    @property
    def limits(self) -> RuntimeLimits: ...

    def process(self, tx: StoreTx, definition_key: int) -> Process: ...
    def stage(self, job: ActivatedJob, local: LocalJobs) -> None: ...
    def arm_timer(self, due_at: int) -> None: ...


@dataclass(slots=True)
class Touched:
    state: InstanceState
    rev: int | None
    process: Process
    events: list[m.JournalEvent] = field(default_factory=list)
    ended_before: bool = False  # loaded after it ended: its end is not counted again


class _Lookup:
    """The step's view of deployed processes, inside one transaction."""

    def __init__(self, engine: UnitContext, tx: StoreTx) -> None:
        self._engine = engine
        self._tx = tx

    def latest(self, process_id: str) -> tuple[int, int, Process] | None:
        row = self._tx.definitions.latest(process_id)
        if row is None:
            return None
        return int(row.key), int(row.version), self.by_key(int(row.key))

    def by_key(self, definition_key: int) -> Process:
        return self._engine.process(self._tx, definition_key)

    def decision(self, decision_id: str, binding: DecisionBinding, version_tag: str | None,
                 definition_key: int) -> DecisionVersion | None:
        deployment = self._tx.definitions.deployment_of(definition_key)
        return decision_version(self._tx, decision_id, binding, version_tag, deployment)


class UnitOfWork:
    def __init__(self, engine: UnitContext, tx: StoreTx, now: datetime) -> None:
        self.engine = engine
        self.tx = tx
        self.now = now
        self.at = to_millis(now)
        self.touched: dict[int, Touched] = {}
        self._queue: deque[tuple[int, m.Command, bool]] = deque()
        self._lookup = _Lookup(engine, tx)
        self._pushed: list[tuple[Touched, m.CreateJob]] = []
        # the worker loop's queue as the unit began: a job locked for it is staged to this one queue, whatever a
        # loop starting or stopping on another thread does to ``engine.local_jobs`` meanwhile
        self._local = engine.local_jobs

    # --- commands ----------------------------------------------------------------------

    def send(self, instance: int, command: m.Command, *, tolerant: bool = False) -> None:
        """Queue a command; a tolerant one (an event delivery) is dropped if it no longer applies."""
        self._queue.append((instance, command, tolerant))

    def new_instance(self, definition_key: int, variables: dict[str, Any], *, start_element: str | None = None,
                     key: int | None = None, parent: ParentLink | None = None,
                     version: int | None = None, start_key: str | None = None,
                     by: Actor | None = None, trace: dict[str, str] | None = None) -> InstanceState:
        """Create an instance of a deployed definition and queue its start (``by``: who asked for it).

        ``trace``: the trace it joins (a called instance joins its parent's, ``{}``: none); None: the current
        span's, if one records.
        """
        process = self.engine.process(self.tx, definition_key)
        if version is None:
            version = self.tx.definitions.version_of(definition_key)
        state = InstanceState(key=key if key is not None else self.tx.next_key(), process_id=process.id,
                              definition_key=definition_key, version=version, parent=parent, start_key=start_key,
                              trace=(trace if trace is not None else telemetry.carrier()) or None)
        telemetry.instruments().instances_started.add(1, {"agenthub.process.id": process.id})
        state.root = self.tx.next_key()
        self.touched[state.key] = Touched(state, None, process)
        self.send(state.key, m.StartInstance(variables=variables, start_element=start_element, by=by))
        return state

    def run(self) -> dict[int, Touched]:
        while self._queue:
            key, command, tolerant = self._queue.popleft()
            entry = self._load(key, tolerant)
            if entry is None:
                continue
            try:
                result = Step(entry.process, entry.state, self.now, self.tx, self._lookup,
                              self.engine.agent_policies, self.engine.limits, behaviors=BEHAVIORS).run(command)
            except CommandRejected as exc:
                if tolerant:
                    continue
                raise Conflict(str(exc)) from None
            entry.events.extend(result.events)
            for effect in result.effects:
                self._apply(entry, effect)
        self._stage_pushed()
        for entry in self.touched.values():
            if entry.state.status != InstanceStatus.ACTIVE:
                self.tx.jobs.delete_of_instance(entry.state.key)
            if entry.state.status != InstanceStatus.ACTIVE and not entry.ended_before:
                telemetry.instruments().instances_ended.add(1, {"agenthub.process.id": entry.state.process_id,
                                                                "agenthub.instance.state": str(entry.state.status)})
                entry.ended_before = True
            self.tx.instances.save(entry.state, entry.rev, self.at)
            self.tx.instances.append_journal(entry.state.key, entry.events, self.at)
        return self.touched

    def _stage_pushed(self) -> None:
        """Hand the jobs locked for this process's worker loop over, with the variables they see now."""
        local = self._local
        if local is None:
            return
        for entry, effect in self._pushed:
            element = entry.state.elements.get(effect.element_instance)
            if element is None or element.job != effect.key:
                continue  # withdrawn within the same transaction
            self.engine.stage(ActivatedJob(
                key=effect.key, type=effect.type, instance=entry.state.key, element_id=effect.element_id,
                element_instance=effect.element_instance, process_id=entry.state.process_id,
                retries=effect.retries, headers=dict(effect.headers),
                variables=ScopeView(entry.state, effect.element_instance).flatten(), worker=local.owner,
                lock_version=1, lease_expires_at=self.at + local.lease_ms, trace=entry.state.trace,
            ), local)

    def _load(self, key: int, tolerant: bool) -> Touched | None:
        entry = self.touched.get(key)
        if entry is not None:
            return entry
        loaded = self.tx.instances.load(key)
        if loaded is None:
            if tolerant:
                return None
            raise NotFound(f"process instance {key} does not exist")
        state, rev = loaded
        entry = Touched(state, rev, self.engine.process(self.tx, state.definition_key),
                        ended_before=state.status != InstanceStatus.ACTIVE)
        self.touched[key] = entry
        return entry

    # --- effects -------------------------------------------------------------------------

    def _apply(self, entry: Touched, effect: m.Effect) -> None:
        tx, state, at = self.tx, entry.state, self.at
        if isinstance(effect, m.CreateJob):
            local = self._local
            if local is not None and local.accepts(effect.type):
                tx.jobs.insert(effect, state.key, state.process_id, at, lock=(local.owner, at + local.lease_ms))
                self._pushed.append((entry, effect))
            else:
                tx.jobs.insert(effect, state.key, state.process_id, at)
        elif isinstance(effect, m.AppendConversation):
            tx.conversations.append(effect.owner, state.key, effect.first, effect.messages, at)
        elif isinstance(effect, m.CancelJob):
            tx.jobs.delete(effect.key)
        elif isinstance(effect, m.CreateUserTask):
            tx.user_tasks.insert(effect, state.key, state.process_id, at)
        elif isinstance(effect, m.CancelUserTask):
            tx.user_tasks.end(effect.key, "canceled", at)
        elif isinstance(effect, m.UpdateUserTask):
            tx.user_tasks.update_details(effect.key, effect.details)
        elif isinstance(effect, m.AssignUserTask):
            tx.user_tasks.assign(effect.key, effect.assignee)
        elif isinstance(effect, m.FinishUserTask):
            tx.user_tasks.end(effect.key, "completed", at, effect.variables)
        elif isinstance(effect, m.ScheduleUserTask):
            tx.user_tasks.schedule(effect.key, effect.due_date, effect.due_at)
        elif isinstance(effect, m.ReviseUserTask):
            tx.user_tasks.revise(effect.key, effect.fields)
        elif isinstance(effect, m.EscalateUserTask):
            tx.user_tasks.escalate(effect.key, effect.priority, at)
        elif isinstance(effect, m.CreateIncident):
            tx.incidents.insert(effect, state.key, state.process_id, at)
        elif isinstance(effect, m.ResolveIncidentRow):
            tx.incidents.resolve(effect.key, at)
        elif isinstance(effect, m.RetryJob):
            tx.jobs.retry(effect.key, effect.retries, at)
        elif isinstance(effect, m.StartChild):
            self.new_instance(effect.definition_key, effect.variables, key=effect.key,
                              parent=ParentLink(state.key, effect.element_instance, effect.depth),
                              trace=state.trace or {})
        elif isinstance(effect, m.CancelChild):
            self.send(effect.key, m.CancelInstance(reason="the calling instance ended the call activity"),
                      tolerant=True)
        elif isinstance(effect, m.NotifyParent):
            self.send(effect.instance, effect.command)
        elif isinstance(effect, m.NotifyChild):
            self.send(effect.instance, effect.command, tolerant=True)
        elif isinstance(effect, m.CreateTimer):
            due_at = to_millis(parse_date(effect.due))
            tx.timers.insert(TimerRow(
                key=effect.key, instance_key=state.key, element_instance=effect.owner,
                definition_key=state.definition_key, process_id=state.process_id, element_id=effect.element_id,
                due_at=due_at, remaining=effect.remaining, interval=effect.interval, cron=effect.cron, created_at=at))
            self.engine.arm_timer(due_at)
        elif isinstance(effect, m.CancelTimer):
            tx.timers.delete(effect.key)
        elif isinstance(effect, m.OpenSubscription):
            tx.messages.subscribe(SubscriptionRow(
                key=effect.key, kind=effect.kind, name=effect.name, correlation_key=effect.correlation_key,
                instance_key=state.key, element_instance=effect.owner, definition_key=state.definition_key,
                process_id=state.process_id, element_id=effect.element_id, created_at=at))
            if effect.kind == "message":
                self._correlate_buffered(state.key, effect)
        elif isinstance(effect, m.CloseSubscription):
            tx.messages.unsubscribe(effect.key)
        elif isinstance(effect, m.BroadcastSignal):
            self.broadcast(effect.name, effect.variables)
        elif isinstance(effect, m.PublishMessage):
            self.correlate(tx.next_key(), effect.name, effect.correlation_key, effect.variables)

    # --- messages and signals ------------------------------------------------------------------

    def _correlate_buffered(self, instance: int, effect: m.OpenSubscription) -> None:
        process_id = self.touched[instance].state.process_id
        message = self.tx.messages.buffered_for(effect.name, effect.correlation_key, instance, process_id, self.at)
        if message is None:
            return
        self.tx.messages.record_correlation(int(message.key), instance)
        self.send(instance, m.Trigger(effect.key, effect.owner, effect.element_id, json.loads(message.variables)),
                  tolerant=True)

    def correlate(self, message_key: int, name: str, correlation_key: str,
                  variables: dict[str, Any], by: Actor | None = None) -> list[int]:
        """Deliver a message to one waiting element of one instance per process (the one waiting longest), or
        start an instance at a message start event when no instance of that process waits for it."""
        reached: list[int] = []
        processes: set[str] = set()  # Camunda 8: a message is correlated once per process (BPMN process id)
        rows = self.tx.messages.matching("message", name, correlation_key)
        for row in sorted(rows, key=lambda r: (r.instance_key is None, r.key)):  # waiting instances first
            if row.process_id in processes:
                continue
            processes.add(row.process_id)
            if row.instance_key is None:
                # Camunda 8: a message with a correlation key starts no second instance while one it started runs
                if correlation_key and self._started_by(row.process_id, correlation_key):
                    continue
                started = self.new_instance(present(row.definition_key), variables, start_element=row.element_id,
                                            start_key=correlation_key or None, by=by)
                reached.append(started.key)
                continue
            instance = int(row.instance_key)
            reached.append(instance)
            self.tx.messages.record_correlation(message_key, instance)
            self.send(instance, m.Trigger(int(row.key), present(row.element_instance), row.element_id, dict(variables),
                                          by=by), tolerant=True)
        return reached

    def _started_by(self, process_id: str, start_key: str) -> bool:
        for entry in self.touched.values():  # instances of this transaction are not saved yet
            state = entry.state
            if state.process_id == process_id and state.start_key == start_key and state.status == "active":
                return True
        return self.tx.instances.has_active_started_by(process_id, start_key)

    def broadcast(self, name: str, variables: dict[str, Any], by: Actor | None = None) -> int:
        count = 0
        for row in self.tx.messages.matching("signal", name, None):
            count += 1
            if row.instance_key is None:
                self.new_instance(present(row.definition_key), dict(variables), start_element=row.element_id, by=by)
            else:
                self.send(int(row.instance_key), m.Trigger(int(row.key), present(row.element_instance), row.element_id,
                                                           dict(variables), by=by), tolerant=True)
        return count

    # --- deployment ----------------------------------------------------------------------------

    def register_start_events(self, process: Process, definition_key: int) -> None:
        """Arm the timer, message and signal start events of the newest version (replacing older versions')."""
        self.tx.timers.delete_starts(process.id)
        self.tx.messages.delete_starts(process.id)
        for start in process.start_events(process.id):
            definition = start.definition
            if definition is None or not isinstance(start, StartEvent):
                continue
            key = self.tx.next_key()
            if definition.kind == EventDefinitionKind.TIMER and definition.timer and definition.timer_type:
                text = definition.timer.text
                if definition.timer.is_expression:
                    text = str(evaluate(text, {}, self.now, what=f"timer of '{start.id}'"))
                try:
                    plan = schedule(definition.timer_type, text, self.now)
                except TimerDefinitionError as exc:
                    raise Conflict(f"timer start event '{start.id}': {exc}") from None
                self.tx.timers.insert(TimerRow(
                    key=key, instance_key=None, element_instance=None, definition_key=definition_key,
                    process_id=process.id, element_id=start.id, due_at=to_millis(plan.due),
                    remaining=plan.remaining, interval=plan.interval, cron=plan.cron, created_at=self.at))
                self.engine.arm_timer(to_millis(plan.due))
            elif definition.kind in (EventDefinitionKind.MESSAGE, EventDefinitionKind.SIGNAL):
                self.tx.messages.subscribe(SubscriptionRow(
                    key=key, kind=definition.kind.value, name=definition.ref or "", correlation_key=None,
                    instance_key=None, element_instance=None, definition_key=definition_key,
                    process_id=process.id, element_id=start.id, created_at=self.at))


def present(value: int | None) -> int:
    """A key column that is set for this kind of row (an instance's subscription or timer has its element
    instance; a start event's has its definition)."""
    if value is None:
        raise AssertionError("a key column that this kind of row always has is empty")
    return int(value)
