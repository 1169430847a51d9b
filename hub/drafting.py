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

from pathlib import Path
from typing import Any

from discover.compare import compare_versions
from discover.drafts import Ask, Draft, DraftState
from discover.exceptions import DiscoverError
from engine import Engine
from engine.agent.turn import AgentTurn

__all__ = ["draft_json", "model_ask"]


def model_ask(model: str, files_root: Path | None = None) -> Ask:
    """The conversation -> the answer of ``model`` (``engine.agent.turn``'s format)."""
    from protocols.llm import ModelError, ModelResolver  # the model stack loads only for a draft

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

