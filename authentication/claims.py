"""The review queues: who may claim what, in which order, under foundation.leases.

Three queues, each a set of states a reviewer may claim from:
- "review": queued items (any authenticator; items above SENIOR_REVIEW_PRICE_PAISE or
  marked senior-only go to seniors only) and escalated items (seniors only);
- "second_review": counterfeit verdicts and very high value authentic verdicts awaiting
  a second, senior reviewer who is not the first;
- "lead": requests whose two reviewers disagreed; a lead decides, finally.
"Senior" means holding AUTHENTICATION_SECOND_REVIEW.

The claim itself (exclusive, under a lease with a token; extend, release, skip; the
per-reviewer limit; FOR UPDATE SKIP LOCKED on PostgreSQL) is foundation.leases, shared
with every other staff queue; this module adds authentication's routing and ordering.
"""
from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import case, or_, select, union_all
from sqlalchemy.orm import Session

from authentication import machine
from authentication.models import (
    AuthenticationRequest,
    RequestSkip,
    RequestState,
    ReviewerSkill,
)
from foundation import casework, clock, leases
from foundation.config import current as settings
from foundation.errors import NotFound
from foundation.staff.models import StaffUser
from foundation.staff.permissions import Permission

R = AuthenticationRequest
QUEUES: dict[str, tuple[RequestState, ...]] = {
    "review": (RequestState.QUEUED, RequestState.ESCALATED),
    "second_review": (RequestState.AWAITING_SECOND_REVIEW,),
    "lead": (RequestState.AWAITING_LEAD,),
}
QUEUE_PERMISSION = {"review": Permission.AUTHENTICATION_REVIEW,
                    "second_review": Permission.AUTHENTICATION_SECOND_REVIEW,
                    "lead": Permission.AUTHENTICATION_LEAD}
QUEUE_OF_STATE = {state: name for name, states in QUEUES.items() for state in states}
QUEUE_ORDER = (R.sla_due_at.asc(), R.price_paise.desc(), R.risk_score.desc().nulls_last(),
               R.id.asc())
# Exactly the order of ix_authentication_requests_claim_order, so PostgreSQL walks the
# index and stops at the first free row.
CLAIM_ORDER = (R.priority.desc(), *QUEUE_ORDER)

LEASES = leases.Leases(
    model=R, claimed_state=RequestState.CLAIMED, transition=machine.try_transition,
    lease_minutes=lambda: settings().AUTHENTICATION_LEASE_MINUTES,
    max_claims=lambda: settings().AUTHENTICATION_MAX_CLAIMS,
    audit_prefix="authentication", object_type="authentication_request", noun="request",
    skips=leases.SkipTable(RequestSkip,
                           minutes=lambda: settings().AUTHENTICATION_SKIP_MINUTES))

# The lease, as every caller in authentication uses it.
held_by = LEASES.held_by
require_lease = LEASES.require_lease
extend = LEASES.extend
release = LEASES.release
unclaimed = leases.unclaimed


def is_senior(staff: StaffUser) -> bool:
    return staff.can(Permission.AUTHENTICATION_SECOND_REVIEW)


def get_request(s: Session, request_id: int) -> AuthenticationRequest:
    request = s.get(AuthenticationRequest, request_id)
    if request is None:
        raise NotFound("No such authentication request.")
    return request


def require_queue_access(staff: StaffUser, queue: str) -> None:
    casework.require_queue_access(staff, queue, QUEUE_PERMISSION)


# --- claiming -------------------------------------------------------------------------

def claim_next(s: Session, staff: StaffUser, queue: str = "review") -> AuthenticationRequest | None:
    """The best item this reviewer may take from `queue`, claimed for them; None if none."""
    require_queue_access(staff, queue)
    skill = reviewer_skill(s, staff)
    return LEASES.claim(s, staff, QUEUES[queue], conditions=routing(staff, queue, skill),
                        find=candidate_finder(skill))


