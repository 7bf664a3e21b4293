"""A fraud analyst, in a real browser, changes a trust weight and sees the new version,
then opens a seller's trust page with its score chart; the worker's re-score moves it."""
from __future__ import annotations

import os

import pytest

from foundation import jobs
from tests.builders.listings import listing_through_services
from tests.builders.members import make_member

pytestmark = pytest.mark.browser


def test_an_analyst_changes_a_weight_and_reads_a_sellers_trust(live_server, browser_page,
                                                                staff):
    _, email, password = staff("fraud_analyst")
    seller = make_member("nandini")
    listing_through_services(seller, {
        "title": "Paithani saree", "brand": "Yeola", "category": "sarees",
        "size": "Free size", "condition": "like_new", "price_paise": 600_000})
    jobs.run_pending(["default"])                      # the worker scores the new seller
    page = browser_page
    page.goto(f"{live_server}/console/trust_weights/")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.goto(f"{live_server}/console/trust_weights/")
    assert page.locator("[data-testid=version]").inner_text() == "version 0"

    page.fill("#w-neutral_score", "0.65")
    page.fill("#note", "a softer prior for new closets")
    page.click("[data-testid=weights-form] button[type=submit]")
    page.wait_for_selector("text=Trust weights version 1 is in force")
    assert page.locator("[data-testid=version]").inner_text() == "version 1"
    row = page.locator("[data-testid=version-1]").inner_text()
    assert "neutral_score: 0.7 → 0.65" in row and email in row
    jobs.run_pending(["default"])                      # the re-score the change queued

    page.goto(f"{live_server}/console/trust/")
    page.click("a:text-is('@nandini')")
    page.wait_for_selector("[data-testid=score-chart] svg")
    assert page.locator("[data-testid=score]").inner_text() == "0.650"
    assert page.locator("[data-testid=tier]").inner_text() == "new"
    assert "weights v1" in page.locator("[data-testid=history]").inner_text()
    if os.environ.get("TRUST_SCREENSHOT"):
        page.screenshot(path=os.environ["TRUST_SCREENSHOT"], full_page=True)
    violations = [e for e in page.csp_errors if "Content Security Policy" in e]
    assert violations == []
