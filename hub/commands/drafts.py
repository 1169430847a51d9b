"""``agenthub draft PROCESS --goal ... --model ...`` and ``agenthub draft list | show | approve | reject``.

A model drafts a changed BPMN of the process from its improvement brief;
the draft is checked, laid out and diffed, and deployed only when a member
of the process's owner group (``agenthub:ownerGroup``) other than its
requester approves it (``discover.drafts``). From the command line a person
acts with ``--as USER`` (a registry user, with their groups); the local
operator belongs to no group, so it may propose and look, not approve.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from typer.core import TyperGroup

from discover.drafts import Drafts
from discover.exceptions import DiscoverError
from engine import Engine, EngineError
from hub.commands.discover_text import compare_lines
from hub.console import AsJson, Db, database_url, fail, open_registry, operator, printable_url
from hub.drafting import draft_json, model_ask
from hub.tables import printable, table, utc_time
from registry import RegistryError

__all__ = ["app", "draft_lines"]

T = TypeVar("T")


class _ProposeByDefault(TyperGroup):
    """``agenthub draft PROCESS ...`` is ``agenthub draft propose PROCESS ...``: a first word that names no
    subcommand is a process id."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:  # click's Context (typer vendors click)
        if args and not args[0].startswith("-") and args[0] not in self.commands:
            args = ["propose", *args]
        return super().parse_args(ctx, args)


app = typer.Typer(cls=_ProposeByDefault, no_args_is_help=True,
                  help="AI-drafted process changes, deployed only when the process's owner group approves.")
As = Annotated[str | None, typer.Option("--as", help="Act as this registry user, with their groups.")]


def _with_drafts(db: str | None, as_user: str | None, work: Callable[[Drafts, Engine, str, frozenset[str]], T]
                 ) -> T:
    url = database_url(db)
    registry = open_registry(url)
    try:
        engine = Engine.open(url, synchronous=os.environ.get("AGENTHUB_SQLITE_SYNCHRONOUS", "FULL"))
    except EngineError as exc:
        registry.close()
        fail(str(exc))
    except Exception as exc:
        registry.close()
        fail(f"cannot open database '{printable_url(url)}': {exc}")
    try:
        who, groups = operator().name, frozenset[str]()
        if as_user is not None:
            user = registry.users.get(as_user)
            who, groups = user.id, frozenset(user.groups)
        return work(Drafts(registry.store, engine), engine, who, groups)
    except (DiscoverError, RegistryError) as exc:
        fail(str(exc))
    finally:
        engine.close()
        registry.close()


def _show(found: dict[str, Any], as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(found, indent=2))
        return
    for line in draft_lines(found):
        typer.echo(printable(line))


@app.command(name="propose")
def propose(
    process: Annotated[str, typer.Argument(help="The process id.")],
    goal: Annotated[str, typer.Option("--goal", help="What the change should achieve.")],
    model: Annotated[str | None, typer.Option("--model", help="The model that drafts: a litellm model string, or "
                                                               "scripted:PATH.")] = None,
    as_user: As = None,
    as_json: AsJson = False,
    db: Db = None,
) -> None:
    """Ask a model to draft a change of PROCESS towards GOAL from its brief; checked, laid out and diffed."""
    if model is None:
        fail("name the model that drafts with --model (a litellm model string such as openai/gpt-4o, or "
             "scripted:PATH)")
    files = os.environ.get("AGENTHUB_MODEL_FILES")
    ask = model_ask(model, Path(files) if files else None)
    found = _with_drafts(db, as_user, lambda drafts, engine, who, _: draft_json(
        engine, drafts.propose(process, goal, model, ask, by=who), full=True))
    _show(found, as_json)


