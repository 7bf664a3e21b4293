"""Listing photos on disk: untrusted uploads go through the media intake, then the store."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from foundation.config import current as settings
from marketplace_core.media.intake import inspect_and_normalise
from marketplace_core.media.storage import MediaStore


@dataclass(frozen=True)
class StoredPhoto:
    key: str
    width: int
    height: int


def store() -> MediaStore:
    return MediaStore(settings().MEDIA_ROOT)


def store_upload(data: bytes, declared_content_type: str | None) -> StoredPhoto:
    """Check, normalise and store an upload; raises ImageRejected with a specific code."""
    image = inspect_and_normalise(data, declared_content_type=declared_content_type)
    key = store().save(image)
    return StoredPhoto(key=key, width=image.width, height=image.height)


def open_stored(key: str) -> Path:
    return store().path(key)
