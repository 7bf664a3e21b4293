"""The staff JSON API of trust signals: /api/v1/staff/trust (bearer tokens).

GET  /sellers/<id>    -> {"seller": score, tier, confidence, parts, counts, reasons, history}
GET  /listings/<id>   -> {"listing": risk, reasons, history}                  (trust.view)
GET  /weights         -> {"version", "weights", "history"}                    (trust.view)
POST /weights {"weights": {name: number}, "note"} -> 201 the new version    (trust.manage)

Refusals are JSON errors (401 no token, 403 no permission, 404 unknown, 422 bad weights
with a message per field) and change nothing: the unit of work rolls back on any 4xx.
"""
from __future__ import annotations

from flask import Blueprint, g, jsonify

from foundation import db
from foundation.staff.api_auth import staff_api_auth
from foundation.staff.permissions import Permission
from foundation.web import json_body, register_json_errors

from . import schemas, services

bp = Blueprint("staff_trust_api", __name__, url_prefix="/api/v1/staff/trust")
register_json_errors(bp)


@bp.get("/sellers/<int:seller_id>")
@staff_api_auth(Permission.TRUST_VIEW)
def seller(seller_id: int):
    detail = services.seller_detail(db.session(), seller_id)
    return jsonify({"seller": schemas.seller_detail_json(detail)})


@bp.get("/listings/<int:listing_id>")
@staff_api_auth(Permission.TRUST_VIEW)
def listing(listing_id: int):
    detail = services.listing_detail(db.session(), listing_id)
    return jsonify({"listing": schemas.listing_detail_json(detail)})


@bp.get("/weights")
@staff_api_auth(Permission.TRUST_VIEW)
def weights():
    s = db.session()
    version, current = services.current_weights(s)
    return jsonify({"version": version, "weights": current.as_dict(),
                    "history": [schemas.weights_change_json(change)
                                for change in services.weights_history(s)]})


@bp.post("/weights")
@staff_api_auth(Permission.TRUST_MANAGE)
def change_weights():
    body = json_body()
    row = services.set_weights(db.session(), g.staff, body.get("weights"), body.get("note"))
    return jsonify({"version": row.version, "weights": row.weights, "note": row.note}), 201
