"""What an admin reviews before approving tools: each pinned tool's state and the fields that changed.

Shared by ``agenthub mcp-server tools`` and ``GET /api/v1/mcp-servers/{name}/tools``.
The changed fields compare the definition seen upstream with the approved one.
"""

from __future__ import annotations

from typing import Any

from registry import PinnedTool, Registry

__all__ = ["STATE_LABELS", "changed_fields", "review"]

STATE_LABELS = {
    "approved": "approved",
    "changed": "changed (blocked)",
    "pending": "pending (new, blocked)",
    "removed": "removed",
}


def changed_fields(registry: Registry, tool: PinnedTool) -> list[str]:
    """The pinned fields that differ from what was approved (none for a tool that is not held as changed)."""
    return tool.changed_fields() if tool.state == "changed" else []


def review(registry: Registry, server: str) -> list[dict[str, Any]]:
    """Each tool of ``server`` as JSON, with ``changedFields`` for the changed ones."""
    return [{**t.to_json(), "changedFields": changed_fields(registry, t)} for t in registry.mcp.tools(server)]
