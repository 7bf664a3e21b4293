"""An authenticator works one item end to end in a real browser: sign in, claim the
next item, fill the checklist, decide authentic, and the listing is publicly live."""
from __future__ import annotations

import pytest

from authentication.models import CHECKLISTS
from tests.builders.cases import pending_listing
from tests.builders.members import register

pytestmark = pytest.mark.browser


def test_an_authenticator_claims_checks_and_approves_an_item(live_server, browser_page,
                                                             client, staff):
    listing = pending_listing(client, register(client), title="Banarasi silk, emerald")
    _, email, password = staff("authenticator")
    page = browser_page
    page.goto(f"{live_server}/console/authentication/")
    assert "/console/auth/sign-in" in page.url
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.goto(f"{live_server}/console/authentication/")
    assert "Banarasi silk, emerald" in page.locator("[data-testid=queue-review]").inner_text()

    page.click("[data-testid=claim-review]")
    page.wait_for_selector("[data-testid=decision-form]")
    assert page.locator("[data-testid=photos] figure img").count() == 1
    # The photo is decoded by the browser (not a broken image); wait for it to arrive.
    page.wait_for_function(
        "() => { const img = document.querySelector('[data-testid=photos] figure img');"
        " return img !== null && img.complete && img.naturalWidth > 0; }", timeout=15_000)
    for point in CHECKLISTS["sarees"]:
        page.check(f"input[name=check_{point}][value=pass]")
    page.check("input[name=verdict][value=authentic]")
    page.select_option("select[name=reason]", "all_points_consistent")
    page.fill("textarea[name=note]", "Zari and weave consistent with the references.")
    page.click("[data-testid=decide]")
    page.wait_for_selector("text=authentic recorded")

    public = page.request.get(f"{live_server}/api/v1/listings")
    assert public.ok
    assert listing["id"] in [item["id"] for item in public.json()["items"]]
    violations = [e for e in page.csp_errors if "Content Security Policy" in e]
    assert violations == []
