"""Reading shipments for staff: every tracking event, platform ones included (members
see a filtered timeline; see services.timeline)."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace_core.shipping.models import TrackingEvent


def tracking_events(s: Session, shipment_id: int) -> list[TrackingEvent]:
    """In the order they happened (carrier time), ties by arrival."""
    return list(s.scalars(select(TrackingEvent).where(TrackingEvent.shipment_id == shipment_id)
                          .order_by(TrackingEvent.occurred_at, TrackingEvent.id)))
