"""Which events move trust, and whose: each handler marks the seller and/or listing in the
emitting transaction and enqueues their recompute for after the commit (ids only).

Subscribed at import (trust.signals.models imports this module, and the model registry
imports every models module), like vision.counterfeit.handlers.
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from authentication import intake as authentication_intake
from disputes import machine as dispute_machine
from marketplace_core import events
from marketplace_core.listings.models import Listing
from marketplace_core.orders.models import Order, OrderItem
from vision import events as vision_events

from . import pending


def touch(s: Session, cause: str, *, seller_id: int | None = None,
          listing_ids: tuple[int, ...] = ()) -> None:
    from .tasks import enqueue_recompute  # tasks -> recompute -> counting -> every package

    # Listings first, in id order, then the seller: every transaction takes the marks'
    # row locks in one order, so two of them never wait on each other in a circle.
    for listing_id in sorted(listing_ids):
        pending.mark(s, pending.LISTING, listing_id, cause)
        enqueue_recompute(pending.LISTING, listing_id)
    if seller_id is not None:
        pending.mark(s, pending.SELLER, seller_id, cause)
        enqueue_recompute(pending.SELLER, seller_id)


def _listing_changed(cause: str):
    def handler(s: Session, *, listing_id: int, **_: object) -> None:
        seller_id = s.scalar(select(Listing.seller_id).where(Listing.id == listing_id))
        if seller_id is not None:
            touch(s, cause, seller_id=seller_id, listing_ids=(listing_id,))
    return handler


def _order_changed(cause: str):
    def handler(s: Session, *, order_id: int, **_: object) -> None:
        seller_id = s.scalar(select(Order.seller_id).where(Order.id == order_id))
        listing_ids = tuple(s.scalars(select(OrderItem.listing_id)
                                      .where(OrderItem.order_id == order_id)))
        if seller_id is not None:
            touch(s, cause, seller_id=seller_id, listing_ids=listing_ids)
    return handler


def _seller_and_listing(cause: str):
    def handler(s: Session, *, seller_id: int, listing_id: int, **_: object) -> None:
        touch(s, cause, seller_id=seller_id, listing_ids=(listing_id,))
    return handler


LISTING_EVENTS = {
    events.LISTING_WENT_LIVE: "listing went live",
    events.LISTING_REMOVED: "listing removed",
    events.LISTING_PRICE_DROPPED: "price changed",
    events.LISTING_NEEDS_AUTHENTICATION: "listing sent to authentication",
    vision_events.DUPLICATE_FLAG_RECORDED: "duplicate flag recorded",
    vision_events.DUPLICATE_FLAG_REVIEWED: "duplicate flag reviewed",
    vision_events.COUNTERFEIT_SCORED: "counterfeit risk scored",
}
ORDER_EVENTS = {
    events.ORDER_PLACED: "order placed",
    events.ORDER_CANCELLED: "order cancelled",
    events.ORDER_DELIVERED: "order delivered",
    events.ORDER_COMPLETED: "order completed",
    events.ORDER_RATED: "order rated",
    events.SHIPMENT_FLAGGED_LATE: "late shipment",
}
SELLER_LISTING_EVENTS = {
    authentication_intake.VERDICT_RECORDED: "authentication verdict",
    dispute_machine.CASE_CLOSED: "dispute case closed",
}

for _event, _cause in LISTING_EVENTS.items():
    events.subscribe(_event, _listing_changed(_cause))
for _event, _cause in ORDER_EVENTS.items():
    events.subscribe(_event, _order_changed(_cause))
for _event, _cause in SELLER_LISTING_EVENTS.items():
    events.subscribe(_event, _seller_and_listing(_cause))
