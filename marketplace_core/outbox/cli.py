"""`flask reconcile [--json]`: the ledger against the provider and the bank, now."""
from __future__ import annotations

import json
import sys

import click
from flask.cli import with_appcontext

from foundation import db
from marketplace_core.outbox import reconcile as reconciliation


@click.command("reconcile")
@click.option("--json", "as_json", is_flag=True, help="Print the whole result as JSON.")
@with_appcontext
def reconcile_command(as_json: bool):
    """Compare what the ledger says went out with what the provider and the bank
    received; exits 1 when a refund or payout is missing or doubled."""
    with db.unit_of_work() as s:
        result = reconciliation.reconcile(s)
    if as_json:
        click.echo(json.dumps(result, indent=2, sort_keys=True, default=str))
    else:
        click.echo(summary(result))
    sys.exit(0 if result["clean"] else 1)


def summary(result: dict) -> str:
    lines = [f"checked at {result['checked_at']}"]
    for part in ("refunds", "payouts"):
        found = result[part]
        lines.append(f"{part}: ledger {found['ledger']}, received {found['provider']}, "
                     f"missing {len(found['missing'])}, duplicated {len(found['duplicated'])}, "
                     f"in transit {len(found['in_transit'])}")
        for problem in ("missing", "duplicated"):
            lines += [f"  {problem}: {item['reference']} ({item['age_seconds']} s old)"
                      for item in found[problem]]
    lines.append(f"dead effects: {len(result['dead'])}")
    return "\n".join(lines)
