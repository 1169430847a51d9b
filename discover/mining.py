"""Process mining with pm4py: a model discovered from the log (inductive miner), and conformance of the log to a
deployed version (fitness, precision, and the deviating instances with their deviations).

pm4py is AGPL-3.0 and an optional extra (``agenthub[discover]``): it is
imported here only, lazily, when mining is asked for (the import is inside
``_pm4py``, the exception to the rule of imports at the top, for that
reason), and its absence is a ``MiningUnavailable`` that says how to install
it. Its banner and progress bars are kept off our output. We write no miner
of our own.

The log mined is the completions of the activities (tasks, subprocesses,
call activities) of each instance, in journal order, named as in XES: the
events and gateways of a run are the model's structure, not its work, and a
BPMN model converted to a Petri net by pm4py labels only its activities. A
multi-instance activity's completions in a row count once, as the model
has it once. pm4py's conversion of BPMN to a Petri net does not know
boundary events: an instance that left through one shows as a deviation.
The discovered model is a BPMN file with a diagram drawn by the engine's own
layout (``engine.parser.layout``), so it opens in the Modeler and in the
console; it is not executable (it has no task types) and is never deployed
from here.
"""

from __future__ import annotations

import contextlib
import io
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from lxml import etree

from discover.elements import Catalog, ElementCatalog
from discover.exceptions import DiscoverError, MiningUnavailable, UnknownProcess
from discover.export import check_process
from discover.stats import is_activity
from discover.steps import Lifecycle, steps_of
from engine import Engine, NotFound
from engine.event_log import LogFilter, Trace
from engine.parser.layout import layout

__all__ = ["MiningUnavailable", "conform", "conformance", "deployed_model", "discover_model", "ensure_mining",
           "frame_of", "mine"]

_BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
_CASE, _ACTIVITY, _TIME = "case:concept:name", "concept:name", "time:timestamp"


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """pm4py prints a banner on import and progress bars while it works: neither belongs in our output."""
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        yield


def ensure_mining() -> None:
    """``MiningUnavailable`` (saying how to install it) unless pm4py can be imported."""
    _pm4py()


def _pm4py() -> Any:
    try:
        with _quiet():
            import pm4py  # optional (AGPL-3.0): imported only when mining is asked for
    except ImportError:
        raise MiningUnavailable("process mining needs pm4py: pip install 'agenthub[discover]'") from None
    return pm4py


def frame_of(traces: Iterable[Trace], catalog: Catalog) -> Any:
    """The activity completions of ``traces`` (the journal's instances, or an imported log's cases) as pm4py's
    data frame, in journal order."""
    import pandas  # pm4py's own dependency: there whenever pm4py is

    cases: list[str] = []
    names: list[str] = []
    times: list[int] = []
    for trace in traces:
        elements = catalog.of(trace.instance.process_id, trace.instance.version)
        case, last = str(trace.instance.key), ""
        for step in steps_of(trace.events, elements):
            if step.lifecycle != Lifecycle.COMPLETE or not is_activity(step.kind):
                continue
            if step.element_id == last and elements[step.element_id].multi:
                times[-1] = step.at  # a multi-instance activity's passes in a row: the model's one activity
                continue
            cases.append(case)
            names.append(step.activity)
            times.append(step.at)
            last = step.element_id
    if not cases:
        raise DiscoverError("no instance (or imported case) has completed an activity yet: there is nothing to "
                            "mine")
    return pandas.DataFrame({_CASE: cases, _ACTIVITY: names, _TIME: pandas.to_datetime(times, unit="ms", utc=True)})


def discover_model(engine: Engine, where: LogFilter, *, noise: float = 0.0) -> bytes:
    """A BPMN model (with its diagram) of how ``where``'s instances ran, by the inductive miner; ``noise`` (0 to 1)
    leaves out behaviour rarer than that share."""
    if not 0.0 <= noise <= 1.0:
        raise DiscoverError(f"noise must be between 0 and 1, not {noise}")
    check_process(engine, where)
    _pm4py()
    return mine(frame_of(engine.event_log.traces(where), ElementCatalog(engine)), where.process_id or "processes",
                noise)


