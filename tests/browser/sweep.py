"""Visiting every console page a role may open, in one browser, collecting what the
Content Security Policy refused and any dialog a page opened."""
from __future__ import annotations

from console.route_permissions import ANY_STAFF, ROUTE_ACCESS
from foundation.staff.permissions import permissions_of
from tests.builders.world import World, url_for_rule

# Answers that are pictures or downloads, not pages.
NOT_PAGES = ("ajax_lookup", "export", "photo", "case_photo", "sold_photo")
WATCH_CSP = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', function (e) {
  window.__cspViolations.push(e.violatedDirective + ' ' + (e.blockedURI || 'inline')
                              + ' line ' + e.lineNumber);
});
"""


def console_pages_for(app, role: str, world: World) -> list[str]:
    """The path of every console page (GET) that `role` may open, filled from the world."""
    permissions = permissions_of(role)
    paths = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        access = ROUTE_ACCESS.get(rule.endpoint)
        if not rule.rule.startswith("/console/") or "GET" not in rule.methods \
                or rule.endpoint.endswith(".static") or rule.endpoint.startswith("auth.") \
                or rule.endpoint.rsplit(".", 1)[-1] in NOT_PAGES:
            continue
        if access == ANY_STAFF or access in permissions:
            paths.append(url_for_rule(rule, world))
    return paths


def sign_in(page, base: str, email: str, password: str) -> None:
    page.goto(f"{base}/console/auth/sign-in")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_selector("[data-testid=console-home]")


def sign_out(page) -> None:
    page.click("text=Sign out")
    page.wait_for_selector("text=You are signed out.")


def visit(page, url: str) -> list[str]:
    """Open `url`; what the CSP refused there."""
    page.goto(url)
    page.wait_for_load_state("load")
    return page.evaluate("window.__cspViolations || []")
