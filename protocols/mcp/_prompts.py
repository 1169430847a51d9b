"""Prompts and completions: the prompt templates the exposed processes declare, rendered for the client.

- ``prompts/list``: each exposed process's ``<agenthub:prompt>`` declarations
  (``engine.declarations``); where two processes declare one name, the one
  the engine lists first keeps it, as with tool names.
- ``prompts/get``: the messages with the arguments substituted. A required
  argument the client left out is asked of its user when the client offers
  elicitation (a server request on 2025-era sessions; on 2026-07-28 an
  ``InputRequiredResult`` keyed ``arguments``, answered by calling again),
  else, or when the user declines, it is ``INVALID_PARAMS`` naming it.
- ``completion/complete``: MCP completes only prompt arguments and resource
  template parts. A prompt argument offers, in this order, the values its
  own ``enum`` lists, those of the process tool's input of the same name,
  else the values that input took in the process's latest instances
  (``RECENT_INSTANCES``, most recent first). The ``{instance}`` of
  ``agenthub://instances/{instance}`` completes to recent instance keys.

Listing and getting prompts needs the ``start`` scope (prompts are how one
starts a process's work), completing recent values needs ``read`` as well:
they come from instances' variables.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from mcp.shared.exceptions import MCPError
from mcp_types import (
    INVALID_PARAMS,
    AudioContent,
    BlobResourceContents,
    CompleteRequestParams,
    CompleteResult,
    Completion,
    ContentBlock,
    ElicitRequest,
    ElicitRequestFormParams,
    ElicitResult,
    EmbeddedResource,
    GetPromptRequestParams,
    GetPromptResult,
    ImageContent,
    InputRequiredResult,
    ListPromptsResult,
    PaginatedRequestParams,
    Prompt,
    PromptArgument,
    PromptMessage,
    PromptReference,
    TextContent,
    TextResourceContents,
)

from engine import Engine
from engine.declarations import PromptSpec, render
from engine.exposure import ToolSpec
from protocols.mcp._context import Context, in_thread, principal_of, require
from protocols.mcp._elicitation import can_elicit, can_elicit_in_result, elicit_now

RECENT_INSTANCES = 50
"""How many of a process's latest instances a completion reads recent values from."""
MAX_VALUES = 100
"""The most values one completion answers with (MCP's own limit)."""
ELICIT_WAIT_S = 300.0
"""How long ``prompts/get`` waits for the client's user to give missing arguments (2025-era server request)."""


class Prompts:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    async def _by_name(self) -> dict[str, tuple[PromptSpec, ToolSpec]]:
        found: dict[str, tuple[PromptSpec, ToolSpec]] = {}
        for spec in await in_thread(self.engine.tools):
            for prompt in spec.prompts:
                found.setdefault(prompt.name, (prompt, spec))
        return found

    async def list_prompts(self, ctx: Context, params: PaginatedRequestParams | None) -> ListPromptsResult:
        if not principal_of(ctx).has("start"):
            return ListPromptsResult(prompts=[])
        return ListPromptsResult(prompts=[_prompt(p) for p, _ in (await self._by_name()).values()])

    async def get(self, ctx: Context, params: GetPromptRequestParams) -> GetPromptResult | InputRequiredResult:
        require(principal_of(ctx), "start", "getting a prompt")
        found = (await self._by_name()).get(params.name)
        if found is None:
            raise MCPError(INVALID_PARAMS, f"unknown prompt '{params.name[:128]}': list the prompts to see them")
        prompt = found[0]
        values = dict(params.arguments or {})
        missing = [a.name for a in prompt.arguments if a.required and not values.get(a.name)]
        if missing:
            asked = await _ask_missing(ctx, prompt, missing, params)
            if isinstance(asked, InputRequiredResult):
                return asked
            values.update(asked)
            missing = [name for name in missing if not values.get(name)]
        if missing:
            raise MCPError(
                INVALID_PARAMS,
                f"prompt '{prompt.name}' needs the argument(s) {', '.join(missing)}",
                {"missing": missing},
            )
        return GetPromptResult(
            description=prompt.description,
            messages=[
                PromptMessage(
                    role="assistant" if m.role == "assistant" else "user",
                    content=_content(m.type, m.text, m.mime_type, m.uri, values),
                )
                for m in prompt.messages
            ],
        )

    async def complete(self, ctx: Context, params: CompleteRequestParams) -> CompleteResult:
        principal = principal_of(ctx)
        require(principal, "start", "completing arguments")
        typed = params.argument.value
        if isinstance(params.ref, PromptReference):
            found = (await self._by_name()).get(params.ref.name)
            if found is None:
                raise MCPError(INVALID_PARAMS, f"unknown prompt '{params.ref.name[:128]}'")
            values = await self._argument_values(found[0], found[1], params.argument.name, principal.has("read"))
        elif params.ref.uri == "agenthub://instances/{instance}" and principal.has("read"):
            views = await in_thread(lambda: self.engine.instances(limit=RECENT_INSTANCES))
            values = [str(v.key) for v in views]
        else:
            values = []
        return _completion(v for v in values if v.startswith(typed))

    async def _argument_values(self, prompt: PromptSpec, spec: ToolSpec, name: str, read: bool) -> list[str]:
        argument = next((a for a in prompt.arguments if a.name == name), None)
        if argument is not None and argument.values:
            return list(argument.values)
        tool_input = next((i for i in spec.inputs if i.name == name), None)
        if tool_input is not None and tool_input.values:
            return list(tool_input.values)
        if not read:
            return []
        views = await in_thread(lambda: self.engine.instances(process_id=spec.process_id, limit=RECENT_INSTANCES))
        return [str(v.variables[name]) for v in views if isinstance(v.variables.get(name), str | int | float)]


