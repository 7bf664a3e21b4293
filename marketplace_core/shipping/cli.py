"""`flask carrier advance ORDER_ID --to STEP [--return]`: the simulated PoshPost scans a
parcel (the seller's, or with --return the buyer's return parcel).

For development and demos: the events are signed with the shared secret and go through
the real webhook handling, so the order ships and delivers exactly as it would with
the real carrier.  Refused in production, where only PoshPost sends events.
"""
from __future__ import annotations

import click
from flask.cli import with_appcontext

from foundation.config import current as settings
from foundation.errors import DomainError
from marketplace_core.shipping.carrier import CarrierRefused, SimulatedCarrier, in_process_transport
from marketplace_core.shipping.models import PROGRESS_STEPS, Direction


@click.group("carrier", help="The simulated PoshPost carrier (development and demos).")
def carrier_group() -> None:
    pass


@carrier_group.command("advance")
@with_appcontext
@click.argument("order_id", type=int)
@click.option("--to", "target", required=True,
              type=click.Choice([str(step) for step in PROGRESS_STEPS]),
              help="Where the parcel should be; the scans in between are sent too.")
@click.option("--return", "returning", is_flag=True,
              help="Scan the buyer's return parcel (a case's return label) instead.")
def advance(order_id: int, target: str, returning: bool) -> None:
    """Send signed tracking events for ORDER_ID's parcel, step by step up to --to."""
    if settings().is_production:
        raise click.ClickException("The simulated carrier does not run in production.")
    carrier = SimulatedCarrier(in_process_transport)
    direction = Direction.RETURN if returning else Direction.OUTBOUND
    try:
        sent = carrier.advance(order_id, target, direction=direction)
    except (DomainError, CarrierRefused) as exc:
        raise click.ClickException(getattr(exc, "message", str(exc))) from None
    parcel = "return shipment" if returning else "shipment"
    for step, delivery in sent:
        click.echo(f"order #{order_id}: {step} scan accepted "
                   f"({parcel} {delivery.body['shipment_status']})")
