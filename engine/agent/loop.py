"""The agent loop, run inside the engine's step: model step, governance, act, repeat.

An agent lives on its ad-hoc subprocess's element instance (``element.agent``):
counters, limits and the call ids of the open turn. The conversation is not
in the instance's state: each new message goes to the conversation store as
an effect, so a run of 500 model calls keeps its state small. One turn:

1. A model job (type ``agenthub.model``) asks the model; its answer comes
   back as the job's completion and is journaled before anything acts on it.
2. Each tool call passes the choke point: an exact tool name, arguments that
   fit the tool's schema, then the policies (``governance.decide``).
3. Allowed calls activate their element in an inner instance of their own
   that holds ``toolCall``; calls needing approval wait on a user task whose
   stored arguments, and only those, run once approved; refused and denied
   calls go back to the model as tool results saying why.
4. When every call of the turn has a result, the next model step starts. A
   final answer completes the subprocess with ``{"response", "modelCalls",
   "toolCalls"}``; a spent budget throws ``AGENT_LIMIT_REACHED``. Camunda's
   AI Agent sub-process starts from its input variables and ends with
   Camunda's ``agent`` variable and errors instead (``camunda``); its MCP
   clients list their tools before the first model step (``gateway``).

Nothing here does I/O or reads a clock: the step passes time and ids in.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from engine.actor import Actor
from engine.agent import camunda, gateway
from engine.agent.approvals import approval_rule, refusal
from engine.agent.config import AgentConfig, Policy, PolicyDecision, agent_config
from engine.agent.deadlines import approval_deadline, arm_time_limit
from engine.agent.governance import decide
from engine.agent.tools import ToolProblem, arguments_hash, check_arguments, tool_definitions
from engine.agent.turn import MODEL_JOB_TYPE, ToolDefinition
from engine.feel.api import is_expression, strip_marker
from engine.model import AdHocSubProcess
from engine.runtime import messages as m
from engine.runtime.behaviors.activation import open_job
from engine.runtime.behaviors.ad_hoc import activate_inner
from engine.runtime.behaviors.errors import throw_error
from engine.runtime.expressions import ExpressionFailure, evaluate, evaluate_condition
from engine.runtime.journal import EventType as _E
from engine.runtime.kernel import CommandRejected, Kernel
from engine.runtime.records import AgentLimits, AgentRun, Approval, ToolCall
from engine.runtime.state import ElementInstance, ElementState, Phase
from engine.scheduler.timers import TimerDefinitionError, parse_duration, to_millis

__all__ = ["LIMIT_ERROR", "approval_decided", "approval_expired", "ask_model", "begin", "model_answered", "prepare",
           "time_limit", "tool_done"]

LIMIT_ERROR = "AGENT_LIMIT_REACHED"
MODEL_RETRIES = 3
MAX_CONTENT_CHARS = 64 * 1024  # a tool result or model text kept in the conversation, beyond which it is cut
_MAX_CALL_ID = 64
_MAX_STOP_REASON = 64  # a provider's stop reason ("endTurn", "maxTokens"), kept in the journal


# --- starting -----------------------------------------------------------------------------------


def _text(raw: str | None, step: Kernel, element: ElementInstance, what: str) -> str | None:
    if raw is None:
        return None
    if not is_expression(raw):
        return raw
    value = evaluate(strip_marker(raw), step.scope(element.key), step.now, what=f"agent {what}")
    if value is None:
        return None
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True)


def _number(raw: str | None, step: Kernel, element: ElementInstance, what: str) -> Decimal | None:
    text = _text(raw, step, element, what)
    if text is None or not text.strip():
        return None
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise ExpressionFailure(f"expected the agent's {what} to be a number, but it was {text!r}") from None
    if not value.is_finite() or value < 0:
        raise ExpressionFailure(f"expected the agent's {what} to be a number of at least 0, but it was {text!r}")
    return value


@dataclass(frozen=True, slots=True)
class PreparedRun:
    """An agent's configuration, evaluated: its run state, its first messages and the names of its tools."""

    run: AgentRun
    messages: list[dict[str, Any]]
    tools: list[str]
    camunda_context: dict[str, Any] | None = None  # Camunda's agentContext to start from (engine.agent.camunda)


