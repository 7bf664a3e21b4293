"""Staff sign-in to the console: passwords, lockout, sessions, CSRF, roles, headers."""
import re
from datetime import timedelta

import pyotp
from sqlalchemy import func, select

from foundation import clock, db
from foundation.audit.models import AuditEvent
from foundation.staff.models import StaffSession, StaffUser
from tests.builders.staff import STRONG_PASSWORD
from tests.helpers import csrf_token, page_token, sign_in


def count(model, *where):
    return db.session().scalar(select(func.count()).select_from(model).where(*where))


def test_staff_member_signs_in_and_sees_the_console_home(client, staff):
    _, email, _ = staff("authenticator")
    response = sign_in(client, email)
    assert response.status_code == 302
    assert response.headers["Location"] == "/console/"
    home = client.get("/console/")
    assert home.status_code == 200
    assert b'data-testid="console-home"' in home.data
    assert email.encode() in home.data
    assert count(AuditEvent, AuditEvent.action == "staff.sign_in") == 1


def test_anonymous_visitors_are_sent_to_sign_in(client):
    for path in ("/console/", "/console/audit/", "/console/staff/", "/console/jobs/"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert "/console/auth/sign-in" in response.headers["Location"]


def test_wrong_password_is_refused_counted_and_audited(client, staff):
    staff_id, email, _ = staff("support_agent")
    response = sign_in(client, email, "not-the-password")
    assert response.status_code == 401
    assert b"do not match" in response.data
    assert client.get("/console/").status_code == 302  # still signed out
    assert count(StaffSession) == 0
    assert db.session().get(StaffUser, staff_id).failed_logins == 1
    assert count(AuditEvent, AuditEvent.action == "staff.sign_in_failed") == 1


def test_unknown_email_gets_the_same_answer(client):
    response = sign_in(client, "nobody@staff.test", "whatever-password")
    assert response.status_code == 401
    assert b"do not match" in response.data


def test_repeated_failures_lock_the_account(client, staff, settings):
    staff_id, email, _ = staff("authenticator")
    for _ in range(settings.LOGIN_MAX_FAILURES):
        sign_in(client, email, "wrong-password-x")
    locked = sign_in(client, email)  # even the right password is refused now
    assert locked.status_code == 401
    assert b"locked" in locked.data
    assert count(StaffSession) == 0
    clock.freeze(clock.now() + timedelta(minutes=settings.LOGIN_LOCKOUT_MINUTES + 1))
    assert sign_in(client, email).status_code == 302


def test_sign_in_without_csrf_token_is_refused(client, staff):
    _, email, _ = staff("admin")
    client.get("/console/auth/sign-in")
    response = client.post("/console/auth/sign-in",
                           data={"email": email, "password": STRONG_PASSWORD})
    assert response.status_code == 400
    assert b"security token" in response.data
    assert count(StaffSession) == 0


def test_console_form_without_csrf_token_changes_nothing(client, staff):
    _, email, _ = staff("admin")
    sign_in(client, email)
    before = count(StaffUser)
    response = client.post("/console/staff/", data={
        "email": "new@staff.test", "role": "authenticator", "password": STRONG_PASSWORD})
    assert response.status_code == 400
    assert count(StaffUser) == before
    assert count(AuditEvent, AuditEvent.action == "staff.create") == before


def test_a_role_without_permission_is_refused_and_nothing_changes(client, staff):
    _, email, _ = staff("authenticator")
    sign_in(client, email)
    assert client.get("/console/staff/").status_code == 403
    assert client.get("/console/audit/").status_code == 403
    token = page_token(client, "/console/account/")  # a valid token does not grant a role
    before = count(StaffUser)
    response = client.post("/console/staff/", data={
        "email": "sneaky@staff.test", "role": "admin", "password": STRONG_PASSWORD,
        "csrf_token": token})
    assert response.status_code == 403
    assert count(StaffUser) == before
    home = client.get("/console/").get_data(as_text=True)
    assert "/console/staff/" not in home  # the menu hides what the role cannot open


def test_a_replayed_cookie_after_logout_is_refused(client, staff):
    _, email, _ = staff("admin")
    sign_in(client, email)
    stolen = client.get_cookie("console_session").value
    token = page_token(client, "/console/")
    assert client.post("/console/auth/sign-out", data={"csrf_token": token}).status_code == 302
    client.set_cookie("console_session", stolen)
    response = client.get("/console/")
    assert response.status_code == 302
    assert "/console/auth/sign-in" in response.headers["Location"]
    assert count(StaffSession, StaffSession.revoked_at.is_not(None)) == 1


def test_deactivation_ends_every_session_at_once(app, staff):
    admin_client, victim_client = app.test_client(), app.test_client()
    _, admin_email, _ = staff("admin")
    victim_id, victim_email, _ = staff("support_agent")
    sign_in(admin_client, admin_email)
    sign_in(victim_client, victim_email)
    assert victim_client.get("/console/").status_code == 200
    token = page_token(admin_client, "/console/staff/")
    response = admin_client.post(f"/console/staff/{victim_id}/deactivate",
                                 data={"csrf_token": token})
    assert response.status_code == 302
    assert victim_client.get("/console/").status_code == 302
    assert sign_in(app.test_client(), victim_email).status_code == 401
    event = db.session().scalar(select(AuditEvent).where(
        AuditEvent.action == "staff.deactivate"))
    assert event.before == {"is_active": True} and event.after == {"is_active": False}


def test_idle_sessions_expire(client, staff, settings):
    _, email, _ = staff("admin")
    sign_in(client, email)
    clock.freeze(clock.now() + timedelta(minutes=settings.STAFF_SESSION_IDLE_MINUTES + 1))
    assert client.get("/console/").status_code == 302


def test_next_parameter_cannot_redirect_off_site(client, staff):
    _, email, _ = staff("admin")
    page = client.get("/console/auth/sign-in?next=https://evil.example/")
    response = client.post("/console/auth/sign-in?next=https://evil.example/", data={
        "email": email, "password": STRONG_PASSWORD,
        "csrf_token": csrf_token(page.get_data(as_text=True))})
    assert response.headers["Location"] == "/console/"
    for target in ("//evil.example/x", "/\\evil.example", "javascript:alert(1)"):
        other = client.application.test_client()
        page = other.get("/console/auth/sign-in")
        response = other.post(f"/console/auth/sign-in?next={target}", data={
            "email": email, "password": STRONG_PASSWORD,
            "csrf_token": csrf_token(page.get_data(as_text=True))})
        assert response.headers["Location"] == "/console/", target


def test_next_parameter_returns_to_the_page_asked_for(client, staff):
    _, email, _ = staff("admin")
    page = client.get("/console/auth/sign-in?next=/console/audit/")
    response = client.post("/console/auth/sign-in?next=/console/audit/", data={
        "email": email, "password": STRONG_PASSWORD,
        "csrf_token": csrf_token(page.get_data(as_text=True))})
    assert response.headers["Location"] == "/console/audit/"


def test_every_response_carries_security_headers(client, staff):
    _, email, _ = staff("admin")
    sign_in(client, email)
    response = client.get("/console/")
    csp = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp
    assert "script-src 'self' 'nonce-" in csp and "unsafe-inline" not in csp.split(";")[1]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Cache-Control"] == "no-store"
    cookie = response.headers.get("Set-Cookie", "") or ""
    assert "javascript:" not in cookie
    nonce = csp.split("'nonce-")[1].split("'")[0]
    html = response.get_data(as_text=True)
    scripts = re.findall(r"<script[^>]*>", html)
    assert scripts and all(f'nonce="{nonce}"' in tag for tag in scripts)


def test_totp_enrollment_then_sign_in_needs_a_fresh_code(app, staff):
    client = app.test_client()
    staff_id, email, _ = staff("fraud_analyst")
    sign_in(client, email)
    client.post("/console/account/totp/start", data={"csrf_token": page_token(
        client, "/console/account/")})
    secret = db.session().get(StaffUser, staff_id).totp_secret
    db.session.remove()
    code = pyotp.TOTP(secret).now()
    client.post("/console/account/totp/confirm",
                data={"code": code, "csrf_token": page_token(client, "/console/account/")})
    assert db.session().get(StaffUser, staff_id).totp_enabled
    db.session.remove()

    fresh = app.test_client()
    response = sign_in(fresh, email)
    assert response.headers["Location"].endswith("/console/auth/totp")
    assert fresh.get("/console/").status_code == 302  # not signed in yet
    page = fresh.get("/console/auth/totp")
    replay = fresh.post("/console/auth/totp", data={
        "code": code, "csrf_token": csrf_token(page.get_data(as_text=True))})
    assert replay.status_code == 401  # the code used for enrolment cannot be replayed
    clock.freeze(clock.now() + timedelta(seconds=31))
    page = fresh.get("/console/auth/totp")
    ok = fresh.post("/console/auth/totp", data={
        "code": pyotp.TOTP(secret).at(clock.now()),
        "csrf_token": csrf_token(page.get_data(as_text=True))})
    assert ok.status_code == 302 and ok.headers["Location"] == "/console/"
    assert fresh.get("/console/").status_code == 200


def test_policy_requiring_totp_sends_unenrolled_staff_to_set_it_up(settings, staff):
    import dataclasses

    from console import create_app
    strict = create_app(dataclasses.replace(settings, STAFF_REQUIRE_TOTP=True))
    client = strict.test_client()
    _, email, _ = staff("admin")
    sign_in(client, email)
    response = client.get("/console/audit/")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/console/account/")
    assert client.get("/console/account/").status_code == 200
