"""The staff JSON API for support: /api/v1/staff/disputes (bearer staff tokens).

POST /claim {"queue"?: "review"|"approval"}          -> 200 claim, or 204 nothing to claim
POST /<id>/extend  {lease_token}                     -> 200 claim (new expiry)
POST /<id>/release {lease_token}                     -> 200 {"case"} (back in its queue)
POST /<id>/decision {outcome, refund_paise?, reason, note, idempotency_key, lease_token,
                     info_from?}                     -> 200 {"decision", "case", "replayed"}
POST /<id>/approval {approve, note?, lease_token}    -> 200 {"decision", "case"} (leads)
POST /<id>/notes {body}                              -> 201 {"message", "case"}
GET  /queue?queue=review                             -> counts per state, the cases the
                                                        caller could claim, what they hold
GET  /<id>                                           -> the case with everything: messages
                                                        (staff notes too), photos, decisions,
                                                        events, money, parcels, history, and
                                                        the signals packages above add
                                                        (disputes.signals: the buyer's photos
                                                        against the listing's as sold)
GET  /<id>/photos/<photo_id>                         -> a case photo's JPEG
GET  /<id>/items/<item>/photos/<position>            -> a photo of the listing as sold

Support agents decide from the "review" queue; refunds above
DISPUTE_REFUND_APPROVAL_PAISE wait in the "approval" queue for a support lead who did
not decide them.  Every refusal is a 4xx JSON error and changes nothing (the request's
unit of work rolls back on any 4xx).
"""
from __future__ import annotations

from flask import Blueprint, g, jsonify, request, url_for
from sqlalchemy.orm import Session

from disputes import claims, decisions, schemas, workspace
from disputes import signals as case_signals
from foundation import clock, db
from foundation.schema import validate
from foundation.staff.api_auth import staff_api_auth
from foundation.staff.permissions import Permission
from foundation.web import json_body, register_json_errors

bp = Blueprint("staff_disputes_api", __name__, url_prefix="/api/v1/staff/disputes")
register_json_errors(bp)
HANDLE = Permission.DISPUTES_HANDLE
APPROVE = Permission.DISPUTES_APPROVE_REFUND


@bp.post("/claim")
@staff_api_auth(HANDLE)
def claim():
    data = validate(schemas.CLAIM, _optional_body())
    claimed = claims.claim_next(db.session(), g.staff, data.get("queue", "review"))
    if claimed is None:
        return "", 204
    return jsonify(schemas.claim_json(claimed, clock.now()))


@bp.post("/<int:case_id>/extend")
@staff_api_auth(HANDLE)
def extend(case_id: int):
    data = validate(schemas.LEASE, json_body())
    s = db.session()
    extended = claims.extend(s, g.staff, decisions.get_case(s, case_id), data["lease_token"])
    return jsonify(schemas.claim_json(extended, clock.now()))


@bp.post("/<int:case_id>/release")
@staff_api_auth(HANDLE)
def release(case_id: int):
    data = validate(schemas.LEASE, json_body())
    s = db.session()
    released = claims.release(s, g.staff, decisions.get_case(s, case_id), data["lease_token"])
    return jsonify({"case": schemas.staff_case_json(released, clock.now())})


@bp.post("/<int:case_id>/decision")
@staff_api_auth(HANDLE)
def decide(case_id: int):
    data = validate(schemas.DECISION, json_body())
    lease_token = data.pop("lease_token")
    result = decisions.decide(db.session(), g.staff, case_id, decisions.parse_decision(data),
                              lease_token)
    return jsonify(_result_json(result))


@bp.post("/<int:case_id>/approval")
@staff_api_auth(APPROVE)
def approval(case_id: int):
    data = validate(schemas.APPROVAL, json_body())
    result = decisions.review_approval(db.session(), g.staff, case_id,
                                       approve=data["approve"], note=data.get("note"),
                                       lease_token=data["lease_token"])
    return jsonify(_result_json(result))


@bp.post("/<int:case_id>/notes")
@staff_api_auth(HANDLE)
def add_note(case_id: int):
    data = validate(schemas.NOTE, json_body())
    s = db.session()
    note = decisions.add_staff_note(s, g.staff, case_id, data["body"])
    return jsonify({"message": schemas.message_json(note, [], for_staff=True),
                    "case": schemas.staff_case_json(decisions.get_case(s, case_id),
                                                    clock.now())}), 201


