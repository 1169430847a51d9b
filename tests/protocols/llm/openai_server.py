"""A tiny OpenAI-compatible chat server on 127.0.0.1, replaying scripted replies and recording what it received."""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]


@dataclass
class OpenAIServer:
    url: str = ""  # the base URL, e.g. http://127.0.0.1:PORT/v1
    replies: deque[tuple[int, dict[str, Any]]] = field(default_factory=deque)  # (status, body), in order
    received: list[Received] = field(default_factory=list)
    hold: threading.Event | None = None  # when set to an Event, requests wait for it (a server that hangs)

    def reply_tool_calls(self, *calls: tuple[str, str, dict[str, Any] | str], content: str | None = None) -> None:
        tool_calls = [
            {
                "id": call_id,
                "type": "function",
                "function": {"name": name, "arguments": args if isinstance(args, str) else json.dumps(args)},
            }
            for call_id, name, args in calls
        ]
        self.reply(
            {"role": "assistant", "content": content, "tool_calls": tool_calls}, finish_reason="tool_calls"
        )

    def reply_text(self, text: str) -> None:
        self.reply({"role": "assistant", "content": text}, finish_reason="stop")

    def reply(self, message: dict[str, Any], *, finish_reason: str, prompt: int = 31, completion: int = 9) -> None:
        self.replies.append(
            (
                200,
                {
                    "id": f"chatcmpl-{len(self.replies)}",
                    "object": "chat.completion",
                    "created": 1767225600,
                    "model": "",  # filled in with the requested model
                    "choices": [{"index": 0, "message": message, "finish_reason": finish_reason}],
                    "usage": {"prompt_tokens": prompt, "completion_tokens": completion,
                              "total_tokens": prompt + completion},
                },
            )
        )

    def fail(self, status: int, message: str) -> None:
        self.replies.append((status, {"error": {"message": message, "type": "invalid_request_error"}}))


@contextmanager
def openai_server() -> Iterator[OpenAIServer]:
    state = OpenAIServer()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            state.received.append(Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
            if state.hold is not None:
                state.hold.wait(timeout=30)
                return
            status, reply = state.replies.popleft() if state.replies else (500, {"error": {"message": "no reply"}})
            if "choices" in reply:
                reply = {**reply, "model": body.get("model", "")}
            data = json.dumps(reply).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    thread = threading.Thread(target=server.serve_forever, name="openai-test-server", daemon=True)
    thread.start()
    try:
        yield state
    finally:
        if state.hold is not None:
            state.hold.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
