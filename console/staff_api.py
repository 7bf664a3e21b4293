"""The staff JSON API at /api/v1/staff: bearer tokens, never cookies.

Queue capabilities (authentication, disputes) register their endpoints on this
blueprint with `staff_api_route`, which checks the token and the permission.
"""
from __future__ import annotations

from flask import Blueprint, g, jsonify

from console.security import csrf, login_rate_limited, settings
from foundation import db
from foundation.errors import NotAuthenticated, PermissionDenied, RateLimited
from foundation.staff import services as staff_services
from foundation.staff.api_auth import staff_api_auth
from foundation.web import bearer_token, json_body, register_json_errors, require_str

bp = Blueprint("staff_api", __name__, url_prefix="/api/v1/staff")
csrf.exempt(bp)
register_json_errors(bp)

SIGN_IN_ERRORS = {
    "bad_credentials": (NotAuthenticated, "Email or password is wrong."),
    "locked": (RateLimited, "Too many failed attempts; the account is locked for a while."),
    "totp_required": (NotAuthenticated, "This account needs a TOTP code: send \"totp\"."),
    "totp_invalid": (NotAuthenticated, "The TOTP code is wrong."),
}


@bp.post("/auth/token")
def issue_token():
    data = json_body()
    email = require_str(data, "email", max_length=254)
    password = require_str(data, "password", max_length=1024)
    totp = require_str(data, "totp", max_length=12, required=False)
    if login_rate_limited("staff-api"):
        raise RateLimited("Too many sign-in attempts from your address; wait a minute.")
    s = db.session()
    result = staff_services.sign_in(s, settings(), email, password, totp)
    if not result.ok:
        s.commit()  # keep the failure count even though the attempt fails
        error_class, message = SIGN_IN_ERRORS[result.error]
        raise error_class(message, code=result.error)
    if settings().totp_required and not result.staff.totp_enabled:
        raise PermissionDenied("Set up two-factor sign-in in the console first.",
                               code="totp_enrollment_required")
    token = staff_services.start_session(s, settings(), result.staff, "api")
    return jsonify({"token": token, "token_type": "Bearer",
                    "expires_in": settings().STAFF_API_TOKEN_HOURS * 3600})


@bp.delete("/auth/token")
@staff_api_auth()
def revoke_token():
    staff_services.end_session(db.session(), bearer_token())
    return "", 204


@bp.get("/me")
@staff_api_auth()
def me():
    staff = g.staff
    return jsonify({"staff": {"id": staff.id, "email": staff.email,
                              "display_name": staff.display_name, "role": staff.role,
                              "permissions": sorted(p.value for p in staff.permissions)}})
