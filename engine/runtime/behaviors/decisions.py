"""Business rule tasks: a ``zeebe:calledDecision`` evaluated in the step, or (with a task definition) a job.

The decision is found through the step's lookup by its binding (the latest
version, the version deployed with this process, or the newest with a version
tag), evaluated with the element's scope as its input variables and the
step's clock, and its result written to ``resultVariable`` in Camunda's
shapes (those of DMN: a value, a context for several outputs, a list for the
multiple-hit policies, a number for an aggregation). The journal records the
decision's id, version and, for each decision evaluated, the rules that
matched. A decision that is not deployed, or whose evaluation fails, is an
incident of type ``decision``; resolving it evaluates again, against what is
deployed then.
"""

from __future__ import annotations

from typing import Any

from engine.dmn import DecisionBinding, DecisionOutcome, DmnError, evaluate_decision
from engine.feel import to_json
from engine.model import BusinessRuleTask, FlowNode
from engine.runtime.behaviors.activation import activated
from engine.runtime.behaviors.activities import JobTaskBehavior
from engine.runtime.expressions import DecisionFailure, evaluate_value
from engine.runtime.journal import EventType
from engine.runtime.kernel import Kernel
from engine.runtime.state import ElementInstance, Phase

__all__ = ["BusinessRuleTaskBehavior", "journal_entry"]


class BusinessRuleTaskBehavior(JobTaskBehavior):
    def activate(self, kernel: Kernel, element: ElementInstance, node: FlowNode) -> None:
        if not isinstance(node, BusinessRuleTask):
            super().activate(kernel, element, node)
            return
        scope = kernel.scope(element.key)
        decision_id = evaluate_value(node.decision_id, scope, kernel.now, what="zeebe:calledDecision decisionId")
        if not isinstance(decision_id, str) or not decision_id:
            raise DecisionFailure(f"expected the decision id of '{node.id}' to be a string, got {decision_id!r}")
        binding = DecisionBinding(node.binding)
        found = kernel.processes.decision(decision_id, binding, node.version_tag, kernel.state.definition_key)
        if found is None:
            which = {DecisionBinding.LATEST: "",
                     DecisionBinding.DEPLOYMENT: " in the deployment of this process",
                     DecisionBinding.VERSION_TAG: f" with version tag '{node.version_tag}'"}[binding]
            raise DecisionFailure(f"business rule task '{node.id}' calls decision '{decision_id}', which is not "
                                  f"deployed{which}; deploy it, then retry")
        try:
            outcome = evaluate_decision(found.graph, found.decision_id, scope, kernel.now)
        except DmnError as exc:
            raise DecisionFailure(f"business rule task '{node.id}': decision '{found.decision_id}' version "
                                  f"{found.version}: {exc.message}") from exc
        activated(kernel, element)
        kernel.record(EventType.DECISION_EVALUATED, element, decision=found.decision_id, version=found.version,
                      key=found.key, evaluated=journal_entry(outcome))
        kernel.schedule(Phase.COMPLETE, element, {node.result_variable: to_json(outcome.value)})


def journal_entry(outcome: DecisionOutcome) -> list[dict[str, Any]]:
    """Each decision evaluated, with the rules that matched (ids and 1-based indexes): what the journal keeps."""
    return [
        {"decision": d.decision_id, "hitPolicy": d.hit_policy,
         "matchedRules": [{"ruleId": r.rule_id, "ruleIndex": r.index} for r in d.matched_rules]}
        for d in outcome.evaluated
    ]
