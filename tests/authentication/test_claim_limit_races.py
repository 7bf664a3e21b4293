"""The per-reviewer claim limit under real concurrency: 200 claims by 20 reviewers at
once, with a limit of 3, never leave a reviewer holding 4 (foundation.leases counts and
claims under a lock on the reviewer's row).  Runs on SQLite too: there the no-op UPDATE
takes the write lock before counting."""
from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy import func, select

from authentication import claims
from authentication.models import AuthenticationRequest, RequestState
from foundation import config, db
from foundation.staff.models import StaffUser
from tests.builders.cases import pending_listing
from tests.builders.members import register
from tests.concurrency_limits import claims_all_at_once, claims_per_reviewer

REVIEWERS = 20
ATTEMPTS_EACH = 10
LIMIT = 3
REQUESTS = REVIEWERS * LIMIT + 10   # more than the limits let anyone hold


@pytest.fixture
def limit_of_three(app):
    before = config.current()
    config.install(dataclasses.replace(before, AUTHENTICATION_MAX_CLAIMS=LIMIT))
    yield
    config.install(before)


def claim_one(staff_id: int) -> int | None:
    with db.unit_of_work() as s:
        claimed = claims.claim_next(s, s.get(StaffUser, staff_id))
        return claimed.id if claimed is not None else None


def held_in_database() -> dict[int, int]:
    s = db.session()
    try:
        return dict(s.execute(select(AuthenticationRequest.claimed_by, func.count())
                              .where(AuthenticationRequest.state == RequestState.CLAIMED)
                              .group_by(AuthenticationRequest.claimed_by)).all())
    finally:
        db.session.remove()


def test_200_claims_by_20_reviewers_at_once_never_pass_the_limit_of_3(client, staff,
                                                                      limit_of_three):
    owner = register(client)
    for _ in range(REQUESTS):
        pending_listing(client, owner)
    reviewer_ids = [staff("authenticator")[0] for _ in range(REVIEWERS)]

    outcomes = claims_all_at_once(reviewer_ids, ATTEMPTS_EACH, claim_one)

    per_reviewer = claims_per_reviewer(outcomes)
    assert per_reviewer == {reviewer: LIMIT for reviewer in reviewer_ids}
    assert held_in_database() == per_reviewer
    refused = [claimed for _, claimed in outcomes if not isinstance(claimed, int)]
    assert set(refused) == {"claim_limit"}
    assert len(refused) == REVIEWERS * (ATTEMPTS_EACH - LIMIT)
