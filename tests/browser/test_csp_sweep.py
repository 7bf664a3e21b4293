"""Every console page, for every staff role that may open it, in chromium: the Content
Security Policy refuses nothing (no inline handler, no javascript: link, no stray script or
style). The pages are discovered from `app.url_map` and the declared route table, so a new
page is swept as soon as it exists. Flask-Admin's filter menu keeps working without its
inline handlers."""
from __future__ import annotations

import pytest

from foundation.staff.permissions import Role
from tests.browser.sweep import WATCH_CSP, console_pages_for, sign_in, sign_out, visit
from tests.builders.world import seed_world

pytestmark = pytest.mark.browser


def test_no_console_page_breaks_its_content_security_policy(app, live_server, browser_page,
                                                             staff):
    world = seed_world()
    page = browser_page
    page.add_init_script(WATCH_CSP)
    violations = {}
    for problem in visit(page, f"{live_server}/console/auth/sign-in"):
        violations.setdefault("/console/auth/sign-in", []).append(problem)
    visited = 0
    for role in Role:
        _, email, password = staff(role.value)
        sign_in(page, live_server, email, password)
        for path in console_pages_for(app, role.value, world):
            problems = visit(page, live_server + path)
            visited += 1
            if problems:
                violations.setdefault(f"{role.value} {path}", []).extend(problems)
        sign_out(page)
    console_errors = [e for e in page.csp_errors if "Content Security Policy" in e]
    assert visited > 100
    assert violations == {}
    assert console_errors == []


def test_flask_admin_filters_work_without_inline_handlers(app, live_server, browser_page,
                                                         staff):
    world = seed_world()
    page = browser_page
    page.add_init_script(WATCH_CSP)
    _, email, password = staff("admin")
    sign_in(page, live_server, email, password)
    page.goto(f"{live_server}/console/listings/")
    assert page.locator("a.filter[onclick], a[href^='javascript:']").count() == 0
    assert page.locator("table.model-list tbody tr").count() == 3
    page.click("text=Add Filter")
    page.click("a.filter >> text=Brand Key")
    page.locator("input.filter-val").first.fill("hermes")
    page.click("button:has-text('Apply')")
    page.wait_for_url("**flt*")
    rows = page.locator("table.model-list tbody tr")
    assert rows.count() == 1
    assert "Birkin" in rows.first.inner_text()
    assert page.evaluate("window.__cspViolations") == []
    assert world.listing_id
    assert [e for e in page.csp_errors if "Content Security Policy" in e] == []
