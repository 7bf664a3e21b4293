"""Bearer-token authentication for every staff JSON API (authentication, disputes, vision,
the console's own): it lives below the domain packages so their blueprints need not import
the console."""
from __future__ import annotations

import functools
from collections.abc import Callable

from flask import current_app, g

from foundation import db
from foundation.errors import NotAuthenticated, PermissionDenied
from foundation.staff import services as staff_services
from foundation.staff.permissions import Permission
from foundation.web import bearer_token


def staff_api_auth(permission: Permission | None = None) -> Callable:
    """Require a valid bearer token (and a permission); sets g.staff."""

    def decorator(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapped(*args, **kwargs):
            staff = staff_services.resolve_session(db.session(),
                                                   current_app.config["SETTINGS"],
                                                   bearer_token(), "api")
            if staff is None:
                raise NotAuthenticated("Send a valid staff token: Authorization: Bearer ...")
            if current_app.config["SETTINGS"].totp_required and not staff.totp_enabled:
                # A token issued before the policy required TOTP must not outlive it.
                raise PermissionDenied("Set up two-factor sign-in in the console first.",
                                       code="totp_enrollment_required")
            if permission is not None and not staff.can(permission):
                raise PermissionDenied(f"Your role lacks the {permission.value} permission.")
            g.staff = staff
            return view(*args, **kwargs)

        return wrapped

    return decorator
