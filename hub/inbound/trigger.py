"""What an admitted webhook request does: choose the element, map the request to variables, start or publish.

As Camunda's inbound runtime does:

- ``activationCondition`` (FEEL over ``request``) picks the elements the
  request is for; when none matches, ``consumeUnmatchedEvents`` ``true``
  answers 200 with nothing done, else 422 (nothing done either);
- the variables are ``{resultVariable: {request, connectorData}}`` and the
  entries of the context ``resultExpression`` gives (neither: no variables);
- a start event starts an instance of its process version at that event;
  a message start, intermediate catch or boundary event publishes its
  message with the correlation key ``correlationKeyExpression`` gives
  (required but for a message start), the message id
  ``messageIdExpression`` gives and the time to live ``messageTtl``
  (default PT1H): a message id still buffered is a repeat, answered 200
  and not published again (the engine's message-id rule);
- ``inbound.responseExpression`` (FEEL over ``request``, ``connectorData``
  and ``correlation``) gives ``{body, statusCode, headers}``; the older
  ``inbound.responseBodyExpression`` gives the body alone;
- ``inbound.verificationExpression``, when it gives a value, answers a
  one-time verification challenge before anything else, changing nothing.

Does not know HTTP: ``hub.inbound.endpoint`` reads the request and writes the answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from engine import Actor, Channel, Conflict, Engine
from engine.scheduler.timers import TimerDefinitionError, duration_seconds
from hub.inbound.checks import Refused, WebhookMisconfigured, WebhookRequest, evaluate
from hub.inbound.config import WebhookElement, WebhookKind

__all__ = ["Outcome", "choose", "correlate", "respond", "variables_of", "verification"]

_DEFAULT_TTL: Final = "PT1H"


@dataclass(frozen=True, slots=True)
class Outcome:
    """What the request did: ``correlation`` is what the response expression sees (None: nothing was done)."""

    correlation: dict[str, Any] | None
    summary: str


def _true(element: WebhookElement, context: dict[str, Any]) -> bool:
    condition = element.get("activationCondition")
    if condition is None:
        return True
    try:
        return evaluate(condition, context, "activationCondition") is True
    except WebhookMisconfigured as exc:
        raise Refused(422, f"the activation condition cannot be evaluated against the request: {exc}") from None


def choose(elements: list[WebhookElement], request: WebhookRequest) -> WebhookElement | None:
    """The element the request activates; None when no condition matches and unmatched events are consumed."""
    context = {**request.context(), "connectorData": {}}
    matching = [e for e in elements if _true(e, context)]
    if not matching:
        if any((e.get("consumeUnmatchedEvents") or "").lower() == "true" for e in elements):
            return None
        raise Refused(422, "Activation condition not met")
    first = matching[0]
    if len(matching) > 1 and not all(
        e.publishes_message and e.message_name == first.message_name for e in matching
    ):
        raise Refused(422, "several elements of this webhook match the request: make their activation conditions "
                           "exclusive")
    return first


def variables_of(element: WebhookElement, request: WebhookRequest) -> dict[str, Any]:
    context = {**request.context(), "connectorData": {}}
    values: dict[str, Any] = {}
    name = element.get("resultVariable")
    if name is not None:
        values[name.strip()] = context
    expression = element.get("resultExpression")
    if expression is not None:
        try:
            mapped = evaluate(expression, context, "resultExpression")
        except WebhookMisconfigured as exc:
            raise Refused(422, str(exc)) from None
        if mapped is not None and not isinstance(mapped, dict):
            raise Refused(422, f"the resultExpression must give a context, not {type(mapped).__name__}")
        values.update(mapped or {})
    return values


def _text(element: WebhookElement, name: str, context: dict[str, Any]) -> str | None:
    source = element.get(name)
    if source is None:
        return None
    try:
        value = evaluate(source, context, name) if source.lstrip().startswith("=") else source
    except WebhookMisconfigured:
        return None
    return None if value is None else str(value)


def _ttl_ms(element: WebhookElement) -> int:
    raw = element.get("messageTtl") or _DEFAULT_TTL
    if raw.lstrip().startswith("="):
        raw = str(evaluate(raw, {}, "messageTtl"))
    try:
        return int(duration_seconds(raw) * 1000)
    except TimerDefinitionError as exc:
        raise WebhookMisconfigured(f"messageTtl: {exc}") from None


def correlate(engine: Engine, element: WebhookElement, request: WebhookRequest, values: dict[str, Any]) -> Outcome:
    """Start the instance or publish the message (blocking: run it on a thread)."""
    by = Actor(id=f"webhook:{element.webhook_id}", channel=Channel.WEBHOOK)
    if element.kind is WebhookKind.START:
        view = engine.start(element.process_id, values, version=element.version, start_element=element.element_id,
                            by=by)
        return Outcome({"type": "ProcessInstanceCreated", "processInstanceKey": view.key},
                       f"started instance {view.key} of {element.process_id}")
    if not element.message_name:
        raise WebhookMisconfigured(f"{element.element_id} names no message")
    context = {**request.context(), "connectorData": {}}
    key = _text(element, "correlationKeyExpression", context)
    if key is None and element.kind is not WebhookKind.MESSAGE_START:
        raise Refused(422, "Wasn't able to obtain correlation key for expression "
                           f"{element.get('correlationKeyExpression')}")
    message_id = _text(element, "messageIdExpression", context) or None
    try:
        published = engine.publish_message(element.message_name, key or "", values, ttl_ms=_ttl_ms(element),
                                           message_id=message_id, by=by)
    except Conflict:  # a repeat of a message still buffered: Camunda answers it as already correlated
        return Outcome(None, f"message '{element.message_name}' was already published with this id")
    reached = list(published.get("correlatedInstances", []))
    return Outcome({"type": "MessagePublished", "messageKey": published["key"]},
                   f"published message '{element.message_name}' (reached {len(reached)} instance(s))")


def verification(elements: list[WebhookElement], request: WebhookRequest) -> tuple[int, dict[str, str], Any] | None:
    """The answer to a one-time verification challenge (``inbound.verificationExpression`` not null), else None.

    As in Camunda, it comes before the checks and changes nothing: a service proving the URL (Slack's
    ``url_verification``) gets its challenge back, and no instance or message is made.
    """
    for element in elements:
        source = element.get("inbound.verificationExpression")
        if source is None:
            continue
        try:
            answer = evaluate(source, request.context(), "inbound.verificationExpression")
        except WebhookMisconfigured as exc:
            raise Refused(422, str(exc)) from None
        if answer is not None:
            return _shaped(answer)
    return None


def _shaped(answer: Any) -> tuple[int, dict[str, str], Any]:
    if not isinstance(answer, dict):
        return 200, {}, answer
    status = answer.get("statusCode")
    headers = answer.get("headers")
    return (int(status) if isinstance(status, int | float) and 100 <= status <= 599 else 200,
            {str(k): str(v) for k, v in headers.items()} if isinstance(headers, dict) else {},
            answer.get("body"))


def respond(element: WebhookElement, request: WebhookRequest,
            outcome: Outcome | None) -> tuple[int, dict[str, str], Any]:
    """(status, headers, body) of the answer; body None means none."""
    if outcome is None or outcome.correlation is None:
        return 200, {}, None
    context = {**request.context(), "connectorData": {}, "correlation": outcome.correlation, "documents": []}
    expression = element.get("inbound.responseExpression")
    legacy = element.get("inbound.responseBodyExpression")
    try:
        if expression is not None:
            answer = evaluate(expression, context, "inbound.responseExpression")
        elif legacy is not None:
            return 200, {}, evaluate(legacy, context, "inbound.responseBodyExpression")
        else:
            return 200, {}, None
    except WebhookMisconfigured as exc:
        raise Refused(422, str(exc)) from None
    return _shaped(answer)