@bp.get("/queue")
@staff_api_auth(HANDLE)
def queue():
    name = request.args.get("queue", "review")
    claims.require_queue_access(g.staff, name)
    now = clock.now()
    overview = workspace.queue_overview(db.session(), g.staff)
    return jsonify({
        "queue": name, "counts": overview.counts,
        "items": [_summary_json(item, now) for item in overview.queues[name]],
        "held": [_summary_json(item, now) for item in overview.held],
        "recently_decided": [_summary_json(item, now) for item in overview.recently_decided],
    })


@bp.get("/<int:case_id>")
@staff_api_auth(HANDLE)
def show(case_id: int):
    s = db.session()
    found = workspace.workspace(s, case_id, g.staff)
    return jsonify(_workspace_json(s, found))


@bp.get("/<int:case_id>/photos/<int:photo_id>")
@staff_api_auth(HANDLE)
def photo(case_id: int, photo_id: int):
    s = db.session()
    case = decisions.get_case(s, case_id)
    return schemas.jpeg_response(workspace.case_photo(s, case.id, photo_id).media_key)


@bp.get("/<int:case_id>/items/<int:item>/photos/<int:position>")
@staff_api_auth(HANDLE)
def sold_photo(case_id: int, item: int, position: int):
    case = decisions.get_case(db.session(), case_id)
    return schemas.jpeg_response(workspace.snapshot_photo_key(case, item, position))


# --- rendering ------------------------------------------------------------------------------

def _result_json(result: decisions.DecisionResult) -> dict:
    return {"decision": schemas.decision_json(result.decision),
            "case": schemas.staff_case_json(result.case, clock.now()),
            "replayed": result.replayed}


def _summary_json(item: workspace.CaseSummary, now) -> dict:
    return {**schemas.staff_case_json(item.case, now), "title": item.title}


def _workspace_json(s: Session, found: workspace.CaseWorkspace) -> dict:
    case = found.case
    messages = sorted((e for group in (found.buyer_evidence, found.seller_evidence,
                                       found.staff_messages) for e in group),
                      key=lambda e: e.message.id)
    events = workspace.events_of(s, case.id)
    return {
        "case": schemas.staff_case_json(case, clock.now()),
        "holds_lease": found.holds_lease,
        "items": [{**item, "photo_urls": [
            url_for(".sold_photo", case_id=case.id, item=i, position=n)
            for n in range(item["photo_count"])]}
            for i, item in enumerate(schemas.items_json(case))],
        "messages": [schemas.message_json(e.message, list(e.photos), for_staff=True)
                     for e in messages],
        "decisions": [schemas.decision_json(d) for d in found.decisions],
        "pending_decision_id": found.pending_decision.id if found.pending_decision else None,
        "events": [schemas.event_json(e) for e in events],
        "timeline": [{"at": entry.at.isoformat(), "source": entry.source,
                      "title": entry.title, "detail": entry.detail,
                      "amount_paise": entry.amount_paise} for entry in found.timeline],
        "money": found.money,
        "shipment": _parcel(found.shipment),
        "return_parcel": _parcel(found.return_shipment),
        "buyer": {"id": found.buyer.id, "username": found.buyer.username,
                  "orders_bought": found.buyer_history.orders_bought,
                  "other_cases": found.buyer_history.other_cases,
                  "cases_won": found.buyer_history.cases_won,
                  "cases_per_order": found.buyer_history.cases_per_order},
        "seller": {"id": found.seller.id, "username": found.seller.username,
                   "orders_sold": found.seller_history.orders_sold,
                   "other_cases": found.seller_history.other_cases,
                   "cases_lost": found.seller_history.cases_lost,
                   "lost_per_order": found.seller_history.lost_per_order},
        "staff_names": {str(k): v for k, v in found.staff_names.items()},
        "signals": case_signals.for_case(s, case.id),
    }


def _parcel(shipment) -> dict | None:
    if shipment is None:
        return None
    return {"tracking_number": shipment.tracking_number, "status": shipment.status,
            "direction": shipment.direction,
            "label_created_at": shipment.label_created_at.isoformat(),
            "delivered_at": shipment.delivered_at.isoformat() if shipment.delivered_at
            else None}


def _optional_body() -> dict:
    if not request.get_data():
        return {}
    return json_body()
