"""The review queues and exclusive claims under a lease.

Three queues, each a set of states a reviewer may claim from:
- "review": queued items (any authenticator; items above SENIOR_REVIEW_PRICE_PAISE or
  marked senior-only go to seniors only) and escalated items (seniors only);
- "second_review": counterfeit verdicts and very high value authentic verdicts awaiting
  a second, senior reviewer who is not the first;
- "lead": requests whose two reviewers disagreed; a lead decides, finally.
"Senior" means holding AUTHENTICATION_SECOND_REVIEW.

Exclusivity is the conditional UPDATE in `machine.try_transition`: a claim matches only
while the row is still in the state (and version) it was read in, or claimed under a
lease that has expired.  On PostgreSQL the candidates are read FOR UPDATE SKIP LOCKED so
that concurrent reviewers fan out over different rows instead of all racing for the
first; SQLite serialises writers, and a lost race just moves on to the next candidate.
"""
from __future__ import annotations

import hmac
import secrets
from datetime import datetime, timedelta

from sqlalchemy import and_, case, exists, func, or_, select
from sqlalchemy.orm import Session

from authentication import machine
from authentication.models import (
    AuthenticationRequest,
    RequestSkip,
    ReviewerSkill,
)
from authentication.models import RequestState as S
from foundation import clock
from foundation.audit.services import record
from foundation.config import current as settings
from foundation.errors import Conflict, NotFound, PermissionDenied
from foundation.staff.models import StaffUser
from foundation.staff.permissions import Permission

R = AuthenticationRequest
QUEUES: dict[str, tuple[S, ...]] = {
    "review": (S.QUEUED, S.ESCALATED),
    "second_review": (S.AWAITING_SECOND_REVIEW,),
    "lead": (S.AWAITING_LEAD,),
}
QUEUE_PERMISSION = {"review": Permission.AUTHENTICATION_REVIEW,
                    "second_review": Permission.AUTHENTICATION_SECOND_REVIEW,
                    "lead": Permission.AUTHENTICATION_LEAD}
QUEUE_OF_STATE = {state: name for name, states in QUEUES.items() for state in states}
QUEUE_ORDER = (R.sla_due_at.asc(), R.price_paise.desc(), R.risk_score.desc().nulls_last(),
               R.id.asc())
CANDIDATES_PER_ROUND = 10
ROUNDS = 5


def is_senior(staff: StaffUser) -> bool:
    return staff.can(Permission.AUTHENTICATION_SECOND_REVIEW)


def get_request(s: Session, request_id: int) -> AuthenticationRequest:
    request = s.get(AuthenticationRequest, request_id)
    if request is None:
        raise NotFound("No such authentication request.")
    return request


def require_queue_access(staff: StaffUser, queue: str) -> None:
    if queue not in QUEUES:
        raise NotFound(f"No such queue; queues are {', '.join(QUEUES)}.")
    if not staff.can(QUEUE_PERMISSION[queue]):
        raise PermissionDenied(f"Your role cannot work the {queue} queue.", code="wrong_role")


# --- claiming -------------------------------------------------------------------------

def claim_next(s: Session, staff: StaffUser, queue: str = "review") -> AuthenticationRequest | None:
    """The best item this reviewer may take from `queue`, claimed for them; None if none."""
    require_queue_access(staff, queue)
    _require_claim_room(s, staff)
    # Waiting items first (an index walk in queue order), then leases that expired: one
    # query with an OR of the two would make PostgreSQL sort the whole queue every claim.
    for expired_leases in (False, True):
        for _ in range(ROUNDS):
            now = clock.now()
            candidates = list(s.scalars(_candidates(s, staff, queue, now, expired_leases)))
            if not candidates:
                break
            for candidate in candidates:
                if _try_claim(s, staff, candidate, now):
                    return candidate
    return None


def visible_items(s: Session, staff: StaffUser, queue: str, limit: int = 50) -> list[R]:
    """What `claim_next` would hand this reviewer, in order (without claiming)."""
    query = select(R).where(*_claimable(s, staff, queue, clock.now(), expired_leases=None)) \
        .order_by(*_ordering(s, staff)).limit(limit)
    return list(s.scalars(query))


def held_by(s: Session, staff: StaffUser) -> list[R]:
    return list(s.scalars(select(R).where(
        R.state == S.CLAIMED, R.claimed_by == staff.id, R.lease_expires_at > clock.now())
        .order_by(R.lease_expires_at)))


def _require_claim_room(s: Session, staff: StaffUser) -> None:
    limit = settings().AUTHENTICATION_MAX_CLAIMS
    held = s.scalar(select(func.count()).where(
        R.state == S.CLAIMED, R.claimed_by == staff.id, R.lease_expires_at > clock.now()))
    if held >= limit:
        raise Conflict(f"You already hold {held} request(s); decide or release first "
                       f"(at most {limit}).", code="claim_limit")


def _candidates(s: Session, staff: StaffUser, queue: str, now: datetime,
                expired_leases: bool):
    query = select(R).where(*_claimable(s, staff, queue, now, expired_leases)) \
        .order_by(*_ordering(s, staff))
    if s.get_bind().dialect.name == "postgresql":
        # Lock only the row we mean to take: every other locked row would be hidden from
        # concurrent reviewers until we commit, though we never claim it.
        return query.limit(1).with_for_update(skip_locked=True, of=R)
    return query.limit(CANDIDATES_PER_ROUND)


