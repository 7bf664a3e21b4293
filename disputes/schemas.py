"""The disputes APIs' request shapes and how cases, messages and decisions are rendered.

Members (the buyer and the seller) see their case, its deadlines, every message except
staff notes, photo links and the return parcel.  Staff see everything, with the claim
and the decision clock.  Photos are never inline: each is a link to an endpoint that
checks who is asking (`api.disputes_case_photo` for the parties,
`staff_disputes_api.photo` for staff).
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Response, send_file, url_for

from disputes import machine, workspace
from disputes.claims import QUEUES
from disputes.models import (
    CaseDecision,
    CaseEvent,
    CaseMessage,
    CasePhoto,
    DisputeCase,
    Outcome,
    Party,
)
from foundation.errors import NotFound
from marketplace_core.listings import photos as photo_store
from marketplace_core.shipping.models import Shipment

# --- member requests (multipart/form-data; documented for OpenAPI) ------------------------

PHOTOS_TEXT = "1 to 8 image files, each in its own 'photos' part (JPEG, PNG or WebP; " \
              "re-encoded as JPEG, metadata stripped)"
OPEN_CASE = {
    "reason": "undisclosed_damage | wrong_or_missing_item | not_as_described | "
              "not_authentic (does_not_fit, changed_mind, trade and off_platform are refused "
              "with reason_not_covered and a message that says why)",
    "description": "what is wrong, 1 to 2000 characters",
    "photos": PHOTOS_TEXT,
}
RESPONSE = {
    "body": "your answer or message, 1 to 2000 characters",
    "photos": "0 to 8 image files, each in its own 'photos' part",
}
INSPECTION = {
    "accept": "true (the buyer is refunded) or false (a counter-claim: the item came back "
              "swapped or damaged)",
    "body": "what you found: optional when accepting, required for a counter-claim",
    "photos": "a counter-claim needs 1 to 8 photos of what came back",
}
OPEN_CASE_FIELDS = frozenset({"reason", "description"})
RESPONSE_FIELDS = frozenset({"body"})
INSPECTION_FIELDS = frozenset({"accept", "body"})

LIST_PARAMS = [
    {"name": "role", "schema": {"type": "string", "enum": ["buyer", "seller"]},
     "description": "only cases on orders you bought, or sold (default: both)"},
    {"name": "cursor", "schema": {"type": "integer"}, "description": "the previous page's next"},
    {"name": "limit", "schema": {"type": "integer", "minimum": 1, "maximum": 100}},
]

# --- staff requests (JSON) -----------------------------------------------------------------

_TOKEN = {"type": "string", "minLength": 1, "maxLength": 64}
CLAIM = {"type": "object", "properties": {"queue": {"type": "string", "enum": list(QUEUES)}}}
LEASE = {"type": "object", "required": ["lease_token"], "properties": {"lease_token": _TOKEN}}
# Types only: disputes.decisions.parse_decision checks the values and answers with the
# specific codes (bad_outcome, bad_reason, bad_amount, bad_info_from ...).
DECISION = {"type": "object", "required": ["lease_token"], "properties": {
    "outcome": {"type": "string", "description": " | ".join(Outcome)},
    "refund_paise": {"type": "integer", "nullable": True},
    "reason": {"type": "string"},
    "note": {"type": "string", "trim": False},
    "idempotency_key": {"type": "string", "trim": False},
    "info_from": {"type": "string", "nullable": True},
    "lease_token": _TOKEN,
}}
APPROVAL = {"type": "object", "required": ["approve", "lease_token"], "properties": {
    "approve": {"type": "boolean"},
    "note": {"type": "string", "trim": False},
    "lease_token": _TOKEN,
}}
NOTE = {"type": "object", "required": ["body"], "properties": {
    "body": {"type": "string", "trim": False}}}


# --- rendering ----------------------------------------------------------------------------

def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def items_json(case: DisputeCase) -> list[dict[str, Any]]:
    """The items as they were sold (the case's snapshot), without their photo keys."""
    return [{"listing_id": item.listing_id, "title": item.title, "brand": item.brand,
             "category": item.category, "size": item.size, "condition": item.condition,
             "colour": item.colour, "price_paise": item.price_paise,
             "description": item.description, "photo_count": len(item.photo_keys)}
            for item in workspace.sold_items(case)]


def deadlines_json(case: DisputeCase) -> dict[str, Any]:
    return {"seller_response_due_at": _iso(case.seller_response_due_at),
            "info_requested_from": case.info_requested_from,
            "info_due_at": _iso(case.info_due_at),
            "return_ship_by": _iso(case.return_ship_by),
            "inspection_due_at": _iso(case.inspection_due_at)}


def case_json(case: DisputeCase) -> dict[str, Any]:
    """What both parties and staff may know about a case."""
    return {
        "id": case.id, "order_id": case.order_id, "buyer_id": case.buyer_id,
        "seller_id": case.seller_id, "listing_id": case.listing_id, "reason": case.reason,
        "description": case.description, "state": case.state, "closed": case.is_closed,
        "amount_paise": case.amount_paise, "outcome": case.outcome,
        "refund_paise": case.refund_paise, "deadlines": deadlines_json(case),
        "items": items_json(case), "opened_at": _iso(case.opened_at),
        "updated_at": _iso(case.updated_at), "closed_at": _iso(case.closed_at),
    }


def member_case_json(case: DisputeCase, party: Party) -> dict[str, Any]:
    return {**case_json(case), "your_role": str(party)}


def staff_case_json(case: DisputeCase, now: datetime) -> dict[str, Any]:
    """The case with what only staff see: queue order, the decision clock, the claim
    (never its token: that goes only to the claimer, in the claim's answer)."""
    seconds_left = machine.seconds_left(case, now)
    return {
        **case_json(case), "priority": case.priority, "sla_due_at": _iso(case.sla_due_at),
        "sla_seconds_left": seconds_left, "sla_breached": case.sla_breached_at is not None,
        "claimed_by": case.claimed_by, "claimed_from": case.claimed_from,
        "lease_expires_at": _iso(case.lease_expires_at), "decided_by": case.decided_by,
        "authentication_request_id": case.authentication_request_id,
        "authentication_verdict": case.authentication_verdict,
        "counter_claimed_at": _iso(case.counter_claimed_at),
        "stale_alerted_at": _iso(case.stale_alerted_at),
        "stale_escalated_at": _iso(case.stale_escalated_at), "version": case.version,
    }


def claim_json(case: DisputeCase, now: datetime) -> dict[str, Any]:
    return {"case": staff_case_json(case, now), "lease_token": case.lease_token,
            "lease_expires_at": _iso(case.lease_expires_at)}


def message_json(message: CaseMessage, photos: list[CasePhoto], *, for_staff: bool,
                 ) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": message.id, "kind": message.kind, "author": message.author,
        "body": message.body, "created_at": _iso(message.created_at),
        "photos": [photo_json(p, for_staff=for_staff) for p in photos],
    }
    if for_staff:
        body["author_member_id"] = message.author_member_id
        body["author_staff_id"] = message.author_staff_id
    return body


