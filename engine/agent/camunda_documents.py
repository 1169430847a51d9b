"""The documents of a Camunda agent's user prompt (``data.userPrompt.documents``): which references the hub takes.

Camunda passes document references, and its worker turns each into a content
block of the user message (text files as text, images as images, PDFs as
files). The hub has no Camunda document store, so it takes the two kinds of
reference that carry their content with them, in Camunda's own shapes:

- ``{"camunda.document.type": "inline", "content", "name"?, "contentType"?}``:
  the content itself (text, or base64 for a binary with ``"encoding": "base64"``);
- ``{"camunda.document.type": "external", "url", "name"?, "contentType"?}``:
  fetched at the model call through the HTTP connector's egress allow-list
  (``AGENTHUB_HTTP_ALLOW``), by ``protocols.llm.documents``.

A reference into Camunda's document store (``"camunda"``, with ``storeId`` and
``documentId``) or of any other kind is refused when the agent starts, with an
incident that says what the hub takes. Owns: that check, and keeping the
references on the user message (``documents``) and in Camunda's context as
``{"type": "document", "document": ref}`` blocks. Does not know: fetching or
content types (``protocols.llm.documents`` turns them into the model's parts).
"""

from __future__ import annotations

from typing import Any, Final

from engine.runtime.expressions import ExpressionFailure

__all__ = ["DOCUMENT_TYPE", "SUPPORTED", "checked_documents", "document_blocks", "documents_of"]

DOCUMENT_TYPE: Final = "camunda.document.type"
SUPPORTED: Final = ("inline", "external")
_HOW: Final = ('give it inline ({"camunda.document.type": "inline", "content": ..., "name": ..., "contentType": '
               '...}) or as a URL the hub may fetch ({"camunda.document.type": "external", "url": ...}, on '
               "AGENTHUB_HTTP_ALLOW)")


def checked_documents(value: Any, where: str) -> list[dict[str, Any]]:
    """The references in ``value`` (None or a list); ExpressionFailure (an incident) for one the hub cannot read."""
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    found: list[dict[str, Any]] = []
    for index, item in enumerate(items):
        at = f"{where}: data.userPrompt.documents[{index + 1}]"
        kind = item.get(DOCUMENT_TYPE) if isinstance(item, dict) else None
        if kind == "camunda":
            raise ExpressionFailure(f"{at} is a reference into Camunda's document store (document "
                                    f"{item.get('documentId')!r}), which the hub does not have; {_HOW}")
        if kind not in SUPPORTED:
            raise ExpressionFailure(f"{at} is not a document reference the hub can read ({DOCUMENT_TYPE} "
                                    f"{kind!r}); {_HOW}")
        assert isinstance(item, dict)
        if kind == "inline" and item.get("content") is None:
            raise ExpressionFailure(f"{at} is an inline document without content; {_HOW}")
        if kind == "external" and not (isinstance(item.get("url"), str) and item["url"].strip()):
            raise ExpressionFailure(f"{at} is an external document without a url; {_HOW}")
        found.append(item)
    return found


def document_blocks(message: dict[str, Any]) -> list[dict[str, Any]]:
    """Camunda's context blocks for the documents of one of our user messages."""
    documents = message.get("documents")
    return [{"type": "document", "document": d} for d in documents] if isinstance(documents, list) else []


def documents_of(blocks: Any) -> list[dict[str, Any]]:
    """The references in Camunda's content blocks (a user message of a previous run's context)."""
    return [b["document"] for b in blocks if isinstance(b, dict) and b.get("type") == "document"
            and isinstance(b.get("document"), dict)] if isinstance(blocks, list) else []
