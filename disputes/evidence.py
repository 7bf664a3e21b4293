"""Words and photos from the parties and staff: checked, stored, attached to the case.

Photos are untrusted uploads: each goes through the marketplace's media intake (limits,
format allow-list, re-encoding, reason codes) before anything is written, so one bad
file refuses the whole message and leaves nothing half-stored in the database.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from disputes.models import CaseMessage, CasePhoto, DisputeCase, MessageKind, Party
from foundation import clock, events
from foundation.config import current as settings
from foundation.errors import ValidationFailed
from foundation.staff.models import StaffUser
from marketplace_core.listings.photos import StoredPhoto, store_upload


@dataclass(frozen=True)
class Upload:
    """A photo as it arrived: the bytes and the client's declared content type."""
    data: bytes
    content_type: str | None = None
    filename: str = ""


def clean_text(value: object, field: str, *, required: bool = True) -> str:
    limit = settings().DISPUTE_TEXT_MAX_LENGTH
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()) or len(value) > limit:
        raise ValidationFailed(f"Give the {field.replace('_', ' ')} (1 to {limit} characters).",
                               code="bad_text", fields={field: f"1 to {limit} characters"})
    return value.strip()


def store_photos(uploads: list[Upload], *, required: bool) -> list[StoredPhoto]:
    """Check and store every photo, or refuse them all with the first file's code."""
    limit = settings().DISPUTE_MAX_PHOTOS
    if required and not uploads:
        raise ValidationFailed("Add at least one photo that shows the problem.",
                               code="photo_required", fields={"photos": "at least one"})
    if len(uploads) > limit:
        raise ValidationFailed(f"Attach at most {limit} photos.", code="too_many_photos",
                               fields={"photos": f"at most {limit}"})
    return [store_upload(upload.data, upload.content_type) for upload in uploads]


def add_message(s: Session, case: DisputeCase, kind: MessageKind, body: str, *,
                party: Party | None = None, staff: StaffUser | None = None,
                photos: list[StoredPhoto] = ()) -> CaseMessage:
    member_id = None
    if party is not None:
        member_id = case.buyer_id if party == Party.BUYER else case.seller_id
    message = CaseMessage(case_id=case.id, kind=kind, body=body,
                          author=str(party) if party else "staff",
                          author_member_id=member_id,
                          author_staff_id=staff.id if staff else None,
                          created_at=clock.now())
    s.add(message)
    s.flush()
    for photo in photos:
        s.add(CasePhoto(case_id=case.id, message_id=message.id, party=str(party or "staff"),
                        media_key=photo.key, width=photo.width, height=photo.height,
                        created_at=clock.now()))
    s.flush()
    if photos:
        events.emit(s, events.CasePhotosAdded(case_id=case.id, party=str(party or "staff")))
    return message


def messages_of(s: Session, case_id: int, *, include_staff_notes: bool) -> list[CaseMessage]:
    query = select(CaseMessage).where(CaseMessage.case_id == case_id)
    if not include_staff_notes:
        query = query.where(CaseMessage.kind != MessageKind.STAFF_NOTE)
    return list(s.scalars(query.order_by(CaseMessage.id)))


def photos_of(s: Session, case_id: int) -> list[CasePhoto]:
    return list(s.scalars(select(CasePhoto).where(CasePhoto.case_id == case_id)
                          .order_by(CasePhoto.id)))
