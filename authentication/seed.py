"""The demo's authentication backlog, worked through the real review services.

Runs after the marketplace seed (`flask seed`): a senior authenticator of the demo (when
there is one) works the queue the way the team did over the months behind -- each request
within its SLA (a few slipped and breached), today's partly; counterfeits called by the
first senior are confirmed by a second (four-eyes) when the demo has one.  Ground truth
comes from the seed's own table.

`review_history` then records the past the vision model learns from: over the month the
demo covers, the team pulled a share of cheaper live listings into review (the risk
pull-in's own path) and judged them, each a few hours after it was listed.  Counterfeits
get the four-eyes confirmation when the demo has a second senior (so the known-counterfeit
bank and the sellers' strikes fill up as in production).
"""
from __future__ import annotations

import random
from datetime import datetime, timedelta

from sqlalchemy import select

from authentication import claims, decisions
from authentication import sla as sla_module
from authentication.models import (
    AuthenticationRequest,
    RequestState,
    Verdict,
    checklist_for,
)
from foundation import clock, db
from foundation.config import current as settings
from foundation.staff.models import StaffUser
from marketplace_core.listings import services as listings
from marketplace_core.listings.models import Listing, ListingStatus
from marketplace_core.seed.models import DemoListingTruth

BREACH_SHARE = 0.015        # yesterday's requests that slipped past the SLA
TODAY_DONE_SHARE = 0.4      # today's requests already worked when the demo opens
MAX_PASSES = 200


def work_demo_backlog(seed: int, real_now: datetime) -> dict[str, int]:
    """Work the queue as the team did, day by day: each request past its SLA window was
    reviewed within it (a few slipped and breached); of today's, some are done and the
    rest wait, young.  Whatever is left is skipped by the demo's senior (the skip hides
    it from that reviewer only), so the demo's other reviewers find it waiting."""
    rng = random.Random(seed)
    outcome = {"authentic": 0, "counterfeit": 0, "skipped": 0, "breached": 0}
    with db.unit_of_work() as s:
        reviewers = list(s.scalars(select(StaffUser.id).where(
            StaffUser.role == "senior_authenticator", StaffUser.is_active.is_(True))
            .order_by(StaffUser.id).limit(2)))
        waiting = list(s.execute(select(AuthenticationRequest.id,
                                        AuthenticationRequest.created_at).where(
            AuthenticationRequest.state == RequestState.QUEUED)
            .order_by(AuthenticationRequest.created_at, AuthenticationRequest.id)))
    if not reviewers:
        return outcome
    sla = timedelta(hours=settings().AUTHENTICATION_SLA_HOURS)
    old = [row for row in waiting if real_now - row.created_at > sla]
    moment, skipped = None, set()
    for index, (request_id, created_at) in enumerate(waiting):
        if real_now - created_at > sla:
            leave = rng.random() < BREACH_SHARE or (
                index == len(old) - 1 and outcome["breached"] == 0)
            at = created_at + sla * rng.uniform(0.1, 0.8)
        else:
            leave = rng.random() >= TODAY_DONE_SHARE
            at = min(created_at + timedelta(hours=rng.uniform(0.5, 6)),
                     real_now - timedelta(minutes=10))
        moment = max(moment or at, at)
        clock.freeze(moment)
        with db.unit_of_work() as s:
            _work_one(s, rng, reviewers, request_id, leave, skipped, outcome)
            if leave and real_now - created_at > sla:
                outcome["breached"] += 1
    outcome["skipped"] = len(skipped)
    clock.freeze(real_now)
    with db.unit_of_work() as s:
        sla_module.flag_breaches(s)   # as the periodic sweep would have, long ago
    clock.freeze(None)
    return outcome


def _work_one(s, rng, reviewers: list[int], request_id: int, leave: bool,
              skipped: set[int], outcome: dict[str, int]) -> None:
    """Claim the request `request_id` names and decide it, or skip it to leave it
    waiting."""
    reviewer = s.get(StaffUser, reviewers[0])
    request = claim_request(s, reviewer, "review", request_id, skipped)
    if request is None:
        return
    if leave:
        claims.release(s, reviewer, request, request.lease_token, skip=True)
        skipped.add(request.id)
        return
    counterfeit = _truly_counterfeit(s, request.listing_id)
    decide_by_truth(s, reviewer, request, counterfeit)
    outcome["counterfeit" if counterfeit else "authentic"] += 1
    _confirm(s, reviewers, counterfeit)


