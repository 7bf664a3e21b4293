"""PoshPost shipments and their tracking events.

At most two `Shipment`s per order, one per direction: the outbound label sent to the
seller at the sale, and the return label a not-as-described case may give the buyer
(label number, tracking number, weight tier, and where the parcel stands).  Every
change to one writes a `TrackingEvent`: the carrier's scans (arriving on the signed
webhook, identified by the carrier's event id) and the platform's own steps (label
created, upgraded, voided, flagged late).
"""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from foundation import clock
from foundation.db import Base, UTCDateTime


class ShipmentStatus(enum.StrEnum):
    LABEL_CREATED = "label_created"        # the seller has the label; no scan yet
    IN_TRANSIT = "in_transit"              # the carrier has the parcel (order shipped)
    OUT_FOR_DELIVERY = "out_for_delivery"
    DELIVERED = "delivered"                # the buyer's acceptance window is open
    VOIDED = "voided"                      # the order was cancelled before any scan


class Direction(enum.StrEnum):
    """Which way the parcel goes.  Outbound scans ship and deliver the order; return
    scans leave the order's status alone and announce return events instead."""
    OUTBOUND = "outbound"  # seller to buyer, the label sent at the sale
    RETURN = "return"      # buyer back to seller, paid by the platform (a case's return)


class CarrierStatus(enum.StrEnum):
    """What the carrier may report on the webhook."""
    IN_TRANSIT = "in_transit"
    OUT_FOR_DELIVERY = "out_for_delivery"
    DELIVERED = "delivered"
    EXCEPTION = "exception"    # a problem (address not found, damaged); progress continues


class EventSource(enum.StrEnum):
    CARRIER = "carrier"
    PLATFORM = "platform"


# How far along the road each state is; a scan only ever moves a shipment forward, so
# a scan that arrives after a later one (the carrier's retries reorder them) is kept in
# the timeline but changes nothing.
PROGRESS: dict[str, int] = {
    ShipmentStatus.LABEL_CREATED: 0,
    ShipmentStatus.IN_TRANSIT: 1,
    ShipmentStatus.OUT_FOR_DELIVERY: 2,
    ShipmentStatus.DELIVERED: 3,
}
PROGRESS_STEPS = (ShipmentStatus.IN_TRANSIT, ShipmentStatus.OUT_FOR_DELIVERY,
                  ShipmentStatus.DELIVERED)


class Shipment(Base):
    __tablename__ = "shipments"
    __table_args__ = (
        CheckConstraint("weight_grams > 0", name="weight_positive"),
        CheckConstraint("surcharge_paise >= 0", name="surcharge_not_negative"),
        CheckConstraint("direction IN ('outbound', 'return')", name="direction_known"),
        UniqueConstraint("order_id", "direction", name="uq_shipments_order_direction"),
        # The late-shipment sweep looks for labels still waiting for their first scan.
        Index("ix_shipments_status_created", "status", "label_created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"))
    direction: Mapped[str] = mapped_column(String(10), default=Direction.OUTBOUND,
                                           server_default=Direction.OUTBOUND.value)
    # The not-as-described case a return label was issued for (None on outbound labels):
    # issuing again for the same case returns the same label.
    case_ref: Mapped[str | None] = mapped_column(String(64))
    tracking_number: Mapped[str] = mapped_column(String(13), unique=True)
    label_number: Mapped[str] = mapped_column(String(24), unique=True)
    tier: Mapped[str] = mapped_column(String(24))
    weight_grams: Mapped[int] = mapped_column(Integer)
    # What the label costs the seller beyond the buyer's flat fee (taken at release).
    surcharge_paise: Mapped[int] = mapped_column(BigInteger, default=0)
    status: Mapped[str] = mapped_column(String(20), default=ShipmentStatus.LABEL_CREATED)
    label_created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    # Carrier times (when it happened, not when we heard of it).
    first_scan_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_scan_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The latest carrier exception not yet followed by a progress scan.
    exception_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set once, never cleared: no scan within SHIPPING_LATE_SCAN_DAYS (a trust signal).
    late_flagged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    voided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}


class TrackingEvent(Base):
    """A carrier scan (with the carrier's event id) or a platform step on a shipment."""

    __tablename__ = "tracking_events"
    __table_args__ = (Index("ix_tracking_events_shipment", "shipment_id", "occurred_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    shipment_id: Mapped[int] = mapped_column(ForeignKey("shipments.id"))
    source: Mapped[str] = mapped_column(String(10))
    # The carrier's id for the event: a redelivered event is recognised and ignored.
    carrier_event_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    # A digest of what the carrier said, so that a reused event id with other content
    # is refused rather than silently taken for a duplicate.
    fingerprint: Mapped[str | None] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(24))
    from_status: Mapped[str] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    # False for a scan that arrived after a later one: kept for the timeline only.
    applied: Mapped[bool] = mapped_column(Boolean, default=True)
    location: Mapped[str] = mapped_column(String(80), default="")
    description: Mapped[str] = mapped_column(String(200), default="")
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
