"""What the hub adds to discover's drafts: the model call (discover does not know the providers) and the
draft as the surfaces print it, with the measured result once it is deployed.

The model is any model string the agents use (``protocols.llm``: litellm
for providers, ``scripted:PATH`` for tests and demos, ``offline``, which
cannot write BPMN). It is asked once, with the conversation
``discover.draft_checks`` builds and no tools; a provider's failure is a
``DiscoverError`` naming the model, so every surface reports it as it
reports a draft's other problems.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from discover.compare import compare_versions
from discover.drafts import MAX_GOAL, Ask, Draft, Drafts, DraftState
from discover.exceptions import DiscoverError, UnknownProcess
from engine import Engine
from engine.agent.turn import AgentTurn
from protocols.llm import ModelError, ModelResolver
from protocols.mcp import BuiltinTool, ToolRefusal
from registry import Principal
from registry.store import RegistryStore

__all__ = ["DRAFT_TOOL", "draft_json", "draft_tool", "model_ask"]

DRAFT_TOOL = "agenthub_draft"


def model_ask(model: str, files_root: Path | None = None) -> Ask:
    """The conversation -> the answer of ``model`` (``engine.agent.turn``'s format)."""
    resolver = ModelResolver.standard(files_root=files_root)

    def ask(messages: list[dict[str, Any]]) -> dict[str, Any]:
        turn = AgentTurn(job=0, instance=0, element_id="draft", element_instance=0, model=model,
                         model_endpoint=None, messages=messages)
        try:
            return resolver.resolve(model).complete(turn).answer
        except (ModelError, ValueError) as exc:
            raise DiscoverError(f"model '{model}' could not draft the change: {exc}") from None

    return ask


def draft_json(engine: Engine, draft: Draft, *, full: bool = False) -> dict[str, Any]:
    """The draft's JSON; a deployed one, shown in full, carries ``result``: its version against the one it was
    drawn from, on the same measures (``discover.compare``)."""
    found = draft.to_json(full=full)
    if full and draft.state == DraftState.DEPLOYED and draft.deployed_version is not None:
        found["result"] = compare_versions(engine, draft.process_id, draft.base_version, draft.deployed_version)
    return found


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
