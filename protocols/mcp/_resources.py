"""Resources: each deployed process's BPMN and each instance's state, readable with the ``read`` scope.

- ``agenthub://processes/{processId}.bpmn``: the latest version's XML
  (``application/xml``); listed, one per deployed process.
- ``agenthub://instances/{instance}``: the instance's outcome as JSON (state,
  variables and, while it runs, ``waitingFor``); offered as a template only,
  since instances are too many to list.
- the resources exposed processes declare (``<agenthub:resource>``,
  ``engine.declarations``): fixed ones listed, templated ones offered as
  templates; where two declare one URI, the first the engine lists wins.

A caller without ``read`` gets empty listings and ``FORBIDDEN`` on a read.
"""

from __future__ import annotations

import re
from typing import Any

from mcp.shared.exceptions import MCPError
from mcp_types import (
    INVALID_PARAMS,
    BlobResourceContents,
    ListResourcesResult,
    ListResourceTemplatesResult,
    PaginatedRequestParams,
    ReadResourceRequestParams,
    ReadResourceResult,
    Resource,
    ResourceTemplate,
    TextResourceContents,
)

from engine import Engine, NotFound
from engine.declarations import ResourceSpec, render
from protocols.instances import outcome
from protocols.mcp._context import MAX_ID, Context, dumps, in_thread, principal_of, require

_PROCESS = re.compile(r"^agenthub://processes/([^/?#]+)\.bpmn$")
_INSTANCE = re.compile(r"^agenthub://instances/([0-9]{1,19})$")

_TEMPLATES = [
    ResourceTemplate(
        name="process-bpmn",
        title="Process diagram (BPMN XML)",
        uri_template="agenthub://processes/{processId}.bpmn",
        description="The BPMN 2.0 XML of the latest deployed version of a process",
        mime_type="application/xml",
    ),
    ResourceTemplate(
        name="instance-state",
        title="Process instance state",
        uri_template="agenthub://instances/{instance}",
        description="A process instance's state and variables, and while it runs what it waits for",
        mime_type="application/json",
    ),
]


class Resources:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    async def list_resources(self, ctx: Context, params: PaginatedRequestParams | None) -> ListResourcesResult:
        if not principal_of(ctx).has("read"):
            return ListResourcesResult(resources=[])
        rows = await in_thread(self.engine.definitions)
        latest: dict[str, dict[str, Any]] = {}
        for row in rows:
            if row["processId"] not in latest or row["version"] > latest[row["processId"]]["version"]:
                latest[row["processId"]] = row
        declared = [Resource(name=r.name, uri=r.uri, description=r.description, mime_type=r.mime_type)
                    for r in await self.declared() if not r.template]
        diagrams = [
            Resource(
                name=process_id,
                title=row["name"],
                uri=f"agenthub://processes/{process_id}.bpmn",
                description=f"BPMN XML of process {process_id}, version {row['version']}",
                mime_type="application/xml",
            )
            for process_id, row in sorted(latest.items())
        ]
        return ListResourcesResult(resources=[*diagrams, *declared])

    async def list_templates(self, ctx: Context, params: PaginatedRequestParams | None) -> ListResourceTemplatesResult:
        principal_of(ctx)
        declared = [ResourceTemplate(name=r.name, uri_template=r.uri, description=r.description, mime_type=r.mime_type)
                    for r in await self.declared() if r.template]
        return ListResourceTemplatesResult(resource_templates=[*_TEMPLATES, *declared])

    async def declared(self) -> list[ResourceSpec]:
        """The resources the exposed processes declare, the first of each URI."""
        found: dict[str, ResourceSpec] = {}
        for spec in await in_thread(self.engine.tools):
            for resource in spec.resources:
                found.setdefault(resource.uri, resource)
        return list(found.values())

    async def exists(self, uri: str) -> bool:
        """Whether ``uri`` names a resource one can read here (an instance's, or a declared one)."""
        found = _INSTANCE.match(uri)
        if found and int(found.group(1)) <= MAX_ID:
            key = int(found.group(1))
            try:
                await in_thread(lambda: self.engine.instance(key))
            except NotFound:
                return False
            return True
        return any(r.match(uri) is not None for r in await self.declared())

    async def read(self, ctx: Context, params: ReadResourceRequestParams) -> ReadResourceResult:
        require(principal_of(ctx), "read", "reading resources")
        uri = str(params.uri)
        try:
            if found := _PROCESS.match(uri):
                process_id = found.group(1)
                xml = await in_thread(lambda: self.engine.definition_xml(process_id))
                return ReadResourceResult(
                    contents=[TextResourceContents(uri=uri, mime_type="application/xml", text=xml)]
                )
            if (found := _INSTANCE.match(uri)) and int(found.group(1)) <= MAX_ID:
                key = int(found.group(1))
                data = await in_thread(lambda: outcome(self.engine, self.engine.instance(key)))
                return ReadResourceResult(
                    contents=[TextResourceContents(uri=uri, mime_type="application/json", text=dumps(data))]
                )
        except NotFound as exc:
            raise MCPError(INVALID_PARAMS, f"resource not found: {exc}", {"uri": uri}) from None
        for resource in await self.declared():
            parts = resource.match(uri)
            if parts is not None:
                content = BlobResourceContents(uri=uri, mime_type=resource.mime_type, blob=resource.text) \
                    if resource.base64 else \
                    TextResourceContents(uri=uri, mime_type=resource.mime_type, text=render(resource.text, parts))
                return ReadResourceResult(contents=[content])
        raise MCPError(
            INVALID_PARAMS,
            "resource not found: use agenthub://processes/{processId}.bpmn or agenthub://instances/{instance}",
            {"uri": uri},
        )
