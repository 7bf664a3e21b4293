"""The public JSON API under /api/v1, used by the apps.

Every domain's views.py adds its routes to `bp` with `api_route`, which also records
the endpoint for the OpenAPI document.  Members authenticate with bearer tokens
(`member_required`); there are no cookies, so there is no CSRF surface.
"""
from __future__ import annotations

import functools
import importlib
from collections.abc import Callable
from dataclasses import dataclass, field

from flask import Blueprint, g

from foundation import db
from foundation.errors import NotAuthenticated
from foundation.web import bearer_token, register_json_errors
from marketplace_core.members.services import resolve_token

bp = Blueprint("api", __name__, url_prefix="/api/v1")
register_json_errors(bp)

VIEW_MODULES = (
    "marketplace_core.members.views",
    "marketplace_core.listings.views",
    "marketplace_core.orders.views",
    "marketplace_core.offers.views",
    "marketplace_core.social.views",
    "marketplace_core.shipping.views",
    "marketplace_core.api.openapi",
)


@dataclass
class EndpointDoc:
    rule: str
    method: str
    summary: str
    tag: str
    auth: str  # "member", "optional" or "none"
    body: dict | None = None
    multipart: dict | None = None
    query: list[dict] = field(default_factory=list)
    responses: dict[int, str] = field(default_factory=dict)


ENDPOINTS: list[EndpointDoc] = []


def api_route(rule: str, method: str, *, summary: str, tag: str, auth: str = "member",
              body: dict | None = None, multipart: dict | None = None,
              query: list[dict] | None = None, responses: dict[int, str] | None = None):
    """Register a route on the API blueprint and document it for OpenAPI."""

    def decorator(view: Callable) -> Callable:
        ENDPOINTS.append(EndpointDoc(rule=rule, method=method.lower(), summary=summary,
                                     tag=tag, auth=auth, body=body, multipart=multipart,
                                     query=query or [], responses=responses or {}))
        wrapped = _with_auth(view, auth)
        bp.add_url_rule(rule, endpoint=endpoint_name(view), view_func=wrapped,
                        methods=[method.upper()])
        return wrapped

    return decorator


def endpoint_name(view: Callable) -> str:
    """"listings_photo_file" for marketplace_core.listings.views.photo_file."""
    package = view.__module__.split(".")[-2]
    return f"{package}_{view.__name__}"


def _with_auth(view: Callable, auth: str) -> Callable:
    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        g.member = None
        token = bearer_token()
        if token:
            g.member = resolve_token(db.session(), token)
            if g.member is None:
                raise NotAuthenticated("That token is not valid; sign in again.",
                                       code="invalid_token")
        if auth == "member" and g.member is None:
            raise NotAuthenticated("Sign in and send Authorization: Bearer <token>.")
        return view(*args, **kwargs)

    return wrapped


def current_member():
    return g.get("member")


def build_blueprint() -> Blueprint:
    for module in VIEW_MODULES:
        importlib.import_module(module)
    return bp
