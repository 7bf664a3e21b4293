"""Staff API: one member's feed with and without trust, and why each item is there.

GET /api/v1/staff/trust/members/<id>/feed?limit=N   (trust.view, bearer token)
Nothing is recorded: an analyst's look is not an impression.
"""
from __future__ import annotations

from flask import Blueprint, jsonify, request

from foundation import db
from foundation.errors import NotFound
from foundation.schema import query_int
from foundation.staff.api_auth import staff_api_auth
from foundation.staff.permissions import Permission
from foundation.web import register_json_errors
from marketplace_core.members.models import Member

from . import feed, runs, schemas

bp = Blueprint("staff_trust_feed_api", __name__, url_prefix="/api/v1/staff/trust")
register_json_errors(bp)


@bp.get("/members/<int:member_id>/feed")
@staff_api_auth(Permission.TRUST_VIEW)
def member_feed(member_id: int):
    limit = query_int(request.args, "limit", minimum=1, maximum=feed.MAX_LIMIT, default=12)
    s = db.session()
    if s.get(Member, member_id) is None:
        raise NotFound("No such member.")
    page = feed.just_picked(s, member_id, limit, record=False, compare=True)
    return jsonify(schemas.staff_feed_json(page))


@bp.get("/recommendations/runs")
@staff_api_auth(Permission.TRUST_VIEW)
def recent_runs():
    return jsonify({"runs": [runs.run_json(r) for r in runs.recent_runs(db.session())]})
