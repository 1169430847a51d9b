"""The facade: deploy, start, complete, cancel, query. It wires model, runtime and store.

Every public method that changes something is one transaction: the step's
journal events, the instance's new state and the rows its effects ask for
(jobs, user tasks, incidents, child instances) commit together or not at all.
A conflict with a concurrent transaction (two branches of a parallel join
completing at once in two processes) is retried from the start.

``Engine`` is composed, not inherited: its parts (``Deployer``, ``Queries``,
``EventCommands``, ``JobCommands``, ``AgentCommands``) share one ``EngineCore``
(store, clock, settings, parsed processes) and the methods below hand each
call to its part. The store is any ``engine.store.protocol.Store``:
``Engine.open("sqlite:///file.db")`` or ``Engine.open("postgresql://...")``
for the SQL store, ``Engine.open("memory:")`` or ``Engine(MemoryStore())``
for the in-memory one. ``Engine`` is generic in its store's type, so that
``engine.store`` keeps the type it was built with (the hub's readiness check
reads the SQL store's dialect).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Generic

from typing_extensions import TypeVar

from engine import telemetry
from engine.actor import Actor
from engine.agent.config import Policy
from engine.agent.facade import AgentCommands
from engine.agent.turn import AgentTurn
from engine.core import EngineCore, Settled
from engine.correlation import EventCommands
from engine.decision_commands import DecisionCommands, DecisionResult
from engine.decision_tools import DecisionToolSpec
from engine.decisions import DeployedDecision
from engine.deployment import Deployer, Deployment
from engine.event_log import EventLogQueries
from engine.exceptions import AskPerson, Conflict, InvalidInput, NotFound, WaitRemote
from engine.exposure import ToolSpec
from engine.form_links import FormQueries, LinkedForm
from engine.instance_queries import InstanceQueries
from engine.job_commands import JobCommands
from engine.job_reports import JobReport
from engine.model import Process
from engine.ports import Clock, SystemClock
from engine.queries import Queries, instance_view
from engine.runtime import messages as m
from engine.runtime.expressions import ExpressionFailure
from engine.runtime.journal import EventType
from engine.runtime.limits import RuntimeLimits
from engine.runtime.task_changes import task_fields
from engine.scheduler.local import LocalJobs
from engine.store.exceptions import RowMissing, StateConflict
from engine.store.memory import MemoryStore
from engine.store.protocol import Store, StoreTx
from engine.store.rows import UserTaskRow
from engine.store.sql import SqlStore
from engine.validation import check_variables
from engine.views import ActivatedJob, DeployedProcess, IncidentView, InstanceView, TaskView

StoreT = TypeVar("StoreT", bound=Store, default=SqlStore)

MEMORY_URL = "memory:"


class Engine(Generic[StoreT]):
    """The BPMN engine over one store."""

    def __init__(
        self,
        store: StoreT,
        clock: Clock | None = None,
        *,
        limits: RuntimeLimits | None = None,
        agent_policies: tuple[Policy, ...] = (),
    ) -> None:
        self.store = store
        self._k = EngineCore(store, clock or SystemClock(), limits=limits or RuntimeLimits(),
                         agent_policies=agent_policies)
        self._deployer = Deployer(self._k)
        self._decisions = DecisionCommands(self._k)
        self._queries = Queries(self._k)
        self._forms = FormQueries(self._k)
        self.console = InstanceQueries(self._k)  # the web console's reads (filtered pages, counts, heat maps)
        self.event_log = EventLogQueries(store)  # every step of a set of instances, streamed (discover's exports)
        self._events = EventCommands(self._k)
        self._jobs = JobCommands(self._k)
        self._agents = AgentCommands(self._k)

    @classmethod
    def open(cls, url: str, *, clock: Clock | None = None, synchronous: str = "FULL") -> Engine[Any]:
        """An engine over the database at ``url``, or over a new in-memory store for ``"memory:"``."""
        if url == MEMORY_URL:
            return Engine(MemoryStore(), clock)
        return Engine(SqlStore(url, synchronous=synchronous), clock)

    def close(self) -> None:
        self.store.close()

    # --- settings, shared with every part (they may change while the engine runs) -----------------

    @property
    def clock(self) -> Clock:
        return self._k.clock

    @property
    def limits(self) -> RuntimeLimits:
        """Bounds on one command's work; what goes past them becomes an incident."""
        return self._k.limits

    @limits.setter
    def limits(self, value: RuntimeLimits) -> None:
        self._k.limits = value

    @property
    def agent_policies(self) -> tuple[Policy, ...]:
        """Policies over every agent's tool calls, checked before each model's own (the hub sets them)."""
        return self._k.agent_policies

    @agent_policies.setter
    def agent_policies(self, value: tuple[Policy, ...]) -> None:
        self._k.agent_policies = value

    @property
    def local_jobs(self) -> LocalJobs | None:
        """Set while a worker loop runs in this process: jobs of its types are handed to it directly."""
        return self._k.local_jobs

    @local_jobs.setter
    def local_jobs(self, value: LocalJobs | None) -> None:
        self._k.local_jobs = value

    @property
    def commit_listeners(self) -> set[Callable[[], None]]:
        """Called after every commit of this process, from the committing thread."""
        return self._k.commit_listeners

    @property
    def timer_listeners(self) -> set[Callable[[int], None]]:
        """Called after a commit of this process that armed timers, with the earliest due time (epoch ms)."""
        return self._k.timer_listeners

    # --- deployment ---------------------------------------------------------------------------------

    def deploy(
        self,
        resources: Sequence[tuple[str, bytes | str]],
        *,
        name: str | None = None,
        expose: bool = False,
        progress: Callable[[int, int, str], None] | None = None,
    ) -> list[DeployedProcess]:
        """Parse and validate every resource, then store each process as a new version (or reuse an identical one).

        ``expose`` offers every process deployed here as a tool and agent skill
        (as ``<agenthub:tool>`` in the model does), from this version on.
        ``progress(number, total, resource)`` is called as the check of each BPMN
        resource begins. Each deployed process carries the warnings of what it
        uses that this engine accepts but will not act on.
        """
        return self._deployer.deploy(resources, name=name, expose=expose, progress=progress)

    def deploy_all(
        self, resources: Sequence[tuple[str, bytes | str]], *, name: str | None = None, expose: bool = False,
        progress: Callable[[int, int, str], None] | None = None,
    ) -> tuple[list[DeployedProcess], list[DeployedDecision]]:
        """``deploy``, also answering the DMN decisions of the ``.dmn`` resources (new versions or reused)."""
        return self._deployer.deploy_all(resources, name=name, expose=expose, progress=progress)

    def deploy_resources(
        self, resources: Sequence[tuple[str, bytes | str]], *, name: str | None = None, expose: bool = False,
    ) -> Deployment:
        """``deploy``, answering the whole deployment: its key and each process, decision and form it stored."""
        return self._deployer.deploy_resources(resources, name=name, expose=expose)

    # --- decisions (engine.decision_commands) ------------------------------------------------------

    def evaluate_decision(self, decision_id: str, variables: dict[str, Any] | None = None, *,
                          version: int | None = None, version_tag: str | None = None) -> DecisionResult:
        """Evaluate a deployed decision (its latest version, or the one given) outside any instance."""
        return self._decisions.evaluate(decision_id, variables, version=version, version_tag=version_tag)

    def decisions(self, decision_id: str | None = None) -> list[dict[str, Any]]:
        """Every deployed decision version (of one decision)."""
        return self._decisions.versions(decision_id)

    def decision_tools(self) -> list[DecisionToolSpec]:
        """The decisions offered as tools (``<agenthub:tool/>``): each one's newest version, where it is marked."""
        return self._decisions.tools()

    # --- instances --------------------------------------------------------------------------------

    def start(
        self,
        process_id: str,
        variables: dict[str, Any] | None = None,
        *,
        version: int | None = None,
        start_element: str | None = None,
        owner: str | None = None,
        by: Actor | None = None,
    ) -> InstanceView:
        """Start an instance of the latest (or the given) version and run it until it waits or ends.

        ``owner`` is the principal whose request this is, kept as the instance's ``started_by``: the surfaces
        decide whose task an instance is from it, never from a variable the process or a client can set.
        ``by`` is who made the command, recorded in the journal (``instance_started``); without an ``owner``
        the instance is ``by``'s (an admin acting for someone passes that someone as ``owner``).
        """
        values = check_variables(variables)
        if owner is None and by is not None:
            owner = by.id
        trace: dict[str, str] = {}  # read here: ``grouped`` may run ``work`` on another caller's thread

        def work(tx: StoreTx) -> InstanceView:
            row = tx.definitions.find(process_id, version)
            if row is None:
                raise NotFound(
                    f"process '{process_id}' is not deployed" + (f" in version {version}" if version else "")
                )
            unit = self._k.unit(tx)
            state = unit.new_instance(int(row.key), values, start_element=start_element, version=int(row.version),
                                      by=by, trace=trace)
            state.started_by = owner  # before the first save: the row is written with it
            unit.run()
            return instance_view(tx, state)

        with telemetry.command_span("start", process_id=process_id) as span:  # the instance keeps this span's trace
            trace.update(telemetry.carrier())
            view = self._k.grouped(work)  # starts arriving together on many threads commit together
            span.set_attribute("agenthub.instance.key", view.key)
            return view

    def cancel(self, instance: int, *, by: Actor | None = None) -> InstanceView:
        """Cancel a top-level instance with everything it started; ``by`` (who) goes into ``instance_terminated``."""

        def work(tx: StoreTx) -> InstanceView:
            loaded = tx.instances.load(instance)
            if loaded is None:
                raise NotFound(f"process instance {instance} does not exist")
            if loaded[0].parent is not None:
                raise Conflict(
                    f"process instance {instance} was started by call activity in instance "
                    f"{loaded[0].parent.instance}: cancel that instance instead"
                )
            touched = self._k.run(tx, instance, m.CancelInstance(by=by))
            return instance_view(tx, touched[instance].state)

        with telemetry.command_span("cancel", instance_key=instance):
            return self._k.atomic(work)

    def resolve_incident(self, key: int, *, by: Actor | None = None) -> None:
        """Retry what failed: the job (with one more retry) or the expression that could not be evaluated.
        ``by`` (who) goes into ``incident_resolved``."""

        def work(tx: StoreTx) -> None:
            row = tx.incidents.get(key)
            if row is None:
                raise NotFound(f"incident {key} does not exist")
            if row.state != "open":
                raise Conflict(f"incident {key} is already {row.state}")
            self._k.run(tx, int(row.instance_key), m.ResolveIncident(key, by=by))

        with telemetry.command_span("resolve_incident", incident_key=key):
            self._k.atomic(work)

    def set_variables(
        self, instance: int, variables: dict[str, Any], *, scope: int | None = None, local: bool = True,
        by: Actor | None = None, reason: str | None = None,
    ) -> None:
        """Set variables from outside; the journal records ``variables_set`` (their names, ``by``, who, and the
        ``reason`` they gave)."""
        values = check_variables(variables)
        command = m.SetVariables(scope, values, local, by, reason)
        with telemetry.command_span("set_variables", instance_key=instance):
            self._k.atomic(lambda tx: self._k.run(tx, instance, command) and None)

    # --- user tasks ---------------------------------------------------------------------------------

    def complete_user_task(self, key: int, variables: dict[str, Any] | None = None, *, by: Actor | None = None,
                           completed_by: str | None = None) -> None:
        """Complete an open user task; ``by`` (the surfaces' verified principal) is recorded in the journal.

        ``completed_by`` is the older spelling of ``by=Actor(id=...)``. An approval that needs more approvers
        than it has so far records this one and stays open: the task ends when its element stops waiting on it.
        A task with a form completes only with variables the form accepts (``FormInvalid`` lists each field's error).
        """
        values = check_variables(variables)
        who = by if by is not None else Actor(id=completed_by) if completed_by else None

        def work(tx: StoreTx) -> None:
            row = _open_task(tx, key)
            self._forms.check(tx, row, values)
            instance, element = int(row.instance_key), int(row.element_instance)
            touched = self._k.run(tx, instance, m.CompleteUserTask(key, element, values, who))
            waiting = touched[instance].state.elements.get(element)
            if waiting is None or waiting.user_task != key:
                tx.user_tasks.end(key, "completed", self._k.millis(), values)

        with telemetry.command_span("complete_user_task", user_task_key=key):
            self._k.grouped(work)

    def claim_user_task(self, key: int, assignee: str | None, *, by: Actor | None = None) -> None:
        """Assign an open user task (``None``: unassign it); ``by`` (who) goes into ``user_task_claimed``. A task with
        assigning listeners keeps its assignee until they have run (``"listener": {"state": "assigning"}``), and
        one of them may deny the assignment (``engine.runtime.behaviors.task_assignment``)."""

        def work(tx: StoreTx) -> None:
            row = _open_task(tx, key)
            self._k.run(tx, int(row.instance_key), m.AssignTask(key, int(row.element_instance), assignee, by))

        self._k.atomic(work)

    def update_user_task(self, key: int, changes: dict[str, Any], *, by: Actor | None = None) -> None:
        """Change an open task's ``candidateGroups``, ``candidateUsers``, ``dueDate``, ``followUpDate`` or
        ``priority`` (Camunda's changeset; ``InvalidInput`` names a wrong one). A task with updating listeners
        keeps them until they have run (``"listener": {"state": "updating"}``, ``behaviors.task_update``)."""
        try:
            task_fields(changes, f"the update of user task {key}")
        except ExpressionFailure as exc:
            raise InvalidInput(str(exc)) from None

        def work(tx: StoreTx) -> None:
            row = _open_task(tx, key)
            self._k.run(tx, int(row.instance_key), m.UpdateTask(key, int(row.element_instance), dict(changes), by))

        with telemetry.command_span("update_user_task", user_task_key=key):
            self._k.atomic(work)

    def set_user_task_variables(self, key: int, variables: dict[str, Any], *, by: Actor | None = None) -> None:
        """Set variables in an open user task's own scope (its element instance, local), as Camunda's set
        variables at a user task's element instance does. A task with updating listeners keeps them until the
        listeners have run (``"listener": {"state": "updating", "changes": ["variables"]}``), and one may deny
        them (nothing is written): ``behaviors.task_update``."""
        values = check_variables(variables)

        def work(tx: StoreTx) -> None:
            row = _open_task(tx, key)
            self._k.run(tx, int(row.instance_key), m.SetVariables(int(row.element_instance), values, True, by))

        with telemetry.command_span("set_user_task_variables", user_task_key=key):
            self._k.atomic(work)

    def save_user_task_draft(self, key: int, variables: dict[str, Any], *, by: Actor | None = None) -> None:
        """Keep a draft of an open task's values with the task (as Camunda Tasklist's draft variables): its
        form starts from it, nothing is written to the process and no listener runs; a later draft replaces it,
        and it goes with the task. The journal's ``user_task_draft_saved`` names the variables and ``by``."""
        values = check_variables(variables)

        def work(tx: StoreTx) -> None:
            row = _open_task(tx, key)
            tx.user_tasks.update_details(key, {"draft": values})
            data = {"task": key, "variables": sorted(values), **({"by": by.to_json()} if by is not None else {})}
            event = m.JournalEvent(EventType.USER_TASK_DRAFT_SAVED, row.element_id, int(row.element_instance), data)
            tx.instances.append_journal(int(row.instance_key), [event], self._k.millis())

        with telemetry.command_span("save_user_task_draft", user_task_key=key):
            self._k.atomic(work)

    # --- jobs (engine.job_commands) -------------------------------------------------------------------

    def complete_job(self, key: int, variables: dict[str, Any] | None = None, *, worker: str,
                     lock_version: int, result: dict[str, Any] | None = None) -> None:
        """Complete a job with its result. Every report on a job (complete, fail, throw an error, park) carries the
        lease it was activated with, ``worker`` and ``lock_version``: a worker whose lease expired and whose job went
        to another worker gets ``JobLost`` instead of overwriting that worker's result (RELIABILITY I6). A task
        listener's job may carry a ``result`` (``{"denied", "deniedReason", "corrections"}``, as Camunda's)."""
        with telemetry.command_span("complete_job", job_key=key):
            self._jobs.complete_job(key, variables, worker=worker, lock_version=lock_version, result=result)

    def report_jobs(self, reports: Sequence[JobReport]) -> list[Settled[Any]]:
        """Several reports (complete, fail, throw an error, park) in one commit, each applied alone in a savepoint:
        one refused (``JobLost``, ``NotFound``, ``Conflict`` ...) rolls back only itself. One ``Settled`` per
        report, in order: its result, or the exception the single command would have raised."""
        with telemetry.command_span("report_jobs", jobs=len(reports)):
            return self._jobs.report_jobs(reports)

    def fail_job(self, key: int, message: str, *, retries: int | None = None, backoff_ms: int = 0, worker: str,
                 lock_version: int) -> int:
        """Record a failed attempt; returns the retries left. At zero the job raises an incident."""
        with telemetry.command_span("fail_job", job_key=key):
            return self._jobs.fail_job(key, message, retries=retries, backoff_ms=backoff_ms, worker=worker,
                                       lock_version=lock_version)

    def throw_error(self, key: int, code: str, message: str = "", variables: dict[str, Any] | None = None, *,
                    worker: str, lock_version: int) -> None:
        with telemetry.command_span("throw_error", job_key=key):
            self._jobs.throw_error(key, code, message, variables, worker=worker, lock_version=lock_version)

    def park_job(self, key: int, ask: AskPerson, *, worker: str, lock_version: int) -> None:
        """The job's handler asked a person: a user task stands in for the job until it is completed (AskPerson)."""
        self._jobs.park_job(key, ask, worker=worker, lock_version=lock_version)

    def wait_job(self, key: int, wait: WaitRemote, *, worker: str, lock_version: int) -> None:
        """The job's handler waits on remote work (WaitRemote): no lease, ready again after ``wait.seconds``."""
        self._jobs.wait_job(key, wait, worker=worker, lock_version=lock_version)

    def wake_job(self, key: int) -> bool:
        """A job waiting on remote work is due now (a push notification came); False if it is not waiting."""
        return self._jobs.wake_job(key)

    def activate_jobs(self, types: Sequence[str] | None, worker: str, *, max_jobs: int = 10,
                      lease_ms: int = 10_000, max_stalls: int = 3) -> list[ActivatedJob]:
        """Claim due jobs for a worker. A job whose worker died ``max_stalls`` times becomes an incident."""
        return self._jobs.activate_jobs(types, worker, max_jobs=max_jobs, lease_ms=lease_ms, max_stalls=max_stalls)

    def job_lease(self, key: int) -> tuple[str, int]:
        """The lease an activated job is held under (worker, lock version): for reports that carry none."""
        return self._jobs.job_lease(key)

    def set_job_timeout(self, key: int, timeout_ms: int) -> None:
        """The activated job's lease runs out ``timeout_ms`` from now, whoever holds it."""
        self._jobs.set_job_timeout(key, timeout_ms)

    def release_jobs(self, jobs: Sequence[ActivatedJob]) -> None:
        """Give back jobs a worker claimed but will not run (it is stopping), without counting a stall."""
        self._jobs.release_jobs(jobs)

    def extend_lease(self, job: ActivatedJob, lease_ms: int) -> bool:
        return job.key not in self.extend_leases([job], lease_ms)

    def extend_leases(self, jobs: Sequence[ActivatedJob], lease_ms: int) -> set[int]:
        """Extend the leases of a worker's jobs in one transaction; returns the keys of the jobs it no longer holds.

        One transaction for all of them: a loop holding many queued jobs renews them without a commit per job.
        """
        return self._jobs.extend_leases(jobs, lease_ms)

    # --- messages, signals, timers (engine.correlation) -------------------------------------------------

    def publish_message(self, name: str, correlation_key: str = "", variables: dict[str, Any] | None = None, *,
                        ttl_ms: int = 0, message_id: str | None = None, by: Actor | None = None) -> dict[str, Any]:
        """Publish a message: it reaches one waiting element per instance with that name and correlation key
        (and starts instances at message start events); with a time to live it is buffered for subscriptions
        that open later. Publishing again with a message id that is still buffered is refused. ``by`` (who) is
        recorded where it arrives at once (``event_received``, or ``instance_started``), not when a buffered
        message is picked up later."""
        with telemetry.command_span("publish_message", message_name=name):
            return self._events.publish_message(name, correlation_key, variables, ttl_ms=ttl_ms,
                                                message_id=message_id, by=by)

    def note_wait(self, subscription: int, note: str | None, *, failures: int = 0,
                  next_check_ms: int | None = None) -> bool:
        return self._events.note_wait(subscription, note, failures=failures, next_check_ms=next_check_ms)

    def raise_wait_incident(self, instance: int, element_instance: int, kind: str, message: str, *,
                            by: Actor | None = None) -> None:
        self._events.raise_wait_incident(instance, element_instance, kind, message, by=by)

    def broadcast_signal(self, name: str, variables: dict[str, Any] | None = None, *, by: Actor | None = None) -> int:
        """Broadcast a signal to every waiting catch event, signal start event and event subprocess."""
        with telemetry.command_span("broadcast_signal", signal_name=name):
            return self._events.broadcast_signal(name, variables, by=by)

    def fire_due_timers(self, *, limit: int = 100) -> int:
        """Fire every timer that is due now (at most ``limit``); returns how many fired."""
        return self._events.fire_due_timers(limit=limit)

    # --- agents (engine.agent.facade) -----------------------------------------------------------------

    def agent_turn(self, job: int) -> AgentTurn:
        """Everything the model step ``job`` needs: the agent's model, its whole conversation and its tools."""
        return self._agents.agent_turn(job)

    def deployment_file(self, deployment: int, name: str) -> str | None:
        """A file deployed beside the BPMN of ``deployment`` (an agent's model file), or None."""
        return self._agents.deployment_file(deployment, name)

    def conversation(self, element_instance: int, *, after: int = -1, limit: int | None = None) -> list[Any]:
        """An agent's conversation (its messages in order), kept after the agent has finished."""
        return self._agents.conversation(element_instance, after=after, limit=limit)

    def activate_ad_hoc_elements(self, instance: int, element_instance: int, elements: Sequence[str],
                                 variables: dict[str, Any] | None = None) -> None:
        """Activate inner elements of an active ad-hoc subprocess (one without an agent), each in its own scope."""
        self._agents.activate_ad_hoc_elements(instance, element_instance, elements, variables)

    # --- queries (engine.queries) -------------------------------------------------------------------

    def definitions(self, process_id: str | None = None) -> list[dict[str, Any]]:
        return self._queries.definitions(process_id)

    def deployments(self, *, limit: int = 100, after: int | None = None) -> list[dict[str, Any]]:
        """Deployments in the order they were made, each with the process versions it created."""
        return self._queries.deployments(limit=limit, after=after)

    def definition_xml(self, process_id: str, version: int | None = None) -> str:
        return self._queries.definition_xml(process_id, version)

    def process(self, process_id: str, version: int | None = None) -> Process:
        return self._queries.process(process_id, version)

    def tools(self) -> list[ToolSpec]:
        """The processes offered as tools and agent skills: each one's latest version, where it is exposed."""
        return self._queries.tools()

    def tool(self, process_id: str) -> ToolSpec:
        """The tool a process offers, or ``NotFound`` when it is not deployed or not exposed."""
        return self._queries.tool(process_id)

    def next_timer_due(self) -> int | None:
        return self._queries.next_timer_due()

    def timers(self, instance: int | None = None) -> list[dict[str, Any]]:
        return self._queries.timers(instance)

    def subscriptions(self, instance: int | None = None) -> list[dict[str, Any]]:
        return self._queries.subscriptions(instance)

    def jobs(self, instance: int) -> list[dict[str, Any]]:
        """The instance's open jobs: what its service tasks wait on."""
        return self._queries.jobs(instance)

    def next_job_due(self, types: Sequence[str] | None) -> int | None:
        return self._queries.next_job_due(types)

    def instance(self, key: int) -> InstanceView:
        return self._queries.instance(key)

    def element_owner(self, key: int) -> tuple[int, int | None]:
        """The active instance element instance ``key`` belongs to, and its scope for ``set_variables`` (None when
        ``key`` is the instance's own key); NotFound otherwise. It reads the active instances' state, newest first."""
        return self._queries.element_owner(key)

    def instances(self, *, state: str | None = None, process_id: str | None = None, limit: int = 100,
                  after: int | None = None) -> list[InstanceView]:
        return self._queries.instances(state=state, process_id=process_id, limit=limit, after=after)

    def user_tasks(self, *, state: str | None = "created", instance: int | None = None,
                   candidate_group: str | None = None, limit: int = 100, after: int | None = None,
                   sort: str | None = None) -> list[TaskView]:
        """A page of user tasks after the task ``after``; ``sort``: ``created`` (default), ``dueDate``,
        ``followUpDate`` or ``priority``, ``-`` first for descending (InvalidInput for anything else)."""
        return self._queries.user_tasks(state=state, instance=instance, candidate_group=candidate_group, limit=limit,
                                        after=after, sort=sort)

    def user_task(self, key: int) -> TaskView:
        return self._queries.user_task(key)

    def user_task_form(self, key: int) -> LinkedForm | None:
        """The form the user task links (``zeebe:formDefinition``), resolved by its binding; None without one."""
        return self._forms.task_form(key)

    def start_form(self, process_id: str, version: int | None = None) -> LinkedForm | None:
        """The form of the process's none start event (at ``version``, or its latest); None without one."""
        return self._forms.start_form(process_id, version)

    def incidents(self, *, state: str | None = "open", instance: int | None = None, limit: int = 100,
                  after: int | None = None) -> list[IncidentView]:
        return self._queries.incidents(state=state, instance=instance, limit=limit, after=after)

    def journal(self, instance: int, *, after: int = 0, limit: int = 1000) -> list[dict[str, Any]]:
        return self._queries.journal(instance, after=after, limit=limit)

    def journal_heads(self, instances: Sequence[int]) -> dict[int, int]:
        """The last journal position of each of ``instances`` (those with none, or unknown, are left out): what a
        watcher of many instances reads to see which changed since it last looked, in one query."""
        return self._queries.journal_heads(instances)


def _open_task(tx: StoreTx, key: int) -> UserTaskRow:
    try:
        return tx.user_tasks.open(key)
    except RowMissing as exc:
        raise NotFound(str(exc)) from None
    except StateConflict as exc:
        raise Conflict(str(exc)) from None
