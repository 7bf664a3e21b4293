"""Carrier scans: applying a verified tracking event to a shipment and its order.

- Idempotent on the carrier's event id: the same event again changes nothing; the same
  id with different content is refused (409 "event_id_reused").
- Out of order: scans only move a shipment forward.  A delivered scan that arrives
  before the in-transit one ships and delivers the order at once; the in-transit scan
  arriving afterwards is stored for the timeline (`applied` false) and corrects the
  first-scan time, nothing else.
- The first scan ships the order (orders.mark_shipped at the scan's time, with the
  label's surcharge); the delivered scan delivers it (orders.mark_delivered), which
  opens the buyer's acceptance window.
- A voided label (cancelled order, return no longer needed) refuses every scan
  (409 "label_voided").
- A return label's scans move its parcel the same way but never the order: the first
  progress scan announces RETURN_SHIPPED and delivery RETURN_DELIVERED (events.py),
  once each, after the scan is stored, for the disputes package to act on.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from foundation import clock, events
from foundation.config import current as settings
from foundation.errors import Conflict, NotFound, ValidationFailed
from marketplace_core.orders import services as orders
from marketplace_core.orders.models import Order, OrderStatus
from marketplace_core.shipping import services
from marketplace_core.shipping.models import (
    PROGRESS,
    CarrierStatus,
    Direction,
    EventSource,
    Shipment,
    ShipmentStatus,
    TrackingEvent,
)


@dataclass(frozen=True)
class CarrierEvent:
    """A tracking event as the carrier sent it (already authenticated and validated)."""
    event_id: str
    tracking_number: str
    status: CarrierStatus
    occurred_at: datetime
    location: str = ""
    description: str = ""

    @property
    def fingerprint(self) -> str:
        canonical = json.dumps([self.tracking_number, str(self.status),
                                self.occurred_at.isoformat(), self.location,
                                self.description], separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class Outcome:
    event_id: str
    duplicate: bool
    applied: bool
    shipment_status: str
    order_id: int


def record_carrier_event(s: Session, event: CarrierEvent) -> Outcome:
    """Store the scan and apply it if it moves the shipment forward."""
    earlier = _event_by_carrier_id(s, event.event_id)
    if earlier is not None:
        return _duplicate(s, earlier, event)
    found = s.scalar(select(Shipment).where(Shipment.tracking_number == event.tracking_number))
    if found is None:
        raise NotFound("No shipment has that tracking number.", code="unknown_tracking_number")
    order = services.lock_order(s, found.order_id)
    shipment = services.locked_shipment(s, order.id, direction=Direction(found.direction))
    # The same event may have been recorded while we waited for the locks (a retry
    # racing the original delivery).
    earlier = _event_by_carrier_id(s, event.event_id)
    if earlier is not None:
        return _duplicate(s, earlier, event)
    if shipment.status == ShipmentStatus.VOIDED:
        raise Conflict("This label was voided (the order was cancelled); scans are refused.",
                       code="label_voided")
    at = _scan_time(event.occurred_at, shipment)
    before = shipment.status
    applied = _apply(s, shipment, order, event.status, at)
    s.add(TrackingEvent(shipment_id=shipment.id, source=EventSource.CARRIER,
                        carrier_event_id=event.event_id, fingerprint=event.fingerprint,
                        kind=event.status, from_status=before, to_status=shipment.status,
                        applied=applied, location=event.location,
                        description=event.description, occurred_at=at,
                        received_at=clock.now()))
    s.flush()
    if shipment.direction == Direction.RETURN:
        _announce_return(s, shipment, before)
    return Outcome(event.event_id, False, applied, shipment.status, order.id)


def _duplicate(s: Session, earlier: TrackingEvent, event: CarrierEvent) -> Outcome:
    if earlier.fingerprint != event.fingerprint:
        raise Conflict("This event id was already used for a different event.",
                       code="event_id_reused")
    shipment = s.get(Shipment, earlier.shipment_id)
    return Outcome(event.event_id, True, False, shipment.status, shipment.order_id)


def _event_by_carrier_id(s: Session, event_id: str) -> TrackingEvent | None:
    return s.scalar(select(TrackingEvent).where(TrackingEvent.carrier_event_id == event_id))


def _scan_time(occurred_at: datetime, shipment: Shipment) -> datetime:
    """The scan's time, checked: not before the label existed, not in the future (a
    clock a little ahead, within the signature's tolerance, counts as now)."""
    now = clock.now()
    skew = timedelta(seconds=settings().CARRIER_WEBHOOK_TOLERANCE_SECONDS)
    if occurred_at > now + skew:
        raise ValidationFailed("The event's time is in the future.", code="bad_event_time",
                               fields={"occurred_at": "not after now"})
    if occurred_at < shipment.label_created_at:
        raise ValidationFailed("The event happened before the label was created.",
                               code="bad_event_time",
                               fields={"occurred_at": "after the label's creation"})
    return min(occurred_at, now)


