"""The hub's own tools, named ``agenthub_*`` so they never clash with a process id.

Each needs one scope; a caller without it does not see the tool, and calling
it anyway is refused with ``FORBIDDEN``. Wrong arguments, unknown ids and
tasks that are no longer open come back as tool errors (``isError: true``
with ``{"error": {"type", "message"}}``), which the model can read and act on.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from mcp_types import CallToolResult, Tool, ToolAnnotations

from engine import TASK_SORTS, Channel, Conflict, Engine, FormInvalid, InstanceView, InvalidInput, NotFound, TaskView
from engine.arguments import ArgumentError, check_arguments
from protocols.actors import actor_of
from protocols.instances import outcome
from protocols.mcp._context import MAX_ID, in_thread, require, tool_error, tool_result
from protocols.task_access import TaskRefused, check_complete, is_admin, may_complete
from registry import Principal

_SCAN_PAGES = 10  # engine pages read to fill one page of the tasks a caller may see


class Forbidden(Exception):
    """The caller may not do this (a task that is not theirs to complete): a tool error, not a protocol error."""


class ToolRefusal(Exception):
    """A tool the hub adds (``extra`` below) refuses the call: ``{"error": {"type": kind, "message": ...}}``."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind

Handler = Callable[[Principal, dict[str, Any]], Awaitable[dict[str, Any]]]

_ID = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
_PAGE = {
    "limit": {"type": "integer", "minimum": 1, "maximum": 100, "description": "At most this many (default 20)"},
    "after": {
        "type": "integer",
        "minimum": 0,
        "maximum": MAX_ID,
        "description": "Continue after this id (the previous page's next)",
    },
}
_VARIABLES = {"type": "object", "description": "Variables as a JSON object"}


def _schema(properties: dict[str, Any], required: tuple[str, ...] = ()) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": properties, "additionalProperties": False}
    if required:
        schema["required"] = list(required)
    return schema


@dataclass(frozen=True, slots=True)
class BuiltinTool:
    name: str
    scope: str
    description: str
    input_schema: dict[str, Any]
    read_only: bool
    handler: Handler

    def as_tool(self) -> Tool:
        return Tool(
            name=self.name,
            description=self.description,
            input_schema=self.input_schema,
            annotations=ToolAnnotations(read_only_hint=self.read_only, destructive_hint=False, open_world_hint=False),
        )


