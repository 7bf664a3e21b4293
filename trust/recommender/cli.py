"""`flask recommendations train | precompute`: the batch from a terminal, with a progress
bar; the same audited-run path as the job (the job left on the queue finds the run taken
and does nothing)."""
from __future__ import annotations

import json

import click
from flask.cli import with_appcontext

from foundation import db
from foundation.errors import DomainError

from . import runs


@click.group("recommendations")
def recommendations_group():
    """"Just Picked for You": train the ranker, precompute members' candidates."""


def _run(kind: str) -> None:
    try:
        with db.unit_of_work() as s:
            run_id = runs.start_run(s, kind, "cli").id
        with click.progressbar(length=1, label=kind, show_pos=True) as bar:
            def progress(done: int, total: int, _message: str) -> None:
                bar.length = max(total, 1)
                bar.update(done - bar.pos)

            with db.unit_of_work() as s:
                run = runs.execute(s, run_id, also_report=progress)
                result = runs.run_json(run) if run else {"id": run_id, "state": "taken"}
    except DomainError as exc:
        raise click.ClickException(exc.message) from None
    click.echo(json.dumps({k: result[k] for k in ("id", "kind", "state", "message", "error")
                           if k in result}))
    if result.get("state") == "failed":
        raise click.ClickException(result.get("error") or "the run failed")


@recommendations_group.command("train")
@with_appcontext
def train_command():
    """Learn a ranker from the interactions."""
    _run("train")


@recommendations_group.command("precompute")
@with_appcontext
def precompute_command():
    """Store every member's candidates (trains a ranker first if none exists)."""
    _run("precompute")
