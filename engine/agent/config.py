"""An agent's configuration, read from ``<agenthub:agent>`` and ``<agenthub:policy>`` on an ad-hoc subprocess.

    <bpmn:adHocSubProcess id="resolve">
      <bpmn:extensionElements>
        <agenthub:agent model="offline" instructions="Resolve the complaint." maxModelCalls="10"
                        resultVariable="agentResult"/>
        <agenthub:policy tool="refund" when="=toolCall.amount > 100" decision="approve"
                         candidateGroups="finance" reason="refunds over 100 need finance"/>
      </bpmn:extensionElements>
      ...

Every attribute may be a FEEL expression starting with ``=``, evaluated when
the agent starts (policies' ``when`` at each tool call), but ``toolVariables``:
``propagate`` (the default, Zeebe's rule) or ``isolated``, fixed in the model
because it decides where a tool's writes go before anything runs. The parser keeps
agenthub elements generically; this module owns their meaning and reports
what is wrong with them at deployment, with line numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum

from engine.agent.camunda import RESULT_VARIABLE, is_camunda_agent
from engine.agent.tools import ToolProblem, tool_definitions, tool_nodes
from engine.feel import FeelSyntaxError, compile_expression
from engine.feel.api import is_expression, strip_marker
from engine.model import AdHocSubProcess, FlowNode, Process
from engine.model.elements import ExtensionElement
from engine.parser import Problem
from engine.runtime.records import ToolVariables

__all__ = [
    "DECISIONS", "AgentConfig", "Policy", "PolicyDecision", "agent_config", "agent_problems", "policy_from_attributes",
]


class PolicyDecision(StrEnum):
    """What a policy decides about a tool call, from least to most strict; the strictest that applies wins."""

    ALLOW = "allow"
    APPROVE = "approve"
    DENY = "deny"

    @property
    def strictness(self) -> int:
        return DECISIONS.index(self)


DECISIONS: tuple[PolicyDecision, ...] = tuple(PolicyDecision)  # from least to most strict
_AGENT_ATTRIBUTES = frozenset({
    "model", "modelEndpoint", "instructions", "prompt", "resultVariable", "maxModelCalls", "maxToolCalls",
    "maxTokens", "maxCost", "maxDuration", "toolVariables",
})
_POLICY_ATTRIBUTES = frozenset({
    "tool", "when", "decision", "candidateGroups", "candidateUsers", "reason", "maxCalls", "allowMachines",
    "approvals", "dueDate", "onTimeout",
})
ON_TIMEOUT = ("reject", "escalate")  # what an approval past its due date does


@dataclass(frozen=True, slots=True)
class Policy:
    """One rule over tool calls; every policy that matches a call applies, and the strictest decision wins."""

    tool: str  # an element id, or "*" for every tool
    decision: PolicyDecision
    when: str | None = None  # FEEL (without "="); None: always
    candidate_groups: str | None = None  # who may approve (comma list, or "=FEEL")
    candidate_users: str | None = None  # who may approve, by id (comma list, or "=FEEL")
    reason: str | None = None
    max_calls: int | None = None  # a call budget for the tool in one agent run; calls past it are denied
    line: int | None = None
    origin: str = "model"  # "model" or "hub" (configured for every agent)
    allow_machines: bool = False  # may a machine client (not a person) approve?
    approvals: int = 1  # distinct approvers an approval needs
    due_date: str | None = None  # when an approval is due: ISO date-time, duration from now ("PT4H"), or "=FEEL"
    on_timeout: str | None = None  # what an approval past ``due_date`` does: "reject" or "escalate" (None: nothing)

    def matches_tool(self, tool: str) -> bool:
        return self.tool == "*" or self.tool == tool


@dataclass(frozen=True, slots=True)
class AgentConfig:
    """The raw attributes of ``<agenthub:agent>`` (each static text or ``=FEEL``) and the model's policies."""

    model: str
    instructions: str | None
    prompt: str | None
    result_variable: str
    model_endpoint: str | None
    max_model_calls: str
    max_tool_calls: str | None
    max_tokens: str | None
    max_cost: str | None
    max_duration: str | None
    policies: tuple[Policy, ...]
    line: int | None
    tool_variables: ToolVariables = ToolVariables.PROPAGATE  # static: where what a tool writes goes
    camunda: bool = False  # Camunda's AI Agent sub-process: configured by its input variables (engine.agent.camunda)


def _agent_element(node: FlowNode) -> ExtensionElement | None:  # the rule of AdHocSubProcess.has_agent
    return next((e for e in node.extensions if e.name == "agent"), None)