class BuiltinTools:
    """The ``agenthub_*`` tools, and those the hub adds (``extra``: tools of layers this package may not import,
    such as discover's drafts), under the same scopes, argument checks and tool errors."""

    def __init__(self, engine: Engine, extra: Sequence[BuiltinTool] = ()) -> None:
        self.engine = engine
        self.by_name = {
            tool.name: tool
            for tool in (
                BuiltinTool(
                    "agenthub_list_instances",
                    "read",
                    "List process instances, oldest first, optionally only those of one process or in one state.",
                    _schema(
                        {
                            "processId": {"type": "string", "description": "Only instances of this process"},
                            "state": {"type": "string", "enum": ["active", "completed", "terminated", "incident"]},
                            **_PAGE,
                        }
                    ),
                    True,
                    self._list_instances,
                ),
                BuiltinTool(
                    "agenthub_get_instance",
                    "read",
                    "Get a process instance: its state, variables and, while it runs, what it waits for.",
                    _schema({"instance": {**_ID, "description": "The instance id"}}, ("instance",)),
                    True,
                    self._get_instance,
                ),
                BuiltinTool(
                    "agenthub_list_user_tasks",
                    "tasks",
                    "List the user tasks you may complete (work waiting for a person), by default the open ones; "
                    "each task's 'inputs' are what it asks the person about (an agent's question, the values to "
                    "review), and its 'form' (when it links one) the form-js schema its variables must satisfy.",
                    _schema(
                        {
                            "state": {"type": "string", "enum": ["created", "completed", "canceled", "all"]},
                            "instance": {**_ID, "description": "Only the tasks of this instance"},
                            "candidateGroup": {"type": "string", "description": "Only tasks offered to this group"},
                            "sort": {"type": "string", "enum": list(TASK_SORTS),
                                     "description": "Order: created (default), dueDate, followUpDate or priority; a "
                                                    "leading '-' is descending. Tasks without the date come last."},
                            **_PAGE,
                        }
                    ),
                    True,
                    self._list_user_tasks,
                ),
                BuiltinTool(
                    "agenthub_complete_user_task",
                    "tasks",
                    "Complete an open user task with the given variables; the instance then moves on. Only a task "
                    "assigned to you, or unassigned and offered to you or one of your groups (or to no one), is "
                    "yours to complete: any other is refused as 'forbidden'. An agent's tool call waiting for "
                    "approval ({\"approved\": true} or {\"approved\": false, \"reason\": \"...\"}) is decided by a "
                    "person among its candidates who neither started the instance nor acted in the agent's run; a "
                    "machine client only where the policy allows machines.",
                    _schema({"task": {**_ID, "description": "The user task id"}, "variables": _VARIABLES}, ("task",)),
                    False,
                    self._complete_user_task,
                ),
                BuiltinTool(
                    "agenthub_publish_message",
                    "start",
                    "Publish a BPMN message: it reaches the instance waiting for this name and correlation key, "
                    "or starts a process with a message start event.",
                    _schema(
                        {
                            "name": {"type": "string", "minLength": 1, "description": "The message name"},
                            "correlationKey": {"type": "string", "description": "Which waiting instance it is for"},
                            "variables": _VARIABLES,
                            "timeToLiveMs": {"type": "integer", "minimum": 0, "maximum": 7 * 24 * 3600 * 1000},
                            "messageId": {"type": "string", "description": "Publishing an id again is refused"},
                        },
                        ("name",),
                    ),
                    False,
                    self._publish_message,
                ),
            )
        }
        for tool in extra:
            if tool.name in self.by_name:
                raise ValueError(f"the hub's tool '{tool.name}' is defined twice")
            self.by_name[tool.name] = tool

    def tools(self, principal: Principal) -> list[Tool]:
        return [tool.as_tool() for tool in self.by_name.values() if principal.has(tool.scope)]

    async def call(self, principal: Principal, name: str, arguments: Mapping[str, Any] | None) -> CallToolResult:
        tool = self.by_name[name]
        require(principal, tool.scope, f"the tool {name}")
        try:
            values = check_arguments(tool.input_schema, arguments)
        except ArgumentError as exc:
            return tool_error("invalidArguments", f"invalid arguments for '{name}': {exc}", problems=exc.problems)
        try:
            return tool_result(await tool.handler(principal, values))
        except NotFound as exc:
            return tool_error("notFound", str(exc))
        except Conflict as exc:
            return tool_error("conflict", str(exc))
        except FormInvalid as exc:  # each field's error, as REST's problem lists them
            return tool_error("invalidForm", str(exc), errors=[{"field": e.field, "message": e.message}
                                                              for e in exc.errors])
        except InvalidInput as exc:
            return tool_error("invalidArguments", str(exc))
        except Forbidden as exc:
            return tool_error("forbidden", str(exc))
        except ToolRefusal as exc:
            return tool_error(exc.kind, str(exc))

    # --- handlers: plain JSON in, plain JSON out ---------------------------------------------

    async def _list_instances(self, principal: Principal, args: dict[str, Any]) -> dict[str, Any]:
        limit = int(args.get("limit", 20))
        views = await in_thread(
            lambda: self.engine.instances(
                state=args.get("state"), process_id=args.get("processId"), limit=limit + 1, after=_int(args, "after")
            )
        )
        items = [_summary(v) for v in views[:limit]]
        return {"instances": items, "next": items[-1]["instance"] if len(views) > limit else None}

    async def _get_instance(self, principal: Principal, args: dict[str, Any]) -> dict[str, Any]:
        key = int(args["instance"])
        return await in_thread(lambda: outcome(self.engine, self.engine.instance(key)))

    async def _list_user_tasks(self, principal: Principal, args: dict[str, Any]) -> dict[str, Any]:
        """The caller's own and its groups' tasks (an admin's: every task), one page of at most ``limit``."""
        limit = int(args.get("limit", 20))
        state = args.get("state", "created")
        after = _int(args, "after")
        shown: list[dict[str, Any]] = []

        def read(after: int | None) -> list[TaskView]:
            return self.engine.user_tasks(state=None if state == "all" else state, instance=_int(args, "instance"),
                                          candidate_group=args.get("candidateGroup"), limit=limit + 1, after=after,
                                          sort=args.get("sort"))

        for _ in range(_SCAN_PAGES):  # the engine cannot filter by "mine or my groups'": filter here, page by page
            views = await in_thread(functools.partial(read, after))
            shown.extend(await in_thread(functools.partial(self._with_forms, [
                v for v in views if is_admin(principal) or may_complete(principal, v)])))
            if len(shown) > limit:
                return {"tasks": shown[:limit], "next": shown[limit - 1]["id"]}
            if len(views) <= limit:
                return {"tasks": shown, "next": None}
            after = views[-1].key
        return {"tasks": shown, "next": after}  # stopped early: a short page, go on after the last task read

    def _with_forms(self, views: list[TaskView]) -> list[dict[str, Any]]:
        """The tasks as JSON, each with ``form`` (the link and its form-js schema) where it links one."""
        shown = []
        for view in views:
            form = self.engine.user_task_form(view.key)
            shown.append({**view.to_json(), **({"form": form.to_json()} if form is not None else {})})
        return shown

    async def _complete_user_task(self, principal: Principal, args: dict[str, Any]) -> dict[str, Any]:
        key = int(args["task"])

        def complete() -> dict[str, Any]:
            task = self.engine.user_task(key)
            try:  # an approval: a person among its candidates (a machine client, an agent perhaps, only if allowed)
                done = check_complete(principal, task)
            except TaskRefused as exc:
                raise Forbidden(str(exc)) from None
            by = actor_of(principal, Channel.MCP, override=done.override)
            self.engine.complete_user_task(key, args.get("variables") or {}, by=by)
            after = self.engine.user_task(key)
            waiting = {"approvedBy": after.details.get("approvedBy"), "approvers": after.details.get("approvers")} \
                if after.state == "created" else {}
            return {"task": key, **waiting, "instance": outcome(self.engine, self.engine.instance(task.instance))}

        return await in_thread(complete)

    async def _publish_message(self, principal: Principal, args: dict[str, Any]) -> dict[str, Any]:
        return await in_thread(
            lambda: self.engine.publish_message(
                args["name"],
                args.get("correlationKey", ""),
                args.get("variables") or {},
                ttl_ms=int(args.get("timeToLiveMs", 0)),
                message_id=args.get("messageId"),
                by=actor_of(principal, Channel.MCP),
            )
        )


def _int(args: dict[str, Any], key: str) -> int | None:
    return int(args[key]) if key in args else None


def _summary(view: InstanceView) -> dict[str, Any]:
    return {
        "instance": view.key,
        "process": view.process_id,
        "version": view.version,
        "state": view.state,
        "createdAt": view.created_at,
        "endedAt": view.ended_at,
    }
