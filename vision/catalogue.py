"""Cheap questions about which listing photos still need signing: plain SQL over the
models, so a job can answer them without importing the image stack."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace_core.listings.models import ListingPhoto
from vision.models import ENGINE_VERSION, PhotoSignature


def unsigned_photo_ids(s: Session, *, first: int | None = None, limit: int = 32) -> list[int]:
    """`first` (if given) and then the oldest photos with no signature row yet, so that one
    job catches up on a burst of uploads and the jobs after it find nothing to do."""
    found = list(s.scalars(
        select(ListingPhoto.id).outerjoin(PhotoSignature,
                                          PhotoSignature.photo_id == ListingPhoto.id)
        .where(PhotoSignature.photo_id.is_(None)).order_by(ListingPhoto.id).limit(limit)))
    if first is not None:
        found = [first] + [i for i in found if i != first][:limit - 1]
    return found


def is_signed_and_current(s: Session, photo_id: int) -> bool:
    """True when the photo is gone or its row matches its bytes and today's engine."""
    photo = s.get(ListingPhoto, photo_id)
    if photo is None:
        return True
    row = s.get(PhotoSignature, photo_id)
    return is_current(row, photo)


def is_current(row: PhotoSignature | None, photo: ListingPhoto) -> bool:
    return (row is not None and row.media_key == photo.media_key
            and row.engine_version == ENGINE_VERSION)