def messages_json(messages: list[CaseMessage], photos: list[CasePhoto], *,
                  for_staff: bool) -> list[dict[str, Any]]:
    """Messages in order, each with its own photos (only those of the given messages)."""
    by_message: dict[int, list[CasePhoto]] = {}
    for photo in photos:
        by_message.setdefault(photo.message_id, []).append(photo)
    return [message_json(m, by_message.get(m.id, []), for_staff=for_staff) for m in messages]


def photo_json(photo: CasePhoto, *, for_staff: bool) -> dict[str, Any]:
    endpoint = "staff_disputes_api.photo" if for_staff else "api.disputes_case_photo"
    return {"id": photo.id, "party": photo.party, "width": photo.width,
            "height": photo.height, "created_at": _iso(photo.created_at),
            "url": url_for(endpoint, case_id=photo.case_id, photo_id=photo.id)}


def return_parcel_json(shipment: Shipment | None, party: Party | None) -> dict | None:
    """The return label and its tracking, or None before a return was approved."""
    if shipment is None:
        return None
    body = {"tracking_number": shipment.tracking_number, "status": shipment.status,
            "label_created_at": _iso(shipment.label_created_at),
            "first_scan_at": _iso(shipment.first_scan_at),
            "delivered_at": _iso(shipment.delivered_at),
            "voided_at": _iso(shipment.voided_at),
            "tracking_url": url_for("api.shipping_get_return_shipment",
                                    order_id=shipment.order_id)}
    if party == Party.BUYER:
        body["label_url"] = url_for("api.shipping_return_label_document",
                                    order_id=shipment.order_id)
    return body


def decision_json(decision: CaseDecision) -> dict[str, Any]:
    return {"id": decision.id, "case_id": decision.case_id, "staff_id": decision.staff_id,
            "outcome": decision.outcome, "refund_paise": decision.refund_paise,
            "reason": decision.reason_code, "note": decision.note,
            "info_from": decision.info_from, "idempotency_key": decision.idempotency_key,
            "status": decision.status, "approver_id": decision.approver_id,
            "approved_at": _iso(decision.approved_at),
            "created_at": _iso(decision.created_at)}


def event_json(event: CaseEvent) -> dict[str, Any]:
    return {"from": event.from_state, "to": event.to_state, "actor": event.actor,
            "reason": event.reason, "details": event.details or {},
            "at": _iso(event.occurred_at)}


def jpeg_response(media_key: str) -> Response:
    """A stored photo (always re-encoded JPEG) for someone the view has checked."""
    path = photo_store.open_stored(media_key)
    if not path.is_file():
        raise NotFound("The photo's file is missing from the media store.",
                       code="photo_missing")
    # Like every API answer it goes out with Cache-Control: no-store (console.security).
    return send_file(path, mimetype="image/jpeg", etag=media_key)