ASK_KEY = "arguments"
"""The input request key under which a prompt's missing arguments are asked (2026-07-28)."""


async def _ask_missing(ctx: Context, prompt: PromptSpec, missing: list[str], params: GetPromptRequestParams
                       ) -> dict[str, str] | InputRequiredResult:
    """The missing arguments as the client's user gave them (only those, as strings), or the question to ask in the
    result; nothing when the client cannot be asked or the user declined."""
    wanted = [a for a in prompt.arguments if a.name in missing]
    schema: dict[str, Any] = {
        "type": "object",
        "properties": {a.name: {"type": "string", "title": a.name, **({"description": a.description}
                                                                     if a.description else {}),
                                **({"enum": list(a.values)} if a.values else {})} for a in wanted},
        "required": [a.name for a in wanted],
    }
    described = "; ".join(f"{a.name}: {a.description}" if a.description else a.name for a in wanted)
    message = f"The prompt '{prompt.title or prompt.name}' needs {described}"
    answer: Any = (params.input_responses or {}).get(ASK_KEY)
    if answer is None and can_elicit(ctx):
        answer = await elicit_now(ctx, message, schema, ELICIT_WAIT_S)
    elif answer is None and can_elicit_in_result(ctx):
        question = ElicitRequest(params=ElicitRequestFormParams(message=message, requested_schema=schema))
        return InputRequiredResult(input_requests={ASK_KEY: question},
                                   request_state=json.dumps({"v": 2, "prompt": prompt.name}, separators=(",", ":")))
    if not isinstance(answer, ElicitResult) or answer.action != "accept":
        return {}
    given = answer.content or {}
    return {name: str(given[name]) for name in missing if isinstance(given.get(name), str | int | float)
            and not isinstance(given.get(name), bool)}


def _completion(values: Iterable[str]) -> CompleteResult:
    unique = list(dict.fromkeys(values))
    return CompleteResult(
        completion=Completion(values=unique[:MAX_VALUES], total=len(unique), has_more=len(unique) > MAX_VALUES)
    )


def _prompt(prompt: PromptSpec) -> Prompt:
    return Prompt(
        name=prompt.name,
        title=prompt.title,
        description=prompt.description,
        arguments=[
            PromptArgument(name=a.name, description=a.description, required=a.required) for a in prompt.arguments
        ],
    )


def _content(kind: str, text: str, mime_type: str | None, uri: str | None, values: dict[str, str]) -> ContentBlock:
    if kind == "image":
        return ImageContent(data=text, mime_type=mime_type or "application/octet-stream")
    if kind == "audio":
        return AudioContent(data=text, mime_type=mime_type or "application/octet-stream")
    if kind == "resource":
        where = render(uri or "", values)
        resource = (
            TextResourceContents(uri=where, mime_type=mime_type, text=render(text, values))
            if (mime_type or "").startswith("text/") or not text
            else BlobResourceContents(uri=where, mime_type=mime_type, blob=text)
        )
        return EmbeddedResource(resource=resource)
    return TextContent(text=render(text, values))
