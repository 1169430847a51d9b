"""An ASGI app served by uvicorn on a thread, on a socket already bound to 127.0.0.1, for the time of a ``with``."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn


@contextmanager
def serve_app(app: Any, sock: socket.socket, *, what: str, lifespan: str = "on") -> Iterator[uvicorn.Server]:
    """Serve ``app`` on ``sock`` until the block ends; RuntimeError naming ``what`` if it does not start in 10 s."""
    config = uvicorn.Config(app, log_level="error", access_log=False, lifespan=lifespan, ws="none", http="h11",
                            loop="asyncio", timeout_graceful_shutdown=1)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not start")
        time.sleep(0.01)
    try:
        yield server
    finally:
        server.should_exit = True
        thread.join(timeout=10)
