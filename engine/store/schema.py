"""The tables. Alembic migrations under ``migrations/`` create and evolve them; this is their current shape.

Times are integer milliseconds since the epoch (UTC): portable across SQLite
and PostgreSQL and cheap to compare in the claim queries.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    text,
)

metadata = MetaData()
_WITH_INCIDENT = "status = 'active' AND incidents > 0"  # the instances a person must look at: few, indexed apart
# Partial indexes hold only the rows their queries look up, so the others' commits write no page of them (0016)
_STARTED_BY_KEY = "start_key IS NOT NULL"
_ENDED = "ended_at IS NOT NULL"
_STARTED_BY = "started_by IS NOT NULL"
_LOCKED = "state = 'locked'"

key_blocks = Table(
    "key_blocks",
    metadata,
    Column("name", String(32), primary_key=True),
    Column("next_key", BigInteger, nullable=False),
)

deployments = Table(
    "deployments",
    metadata,
    Column("key", BigInteger, primary_key=True, autoincrement=False),
    Column("name", String(255), nullable=False),
    Column("created_at", BigInteger, nullable=False),
)

# Files deployed beside the BPMN (an agent's scripted or rules model file, later forms and decisions): stored with
# the deployment, so a process finds them wherever the hub runs and whatever its working directory.
deployment_resources = Table(
    "deployment_resources",
    metadata,
    Column("deployment_key", BigInteger, primary_key=True, autoincrement=False),
    Column("name", String(255), primary_key=True),
    Column("checksum", String(64), nullable=False),
    Column("content", Text, nullable=False),
    Column("created_at", BigInteger, nullable=False),
)

# DMN decisions, versioned per decision id as processes are; the DMN text is a deployment resource.
decisions = Table(
    "decisions",
    metadata,
    Column("key", BigInteger, primary_key=True, autoincrement=False),
    Column("decision_id", String(255), nullable=False),
    Column("version", Integer, nullable=False),
    Column("name", String(255)),
    Column("version_tag", String(255)),
    Column("deployment_key", BigInteger, nullable=False),
    Column("resource_name", String(255), nullable=False),
    Column("checksum", String(64), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    UniqueConstraint("decision_id", "version", name="uq_decisions_decision_version"),
    Index("ix_decisions_tag", "decision_id", "version_tag"),
    Index("ix_decisions_checksum", "decision_id", "checksum"),
)

# Camunda Forms (form-js JSON), versioned per form id; the JSON text is a deployment resource.
forms = Table(
    "forms",
    metadata,
    Column("key", BigInteger, primary_key=True, autoincrement=False),
    Column("form_id", String(255), nullable=False),
    Column("version", Integer, nullable=False),
    Column("version_tag", String(255)),
    Column("deployment_key", BigInteger, nullable=False),
    Column("resource_name", String(255), nullable=False),
    Column("checksum", String(64), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    UniqueConstraint("form_id", "version", name="uq_forms_form_version"),
    Index("ix_forms_tag", "form_id", "version_tag"),
    Index("ix_forms_checksum", "form_id", "checksum"),
)

definitions = Table(
    "definitions",
    metadata,
    Column("key", BigInteger, primary_key=True, autoincrement=False),
    Column("process_id", String(255), nullable=False),
    Column("version", Integer, nullable=False),
    Column("name", String(255)),
    Column("deployment_key", BigInteger, nullable=False),
    Column("resource_name", String(255), nullable=False),
    Column("checksum", String(64), nullable=False),
    Column("xml", Text, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    # offered to MCP and A2A clients: deployed with expose, or marked <agenthub:tool/> in the model
    Column("exposed", Boolean, nullable=False, server_default=false()),
    UniqueConstraint("process_id", "version", name="uq_definitions_process_version"),
)

instances = Table(
    "instances",
    metadata,
    Column("key", BigInteger, primary_key=True, autoincrement=False),
    Column("process_id", String(255), nullable=False),
    Column("definition_key", BigInteger, nullable=False),
    Column("version", Integer, nullable=False),
    Column("status", String(16), nullable=False),
    Column("incidents", Integer, nullable=False, default=0),
    Column("parent_instance", BigInteger),
    Column("created_at", BigInteger, nullable=False),
    Column("ended_at", BigInteger),
    Column("rev", Integer, nullable=False),
    Column("start_key", String(255)),  # correlation key of the message that started it
    Column("state", Text, nullable=False),
    Column("started_by", String(255)),  # the principal that started it, as in its state (migration 0018)
    Index("ix_instances_status", "status", "key"),
    Index("ix_instances_process", "process_id", "key"),
    Index("ix_instances_parent", "parent_instance"),
    Index("ix_instances_start_key", "process_id", "start_key", "status", sqlite_where=text(_STARTED_BY_KEY),
          postgresql_where=text(_STARTED_BY_KEY)),
    # the console's filters and counts (migration 0011)
    Index("ix_instances_version", "process_id", "version", "status", "key"),
    Index("ix_instances_process_status", "process_id", "status", "key"),
    Index("ix_instances_created", "created_at", "key"),
    Index("ix_instances_started_by", "started_by", "key", sqlite_where=text(_STARTED_BY),
          postgresql_where=text(_STARTED_BY)),
    Index("ix_instances_ended", "ended_at", "key", sqlite_where=text(_ENDED), postgresql_where=text(_ENDED)),
    Index("ix_instances_incident", "process_id", "version", "key", sqlite_where=text(_WITH_INCIDENT),
          postgresql_where=text(_WITH_INCIDENT)),
)

journal = Table(
    "journal",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("instance_key", BigInteger, nullable=False),
    Column("type", String(48), nullable=False),
    Column("element_id", String(255)),
    Column("element_instance", BigInteger),
    Column("data", Text),
    Column("at", BigInteger, nullable=False),
    # an instance's journal in order, and the console's heat map from the index alone (one index: 0016)
    Index("ix_journal_instance", "instance_key", "id", "type", "element_id"),
)

jobs = Table(
    "jobs",
    metadata,
    Column("key", BigInteger, primary_key=True, autoincrement=False),
    Column("instance_key", BigInteger, nullable=False),
    Column("element_instance", BigInteger, nullable=False),
    Column("element_id", String(255), nullable=False),
    Column("process_id", String(255), nullable=False),
    Column("type", String(255), nullable=False),
    Column("state", String(16), nullable=False),  # ready | locked | failed
    Column("retries", Integer, nullable=False),
    Column("due_at", BigInteger, nullable=False),
    Column("lock_owner", String(128)),
    Column("lock_expires_at", BigInteger),
    Column("lock_version", Integer, nullable=False, default=0),
    Column("stalls", Integer, nullable=False, default=0),
    Column("headers", Text, nullable=False),
    Column("error_message", Text),
    Column("created_at", BigInteger, nullable=False),
    Column("wait_reason", Text),  # set while the job waits on remote work (WaitRemote): ready, due at the next check
    Column("failures", Integer, nullable=False, default=0, server_default="0"),  # failed attempts: the backoff
    Index("ix_jobs_claim", "state", "type", "due_at"),
    Index("ix_jobs_lock", "state", "lock_expires_at", sqlite_where=text(_LOCKED), postgresql_where=text(_LOCKED)),
    Index("ix_jobs_instance", "instance_key"),
    Index("ix_jobs_due", "state", "due_at", "key"),
)

user_tasks = Table(
    "user_tasks",
    metadata,
    Column("key", BigInteger, primary_key=True, autoincrement=False),
    Column("instance_key", BigInteger, nullable=False),
    Column("element_instance", BigInteger, nullable=False),
    Column("element_id", String(255), nullable=False),
    Column("process_id", String(255), nullable=False),
    Column("name", String(255), nullable=False),
    Column("state", String(16), nullable=False),  # created | completed | canceled
    Column("assignee", String(255)),
    Column("candidate_groups", Text, nullable=False),
    Column("candidate_users", Text, nullable=False),
    Column("due_date", String(64)),
    Column("follow_up_date", String(64)),
    Column("form_key", String(255)),
    Column("priority", Integer, nullable=False),
    Column("details", Text),
    Column("variables", Text),
    Column("created_at", BigInteger, nullable=False),
    Column("ended_at", BigInteger),
    Column("due_at", BigInteger),  # due_date's instant (epoch ms): the task list sorts by it
    Column("follow_up_at", BigInteger),  # follow_up_date's instant (epoch ms)
    Column("escalated_at", BigInteger),  # when an approval past its due date was escalated (onTimeout="escalate")
    Index("ix_user_tasks_state", "state", "key"),
    Index("ix_user_tasks_instance", "instance_key"),
    Index("ix_user_tasks_due", "state", "due_at", "key"),
    Index("ix_user_tasks_follow_up", "state", "follow_up_at", "key"),
    Index("ix_user_tasks_priority", "state", "priority", "key"),
)

# A user task's candidate groups, one row each: a group's open tasks are one indexed query with a LIMIT.
user_task_groups = Table(
    "user_task_groups",
    metadata,
    Column("group_name", String(255), primary_key=True),
    Column("task_key", BigInteger, primary_key=True, autoincrement=False),
)

incidents = Table(
    "incidents",
    metadata,
    Column("key", BigInteger, primary_key=True, autoincrement=False),
    Column("instance_key", BigInteger, nullable=False),
    Column("element_instance", BigInteger, nullable=False),
    Column("element_id", String(255), nullable=False),
    Column("process_id", String(255), nullable=False),
    Column("type", String(32), nullable=False),
    Column("message", Text, nullable=False),
    Column("job_key", BigInteger),
    Column("state", String(16), nullable=False),  # open | resolved
    Column("created_at", BigInteger, nullable=False),
    Column("resolved_at", BigInteger),
    Index("ix_incidents_state", "state", "key"),
    Index("ix_incidents_instance", "instance_key"),
)

timers = Table(
    "timers",
    metadata,
    Column("key", BigInteger, primary_key=True, autoincrement=False),
    Column("instance_key", BigInteger),  # null: a timer start event of a process definition
    Column("element_instance", BigInteger),
    Column("definition_key", BigInteger),
    Column("process_id", String(255), nullable=False),
    Column("element_id", String(255), nullable=False),
    Column("due_at", BigInteger, nullable=False),
    Column("remaining", Integer),  # repetitions after the next one; null: forever
    Column("interval", String(64)),
    Column("cron", String(128)),
    Column("created_at", BigInteger, nullable=False),
    Index("ix_timers_due", "due_at"),
    Index("ix_timers_instance", "instance_key"),
    Index("ix_timers_definition", "definition_key"),
)

subscriptions = Table(
    "subscriptions",
    metadata,
    Column("key", BigInteger, primary_key=True, autoincrement=False),
    Column("kind", String(16), nullable=False),  # message | signal
    Column("name", String(255), nullable=False),
    Column("correlation_key", String(255)),
    Column("instance_key", BigInteger),  # null: a start event of a process definition
    Column("element_instance", BigInteger),
    Column("definition_key", BigInteger),
    Column("process_id", String(255), nullable=False),
    Column("element_id", String(255), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    # what keeps the wait going from outside says about it (a poll that failed): for waitingFor, never a rule
    Column("wait_note", Text),
    Column("wait_failures", Integer),  # the note's failures in a row
    Column("next_check_at", BigInteger),  # when the wait is checked next (millis)
    Index("ix_subscriptions_name", "kind", "name", "correlation_key"),
    Index("ix_subscriptions_instance", "instance_key"),
    Index("ix_subscriptions_definition", "definition_key"),
)

messages = Table(
    "messages",
    metadata,
    Column("key", BigInteger, primary_key=True, autoincrement=False),
    Column("name", String(255), nullable=False),
    Column("correlation_key", String(255), nullable=False),
    Column("message_id", String(255)),
    Column("variables", Text, nullable=False),
    Column("expires_at", BigInteger, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Index("ix_messages_name", "name", "correlation_key", "expires_at"),
    Index("ix_messages_id", "message_id"),
    Index("ix_messages_expiry", "expires_at"),
)

message_correlations = Table(
    "message_correlations",
    metadata,
    Column("message_key", BigInteger, primary_key=True, autoincrement=False),
    Column("instance_key", BigInteger, primary_key=True, autoincrement=False),
)

conversations = Table(  # agents' conversations: each message stored once, read back by the model step
    "conversations",
    metadata,
    Column("owner", BigInteger, primary_key=True, autoincrement=False),  # the agent's element instance
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("instance_key", BigInteger, nullable=False),
    Column("message", Text, nullable=False),
    Column("at", BigInteger, nullable=False),
    Index("ix_conversations_instance", "instance_key"),
)
