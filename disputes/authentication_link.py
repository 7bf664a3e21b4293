""""Not authentic" claims: the authenticators judge the item, their verdict comes back.

The case asks the authentication package for a review of the sold listing; when the
review closes, authentication announces the verdict (an in-process event) and the case
returns to the front of the agents' queue with the verdict on it.  The agent then
decides the money: authentication answers whether the item is genuine, support answers
what the buyer is owed.
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from authentication import intake
from disputes import machine, notices
from disputes.models import CaseState, DisputeCase, Party
from foundation.casework import SYSTEM

VERDICT_PRIORITY = 1


def request_review(s: Session, case: DisputeCase) -> int:
    return intake.open_for_dispute(s, case.listing_id, case.id).id


def verdict_given(s: Session, *, request_id: int, verdict: str, **_: object) -> None:
    case = s.scalar(select(DisputeCase).where(
        DisputeCase.authentication_request_id == request_id))
    if case is None or case.state != CaseState.WITH_AUTHENTICATION:
        return
    machine.try_transition(s, case, CaseState.UNDER_REVIEW, actor=SYSTEM,
                           reason="authentication_verdict",
                           values={"authentication_verdict": verdict,
                                   "priority": max(case.priority, VERDICT_PRIORITY)},
                           details={"verdict": verdict, "request_id": request_id})
    notices.tell(s, case, Party.BUYER, "The authentication team has examined the item; a "
                 "support agent will now decide your case.")

