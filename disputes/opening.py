"""Opening a case: only the buyer, only for a covered reason, only inside the window.

The window runs from delivery for DISPUTE_WINDOW_DAYS and only while the funds are
still held (before the buyer or the timer accepted the order).  The order row is locked
before anything is checked, so two reports racing on one order make one case; the case
holds the order's funds at once, which stops the automatic release.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from disputes import evidence, machine, notices, timers
from disputes.evidence import Upload
from disputes.models import NOT_COVERED, CaseReason, CaseState, DisputeCase, MessageKind, Party
from foundation import clock
from foundation.config import current as settings
from foundation.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from marketplace_core.ledger import services as ledger
from marketplace_core.members.models import Member
from marketplace_core.orders import services as orders
from marketplace_core.orders.models import Order, OrderStatus


def window_closes_at(order: Order) -> datetime | None:
    if order.delivered_at is None:
        return None
    return order.delivered_at + timedelta(days=settings().DISPUTE_WINDOW_DAYS)


def open_case(s: Session, buyer: Member, order_id: int, *, reason: Any, description: Any,
              photos: list[Upload]) -> DisputeCase:
    """Report a problem with a delivered order; the seller is asked to respond."""
    order = _order_of_buyer(s, buyer, order_id)
    reason = _covered_reason(reason)
    description = evidence.clean_text(description, "description")
    order = _locked_order(s, order)
    _require_open_window(s, order)
    stored = evidence.store_photos(photos, required=True)
    case = _new_case(s, order, reason, description)
    orders.hold_for_case(s, order, case.ref)
    evidence.add_message(s, case, MessageKind.OPENING, description, party=Party.BUYER,
                         photos=stored)
    machine.log(s, case, None, f"member:{buyer.id}", "opened", {"reason": reason})
    timers.arm_seller_response(case)
    notices.tell(s, case, Party.SELLER, "The buyer reported a problem with this order. "
                 "Respond with words and photos, or accept the return.")
    return case


def _order_of_buyer(s: Session, buyer: Member, order_id: Any) -> Order:
    order = s.get(Order, order_id) if type(order_id) is int else None
    if order is None or buyer.id not in (order.buyer_id, order.seller_id):
        raise NotFound("No such order.", code="order_not_found")
    if buyer.id != order.buyer_id:
        raise PermissionDenied("Only the buyer can report a problem with an order.",
                               code="not_buyer")
    return order


def _covered_reason(reason: Any) -> CaseReason:
    if isinstance(reason, str) and reason in NOT_COVERED:
        raise ValidationFailed(NOT_COVERED[reason], code="reason_not_covered",
                               fields={"reason": "not covered"})
    try:
        return CaseReason(reason)
    except ValueError:
        raise ValidationFailed(
            "Choose a reason: " + ", ".join(r.value for r in CaseReason) + ".",
            code="bad_reason", fields={"reason": "one of " + ", ".join(CaseReason)}) from None


def _locked_order(s: Session, order: Order) -> Order:
    return s.execute(select(Order).where(Order.id == order.id).with_for_update()
                     .execution_options(populate_existing=True)).scalar_one()


def _require_open_window(s: Session, order: Order) -> None:
    if existing_case_id(s, order.id) is not None:
        raise Conflict("A case is already open on this order.", code="case_exists")
    if order.status == OrderStatus.COMPLETED:
        raise Conflict("You accepted this order, so the sale is final and a problem can no "
                       "longer be reported.", code="order_accepted")
    if order.status in (OrderStatus.PLACED, OrderStatus.SHIPPED):
        raise Conflict("Report a problem once the order is delivered.", code="not_delivered")
    if order.status != OrderStatus.DELIVERED:
        raise Conflict(f"The order is {order.status}; there is nothing to report.",
                       code="order_closed")
    if clock.now() >= window_closes_at(order):
        raise Conflict(f"Problems must be reported within {settings().DISPUTE_WINDOW_DAYS} "
                       "days of delivery; this order's window has closed.",
                       code="window_closed")


def existing_case_id(s: Session, order_id: int) -> int | None:
    return s.scalar(select(DisputeCase.id).where(DisputeCase.order_id == order_id))


def _new_case(s: Session, order: Order, reason: CaseReason, description: str) -> DisputeCase:
    now = clock.now()
    case = DisputeCase(order_id=order.id, buyer_id=order.buyer_id, seller_id=order.seller_id,
                       listing_id=order.items[0].listing_id, reason=reason,
                       description=description, state=CaseState.AWAITING_SELLER,
                       amount_paise=ledger.order_money(s, order.id)["held_paise"],
                       listing_snapshot=snapshot_of(order), opened_at=now, updated_at=now,
                       seller_response_due_at=now + timedelta(
                           days=settings().DISPUTE_SELLER_RESPONSE_DAYS))
    s.add(case)
    try:
        with s.begin_nested():
            s.flush()
    except IntegrityError:
        raise Conflict("A case is already open on this order.", code="case_exists") from None
    return case


def snapshot_of(order: Order) -> dict[str, Any]:
    """The items as sold (listings of sold items no longer change, but they can be
    removed; the case keeps what the buyer was shown)."""
    return {"items": [{
        "listing_id": item.listing_id, "price_paise": item.price_paise,
        "title": item.listing.title, "description": item.listing.description,
        "brand": item.listing.brand, "category": item.listing.category,
        "size": item.listing.size, "condition": item.listing.condition,
        "colour": item.listing.colour,
        "photos": [photo.media_key for photo in item.listing.photos],
    } for item in order.items]}
