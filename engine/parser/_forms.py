"""Camunda 8's form links: ``zeebe:formDefinition`` on user tasks and start events, ``zeebe:userTaskForm`` on a process.

A link names exactly one of ``formId`` (a form deployed as a ``.form``
resource, bound by ``bindingType``: ``latest``, ``deployment`` or
``versionTag`` with ``versionTag``), ``formKey`` (``camunda-forms:bpmn:<id>``
for a form embedded by ``zeebe:userTaskForm``, or any key an application
understands) or ``externalReference``. Which form a ``formId`` names is
resolved when a task is read (``engine.forms``), not here.
"""

from __future__ import annotations

from engine.model import EMBEDDED_FORM_PREFIX, FormBinding, FormLink
from engine.parser._context import ProcessContext
from engine.parser._extensions import extensions, zeebe_child
from engine.parser._names import ZEEBE, split
from engine.parser._tree import Element, text_of

__all__ = ["embedded_forms", "form_link"]

_BINDINGS = ", ".join(b.value for b in FormBinding)


def form_link(element: Element, ctx: ProcessContext) -> FormLink | None:
    """The element's ``zeebe:formDefinition``, checked; None when it has none."""
    form = zeebe_child(element, "formDefinition")
    if form is None:
        return None

    def read(name: str) -> str | None:
        raw = form.get(name)
        return raw.strip() if raw is not None and raw.strip() else None

    form_id, form_key, reference = read("formId"), read("formKey"), read("externalReference")
    given = [n for n, v in (("formId", form_id), ("formKey", form_key), ("externalReference", reference)) if v]
    if len(given) != 1:
        ctx.sink.at(form, "zeebe:formDefinition needs exactly one of formId, formKey and externalReference"
                    + (f" (it has {', '.join(given)})" if given else ""))
    raw_binding = read("bindingType") or FormBinding.LATEST.value
    try:
        binding = FormBinding(raw_binding)
    except ValueError:
        ctx.sink.at(form, f"zeebe:formDefinition bindingType '{raw_binding}' is not one of {_BINDINGS}")
        binding = FormBinding.LATEST
    tag = read("versionTag")
    if binding == FormBinding.VERSION_TAG and tag is None:
        ctx.sink.at(form, "zeebe:formDefinition bindingType 'versionTag' needs a versionTag attribute")
    return FormLink(form_id=form_id, form_key=form_key, external_reference=reference, binding=binding,
                    version_tag=tag)


def embedded_forms(process: Element, ctx: ProcessContext) -> dict[str, str]:
    """The process's ``zeebe:userTaskForm`` elements: id -> form-js JSON text."""
    found: dict[str, str] = {}
    for tag, child in extensions(process):
        if split(tag) != (ZEEBE, "userTaskForm"):
            continue
        form_id = (child.get("id") or "").strip()
        if not form_id:
            ctx.sink.at(child, "zeebe:userTaskForm has no id (a user task links it as formKey "
                        f"'{EMBEDDED_FORM_PREFIX}<id>')")
            continue
        found[form_id] = text_of(child)
    return found
