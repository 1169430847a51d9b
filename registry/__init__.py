"""The catalog: local users, API tokens, upstream MCP servers with pinned tools, remote A2A agents, A2A push configs.

Owns: the registry's tables (in the hub's database, with their own Alembic
history), the local users with their groups (``registry.users``), hashing
and verifying API tokens (a person's token verifies as their user), pinning tool definitions and
agent cards by hash and deciding whether each may be called, the audit
trail of registry changes, the webhook configs of A2A tasks with the
durable outbox of their notifications (``registry.push``), and the A2A
message ids each caller sent, kept 24 hours for deduplication
(``registry.a2a_messages``), the messages exchanged on the hub's A2A tasks, their history
(``registry.a2a_history``), and the remote A2A tasks that service tasks wait
on without a worker (``registry.a2a_calls``) and the upstream MCP tasks likewise
(``registry.mcp_calls``), and the virtual MCP servers
served at ``/mcp/{name}`` (and ``/a2a/{name}``) (``registry.virtual``), and the gateway's
daily call budgets (``registry.budgets``).

Does not know: HTTP, MCP or A2A wire formats, or the engine. Fetching tool
lists and cards from the network is the protocols layer's job; it hands
plain dicts to this package.

    registry = Registry.open("sqlite:///agenthub.db")
    info, secret = registry.tokens.create("ci", ["start", "read"])
"""

from __future__ import annotations

from registry.a2a_calls import RemoteCall, RemoteCalls
from registry.a2a_history import TaskHistory
from registry.a2a_messages import MessageIds
from registry.agents import AgentRegistry, RemoteAgent
from registry.budgets import BudgetExhausted, CallBudgets
from registry.exceptions import InvalidEntry, RegistryConflict, RegistryError, RegistryNotFound, ToolBlocked
from registry.mcp import McpRegistry, McpServer, PinnedTool, SyncReport, tool_hash
from registry.mcp_calls import McpCall, McpCalls
from registry.pins import PinState
from registry.push import PushConfig, PushDelivery, PushStore
from registry.sessions import DEFAULT_SESSION_S, Session, Sessions
from registry.store import RegistryStore, SchemaTemplates
from registry.tokens import SCOPES, Principal, TokenInfo, Tokens, generate_token, parse_scopes, secret_digest
from registry.users import User, Users, parse_groups, valid_user_id
from registry.virtual import VirtualServer, VirtualServers


class Registry:
    """The registry's parts over one store."""

    def __init__(self, store: RegistryStore) -> None:
        self.store = store
        self.tokens = Tokens(store)
        self.users = Users(store)
        self.mcp = McpRegistry(store)
        self.agents = AgentRegistry(store)
        self.push = PushStore(store)
        self.a2a_messages = MessageIds(store)
        self.a2a_history = TaskHistory(store)
        self.a2a_calls = RemoteCalls(store)
        self.mcp_calls = McpCalls(store)
        self.sessions = Sessions(store, self.tokens)
        self.virtual = VirtualServers(store)
        self.budgets = CallBudgets(store)

    @classmethod
    def open(cls, url: str, *, templates: SchemaTemplates | None = None) -> Registry:
        return cls(RegistryStore(url, templates=templates))

    def close(self) -> None:
        self.store.close()


__all__ = [
    "DEFAULT_SESSION_S",
    "SCOPES",
    "AgentRegistry",
    "BudgetExhausted",
    "CallBudgets",
    "InvalidEntry",
    "McpCall",
    "McpCalls",
    "McpRegistry",
    "McpServer",
    "MessageIds",
    "PinState",
    "PinnedTool",
    "Principal",
    "PushConfig",
    "PushDelivery",
    "PushStore",
    "Registry",
    "RegistryConflict",
    "RegistryError",
    "RegistryNotFound",
    "RegistryStore",
    "RemoteAgent",
    "RemoteCall",
    "RemoteCalls",
    "SchemaTemplates",
    "Session",
    "Sessions",
    "SyncReport",
    "TaskHistory",
    "TokenInfo",
    "Tokens",
    "ToolBlocked",
    "User",
    "Users",
    "VirtualServer",
    "VirtualServers",
    "generate_token",
    "parse_groups",
    "parse_scopes",
    "secret_digest",
    "tool_hash",
    "valid_user_id",
]
