"""`flask vision reindex`: sign (or re-sign) the whole catalogue with a progress bar,
resuming an interrupted run. `flask vision index-status`: what the saved duplicate index
holds."""
from __future__ import annotations

import json

import click
from flask.cli import with_appcontext

from foundation import db
from foundation.errors import DomainError
from vision import index_store, reindex
from vision.counterfeit import tasks as counterfeit_tasks


@click.group("vision")
def vision_group():
    """The image pipeline: re-index the catalogue, see the duplicate index, score risk."""


@vision_group.command("reindex")
@click.option("--all", "recompute_all", is_flag=True,
              help="Sign every photo again, not only those without a current signature.")
@with_appcontext
def reindex_command(recompute_all: bool):
    """Run a re-index; an unfinished run (its worker died) is resumed instead."""
    try:
        with db.unit_of_work() as s:
            run = reindex.resumable_run(s)
            if run is None:
                run = reindex.start_run(s, requested_by="cli", recompute_all=recompute_all)
            else:
                click.echo(f"resuming run {run.id} after photo {run.last_photo_id} "
                           f"({run.done} done)")
            run_id, done = run.id, run.done
        with click.progressbar(length=1, label="signing photos", show_pos=True) as bar:
            bar.pos = done

            def progress(current) -> None:
                bar.length = max(current.total, current.done, 1)
                bar.update(current.done - bar.pos)

            finished = reindex.advance(run_id, progress)
    except DomainError as exc:
        raise click.ClickException(exc.message) from None
    click.echo(json.dumps({"run": finished.id, "state": finished.state,
                           "photos": finished.done, "failed": finished.failed,
                           "flags_raised": finished.flags_raised}))


@vision_group.command("index-status")
@with_appcontext
def index_status_command():
    """The saved duplicate index: photos, exact or trained, the journal's fill, as JSON."""
    status = index_store.saved_status()
    if status is None:
        raise click.ClickException("No duplicate index is saved yet (or it is of an older "
                                   "format): the next vision job or `flask vision reindex` "
                                   "builds it.")
    click.echo(json.dumps({**{name: getattr(status, name) for name in status.__slots__},
                           "saved_at": status.saved_at.isoformat(),
                           "journal_share": round(status.journal_share, 4)}))


@vision_group.command("score-risk")
@with_appcontext
def score_risk_command():
    """Score every live or waiting listing's counterfeit risk now, in this process, with a
    progress bar (after a seed or an import; the scoring jobs then find it current)."""
    with db.unit_of_work() as s, \
            click.progressbar(length=1, label="scoring counterfeit risk", show_pos=True) as bar:
        def progress(done: int, total: int) -> None:
            bar.length = max(total, 1)
            bar.update(done - bar.pos)

        outcomes = counterfeit_tasks.score_watched_now(s, progress)
    click.echo(json.dumps(outcomes))
