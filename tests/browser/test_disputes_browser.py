"""A support agent resolves a case in a real browser: sign in, claim the next case, look
at the buyer's photo, refund without a return, and the case is closed with the order's
money refunded."""
from __future__ import annotations

import os
from datetime import timedelta

import pytest

from foundation import clock
from tests.builders.cases import DELIVERED, delivered_order_with_photo, open_case, seller_responds
from tests.builders.orders import TOTAL, assert_books_sound, money
from tests.disputes.support import state_of

pytestmark = pytest.mark.browser


def _decoded(selector: str) -> str:
    """A script that is true once the first image under `selector` has real pixels."""
    return (f"() => {{ const img = document.querySelector('{selector}');"
            " return img !== null && img.complete && img.naturalWidth > 0; }")


def test_an_agent_claims_a_case_and_refunds_the_buyer(live_server, browser_page, staff):
    order = delivered_order_with_photo(title="Paithani silk, peacock pallu")
    clock.freeze(DELIVERED + timedelta(days=1))
    case_id = open_case(order, reason="undisclosed_damage",
                        description="A hole near the border that the photos did not show.")
    seller_responds(order, case_id, "It was in perfect condition when I packed it.")
    _, email, password = staff("support_agent")

    page = browser_page
    page.goto(f"{live_server}/console/disputes/")
    assert "/console/auth/sign-in" in page.url
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.goto(f"{live_server}/console/disputes/")
    assert "Paithani silk, peacock pallu" in page.locator(
        "[data-testid=queue-review]").inner_text()

    page.click("[data-testid=claim-review]")
    page.wait_for_selector("[data-testid=decision-form]")
    assert page.locator("[data-testid=buyer-evidence] figure img").count() == 1
    # The buyer's photo and the listing's are decoded by the browser, not broken images.
    page.wait_for_function(_decoded("[data-testid=buyer-evidence] figure img"), timeout=15_000)
    page.wait_for_function(_decoded("[data-testid=sold-photos] figure img"), timeout=15_000)
    assert "A hole near the border" in page.locator("[data-testid=buyer-evidence]").inner_text()
    assert "perfect condition" in page.locator("[data-testid=seller-evidence]").inner_text()

    page.check("input[name=outcome][value=refund_without_return]")
    page.select_option("select[name=reason]", "seller_unresponsive")
    page.select_option("select[name=reason]", "missing_item")
    page.fill("textarea[name=note]", "The damage is plain in the buyer's photo.")
    if os.environ.get("DISPUTES_SCREENSHOT"):
        page.screenshot(path=os.environ["DISPUTES_SCREENSHOT"], full_page=True)
    page.click("[data-testid=decide]")
    page.wait_for_selector("text=refund without return recorded")
    assert page.url.endswith("/console/disputes/")  # no other case: back at the queue
    page.goto(f"{live_server}/console/disputes/{case_id}")

    assert page.locator("[data-testid=case-state]").inner_text() == "closed refunded"
    assert page.locator("[data-testid=refunded]").inner_text() == "Rs 1,579.00"
    assert page.locator("[data-testid=held]").inner_text() == "Rs 0.00"
    assert page.locator("[data-testid=decision-form]").count() == 0
    assert state_of(case_id) == "closed_refunded"
    assert money(order.order_id)["refunded_paise"] == TOTAL
    assert_books_sound()
    violations = [e for e in page.csp_errors if "Content Security Policy" in e]
    assert violations == []
