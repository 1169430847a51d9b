"""The in-memory store's tables: dicts of frozen rows, copied whole by each transaction."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

from engine.store.rows import (
    DecisionRow,
    DefinitionRow,
    DeploymentRow,
    FormRow,
    IncidentRow,
    InstanceRow,
    JobRow,
    JournalRow,
    MessageRow,
    SubscriptionRow,
    TimerRow,
    UserTaskRow,
)


@dataclass(slots=True)
class Tables:
    """Every row the store holds. ``copy`` is what a transaction works on."""

    counters: dict[str, int] = field(default_factory=lambda: {"key": 1, "journal": 0})
    deployments: dict[int, DeploymentRow] = field(default_factory=dict)
    resources: dict[tuple[int, str], str] = field(default_factory=dict)  # (deployment, name) -> content
    definitions: dict[int, DefinitionRow] = field(default_factory=dict)
    decisions: dict[int, DecisionRow] = field(default_factory=dict)
    forms: dict[int, FormRow] = field(default_factory=dict)
    xml: dict[int, str] = field(default_factory=dict)
    instances: dict[int, InstanceRow] = field(default_factory=dict)
    journal: dict[int, JournalRow] = field(default_factory=dict)
    jobs: dict[int, JobRow] = field(default_factory=dict)
    user_tasks: dict[int, UserTaskRow] = field(default_factory=dict)
    incidents: dict[int, IncidentRow] = field(default_factory=dict)
    timers: dict[int, TimerRow] = field(default_factory=dict)
    subscriptions: dict[int, SubscriptionRow] = field(default_factory=dict)
    messages: dict[int, MessageRow] = field(default_factory=dict)
    correlations: dict[tuple[int, int], None] = field(default_factory=dict)  # (message, instance)
    conversations: dict[tuple[int, int], tuple[int, str]] = field(default_factory=dict)  # (owner, seq) -> row

    def copy(self) -> Tables:
        copied: dict[str, Any] = {f.name: dict(getattr(self, f.name)) for f in fields(self)}
        return Tables(**copied)

    def restore(self, snapshot: Tables) -> None:
        """Put a ``copy`` back in place (a savepoint rolled back), keeping the key counter where it is."""
        key = self.counters["key"]
        for f in fields(self):
            setattr(self, f.name, getattr(snapshot, f.name))
        self.counters["key"] = key

    def next_key(self) -> int:
        key = self.counters["key"]
        self.counters["key"] = key + 1
        return key
