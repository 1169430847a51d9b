"""A DMN model (a decision requirements graph) as frozen data.

Boxed expressions are a small closed tree: literal expressions (FEEL text),
contexts, lists, relations, function definitions, invocations, decision
tables and the DMN 1.5 boxed conditional, filter and iterators. Decisions,
business knowledge models, decision services and input data refer to each
other by id. FEEL stays source text here; the evaluator compiles it once
through the FEEL cache.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class HitPolicy(StrEnum):
    UNIQUE = "UNIQUE"
    FIRST = "FIRST"
    PRIORITY = "PRIORITY"
    ANY = "ANY"
    COLLECT = "COLLECT"
    RULE_ORDER = "RULE ORDER"
    OUTPUT_ORDER = "OUTPUT ORDER"


class Aggregation(StrEnum):
    SUM = "SUM"
    MIN = "MIN"
    MAX = "MAX"
    COUNT = "COUNT"


@dataclass(frozen=True, slots=True, kw_only=True)
class Literal:
    """A literal expression: FEEL text."""

    text: str
    type_ref: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ContextEntry:
    name: str | None  # None: the context's final result entry
    value: Boxed | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Context:
    entries: tuple[ContextEntry, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class ListOf:
    items: tuple[Boxed, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Relation:
    columns: tuple[str, ...]
    rows: tuple[tuple[Boxed | None, ...], ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class FunctionDefinition:
    params: tuple[str, ...]
    body: Boxed | None
    kind: str = "FEEL"  # FEEL; Java and PMML bodies are not run


@dataclass(frozen=True, slots=True, kw_only=True)
class Invocation:
    target: Boxed | None
    bindings: tuple[tuple[str, Boxed | None], ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Conditional:
    """DMN 1.5 boxed conditional: ``if``/``then``/``else``."""

    condition: Boxed | None
    then: Boxed | None
    otherwise: Boxed | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Filter:
    """DMN 1.5 boxed filter: the items of ``source`` for which ``match`` holds (``item`` in scope)."""

    source: Boxed | None
    match: Boxed | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Iterator:
    """DMN 1.5 boxed ``for``/``some``/``every``: ``variable`` ranges over ``source``."""

    kind: str  # "for" | "some" | "every"
    variable: str
    source: Boxed | None
    body: Boxed | None


@dataclass(frozen=True, slots=True, kw_only=True)
class TableInput:
    expression: str
    label: str | None = None
    allowed: str | None = None  # inputValues unary tests
    type_ref: str | None = None  # the inputExpression's typeRef


@dataclass(frozen=True, slots=True, kw_only=True)
class TableOutput:
    name: str | None
    label: str | None = None
    type_ref: str | None = None
    allowed: str | None = None  # outputValues: the priority order, first is highest
    default: str | None = None  # defaultOutputEntry, FEEL


@dataclass(frozen=True, slots=True, kw_only=True)
class Rule:
    id: str | None
    index: int  # 1-based, as Camunda reports matched rules
    tests: tuple[str, ...]
    outputs: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class DecisionTable:
    inputs: tuple[TableInput, ...]
    outputs: tuple[TableOutput, ...]
    rules: tuple[Rule, ...]
    hit_policy: HitPolicy = HitPolicy.UNIQUE
    aggregation: Aggregation | None = None
    output_type_ref: str | None = None


Boxed = (
    Literal | Context | ListOf | Relation | FunctionDefinition | Invocation | DecisionTable | Conditional | Filter
    | Iterator
)


@dataclass(frozen=True, slots=True, kw_only=True)
class ToolMark:
    """``<agenthub:tool name=".." description=".."/>`` in a decision's ``extensionElements``: an MCP tool."""

    name: str | None = None  # the tool's name; the decision id when not given
    description: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Decision:
    id: str
    name: str
    logic: Boxed | None
    type_ref: str | None = None
    required_decisions: tuple[str, ...] = ()  # ids
    required_inputs: tuple[str, ...] = ()  # ids of input data
    required_knowledge: tuple[str, ...] = ()  # ids of BKMs and decision services
    version_tag: str | None = None  # zeebe:versionTag (Camunda 8) or camunda:versionTag (Camunda 7 modeler)
    line: int | None = None
    description: str | None = None  # the decision's <description>
    tool: ToolMark | None = None  # marked <agenthub:tool/>: offered as an MCP tool (engine.decision_tools)


@dataclass(frozen=True, slots=True, kw_only=True)
class BusinessKnowledgeModel:
    id: str
    name: str
    logic: FunctionDefinition
    required_knowledge: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class DecisionService:
    id: str
    name: str
    outputs: tuple[str, ...]  # decision ids
    input_decisions: tuple[str, ...] = ()
    input_data: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class InputData:
    id: str
    name: str
    type_ref: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ItemDefinition:
    name: str
    type_ref: str | None = None
    is_collection: bool = False
    allowed: str | None = None
    components: tuple[ItemDefinition, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class DecisionGraph:
    """One ``definitions`` document: its decisions and what they need, indexed by id."""

    id: str
    name: str
    namespace: str
    decisions: dict[str, Decision] = field(default_factory=dict)
    knowledge: dict[str, BusinessKnowledgeModel] = field(default_factory=dict)
    services: dict[str, DecisionService] = field(default_factory=dict)
    inputs: dict[str, InputData] = field(default_factory=dict)
    items: dict[str, ItemDefinition] = field(default_factory=dict)
    names: frozenset[str] = frozenset()  # every name in the model, so FEEL reads names with spaces whole
    version_tag: str | None = None

    def decision_named(self, name: str) -> Decision | None:
        return next((d for d in self.decisions.values() if d.name == name), None)


class DecisionBinding(StrEnum):
    """Which version of a decision a business rule task evaluates (``zeebe:calledDecision bindingType``)."""

    LATEST = "latest"
    DEPLOYMENT = "deployment"  # the version deployed with the calling process
    VERSION_TAG = "versionTag"  # the newest version carrying ``versionTag``


@dataclass(frozen=True, slots=True, kw_only=True)
class DecisionVersion:
    """One deployed version of a decision, with the graph (the whole DMN file) it belongs to."""

    key: int
    decision_id: str
    version: int
    version_tag: str | None
    graph: DecisionGraph
