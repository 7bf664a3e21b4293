"""Reactions to other packages' events: they run inside the emitting transaction, so a
notification exists exactly when the change it announces does.

Order notifications read the order through marketplace_core.orders.models, looking up
only the buyer, the seller and the items, and doing nothing if the order is not found:
orders stay unaware of social, and a change there cannot break a purchase here.
Each carries a dedupe key per order and kind, so an event announced twice (an order
completed by a case refund, say) notifies once.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from marketplace_core.orders.models import Order
from marketplace_core.social import likes, notifications
from marketplace_core.social.models import NotificationKind


def tell_likers_about_price_drop(s: Session, *, listing_id: int, old: int, new: int) -> None:
    likes.tell_likers_price_dropped(s, listing_id, old, new)


def tell_closet_about_follower(s: Session, *, follower_id: int, followee_id: int) -> None:
    notifications.notify(s, followee_id, NotificationKind.NEW_FOLLOWER,
                         actor_id=follower_id, dedupe_key=f"follow:{follower_id}")


# --- orders ----------------------------------------------------------------------------

@dataclass(frozen=True)
class _OrderFacts:
    order_id: int
    buyer_id: int
    seller_id: int
    listing_id: int | None
    title: str
    cancelled_by: str | None


def _order_facts(s: Session, order_id: int) -> _OrderFacts | None:
    order = s.get(Order, order_id)
    if order is None:
        return None
    items = list(getattr(order, "items", None) or [])
    first = items[0] if items else None
    title = first.listing.title if first is not None and first.listing is not None else ""
    if len(items) > 1:
        title = f"{title} and {len(items) - 1} more"
    return _OrderFacts(order.id, order.buyer_id, order.seller_id,
                       first.listing_id if first is not None else None, title,
                       getattr(order, "cancelled_by", None))


def _tell(s: Session, facts: _OrderFacts, recipient_id: int, kind: NotificationKind,
          actor_id: int | None, **payload) -> None:
    notifications.notify(s, recipient_id, kind, actor_id=actor_id,
                         listing_id=facts.listing_id,
                         payload={"order_id": facts.order_id, "title": facts.title,
                                  **payload},
                         dedupe_key=f"order:{facts.order_id}:{kind}")


def tell_seller_about_sale(s: Session, *, order_id: int) -> None:
    facts = _order_facts(s, order_id)
    if facts is not None:
        _tell(s, facts, facts.seller_id, NotificationKind.ORDER_PLACED, facts.buyer_id)


def tell_buyer_about_delivery(s: Session, *, order_id: int) -> None:
    facts = _order_facts(s, order_id)
    if facts is not None:
        _tell(s, facts, facts.buyer_id, NotificationKind.ORDER_DELIVERED, None)


def tell_seller_about_completion(s: Session, *, order_id: int) -> None:
    facts = _order_facts(s, order_id)
    if facts is not None:
        _tell(s, facts, facts.seller_id, NotificationKind.ORDER_COMPLETED, None)


def tell_both_about_cancellation(s: Session, *, order_id: int, reason: str = "") -> None:
    """The buyer who cancelled is not told about their own act; a system cancellation
    tells both sides."""
    facts = _order_facts(s, order_id)
    if facts is None:
        return
    actor_id = facts.buyer_id if facts.cancelled_by == "buyer" else None
    for recipient_id in (facts.seller_id, facts.buyer_id):
        _tell(s, facts, recipient_id, NotificationKind.ORDER_CANCELLED, actor_id,
              reason=reason)
