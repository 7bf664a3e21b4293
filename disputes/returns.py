"""Returns: the prepaid label, the parcel's progress, and the seller's inspection window.

    start_return: a label for the buyer, RETURN_SHIP_DAYS to ship (else the case closes
    for the seller); the carrier's first scan -> return_in_transit; delivery ->
    awaiting_inspection with INSPECTION_DAYS for the seller (else the buyer is refunded).

The carrier's scans reach us as marketplace events (handlers.py); a scan for an order
without a case in the matching state changes nothing, so replays are harmless.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from disputes import machine, notices, settlement, timers
from disputes.models import CaseState, DisputeCase, Party
from foundation import clock
from foundation.casework import SYSTEM, UNGUARDED, Guard
from foundation.config import current as settings
from foundation.errors import Conflict
from marketplace_core.orders.models import Order
from marketplace_core.shipping import services as shipping


def start_return(s: Session, case: DisputeCase, *, actor: str, reason: str,
                 guard: Guard = UNGUARDED, values: dict[str, Any] | None = None) -> None:
    ship_by = clock.now() + timedelta(days=settings().DISPUTE_RETURN_SHIP_DAYS)
    machine.transition(s, case, CaseState.AWAITING_RETURN, actor=actor, reason=reason,
                       guard=guard,
                       values={**(values or {}), "return_ship_by": ship_by})
    label = shipping.create_return_label(s, s.get(Order, case.order_id), case.ref)
    timers.arm_return_deadline(case)
    notices.tell(s, case, Party.BUYER, "Your return is approved. Print the prepaid label "
                 f"(tracking {label.tracking_number}) and ship the item by "
                 f"{ship_by:%d %b %Y}.")
    notices.tell(s, case, Party.SELLER, "The item is coming back to you; inspect it when "
                 "it arrives.")


def return_shipped(s: Session, order_id: int) -> bool:
    case = _case_of_order(s, order_id)
    if case is None or case.state != CaseState.AWAITING_RETURN:
        return False
    return machine.try_transition(s, case, CaseState.RETURN_IN_TRANSIT, actor=SYSTEM,
                                  reason="return_shipped", values={"return_ship_by": None})


def return_delivered(s: Session, order_id: int) -> bool:
    """The seller has the item: the inspection window opens (even if the first scan
    never reached us)."""
    case = _case_of_order(s, order_id)
    if case is None or case.state not in (CaseState.AWAITING_RETURN, CaseState.RETURN_IN_TRANSIT):
        return False
    due = clock.now() + timedelta(days=settings().DISPUTE_INSPECTION_DAYS)
    if not machine.try_transition(s, case, CaseState.AWAITING_INSPECTION, actor=SYSTEM,
                                  reason="return_delivered",
                                  values={"return_ship_by": None, "inspection_due_at": due}):
        return False
    timers.arm_inspection_deadline(case)
    notices.tell(s, case, Party.SELLER, "The returned item was delivered to you. Inspect it "
                 f"by {due:%d %b %Y}: accept it, or tell us what is wrong with it.")
    return True


def return_not_shipped(s: Session, case_id: int) -> bool:
    """Timer: the buyer never shipped the return, so the case closes for the seller."""
    case = s.get(DisputeCase, case_id)
    if case is None or case.state != CaseState.AWAITING_RETURN or clock.now() < case.return_ship_by:
        return False

    def close_for_seller() -> None:
        void_label_if_unused(s, case)
        settlement.release(s, case, CaseState.CLOSED_RELEASED, actor=SYSTEM,
                           reason="return_not_shipped")

    return _unless_overtaken(s, close_for_seller)


def inspection_window_ended(s: Session, case_id: int) -> bool:
    """Timer: the seller did not object in time, so the buyer is refunded."""
    case = s.get(DisputeCase, case_id)
    if (case is None or case.state != CaseState.AWAITING_INSPECTION
            or clock.now() < case.inspection_due_at):
        return False
    return _unless_overtaken(s, lambda: settlement.refund_in_full(
        s, case, actor=SYSTEM, reason="inspection_window_ended",
        outcome=case.outcome or "refund_with_return"))


def _unless_overtaken(s: Session, action: Callable[[], None]) -> bool:
    """Run a timer's action in a savepoint.  A person who moved the case (or its return
    parcel) a moment before makes a guarded step refuse with a Conflict: undo the action
    and report that there was nothing to do, as a run a moment later would have (so the
    timer job does not fail)."""
    try:
        with s.begin_nested():
            action()
    except Conflict:
        return False
    return True


def void_label_if_unused(s: Session, case: DisputeCase) -> None:
    if case.state == CaseState.AWAITING_RETURN:
        shipping.void_return_label(s, case.order_id, f"{case.ref} closed")


def _case_of_order(s: Session, order_id: int) -> DisputeCase | None:
    return s.scalar(select(DisputeCase).where(DisputeCase.order_id == order_id))