def mine(frame: Any, name: str, noise: float) -> bytes:
    """The inductive miner's model of ``frame`` (``frame_of``), laid out, its process named ``discovered-NAME``."""
    if not 0.0 <= noise <= 1.0:
        raise DiscoverError(f"noise must be between 0 and 1, not {noise}")
    pm4py = _pm4py()
    with _quiet():
        model = pm4py.discover_bpmn_inductive(frame, noise_threshold=noise)
    with tempfile.TemporaryDirectory(prefix="agenthub-mined-") as tmp:
        path = Path(tmp) / "mined.bpmn"
        with _quiet():
            pm4py.write_bpmn(model, str(path), auto_layout=False)
        xml = path.read_bytes()
    return layout(_named(xml, f"discovered-{name}"))


def _named(xml: bytes, process_id: str) -> bytes:
    """pm4py names the process with a random id: give it one people can read."""
    root = etree.fromstring(xml, etree.XMLParser(resolve_entities=False, no_network=True))
    process = root.find(f"{{{_BPMN}}}process")
    if process is not None:
        old = process.get("id")
        process.set("id", process_id)
        process.set("name", f"Discovered: {process_id.removeprefix('discovered-')}")
        for plane in root.iter("{http://www.omg.org/spec/BPMN/20100524/DI}BPMNPlane"):
            if plane.get("bpmnElement") == old:
                plane.set("bpmnElement", process_id)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


def deployed_model(engine: Engine, process_id: str, version: int | None = None) -> tuple[str, int]:
    """The BPMN of a deployed version (its latest by default) and that version; ``UnknownProcess`` when none."""
    try:
        xml = engine.definition_xml(process_id, version)
        return xml, version or max(d["version"] for d in engine.definitions(process_id))
    except (NotFound, ValueError):
        raise UnknownProcess(f"process '{process_id}'" + (f" version {version}" if version else "")
                             + " is not deployed") from None


def conformance(engine: Engine, process_id: str, version: int | None = None) -> dict[str, Any]:
    """How well the instances of a deployed version (its latest by default) fit its model: token-based replay's
    fitness and precision, and each instance that deviates with what it did that the model does not allow."""
    xml, deployed = deployed_model(engine, process_id, version)
    _pm4py()
    return conform(frame_of(engine.event_log.traces(LogFilter(process_id=process_id, version=deployed)),
                          ElementCatalog(engine)), xml, process_id, deployed, int)


def conform(frame: Any, xml: str, process_id: str, version: int, case: Callable[[str], Any]) -> dict[str, Any]:
    """Token-based replay of ``frame`` (``frame_of``) on the model ``xml``; ``case`` turns a frame's case column
    back into what the deviations name (an instance key, an imported case id)."""
    pm4py = _pm4py()
    with tempfile.TemporaryDirectory(prefix="agenthub-model-") as tmp:
        path = Path(tmp) / "model.bpmn"
        path.write_text(xml, encoding="utf-8")
        with _quiet():
            net, initial, final = pm4py.convert_to_petri_net(pm4py.read_bpmn(str(path)))
    with _quiet():
        log = pm4py.convert_to_event_log(frame)
        fitness = pm4py.fitness_token_based_replay(log, net, initial, final)
        precision = pm4py.precision_token_based_replay(log, net, initial, final)
        diagnostics = pm4py.conformance_diagnostics_token_based_replay(log, net, initial, final)
    deviations = [
        # a converted log keeps the case id as the trace's concept:name (the frame's column without "case:")
        {"instance": case(str(trace.attributes["concept:name"])), "fitness": round(float(d["trace_fitness"]), 4),
         "activities": [e[_ACTIVITY] for e in trace],
         "unexpected": sorted({str(t.label) for t in d["transitions_with_problems"] if t.label}),
         "skipped": sorted({str(t.label) for t in d["enabled_transitions_in_marking"] if t.label}),
         "missingTokens": int(d["missing_tokens"]), "remainingTokens": int(d["remaining_tokens"])}
        for trace, d in zip(log, diagnostics, strict=True) if not d["trace_is_fit"]
    ]
    return {
        "processId": process_id,
        "version": version,
        "instances": len(log),
        "fitness": round(float(fitness["log_fitness"]), 4),
        "fittingInstances": round(float(fitness["percentage_of_fitting_traces"]) / 100, 4),
        "precision": round(float(precision), 4),
        "deviations": sorted(deviations, key=lambda d: (d["fitness"], d["instance"])),
    }
