"""Camunda's result shapes for the MCP client connectors' resource and prompt operations (standalone mode).

Each takes the MCP result as ``UpstreamSession.request`` gives it (JSON by
alias, cleaned) and the element's allow/deny list, and returns what Camunda's
connector answers:

    resources/list            {resources: [{uri, name, title?, description?, mimeType?}]}    filtered by uri
    resources/templates/list  {resourceTemplates: [{uriTemplate, name, title?, description?, mimeType?}]}
    resources/read            {contents: [{uri, mimeType?, text} | {uri, mimeType?, blob}]}
    prompts/list              {promptDescriptions: [{name, title?, description?, arguments: [...]}]}   by name
    prompts/get               {description?, messages: [{role, content: {type: text, text} | ...}]}

Owns the shapes and the filters; does not know sessions or servers (``camunda_client``).
"""

from __future__ import annotations

from typing import Any, Final

__all__ = ["passes", "shaped"]

_DESCRIBED: Final = ("title", "description", "mimeType")


def passes(name: str, included: list[str], excluded: list[str]) -> bool:
    """Camunda's allow/deny list: in ``included`` when it names any, and never in ``excluded``."""
    return (not included or name in included) and name not in excluded


def _pick(item: dict[str, Any], *names: str) -> dict[str, Any]:
    return {n: item[n] for n in names if item.get(n) is not None}


def _items(result: dict[str, Any], key: str) -> list[dict[str, Any]]:
    found = result.get(key)
    return [i for i in found if isinstance(i, dict)] if isinstance(found, list) else []


def shaped(method: str, result: dict[str, Any], included: list[str], excluded: list[str]) -> dict[str, Any]:
    """Camunda's answer to ``method`` from the MCP ``result``, with the element's filter applied to listings."""
    if method == "resources/list":
        return {"resources": [_pick(r, "uri", "name", *_DESCRIBED) for r in _items(result, "resources")
                              if passes(str(r.get("uri")), included, excluded)]}
    if method == "resources/templates/list":
        return {"resourceTemplates": [_pick(r, "uriTemplate", "name", *_DESCRIBED)
                                      for r in _items(result, "resourceTemplates")
                                      if passes(str(r.get("uriTemplate")), included, excluded)]}
    if method == "resources/read":
        return {"contents": [_pick(c, "uri", "mimeType", "text", "blob") for c in _items(result, "contents")]}
    if method == "prompts/list":
        return {"promptDescriptions": [
            {**_pick(p, "name", "title", "description"), "arguments": [
                {"name": a.get("name"), "description": a.get("description"), "required": a.get("required") is True}
                for a in _items(p, "arguments")]}
            for p in _items(result, "prompts") if passes(str(p.get("name")), included, excluded)]}
    messages = [{"role": m.get("role"), "content": m.get("content")} for m in _items(result, "messages")]
    return {**_pick(result, "description"), "messages": messages}