def prepare(step: Kernel, element: ElementInstance, node: AdHocSubProcess) -> PreparedRun:
    """Evaluate the agent's configuration; raises ExpressionFailure (an incident) before anything changes."""
    config = agent_config(node)
    assert config is not None
    if config.camunda:
        return _prepare_camunda(step, element, node, config)
    model = _text(config.model, step, element, "model")
    if not model:
        raise ExpressionFailure(f"the agent of '{node.id}' has an empty model")
    try:
        tools = tool_definitions(step.process, node)
    except ToolProblem as exc:
        raise ExpressionFailure(f"the tools of agent '{node.id}' are declared wrongly: {exc}") from None
    max_calls = _number(config.max_model_calls, step, element, "maxModelCalls")
    tool_calls = _number(config.max_tool_calls, step, element, "maxToolCalls")
    tokens = _number(config.max_tokens, step, element, "maxTokens")
    cost = _number(config.max_cost, step, element, "maxCost")
    deadline = None
    duration = _text(config.max_duration, step, element, "maxDuration")
    if duration:
        try:
            deadline = to_millis(step.now + parse_duration(duration.strip()))
        except TimerDefinitionError as exc:
            raise ExpressionFailure(f"the agent's maxDuration is not an ISO 8601 duration: {exc}") from None
    instructions = _text(config.instructions, step, element, "instructions")
    prompt = _text(config.prompt, step, element, "prompt")
    if prompt is None:
        visible = step.scope(element.key).flatten()
        prompt = json.dumps(visible, sort_keys=True, default=str)[:MAX_CONTENT_CHARS]
    messages: list[dict[str, Any]] = []
    if instructions:
        messages.append({"role": "system", "content": instructions})
    messages.append({"role": "user", "content": prompt})
    limits = AgentLimits(
        model_calls=int(max_calls) if max_calls is not None else 10,
        tool_calls=int(tool_calls) if tool_calls is not None else None,
        tokens=int(tokens) if tokens is not None else None,
        cost=cost,
        deadline=deadline,
    )
    run = AgentRun(model=model, endpoint=_text(config.model_endpoint, step, element, "modelEndpoint"),
                   result_variable=config.result_variable, limits=limits, tool_variables=config.tool_variables)
    return PreparedRun(run=run, messages=messages, tools=[t.name for t in tools])


def _prepare_camunda(step: Kernel, element: ElementInstance, node: AdHocSubProcess,
                     config: AgentConfig) -> PreparedRun:
    """Camunda's AI Agent: its model, prompts and model-call budget are its input variables."""
    try:
        tools = gateway.agent_tools(step.process, node, None)  # its gateways' tools are listed once it started
    except ToolProblem as exc:
        raise ExpressionFailure(f"the tools of agent '{node.id}' are declared wrongly: {exc}") from None
    started = camunda.start(step, element, node, tools)
    run = AgentRun(model=started.model, endpoint=None, result_variable=config.result_variable,
                   limits=AgentLimits(model_calls=started.max_model_calls), tool_variables=config.tool_variables)
    return PreparedRun(run=run, messages=started.messages, tools=[t.name for t in tools],
                       camunda_context=started.context)


def begin(step: Kernel, element: ElementInstance, prepared: PreparedRun) -> None:
    element.agent = prepared.run
    if prepared.camunda_context is not None:  # before the first messages, which it already holds
        camunda.begin(step, element, prepared.camunda_context)
    arm_time_limit(step, element)  # maxDuration runs as a timer too, for an agent that waits on a person
    step.record(_E.AGENT_STARTED, element, model=prepared.run.model, tools=prepared.tools,
                limits=prepared.run.limits.to_dict())  # the budgets, for the console's agent inspector
    _append(step, element, prepared.messages)
    node = step.node(element)
    assert isinstance(node, AdHocSubProcess)
    calls = gateway.discover(step, element, node) if prepared.camunda_context is not None else []
    if calls:  # Camunda's MCP clients list their tools first; the model is asked once all are in
        prepared.run.pending.extend(calls)
        return
    ask_model(step, element)


