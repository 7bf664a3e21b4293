"""Closing a case and moving its money: the only place disputes touch funds.

Each closing function first wins the case's guarded transition (so a timer and an agent,
or two agents, cannot both close it), then calls the order's case hook, which posts the
ledger transaction under a key derived from the order: a repeated job or request can
never refund or release twice.  Everything happens in the caller's unit of work, so a
failure leaves the case open and the money where it was.
"""
from __future__ import annotations

from sqlalchemy.orm import Session

from disputes import machine, notices
from disputes.models import CaseState, DisputeCase, Outcome
from foundation.casework import UNGUARDED, Guard
from foundation.errors import ValidationFailed
from marketplace_core.ledger import services as ledger
from marketplace_core.orders import services as orders
from marketplace_core.orders.models import Order


def held_paise(s: Session, case: DisputeCase) -> int:
    return ledger.order_money(s, case.order_id)["held_paise"]


def refund_in_full(s: Session, case: DisputeCase, *, actor: str, reason: str,
                   outcome: Outcome, decided_by: int | None = None,
                   guard: Guard = UNGUARDED, values: dict | None = None) -> None:
    amount = held_paise(s, case)
    machine.transition(s, case, CaseState.CLOSED_REFUNDED, actor=actor, reason=reason,
                       guard=guard,
                       values={**(values or {}), "outcome": outcome, "refund_paise": amount,
                               "decided_by": decided_by or case.decided_by},
                       details={"refund_paise": amount})
    orders.refund_for_case(s, _order(s, case), case.ref, amount)
    notices.tell_both(s, case, f"The case closed with a full refund of {_inr(amount)} to "
                      "the buyer.")


def refund_part(s: Session, case: DisputeCase, refund_paise: int, *, actor: str,
                reason: str, decided_by: int, guard: Guard = UNGUARDED,
                values: dict | None = None) -> None:
    held = held_paise(s, case)
    require_split_amount(refund_paise, held)
    machine.transition(s, case, CaseState.CLOSED_SPLIT, actor=actor, reason=reason,
                       guard=guard,
                       values={**(values or {}), "outcome": Outcome.SPLIT,
                               "refund_paise": refund_paise,
                               "decided_by": decided_by},
                       details={"refund_paise": refund_paise,
                                "released_paise": held - refund_paise})
    orders.refund_for_case(s, _order(s, case), case.ref, refund_paise)
    notices.tell_both(s, case, f"The case closed with a partial refund of "
                      f"{_inr(refund_paise)}; the rest goes to the seller.")


def release(s: Session, case: DisputeCase, to: CaseState, *, actor: str, reason: str,
            decided_by: int | None = None, guard: Guard = UNGUARDED,
            values: dict | None = None) -> None:
    """Close in the seller's favour (refused, withdrawn, return never shipped): the
    held funds go to the seller now."""
    values = {**(values or {}), "refund_paise": 0,
              "decided_by": decided_by or case.decided_by}
    if to == CaseState.CLOSED_RELEASED:
        values["outcome"] = Outcome.RELEASE_TO_SELLER
    machine.transition(s, case, to, actor=actor, reason=reason, guard=guard, values=values)
    orders.release_hold(s, _order(s, case), case.ref, complete_now=True)
    notices.tell_both(s, case, "The case closed; the payment goes to the seller.")


def require_refund_amount(refund_paise: object, held: int) -> int:
    if type(refund_paise) is not int or not 0 < refund_paise <= held:
        raise ValidationFailed(f"refund_paise must be a whole number from 1 to {held} paise "
                               "(what is held for the order).", code="bad_amount",
                               fields={"refund_paise": f"1 to {held}"})
    return refund_paise


def require_split_amount(refund_paise: object, held: int) -> int:
    """A split gives part to each side: 1 paisa to held - 1, so the two parts add up
    exactly to what is held."""
    if type(refund_paise) is not int or not 0 < refund_paise < held:
        raise ValidationFailed(f"A split refunds part of the {held} paise held: refund_paise "
                               f"must be from 1 to {held - 1}.", code="bad_amount",
                               fields={"refund_paise": f"1 to {held - 1}"})
    return refund_paise


def _order(s: Session, case: DisputeCase) -> Order:
    return s.get(Order, case.order_id)


def _inr(paise: int) -> str:
    rupees, rest = divmod(paise, 100)
    return f"Rs {rupees:,}.{rest:02d}"
