"""Real generated product photos, uploaded through the member API, for the pipeline tests."""
from __future__ import annotations

import dataclasses
import io
import itertools
from functools import lru_cache

import numpy as np
from sqlalchemy import func, select

from foundation import db, jobs
from marketplace_core.seed import encode_jpeg, generate_catalog, render_product
from tests.marketplace.api_helpers import create_listing, register
from vision.edits import apply_edit
from vision.models import DuplicateFlag, PhotoSignature

SIDE = 480
_listing_seed = itertools.count(1)


@lru_cache(maxsize=16)
def product_photo(product: int) -> np.ndarray:
    """Product number `product` photographed once (the same pixels every call)."""
    spec = generate_catalog(8, seed=61)[product]
    return render_product(spec, angle="front", size=(SIDE, SIDE), rng_seed=spec.item_seed)


def photo_bytes(product: int, edit: str | None = None) -> bytes:
    image = product_photo(product)
    if edit is not None:
        image = apply_edit(edit, image, seed=product)
    return encode_jpeg(image, 92)


def upload(client, seller: dict, listing_id: int, data: bytes):
    return client.post(f"/api/v1/listings/{listing_id}/photos", headers=seller["headers"],
                       data={"photo": (io.BytesIO(data), "photo.jpg", "image/jpeg")},
                       content_type="multipart/form-data")


def post_listing(client, seller: dict, *photos: bytes, publish: bool = True,
                 **fields) -> dict:
    """A listing with these photos (by default below the authentication threshold, so it
    goes live when published)."""
    listing = create_listing(client, seller, title=f"Listing {next(_listing_seed)}", **fields)
    for data in photos:
        response = upload(client, seller, listing["id"], data)
        assert response.status_code == 201, response.json
    if publish:
        response = client.post(f"/api/v1/listings/{listing['id']}/publish",
                               headers=seller["headers"])
        assert response.status_code == 200, response.json
    return listing


def new_seller(client) -> dict:
    return register(client)


def run_vision_jobs() -> int:
    return jobs.run_pending(["vision"])


def vision_queue_length() -> int:
    return jobs.queue("vision").count


def queued_signing_jobs() -> int:
    """Signing jobs waiting on the vision queue (an upload also queues risk scoring)."""
    return sum(job.args[0].endswith("sign_stored_photo") for job in jobs.queue("vision").jobs)


def flags() -> list[DuplicateFlag]:
    with db.unit_of_work() as s:
        return list(s.scalars(select(DuplicateFlag).order_by(DuplicateFlag.id)))


def signature_rows() -> list[PhotoSignature]:
    with db.unit_of_work() as s:
        return list(s.scalars(select(PhotoSignature).order_by(PhotoSignature.photo_id)))


def count(model) -> int:
    with db.unit_of_work() as s:
        return s.scalar(select(func.count()).select_from(model))


def with_pipeline(settings):
    return dataclasses.replace(settings, VISION_SIGN_ON_UPLOAD=True)
