"""Listings: through the public API as a seller would (create, upload photos, publish), or
beneath it through the listings services (a stored media key is all a listing needs; photo
bytes are the media tests' business)."""
from __future__ import annotations

import io
import itertools
import secrets

from foundation import db
from marketplace_core.listings import services as listing_services
from marketplace_core.members.models import Member
from tests.builders.photos import jpeg_bytes

_titles = itertools.count(1)


def listing_body(**overrides) -> dict:
    body = {"title": "Banarasi silk saree, emerald", "description": "Worn once at a wedding.",
            "brand": "Kalinga Loom", "category": "sarees", "size": "Free size",
            "condition": "like_new", "colour": "green", "price_paise": 450_000,
            "original_price_paise": 1_200_000}
    body.update(overrides)
    return body


def create_listing(client, seller: dict, **overrides) -> dict:
    response = client.post("/api/v1/listings", json=listing_body(**overrides),
                           headers=seller["headers"])
    assert response.status_code == 201, response.json
    return response.json


def upload_photo_bytes(client, seller: dict, listing_id: int, data: bytes):
    return client.post(f"/api/v1/listings/{listing_id}/photos", headers=seller["headers"],
                       data={"photo": (io.BytesIO(data), "photo.jpg", "image/jpeg")},
                       content_type="multipart/form-data")


def upload_photo(client, seller: dict, listing_id: int, seed: int = 0):
    return upload_photo_bytes(client, seller, listing_id, jpeg_bytes(seed))


def publish_through_api(client, seller: dict, listing_id: int) -> dict:
    response = client.post(f"/api/v1/listings/{listing_id}/publish",
                           headers=seller["headers"])
    assert response.status_code == 200, response.json
    return response.json


def live_listing(client, seller: dict, seed: int = 0, **overrides) -> dict:
    listing = create_listing(client, seller, **overrides)
    assert upload_photo(client, seller, listing["id"], seed).status_code == 201
    return publish_through_api(client, seller, listing["id"])


def post_listing(client, seller: dict, *photos: bytes, publish: bool = True,
                 **fields) -> dict:
    """A listing with these photos (by default below the authentication threshold, so it
    goes live when published)."""
    listing = create_listing(client, seller, title=f"Listing {next(_titles)}", **fields)
    for data in photos:
        response = upload_photo_bytes(client, seller, listing["id"], data)
        assert response.status_code == 201, response.json
    if publish:
        publish_through_api(client, seller, listing["id"])
    return listing


def search_ids(client, **params) -> list[int]:
    response = client.get("/api/v1/listings", query_string=params)
    assert response.status_code == 200, response.json
    return [item["id"] for item in response.json["items"]]


def listing_through_services(seller_id: int, fields: dict, *, publish: bool = True,
                             media_key: str | None = None, width: int = 800,
                             height: int = 1000) -> int:
    """A listing of the seller with one photo, published unless told otherwise."""
    with db.unit_of_work() as s:
        seller = s.get(Member, seller_id)
        listing = listing_services.create_draft(s, seller, fields)
        listing_services.add_photo(s, seller, listing,
                                   media_key=media_key or secrets.token_hex(32),
                                   width=width, height=height)
        if publish:
            listing_services.publish(s, seller, listing)
        return listing.id