# --- the conversation ------------------------------------------------------------------------------


def _append(step: Kernel, element: ElementInstance, messages: list[dict[str, Any]]) -> None:
    agent = element.agent
    assert agent is not None
    # Camunda's agentContext keeps the conversation too; the first messages are in it from the start
    if agent.conversation_length and camunda.is_camunda_agent(step.node(element)):
        camunda.mirror(step, element, messages)
    step.effect(m.AppendConversation(owner=element.key, first=agent.conversation_length, messages=messages))
    agent.conversation_length += len(messages)


def _cut(value: Any) -> Any:
    """A value for the conversation: anything past MAX_CONTENT_CHARS of JSON is cut, and the model is told."""
    text = json.dumps(value, default=str, sort_keys=True)
    if len(text) <= MAX_CONTENT_CHARS:
        return value
    return {"truncated": True, "preview": text[:MAX_CONTENT_CHARS]}


def _tool_message(step: Kernel, element: ElementInstance, call_id: str, tool: str, content: Any) -> None:
    _append(step, element, [{"role": "tool", "toolCallId": call_id, "name": tool, "content": _cut(content)}])


# --- model steps -------------------------------------------------------------------------------------


def _over_limit(agent: AgentRun, now_ms: int, *, asking: bool) -> str | None:
    limits = agent.limits
    if asking and agent.model_calls >= limits.model_calls + agent.grace:
        return f"the agent made {agent.model_calls} model calls, its limit (maxModelCalls) is {limits.model_calls}"
    if limits.tokens is not None and agent.tokens > limits.tokens:
        return f"the agent used {agent.tokens} tokens, more than its limit (maxTokens) of {limits.tokens}"
    if limits.cost is not None and agent.cost > limits.cost:
        return f"the agent's model calls cost {agent.cost}, more than its limit (maxCost) of {limits.cost}"
    if limits.deadline is not None and now_ms >= limits.deadline:
        return "the agent ran past its time limit (maxDuration)"
    return None


def ask_model(step: Kernel, element: ElementInstance, *, grace: bool = False) -> None:
    """Start a model step, unless a budget is spent."""
    agent = element.agent
    assert agent is not None
    if grace:  # an operator resolved the limit's incident: one more model call
        agent.grace += 1
    reason = _over_limit(agent, to_millis(step.now), asking=True)
    if reason is not None:
        _limit(step, element, reason)
        return
    if agent.events:  # what event subprocesses gave meanwhile (engine.agent.camunda_events), after the tool results
        _append(step, element, [{"role": "user", "content": text} for text in agent.events])
        agent.events = []
    open_job(step, element, MODEL_JOB_TYPE, MODEL_RETRIES, {"model": agent.model})


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


def _usage(agent: AgentRun, usage: Any) -> dict[str, Any]:
    usage = usage if isinstance(usage, dict) else {}
    tokens_in, tokens_out = _count(usage.get("inputTokens")), _count(usage.get("outputTokens"))
    try:
        cost = Decimal(str(usage.get("costUsd") or 0))
    except InvalidOperation:
        cost = Decimal(0)
    if not cost.is_finite() or cost < 0:
        cost = Decimal(0)
    agent.tokens += tokens_in + tokens_out
    agent.cost += cost
    model, stop = usage.get("model"), usage.get("stopReason")
    return {"model": model if isinstance(model, str) and model else agent.model, "inputTokens": tokens_in,
            "outputTokens": tokens_out, "costUsd": str(cost), "latencyMs": _count(usage.get("latencyMs")),
            **({"stopReason": stop[:_MAX_STOP_REASON]} if isinstance(stop, str) and stop else {})}


