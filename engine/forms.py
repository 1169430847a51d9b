"""Deployed Camunda Forms: reading ``.form`` resources at deployment and versioning them per form id.

A ``.form`` resource is form-js JSON (``{"id": ..., "components": [...],
"schemaVersion": ...}``, as Camunda Modeler writes it). At deployment each
one is checked (JSON, an object with a string ``id`` and a ``components``
list, an optional string ``versionTag``, no id given twice) with the
deployment's other problems, kept as a deployment resource, and becomes a new
version of its id unless the newest version came from the same text, as
processes and decisions are versioned. Which version a task shows is
``engine.form_links``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass

from engine.parser import Problem
from engine.store.protocol import StoreTx
from engine.store.rows import FormRow

__all__ = ["DeployedForm", "FormDocument", "is_form", "read_forms", "store_forms"]


@dataclass(frozen=True, slots=True)
class FormDocument:
    """What deployment needs of one ``.form`` file: its id and version tag."""

    form_id: str
    version_tag: str | None


@dataclass(frozen=True, slots=True)
class DeployedForm:
    form_id: str
    version: int
    key: int
    resource_name: str
    is_new: bool


def is_form(name: str) -> bool:
    return name.lower().endswith(".form")


def read_forms(files: Mapping[str, str]) -> tuple[dict[str, FormDocument], list[Problem]]:
    """The forms among ``files`` (by resource name) and the problems found in them."""
    found: dict[str, FormDocument] = {}
    problems: list[Problem] = []
    seen: dict[str, str] = {}
    for name, text in sorted(files.items()):
        if not is_form(name):
            continue
        try:
            schema = json.loads(text)
        except ValueError as exc:
            problems.append(Problem(name, None, None, f"a form is form-js JSON, and this is not JSON: {exc}"))
            continue
        form_id = schema.get("id") if isinstance(schema, dict) else None
        if not isinstance(schema, dict) or not isinstance(form_id, str) or not form_id.strip():
            problems.append(Problem(name, None, None, 'a form needs a string "id" (Camunda Modeler writes one)'))
            continue
        if not isinstance(schema.get("components"), list):
            problems.append(Problem(name, None, form_id, 'a form needs a "components" list'))
            continue
        tag = schema.get("versionTag")
        if tag is not None and not isinstance(tag, str):
            problems.append(Problem(name, None, form_id, '"versionTag" must be a string'))
            continue
        if form_id in seen:
            problems.append(Problem(name, None, form_id, f"form '{form_id}' is also defined in '{seen[form_id]}'"))
            continue
        seen[form_id] = name
        found[name] = FormDocument(form_id, tag or None)
    return found, problems


def checksum(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def store_forms(tx: StoreTx, deployment: int, forms: Mapping[str, FormDocument], files: Mapping[str, str],
                at: int) -> list[DeployedForm]:
    """A new version of each form whose text changed (the resources are stored by the caller)."""
    deployed: list[DeployedForm] = []
    for resource_name, form in sorted(forms.items()):
        digest = checksum(files[resource_name])
        latest = tx.forms.find(form.form_id)
        if latest is not None and latest.checksum == digest:
            deployed.append(DeployedForm(form.form_id, int(latest.version), int(latest.key), resource_name, False))
            continue
        version = int(latest.version) + 1 if latest is not None else 1
        key = tx.next_key()
        tx.forms.insert(FormRow(key=key, form_id=form.form_id, version=version, version_tag=form.version_tag,
                                deployment_key=deployment, resource_name=resource_name, checksum=digest,
                                created_at=at))
        deployed.append(DeployedForm(form.form_id, version, key, resource_name, True))
    return deployed
