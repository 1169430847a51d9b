"""Automation opportunities, ranked by the time they would give back, each with its evidence from the data.

Every opportunity states its expected impact as ``impactMs``: time the
instances spent that the change would remove, computed from the log alone:

- ``repetitive-decision``: a user task people complete, followed by a
  choice that goes one way most of the time (``DOMINANT`` or more): the time
  instances waited for that task, times the share of the common outcome (a
  rule, or an agent with a person for the exceptions, would take those).
- ``manual-step``: a user task people complete whose outcome varies: the
  time instances waited for it.
- ``rework``: an element entered again in the same instance: the extra
  passes times its mean duration.
- ``bottleneck``: the element where instances spend the most time: what its
  slow passes spent beyond its median pass.
- ``incident-hot-spot``: the time instances stood still on its incidents.
- ``agent-loop`` / ``agent-overruled``: an agent's calls that repeated one of
  the same run, or that a policy denied or a person rejected: those calls
  times the agent's mean time per model call.
"""

from __future__ import annotations

from typing import Any

from discover.stats import CONTAINERS, ElementStats, ProcessStats, percentiles

__all__ = ["DOMINANT", "opportunities"]

DOMINANT = 0.8
MIN_DECISIONS = 5  # fewer decisions say nothing about a pattern


def opportunities(stats: ProcessStats) -> list[dict[str, Any]]:
    found = [*_people(stats), *_rework(stats), *_bottleneck(stats), *_incidents(stats), *_agents(stats)]
    found = [f for f in found if f["impactMs"] > 0 or f["kind"].startswith("agent")]
    found.sort(key=lambda f: (-f["impactMs"], f["kind"], f["elementId"]))
    return [{"rank": n, **f} for n, f in enumerate(found, start=1)]


def _hours(ms: int) -> str:
    return f"{ms / 3_600_000:.1f} h" if ms >= 360_000 else f"{ms / 1000:.1f} s"


def _item(kind: str, e: ElementStats | None, element_id: str, impact: int, evidence: str) -> dict[str, Any]:
    return {"kind": kind, "elementId": element_id, "name": e.label if e else element_id, "impactMs": int(impact),
            "impact": _hours(int(impact)), "evidence": evidence}


def _people(stats: ProcessStats) -> list[dict[str, Any]]:
    found = []
    for e in stats.elements.values():
        if e.kind != "userTask" or not e.by_people or not e.durations:
            continue
        spent, mean = sum(e.durations), sum(e.durations) // len(e.durations)
        done = f"people completed '{e.label}' {e.by_people} times; instances waited {_hours(mean)} on average for " \
               f"it ({_hours(spent)} in all)"
        choice = _choice_after(stats, e.element_id)
        if choice is not None:
            target, taken, total = choice
            share = taken / total
            found.append(_item("repetitive-decision", e, e.element_id, round(spent * share),
                               f"{done}; the choice after it went to '{_label(stats, target)}' {share:.0%} of the time "
                               f"({taken} of {total}): a rule, or an agent with a person for the exceptions, "
                               f"could take it"))
        else:
            found.append(_item("manual-step", e, e.element_id, spent, f"{done}; its outcome varies"))
    return found


def _choice_after(stats: ProcessStats, element_id: str) -> tuple[str, int, int] | None:
    """The exclusive gateway right after the element and its most common way out, when it dominates."""
    after = {target for (source, target) in stats.decisions if source == element_id}
    gateway = next(iter(after)) if len(after) == 1 else None
    if gateway is None or gateway not in stats.elements or stats.elements[gateway].kind != "exclusiveGateway":
        return None
    outs = {target: n for (source, target), n in stats.decisions.items() if source == gateway}
    total = sum(outs.values())
    if total < MIN_DECISIONS:
        return None
    target, taken = max(outs.items(), key=lambda kv: (kv[1], kv[0]))
    return (target, taken, total) if taken / total >= DOMINANT else None


def _label(stats: ProcessStats, element_id: str) -> str:
    found = stats.elements.get(element_id)
    return found.label if found else element_id


def _rework(stats: ProcessStats) -> list[dict[str, Any]]:
    return [
        _item("rework", e, e.element_id, e.extra_passes * (sum(e.durations) // len(e.durations)),
              f"'{e.label}' ran again in {e.rework_instances} of {stats.instances} instances ({e.extra_passes} extra "
              f"passes, {_hours(sum(e.durations) // len(e.durations))} each on average)")
        for e in stats.elements.values() if e.extra_passes and e.durations
    ]


def _bottleneck(stats: ProcessStats) -> list[dict[str, Any]]:
    timed = [e for e in stats.elements.values() if e.durations and e.kind not in CONTAINERS]
    if not timed:
        return []
    e = max(timed, key=lambda e: (sum(e.durations), e.element_id))
    total = sum(sum(t.durations) for t in timed) or 1
    median = percentiles(e.durations)["p50"]
    beyond = sum(max(0, d - median) for d in e.durations)
    return [_item("bottleneck", e, e.element_id, beyond,
                  f"instances spend {sum(e.durations) / total:.0%} of their time in '{e.label}' "
                  f"({_hours(sum(e.durations))} over {len(e.durations)} passes, median {_hours(median)}); its slow "
                  f"passes spent {_hours(beyond)} beyond the median")]


def _incidents(stats: ProcessStats) -> list[dict[str, Any]]:
    return [
        _item("incident-hot-spot", e, e.element_id, e.suspended_ms,
              f"'{e.label}' raised {e.incidents} incidents ({e.errors} BPMN errors besides); instances stood still "
              f"{_hours(e.suspended_ms)} until they were resolved")
        for e in stats.elements.values() if e.incidents
    ]


def _agents(stats: ProcessStats) -> list[dict[str, Any]]:
    found = []
    for a in stats.agents.values():
        per_call = a.run_ms // a.model_calls if a.model_calls else 0
        label = _label(stats, a.element_id)
        element = stats.elements.get(a.element_id)
        if a.repeated or a.limit_reached:
            found.append(_item("agent-loop", element, a.element_id, a.repeated * per_call,
                               f"agent '{label}' repeated {a.repeated} of {a.tool_calls} tool calls within a run and "
                               f"hit a limit in {a.limit_reached} of {a.runs} runs: its instructions or tools miss "
                               f"something it keeps looking for"))
        if a.denied or a.rejected:
            overruled = a.denied + a.rejected
            found.append(_item("agent-overruled", element, a.element_id, overruled * per_call,
                               f"agent '{label}' was overruled on {overruled} of {a.tool_calls} tool calls "
                               f"({a.denied} denied by policy, {a.rejected} rejected by a person): tell it the rule "
                               f"it keeps breaking"))
    return found
