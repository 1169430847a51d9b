"""``agenthub inbound list``: the inbound webhooks the deployed models make active (``hub.inbound``).

Read from the database, as the hub would serve them: each webhook's path,
method, the element it triggers and how it is guarded (HMAC, the kind of
authorization). Secrets are never printed; the configuration shows only
whether a check is on.
"""

from __future__ import annotations

import json

import typer

from engine import Engine, EngineError
from hub.console import AsJson, Db, database_url, fail, printable_url
from hub.tables import table

app = typer.Typer(help="Inbound webhooks (Camunda's io.camunda:webhook:1) served at /inbound/{id}.",
                  no_args_is_help=True)


@app.command(name="list")
def list_webhooks(as_json: AsJson = False, db: Db = None) -> None:
    """List the active webhooks: path, method, process and element, HMAC and authorization."""
    url = database_url(db)
    try:
        engine = Engine.open(url)
    except EngineError as exc:
        fail(str(exc))
    except Exception as exc:
        fail(f"cannot open database '{printable_url(url)}': {exc}")
    try:
        from hub.inbound import active_webhooks  # the web stack loads only for this command

        found = active_webhooks(engine)
    finally:
        engine.close()
    if as_json:
        typer.echo(json.dumps([w.summary() for w in found], indent=2))
        return
    if not found:
        typer.echo("no active webhooks: deploy a model with an io.camunda:webhook:1 event")
        return
    rows = [[f"/inbound/{w.webhook_id}", w.method, f"{w.process_id} v{w.version}", w.element_id, str(w.kind),
             "yes" if w.hmac_enabled else "no", w.auth_type] for w in found]
    for line in table(["PATH", "METHOD", "PROCESS", "ELEMENT", "KIND", "HMAC", "AUTH"], rows):
        typer.echo(line)
