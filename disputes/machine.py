"""The disputes queue's casework (foundation.casework): every change of a case's state
goes through `try_transition` (or `transition`, which answers 409 when the move is
lost), so two agents, an agent and a timer, or a member and a timer racing on one case
resolve to one winner.  Each win writes a CaseEvent.

The decision clock runs while the case waits for, or is with, staff
(CLOCK_RUNNING_STATES): the transitions start, pause and resume it themselves.
"""
from __future__ import annotations

from sqlalchemy.orm import Session

from disputes.models import CLOCK_RUNNING_STATES, CLOSED_STATES, CaseEvent, DisputeCase
from foundation import events
from foundation.casework import Casework
from foundation.config import current as settings


def announce_closed(s: Session, case: DisputeCase) -> None:
    """Every case's closing transaction announces it (trust signals listen)."""
    events.emit(s, events.CaseClosed(case_id=case.id, seller_id=case.seller_id,
                                     listing_id=case.listing_id, state=str(case.state)))


CASEWORK = Casework(model=DisputeCase, events=CaseEvent, event_key="case_id",
                    closed_states=CLOSED_STATES, noun="case",
                    sla_hours=lambda: settings().DISPUTE_SLA_HOURS,
                    clock_runs_in=CLOCK_RUNNING_STATES, on_closed=announce_closed)

try_transition = CASEWORK.try_transition
transition = CASEWORK.transition
log = CASEWORK.log
illegal = CASEWORK.illegal
seconds_left = CASEWORK.seconds_left
