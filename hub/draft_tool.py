"""``agenthub_draft``: discover's drafts as a tool of the hub's MCP server (``McpEndpoint(extra_tools=...)``).

Apart from ``hub.drafting`` so that the CLI's draft commands do not import
the MCP SDK (a second of start-up for every ``agenthub`` call).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from discover.drafts import MAX_GOAL, Drafts
from discover.exceptions import DiscoverError, UnknownProcess
from engine import Engine
from hub.drafting import model_ask
from protocols.mcp import BuiltinTool, ToolRefusal
from registry import Principal
from registry.store import RegistryStore

__all__ = ["DRAFT_TOOL", "draft_tool"]

DRAFT_TOOL = "agenthub_draft"


def draft_tool(engine: Engine, store: RegistryStore, files_root: Path | None = None) -> BuiltinTool:
    """``agenthub_draft`` for the hub's MCP server: what ``agenthub draft`` and ``POST /api/v1/discover/drafts`` do,
    with the ``deploy`` scope; the answer is the draft with its checks and diff (not its BPMN: ``agenthub draft show``
    or the console has it). Deploying still waits for a person of the owner group."""

    async def propose(principal: Principal, args: dict[str, Any]) -> dict[str, Any]:
        ask = model_ask(args["model"], files_root)

        def run() -> dict[str, Any]:
            draft = Drafts(store, engine).propose(args["processId"], args["goal"], args["model"], ask,
                                                  by=principal.name)
            found = draft.to_json()
            found.update(checks=draft.checks, diff=draft.diff)
            return found

        try:
            return await asyncio.to_thread(run)
        except UnknownProcess as exc:
            raise ToolRefusal("notFound", str(exc)) from None
        except DiscoverError as exc:
            raise ToolRefusal("draftRefused", str(exc)) from None

    schema = {
        "type": "object",
        "properties": {
            "processId": {"type": "string", "minLength": 1, "maxLength": 255,
                          "description": "The deployed process to change (its latest version)"},
            "goal": {"type": "string", "minLength": 1, "maxLength": MAX_GOAL,
                     "description": "What the change should achieve, in words"},
            "model": {"type": "string", "minLength": 1, "maxLength": 500,
                      "description": "The model that drafts it (a litellm model name, as agents use)"},
        },
        "required": ["processId", "goal", "model"],
        "additionalProperties": False,
    }
    return BuiltinTool(
        DRAFT_TOOL, "deploy",
        "Ask a model to draft a changed version of a process towards a goal, from its model and its measured "
        "brief. The draft is checked (parser and lint), laid out and diffed against the current version; it is "
        "deployed only when a person of the process's owner group, other than you, approves it "
        "(agenthub draft approve, or the console's Drafts page).",
        schema, False, propose,
    )
