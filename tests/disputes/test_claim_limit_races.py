"""The disputes queue's per-agent claim limit under real concurrency (the lease mechanism
authentication shares: tests/authentication/test_claim_limit_races.py has the 200-claim
run): every agent's attempts at once never leave anyone above the limit."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from disputes.models import CaseState, DisputeCase
from foundation import clock, db
from tests.builders.cases import DELIVERED, claim, delivered_orders, open_case, seller_responds
from tests.concurrency_limits import claims_all_at_once, claims_per_reviewer
from tests.disputes.support import settings_changed

AGENTS = 6
ATTEMPTS_EACH = 8
LIMIT = 2
CASES = AGENTS * LIMIT + 4


def claim_one(staff_id: int) -> int | None:
    claimed = claim(staff_id)
    return claimed[0] if claimed else None


def held_in_database() -> dict[int, int]:
    s = db.session()
    try:
        return dict(s.execute(select(DisputeCase.claimed_by, func.count())
                              .where(DisputeCase.state == CaseState.CLAIMED)
                              .group_by(DisputeCase.claimed_by)).all())
    finally:
        db.session.remove()


def test_agents_claiming_many_cases_at_once_never_pass_the_limit(app, staff):
    orders = delivered_orders(CASES)
    clock.freeze(DELIVERED + timedelta(days=1))
    for order in orders:
        seller_responds(order, open_case(order))
    agents = [staff("support_agent")[0] for _ in range(AGENTS)]

    with settings_changed(DISPUTE_MAX_CLAIMS=LIMIT):
        outcomes = claims_all_at_once(agents, ATTEMPTS_EACH, claim_one)

    per_agent = claims_per_reviewer(outcomes)
    assert per_agent == {agent: LIMIT for agent in agents}
    assert held_in_database() == per_agent
    assert {claimed for _, claimed in outcomes if not isinstance(claimed, int)} \
        == {"claim_limit"}
