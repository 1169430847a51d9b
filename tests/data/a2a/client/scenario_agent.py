"""An A2A agent that answers as the agent Camunda's A2A client examples talk to, for running those examples here.

Camunda's examples (``connectors/agentic-ai/examples/a2a``, fetched, never committed) send text messages to an
agent on ``localhost:11001`` (and ``10000``-``10003`` as an AI Agent's tools) and expect, by the text: a
message that starts with ``COMPLETE_MESSAGE`` is answered with a message; ``COMPLETE_TASK`` with a task that
is completed at once; anything else with a task that works a moment and then completes (what the polling and
push-notification modes wait for). Every task ends with one text artifact. Written from the examples' element
names and inputs: nothing of Camunda's agent is copied. It sends push notifications (a2a-sdk's sender) to the
URL a message names, and needs no token, as Camunda's example agent.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
from a2a.helpers.proto_helpers import get_text_parts, new_task_from_user_message
from a2a.server.agent_execution import AgentExecutor, RequestContext
from a2a.server.events import EventQueue
from a2a.server.request_handlers import DefaultRequestHandler
from a2a.server.routes import create_agent_card_routes, create_jsonrpc_routes, create_rest_routes
from a2a.server.tasks import (
    BasePushNotificationSender,
    InMemoryPushNotificationConfigStore,
    InMemoryTaskStore,
    TaskUpdater,
)
from a2a.types import AgentCapabilities, AgentCard, AgentInterface, AgentSkill, Message, Part, Role
from starlette.applications import Starlette

from tests.servers import serve_app

WORK_S = 1.0  # how long an asynchronous task works before it completes


class ScenarioExecutor(AgentExecutor):
    async def execute(self, context: RequestContext, event_queue: EventQueue) -> None:
        assert context.message is not None
        text = "\n".join(get_text_parts(list(context.message.parts))).strip()
        if text.startswith("COMPLETE_MESSAGE"):
            await event_queue.enqueue_event(Message(message_id=f"reply-{context.message.message_id}",
                                                    role=Role.ROLE_AGENT, parts=[Part(text=f"You said: {text}")]))
            return
        task = context.current_task or new_task_from_user_message(context.message)
        if context.current_task is None:
            await event_queue.enqueue_event(task)
        updater = TaskUpdater(event_queue, task.id, task.context_id)
        if not text.startswith("COMPLETE_TASK"):
            await updater.start_work()
            await asyncio.sleep(WORK_S)
        await updater.add_artifact([Part(text=f"Done: {text}")], name="answer")
        await updater.complete()

    async def cancel(self, context: RequestContext, event_queue: EventQueue) -> None:
        assert context.task_id is not None and context.context_id is not None
        await TaskUpdater(event_queue, context.task_id, context.context_id).cancel()


@contextmanager
def serve_scenario_agent(port: int, name: str = "Example agent") -> Iterator[str]:
    """The agent on 127.0.0.1:``port``, stopped when the block ends; its URL as the examples name it."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    url = f"http://localhost:{port}"
    card = AgentCard(
        name=name,
        description="Answers with a message, a task done at once, or a task done a moment later, by its text.",
        version="1.0.0",
        supported_interfaces=[AgentInterface(url=url, protocol_binding="JSONRPC", protocol_version="1.0")],
        capabilities=AgentCapabilities(streaming=False, push_notifications=True),
        default_input_modes=["text/plain"],
        default_output_modes=["text/plain"],
        skills=[AgentSkill(id="answer", name="Answer", description="Answers a message.", tags=["example"])],
    )
    configs = InMemoryPushNotificationConfigStore()
    pusher = httpx.AsyncClient(timeout=10, limits=httpx.Limits(max_keepalive_connections=0))
    handler = DefaultRequestHandler(
        agent_executor=ScenarioExecutor(), task_store=InMemoryTaskStore(), agent_card=card,
        push_config_store=configs, push_sender=BasePushNotificationSender(pusher, configs),
    )
    routes = [*create_agent_card_routes(card), *create_jsonrpc_routes(handler, "/"), *create_rest_routes(handler)]
    try:
        with serve_app(Starlette(routes=routes), sock, what=f"the example agent on port {port}", lifespan="off"):
            yield url
    finally:
        sock.close()