def _policy_elements(node: FlowNode, agent: ExtensionElement | None) -> list[ExtensionElement]:
    found = [e for e in node.extensions if e.name == "policy"]
    if agent is not None:
        found.extend(c for c in agent.children if c.name == "policy")
    return found


def policy_from_attributes(attrs: dict[str, str], *, line: int | None = None, origin: str = "model") -> Policy:
    """A policy from its attributes; ValueError says what is wrong with them."""
    unknown = sorted(set(attrs) - _POLICY_ATTRIBUTES)
    if unknown:
        raise ValueError(f"agenthub:policy has unknown attribute(s) {', '.join(unknown)}")
    tool = attrs.get("tool", "").strip()
    if not tool:
        raise ValueError('agenthub:policy needs tool="ELEMENT_ID" or tool="*"')
    decision = attrs.get("decision", "").strip()
    if decision not in DECISIONS:
        raise ValueError(f"agenthub:policy decision must be one of allow, approve, deny, not '{decision}'")
    when = attrs.get("when")
    condition = strip_marker(when).strip() if when and when.strip() else None
    if condition is not None:
        try:
            compile_expression(condition)
        except FeelSyntaxError as exc:
            raise ValueError(f"agenthub:policy when is not valid FEEL: {exc}") from None
    max_calls = attrs.get("maxCalls")
    limit: int | None = None
    if max_calls is not None:
        if not max_calls.strip().isdigit():
            raise ValueError(f"agenthub:policy maxCalls must be a whole number, not '{max_calls}'")
        limit = int(max_calls)
    allow_machines = attrs.get("allowMachines", "false").strip()
    if allow_machines not in ("true", "false"):
        raise ValueError(f'agenthub:policy allowMachines must be "true" or "false", not \'{allow_machines}\'')
    approvals = attrs.get("approvals", "1").strip()
    if not approvals.isdigit() or int(approvals) < 1:
        raise ValueError(f"agenthub:policy approvals must be a whole number of at least 1, not '{approvals}'")
    on_timeout = attrs.get("onTimeout")
    if on_timeout is not None and on_timeout.strip() not in ON_TIMEOUT:
        raise ValueError(f"agenthub:policy onTimeout must be one of {', '.join(ON_TIMEOUT)}, not '{on_timeout}'")
    due_date = attrs.get("dueDate")
    if on_timeout is not None and not (due_date and due_date.strip()):
        raise ValueError("agenthub:policy onTimeout needs a dueDate (an ISO date-time, a duration such as PT4H, "
                         "or =FEEL)")
    for name in ("candidateGroups", "candidateUsers", "dueDate"):
        raw = attrs.get(name)
        if raw is not None and is_expression(raw):
            try:
                compile_expression(strip_marker(raw))
            except FeelSyntaxError as exc:
                raise ValueError(f"agenthub:policy {name} is not valid FEEL: {exc}") from None
    if decision != PolicyDecision.APPROVE:
        given = [n for n in ("candidateGroups", "candidateUsers", "allowMachines", "approvals", "dueDate", "onTimeout")
                 if n in attrs]
        if given:
            raise ValueError(f"agenthub:policy {', '.join(given)} only apply to decision=\"approve\", "
                             f"not '{decision}'")
    return Policy(tool=tool, decision=PolicyDecision(decision), when=condition,
                  candidate_groups=attrs.get("candidateGroups"), candidate_users=attrs.get("candidateUsers"),
                  reason=attrs.get("reason"), max_calls=limit, line=line, origin=origin,
                  allow_machines=allow_machines == "true", approvals=int(approvals),
                  due_date=due_date.strip() if due_date and due_date.strip() else None,
                  on_timeout=on_timeout.strip() if on_timeout else None)


def agent_config(node: FlowNode) -> AgentConfig | None:
    """The agent on an ad-hoc subprocess, or None when it has none (assumes ``agent_problems`` found nothing)."""
    element = _agent_element(node)
    if element is None and is_camunda_agent(node):  # its model and limits are its input variables, read at start
        return AgentConfig(model="", instructions=None, prompt=None, result_variable=RESULT_VARIABLE,
                           model_endpoint=None, max_model_calls="", max_tool_calls=None, max_tokens=None,
                           max_cost=None, max_duration=None, line=node.line, camunda=True, policies=tuple(
                               policy_from_attributes(dict(p.attributes), line=p.line)
                               for p in _policy_elements(node, None)))
    if element is None or not isinstance(node, AdHocSubProcess):
        return None
    attrs = dict(element.attributes)
    policies = tuple(policy_from_attributes(dict(p.attributes), line=p.line) for p in _policy_elements(node, element))
    return AgentConfig(
        model=attrs.get("model", "").strip(),
        instructions=attrs.get("instructions"),
        prompt=attrs.get("prompt"),
        result_variable=(attrs.get("resultVariable") or "agentResult").strip(),
        model_endpoint=attrs.get("modelEndpoint"),
        max_model_calls=attrs.get("maxModelCalls", "10"),
        max_tool_calls=attrs.get("maxToolCalls"),
        max_tokens=attrs.get("maxTokens"),
        max_cost=attrs.get("maxCost"),
        max_duration=attrs.get("maxDuration"),
        policies=policies,
        line=element.line,
        tool_variables=ToolVariables((attrs.get("toolVariables") or ToolVariables.PROPAGATE).strip()),
    )


