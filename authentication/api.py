"""The staff JSON API for authenticators: /api/v1/staff/authentication (bearer tokens).

POST /claim {"queue"?: "review"|"second_review"|"lead"}  -> 200 claim, or 204 nothing
POST /<id>/extend  {lease_token}                          -> 200 claim (new expiry)
POST /<id>/release {lease_token}                          -> 200 request
POST /<id>/skip    {lease_token}                          -> 200 request (kept away a while)
POST /<id>/decision {verdict, reason, note?, checklist?, angles?, lease_token} -> 200 request
GET  /queue?queue=review                                  -> counts per state, items, held
GET  /<id>                                   -> request, checklist, reason codes, decisions, events
GET  /metrics?days=7  (AUTHENTICATION_METRICS)            -> metrics.summary figures
GET  /skills/<staff_id>  (AUTHENTICATION_LEAD)            -> a reviewer's skills
PUT  /skills/<staff_id>  {brands, categories, max_price_paise|null} (AUTHENTICATION_LEAD)

Second reviews and lead decisions use the same claim and decision endpoints: claim with
{"queue": "second_review"} or {"queue": "lead"}; the stage follows from the queue the
request was claimed from.  Refusals are 4xx JSON and change nothing (the request's unit
of work rolls back on any 4xx).
"""
from __future__ import annotations

from datetime import datetime

from flask import Blueprint, g, jsonify, request

from authentication import claims, decisions, machine, metrics, skills, workspace
from authentication import signals as listing_signals
from authentication.models import (
    CHECK_POINTS,
    CHECK_RESULTS,
    AuthenticationRequest,
    Verdict,
    checklist_for,
)
from foundation import clock, db
from foundation.errors import ValidationFailed
from foundation.schema import validate
from foundation.staff.api_auth import staff_api_auth
from foundation.staff.permissions import Permission
from foundation.web import json_body, register_json_errors
from marketplace_core.listings.taxonomy import CATEGORIES

bp = Blueprint("staff_authentication_api", __name__,
               url_prefix="/api/v1/staff/authentication")
register_json_errors(bp)
REVIEW = Permission.AUTHENTICATION_REVIEW

_TOKEN = {"type": "string", "minLength": 1, "maxLength": 64}
CLAIM = {"type": "object", "properties": {
    "queue": {"type": "string", "enum": list(claims.QUEUES)}}}
LEASE = {"type": "object", "required": ["lease_token"], "properties": {"lease_token": _TOKEN}}
DECISION = {"type": "object", "required": ["verdict", "reason", "lease_token"], "properties": {
    "verdict": {"type": "string", "enum": [v.value for v in Verdict]},
    "reason": {"type": "string", "pattern": "[a-z][a-z0-9_]{1,39}",
               "x-pattern-message": "a reason code: lower-case letters, digits and _"},
    "note": {"type": "string", "maxLength": 2000},
    "checklist": {"type": "object"},
    "angles": {"type": "array", "maxItems": 12,
               "items": {"type": "string", "minLength": 1, "maxLength": 40}},
    "lease_token": _TOKEN,
}}

SKILLS = {"type": "object", "required": ["brands", "categories"], "properties": {
    "brands": {"type": "array", "maxItems": skills.MAX_BRANDS,
               "items": {"type": "string", "minLength": 1,
                         "maxLength": skills.MAX_BRAND_LENGTH}},
    "categories": {"type": "array", "maxItems": skills.MAX_CATEGORIES,
                   "items": {"type": "string", "enum": list(CATEGORIES)}},
    "max_price_paise": {"type": "integer", "minimum": 1, "nullable": True},
}}


@bp.post("/claim")
@staff_api_auth(REVIEW)
def claim():
    data = validate(CLAIM, _optional_body())
    s = db.session()
    claimed = claims.claim_next(s, g.staff, data.get("queue", "review"))
    if claimed is None:
        return "", 204
    return jsonify(_claim_json(claimed))


@bp.post("/<int:request_id>/extend")
@staff_api_auth(REVIEW)
def extend(request_id: int):
    data = validate(LEASE, json_body())
    s = db.session()
    extended = claims.extend(s, g.staff, claims.get_request(s, request_id), data["lease_token"])
    return jsonify(_claim_json(extended))


@bp.post("/<int:request_id>/release")
@staff_api_auth(REVIEW)
def release(request_id: int):
    data = validate(LEASE, json_body())
    s = db.session()
    released = claims.release(s, g.staff, claims.get_request(s, request_id),
                              data["lease_token"])
    return jsonify({"request": request_json(released)})


@bp.post("/<int:request_id>/skip")
@staff_api_auth(REVIEW)
def skip(request_id: int):
    data = validate(LEASE, json_body())
    s = db.session()
    skipped = claims.release(s, g.staff, claims.get_request(s, request_id),
                             data["lease_token"], skip=True)
    return jsonify({"request": request_json(skipped)})