def _calls(answer: dict[str, Any], call_no: int) -> list[dict[str, Any]] | None:
    raw = answer.get("toolCalls")
    if not isinstance(raw, list) or not raw or not all(isinstance(c, dict) for c in raw):
        return None
    calls, seen = [], set()
    for index, call in enumerate(raw):
        given = call.get("id")
        call_id = given if isinstance(given, str) and 0 < len(given) <= _MAX_CALL_ID and given not in seen \
            else f"call_{call_no}_{index + 1}"
        seen.add(call_id)
        confidence = call.get("confidence")
        if isinstance(confidence, bool) or not isinstance(confidence, int | float) or not 0 <= confidence <= 1:
            confidence = None
        calls.append({"id": call_id, "name": call.get("name"), "arguments": call.get("arguments"),
                      "confidence": confidence})
    return calls


def model_answered(step: Kernel, element: ElementInstance, job: int, variables: dict[str, Any]) -> None:
    """The model step's answer, committed in this step before anything acts on it."""
    agent = element.agent
    assert agent is not None
    element.job = None
    agent.model_calls += 1
    call_no = agent.model_calls
    usage = _usage(agent, variables.get("usage"))
    answer = variables.get("answer")
    content = answer.get("content") if isinstance(answer, dict) else None
    content = content[:MAX_CONTENT_CHARS] if isinstance(content, str) else None
    calls = _calls(answer, call_no) if isinstance(answer, dict) else None
    final = isinstance(answer, dict) and "final" in answer and calls is None
    summary: dict[str, Any] = {"final": True} if final else {
        "toolCalls": [{"id": c["id"], "name": c["name"] if isinstance(c["name"], str) else None} for c in calls or []]}
    step.record(_E.AGENT_MODEL_CALLED, element, job=job, call=call_no, **usage, answer=summary,
                conversation=agent.conversation_length)
    if not final and calls is None:  # the model is told, and asked again within its budget
        _append(step, element, [
            {"role": "assistant", "content": content},
            {"role": "user", "content": "Your answer had neither tool calls nor a final answer. Call a tool or "
                                        "give your final answer."},
        ])
        ask_model(step, element)
        return
    if final:
        assert isinstance(answer, dict)
        _append(step, element, [{"role": "assistant", "content": content, "final": _cut(answer["final"])}])
        _finish(step, element, answer["final"])
        return
    assert calls is not None
    _append(step, element, [{"role": "assistant", "content": content, "toolCalls": [
        {"id": c["id"], "name": c["name"], "arguments": _cut(c["arguments"])} for c in calls]}])
    reason = _over_limit(agent, to_millis(step.now), asking=False)
    if reason is None and agent.model_calls >= agent.limits.model_calls + agent.grace:
        reason = f"the agent used all {agent.limits.model_calls} model calls (maxModelCalls) without a final answer"
    if reason is not None:
        _limit(step, element, reason)
        return
    node = step.node(element)
    assert isinstance(node, AdHocSubProcess)
    tools = {t.name: t for t in _tools(step, element, node)}
    policies = _policies(step, node)  # read once for the turn, not once per call
    for call in calls:
        _govern(step, element, node, tools, policies, call)
    if not agent.pending:
        ask_model(step, element)


# --- governance and acting ------------------------------------------------------------------------------


def _tools(step: Kernel, element: ElementInstance, node: AdHocSubProcess) -> list[ToolDefinition]:
    if camunda.is_camunda_agent(node):  # with the tools its MCP clients listed (engine.agent.gateway)
        context = step.state.variables.get(element.key, {}).get(camunda.CONTEXT_VARIABLE)
        return gateway.agent_tools(step.process, node, context)
    return tool_definitions(step.process, node)


def _policies(step: Kernel, node: AdHocSubProcess) -> tuple[Policy, ...]:
    config = agent_config(node)
    assert config is not None
    return tuple(step.policies) + config.policies


def _refuse(step: Kernel, element: ElementInstance, call: dict[str, Any], tool: str, message: str,
            **audit: Any) -> None:
    step.record(_E.AGENT_TOOL_CALL, element, callId=call["id"], tool=tool, decision="refused", reason=message,
                **audit)
    _tool_message(step, element, call["id"], tool, {"error": message})


