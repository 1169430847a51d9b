"""The text of ``agenthub discover agents``: each agent region's behaviour (``discover.agents``) as a person reads
it in a terminal; ``--json`` prints the regions as the REST API does."""

from __future__ import annotations

from typing import Any

from hub.tables import printable, table

__all__ = ["agent_lines"]


def _pct(value: float) -> str:
    return f"{value:.0%}"


def _region(r: dict[str, Any]) -> list[str]:
    lines = [f"agent {r['name']} ({r['elementId']}) in {r['processId']}: {r['runs']} runs, {r['modelCalls']} model "
             f"calls, {r['toolCalls']} tool calls; denied {_pct(r['denyRate'])}, asked a person {_pct(r['askRate'])}, "
             f"overruled by people {r['refusedByPeople']} of {r['approvalsDecided']} approvals, looping in "
             f"{_pct(r['loopRate'])} of runs", "  tool sequences:"]
    lines += [f"    {s['runs']} x {' > '.join(s['tools']) or '(no tool)'}" for s in r["sequences"]]
    lines += ["  directly follows:"] + [f"    {e['from']} > {e['to']}: {e['count']}" for e in r["toolGraph"]["edges"]]
    lines += ["  loops (same tool, same arguments, one run):"] + (
        [f"    {loop['tool']}: {loop['repeatedCalls']} repeated calls in {loop['runs']} runs, at most "
         f"{loop['mostRepeats']} times" for loop in r["loops"]] or ["    none"])
    lines += ["  per outcome:"] + ["    " + line for line in table(
        ["OUTCOME", "RUNS", "TOKENS/RUN", "COST/RUN USD", "COST USD"],
        [[o, str(m["runs"]), str(m["tokensPerRun"]), m["costPerRunUsd"], m["costUsd"]]
         for o, m in r["byOutcome"].items()])]
    for split, key in (("byModel", "model"), ("byProvider", "provider"), ("byVersion", "version")):
        groups = r["drift"][split]
        lines += [f"  drift {split}:"] + ["    " + line for line in table(
            [key.upper(), "RUNS", "DENY", "ASK", "OVERRULED", "LOOPING", "TOKENS/RUN", "COST/RUN USD"],
            [[str(g[key]), str(g["runs"]), _pct(g["denyRate"]), _pct(g["askRate"]), _pct(g["overruleRate"]),
              _pct(g["loopRate"]), str(g["tokensPerRun"]), g["costPerRunUsd"]] for g in groups])]
    return lines


def agent_lines(regions: list[dict[str, Any]]) -> list[str]:
    if not regions:
        return ["no agent has run yet"]
    lines: list[str] = []
    for r in regions:  # tool and model names come from the model and the journal: never raw to a terminal
        lines += [printable(line) for line in _region(r)] + [""]
    return lines[:-1]
