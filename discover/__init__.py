"""Discover: what the journal says about how the processes really run.

Owns: event logs out in the standard formats (XES, IEEE 1849, and OCEL 2.0
as JSON, both streamed), the process inventory (per process: how often, how
long, how often it fails) and the improvement brief (bottlenecks, rework,
exception hot spots and ranked automation opportunities, each with its
expected impact stated from the data).

The agents' own decisions (``agents``): per agent region, the tools it
chooses in which order, where it loops, how often governance and people
overrule it, its cost per outcome, and the drift between models and versions.

Also process mining with pm4py (``mining``: a model discovered by the
inductive miner, conformance of a version's instances to its model).

Event logs in (``log_import``, ``log_store``, ``log_analysis``): XES, OCEL
2.0 and CSV files of other systems, kept in discover's own tables
(``schema``), apart from the journal, and measured by the same statistics.
AI-drafted changes (``drafts``): a model's BPMN checked, laid out and
diffed (``draft_checks``, ``draft_diff``), deployed only when a member of the
process's owner group approves; ``compare`` measures two versions alike.

Reads the journal through the engine's query API only
(``Engine.event_log``, keyset pages), never SQL, and writes to the engine
only to deploy an approved draft. Does not know the model providers (the
hub passes the model call in). Does not know HTTP or the CLI (the hub serves what this returns).
Needs no pm4py except for mining: pm4py (AGPL-3.0, the optional extra
``agenthub[discover]``) is imported lazily in ``discover.mining`` only.
"""

from discover.agents import agent_behaviour
from discover.elements import ElementCatalog, ElementInfo
from discover.exceptions import DiscoverError, MiningUnavailable, UnknownProcess
from discover.export import ExportCounts, ExportFormat, export_chunks, export_to
from discover.inventory import ProcessSummary, brief, inventory
from discover.mining import conformance, discover_model
from discover.steps import Lifecycle, Step, steps_of
from engine.event_log import LogFilter

__all__ = [
    "DiscoverError",
    "ElementCatalog",
    "ElementInfo",
    "ExportCounts",
    "ExportFormat",
    "Lifecycle",
    "LogFilter",
    "MiningUnavailable",
    "ProcessSummary",
    "Step",
    "UnknownProcess",
    "agent_behaviour",
    "brief",
    "conformance",
    "discover_model",
    "export_chunks",
    "export_to",
    "inventory",
    "steps_of",
]
