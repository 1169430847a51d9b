"""What a journal's element ids stand for: each element's name (else its id) and kind, per process version.

An event log names activities as people do (``Approve invoice``, not
``Task_0x1``); the journal keeps only ids, so the names come from the
deployed model, read once per process version and kept for the export.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from engine import Engine, NotFound
from engine.model import Activity, Process

__all__ = ["Catalog", "ElementCatalog", "ElementInfo"]


@dataclass(frozen=True, slots=True)
class ElementInfo:
    label: str  # the element's name, else its id
    kind: str  # the BPMN element type (``userTask``); "" where the model does not hold the element
    multi: bool = False  # a multi-instance activity: its body and each inner instance complete under its id


class Catalog(Protocol):
    """What the statistics ask of a log's elements: a deployed model's (``ElementCatalog``) or an imported log's
    (``discover.imported.ImportedCatalog``)."""

    def of(self, process_id: str, version: int) -> Mapping[str, ElementInfo]: ...

    def flows(self, process_id: str, version: int) -> Mapping[str, tuple[str, str]]: ...


class ElementCatalog:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._known: dict[tuple[str, int], dict[str, ElementInfo]] = {}
        self._flows: dict[tuple[str, int], dict[str, tuple[str, str]]] = {}

    def of(self, process_id: str, version: int) -> dict[str, ElementInfo]:
        found = self._known.get((process_id, version))
        if found is None:
            process = self._process(process_id, version)
            found = {} if process is None else {
                node.id: ElementInfo(node.name or node.id, str(node.kind),
                                     isinstance(node, Activity) and node.loop is not None)
                for node in process.nodes.values()}
            self._known[(process_id, version)] = found
        return found

    def info(self, process_id: str, version: int, element_id: str) -> ElementInfo:
        return self.of(process_id, version).get(element_id) or ElementInfo(element_id, "")

    def flows(self, process_id: str, version: int) -> dict[str, tuple[str, str]]:
        """Each sequence flow's (source, target) element ids."""
        found = self._flows.get((process_id, version))
        if found is None:
            process = self._process(process_id, version)
            found = {} if process is None else {f.id: (f.source, f.target) for f in process.flows.values()}
            self._flows[(process_id, version)] = found
        return found

    def _process(self, process_id: str, version: int) -> Process | None:
        try:
            return self._engine.process(process_id, version)
        except NotFound:
            return None
