"""DMN decisions: decision tables with every hit policy, boxed expressions and requirement graphs, evaluated with FEEL.

Owns: the DMN model as frozen data (``engine.dmn.model``, read from XML by
``engine.parser.parse_dmn``), and evaluating one decision of a graph against
input variables: its required decisions first, business knowledge models and
decision services as functions, decision tables with UNIQUE, FIRST, PRIORITY,
ANY, COLLECT (with SUM, MIN, MAX, COUNT), RULE ORDER and OUTPUT ORDER, input
and output values, default outputs, and typeRef coercion. The outcome names
the rules that matched, for the journal.

Does not know: XML (the parser reads it), deployments, versions or where a
decision is stored (``engine.decisions``), processes, or the clock: ``now``
is passed in, so evaluation in the engine's step is deterministic.
"""

from engine.dmn.evaluation import evaluate_decision, evaluate_service
from engine.dmn.exceptions import DecisionEvaluationError, DecisionNotFound, DmnError
from engine.dmn.model import DecisionBinding, DecisionGraph, DecisionVersion, HitPolicy
from engine.dmn.results import DecisionOutcome, EvaluatedDecision, MatchedRule

__all__ = [
    "DecisionBinding",
    "DecisionEvaluationError",
    "DecisionGraph",
    "DecisionNotFound",
    "DecisionOutcome",
    "DecisionVersion",
    "DmnError",
    "EvaluatedDecision",
    "HitPolicy",
    "MatchedRule",
    "evaluate_decision",
    "evaluate_service",
]