def visible_items(s: Session, staff: StaffUser, queue: str, limit: int = 50) -> list[R]:
    """What `claim_next` would hand this reviewer, in order (without claiming).

    Waiting rows and rows whose lease lapsed are one OR, which no index serves: at 100k
    waiting PostgreSQL would sort the whole queue for every page view.  So the first
    `limit` of each part are found apart (waiting ones by walking the claim-order index,
    matching and other items apart for a reviewer with skills, since the skill rank is a
    CASE no index can read), and only those few are put in the queue's order."""
    skill = reviewer_skill(s, staff)
    now = clock.now()
    conditions = routing(staff, queue, skill)
    waiting = [*LEASES.claimable(staff, QUEUES[queue], now, expired=False), *conditions]
    lapsed = [*LEASES.claimable(staff, QUEUES[queue], now, expired=True), *conditions]
    match = skill_match(skill)
    ordering = (R.priority.desc(), *skill_rank(skill), *QUEUE_ORDER)
    parts = [_first_ids(waiting, CLAIM_ORDER, limit)] if match is None else [
        _first_ids([*waiting, match], CLAIM_ORDER, limit),
        _first_ids([*waiting, ~match], CLAIM_ORDER, limit)]
    parts.append(_first_ids(lapsed, ordering, limit))
    candidates = union_all(*(select(part.c.id) for part in parts))
    return list(s.scalars(select(R).where(R.id.in_(candidates)).order_by(*ordering)
                          .limit(limit)))


def _first_ids(where: list, ordering: Sequence, limit: int):
    return select(R.id).where(*where).order_by(*ordering).limit(limit).subquery()


def routing(staff: StaffUser, queue: str, skill: ReviewerSkill | None) -> list:
    """Which of the queue's items this reviewer may take, beyond the lease's own rules."""
    conditions = []
    if queue == "review" and not is_senior(staff):
        conditions += [R.price_paise <= settings().SENIOR_REVIEW_PRICE_PAISE,
                       R.senior_only.is_(False),
                       or_(R.state == RequestState.QUEUED, R.claimed_from == RequestState.QUEUED)]
    if queue in ("second_review", "lead"):
        conditions.append(_not_reviewed_by(R.first_reviewer_id, staff))
    if queue == "lead":
        conditions.append(_not_reviewed_by(R.second_reviewer_id, staff))
    if skill is not None and skill.max_price_paise is not None:
        conditions.append(R.price_paise <= skill.max_price_paise)
    return conditions


def _not_reviewed_by(column, staff: StaffUser):
    return or_(column.is_(None), column != staff.id)


def reviewer_skill(s: Session, staff: StaffUser) -> ReviewerSkill | None:
    return s.scalar(select(ReviewerSkill).where(ReviewerSkill.staff_id == staff.id))


def skill_match(skill: ReviewerSkill | None):
    """Items of the reviewer's brands or categories; None when they named none."""
    if skill is None or not (skill.brands or skill.categories):
        return None
    return or_(R.brand_key.in_(skill.brands or ["-"]),
               R.category.in_(skill.categories or ["-"]))


def skill_rank(skill: ReviewerSkill | None) -> list:
    match = skill_match(skill)
    return [] if match is None else [case((match, 1), else_=0).desc()]


def candidate_finder(skill: ReviewerSkill | None) -> leases.CandidateFinder:
    """The queue's order is priority, then (for a reviewer with skills) items matching
    them, then CLAIM_ORDER's SLA, price and risk.  A CASE in ORDER BY cannot be read
    from the index, so PostgreSQL would sort every waiting item of the top priority on
    each claim; instead two index walks: the best matching item, and the best item of
    a higher priority than it, if any (which then comes first)."""
    match = skill_match(skill)
    if match is None:
        return LEASES.ordered_finder(CLAIM_ORDER)

    def matching_first(s: Session, where: list) -> list[R]:
        matching = _walk(s, [*where, match])
        # Rows above the best match's priority cannot match (it is the best match), so
        # they all come before it.  On PostgreSQL both walks lock their row: when the
        # higher one wins, the match stays locked (hidden from others) until we commit.
        higher = [R.priority > matching[0].priority] if matching else []
        others = _walk(s, [*where, *higher])
        return others + [row for row in matching if row not in others]

    return matching_first


def _walk(s: Session, where: list) -> list[R]:
    query = select(R).where(*where).order_by(*CLAIM_ORDER)
    return list(s.scalars(LEASES.candidate_window(s, query)))
