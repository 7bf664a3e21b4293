"""Claims under real concurrency on PostgreSQL: exclusive, and every request decided once."""
from __future__ import annotations

import dataclasses
import threading

import pytest
from sqlalchemy import select

from authentication import claims, decisions
from authentication.models import AuthenticationRequest, ReviewDecision, Verdict
from foundation import config, db
from foundation.errors import DomainError
from foundation.staff.models import StaffUser
from tests.authentication.support import full_checklist
from tests.builders.cases import pending_listing
from tests.builders.members import register
from tests.concurrency import postgresql_only, results_in_threads

pytestmark = postgresql_only("claim races need PostgreSQL (SQLite serialises writers and "
                             "has no FOR UPDATE SKIP LOCKED)")
REVIEWERS = 20
ATTEMPTS_EACH = 10
REQUESTS = 50


@pytest.fixture
def roomy_claims(app):
    """Let each reviewer hold several claims, so that the attempts really compete."""
    before = config.current()
    config.install(dataclasses.replace(before, AUTHENTICATION_MAX_CLAIMS=REQUESTS))
    yield
    config.install(before)


def make_requests(client, count: int) -> list[int]:
    owner = register(client)
    for _ in range(count):
        pending_listing(client, owner)
    s = db.session()
    try:
        return sorted(s.scalars(select(AuthenticationRequest.id)))
    finally:
        db.session.remove()


def test_200_claim_attempts_by_20_reviewers_claim_each_request_once(client, staff,
                                                                    roomy_claims):
    all_ids = make_requests(client, REQUESTS)
    reviewer_ids = [staff("authenticator")[0] for _ in range(REVIEWERS)]
    start = threading.Barrier(REVIEWERS)

    def reviewer_work(staff_id: int) -> list[int]:
        start.wait()
        won = []
        for _ in range(ATTEMPTS_EACH):
            with db.unit_of_work() as s:
                claimed = claims.claim_next(s, s.get(StaffUser, staff_id))
                if claimed is not None:
                    won.append(claimed.id)
        return won

    results = results_in_threads([lambda i=i: reviewer_work(i) for i in reviewer_ids])
    claimed_ids = [request_id for won in results for request_id in won]
    assert sorted(claimed_ids) == all_ids  # exactly 50 claims, all distinct


def test_claim_then_decide_loops_decide_every_request_exactly_once(client, staff,
                                                                    roomy_claims):
    all_ids = make_requests(client, 30)
    reviewer_ids = [staff("authenticator")[0] for _ in range(8)]

    def decide_until_empty(staff_id: int) -> list[int]:
        decided = []
        while True:
            try:
                with db.unit_of_work() as s:
                    reviewer = s.get(StaffUser, staff_id)
                    request = claims.claim_next(s, reviewer)
                    if request is None:
                        return decided
                    decisions.decide(s, reviewer, request, request.lease_token,
                                     decisions.Decision(
                                         verdict=Verdict.AUTHENTIC, reason="all_points_consistent",
                                         checklist=full_checklist(request.category)))
                    decided.append(request.id)
            except DomainError as refused:
                raise AssertionError(f"unexpected refusal {refused.code}") from refused

    results = results_in_threads([lambda i=i: decide_until_empty(i) for i in reviewer_ids])
    assert sorted(i for done in results for i in done) == all_ids
    s = db.session()
    try:
        decided = sorted(s.scalars(select(ReviewDecision.request_id)))
        states = set(s.scalars(select(AuthenticationRequest.state)))
    finally:
        db.session.remove()
    assert decided == all_ids
    assert states == {"closed_authentic"}


def test_reviewers_with_skills_claim_each_request_once(client, staff, roomy_claims):
    """The skill finder's two walks may each lock a row; exclusivity still holds."""
    from authentication import skills

    owner = register(client)
    for i in range(REQUESTS):
        brand = "Titan" if i % 2 else "Kalinga Loom"
        extra = {"category": "watches", "size": "One size"} if i % 2 else {}
        pending_listing(client, owner, brand=brand, **extra)
    with db.unit_of_work() as s:
        all_ids = sorted(s.scalars(select(AuthenticationRequest.id)))
    lead_id = staff("senior_authenticator")[0]
    reviewer_ids = [staff("authenticator")[0] for _ in range(REVIEWERS)]
    with db.unit_of_work() as s:
        lead = s.get(StaffUser, lead_id)
        for i, staff_id in enumerate(reviewer_ids):
            skills.set_skills(s, lead, staff_id, brands=["titan"] if i % 2 else [],
                              categories=[] if i % 2 else ["sarees"], max_price_paise=None)
    start = threading.Barrier(REVIEWERS)

    def reviewer_work(staff_id: int) -> list[int]:
        start.wait()
        won = []
        for _ in range(ATTEMPTS_EACH):
            with db.unit_of_work() as s:
                claimed = claims.claim_next(s, s.get(StaffUser, staff_id))
                if claimed is not None:
                    won.append(claimed.id)
        return won

    results = results_in_threads([lambda i=i: reviewer_work(i) for i in reviewer_ids])
    assert sorted(request_id for won in results for request_id in won) == all_ids
