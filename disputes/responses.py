"""What the buyer and the seller do on a case: answer, accept the return, withdraw,
inspect the returned item or counter-claim.

Strangers get 404 (a case's existence is nobody else's business); the wrong party gets
403.  An answer that staff or the timers were waiting for moves the case on; any other
answer is kept as a message for the agent.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from disputes import evidence, machine, notices, returns, settlement
from disputes.evidence import Upload
from disputes.models import (
    CLOSED_STATES,
    WITHDRAWABLE_STATES,
    CaseDecision,
    CaseState,
    DecisionStatus,
    DisputeCase,
    MessageKind,
    Outcome,
    Party,
)
from foundation import clock
from foundation.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from foundation.leases import unclaimed
from marketplace_core.members.models import Member

FRONT_OF_QUEUE = 1


def case_for_party(s: Session, member: Member, case_id: Any) -> tuple[DisputeCase, Party]:
    case = s.get(DisputeCase, case_id) if type(case_id) is int else None
    if case is None or member.id not in (case.buyer_id, case.seller_id):
        raise NotFound("No such case.", code="case_not_found")
    return case, Party.BUYER if member.id == case.buyer_id else Party.SELLER


def respond(s: Session, member: Member, case_id: Any, *, body: Any,
            photos: list[Upload]) -> DisputeCase:
    """A party's words and photos; the answer the case was waiting for moves it on."""
    case, party = case_for_party(s, member, case_id)
    if case.state in CLOSED_STATES:
        raise Conflict("The case is closed.", code="case_closed")
    text = evidence.clean_text(body, "body")
    stored = evidence.store_photos(photos, required=False)
    evidence.add_message(s, case, MessageKind.RESPONSE, text, party=party, photos=stored)
    actor = f"member:{member.id}"
    if case.state == CaseState.AWAITING_SELLER and party == Party.SELLER:
        machine.transition(s, case, CaseState.UNDER_REVIEW, actor=actor, reason="seller_responded",
                           values={"seller_response_due_at": None})
        notices.tell(s, case, Party.BUYER, "The seller responded; a support agent will "
                     "review the case.")
    elif case.state == CaseState.AWAITING_INFO and case.info_requested_from == party:
        machine.transition(s, case, CaseState.UNDER_REVIEW, actor=actor, reason="information_given",
                           values={"info_requested_from": None, "info_due_at": None,
                                   "priority": max(case.priority, FRONT_OF_QUEUE)})
    else:
        machine.log(s, case, case.state, actor, f"{party}_message")
    return case


def accept_return(s: Session, member: Member, case_id: Any) -> DisputeCase:
    """The seller takes the item back without an agent: the buyer gets a return label
    and, once the seller has inspected the item, a full refund."""
    case, party = case_for_party(s, member, case_id)
    if party != Party.SELLER:
        raise PermissionDenied("Only the seller can accept a return.", code="not_seller")
    if case.state not in (CaseState.AWAITING_SELLER, CaseState.UNDER_REVIEW):
        raise machine.illegal(case, "settled by the seller now")
    if case.counter_claimed_at is not None:
        # The item already came back once (its label is used up); an agent decides.
        raise Conflict("The item has already been returned once; a support agent will "
                       "decide the case.", code="already_returned")
    returns.start_return(s, case, actor=f"member:{member.id}", reason="seller_accepted_return",
                         values={"outcome": Outcome.REFUND_WITH_RETURN,
                                 "seller_response_due_at": None})
    return case


def withdraw(s: Session, member: Member, case_id: Any) -> DisputeCase:
    """The buyer closes the case; the payment goes to the seller."""
    case, party = case_for_party(s, member, case_id)
    if party != Party.BUYER:
        raise PermissionDenied("Only the buyer can withdraw the case.", code="not_buyer")
    if case.state not in WITHDRAWABLE_STATES:
        if case.state in CLOSED_STATES:
            raise Conflict("The case is already closed.", code="case_closed")
        raise Conflict("The return is already on its way; the case closes after the "
                       "seller's inspection.", code="return_in_progress")
    returns.void_label_if_unused(s, case)
    _void_pending_decisions(s, case)
    # A case an agent holds is withdrawn too: the closed case keeps no lease.
    settlement.release(s, case, CaseState.CLOSED_WITHDRAWN, actor=f"member:{member.id}",
                       reason="withdrawn", values=unclaimed())
    return case


def _void_pending_decisions(s: Session, case: DisputeCase) -> None:
    """A refund waiting for a lead's approval is moot once the buyer withdraws."""
    s.execute(update(CaseDecision).where(
        CaseDecision.case_id == case.id,
        CaseDecision.status == DecisionStatus.PENDING_APPROVAL)
        .values(status=DecisionStatus.VOIDED).execution_options(synchronize_session="fetch"))


def inspect(s: Session, member: Member, case_id: Any, *, accept: Any, body: Any,
            photos: list[Upload]) -> DisputeCase:
    """The seller has the item back: accept (the buyer is refunded) or counter-claim
    that it came back swapped or damaged (an agent decides, with the seller's photos)."""
    case, party = case_for_party(s, member, case_id)
    if party != Party.SELLER:
        raise PermissionDenied("Only the seller inspects the returned item.",
                               code="not_seller")
    if case.state != CaseState.AWAITING_INSPECTION:
        raise machine.illegal(case, "inspected now")
    if type(accept) is not bool:
        raise ValidationFailed("Say whether you accept the returned item (true or false).",
                               code="bad_accept", fields={"accept": "true or false"})
    actor = f"member:{member.id}"
    if accept:
        text = evidence.clean_text(body, "body", required=False)
        evidence.add_message(s, case, MessageKind.INSPECTION, text or "Return accepted.",
                             party=party)
        settlement.refund_in_full(s, case, actor=actor, reason="return_accepted",
                                  outcome=Outcome.REFUND_WITH_RETURN)
        return case
    text = evidence.clean_text(body, "body")
    stored = evidence.store_photos(photos, required=True)
    evidence.add_message(s, case, MessageKind.COUNTER_CLAIM, text, party=party, photos=stored)
    machine.transition(s, case, CaseState.UNDER_REVIEW, actor=actor, reason="counter_claimed",
                       values={"counter_claimed_at": clock.now(), "inspection_due_at": None,
                               "priority": max(case.priority, FRONT_OF_QUEUE)})
    notices.tell(s, case, Party.BUYER, "The seller says the returned item is not what was "
                 "sent; a support agent will review it.")
    return case
