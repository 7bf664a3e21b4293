"""How events move trust, and whose: each handler marks the seller and/or listing in the
emitting transaction and enqueues their recompute for after the commit (ids only).
The composition root (console.composition) subscribes them.
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace_core.listings.models import Listing
from marketplace_core.orders.models import Order, OrderItem

from . import pending
from .tasks import enqueue_recompute


def touch(s: Session, cause: str, *, seller_id: int | None = None,
          listing_ids: tuple[int, ...] = ()) -> None:
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


# One handler per cause, so that each names what moved trust in the mark it leaves.
listing_went_live = _listing_changed("listing went live")
listing_removed = _listing_changed("listing removed")
price_changed = _listing_changed("price changed")
listing_sent_to_authentication = _listing_changed("listing sent to authentication")
duplicate_flag_recorded = _listing_changed("duplicate flag recorded")
duplicate_flag_reviewed = _listing_changed("duplicate flag reviewed")
counterfeit_risk_scored = _listing_changed("counterfeit risk scored")
order_placed = _order_changed("order placed")
order_cancelled = _order_changed("order cancelled")
order_delivered = _order_changed("order delivered")
order_completed = _order_changed("order completed")
order_rated = _order_changed("order rated")
late_shipment = _order_changed("late shipment")
authentication_verdict = _seller_and_listing("authentication verdict")
dispute_case_closed = _seller_and_listing("dispute case closed")
