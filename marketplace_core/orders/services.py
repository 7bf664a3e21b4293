"""Orders after checkout: shipping, delivery, acceptance, cancellation and case holds.

The state machine (models.TRANSITIONS):

    placed -> shipped -> delivered -> completed      (funds released to the seller)
    placed -> cancelled                               (full refund, items back on sale)
    shipped | delivered -> refunded                   (a case refunded the buyer in full)

plus an `on_hold` flag a not-as-described case sets, which stops the automatic release.
Each transition locks the order row, checks the state it starts from (Conflict
"illegal_transition" otherwise), writes an OrderEvent and moves money only through
the ledger under a key derived from the order, so a repeated job moves nothing twice.

Other packages call: `place_order` (offers, bundles), `mark_shipped` / `mark_delivered`
(shipping), `hold_for_case` / `release_hold` / `refund_for_case` (disputes).
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from foundation import clock, events, jobs
from foundation.config import current as settings
from foundation.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from marketplace_core.ledger import services as ledger
from marketplace_core.ledger.models import LedgerTransaction
from marketplace_core.listings import services as listings
from marketplace_core.members.models import Member
from marketplace_core.orders import payments
from marketplace_core.orders.models import (
    TRANSITIONS,
    Order,
    OrderEvent,
    OrderSource,
    OrderStatus,
)
from marketplace_core.orders.placement import (
    auto_cancel_deadline,
    new_idempotency_key,
    place_order,
)
from marketplace_core.outbox import services as outbox
from marketplace_core.outbox.models import EffectKind

# Named, not imported: marketplace_core.orders.tasks imports this module.
AUTO_ACCEPT_ORDER = jobs.named("marketplace_core.orders.tasks.auto_accept_order")

__all__ = [
    "accept", "acceptance_deadline", "auto_accept_if_due", "auto_cancel_deadline",
    "auto_cancel_if_due", "cancel_by_buyer", "deadlines", "get_for_participant", "get_order",
    "hold_for_case", "list_orders", "mark_delivered", "mark_shipped", "new_idempotency_key",
    "place_order", "refund_for_case", "release_hold",
]
MAX_REASON = 200
MAX_CASE_REF = 64


# --- reading -------------------------------------------------------------------------

def get_order(s: Session, order_id: int) -> Order:
    order = s.get(Order, order_id)
    if order is None:
        raise NotFound("No such order.")
    return order


def get_for_participant(s: Session, order_id: int, member: Member) -> Order:
    """The order if `member` bought or sold it; anyone else learns nothing (404)."""
    order = s.get(Order, order_id)
    if order is None or member.id not in (order.buyer_id, order.seller_id):
        raise NotFound("No such order.")
    return order


def list_orders(s: Session, member: Member, role: str, *, before_id: int | None = None,
                limit: int = 20) -> tuple[list[Order], int | None]:
    """The member's orders as buyer or seller, newest first; returns the page and the id
    to pass as `before_id` for the next one (None at the end)."""
    column = Order.buyer_id if role == "buyer" else Order.seller_id
    query = select(Order).where(column == member.id).order_by(Order.id.desc()).limit(limit + 1)
    if before_id is not None:
        query = query.where(Order.id < before_id)
    rows = list(s.execute(query).scalars())
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (rows[-1].id if more else None)


def acceptance_deadline(order: Order) -> datetime | None:
    if order.delivered_at is None:
        return None
    return order.delivered_at + timedelta(days=settings().ORDER_AUTO_ACCEPT_DAYS)


def buyer_may_cancel_from(order: Order) -> datetime:
    return order.placed_at + timedelta(days=settings().ORDER_BUYER_CANCEL_AFTER_DAYS)


def accidental_cancel_until(order: Order) -> datetime | None:
    """Until when a buy-now purchase may be cancelled as a mistake (None for offers and
    bundles, which the buyer agreed to deliberately)."""
    if order.source != OrderSource.BUY_NOW:
        return None
    return order.placed_at + timedelta(minutes=settings().ORDER_ACCIDENTAL_CANCEL_MINUTES)


def deadlines(order: Order) -> dict[str, datetime]:
    """The moments that matter next for this order, for the apps to show."""
    if order.status == OrderStatus.PLACED:
        found = {"buyer_cancel_from": buyer_may_cancel_from(order),
                 "auto_cancel_at": auto_cancel_deadline(order)}
        accidental_until = accidental_cancel_until(order)
        if accidental_until is not None:
            found["accidental_cancel_until"] = accidental_until
        return found
    if order.status == OrderStatus.DELIVERED:
        return {"accept_by": acceptance_deadline(order)}
    if order.status == OrderStatus.COMPLETED:
        return {"rate_by": order.completed_at + timedelta(days=settings().RATING_WINDOW_DAYS)}
    return {}


# --- shipping hooks ------------------------------------------------------------------

def mark_shipped(s: Session, order: Order, at: datetime | None = None, *,
                 label_surcharge_paise: int = 0) -> Order:
    """The carrier scanned the parcel (placed -> shipped).  For the shipping package.

    `at` is the scan time (default now); it may not precede the order or lie in the
    future.  `label_surcharge_paise` is what a heavier-than-standard label costs the
    seller; it is taken from the seller's share when funds are released.  The parcel's
    weight is `order.total_weight_grams`; the parties are `order.buyer_id` and
    `order.seller_id`.
    """
    order = _locked(s, order)
    at = _event_time(at, not_before=order.placed_at)
    _check_surcharge(order, label_surcharge_paise)
    _transition(s, order, OrderStatus.SHIPPED, kind="shipped", actor="shipping")
    order.shipped_at = at
    order.label_surcharge_paise = label_surcharge_paise
    s.flush()
    return order


def mark_delivered(s: Session, order: Order, at: datetime | None = None) -> Order:
    """The carrier delivered the parcel (shipped -> delivered).  For the shipping package.

    Opens the buyer's acceptance window: the order is accepted automatically at
    `at` + ORDER_AUTO_ACCEPT_DAYS unless a case holds it.  Emits events.OrderDelivered.
    """
    order = _locked(s, order)
    at = _event_time(at, not_before=order.shipped_at)
    _transition(s, order, OrderStatus.DELIVERED, kind="delivered", actor="shipping")
    order.delivered_at = at
    s.flush()
    _arm_auto_accept(order)
    events.emit(s, events.OrderDelivered(order_id=order.id))
    return order


def _event_time(at: datetime | None, *, not_before: datetime | None) -> datetime:
    now = clock.now()
    if at is None:
        return now
    if not isinstance(at, datetime) or at.tzinfo is None:
        raise ValidationFailed("The time must be an aware datetime.", code="bad_time",
                               fields={"at": "aware datetime"})
    if at > now or (not_before is not None and at < not_before):
        raise ValidationFailed("The time is out of order with the order's history.",
                               code="bad_time", fields={"at": "between the last step and now"})
    return at


def _check_surcharge(order: Order, surcharge: int) -> None:
    room = order.sale_price_paise - _commission(order)
    if type(surcharge) is not int or not 0 <= surcharge <= room:
        raise ValidationFailed("The label surcharge must be whole paise within the "
                               "seller's share.", code="bad_amount",
                               fields={"label_surcharge_paise": f"0 to {room}"})


# --- cancellation --------------------------------------------------------------------

def cancel_by_buyer(s: Session, order: Order, buyer: Member, reason: str) -> Order:
    """The buyer cancels an unshipped order: a buy-now purchase within the accidental
    window (3 hours), or any order from day 7 (ORDER_BUYER_CANCEL_AFTER_DAYS)."""
    order = _locked(s, order)
    _require_buyer(order, buyer)
    reason = _clean_reason(reason)
    _require_status(order, OrderStatus.CANCELLED)
    now = clock.now()
    accidental_until = accidental_cancel_until(order)
    if not ((accidental_until is not None and now <= accidental_until)
            or now >= buyer_may_cancel_from(order)):
        raise Conflict(_too_early_message(order), code="cancel_not_allowed_yet")
    _cancel(s, order, by="buyer", actor=f"member:{buyer.id}", reason=reason)
    return order


def auto_cancel_if_due(s: Session, order_id: int) -> bool:
    """The system cancels an order still unshipped on day 21; a no-op (False) if it is
    not due yet or was shipped or cancelled meanwhile (timers and sweeps both call it)."""
    order = _locked_by_id(s, order_id)
    if (order is None or order.status != OrderStatus.PLACED
            or clock.now() < auto_cancel_deadline(order)):
        return False
    _cancel(s, order, by="system", actor="system", reason="not shipped in time")
    return True


def _too_early_message(order: Order) -> str:
    when = buyer_may_cancel_from(order).strftime("%d %b %Y %H:%M UTC")
    if order.source == OrderSource.BUY_NOW:
        return ("A purchase can be cancelled within the first hours, or once it is still "
                f"unshipped from {when}.")
    return ("Orders from offers and bundles cannot be cancelled as a mistake; if the "
            f"seller has not shipped, you can cancel from {when}.")


def _cancel(s: Session, order: Order, *, by: str, actor: str, reason: str) -> None:
    _transition(s, order, OrderStatus.CANCELLED, kind="cancelled", actor=actor, note=reason)
    held = ledger.order_money(s, order.id)["held_paise"]
    if held > 0:
        posting = ledger.refund_buyer(s, order.id, held, f"order:{order.id}:cancel-refund",
                                      f"order cancelled by {by}")
        _refund_at_provider(s, order, posting, held)
    for item in order.items:
        listings.return_to_sale(s, item.listing, f"order:{order.id}")
    order.cancelled_at = clock.now()
    order.cancelled_by = by
    order.cancel_reason = reason
    s.flush()
    events.emit(s, events.OrderCancelled(order_id=order.id, reason=reason))


# --- acceptance ----------------------------------------------------------------------

def accept(s: Session, order: Order, buyer: Member) -> Order:
    """The buyer is happy with the item: the sale completes and the seller is paid."""
    order = _locked(s, order)
    _require_buyer(order, buyer)
    _require_status(order, OrderStatus.COMPLETED)
    if order.on_hold:
        raise Conflict("A case is open on this order; it completes when the case closes.",
                       code="on_hold")
    _complete(s, order, by="buyer", actor=f"member:{buyer.id}")
    return order


def auto_accept_if_due(s: Session, order_id: int) -> bool:
    """Accept a delivered order ORDER_AUTO_ACCEPT_DAYS after delivery unless a case holds
    it; a no-op (False) otherwise, so duplicate timers and sweeps are harmless."""
    order = _locked_by_id(s, order_id)
    if order is None or order.status != OrderStatus.DELIVERED or order.on_hold:
        return False
    if clock.now() < acceptance_deadline(order):
        return False
    _complete(s, order, by="system", actor="system")
    return True


def _complete(s: Session, order: Order, *, by: str, actor: str) -> None:
    _transition(s, order, OrderStatus.COMPLETED, kind="completed", actor=actor)
    commission = _commission(order)
    ledger.release_to_seller(s, order.id, commission, _label_fee(order),
                             f"order:{order.id}:release")
    order.commission_paise = commission
    order.completed_at = clock.now()
    order.completed_by = by
    s.flush()
    events.emit(s, events.OrderCompleted(order_id=order.id))


def _commission(order: Order) -> int:
    rules = ledger.CommissionRules.from_settings(settings())
    return ledger.commission_for(order.sale_price_paise, rules)


def _label_fee(order: Order) -> int:
    """The label's cost, kept by the platform at release: the buyer's shipping fee plus
    any surcharge for a heavier parcel (which comes out of the seller's share)."""
    return order.shipping_paise + order.label_surcharge_paise


# --- cases (for the disputes package) ------------------------------------------------

def hold_for_case(s: Session, order: Order, case_ref: str) -> Order:
    """A not-as-described case opened: freeze the funds so nothing releases them.

    Allowed while the order is shipped or delivered (funds still held).  Holding again
    for the same case is a no-op; another case while one holds it is a Conflict.
    """
    order = _locked(s, order)
    case_ref = _clean_case_ref(case_ref)
    if order.on_hold:
        if order.hold_case_ref == case_ref:
            return order
        raise Conflict("Another case already holds this order.", code="already_on_hold")
    if order.status not in (OrderStatus.SHIPPED, OrderStatus.DELIVERED):
        raise Conflict(f"The order is {order.status}; its funds cannot be held for a case.",
                       code="illegal_transition")
    order.on_hold = True
    order.hold_case_ref = case_ref
    _log(s, order, "hold", order.status, f"case:{case_ref}")
    s.flush()
    return order


def release_hold(s: Session, order: Order, case_ref: str, *,
                 complete_now: bool = False) -> Order:
    """The case closed without a refund (refused or withdrawn): lift the hold.

    A delivered order completes now (funds to the seller) when the case says so
    (`complete_now`, a decision in the seller's favour) or when its acceptance window
    has already passed; otherwise the automatic acceptance is armed again.  Releasing
    a hold that is already lifted is a no-op.
    """
    order = _locked(s, order)
    case_ref = _clean_case_ref(case_ref)
    if not order.on_hold:
        return order
    if order.hold_case_ref != case_ref:
        raise Conflict("This order is held by another case.", code="held_by_other_case")
    order.on_hold = False
    order.hold_case_ref = None
    _log(s, order, "hold_released", order.status, f"case:{case_ref}")
    s.flush()
    if order.status == OrderStatus.DELIVERED:
        if complete_now or clock.now() >= acceptance_deadline(order):
            _complete(s, order, by="case", actor=f"case:{case_ref}")
        else:
            _arm_auto_accept(order)
    return order


def refund_for_case(s: Session, order: Order, case_ref: str, refund_paise: int) -> Order:
    """The case closed with a refund of `refund_paise` from the held funds.

    All of it: the order becomes refunded.  Part of it: the rest is released to the
    seller (less the label fee and the commission on what the seller keeps) in one
    split, and the order completes.  The order must be held by this case.
    """
    order = _locked(s, order)
    case_ref = _clean_case_ref(case_ref)
    if not order.on_hold or order.hold_case_ref != case_ref:
        raise Conflict("Only the case holding this order can refund it.",
                       code="not_held_by_case")
    held = ledger.order_money(s, order.id)["held_paise"]
    if type(refund_paise) is not int or not 0 < refund_paise <= held:
        raise ValidationFailed(f"The refund must be 1 to {held} paise.", code="bad_amount",
                               fields={"refund_paise": f"1 to {held}"})
    order.on_hold = False
    order.hold_case_ref = None
    if refund_paise == held:
        _transition(s, order, OrderStatus.REFUNDED, kind="refunded", actor=f"case:{case_ref}")
        posting = ledger.refund_buyer(s, order.id, held, f"order:{order.id}:case-refund",
                                      f"case {case_ref}")
        _refund_at_provider(s, order, posting, held)
        order.refunded_at = clock.now()
        s.flush()
        return order
    _transition(s, order, OrderStatus.COMPLETED, kind="completed", actor=f"case:{case_ref}",
                note=f"partial refund {refund_paise}")
    kept = held - refund_paise
    label_fee = min(_label_fee(order), kept)
    seller_part = kept - label_fee
    rules = ledger.CommissionRules.from_settings(settings())
    commission = ledger.commission_for(seller_part, rules) if seller_part > 0 else 0
    posting = ledger.split(s, order.id, refund_paise, kept, commission,
                           f"order:{order.id}:case-split", label_fee_paise=label_fee)
    _refund_at_provider(s, order, posting, refund_paise)
    order.commission_paise = commission
    order.completed_at = clock.now()
    order.completed_by = "case"
    s.flush()
    events.emit(s, events.OrderCompleted(order_id=order.id))
    return order


def _refund_at_provider(s: Session, order: Order, posting: LedgerTransaction,
                        amount_paise: int) -> None:
    """The card refund a ledger refund owes the buyer, recorded in the same transaction
    as the posting and delivered through the outbox under the posting's reference."""
    outbox.record(s, EffectKind.CARD_REFUND, payments.refund_reference(order.id, posting.id),
                  {"provider_ref": order.provider_ref, "amount_paise": amount_paise},
                  order_id=order.id, member_id=order.buyer_id,
                  ledger_transaction_id=posting.id)


def _clean_case_ref(case_ref: str) -> str:
    if not isinstance(case_ref, str) or not 1 <= len(case_ref.strip()) <= MAX_CASE_REF:
        raise ValidationFailed(f"case_ref must be 1 to {MAX_CASE_REF} characters.",
                               code="bad_case_ref", fields={"case_ref": "required"})
    return case_ref.strip()


# --- the state machine ---------------------------------------------------------------

def _locked(s: Session, order: Order) -> Order:
    """The order re-read under a row lock (PostgreSQL), so that a buyer's accept and the
    timer's auto-accept, or two cancels, run one after the other."""
    locked = _locked_by_id(s, order.id)
    if locked is None:
        raise NotFound("No such order.")
    return locked


def _locked_by_id(s: Session, order_id: int) -> Order | None:
    return s.execute(select(Order).where(Order.id == order_id).with_for_update()
                     .execution_options(populate_existing=True)).scalar_one_or_none()


def _require_buyer(order: Order, member: Member) -> None:
    if member.id != order.buyer_id:
        raise PermissionDenied("Only the buyer can do that.", code="not_buyer")


def _require_status(order: Order, to: OrderStatus) -> None:
    if to not in TRANSITIONS.get(OrderStatus(order.status), set()):
        raise Conflict(f"The order is {order.status}; it cannot become {to}.",
                       code="illegal_transition")


def _transition(s: Session, order: Order, to: OrderStatus, *, kind: str, actor: str,
                note: str | None = None) -> None:
    _require_status(order, to)
    before = order.status
    order.status = to
    _log(s, order, kind, before, actor, to=to, note=note)


def _log(s: Session, order: Order, kind: str, before: str | None, actor: str, *,
         to: str | None = None, note: str | None = None) -> None:
    s.add(OrderEvent(order_id=order.id, kind=kind, from_status=before,
                     to_status=to or order.status, actor=actor[:80],
                     note=note[:200] if note else None, occurred_at=clock.now()))


def _clean_reason(reason: str) -> str:
    if not isinstance(reason, str) or not 1 <= len(reason.strip()) <= MAX_REASON:
        raise ValidationFailed(f"Give a reason (1 to {MAX_REASON} characters).",
                               fields={"reason": "required"})
    return reason.strip()


def _arm_auto_accept(order: Order) -> None:
    deadline = max(acceptance_deadline(order), clock.now())
    AUTO_ACCEPT_ORDER.enqueue(
        order.id, job_id=jobs.timer_id("auto_accept_delivered", "order", order.id, deadline),
        at=deadline)
