"""Camunda Forms in the engine: the parser's ``zeebe:formDefinition`` problems, deploying ``.form`` files, the
checks per form-js component type, and a task's form read back after a restart (the SQL store)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from engine import DeploymentError, Engine, FieldError, FormInvalid
from engine.form_check import form_errors
from engine.model import FormBinding, StartEvent, UserTask
from engine.parser import BpmnParseError, parse_bpmn

FORMS = Path(__file__).resolve().parents[1] / "data" / "forms"
NOW = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
LINK = '<zeebe:formDefinition formId="claim-review" />'


def _review(link: str = LINK) -> str:
    return (FORMS / "review.bpmn").read_text().replace(LINK, link)


def test_form_links_are_read_from_user_tasks_and_start_events_with_their_binding() -> None:
    tagged = 'formId="claim-review" bindingType="versionTag" versionTag="v3" '
    process = parse_bpmn(_review(f"<zeebe:formDefinition {tagged}/>")).processes["claim_review"]
    task, start = process.nodes["review"], process.nodes["submitted"]
    assert isinstance(task, UserTask) and isinstance(start, StartEvent)
    assert task.user_task.form is not None and start.form is not None
    assert (task.user_task.form.form_id, task.user_task.form.binding, task.user_task.form.version_tag) == (
        "claim-review", FormBinding.VERSION_TAG, "v3")
    assert (start.form.form_id, start.form.binding) == ("claim-start", FormBinding.LATEST)


@pytest.mark.parametrize(("link", "message"), [
    ('<zeebe:formDefinition formId="a" formKey="b" />',
     "zeebe:formDefinition needs exactly one of formId, formKey and externalReference (it has formId, formKey)"),
    ('<zeebe:formDefinition formId="a" bindingType="newest" />',
     "zeebe:formDefinition bindingType 'newest' is not one of latest, deployment, versionTag"),
    ('<zeebe:formDefinition formId="a" bindingType="versionTag" />',
     "zeebe:formDefinition bindingType 'versionTag' needs a versionTag attribute"),
])
def test_a_form_link_that_cannot_be_followed_is_a_problem_with_its_line(link: str, message: str) -> None:
    text = _review(link)
    with pytest.raises(BpmnParseError) as caught:
        parse_bpmn(text, source_name="review.bpmn")
    [problem] = caught.value.problems
    assert problem.message == message
    assert problem.line == next(n for n, line in enumerate(text.splitlines(), 1) if 'formId="a"' in line)


def test_deploying_two_forms_with_one_id_or_a_form_that_is_not_json_fails_with_both_problems() -> None:
    engine = Engine.open("memory:")
    form = (FORMS / "claim-review.form").read_text()
    with pytest.raises(DeploymentError) as caught:
        engine.deploy([("a.form", form), ("b.form", form), ("c.form", "{not json")])
    assert [(p.source_name, p.message.split(":")[0]) for p in caught.value.problems] == [
        ("b.form", "form 'claim-review' is also defined in 'a.form'"),
        ("c.form", "a form is form-js JSON, and this is not JSON"),
    ]


def _components(*components: dict[str, Any]) -> dict[str, Any]:
    return {"components": list(components)}


@pytest.mark.parametrize(("component", "value", "message"), [
    ({"type": "textfield", "validate": {"minLength": 3}}, "ab", "must have at least 3 characters"),
    ({"type": "textfield", "validate": {"validationType": "email"}}, "ada", "must be an email address"),
    ({"type": "textfield"}, 12, "must be text"),
    ({"type": "number", "validate": {"min": 2}}, 1.5, "must be at least 2"),
    ({"type": "number", "serializeToString": True}, "x", "must be a number"),
    ({"type": "number"}, True, "must be a number"),
    ({"type": "checkbox"}, "yes", "must be true or false"),
    ({"type": "checklist", "values": [{"value": "a"}]}, ["a", "b"], "must be one of 'a'"),
    ({"type": "taglist", "values": [{"value": "a"}]}, "a", "must be a list of options"),
    ({"type": "select", "values": [{"value": 1}]}, 2, "must be one of 1"),
    ({"type": "datetime", "subtype": "date"}, "2030-13-01", "must be a date (YYYY-MM-DD)"),
    ({"type": "datetime", "subtype": "time"}, "25:00", "must be a time (HH:MM)"),
    ({"type": "datetime", "subtype": "datetime"}, "soon", "must be a date and time (ISO 8601)"),
])
def test_each_component_type_refuses_a_value_of_the_wrong_kind(component: dict[str, Any], value: Any,
                                                               message: str) -> None:
    assert form_errors(_components({**component, "key": "f"}), {"f": value}, NOW) == [FieldError("f", message)]


def test_values_a_form_accepts_pass_and_hidden_disabled_and_dynamic_fields_are_not_checked() -> None:
    schema = _components(
        {"type": "datetime", "key": "on", "subtype": "datetime"},
        {"type": "select", "key": "pick", "valuesKey": "choices"},
        {"type": "textfield", "key": "why", "validate": {"required": True}, "conditional": {"hide": "=pick = \"b\""}},
        {"type": "textfield", "key": "fixed", "disabled": True, "validate": {"required": True}},
        {"type": "group", "path": "address", "components": [
            {"type": "textfield", "key": "city", "validate": {"required": True}}]},
        {"type": "dynamiclist", "path": "items", "components": [
            {"type": "number", "key": "qty", "validate": {"min": 1}}]},
    )
    good = {"on": "2030-01-01T10:00:00Z", "pick": "b", "address": {"city": "Oslo"}, "items": [{"qty": 2}]}
    assert form_errors(schema, good, NOW) == []
    bad = {"pick": "a", "address": {}, "items": [{"qty": 2}, {"qty": 0}]}
    assert form_errors(schema, bad, NOW) == [
        FieldError("why", "is required"), FieldError("address.city", "is required"),
        FieldError("items[1].qty", "must be at least 1")]


def test_a_task_keeps_its_form_and_its_check_after_the_engine_restarts(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'forms.db'}"
    engine = Engine.open(url)
    engine.deploy([(n, (FORMS / n).read_text()) for n in ("review.bpmn", "claim-review.form", "claim-start.form")])
    instance = engine.start("claim_review", {"reviewer": "Grace"}).key
    engine.close()
    again = Engine.open(url)
    [task] = again.user_tasks(instance=instance)
    form = again.user_task_form(task.key)
    assert form is not None and form.version == 1 and form.schema is not None
    with pytest.raises(FormInvalid) as caught:
        again.complete_user_task(task.key, {"amount": 2000, "decision": "approve"})
    assert caught.value.errors == (FieldError("amount", "must be at most 1000"),)  # reviewer: the instance's
    again.complete_user_task(task.key, {"amount": 20, "decision": "reject"})
    assert again.instance(instance).state == "completed"
    start = again.start_form("claim_review")
    assert start is not None and start.to_json()["formId"] == "claim-start"


def test_the_memory_store_binds_form_versions_as_the_sql_store_does() -> None:
    engine = Engine.open("memory:")
    form = (FORMS / "claim-review.form").read_text()
    by_deployment = _review(LINK.replace("/>", 'bindingType="deployment" />')).replace("claim_review", "pinned")
    engine.deploy([("pinned.bpmn", by_deployment), ("claim-review.form", form)])
    engine.deploy([("review.bpmn", _review()), ("claim-review.form", form.replace('"v1"', '"v2"'))])
    tagged = _review(LINK.replace("/>", 'bindingType="versionTag" versionTag="v1" />')).replace("claim_review", "tag")
    engine.deploy([("tag.bpmn", tagged)])
    versions = {}
    for process in ("pinned", "claim_review", "tag"):
        [task] = engine.user_tasks(instance=engine.start(process).key)
        form_shown = engine.user_task_form(task.key)
        assert form_shown is not None
        versions[process] = form_shown.version
    assert versions == {"pinned": 1, "claim_review": 2, "tag": 1}
