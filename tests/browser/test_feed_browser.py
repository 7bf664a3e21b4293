"""A fraud analyst opens a member's "Just Picked for You" page with and without trust,
sees why an item sank, then reads the exposure dashboard."""
from __future__ import annotations

import pytest

from foundation import db, jobs
from tests.builders.members import headers_for
from tests.trust.recommender.conftest import world  # noqa: F401 (fixture)
from trust.recommender import runs
from trust.recommender.models import MemberCandidates
from trust.signals.models import ItemRiskRecord

pytestmark = pytest.mark.browser


def _flag_the_members_best_item(member_id: int) -> int:
    with db.unit_of_work() as s:
        best = s.get(MemberCandidates, member_id).candidates[0]
        s.merge(ItemRiskRecord(listing_id=best[0], seller_id=best[1], excluded=False,
                               flagged=True, flag_confidence=0.9,
                               counterfeit_score=0.9, reasons=["counterfeit risk 0.90"]))
        return best[0]


def test_an_analyst_compares_a_feed_and_reads_the_exposure(live_server, browser_page, staff,
                                                           app, world):  # noqa: F811
    with db.unit_of_work() as s:
        runs.start_run(s, "precompute", "test")
    jobs.run_pending(["default"])
    member = world.member_ids[0]
    flagged = _flag_the_members_best_item(member)
    app.test_client().get("/api/v1/feed/just-picked", headers=headers_for(member))

    _, email, password = staff("fraud_analyst")
    page = browser_page
    page.goto(f"{live_server}/console/trust_feed/")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.goto(f"{live_server}/console/trust_feed/")
    page.fill("#member", str(member))
    page.click("[data-testid=member-form] button[type=submit]")
    page.wait_for_selector("[data-testid=with-trust]")
    without = page.locator("[data-testid=without-trust]")
    assert without.locator(f"[data-testid=item-{flagged}]").count() == 1
    assert "1" == without.locator(f"[data-testid=item-{flagged}] td").first.inner_text()
    with_trust = page.locator("[data-testid=with-trust]")
    first = with_trust.locator("tbody tr").first.get_attribute("data-testid")
    assert first != f"item-{flagged}"
    demoted = with_trust.locator(f"[data-testid=item-{flagged}]")
    if demoted.count():   # still on the page but lower, saying why
        assert "flagged" in demoted.inner_text()
        assert "counterfeit risk 0.90" in demoted.inner_text()

    page.goto(f"{live_server}/console/trust_exposure/")
    assert "12 impressions" in page.locator("[data-testid=exposure-summary]").inner_text()
    assert page.locator("[data-testid=flagged-chart] svg").count() == 1
    assert page.locator("[data-testid=tier-chart] svg").count() == 1
    assert "succeeded" in page.locator("[data-testid=runs]").inner_text()
    assert not [e for e in page.csp_errors if "Content Security Policy" in e]
