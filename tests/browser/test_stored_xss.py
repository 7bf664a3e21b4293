"""Stored XSS: a script payload in every member-controlled text field (listing titles and
descriptions, a comment, a member's display name, bio and city, a dispute's description and
the seller's answer), then every console page an admin may open, plus the detail pages of
the objects that carry it, in chromium: no dialog opens, no payload runs, the CSP has
nothing to refuse (an unescaped <script> would be refused and reported), and the payload
is shown as text."""
from __future__ import annotations

import pytest

from tests.browser.sweep import WATCH_CSP, console_pages_for, sign_in, visit
from tests.builders.world import seed_world

pytestmark = pytest.mark.browser

PAYLOAD = '<script>alert(1)</script><img src=x onerror="alert(2)">'


def test_script_payloads_in_member_text_never_run_in_the_console(app, live_server,
                                                                 browser_page, staff):
    world = seed_world(text=PAYLOAD)
    page = browser_page
    page.add_init_script(WATCH_CSP)
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    _, email, password = staff("admin")
    sign_in(page, live_server, email, password)
    shows_payload = [
        f"/console/listings/details/?id={world.listing_id}",
        f"/console/listings/details/?id={world.live_listing_id}",
        f"/console/members/details/?id={world.buyer_id}",
        f"/console/disputes/{world.case_id}",
        f"/console/authentication/{world.authentication_request_id}",
        "/console/listings/?search=Hermes",
    ]
    violations = {}
    for path in [*console_pages_for(app, "admin", world), *shows_payload]:
        problems = visit(page, live_server + path)
        if problems:
            violations[path] = problems
    assert dialogs == []
    assert violations == {}
    assert [e for e in page.csp_errors if "Content Security Policy" in e] == []
    for path in shows_payload[:4]:
        page.goto(live_server + path)
        assert "<script>alert(1)</script>" in page.inner_text("body"), path
