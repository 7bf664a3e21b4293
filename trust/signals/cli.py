"""`flask trust recompute`: every seller's score and every listing's risk, in committed
batches with a progress bar; running it again only rewrites the same values."""
from __future__ import annotations

import json

import click
from flask.cli import with_appcontext

from foundation import db
from trust.signals import recompute, services


@click.group("trust")
def trust_group():
    """Seller trust and item risk."""


@trust_group.command("recompute")
@click.option("--batch-size", default=500, show_default=True, type=click.IntRange(1, 10_000))
@with_appcontext
def recompute_command(batch_size: int):
    """Recompute every seller and listing now (after a seed, an import or a fix)."""
    with db.unit_of_work() as s, \
            click.progressbar(length=1, label="recomputing trust", show_pos=True) as bar:
        def progress(state) -> None:
            bar.length = max(state.total, 1)
            bar.label = f"recomputing trust ({state.stage})"
            bar.update(state.done - bar.pos)

        done = recompute.recompute_all(s, "flask trust recompute", batch_size=batch_size,
                                       progress=progress)
        tiers = services.tier_counts(s)
    click.echo(json.dumps({"recomputed": done.done, "tiers": tiers}))