def _claimable(s: Session, staff: StaffUser, queue: str, now: datetime,
               expired_leases: bool | None) -> list:
    """What this reviewer may take: waiting items (False), items whose lease expired
    (True), or both (None, for showing the queue)."""
    states = QUEUES[queue]
    waiting = R.state.in_(states)
    lapsed = and_(R.state == S.CLAIMED, R.claimed_from.in_(states), R.lease_expires_at <= now)
    conditions = [{False: waiting, True: lapsed, None: or_(waiting, lapsed)}[expired_leases]]
    if queue == "review" and not is_senior(staff):
        conditions += [R.price_paise <= settings().SENIOR_REVIEW_PRICE_PAISE,
                       R.senior_only.is_(False),
                       or_(R.state == S.QUEUED, R.claimed_from == S.QUEUED)]
    if queue in ("second_review", "lead"):
        conditions.append(_not_reviewed_by(R.first_reviewer_id, staff))
    if queue == "lead":
        conditions.append(_not_reviewed_by(R.second_reviewer_id, staff))
    conditions.append(~exists().where(RequestSkip.request_id == R.id,
                                      RequestSkip.staff_id == staff.id,
                                      RequestSkip.until > now))
    skill = _skill(s, staff)
    if skill is not None and skill.max_price_paise is not None:
        conditions.append(R.price_paise <= skill.max_price_paise)
    return conditions


def _not_reviewed_by(column, staff: StaffUser):
    return or_(column.is_(None), column != staff.id)


def _ordering(s: Session, staff: StaffUser) -> list:
    skill = _skill(s, staff)
    if skill is None or not (skill.brands or skill.categories):
        # Exactly the order of ix_authentication_requests_claim_order, so PostgreSQL
        # walks the index and stops at the first free row.
        return [R.priority.desc(), *QUEUE_ORDER]
    match = case((or_(R.brand_key.in_(skill.brands or ["-"]),
                      R.category.in_(skill.categories or ["-"])), 1), else_=0)
    return [R.priority.desc(), match.desc(), *QUEUE_ORDER]


def _skill(s: Session, staff: StaffUser) -> ReviewerSkill | None:
    return s.scalar(select(ReviewerSkill).where(ReviewerSkill.staff_id == staff.id))


def _try_claim(s: Session, staff: StaffUser, candidate: R, now: datetime) -> bool:
    taking_over = candidate.state == S.CLAIMED
    origin = candidate.claimed_from if taking_over else candidate.state
    conditions = (R.lease_expires_at <= now,) if taking_over else ()
    before = {"state": candidate.state, "claimed_by": candidate.claimed_by}
    won = machine.try_transition(
        s, candidate, S.CLAIMED, actor=f"staff:{staff.id}",
        reason="claimed_after_lease_expired" if taking_over else "claimed",
        conditions=conditions,
        values={"claimed_by": staff.id, "claimed_from": origin, "claimed_at": now,
                "lease_token": secrets.token_urlsafe(24),
                "lease_expires_at": now + _lease()})
    if won:
        record(s, staff, "authentication.claim", "authentication_request", candidate.id,
               before=before, after={"state": candidate.state, "claimed_from": origin,
                                     "lease_expires_at": candidate.lease_expires_at})
    return won


def _lease() -> timedelta:
    return timedelta(minutes=settings().AUTHENTICATION_LEASE_MINUTES)


# --- the lease ------------------------------------------------------------------------

def require_lease(request: R, staff: StaffUser, token: str | None) -> None:
    """The caller holds the request under a live lease with this token, or 409 stale_lease."""
    holds = (request.state == S.CLAIMED and request.claimed_by == staff.id
             and request.lease_token is not None and token is not None
             and hmac.compare_digest(request.lease_token, token)
             and request.lease_expires_at > clock.now())
    if not holds:
        raise Conflict("Your claim on this request has expired or is not yours; claim "
                       "again.", code="stale_lease")


def lease_conditions(token: str) -> tuple:
    return (R.lease_token == token, R.lease_expires_at > clock.now())


def extend(s: Session, staff: StaffUser, request: R, token: str) -> R:
    require_lease(request, staff, token)
    before = {"lease_expires_at": request.lease_expires_at}
    if not machine.try_transition(s, request, S.CLAIMED, actor=f"staff:{staff.id}",
                                  reason="lease_extended", conditions=lease_conditions(token),
                                  values={"lease_expires_at": clock.now() + _lease()}):
        raise Conflict("Your claim changed meanwhile; claim again.", code="stale_lease")
    record(s, staff, "authentication.extend", "authentication_request", request.id,
           before=before, after={"lease_expires_at": request.lease_expires_at})
    return request


def release(s: Session, staff: StaffUser, request: R, token: str, *,
            skip: bool = False) -> R:
    """Give the request back to its queue; a skip also keeps it away from this reviewer."""
    require_lease(request, staff, token)
    back_to = S(request.claimed_from)
    if not machine.try_transition(s, request, back_to, actor=f"staff:{staff.id}",
                                  reason="skipped" if skip else "released",
                                  conditions=lease_conditions(token), values=unclaimed()):
        raise Conflict("Your claim changed meanwhile; claim again.", code="stale_lease")
    if skip:
        s.add(RequestSkip(request_id=request.id, staff_id=staff.id,
                          until=clock.now() + timedelta(
                              minutes=settings().AUTHENTICATION_SKIP_MINUTES)))
        s.flush()
    record(s, staff, "authentication.skip" if skip else "authentication.release",
           "authentication_request", request.id, before={"state": S.CLAIMED},
           after={"state": request.state})
    return request


def unclaimed() -> dict:
    return {"claimed_by": None, "claimed_from": None, "claimed_at": None,
            "lease_token": None, "lease_expires_at": None}
