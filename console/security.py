"""Who is signed in, what they may do, and the protections every response carries.

- Staff identity comes from a server-side session row (web) or a bearer token
  (API); logging out or deactivation revokes the row, so copied cookies die.
- CSRF protection covers every form, Flask-Admin's included; the JSON APIs take
  bearer tokens only (never cookies) and are exempt.
- Security headers: a nonce-based CSP without inline script, frame-ancestors
  'none', HSTS in production, nosniff, a strict referrer policy.
"""
from __future__ import annotations

import secrets
from urllib.parse import urlsplit

from flask import Flask, Response, current_app, g, request, session
from flask_wtf.csrf import CSRFProtect

from foundation import clock, db
from foundation.config import Settings
from foundation.staff import services as staff_services
from foundation.staff.models import StaffUser

csrf = CSRFProtect()
SESSION_KEY = "sid"
# Stylesheets and scripts, the same for everyone: the only answers a cache may keep.
PUBLIC_STATIC_ENDPOINTS = frozenset({"static", "admin.static"})
# Answers that name their own private Cache-Control (staff-only images keyed by content).
PRIVATE_CACHE_ENDPOINTS = frozenset({"listings.photo_thumbnail"})


def init_app(app: Flask) -> None:
    csrf.init_app(app)
    app.before_request(_load_staff)
    app.after_request(_security_headers)
    app.jinja_env.globals["csp_nonce"] = csp_nonce
    app.jinja_env.globals["current_staff"] = current_staff


def settings() -> Settings:
    return current_app.config["SETTINGS"]


def csp_nonce() -> str:
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    return g.csp_nonce


def current_staff() -> StaffUser | None:
    return g.get("staff")


def _load_staff() -> None:
    g.staff = None
    if request.path.startswith("/api/"):
        return  # the APIs authenticate with bearer tokens only
    raw = session.get(SESSION_KEY)
    if raw:
        g.staff = staff_services.resolve_session(db.session(), settings(), raw, "web")
        if g.staff is None:
            session.pop(SESSION_KEY, None)


def _security_headers(response: Response) -> Response:
    nonce = csp_nonce()
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; "
        f"script-src 'self' 'nonce-{nonce}'; "
        "style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data: blob:; "
        "font-src 'self' data:; "
        "connect-src 'self'; "
        "object-src 'none'; "
        "base-uri 'self'; "
        "form-action 'self'; "
        "frame-ancestors 'none'")
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
    response.headers["Cross-Origin-Opener-Policy"] = "same-origin"
    if settings().is_production:
        response.headers["Strict-Transport-Security"] = "max-age=63072000; includeSubDomains"
    if not keeps_own_cache_control(response):
        response.headers["Cache-Control"] = "no-store"
    return response


def keeps_own_cache_control(response: Response) -> bool:
    if request.endpoint in PUBLIC_STATIC_ENDPOINTS:
        return True
    return request.endpoint in PRIVATE_CACHE_ENDPOINTS and response.status_code in (200, 304)


def safe_next(target: str | None, default: str) -> str:
    """Only same-site relative paths: ?next= must never become an open redirect."""
    if not target or not isinstance(target, str):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") \
            or "\\" in target:
        return default
    return target


def login_rate_limited(scope: str) -> bool:
    """Count a sign-in attempt from this address; True when over the per-minute limit."""
    limit = settings().LOGIN_IP_ATTEMPTS_PER_MINUTE
    minute = int(clock.now().timestamp()) // 60
    key = f"ratelimit:{scope}:{request.remote_addr}:{minute}"
    try:
        redis = current_app.extensions["redis"]
        count = redis.incr(key)
        if count == 1:
            redis.expire(key, 120)
    except Exception:  # noqa: BLE001 - any Redis failure
        # Closed, not open: without the counter, guesses spread over many accounts (which
        # no account's lockout sees) would be unlimited.
        current_app.logger.warning("login rate limiter unavailable: refusing sign-in",
                                   exc_info=True)
        return True
    return count > limit


def current_path() -> str:
    """The path and query of this request, for ?next= after sign-in."""
    return request.full_path if request.query_string else request.path