def _govern(step: Kernel, element: ElementInstance, node: AdHocSubProcess, tools: dict[str, ToolDefinition],
            policies: tuple[Policy, ...], call: dict[str, Any]) -> None:
    agent = element.agent
    assert agent is not None
    name = call["name"]
    shown = name[:80] if isinstance(name, str) else repr(name)[:80]
    tool = tools.get(name) if isinstance(name, str) else None
    if tool is None:
        _refuse(step, element, call, shown, f"there is no tool named {shown!r}; the tools are: "
                f"{', '.join(sorted(tools))}")
        return
    try:
        arguments = check_arguments(tool, call["arguments"])
    except ToolProblem as exc:
        _refuse(step, element, call, tool.name, str(exc))
        return
    digest = arguments_hash(tool.name, arguments)
    limit = agent.limits.tool_calls
    deciding: tuple[str, ...] = ()
    approvers: tuple[Policy, ...] = ()
    alert = False
    decision_name: PolicyDecision
    if limit is not None and agent.tool_calls + len(agent.pending) >= limit:
        decision_name, reason = PolicyDecision.DENY, f"the agent may make at most {limit} tool calls (maxToolCalls)"
    else:
        decision = decide(policies, tool.name, arguments, call["confidence"],
                          step.scope(element.key), agent.counts.get(tool.name, 0), step.now)
        decision_name, reason, deciding, alert = decision.decision, decision.reason, decision.policies, decision.alert
        approvers = decision.approvers
    step.record(_E.AGENT_TOOL_CALL, element, callId=call["id"], tool=tool.name, argumentsHash=digest,
                decision=decision_name, reason=reason, policies=list(deciding), confidence=call["confidence"],
                **({"alert": True} if alert else {}))
    if decision_name == PolicyDecision.DENY:
        _tool_message(step, element, call["id"], tool.name, {"error": f"denied by policy: {reason}"})
        return
    record = ToolCall(id=call["id"], tool=tool.name, arguments_hash=digest)
    agent.pending.append(call["id"])
    if decision_name == PolicyDecision.ALLOW:
        agent.counts[tool.name] = agent.counts.get(tool.name, 0) + 1
        _run_tool(step, element, node, record, arguments)
        return
    _ask_approval(step, element, node, record, arguments, approvers, reason)


def _run_tool(step: Kernel, element: ElementInstance, node: AdHocSubProcess, record: ToolCall,
              arguments: dict[str, Any], inner: ElementInstance | None = None) -> None:
    """Activate the tool's element, in an inner instance whose ``toolCall`` holds exactly ``arguments``.

    A gateway's tool (``MCP_<element>___<tool>``) activates its element with Camunda's ``tools/call``.
    """
    element_id, upstream = gateway.target(step.process, node, record.tool)
    if upstream is None:
        local = {"toolCall": {**arguments, "_meta": {"id": record.id, "name": record.tool}}, "toolCallResult": None}
    else:
        local = gateway.call_variables(record.id, element_id, upstream, arguments)
    if inner is None:
        activate_inner(step, element, node, element_id, local, call=record)
    else:
        step.set_variables(inner.key, local, local=True)
        step.enter(element_id, inner.key)


def _ask_approval(step: Kernel, element: ElementInstance, node: AdHocSubProcess, record: ToolCall,
                  arguments: dict[str, Any], approvers: tuple[Policy, ...], reason: str) -> None:
    rule = approval_rule(step, element, approvers)
    groups = rule.groups
    call = ToolCall(id=record.id, tool=record.tool, arguments_hash=record.arguments_hash, arguments=arguments,
                    approval=Approval.PENDING, needed=rule.needed, excluded=list(rule.excluded))
    inner = step.create_element(node.id, element.key, state=ElementState.ACTIVE, inner=True, call=call)
    key = step.ids.next_key()
    inner.user_task = key
    details = {"kind": "approval", "tool": record.tool, "arguments": arguments, "argumentsHash":
               record.arguments_hash, "callId": record.id, "agent": element.element_id,
               "agentElementInstance": element.key, "reason": reason, **rule.details()}
    step.effect(m.CreateUserTask(
        key=key, element_instance=inner.key, element_id=record.tool,
        name=f"Approve: {step.process.nodes[gateway.target(step.process, node, record.tool)[0]].label}",
        assignee=None, candidate_groups=groups, candidate_users=rule.users, due_date=None, follow_up_date=None,
        form_key=None, priority=50, details=details))
    step.record(_E.AGENT_APPROVAL_REQUESTED, element, callId=record.id, tool=record.tool, task=key,
                argumentsHash=record.arguments_hash, candidateGroups=groups,
                **({"candidateUsers": rule.users} if rule.users else {}),
                **({"approvers": rule.needed} if rule.needed > 1 else {}))
    approval_deadline(step, element, inner, key, approvers)


