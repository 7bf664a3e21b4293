"""In-process domain events: the marketplace announces, other packages react.

`marketplace_core` must not import authentication, vision or disputes, yet they need
to know when, say, a listing needs review or a photo was stored.  Handlers run
synchronously inside the emitting unit of work, so their writes commit or roll back
with it; slow work belongs in a job the handler enqueues (after commit).
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

Handler = Callable[..., None]
_handlers: dict[str, list[Handler]] = defaultdict(list)

# The events the marketplace emits, with their keyword payloads.
LISTING_NEEDS_AUTHENTICATION = "listing.needs_authentication"  # listing_id, reason
LISTING_WENT_LIVE = "listing.went_live"                        # listing_id
LISTING_REMOVED = "listing.removed"                            # listing_id, reason
LISTING_PRICE_DROPPED = "listing.price_dropped"                # listing_id, old, new
PHOTO_STORED = "photo.stored"                                  # listing_id, photo_id
PHOTO_REMOVED = "photo.removed"                                # listing_id, photo_id
MEMBER_FOLLOWED = "member.followed"                            # follower_id, followee_id
ORDER_PLACED = "order.placed"                                  # order_id
ORDER_DELIVERED = "order.delivered"                            # order_id
ORDER_COMPLETED = "order.completed"                            # order_id
ORDER_CANCELLED = "order.cancelled"                            # order_id, reason
ORDER_RATED = "order.rated"                                    # order_id, seller_id
SHIPMENT_FLAGGED_LATE = "shipment.flagged_late"                # order_id, shipment_id
RETURN_SHIPPED = "order.return_shipped"                        # order_id, shipment_id
RETURN_DELIVERED = "order.return_delivered"                    # order_id, shipment_id


def subscribe(event: str, handler: Handler) -> Handler:
    if handler not in _handlers[event]:
        _handlers[event].append(handler)
    return handler


def on(event: str) -> Callable[[Handler], Handler]:
    """Decorator form of subscribe()."""
    return lambda handler: subscribe(event, handler)


def emit(s: Session, event: str, **payload: Any) -> None:
    for handler in list(_handlers[event]):
        handler(s, **payload)
