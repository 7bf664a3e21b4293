"""Every route of the app, discovered from `app.url_map`, for anonymous visitors, a member's
token and each staff role, against the declared table in `console/route_permissions.py`.

Every answer is also checked for the headers every response must carry (CSP, nosniff,
X-Frame-Options, Referrer-Policy, and Cache-Control: no-store on all but the static files).

Reads (GET) are sent by everyone. A state-changing method is sent only by those the table
refuses (with a valid CSRF token, so that the permission check itself is what refuses it),
since for those it admits it would change the world the other routes are checked against;
the CSRF sweep (tests/test_csrf_sweep.py) posts to every one of them.

The answers: a route a principal may use answers anything but 401, 403, a redirect to the
sign-in page or a 5xx (404 included: the world's ids do not fit every route); one it may not
use answers 403 to staff lacking the permission, and 401 (APIs) or the sign-in redirect
(console) to everyone else. Never a 500.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from console.route_permissions import ANY_STAFF, MEMBER, PUBLIC, ROUTE_ACCESS, Access
from console.security import PUBLIC_STATIC_ENDPOINTS
from foundation.staff.permissions import Permission, Role, permissions_of
from tests.builders.members import headers_for
from tests.builders.staff import bearer_headers
from tests.builders.world import seed_world, url_for_rule
from tests.helpers import page_token, sign_in

STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}
ALLOWED, FORBIDDEN, SIGN_IN = "allowed", "403", "sign-in"
ANSWERED = "any answer but a 5xx"  # public routes: a sign-in page may redirect anyone
REQUIRED_CSP = ("default-src 'self'", "script-src 'self' 'nonce-", "object-src 'none'",
                "frame-ancestors 'none'", "base-uri 'self'", "form-action 'self'")
REQUIRED_HEADERS = {"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY",
                    "Referrer-Policy": "same-origin"}
PRINCIPALS = ["anonymous", "member", *[role.value for role in Role]]


def discovered_routes(app):
    """(endpoint, rule, method) for every method of every rule."""
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule.endpoint, rule, method


def test_every_route_has_a_declared_access(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert sorted(endpoints - ROUTE_ACCESS.keys()) == [], \
        "routes with no entry in console/route_permissions.py"
    assert sorted(ROUTE_ACCESS.keys() - endpoints) == [], \
        "entries in console/route_permissions.py for routes that do not exist"


@dataclass
class Principal:
    name: str
    permissions: frozenset[Permission] = frozenset()
    is_staff: bool = False
    is_member: bool = False
    api_headers: dict[str, str] = field(default_factory=dict)
    csrf: str = ""


def expected(principal: Principal, access: Access, path: str) -> str:
    if access == PUBLIC:
        return ANSWERED
    on_console = not path.startswith("/api/")
    if access == MEMBER:
        return ALLOWED if principal.is_member else "401"
    if not principal.is_staff:
        return SIGN_IN if on_console else "401"
    if access == ANY_STAFF or access in principal.permissions:
        return ALLOWED
    return FORBIDDEN


def observed(response) -> str:
    location = response.headers.get("Location", "")
    if response.status_code in (301, 302, 303) and "/console/auth/sign-in" in location:
        return SIGN_IN
    if response.status_code in (401, 403):
        return str(response.status_code)
    return ALLOWED


def header_problems(endpoint: str, response) -> list[str]:
    """What this answer lacks of the headers every answer carries, HTML and JSON alike."""
    headers = response.headers
    csp = headers.get("Content-Security-Policy", "")
    problems = [f"CSP lacks {directive}" for directive in REQUIRED_CSP if directive not in csp]
    for name, value in REQUIRED_HEADERS.items():
        if headers.get(name) != value:
            problems.append(f"{name} is {headers.get(name)!r}, not {value!r}")
    if endpoint not in PUBLIC_STATIC_ENDPOINTS and "no-store" not in headers.get(
            "Cache-Control", ""):
        problems.append(f"Cache-Control is {headers.get('Cache-Control')!r}")
    return problems


def make_principal(app, staff, name: str):
    client = app.test_client()
    if name == "anonymous":
        principal = Principal(name)
    elif name == "member":
        principal = Principal(name, is_member=True)
    else:
        _, email, password = staff(name)
        assert sign_in(client, email, password).status_code == 302
        principal = Principal(name, permissions=permissions_of(name), is_staff=True,
                              api_headers=bearer_headers(client, email, password))
    principal.csrf = page_token(client, "/console/account/" if principal.is_staff
                                else "/console/auth/sign-in")
    return client, principal


@pytest.mark.parametrize("name", PRINCIPALS)
def test_role_route_matrix(app, staff, name):
    world = seed_world()
    member_headers = headers_for(1) if name == "member" else {}
    client, principal = make_principal(app, staff, name)
    mismatches = []
    for endpoint, rule, method in discovered_routes(app):
        path = url_for_rule(rule, world)
        access = ROUTE_ACCESS[endpoint]
        want = expected(principal, access, path)
        if method in STATE_CHANGING and want in (ALLOWED, ANSWERED):
            continue
        headers = dict(member_headers)
        if path.startswith("/api/v1/staff/"):
            headers.update(principal.api_headers)
        data = {"csrf_token": principal.csrf} if method in STATE_CHANGING else None
        response = client.open(path, method=method, headers=headers, data=data)
        got = ANSWERED if access == PUBLIC else observed(response)
        if response.status_code >= 500 or got != want:
            mismatches.append(f"{method} {path} ({endpoint}): expected {want}, "
                              f"got {response.status_code} {got}")
        mismatches.extend(f"{method} {path} ({endpoint}): header {problem}"
                          for problem in header_problems(endpoint, response))
    assert mismatches == [], "\n".join(mismatches)