def approval_decided(step: Kernel, inner: ElementInstance, variables: dict[str, Any], by: Actor | None) -> None:
    """A person answered an approval task: run the stored arguments once, or tell the agent why not.

    ``by`` None is a program embedding the engine, trusted to decide alone. A call that needs more distinct
    approvers than it has records this approval and keeps waiting; any rejection rejects it.
    """
    approved = variables.get("approved")
    if not isinstance(approved, bool):
        raise CommandRejected('an approval is completed with {"approved": true} or {"approved": false, '
                              '"reason": "..."}')
    reason = variables.get("reason")
    reason = reason[:2000] if isinstance(reason, str) else None
    call = inner.call
    assert call is not None and inner.parent is not None
    element = step.state.elements[inner.parent]
    agent = element.agent
    assert agent is not None
    task = inner.user_task
    who: dict[str, Any] = {"approver": None}
    if by is not None:
        refused = refusal(step, agent, call, by)
        if refused is not None:
            raise CommandRejected(refused)
        who = {"approver": by.id, "by": by.to_json()}
        if approved:
            call.approved_by.append(by.id)
        if approved and len(call.approved_by) < call.needed:  # not yet enough approvers: the task stays open
            step.record(_E.AGENT_APPROVAL_GIVEN, element, callId=call.id, tool=call.tool, task=task,
                        argumentsHash=call.arguments_hash, approvals=len(call.approved_by), needed=call.needed,
                        **who)
            assert task is not None
            step.effect(m.UpdateUserTask(task, {"approvedBy": list(call.approved_by)}))
            return
    inner.user_task = None
    step.record(_E.AGENT_APPROVAL_DECIDED, element, callId=call.id, tool=call.tool, task=task,
                approved=approved, argumentsHash=call.arguments_hash, reason=reason, **who,
                **({"approvers": list(call.approved_by)} if approved and call.needed > 1 else {}))
    if approved:
        arguments = call.arguments
        assert arguments is not None
        call.arguments = None  # only the stored arguments run, and only once
        call.approval = Approval.APPROVED
        agent.counts[call.tool] = agent.counts.get(call.tool, 0) + 1
        node = step.node(element)
        assert isinstance(node, AdHocSubProcess)
        _run_tool(step, element, node, call, arguments, inner=inner)
        return
    step.remove(inner)
    _tool_message(step, element, call.id, call.tool,
                  {"error": f"a person rejected this call: {reason or 'no reason given'}"})
    _resolved(step, element, call.id)


def tool_done(step: Kernel, element: ElementInstance, call: ToolCall, result: Any) -> None:
    """A tool call's element finished: its result goes back into the conversation."""
    agent = element.agent
    assert agent is not None
    node = step.node(element)
    assert isinstance(node, AdHocSubProcess)
    if gateway.is_discovery(call.id):  # a gateway's listing, not a call of the model's
        gateway.discovered(step, element, call, result, last=agent.pending == [call.id])
        _resolved(step, element, call.id)
        return
    agent.tool_calls += 1
    if gateway.target(step.process, node, call.tool)[1] is not None:
        result = gateway.model_content(result)
    _tool_message(step, element, call.id, call.tool, result)
    step.record(_E.AGENT_TOOL_RESULT, element, callId=call.id, tool=call.tool)
    if node.completion_condition is not None and evaluate_condition(
            node.completion_condition, step.scope(element.key), step.now, what="completion condition"):
        _finish(step, element, None)
        return
    _resolved(step, element, call.id)


