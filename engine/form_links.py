"""Which form a user task or start event shows, and checking a task's variables against it before it completes.

A link (``engine.model.FormLink``) is resolved when it is read, against the
store as it is then:

- ``formId``, by its binding: ``latest`` (the newest version of the id),
  ``versionTag`` (the newest version with the link's tag) or ``deployment``
  (the version the process's own deployment carried);
- ``formKey`` ``camunda-forms:bpmn:<id>``: the process's embedded
  ``zeebe:userTaskForm``; any other key: the file ``<key>.form`` (or ``<key>``)
  deployed beside the process if there is one, else the key as given, for
  the application that knows it;
- ``externalReference``: as given; there is no schema to show or check.

A ``formId`` that resolves to nothing is shown with a ``problem`` that says
so, and completing the task is not held up by it. Camunda resolves ``latest``
when the task is created; here it is when the task is read (a newer form
deployed in between is the one shown and checked): keeping the resolved
version on the task row was rejected to keep the step free of store reads.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from engine.core import EngineCore
from engine.exceptions import FormInvalid, NotFound
from engine.form_check import form_errors
from engine.model import EMBEDDED_FORM_PREFIX, FormBinding, FormLink, Process, StartEvent, UserTask
from engine.store.protocol import StoreTx
from engine.store.rows import FormRow, UserTaskRow

__all__ = ["FormQueries", "LinkedForm"]


@dataclass(frozen=True, slots=True)
class LinkedForm:
    """A link as the model gives it, with the schema it resolved to (None: none to show) and, for a deployed
    form, its version and key; ``problem`` says why a ``formId`` resolved to nothing."""

    link: FormLink
    schema: dict[str, Any] | None = None
    version: int | None = None
    key: int | None = None
    problem: str | None = None

    def to_json(self) -> dict[str, Any]:
        link = self.link
        body: dict[str, Any] = {
            "formId": link.form_id, "formKey": link.form_key, "externalReference": link.external_reference,
            "bindingType": link.binding.value, "versionTag": link.version_tag,
            "version": self.version, "key": self.key, "schema": self.schema,
        }
        if self.problem is not None:
            body["problem"] = self.problem
        return body


class FormQueries:
    """The forms part of ``engine.Engine``: a task's form, a process's start form, the check before completing."""

    def __init__(self, kernel: EngineCore) -> None:
        self._k = kernel

    def task_form(self, key: int) -> LinkedForm | None:
        with self._k.store.reader() as tx:
            row = tx.user_tasks.get(key)
            if row is None:
                raise NotFound(f"user task {key} does not exist")
            return self._of_task(tx, row)

    def start_form(self, process_id: str, version: int | None = None) -> LinkedForm | None:
        """The form of the process's none start event (at ``version``, or its latest), or None."""
        with self._k.store.reader() as tx:
            found = tx.definitions.find(process_id, version)
            if found is None:
                raise NotFound(f"process '{process_id}' is not deployed")
            process = self._k.process(tx, int(found.key))
            starts = [n for n in process.nodes.values() if isinstance(n, StartEvent) and n.parent == process.id
                      and not n.definitions and n.form is not None]
            if not starts:
                return None
            assert starts[0].form is not None
            return _resolve(tx, process, starts[0].form, int(found.deployment_key))

    def check(self, tx: StoreTx, row: UserTaskRow, submitted: Mapping[str, Any]) -> None:
        """``FormInvalid`` when the variables the task would complete with fail its form."""
        form = self._of_task(tx, row)
        if form is None or form.schema is None:
            return
        loaded = tx.instances.load(int(row.instance_key), lock=False)
        known: dict[str, Any] = {}
        scope: int | None = int(row.element_instance)
        while loaded is not None and scope is not None:  # the scope chain, inner scopes shadowing outer ones
            known = {**loaded[0].variables.get(scope, {}), **known}
            element = loaded[0].elements.get(scope)
            scope = element.parent if element is not None else None
        errors = form_errors(form.schema, {**known, **submitted}, self._k.clock.now())
        if errors:
            raise FormInvalid(int(row.key), errors)

    def _of_task(self, tx: StoreTx, row: UserTaskRow) -> LinkedForm | None:
        loaded = tx.instances.load(int(row.instance_key), lock=False)
        if loaded is None:
            return None
        definition = loaded[0].definition_key
        process = self._k.process(tx, definition)
        node = process.nodes.get(str(row.element_id))
        if not isinstance(node, UserTask) or node.user_task.form is None:
            return None
        deployment = tx.definitions.deployment_of(definition)
        return _resolve(tx, process, node.user_task.form, deployment)


def _resolve(tx: StoreTx, process: Process, link: FormLink, deployment: int | None) -> LinkedForm:
    if link.form_id is not None:
        return _deployed(tx, link, link.form_id, deployment)
    key = link.form_key
    if key is None:
        return LinkedForm(link)
    if key.startswith(EMBEDDED_FORM_PREFIX):
        text = process.forms.get(key.removeprefix(EMBEDDED_FORM_PREFIX))
        if text is None:
            return LinkedForm(link, problem=f"the process embeds no zeebe:userTaskForm for formKey '{key}'")
        return LinkedForm(link, schema=_schema(text))
    for name in (f"{key}.form", key):
        text = tx.definitions.resource(deployment, name) if deployment is not None else None
        if text is not None:
            return LinkedForm(link, schema=_schema(text))
    return LinkedForm(link)


def _deployed(tx: StoreTx, link: FormLink, form_id: str, deployment: int | None) -> LinkedForm:
    row: FormRow | None
    if link.binding == FormBinding.DEPLOYMENT:
        row = tx.forms.in_deployment(form_id, deployment) if deployment is not None else None
        missing = f"form '{form_id}' was not deployed with the process (bindingType 'deployment')"
    elif link.binding == FormBinding.VERSION_TAG:
        row = tx.forms.find(form_id, version_tag=link.version_tag or "")
        missing = f"no version of form '{form_id}' has versionTag '{link.version_tag}'"
    else:
        row = tx.forms.find(form_id)
        missing = f"form '{form_id}' is not deployed: deploy a .form file whose \"id\" is '{form_id}'"
    if row is None:
        # Deployed before forms were versioned: the file named after the id beside the process, as it was found.
        text = tx.definitions.resource(deployment, f"{form_id}.form") if deployment is not None else None
        schema = _schema(text) if text is not None and link.binding != FormBinding.VERSION_TAG else None
        return LinkedForm(link, schema=schema) if schema is not None else LinkedForm(link, problem=missing)
    text = tx.definitions.resource(int(row.deployment_key), str(row.resource_name))
    if text is None:  # a row without its resource: the store was changed by hand
        return LinkedForm(link, problem=f"the text of form '{form_id}' version {row.version} is missing")
    return LinkedForm(link, schema=_schema(text), version=int(row.version), key=int(row.key))


def _schema(text: str) -> dict[str, Any] | None:
    try:
        schema = json.loads(text)
    except ValueError:
        return None
    return schema if isinstance(schema, dict) and isinstance(schema.get("components"), list) else None
