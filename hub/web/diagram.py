"""The console's diagram source: a deployed model's BPMN XML, with a layout drawn in where it has no DI.

``GET /processes/{processId}/diagram.bpmn?version=N`` (latest without
``version``) answers ``application/xml`` for ``static/diagram.js`` to render.
It needs the ``read`` scope like the REST API's ``/xml`` route it mirrors.

The laid-out XML is kept in a small in-memory LRU keyed by the process id and
a digest of the deployed XML: a deployed version never changes, and keying by
content rather than by the version asked for keeps "latest" right after a new
deployment without asking the store which version that is.
"""

from __future__ import annotations

import asyncio
import hashlib
import threading
from collections import OrderedDict

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from engine.parser.layout import layout
from hub.api.common import hub, int_param, require

__all__ = ["DiagramCache", "diagram_xml", "routes"]


class DiagramCache:
    """Laid-out XML by (process id, digest of the deployed XML); least recently used out first."""

    def __init__(self, size: int = 64) -> None:
        self._size = size
        self._items: OrderedDict[tuple[str, str], bytes] = OrderedDict()
        self._lock = threading.Lock()  # filled from worker threads

    def laid_out(self, process_id: str, xml: str) -> bytes:
        raw = xml.encode("utf-8")
        key = (process_id, hashlib.sha256(raw).hexdigest())
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
                return found
        drawn = layout(raw)  # outside the lock: a big model must not hold up the others
        with self._lock:
            self._items[key] = drawn
            self._items.move_to_end(key)
            while len(self._items) > self._size:
                self._items.popitem(last=False)
        return drawn

    def __len__(self) -> int:
        return len(self._items)


_cache = DiagramCache()


def _diagram(request: Request, process_id: str, version: int | None) -> bytes:
    xml = hub(request).engine.definition_xml(process_id, version)
    return _cache.laid_out(process_id, xml)


async def diagram_xml(request: Request) -> Response:
    require(request, "read")
    version = int_param(request, "version", None, low=1)
    body = await asyncio.to_thread(_diagram, request, request.path_params["processId"], version)
    # The XML is data for the viewer, never a document to open: no sniffing, no rendering as a page.
    headers = {"X-Content-Type-Options": "nosniff", "Content-Security-Policy": "default-src 'none'; sandbox"}
    return Response(body, media_type="application/xml", headers=headers)


routes: list[BaseRoute] = [Route("/processes/{processId}/diagram.bpmn", diagram_xml, methods=["GET"])]