def cancel_pending(step: Kernel, element: ElementInstance, result: str) -> None:
    """End the tool calls in flight (their elements terminated); each gets ``result`` for the model."""
    agent = element.agent
    assert agent is not None
    canceled = [c for c in agent.pending if not gateway.is_discovery(c)]  # a gateway's listing is not the model's
    tools: dict[str, str] = {}
    for child in step.state.children_of(element.key):
        if child.inner and child.call is not None and child.call.id in canceled:
            tools[child.call.id] = child.call.tool
            step.terminate(child)
    agent.pending = [c for c in agent.pending if c not in canceled]
    for call_id in canceled:
        _tool_message(step, element, call_id, tools.get(call_id, ""), result)


def _resolved(step: Kernel, element: ElementInstance, call_id: str) -> None:
    agent = element.agent
    assert agent is not None
    if call_id in agent.pending:
        agent.pending.remove(call_id)
    if not agent.pending and element.state == ElementState.ACTIVE and element.job is None:
        ask_model(step, element)


# --- ending --------------------------------------------------------------------------------------------------


def _withdraw(step: Kernel, element: ElementInstance) -> None:
    for child in step.state.children_of(element.key):
        step.terminate(child)
    assert element.agent is not None
    element.agent.pending = []


def _finish(step: Kernel, element: ElementInstance, response: Any) -> None:
    agent = element.agent
    assert agent is not None
    _withdraw(step, element)
    result = {"response": response, "modelCalls": agent.model_calls, "toolCalls": agent.tool_calls}
    if camunda.is_camunda_agent(step.node(element)):  # Camunda's agent variable: responseText, context, ...
        try:
            result = camunda.result(step, element, response)
        except camunda.ResponseNotJson as exc:
            throw_error(step, element, camunda.PARSE_ERROR, str(exc), {})
            return
    step.record(_E.AGENT_FINISHED, element, modelCalls=agent.model_calls, toolCalls=agent.tool_calls)
    step.schedule(Phase.COMPLETE, element, {agent.result_variable: result})


def _limit(step: Kernel, element: ElementInstance, reason: str) -> None:
    _withdraw(step, element)
    step.record(_E.AGENT_LIMIT_REACHED, element, reason=reason)
    if camunda.is_camunda_agent(step.node(element)):  # its only budget is maxModelCalls: Camunda's error
        throw_error(step, element, camunda.LIMIT_ERROR, camunda.limit_message(step, element), {})
        return
    throw_error(step, element, LIMIT_ERROR, reason, {})


# --- deadlines (engine.agent.deadlines decides which fired) ------------------------------------------------


def time_limit(step: Kernel, element: ElementInstance) -> None:
    """The agent's maxDuration timer fired: a running agent stops with the limit error, as at a model step."""
    if element.agent is None or element.state != ElementState.ACTIVE or element.incident is not None:
        return  # it already stopped (at a limit whose incident is open, or it is leaving)
    if element.job is not None:  # a model step in flight: its answer will find the job gone
        step.effect(m.CancelJob(element.job))
        element.job = None
    _limit(step, element, "the agent ran past its time limit (maxDuration)")


def approval_expired(step: Kernel, inner: ElementInstance, reason: str) -> None:
    """An approval passed its due date and its policy rejects it then: the call does not run, the agent is told."""
    call = inner.call
    assert call is not None and inner.parent is not None
    element = step.state.elements[inner.parent]
    task = inner.user_task
    inner.user_task = None
    if task is not None:
        step.effect(m.CancelUserTask(task))
    step.record(_E.AGENT_APPROVAL_EXPIRED, element, callId=call.id, tool=call.tool, task=task,
                argumentsHash=call.arguments_hash, dueDate=call.due_date, reason=reason)
    step.remove(inner)
    _tool_message(step, element, call.id, call.tool, {"error": reason})
    _resolved(step, element, call.id)
