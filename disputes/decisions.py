"""Agents' decisions and support leads' approvals.

A decision is made under the agent's lease (409 "stale_lease" otherwise) and an
idempotency key: the same key returns the first decision (even after the lease is gone,
so a retried request succeeds), the same key with other parameters is refused.  The case
row is locked first, so two agents, or one agent's duplicate requests, are decided one
after the other and exactly one decision takes effect.

Refunds above DISPUTE_REFUND_APPROVAL_PAISE take effect only when a support lead who is
not the deciding agent approves them (four eyes); the case waits in the leads' queue.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from disputes import (
    authentication_link,
    claims,
    evidence,
    machine,
    notices,
    returns,
    settlement,
    timers,
)
from disputes.models import (
    DECISION_REASONS,
    REFUNDING_OUTCOMES,
    CaseDecision,
    CaseMessage,
    CaseState,
    DecisionStatus,
    DisputeCase,
    MessageKind,
    Outcome,
    Party,
)
from foundation import clock
from foundation.audit.services import record
from foundation.casework import Guard
from foundation.config import current as settings
from foundation.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from foundation.staff.models import StaffUser
from foundation.staff.permissions import Permission
from marketplace_core.ledger.idempotency import params_hash

MAX_KEY_LENGTH = 100
FRONT_OF_QUEUE = 1


@dataclass(frozen=True)
class DecisionRequest:
    outcome: Outcome
    reason: str
    note: str
    idempotency_key: str
    refund_paise: int | None = None
    info_from: Party | None = None

    @property
    def fingerprint(self) -> str:
        return params_hash("dispute_decision", {
            "outcome": self.outcome, "reason": self.reason, "note": self.note,
            "refund_paise": self.refund_paise, "info_from": self.info_from})


@dataclass(frozen=True)
class DecisionResult:
    decision: CaseDecision
    case: DisputeCase
    replayed: bool


def parse_decision(data: dict[str, Any]) -> DecisionRequest:
    """Check the shape of a decision; the case decides whether it is allowed."""
    try:
        outcome = Outcome(data.get("outcome"))
    except ValueError:
        raise ValidationFailed("outcome must be one of " + ", ".join(Outcome) + ".",
                               code="bad_outcome", fields={"outcome": "required"}) from None
    reason = data.get("reason")
    if reason not in DECISION_REASONS[outcome]:
        raise ValidationFailed(f"reason for {outcome} must be one of "
                               + ", ".join(DECISION_REASONS[outcome]) + ".",
                               code="bad_reason", fields={"reason": "required"})
    key = data.get("idempotency_key")
    if not isinstance(key, str) or not key.strip() or len(key) > MAX_KEY_LENGTH:
        raise ValidationFailed(f"idempotency_key must be 1 to {MAX_KEY_LENGTH} characters.",
                               code="bad_idempotency_key",
                               fields={"idempotency_key": "required"})
    info_from = data.get("info_from")
    if outcome == Outcome.REQUEST_INFO:
        if info_from not in (Party.BUYER, Party.SELLER):
            raise ValidationFailed("Say who should answer: info_from is buyer or seller.",
                                   code="bad_info_from", fields={"info_from": "buyer|seller"})
        info_from = Party(info_from)
    else:
        info_from = None
    refund = data.get("refund_paise")
    if outcome == Outcome.SPLIT and refund is None:
        raise ValidationFailed("A split needs refund_paise.", code="bad_amount",
                               fields={"refund_paise": "required"})
    note = evidence.clean_text(data.get("note"), "note",
                               required=outcome == Outcome.REQUEST_INFO)
    return DecisionRequest(outcome=outcome, reason=reason, note=note,
                           idempotency_key=key.strip(), refund_paise=refund,
                           info_from=info_from)


def decide(s: Session, staff: StaffUser, case_id: int, request: DecisionRequest,
           lease_token: str | None) -> DecisionResult:
    case = locked_case(s, case_id)
    earlier = _decision_with_key(s, case.id, request.idempotency_key)
    if earlier is not None:
        return _replay(case, earlier, request)
    claims.require_lease(case, staff, lease_token)
    if case.claimed_from != CaseState.UNDER_REVIEW:
        raise machine.illegal(case, "decided from the approval queue; approve or refuse")
    refund = _refund_of(s, case, request)
    decision = _record_decision(s, case, staff, request, refund)
    before = case.state
    if request.outcome in REFUNDING_OUTCOMES and refund > settings().DISPUTE_REFUND_APPROVAL_PAISE:
        decision.status = DecisionStatus.PENDING_APPROVAL
        machine.transition(s, case, CaseState.AWAITING_APPROVAL, actor=f"staff:{staff.id}",
                           reason="refund_needs_approval",
                           guard=claims.lease_guard(staff, lease_token),
                           values={**claims.unclaimed(), "decided_by": staff.id},
                           details={"decision_id": decision.id, "refund_paise": refund})
    else:
        _apply(s, case, decision, staff, guard=claims.lease_guard(staff, lease_token))
    _tell_parties(s, case, decision)
    record(s, staff, "disputes.decision", "dispute_case", case.id,
           before={"state": before},
           after={"state": case.state, "outcome": decision.outcome,
                  "refund_paise": decision.refund_paise, "reason": decision.reason_code,
                  "status": decision.status})
    return DecisionResult(decision, case, replayed=False)


def review_approval(s: Session, lead: StaffUser, case_id: int, *, approve: Any, note: Any,
                    lease_token: str | None) -> DecisionResult:
    """A support lead approves (the decision takes effect) or refuses (the case goes
    back to the agents) a large refund.  Nobody approves their own decision."""
    if not lead.can(Permission.DISPUTES_APPROVE_REFUND):
        raise PermissionDenied("Only a support lead approves refunds.", code="wrong_role")
    if type(approve) is not bool:
        raise ValidationFailed("approve must be true or false.", code="bad_approve",
                               fields={"approve": "true or false"})
    note = evidence.clean_text(note, "note", required=not approve)
    case = locked_case(s, case_id)
    claims.require_lease(case, lead, lease_token)
    decision = pending_decision(s, case.id)
    if decision is None or case.claimed_from != CaseState.AWAITING_APPROVAL:
        raise machine.illegal(case, "approved")
    if decision.staff_id == lead.id:
        raise PermissionDenied("You cannot approve your own decision; another lead must.",
                               code="own_decision")
    decision.approver_id = lead.id
    decision.approved_at = clock.now()
    actor = f"staff:{lead.id}"
    if approve:
        decision.status = DecisionStatus.APPROVED
        _apply(s, case, decision, lead, guard=claims.lease_guard(lead, lease_token))
        _tell_parties(s, case, decision)
    else:
        decision.status = DecisionStatus.REFUSED
        machine.transition(s, case, CaseState.UNDER_REVIEW, actor=actor, reason="refund_refused",
                           guard=claims.lease_guard(lead, lease_token),
                           values={**claims.unclaimed(),
                                   "priority": max(case.priority, FRONT_OF_QUEUE)},
                           details={"decision_id": decision.id})
    if note:
        evidence.add_message(s, case, MessageKind.STAFF_NOTE, note, staff=lead)
    s.flush()
    record(s, lead, "disputes.approval", "dispute_case", case.id,
           before={"state": CaseState.CLAIMED, "decision_status": DecisionStatus.PENDING_APPROVAL},
           after={"state": case.state, "decision_status": decision.status,
                  "decision_id": decision.id})
    return DecisionResult(decision, case, replayed=False)


def add_staff_note(s: Session, staff: StaffUser, case_id: int, body: Any) -> CaseMessage:
    """A note only staff see; returns it (its case is `note.case_id`)."""
    case = get_case(s, case_id)
    text = evidence.clean_text(body, "body")
    note = evidence.add_message(s, case, MessageKind.STAFF_NOTE, text, staff=staff)
    record(s, staff, "disputes.note", "dispute_case", case.id, after={"length": len(text)})
    return note


def get_case(s: Session, case_id: Any) -> DisputeCase:
    case = s.get(DisputeCase, case_id) if type(case_id) is int else None
    if case is None:
        raise NotFound("No such case.", code="case_not_found")
    return case


def locked_case(s: Session, case_id: Any) -> DisputeCase:
    get_case(s, case_id)
    return s.execute(select(DisputeCase).where(DisputeCase.id == case_id).with_for_update()
                     .execution_options(populate_existing=True)).scalar_one()


def pending_decision(s: Session, case_id: int) -> CaseDecision | None:
    return s.scalar(select(CaseDecision).where(
        CaseDecision.case_id == case_id,
        CaseDecision.status == DecisionStatus.PENDING_APPROVAL).order_by(CaseDecision.id))


def decisions_of(s: Session, case_id: int) -> list[CaseDecision]:
    return list(s.scalars(select(CaseDecision).where(CaseDecision.case_id == case_id)
                          .order_by(CaseDecision.id)))


# --- applying an outcome -----------------------------------------------------------------

def _apply(s: Session, case: DisputeCase, decision: CaseDecision, staff: StaffUser, *,
           guard: Guard) -> None:
    """Make the decision take effect; the case leaves the claim in the same transition."""
    actor = f"staff:{staff.id}"
    outcome = Outcome(decision.outcome)
    values = {**claims.unclaimed(), "decided_by": decision.staff_id}
    if outcome == Outcome.REFUND_WITH_RETURN:
        returns.start_return(s, case, actor=actor, reason=decision.reason_code,
                             guard=guard,
                             values={**values, "outcome": outcome})
    elif outcome == Outcome.REFUND_WITHOUT_RETURN:
        settlement.refund_in_full(s, case, actor=actor, reason=decision.reason_code,
                                  outcome=outcome, decided_by=decision.staff_id,
                                  guard=guard, values=values)
    elif outcome == Outcome.SPLIT:
        settlement.refund_part(s, case, decision.refund_paise, actor=actor,
                               reason=decision.reason_code, decided_by=decision.staff_id,
                               guard=guard, values=values)
    elif outcome == Outcome.RELEASE_TO_SELLER:
        settlement.release(s, case, CaseState.CLOSED_RELEASED, actor=actor,
                           reason=decision.reason_code, decided_by=decision.staff_id,
                           guard=guard, values=values)
    elif outcome == Outcome.REQUEST_INFO:
        _request_info(s, case, decision, staff, actor, guard, values)
    elif outcome == Outcome.SEND_TO_AUTHENTICATION:
        request_id = authentication_link.request_review(s, case)
        machine.transition(s, case, CaseState.WITH_AUTHENTICATION, actor=actor,
                           reason=decision.reason_code, guard=guard,
                           values={**values, "authentication_request_id": request_id})


def _request_info(s: Session, case: DisputeCase, decision: CaseDecision, staff: StaffUser,
                  actor: str, guard: Guard, values: dict) -> None:
    due = clock.now() + timedelta(days=settings().DISPUTE_INFO_RESPONSE_DAYS)
    machine.transition(s, case, CaseState.AWAITING_INFO, actor=actor, reason=decision.reason_code,
                       guard=guard,
                       values={**values, "info_requested_from": decision.info_from,
                               "info_due_at": due})
    evidence.add_message(s, case, MessageKind.INFO_REQUEST, decision.note, staff=staff)
    timers.arm_info_deadline(case)
    notices.tell(s, case, Party(decision.info_from), "Support needs more from you: "
                 f"{decision.note} Answer by {due:%d %b %Y %H:%M} UTC.")


def _refund_of(s: Session, case: DisputeCase, request: DecisionRequest) -> int:
    """What the decision would refund: all that is held, or the split's part."""
    held = settlement.held_paise(s, case)
    if request.outcome == Outcome.SPLIT:
        return settlement.require_split_amount(request.refund_paise, held)
    if request.outcome in REFUNDING_OUTCOMES:
        if request.outcome == Outcome.REFUND_WITH_RETURN and case.counter_claimed_at:
            raise Conflict("The item has already been returned once; refund without a "
                           "return, split or release.", code="already_returned")
        if request.refund_paise is not None:
            settlement.require_refund_amount(request.refund_paise, held)
            if request.refund_paise != held:
                raise ValidationFailed(f"A full refund is the {held} paise held; use a split "
                                       "for part of it.", code="bad_amount",
                                       fields={"refund_paise": f"{held} or omit"})
        return held
    if request.refund_paise is not None:
        raise ValidationFailed(f"{request.outcome} refunds nothing; omit refund_paise.",
                               code="bad_amount", fields={"refund_paise": "omit"})
    if request.outcome == Outcome.SEND_TO_AUTHENTICATION and case.authentication_verdict:
        raise Conflict("The authenticators have already given their verdict on this case.",
                       code="already_authenticated")
    return 0


