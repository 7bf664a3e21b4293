"""Member API: GET /api/v1/feed/just-picked.  The route joins the marketplace's /api/v1
blueprint through `api_route` (console.create_app imports this module before that
blueprint is registered), so the marketplace never imports trust."""
from __future__ import annotations

from flask import jsonify, request

from foundation import db
from foundation.schema import query_int
from marketplace_core.api import api_route, current_member

from . import feed, schemas

TAG = "Recommendations"


@api_route("/feed/just-picked", "GET", summary="Just Picked for You: listings chosen for "
           "you, each with the reason it is there", tag=TAG, query=schemas.LIMIT_QUERY,
           responses={200: "the page", 401: "not signed in", 422: "bad limit"})
def just_picked():
    limit = query_int(request.args, "limit", minimum=1, maximum=feed.MAX_LIMIT, default=12)
    page = feed.just_picked(db.session(), current_member().id, limit)
    return jsonify(schemas.member_feed_json(page))