@app.command(name="list")
def list_(
    process: Annotated[str | None, typer.Option("--process", help="Only this process's drafts.")] = None,
    state: Annotated[str | None, typer.Option("--state", help="Only drafts in this state (proposed, invalid, "
                                                               "rejected, deployed).")] = None,
    as_json: AsJson = False,
    db: Db = None,
) -> None:
    """The drafts, newest first."""
    found = _with_drafts(db, None, lambda drafts, *_: [d.to_json() for d in drafts.all(process, state)])
    if as_json:
        typer.echo(json.dumps(found, indent=2))
        return
    if not found:
        typer.echo("no drafts: agenthub draft PROCESS --goal ... --model ...")
        return
    for line in table(["ID", "PROCESS", "FROM", "STATE", "REQUESTED BY", "GOAL"], [
            [str(d["id"]), d["processId"], f"v{d['baseVersion']}", d["state"]
             + (f" v{d['deployedVersion']}" if d["deployedVersion"] else ""), d["requestedBy"], d["goal"][:60]]
            for d in found]):
        typer.echo(printable(line))


@app.command(name="show")
def show(draft_id: Annotated[int, typer.Argument(help="The draft's id.")], as_json: AsJson = False,
         db: Db = None) -> None:
    """A draft: its checks, its diff against the version it was drawn from, and once deployed, the result."""
    _show(_with_drafts(db, None, lambda drafts, engine, *_: draft_json(engine, drafts.get(draft_id), full=True)),
          as_json)


@app.command(name="approve")
def approve(draft_id: Annotated[int, typer.Argument(help="The draft's id.")], as_user: As = None,
            db: Db = None) -> None:
    """Approve a draft (a member of the process's owner group, not its requester): it deploys as a new version."""
    done = _with_drafts(db, as_user, lambda drafts, _, who, groups: drafts.approve(draft_id, who, groups))
    typer.echo(f"approved draft {draft_id}: deployed process {done.process_id} version {done.deployed_version}")


@app.command(name="reject")
def reject(draft_id: Annotated[int, typer.Argument(help="The draft's id.")], as_user: As = None,
           reason: Annotated[str | None, typer.Option("--reason", help="Why, for the requester.")] = None,
           db: Db = None) -> None:
    """Reject a draft (a member of the process's owner group, or its requester withdrawing it)."""
    _with_drafts(db, as_user, lambda drafts, _, who, groups: drafts.reject(draft_id, who, groups, reason))
    typer.echo(f"rejected draft {draft_id}")


def _entries(kind: str, diff: dict[str, Any]) -> Iterator[str]:
    for change, sign in (("added", "+"), ("removed", "-"), ("changed", "~")):
        for e in diff.get(kind, {}).get(change, []):
            what = f"{e['kind']} {e['id']}" + (f" '{e['name']}'" if e.get("name") else "") if kind == "elements" \
                else f"flow {e['source']} -> {e['target']}" + (f" [{e['condition']}]" if e.get("condition") else "")
            was = f" (was {', '.join(f'{k}={v!r}' for k, v in e['was'].items())})" if change == "changed" else ""
            yield f"  {sign} {what}{was}"


def draft_lines(d: dict[str, Any]) -> list[str]:
    lines = [f"draft {d['id']} of process {d['processId']} (from version {d['baseVersion']}): {d['state']}"
             + (f", deployed as version {d['deployedVersion']}" if d["deployedVersion"] else ""),
             f"  goal: {d['goal']}", f"  model: {d['model']}; requested by {d['requestedBy']} at "
             f"{utc_time(d['requestedAt'])}"]
    if d["decidedBy"]:
        lines.append(f"  decided by {d['decidedBy']} at {utc_time(d['decidedAt'])}"
                     + (f": {d['reason']}" if d["reason"] else ""))
    checks = d.get("checks") or {}
    lines += ["", "checks: " + ("passed" if checks.get("passed") else "failed")]
    lines += [f"  error: {p}" for p in checks.get("errors", [])]
    lines += [f"  warning: {p}" for p in checks.get("warnings", [])]
    diff = d.get("diff") or {}
    if diff:
        lines += ["", "changes:" + (" none" if diff.get("unchanged") else "")]
        lines += [*_entries("elements", diff), *_entries("flows", diff)]
    if "result" in d:
        lines += ["", "result:", *compare_lines(d["result"])]
    return lines
