"""Shipments: the label at the sale, return labels, upgrades, voiding, the late flag,
and reading.

The state machine (models.ShipmentStatus), the same in both directions:

    label_created -> in_transit -> out_for_delivery -> delivered    (carrier scans:
                                                                     tracking.py)
    label_created -> voided                      (order cancelled; return not needed)

An order has its outbound shipment (seller to buyer, from the sale) and at most one
return shipment (buyer to seller, issued for a not-as-described case).  "The shipment
of an order" always means the outbound one; return labels have their own functions.

plus two facts that do not change the state: `late_flagged_at` (no scan within
SHIPPING_LATE_SCAN_DAYS) and `exception_at` (the carrier reported a problem).  Every
step writes a TrackingEvent.  Locks are taken order first, then shipment, everywhere,
so that a scan racing a cancellation or an upgrade waits rather than deadlocks.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from foundation import clock, events
from foundation.config import current as settings
from foundation.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from marketplace_core.members.models import Member
from marketplace_core.orders import services as orders
from marketplace_core.orders.models import Order
from marketplace_core.shipping import labels
from marketplace_core.shipping.models import (
    Direction,
    EventSource,
    Shipment,
    ShipmentStatus,
    TrackingEvent,
)

SWEEP_BATCH = 500
# What members see of the platform's own steps (the late flag is the seller's only).
MEMBER_PLATFORM_KINDS = ("label_created", "label_upgraded", "label_voided",
                         "return_label_created", "return_label_voided")
CASE_REF_MAX = 64


# --- the label -----------------------------------------------------------------------

def create_label(s: Session, order: Order) -> Shipment:
    """The prepaid label for a new order, in the lightest tier that carries its weight.

    A tier's surcharge larger than the seller's share of a cheap sale is capped at that
    share (the platform carries the rest), so that no sale is refused for its weight.
    Creating it again for the same order returns the first.
    """
    existing = shipment_for_order(s, order.id)
    if existing is not None:
        return existing
    weight = order.total_weight_grams
    tier = labels.tier_for_weight(weight)
    surcharge = min(tier.surcharge_paise, labels.seller_share(order))
    now = clock.now()
    shipment = Shipment(order_id=order.id, tracking_number=labels.new_tracking_number(s),
                        label_number=labels.new_label_number(), tier=tier.name,
                        weight_grams=weight, surcharge_paise=surcharge,
                        status=ShipmentStatus.LABEL_CREATED, label_created_at=now)
    s.add(shipment)
    s.flush()
    note = f"{tier.name} label, {weight} g"
    if surcharge < tier.surcharge_paise:
        note += f"; surcharge capped at the seller's share ({surcharge} paise)"
    _log(s, shipment, "label_created", None, note=note)
    return shipment


def upgrade_label(s: Session, order: Order, seller: Member, tier_name: str) -> Shipment:
    """The seller swaps the label for a heavier tier before the parcel is scanned.

    A new label number replaces the old one (the tracking number stays); the tier's
    surcharge is charged to the seller when the sale's funds are released.
    """
    if seller.id != order.seller_id:
        raise PermissionDenied("Only the seller can change the label.", code="not_seller")
    order = lock_order(s, order.id)
    shipment = locked_shipment(s, order.id)
    _require_status(shipment, ShipmentStatus.LABEL_CREATED, "upgrade the label")
    tier = labels.tier_named(tier_name)
    if labels.tier_rank(tier.name) <= labels.tier_rank(shipment.tier):
        raise ValidationFailed(f"The label is already {shipment.tier}; choose a heavier tier.",
                               code="not_an_upgrade",
                               fields={"tier": f"heavier than {shipment.tier}"})
    share = labels.seller_share(order)
    if tier.surcharge_paise > share:
        raise ValidationFailed("That label costs more than you earn from this sale.",
                               code="surcharge_exceeds_share",
                               fields={"tier": f"a surcharge of at most {share} paise"})
    old_tier, old_label = shipment.tier, shipment.label_number
    shipment.tier = tier.name
    shipment.surcharge_paise = tier.surcharge_paise
    shipment.label_number = labels.new_label_number()
    _log(s, shipment, "label_upgraded", ShipmentStatus.LABEL_CREATED,
         note=f"{old_tier} -> {tier.name}; replaces label {old_label}")
    s.flush()
    return shipment


def void_label(s: Session, order_id: int, reason: str) -> Shipment | None:
    """The order was cancelled: the label can no longer be used (scans are refused).

    Voiding twice is a no-op; a shipment the carrier already scanned cannot be voided
    (the order could not have been cancelled either)."""
    shipment = locked_shipment(s, order_id, missing_ok=True)
    if shipment is None or shipment.status == ShipmentStatus.VOIDED:
        return shipment
    _require_status(shipment, ShipmentStatus.LABEL_CREATED, "void the label")
    shipment.status = ShipmentStatus.VOIDED
    shipment.voided_at = clock.now()
    _log(s, shipment, "label_voided", ShipmentStatus.LABEL_CREATED, note=reason[:200])
    s.flush()
    return shipment


# --- the return label (a not-as-described case) --------------------------------------

def create_return_label(s: Session, order: Order, case_ref: str) -> Shipment:
    """A prepaid label for the buyer to send the item back to the seller.

    Only once the outbound parcel was delivered, and one per order.  The platform pays
    it (no surcharge; the tier is the one the order's weight needs).  Asking again for
    the same case returns the same label; another case, or a voided label, is refused.
    """
    case_ref = _checked_case_ref(case_ref)
    order = lock_order(s, order.id)
    existing = locked_shipment(s, order.id, missing_ok=True, direction=Direction.RETURN)
    if existing is not None:
        return _same_return_label(existing, case_ref)
    outbound = shipment_for_order(s, order.id)
    if outbound is None or outbound.status != ShipmentStatus.DELIVERED:
        raise Conflict("A return label is issued only once the parcel was delivered to "
                       "the buyer.", code="not_delivered")
    weight = order.total_weight_grams
    tier = labels.tier_for_weight(weight)
    shipment = Shipment(order_id=order.id, direction=Direction.RETURN, case_ref=case_ref,
                        tracking_number=labels.new_tracking_number(s),
                        label_number=labels.new_label_number(), tier=tier.name,
                        weight_grams=weight, surcharge_paise=0, status=ShipmentStatus.LABEL_CREATED,
                        label_created_at=clock.now())
    s.add(shipment)
    s.flush()
    _log(s, shipment, "return_label_created", None,
         note=f"{tier.name} return label, {weight} g, for {case_ref}")
    s.flush()
    return shipment


def void_return_label(s: Session, order_id: int, reason: str) -> Shipment | None:
    """The return is no longer wanted: the label can no longer be used (scans are
    refused).  No-op without a return label or when it is already voided; a parcel the
    carrier already scanned is on its way and cannot be voided."""
    lock_order(s, order_id)
    shipment = locked_shipment(s, order_id, missing_ok=True, direction=Direction.RETURN)
    if shipment is None or shipment.status == ShipmentStatus.VOIDED:
        return shipment
    _require_status(shipment, ShipmentStatus.LABEL_CREATED, "void the return label")
    shipment.status = ShipmentStatus.VOIDED
    shipment.voided_at = clock.now()
    _log(s, shipment, "return_label_voided", ShipmentStatus.LABEL_CREATED, note=reason[:200])
    s.flush()
    return shipment


def _checked_case_ref(case_ref: str) -> str:
    if not isinstance(case_ref, str) or not case_ref.strip() or len(case_ref) > CASE_REF_MAX:
        raise ValidationFailed("A return label needs the reference of its case.",
                               code="bad_case_ref",
                               fields={"case_ref": f"1 to {CASE_REF_MAX} characters"})
    return case_ref.strip()


def _same_return_label(existing: Shipment, case_ref: str) -> Shipment:
    if existing.case_ref != case_ref:
        raise Conflict(f"This order already has a return label (for {existing.case_ref}).",
                       code="return_label_exists")
    if existing.status == ShipmentStatus.VOIDED:
        raise Conflict("This order's return label was voided; it cannot be issued again.",
                       code="return_label_voided")
    return existing


# --- the late flag -------------------------------------------------------------------

def late_after() -> timedelta:
    return timedelta(days=settings().SHIPPING_LATE_SCAN_DAYS)


def flag_late_shipments(s: Session) -> list[int]:
    """Flag every seller's label still unscanned SHIPPING_LATE_SCAN_DAYS after it was
    created; a flagged shipment is never flagged again, so repeated sweeps change nothing.
    Return labels are not the seller's to ship: their deadline belongs to the case."""
    cutoff = clock.now() - late_after()
    shipments = s.scalars(
        select(Shipment).where(Shipment.direction == Direction.OUTBOUND,
                               Shipment.status == ShipmentStatus.LABEL_CREATED,
                               Shipment.late_flagged_at.is_(None),
                               Shipment.label_created_at <= cutoff)
        .order_by(Shipment.id).limit(SWEEP_BATCH)
        .with_for_update(skip_locked=True)).all()
    for shipment in shipments:
        flag_late(s, shipment, "no carrier scan in time")
    return [shipment.id for shipment in shipments]


def flag_late(s: Session, shipment: Shipment, note: str) -> None:
    if shipment.late_flagged_at is not None:
        return
    shipment.late_flagged_at = clock.now()
    _log(s, shipment, "flagged_late", shipment.status, note=note)
    s.flush()
    events.emit(s, events.ShipmentFlaggedLate(order_id=shipment.order_id, shipment_id=shipment.id))


# --- reading -------------------------------------------------------------------------

def shipment_for_order(s: Session, order_id: int) -> Shipment | None:
    """The order's outbound shipment (the seller's label from the sale)."""
    return s.scalar(_of_order(order_id, Direction.OUTBOUND))


def return_shipment_for_order(s: Session, order_id: int) -> Shipment | None:
    return s.scalar(_of_order(order_id, Direction.RETURN))


def get_for_participant(s: Session, order_id: int, member: Member) -> tuple[Order, Shipment]:
    """The order and its shipment if `member` bought or sold it; 404 otherwise."""
    order = orders.get_for_participant(s, order_id, member)
    shipment = shipment_for_order(s, order.id)
    if shipment is None:
        raise NotFound("This order has no shipment.", code="no_shipment")
    return order, shipment


def get_return_for_participant(s: Session, order_id: int,
                               member: Member) -> tuple[Order, Shipment]:
    """The order and its return shipment if `member` bought or sold it; 404 otherwise."""
    order = orders.get_for_participant(s, order_id, member)
    shipment = return_shipment_for_order(s, order.id)
    if shipment is None:
        raise NotFound("This order has no return label.", code="no_return_label")
    return order, shipment


def timeline(s: Session, shipment: Shipment, *, for_seller: bool) -> list[TrackingEvent]:
    """What happened to the parcel, in the order it happened (carrier time)."""
    rows = s.scalars(select(TrackingEvent).where(TrackingEvent.shipment_id == shipment.id)
                     .order_by(TrackingEvent.occurred_at, TrackingEvent.id)).all()
    return [row for row in rows if row.source == EventSource.CARRIER
            or row.kind in MEMBER_PLATFORM_KINDS or (for_seller and row.kind == "flagged_late")]


def ship_by(shipment: Shipment) -> datetime | None:
    if shipment.status != ShipmentStatus.LABEL_CREATED:
        return None
    return shipment.label_created_at + late_after()


def expected_delivery(shipment: Shipment) -> datetime | None:
    """The delivery time, or the promise once the carrier has the parcel."""
    if shipment.delivered_at is not None:
        return shipment.delivered_at
    if shipment.first_scan_at is None or shipment.status == ShipmentStatus.VOIDED:
        return None
    return shipment.first_scan_at + timedelta(days=settings().SHIPPING_TRANSIT_DAYS)


def upgrade_options(shipment: Shipment) -> list:
    if shipment.status != ShipmentStatus.LABEL_CREATED:
        return []
    return [t for t in labels.tiers() if labels.tier_rank(t.name) > labels.tier_rank(shipment.tier)]


# --- locks (order first, then shipment; tracking.py takes them too) -----------------

def lock_order(s: Session, order_id: int) -> Order:
    order = s.execute(select(Order).where(Order.id == order_id).with_for_update()
                      .execution_options(populate_existing=True)).scalar_one_or_none()
    if order is None:
        raise NotFound("No such order.")
    return order


def locked_shipment(s: Session, order_id: int, *, missing_ok: bool = False,
                    direction: Direction = Direction.OUTBOUND) -> Shipment | None:
    shipment = s.execute(_of_order(order_id, direction).with_for_update()
                         .execution_options(populate_existing=True)).scalar_one_or_none()
    if shipment is None and not missing_ok:
        if direction == Direction.RETURN:
            raise NotFound("This order has no return label.", code="no_return_label")
        raise NotFound("This order has no shipment.", code="no_shipment")
    return shipment


def _of_order(order_id: int, direction: Direction):
    return select(Shipment).where(Shipment.order_id == order_id,
                                  Shipment.direction == direction)


def _require_status(shipment: Shipment, expected: ShipmentStatus, action: str) -> None:
    if shipment.status != expected:
        raise Conflict(f"The shipment is {shipment.status}; you cannot {action} now.",
                       code="illegal_transition")


def _log(s: Session, shipment: Shipment, kind: str, before: str | None, *,
         note: str = "") -> None:
    now = clock.now()
    s.add(TrackingEvent(shipment_id=shipment.id, source=EventSource.PLATFORM, kind=kind,
                        from_status=before or shipment.status, to_status=shipment.status,
                        applied=True, description=note[:200], occurred_at=now,
                        received_at=now))
