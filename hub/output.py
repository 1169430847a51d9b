"""How the CLI prints instances, tasks and incidents, as text or JSON."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import typer

from engine import IncidentView, InstanceView, TaskView


def _json(value: Any) -> None:
    typer.echo(json.dumps(value, indent=2, ensure_ascii=False))


def print_instance(view: InstanceView, as_json: bool, *, details: bool = False) -> None:
    if as_json:
        data = view.to_json()
        if details:
            data["version"] = view.version
            data["activeElements"] = view.active_elements
        _json(data)
        return
    typer.echo(f"instance {view.key}  process {view.process_id} v{view.version}  {view.state}")
    for element in view.active_elements:
        marker = f"  incident {element['incident']}" if "incident" in element else ""
        typer.echo(f"  at {element['elementId']} ({element['state']}){marker}")
    if view.variables:
        typer.echo(f"  variables: {json.dumps(view.variables, ensure_ascii=False)}")


def print_instances(views: Sequence[InstanceView], as_json: bool) -> None:
    if as_json:
        _json([v.to_json() for v in views])
        return
    if not views:
        typer.echo("no instances")
    for view in views:
        typer.echo(f"{view.key:>12}  {view.process_id:<32} v{view.version:<4} {view.state}")


def print_tasks(views: Sequence[TaskView], as_json: bool) -> None:
    if as_json:
        _json([t.to_json() for t in views])
        return
    if not views:
        typer.echo("no open user tasks")
    for task in views:
        who = task.assignee or ", ".join(task.candidate_groups) or "anyone"
        typer.echo(f"{task.key:>12}  {task.name:<32} instance {task.instance}  for {who}")


def print_incidents(views: Sequence[IncidentView], as_json: bool) -> None:
    if as_json:
        _json([i.to_json() for i in views])
        return
    if not views:
        typer.echo("no open incidents")
    for incident in views:
        typer.echo(f"{incident.key:>12}  instance {incident.instance}  at {incident.element_id} ({incident.type})")
        typer.echo(f"              {incident.message}")