def claim_request(s, reviewer, queue: str, request_id: int, skipped: set[int]):
    """Claim `request_id`, skipping again whatever comes first: what the reviewer skipped
    earlier comes back when the skip lapses, and the seed walks months of days."""
    for _ in range(MAX_PASSES):
        request = claims.claim_next(s, reviewer, queue)
        if request is None or request.id == request_id:
            return request
        claims.release(s, reviewer, request, request.lease_token, skip=True)
        skipped.add(request.id)
    return None


def _confirm(s, seniors: list[int], counterfeit: bool) -> bool:
    """A counterfeit call waits for a second senior (four eyes): the demo's second one
    confirms it at once."""
    if not counterfeit or len(seniors) < 2:
        return False
    second = s.get(StaffUser, seniors[1])
    confirming = claims.claim_next(s, second, "second_review")
    if confirming is None:
        return False
    decide_by_truth(s, second, confirming, _truly_counterfeit(s, confirming.listing_id))
    return True


HISTORY_REASON = "risk"
HISTORY_ACTOR = "system:spot_check"


def review_history(seed: int, real_now: datetime, share: float,
                   listed_before: datetime | None = None) -> dict[str, int]:
    """Pull `share` of the live listings at or under the threshold (listed before
    `listed_before`, default: all) into review, each a few hours after it was listed, and
    have the demo's seniors judge them.  Runs after `work_demo_backlog`, whose skipped
    items stay hidden from the same reviewer, so only these items are claimed here."""
    rng = random.Random(seed + 11)
    outcome = {"authentic": 0, "counterfeit": 0, "confirmed": 0}
    with db.unit_of_work() as s:
        seniors = list(s.scalars(select(StaffUser.id).where(
            StaffUser.role == "senior_authenticator", StaffUser.is_active.is_(True))
            .order_by(StaffUser.id).limit(2)))
        candidates = _history_candidates(s, listed_before or real_now)
    if not seniors:
        return outcome
    latest = real_now - timedelta(hours=3)
    for listing_id, listed_at in candidates:
        if rng.random() >= share:
            continue
        clock.freeze(min(latest, listed_at + timedelta(hours=rng.uniform(1, 48))))
        with db.unit_of_work() as s:
            if not _judge_one(s, listing_id, seniors, outcome):
                break
    clock.freeze(None)
    return outcome


def _history_candidates(s, listed_before: datetime) -> list[tuple[int, datetime]]:
    return [(row.id, row.created_at) for row in s.execute(
        select(Listing.id, Listing.created_at).where(
            Listing.status == ListingStatus.LIVE, Listing.authenticated_at.is_(None),
            Listing.price_paise <= settings().AUTHENTICATION_THRESHOLD_PAISE,
            Listing.created_at < listed_before).order_by(Listing.created_at, Listing.id))]


def _judge_one(s, listing_id: int, seniors: list[int], outcome: dict[str, int]) -> bool:
    listing = s.get(Listing, listing_id)
    if not listings.hold_for_review(s, listing, HISTORY_REASON, HISTORY_ACTOR):
        return True
    first = s.get(StaffUser, seniors[0])
    pulled = s.scalar(select(AuthenticationRequest.id).where(
        AuthenticationRequest.listing_id == listing_id,
        AuthenticationRequest.state == RequestState.QUEUED))
    request = claim_request(s, first, "review", pulled, set())
    if request is None:
        return False
    counterfeit = _truly_counterfeit(s, request.listing_id)
    decide_by_truth(s, first, request, counterfeit)
    outcome["counterfeit" if counterfeit else "authentic"] += 1
    outcome["confirmed"] += _confirm(s, seniors, counterfeit)
    return True


def _truly_counterfeit(s, listing_id: int) -> bool:
    truth = s.get(DemoListingTruth, listing_id)
    return truth is not None and truth.counterfeit


def decide_by_truth(s, reviewer, request, counterfeit: bool) -> None:
    listing = s.get(Listing, request.listing_id)
    points = checklist_for(listing.category)
    checklist = {point: "pass" for point in points}
    if counterfeit:
        checklist[points[0]] = "fail"
    decisions.decide(s, reviewer, request, request.lease_token, decisions.Decision(
        verdict=Verdict.COUNTERFEIT if counterfeit else Verdict.AUTHENTIC,
        reason="logo_mismatch" if counterfeit else "all_points_consistent",
        note="Demo history.", checklist=checklist))
