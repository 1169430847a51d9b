"""``agenthub decide DECISION_ID --vars '{...}'``: evaluate a deployed DMN decision on its own.

The decision is the one a business rule task with ``bindingType="latest"``
would evaluate (or the ``--version`` / ``--version-tag`` given), evaluated the
same way, outside any instance. It prints the result and the rules that
matched; ``--json`` prints the REST API's shape
(``POST /api/v1/decisions/{decisionId}/evaluate``).
"""

from __future__ import annotations

import json
from typing import Annotated

import typer

from engine import Engine, EngineError, strict_json
from engine.decision_commands import DecisionResult
from hub.console import AsJson, Db, database_url, fail
from hub.tables import clip, table


def decide(
    decision_id: Annotated[str, typer.Argument(help="The decision's id (as deployed in a .dmn file).")],
    vars: Annotated[str | None, typer.Option("--vars", help="Input variables as a JSON object.")] = None,
    version: Annotated[int | None, typer.Option("--version", min=1, help="This version, not the latest.")] = None,
    version_tag: Annotated[
        str | None, typer.Option("--version-tag", help="The newest version with this version tag.")
    ] = None,
    as_json: AsJson = False,
    db: Db = None,
) -> None:
    """Evaluate a deployed DMN decision with the given variables; print its result and the matched rules."""
    variables = _variables(vars)
    try:
        engine = Engine.open(database_url(db))
    except EngineError as exc:
        fail(str(exc))
    try:
        result = engine.evaluate_decision(decision_id, variables, version=version, version_tag=version_tag)
    except EngineError as exc:
        fail(str(exc))
    finally:
        engine.close()
    if as_json:
        typer.echo(json.dumps(result.to_dict(), indent=2))
        return
    _print(result)


def _variables(raw: str | None) -> dict[str, object]:
    if raw is None:
        return {}
    try:
        value = strict_json.loads(raw)
    except strict_json.JsonProblem as exc:
        fail(f"--vars is not valid JSON: {exc}")
    if not isinstance(value, dict):
        fail(f"--vars must be a JSON object like '{{\"amount\": 10}}', not {type(value).__name__}")
    return value


def _print(result: DecisionResult) -> None:
    typer.echo(f"decision {result.decision_id} version {result.version}: {json.dumps(result.result)}")
    rows = [[d["decisionId"], d["hitPolicy"] or "-",
             ", ".join(f"{r['ruleIndex']}" + (f" ({r['ruleId']})" if r["ruleId"] else "") for r in d["matchedRules"])
             or "-", clip(json.dumps(d["result"], ensure_ascii=False), 60)]
            for d in result.evaluated]
    for line in table(["DECISION", "HIT POLICY", "MATCHED RULES", "RESULT"], rows):
        typer.echo(line)
