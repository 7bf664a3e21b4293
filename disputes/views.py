"""The members' disputes API on the /api/v1 blueprint (bearer member tokens, OpenAPI).

POST /orders/<id>/cases          multipart reason, description, photos -> 201 {"case"}
GET  /cases                      your cases as buyer or seller, newest first (keyset)
GET  /cases/<id>                 the case, its messages (no staff notes), photo links,
                                 deadlines and the return parcel
GET  /cases/<id>/photos/<id>     a photo's JPEG (the parties only; staff use their API)
POST /cases/<id>/responses       multipart body, photos: an answer or a message
POST /cases/<id>/withdraw        the buyer closes the case (the seller is paid)
POST /cases/<id>/accept-return   the seller takes the item back (the buyer gets a label)
POST /cases/<id>/inspection      multipart accept, body, photos: the seller's inspection

The routes join the marketplace's blueprint through `api_route` (endpoints are named
"disputes_<view>"), so the marketplace itself never imports disputes: console.create_app
imports this module before it registers that blueprint.  Evidence is multipart, because
photos are files; anything else is refused with 415 before the body is read.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from flask import jsonify, request
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from disputes import evidence, opening, responses, schemas, workspace
from disputes.evidence import Upload
from disputes.models import CaseMessage, DisputeCase, MessageKind, Party
from foundation import db
from foundation.config import current as settings
from foundation.errors import NotFound, UnsupportedMedia, ValidationFailed
from foundation.schema import query_int
from marketplace_core.api import api_route, current_member
from marketplace_core.members.models import Member
from marketplace_core.shipping import services as shipping

TAG = "Cases"
PHOTO_FIELD = "photos"
# Room for the text fields and the multipart framing around the photos.
FORM_OVERHEAD_BYTES = 64 * 1024
IMAGE_ERRORS = ("413: file_too_large; 422: photo_required, too_many_photos, or the image's "
                "rejection code (unsupported_format, truncated_or_corrupt, too_small ...)")


# --- opening and reading cases ------------------------------------------------------------

@api_route("/orders/<int:order_id>/cases", "POST", summary="Buyer: report a problem with a "
           "delivered order (within 3 days of delivery, before acceptance); the funds stay "
           "held and the seller is asked to respond", tag=TAG, multipart=schemas.OPEN_CASE,
           responses={201: "the case", 403: "not_buyer", 404: "no such order, or not yours",
                      409: "window_closed, not_delivered, order_accepted, order_closed or "
                           "case_exists",
                      415: "multipart_required",
                      422: "reason_not_covered (the message says why), bad_reason, bad_text; "
                           + IMAGE_ERRORS})
def open_case(order_id: int):
    form = multipart_form(schemas.OPEN_CASE_FIELDS)
    s = db.session()
    case = opening.open_case(s, current_member(), order_id, reason=form.text("reason"),
                             description=form.text("description"), photos=form.photos)
    return jsonify({"case": case_body(s, case, Party.BUYER)}), 201


@api_route("/cases", "GET", summary="Your cases, as buyer or seller, newest first", tag=TAG,
           query=schemas.LIST_PARAMS)
def list_cases():
    role = request.args.get("role") or None
    if role not in (None, Party.BUYER, Party.SELLER):
        raise ValidationFailed("role must be buyer or seller.",
                               fields={"role": "one of: buyer, seller"})
    before_id = query_int(request.args, "cursor", minimum=1)
    limit = query_int(request.args, "limit", minimum=1, maximum=100, default=20)
    member = current_member()
    rows, next_cursor = cases_of(db.session(), member, role, before_id=before_id, limit=limit)
    return jsonify({"items": [schemas.member_case_json(c, party_of(c, member)) for c in rows],
                    "next": next_cursor})


@api_route("/cases/<int:case_id>", "GET", summary="A case you are the buyer or seller of: "
           "its state, deadlines, messages and photos (staff notes are never shown), and the "
           "return parcel once there is one", tag=TAG,
           responses={404: "no such case, or not yours"})
def get_case(case_id: int):
    s = db.session()
    case, party = responses.case_for_party(s, current_member(), case_id)
    return jsonify({"case": case_body(s, case, party)})


@api_route("/cases/<int:case_id>/photos/<int:photo_id>", "GET", summary="A case photo's "
           "JPEG, for the case's buyer and seller", tag=TAG,
           responses={200: "image/jpeg", 404: "no such case or photo, or not yours"})
def case_photo(case_id: int, photo_id: int):
    s = db.session()
    case, _ = responses.case_for_party(s, current_member(), case_id)
    photo = workspace.case_photo(s, case.id, photo_id)
    if s.get(CaseMessage, photo.message_id).kind == MessageKind.STAFF_NOTE:
        raise NotFound("No such photo.", code="photo_not_found")
    return schemas.jpeg_response(photo.media_key)


# --- the parties' actions -----------------------------------------------------------------

@api_route("/cases/<int:case_id>/responses", "POST", summary="Answer on a case (the seller's "
           "response, information staff asked for) or add a message, with photos", tag=TAG,
           multipart=schemas.RESPONSE,
           responses={200: "the case", 404: "no such case, or not yours",
                      409: "case_closed, case_changed", 415: "multipart_required",
                      422: "bad_text; " + IMAGE_ERRORS})
def respond(case_id: int):
    form = multipart_form(schemas.RESPONSE_FIELDS)
    s = db.session()
    case = responses.respond(s, current_member(), case_id, body=form.text("body"),
                             photos=form.photos)
    return jsonify({"case": case_body(s, case, party_of(case, current_member()))})


@api_route("/cases/<int:case_id>/withdraw", "POST", summary="Buyer: withdraw the case; the "
           "payment goes to the seller", tag=TAG,
           responses={200: "the case (closed_withdrawn)", 403: "not_buyer",
                      404: "no such case, or not yours",
                      409: "case_closed, return_in_progress, case_changed"})
def withdraw(case_id: int):
    s = db.session()
    case = responses.withdraw(s, current_member(), case_id)
    return jsonify({"case": case_body(s, case, Party.BUYER)})


@api_route("/cases/<int:case_id>/accept-return", "POST", summary="Seller: take the item "
           "back; the buyer gets a prepaid return label and, after your inspection, a full "
           "refund", tag=TAG,
           responses={200: "the case (awaiting_return)", 403: "not_seller",
                      404: "no such case, or not yours",
                      409: "illegal_transition, case_changed"})
def accept_return(case_id: int):
    s = db.session()
    case = responses.accept_return(s, current_member(), case_id)
    return jsonify({"case": case_body(s, case, Party.SELLER)})


@api_route("/cases/<int:case_id>/inspection", "POST", summary="Seller: inspect the returned "
           "item: accept (the buyer is refunded) or counter-claim with photos", tag=TAG,
           multipart=schemas.INSPECTION,
           responses={200: "the case", 403: "not_seller", 404: "no such case, or not yours",
                      409: "illegal_transition (not awaiting inspection), case_changed",
                      415: "multipart_required",
                      422: "bad_accept, bad_text; " + IMAGE_ERRORS})
def inspection(case_id: int):
    form = multipart_form(schemas.INSPECTION_FIELDS)
    s = db.session()
    case = responses.inspect(s, current_member(), case_id, accept=form.flag("accept"),
                             body=form.text("body"), photos=form.photos)
    return jsonify({"case": case_body(s, case, Party.SELLER)})


# --- reading helpers ----------------------------------------------------------------------

def case_body(s: Session, case: DisputeCase, party: Party) -> dict:
    """The case as its buyer or seller sees it: no staff notes, photo links, the return."""
    messages = evidence.messages_of(s, case.id, include_staff_notes=False)
    shown = {m.id for m in messages}
    photos = [p for p in evidence.photos_of(s, case.id) if p.message_id in shown]
    return {**schemas.member_case_json(case, party),
            "messages": schemas.messages_json(messages, photos, for_staff=False),
            "return_parcel": schemas.return_parcel_json(
                shipping.return_shipment_for_order(s, case.order_id), party)}


def cases_of(s: Session, member: Member, role: str | None, *, before_id: int | None,
             limit: int) -> tuple[list[DisputeCase], int | None]:
    """The member's cases (as `role`, or both), newest first, and the next page's cursor."""
    mine = {Party.BUYER: DisputeCase.buyer_id == member.id,
            Party.SELLER: DisputeCase.seller_id == member.id}
    where = [mine[Party(role)]] if role else [or_(*mine.values())]
    if before_id is not None:
        where.append(DisputeCase.id < before_id)
    rows = list(s.scalars(select(DisputeCase).where(*where).order_by(DisputeCase.id.desc())
                          .limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (rows[-1].id if more else None)


def party_of(case: DisputeCase, member: Member) -> Party:
    return Party.BUYER if member.id == case.buyer_id else Party.SELLER


# --- multipart evidence -------------------------------------------------------------------

@dataclass
class EvidenceForm:
    fields: dict[str, str] = field(default_factory=dict)
    photos: list[Upload] = field(default_factory=list)

    def text(self, name: str) -> str | None:
        return self.fields.get(name)

    def flag(self, name: str) -> object:
        """"true"/"false" as booleans; anything else as sent, for the service to refuse."""
        raw = self.fields.get(name)
        return {"true": True, "false": False}.get(raw.strip().lower(), raw) if raw else raw


def multipart_form(allowed: frozenset[str]) -> EvidenceForm:
    """The request's text fields (only `allowed` ones, each once) and its photos."""
    if request.mimetype != "multipart/form-data":
        raise UnsupportedMedia("Send multipart/form-data: the text fields ("
                               + ", ".join(sorted(allowed)) + ") and the image files, each "
                               "in a 'photos' part.", code="multipart_required")
    # Up to DISPUTE_MAX_PHOTOS full-size photos; the app-wide limit is for one upload.
    config = settings()
    request.max_content_length = (config.DISPUTE_MAX_PHOTOS * config.MAX_UPLOAD_BYTES
                                  + FORM_OVERHEAD_BYTES)
    form = EvidenceForm()
    for name in request.form:
        if name == PHOTO_FIELD:
            raise ValidationFailed("Send photos as files, not text.", code="photos_not_files",
                                   fields={name: "image files"})
        if name not in allowed:
            raise ValidationFailed(f"Unknown field {name!r}.", code="unknown_field",
                                   fields={name: "unknown field"})
        values = request.form.getlist(name)
        if len(values) > 1:
            raise ValidationFailed(f"Send {name} once.", code="duplicate_field",
                                   fields={name: "once"})
        form.fields[name] = values[0]
    for name in request.files:
        if name != PHOTO_FIELD:
            raise ValidationFailed(f"Unknown file field {name!r}; send images as 'photos'.",
                                   code="unknown_field", fields={name: "unknown field"})
    for part in request.files.getlist(PHOTO_FIELD):
        data = part.read()
        if not data and not part.filename:
            continue  # a form's empty file input ("no file chosen")
        form.photos.append(Upload(data, part.mimetype or None, part.filename or ""))
    return form
