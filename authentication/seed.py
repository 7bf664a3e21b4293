"""The demo's authentication backlog, worked through the real review services.

Runs after the marketplace seed (`flask seed`): a senior authenticator of the demo (when
there is one) works the queue the way a person would -- genuine items: about half
authenticated with a full checklist; counterfeits: about half called counterfeit (they
then wait for a second senior, as four-eyes demands); the rest skipped, so the queue
keeps work for the demo's reviewers.  Ground truth comes from the seed's own table.
"""
from __future__ import annotations

import random
from datetime import datetime, timedelta

from sqlalchemy import select

from authentication import claims, decisions
from authentication.models import Verdict, checklist_for
from foundation import clock, db
from foundation.staff.models import StaffUser
from marketplace_core.listings.models import Listing
from marketplace_core.seed.models import DemoListingTruth


def work_demo_backlog(seed: int, real_now: datetime) -> dict[str, int]:
    rng = random.Random(seed)
    outcome = {"authentic": 0, "counterfeit": 0, "skipped": 0}
    with db.unit_of_work() as s:
        reviewer = s.scalar(select(StaffUser).where(
            StaffUser.role == "senior_authenticator", StaffUser.is_active.is_(True)))
        reviewer_id = reviewer.id if reviewer else None
    if reviewer_id is None:
        return outcome
    # One moment for the whole session: a skip then keeps that item away from the reviewer,
    # so the loop ends with the skipped half still waiting in the queue.
    clock.freeze(real_now - timedelta(hours=2))
    while True:
        with db.unit_of_work() as s:
            reviewer = s.get(StaffUser, reviewer_id)
            request = claims.claim_next(s, reviewer, "review")
            if request is None:
                break
            _review(s, rng, reviewer, request, outcome)
    clock.freeze(None)
    return outcome


def _review(s, rng, reviewer, request, outcome) -> None:
    listing = s.get(Listing, request.listing_id)
    truth = s.get(DemoListingTruth, request.listing_id)
    counterfeit = truth is not None and truth.counterfeit
    if rng.random() < 0.5:
        claims.release(s, reviewer, request, request.lease_token, skip=True)
        outcome["skipped"] += 1
        return
    points = checklist_for(listing.category)
    verdict = Verdict.COUNTERFEIT if counterfeit else Verdict.AUTHENTIC
    checklist = {point: "pass" for point in points}
    if counterfeit:
        checklist[points[0]] = "fail"
    decisions.decide(s, reviewer, request, request.lease_token, decisions.Decision(
        verdict=verdict, reason="logo_mismatch" if counterfeit else "all_points_consistent",
        note="Demo review.", checklist=checklist))
    outcome[verdict.value] += 1