def _record_decision(s: Session, case: DisputeCase, staff: StaffUser,
                     request: DecisionRequest, refund: int) -> CaseDecision:
    decision = CaseDecision(case_id=case.id, staff_id=staff.id, outcome=request.outcome,
                            refund_paise=refund if request.outcome in REFUNDING_OUTCOMES
                            else None, reason_code=request.reason, note=request.note,
                            info_from=request.info_from,
                            idempotency_key=request.idempotency_key,
                            fingerprint=request.fingerprint, status=DecisionStatus.APPLIED,
                            created_at=clock.now())
    s.add(decision)
    s.flush()
    return decision


def _decision_with_key(s: Session, case_id: int, key: str) -> CaseDecision | None:
    return s.scalar(select(CaseDecision).where(CaseDecision.case_id == case_id,
                                               CaseDecision.idempotency_key == key))


def _replay(case: DisputeCase, earlier: CaseDecision, request: DecisionRequest,
            ) -> DecisionResult:
    if earlier.fingerprint != request.fingerprint:
        raise Conflict("This idempotency key was already used for a different decision.",
                       code="idempotency_key_reused")
    return DecisionResult(earlier, case, replayed=True)


def _tell_parties(s: Session, case: DisputeCase, decision: CaseDecision) -> None:
    if decision.outcome in (Outcome.REQUEST_INFO,) or not decision.note:
        return
    if decision.status in (DecisionStatus.APPLIED, DecisionStatus.APPROVED):
        evidence.add_message(s, case, MessageKind.DECISION, decision.note,
                             staff=s.get(StaffUser, decision.staff_id))
