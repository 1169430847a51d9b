"""The registry's tables. Migrations under ``migrations/`` create and evolve them; this is their current shape.

The registry shares the engine's database but not its tables or its migration
history: its Alembic version lives in ``registry_alembic_version``. Times are
integer milliseconds since the epoch (UTC).
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, Index, Integer, MetaData, String, Table, Text, false

metadata = MetaData()

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("name", String(255), nullable=False),
    # SHA-256 of the token: tokens are 256 random bits, so a fast hash is enough and a
    # stolen table gives nothing to replay.
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("scopes", Text, nullable=False),  # JSON list
    Column("created_at", BigInteger, nullable=False),
    Column("revoked_at", BigInteger),
    Column("last_used_at", BigInteger),
    # The user a person's token was issued to (migration 0004); NULL for a machine client's token. No foreign key:
    # a removed user's revoked tokens stay listed, and verifying joins the user and refuses when it is gone.
    Column("user_id", String(64)),
    Index("ix_api_tokens_user_id", "user_id"),
)

mcp_servers = Table(
    "mcp_servers",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("transport", String(16), nullable=False),  # http | stdio
    Column("url", Text),
    Column("command", Text),  # JSON argv, never run through a shell
    Column("headers", Text, nullable=False, server_default="{}"),  # JSON: name -> literal or "env:VAR"
    Column("bearer_env", String(255)),  # the bearer secret is read from this variable at call time
    Column("env", Text, nullable=False, server_default="[]"),  # JSON: variables a stdio server may inherit
    Column("timeout_s", Integer, nullable=False, server_default="60"),
    Column("created_at", BigInteger, nullable=False),
    Column("synced_at", BigInteger),
)

mcp_tools = Table(
    "mcp_tools",
    metadata,
    Column("server", String(64), primary_key=True),
    Column("name", String(255), primary_key=True),
    Column("definition", Text, nullable=False),  # JSON, as last seen upstream
    Column("hash", String(64), nullable=False),  # of the definition as last seen
    Column("approved_definition", Text),
    Column("approved_hash", String(64)),  # what an admin approved; calls need hash == approved_hash
    Column("state", String(16), nullable=False),  # approved | pending | changed | removed
    Column("updated_at", BigInteger, nullable=False),
)

a2a_agents = Table(
    "a2a_agents",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("url", Text, nullable=False),
    Column("card", Text, nullable=False),  # JSON, as last fetched
    Column("card_hash", String(64), nullable=False),
    Column("approved_card", Text),
    Column("approved_hash", String(64)),
    Column("token_env", String(255)),
    Column("state", String(16), nullable=False),  # approved | changed
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
)

registry_events = Table(
    "registry_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", BigInteger, nullable=False),
    Column("kind", String(64), nullable=False),
    Column("subject", String(255), nullable=False),
    Column("actor", String(255)),
    Column("data", Text),  # JSON, never a secret
    Index("ix_registry_events_subject", "subject", "id"),
)

# --- A2A push notifications (migration 0002) ---------------------------------------------------

a2a_push_configs = Table(
    "a2a_push_configs",
    metadata,
    Column("task_id", String(32), primary_key=True),  # the A2A task id: a process instance key
    Column("config_id", String(255), primary_key=True),
    Column("owner", String(255), nullable=False),  # the principal that set it: only it sees the config
    Column("url", Text, nullable=False),
    Column("token", Text),  # sent as X-A2A-Notification-Token; write-only over A2A
    Column("auth_scheme", String(64)),
    Column("auth_credentials", Text),  # sent as "Authorization: <scheme> <credentials>"; write-only over A2A
    Column("created_at", BigInteger, nullable=False),
    Column("notified", String(255)),  # the task state last queued for delivery to it
    Column("done", Integer, nullable=False, server_default="0"),  # 1 once the task's final state is queued
    Index("ix_a2a_push_configs_done", "done", "task_id"),
)

a2a_push_deliveries = Table(
    "a2a_push_deliveries",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("task_id", String(32), nullable=False),
    Column("config_id", String(255), nullable=False),
    Column("payload", Text, nullable=False),  # JSON: the task snapshot as an A2A StreamResponse
    Column("state", String(16), nullable=False),  # pending | delivered | failed | refused | dropped
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_at", BigInteger, nullable=False),
    Column("claimed_until", BigInteger),  # a dispatcher's lease; an expired one is claimed again
    Column("claim", String(32)),
    Column("last_status", Integer),
    Column("last_error", Text),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    Index("ix_a2a_push_deliveries_due", "state", "next_at"),
    Index("ix_a2a_push_deliveries_config", "task_id", "config_id", "id"),
)

# --- A2A message ids (migration 0003) -------------------------------------------------------------

a2a_message_ids = Table(
    "a2a_message_ids",
    metadata,
    Column("caller", String(255), primary_key=True),  # the principal that sent the message
    Column("message_id", String(255), primary_key=True),  # as the caller chose it
    Column("task_id", String(32), nullable=False),  # the task the message started or continued
    Column("accepted_at", BigInteger, nullable=False),
    Column("expires_at", BigInteger, nullable=False),  # forgotten after this: a later resend is new work
    Index("ix_a2a_message_ids_expires", "expires_at"),
)

# --- local users (migration 0004) -----------------------------------------------------------------

users = Table(
    "users",
    metadata,
    Column("id", String(64), primary_key=True),  # what the user is known by: the principal's name
    Column("name", String(255), nullable=False),  # the display name
    Column("groups", Text, nullable=False, server_default="[]"),  # JSON: sorted, distinct group names
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
)

# --- console sessions (migration 0005) -----------------------------------------------------------

console_sessions = Table(
    "console_sessions",
    metadata,
    Column("id_hash", String(64), primary_key=True),  # SHA-256 of the cookie's value: a stolen table signs no one in
    Column("token_id", String(32)),  # the API token signed in with; NULL for an OpenID Connect sign-in
    Column("principal", Text, nullable=False),  # JSON: the principal as established at sign-in (never a secret)
    Column("csrf", String(64), nullable=False),  # the session's CSRF token, embedded in every form
    Column("created_at", BigInteger, nullable=False),
    Column("expires_at", BigInteger, nullable=False),
    Index("ix_console_sessions_expires_at", "expires_at"),
)

# --- A2A tasks the hub's a2a service tasks wait on (migration 0006) -------------------------------

a2a_remote_calls = Table(
    "a2a_remote_calls",
    metadata,
    Column("job", BigInteger, primary_key=True, autoincrement=False),  # the engine's job that waits on the task
    Column("instance", BigInteger, nullable=False),  # the job's process instance
    Column("agent", String(255), nullable=False),  # the registered agent's name
    Column("task_id", String(255), nullable=False),  # the task's id at that agent
    Column("since", BigInteger, nullable=False),  # when the job first left its worker to wait
    # sha256 of the token the call gave the agent for push notifications (migration 0010); null: none given
    Column("push_token_hash", String(64)),
)

# --- upstream MCP tasks that mcp jobs wait on without a worker (migration 0012) -----------------------------

mcp_remote_calls = Table(
    "mcp_remote_calls",
    metadata,
    Column("job", BigInteger, primary_key=True, autoincrement=False),  # the engine's job that waits on the task
    Column("instance", BigInteger, nullable=False),  # the job's process instance
    Column("server", String(255), nullable=False),  # the registered MCP server's name
    Column("task_id", String(255), nullable=False),  # the task's id at that server
    Column("since", BigInteger, nullable=False),  # when the job first left its worker to wait
)

# --- virtual MCP servers (migration 0007) -----------------------------------------------------------

virtual_servers = Table(
    "virtual_servers",
    metadata,
    Column("name", String(64), primary_key=True),  # served at /mcp/{name}
    Column("description", Text, nullable=False, server_default=""),
    Column("processes", Text, nullable=False, server_default="[]"),  # JSON: process ids
    Column("tools", Text, nullable=False, server_default="[]"),  # JSON: federated names, server__tool
    Column("agents", Text, nullable=False, server_default="[]"),  # JSON: registered A2A agents' names
    Column("allow_users", Text, nullable=False, server_default="[]"),  # JSON: principals' names
    Column("allow_groups", Text, nullable=False, server_default="[]"),  # JSON: group names
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    Column("a2a", Boolean, nullable=False, server_default=false()),  # also an A2A agent at /a2a/{name} (0008)
)

# --- the gateway's daily call budgets (migration 0008) -----------------------------------------

gateway_budget_usage = Table(
    "gateway_budget_usage",
    metadata,
    Column("budget", String(300), primary_key=True),  # "principal:<name>" or "tool:<federated name>"
    Column("day", String(10), primary_key=True),  # the UTC day, YYYY-MM-DD
    Column("used", Integer, nullable=False),  # calls admitted that day
)

# --- the messages of the hub's A2A tasks, their history (migration 0011) ---------------------------

a2a_task_messages = Table(
    "a2a_task_messages",
    metadata,
    Column("task_id", String(32), primary_key=True),  # the hub's task: an instance key
    Column("position", Integer, primary_key=True),  # 0, 1, ... in the order the messages were exchanged
    Column("message_id", String(255), nullable=False),  # the message's own id, as its sender chose it
    Column("digest", String(64)),  # a caller's message: the hash of its parts, to tell a resend from a new message
    Column("message", Text, nullable=False),  # the A2A 1.0 message, as JSON
    Column("recorded_at", BigInteger, nullable=False),
)