def _apply(s: Session, shipment: Shipment, order: Order, status: CarrierStatus,
           at: datetime) -> bool:
    if status == CarrierStatus.EXCEPTION:
        return _note_exception(shipment, at)
    shipment.first_scan_at = min(filter(None, (shipment.first_scan_at, at)))
    shipment.last_scan_at = max(filter(None, (shipment.last_scan_at, at)))
    if shipment.exception_at is not None and at >= shipment.exception_at:
        shipment.exception_at = None
    target = ShipmentStatus(str(status))
    if PROGRESS[target] <= PROGRESS[shipment.status]:
        return False
    if shipment.direction == Direction.RETURN:
        shipment.status = target
        if target == ShipmentStatus.DELIVERED:
            shipment.delivered_at = at
        return True
    if shipment.status == ShipmentStatus.LABEL_CREATED:
        _ship(s, shipment, order, at)
    shipment.status = target
    if target == ShipmentStatus.DELIVERED:
        _deliver(s, shipment, order, at)
    return True


def _note_exception(shipment: Shipment, at: datetime) -> bool:
    """An exception counts until a later progress scan; one older than the latest scan,
    or on a delivered parcel, is history only."""
    if shipment.status == ShipmentStatus.DELIVERED or (
            shipment.last_scan_at and at < shipment.last_scan_at):
        return False
    shipment.exception_at = max(filter(None, (shipment.exception_at, at)))
    return True


def _ship(s: Session, shipment: Shipment, order: Order, at: datetime) -> None:
    if at - shipment.label_created_at > services.late_after():
        services.flag_late(s, shipment, "first carrier scan came late")
    if order.status == OrderStatus.PLACED:
        orders.mark_shipped(s, order, at, label_surcharge_paise=shipment.surcharge_paise)


def _deliver(s: Session, shipment: Shipment, order: Order, at: datetime) -> None:
    shipment.delivered_at = at
    # A case may already have refunded a shipped order; the parcel still arrives.
    if order.status == OrderStatus.SHIPPED:
        orders.mark_delivered(s, order, max(at, order.shipped_at))


def _announce_return(s: Session, shipment: Shipment, before: str) -> None:
    """Tell whoever asked for the return that it moved: shipped when it first left the
    label_created state, delivered when it arrived (both at once for a delivered scan
    that overtook the others).  Scans only move forward, so each is said once."""
    if before == ShipmentStatus.LABEL_CREATED and shipment.status != ShipmentStatus.LABEL_CREATED:
        events.emit(s, events.ReturnShipped(order_id=shipment.order_id, shipment_id=shipment.id))
    if before != ShipmentStatus.DELIVERED and shipment.status == ShipmentStatus.DELIVERED:
        events.emit(s, events.ReturnDelivered(order_id=shipment.order_id,
                                              shipment_id=shipment.id))