def _check_static_number(name: str, raw: str | None, *, whole: bool) -> str | None:
    if raw is None or is_expression(raw):
        return None
    try:
        value = Decimal(raw.strip())
    except InvalidOperation:
        return f"agenthub:agent {name} must be a number or a FEEL expression, not '{raw}'"
    if value < 0 or (whole and value != value.to_integral_value()):
        return f"agenthub:agent {name} must be a {'whole ' if whole else ''}number of at least 0, not '{raw}'"
    return None


def agent_problems(process: Process, source: str) -> list[Problem]:
    """What is wrong with the agents and policies of a process, element by element."""
    problems: list[Problem] = []
    for node in process.nodes.values():
        element = _agent_element(node)
        policies = _policy_elements(node, element)
        if element is None and not policies and not is_camunda_agent(node):
            continue

        def problem(message: str, line: int | None, node: FlowNode = node) -> None:
            problems.append(Problem(source_name=source, line=line or node.line, element_id=node.id, message=message))

        if not isinstance(node, AdHocSubProcess):
            problem("agenthub:agent and agenthub:policy belong on an ad-hoc subprocess", (element or policies[0]).line)
            continue
        if element is None and is_camunda_agent(node):  # Camunda's AI Agent: its tools and our policies
            for text, at in _tool_problems(process, node, policies, node.line):
                problem(text, at)
            continue
        if element is None:
            problem("agenthub:policy needs an agenthub:agent on the same ad-hoc subprocess", policies[0].line)
            continue
        attrs = dict(element.attributes)
        unknown = sorted(set(attrs) - _AGENT_ATTRIBUTES)
        if unknown:
            problem(f"agenthub:agent has unknown attribute(s) {', '.join(unknown)}", element.line)
        if not attrs.get("model", "").strip():
            problem('agenthub:agent needs a model, e.g. model="offline" or model="openai/gpt-4o-mini"', element.line)
        for name, whole in (("maxModelCalls", True), ("maxToolCalls", True), ("maxTokens", True),
                            ("maxCost", False)):
            message = _check_static_number(name, attrs.get(name), whole=whole)
            if message:
                problem(message, element.line)
        for name, raw in attrs.items():
            if is_expression(raw):
                try:
                    compile_expression(strip_marker(raw))
                except FeelSyntaxError as exc:
                    problem(f"agenthub:agent {name} is not valid FEEL: {exc}", element.line)
        tool_variables = attrs.get("toolVariables")
        if tool_variables is not None and tool_variables.strip() not in tuple(ToolVariables):
            problem(f"agenthub:agent toolVariables must be {' or '.join(ToolVariables)} (a fixed choice, not FEEL), "
                    f"not '{tool_variables}'", element.line)
        if node.job is not None:
            problem("an ad-hoc subprocess with an agenthub:agent cannot also have a zeebe:taskDefinition",
                    element.line)
        for text, at in _tool_problems(process, node, policies, element.line):
            problem(text, at)
    return problems


def _tool_problems(process: Process, node: AdHocSubProcess, policies: list[ExtensionElement],
                   line: int | None) -> list[tuple[str, int | None]]:
    """What is wrong with an agent's tools and its policies, each with its line."""
    found: list[tuple[str, int | None]] = []
    try:
        tool_definitions(process, node)
    except ToolProblem as exc:
        found.append((f"a tool of this agent is declared wrongly: {exc}", line))
    known = {tool.id for tool in tool_nodes(process, node)}
    for policy_element in policies:
        try:
            policy = policy_from_attributes(dict(policy_element.attributes), line=policy_element.line)
        except ValueError as exc:
            found.append((str(exc), policy_element.line))
            continue
        if policy.tool != "*" and policy.tool not in known:
            found.append((f"agenthub:policy names tool '{policy.tool}', which is not an inner activity without "
                          f"incoming flows of '{node.id}' (tools: {', '.join(sorted(known)) or 'none'})",
                          policy_element.line))
    return found