@bp.post("/<int:request_id>/decision")
@staff_api_auth(REVIEW)
def decide(request_id: int):
    data = validate(DECISION, json_body())
    checklist = data.get("checklist") or {}
    if not isinstance(checklist, dict):
        raise ValidationFailed("The checklist maps points to pass, fail or na.",
                               fields={"checklist": "must be an object"})
    s = db.session()
    decided = decisions.decide(s, g.staff, claims.get_request(s, request_id),
                               data["lease_token"], decisions.Decision(
                                   verdict=Verdict(data["verdict"]), reason=data["reason"],
                                   note=data.get("note", ""),
                                   checklist={str(k): v for k, v in checklist.items()},
                                   angles=tuple(data.get("angles") or ())))
    return jsonify({"request": request_json(decided)})


@bp.get("/queue")
@staff_api_auth(REVIEW)
def queue():
    name = request.args.get("queue", "review")
    s = db.session()
    claims.require_queue_access(g.staff, name)
    return jsonify({
        "queue": name, "counts": workspace.state_counts(s),
        "items": [request_json(r) for r in claims.visible_items(s, g.staff, name)],
        "held": [request_json(r) for r in claims.held_by(s, g.staff)],
    })


@bp.get("/metrics")
@staff_api_auth(Permission.AUTHENTICATION_METRICS)
def authentication_metrics():
    """The figures of the console's metrics page; ?days= picks the window (default 7)."""
    raw = request.args.get("days", "7")
    if not raw.isdigit() or not 1 <= int(raw) <= metrics.MAX_WINDOW_DAYS:
        raise ValidationFailed("The window is a whole number of days.",
                               fields={"days": f"1 to {metrics.MAX_WINDOW_DAYS}"})
    return jsonify(metrics.summary(db.session(), int(raw)))


@bp.get("/skills/<int:staff_id>")
@staff_api_auth(Permission.AUTHENTICATION_LEAD)
def reviewer_skills(staff_id: int):
    found = skills.skills_of(db.session(), staff_id)
    return jsonify({"staff_id": staff_id, **found.as_dict()})


@bp.put("/skills/<int:staff_id>")
@staff_api_auth(Permission.AUTHENTICATION_LEAD)
def set_reviewer_skills(staff_id: int):
    data = validate(SKILLS, json_body())
    saved = skills.set_skills(db.session(), g.staff, staff_id, brands=data["brands"],
                              categories=data["categories"],
                              max_price_paise=data.get("max_price_paise"))
    return jsonify({"staff_id": staff_id, **saved.as_dict()})


@bp.get("/<int:request_id>")
@staff_api_auth(REVIEW)
def show(request_id: int):
    s = db.session()
    found = claims.get_request(s, request_id)
    history = workspace.events_of(s, found.id)
    verdicts = workspace.decisions_on(s, found.id)
    return jsonify({
        "request": request_json(found),
        "checklist": {"points": list(checklist_for(found.category)),
                      "all_points": list(CHECK_POINTS), "results": list(CHECK_RESULTS)},
        "reason_codes": {verdict.value: list(decisions.reason_codes(verdict))
                         for verdict in decisions.REASON_CODES},
        "decisions": [{"reviewer_id": d.reviewer_id, "verdict": d.verdict,
                       "reason": d.reason_code, "note": d.note, "checklist": d.checklist,
                       "angles": d.angles, "stage": d.stage,
                       "created_at": _iso(d.created_at)} for d in verdicts],
        "events": [{"from": e.from_state, "to": e.to_state, "actor": e.actor,
                    "reason": e.reason, "at": _iso(e.occurred_at)} for e in history],
        "signals": listing_signals.for_listing(s, found.listing_id),
    })


# --- serialising ----------------------------------------------------------------------

def request_json(r: AuthenticationRequest) -> dict:
    now = clock.now()
    return {
        "id": r.id, "listing_id": r.listing_id, "seller_id": r.seller_id, "reason": r.reason,
        "state": r.state, "price_paise": r.price_paise, "brand": r.brand,
        "category": r.category, "priority": r.priority, "risk_score": r.risk_score,
        "risk_reasons": list(r.risk_reasons or []),
        "senior_only": r.senior_only, "sla_due_at": _iso(r.sla_due_at),
        "sla_paused": r.paused_at is not None, "sla_breached": r.sla_breached_at is not None,
        "sla_seconds_left": machine.seconds_left(r, now),
        "claimed_by": r.claimed_by, "claimed_from": r.claimed_from,
        "first_verdict": r.first_verdict, "second_verdict": r.second_verdict,
        "requested_angles": r.requested_angles or [], "photos_due_at": _iso(r.photos_due_at),
        "checklist_points": list(checklist_for(r.category)), "version": r.version,
        "created_at": _iso(r.created_at), "closed_at": _iso(r.closed_at),
    }


def _claim_json(r: AuthenticationRequest) -> dict:
    return {"request": request_json(r), "lease_expires_at": _iso(r.lease_expires_at),
            "lease_token": r.lease_token}


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _optional_body() -> dict:
    if not request.get_data():
        return {}
    return json_body()
