"""A Camunda agent's prompt documents as content parts of the user message, the way Camunda's worker sends them.

The engine keeps the references the hub takes (``engine.agent.camunda_documents``:
``inline`` with their content, ``external`` with a URL) on the user message as
``documents``. Before a model step, ``with_documents`` reads each one (a URL
through the HTTP connector, so the egress allow-list ``AGENTHUB_HTTP_ALLOW``
and its size cap apply) and puts its part beside the prompt as ``parts``, in
OpenAI's chat format, which litellm passes on to every provider:

- ``text/*``, ``application/json``, ``application/xml``, ``application/yaml``:
  a text part with the document's text (Camunda's ``TextContent``);
- ``image/jpeg``, ``image/png``, ``image/gif``, ``image/webp``: an
  ``image_url`` part with a base64 data URL (for models that take images);
- ``application/pdf``: litellm's ``file`` part with base64 ``file_data``.

The content type is the reference's ``contentType``, else the URL's answer's,
else guessed from the name. Anything else, a document that cannot be fetched
from where it is (egress denied, an HTTP error) or has no content type, fails
the step with no retry (``DocumentUnreadable``, an incident that says what the
hub takes); a connection that fails is retried as any model call is.
"""

from __future__ import annotations

import asyncio
import base64
import json
import mimetypes
from collections.abc import Callable
from typing import Any, Final

from protocols.http import ConnectionFailed, HttpConnector, HttpConnectorError, HttpTimeout
from protocols.http.task import RequestInputs, build_task
from protocols.llm.exceptions import ModelCallFailed, ModelUnavailable

__all__ = ["DocumentFetch", "DocumentUnreadable", "http_fetch", "with_documents"]

DocumentFetch = Callable[[str, str], tuple[bytes, str | None]]
"""``(url, where) -> (content, content type the answer gave)``."""

_TEXT: Final = frozenset({"application/json", "application/xml", "application/yaml", "application/x-yaml"})
_IMAGES: Final = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp"})
_PDF: Final = "application/pdf"
_FETCH_TIMEOUT_S: Final = 30.0
_TAKES: Final = "text files, JSON, XML, YAML, JPEG, PNG, GIF and WebP images, and PDFs"


class DocumentUnreadable(ModelUnavailable):
    """A prompt document cannot be read or sent to a model, and retrying will not change that."""


def http_fetch(http: HttpConnector) -> DocumentFetch:
    """Fetch a document with ``GET`` through ``http`` (its egress policy and size cap); run it on a thread."""

    def fetch(url: str, where: str) -> tuple[bytes, str | None]:
        try:
            task = build_task(RequestInputs(method="GET", url=url, url_from="the document's url"), where=where,
                              default_timeout_s=_FETCH_TIMEOUT_S)
            response = asyncio.run(http.send(task))
        except (ConnectionFailed, HttpTimeout) as exc:  # may work on a retry
            raise ModelCallFailed(f"{where}: {exc}") from None
        except HttpConnectorError as exc:  # refused by the egress rules, an invalid URL, too large
            raise DocumentUnreadable(f"{where} ({url}): {exc}") from None
        if response.status >= 400:
            raise DocumentUnreadable(f"{where}: GET {url} answered {response.status} {response.reason}".rstrip())
        return response.content, response.headers.get("content-type")

    return fetch


def with_documents(messages: list[dict[str, Any]], fetch: DocumentFetch) -> list[dict[str, Any]]:
    """``messages`` with each user message's ``documents`` read into ``parts`` (the others unchanged)."""
    out: list[dict[str, Any]] = []
    for index, message in enumerate(messages):
        documents = message.get("documents") if message.get("role") == "user" else None
        if isinstance(documents, list) and documents:
            parts = [_part(d, fetch, f"prompt document {n + 1} (message {index + 1})") for n, d in enumerate(documents)]
            message = {**message, "parts": parts}
        out.append(message)
    return out


def _part(reference: dict[str, Any], fetch: DocumentFetch, where: str) -> dict[str, Any]:
    name = reference.get("name") if isinstance(reference.get("name"), str) else None
    given = reference.get("contentType")
    if reference.get("camunda.document.type") == "external":
        url = str(reference.get("url"))
        content, answered = fetch(url, where)
        kind = _media(given) or _media(answered) or _guess(name or url)
        name = name or url.rsplit("/", 1)[-1]
    else:
        content, kind = _inline(reference.get("content"), reference.get("encoding")), _media(given) or _guess(name)
    if kind is None:
        raise DocumentUnreadable(f"{where} ({name or 'unnamed'}) has no content type: give its contentType")
    encoded = base64.b64encode(content).decode("ascii")
    if kind.startswith("text/") or kind in _TEXT:
        return {"type": "text", "text": content.decode("utf-8", errors="replace")}
    if kind in _IMAGES:
        return {"type": "image_url", "image_url": {"url": f"data:{kind};base64,{encoded}"}}
    if kind == _PDF:
        return {"type": "file", "file": {"file_data": f"data:{_PDF};base64,{encoded}",
                                         **({"filename": name} if name else {})}}
    raise DocumentUnreadable(f"{where} ({name or 'unnamed'}) is {kind}, which the hub does not send to a model; "
                             f"it sends {_TAKES}")


def _inline(content: Any, encoding: Any) -> bytes:
    if isinstance(content, str):
        if encoding == "base64":
            try:
                return base64.b64decode(content, validate=True)
            except ValueError:
                raise DocumentUnreadable("an inline document marked base64 is not base64") from None
        return content.encode("utf-8")
    return json.dumps(content, ensure_ascii=False).encode("utf-8")  # Camunda keeps object content as JSON text


def _media(value: Any) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return None
    return value.split(";", 1)[0].strip().lower()


def _guess(name: str | None) -> str | None:
    return mimetypes.guess_type(name)[0] if name else None
