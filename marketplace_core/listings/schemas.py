"""Request schemas and JSON shapes for listings."""
from __future__ import annotations

from flask import url_for

from marketplace_core.listings.models import Listing
from marketplace_core.listings.taxonomy import CATEGORIES, CONDITIONS

_PRICE = {"type": "integer", "minimum": 1, "maximum": 10**12,
          "description": "integer paise (Rs 1 = 100 paise)"}

LISTING_FIELDS = {
    "title": {"type": "string", "minLength": 3, "maxLength": 120},
    "description": {"type": "string", "maxLength": 5000},
    "brand": {"type": "string", "minLength": 1, "maxLength": 60},
    "category": {"type": "string", "enum": sorted(CATEGORIES)},
    "size": {"type": "string", "minLength": 1, "maxLength": 20},
    "condition": {"type": "string", "enum": list(CONDITIONS)},
    "colour": {"type": "string", "maxLength": 30},
    "original_price_paise": {**_PRICE, "nullable": True},
    "price_paise": _PRICE,
    "weight_grams": {"type": "integer", "minimum": 1, "maximum": 30_000},
}

CREATE = {"type": "object", "properties": LISTING_FIELDS,
          "required": ["title", "brand", "category", "size", "condition", "price_paise"]}
UPDATE = {"type": "object", "properties": LISTING_FIELDS}
REORDER = {"type": "object", "required": ["photo_ids"], "properties": {
    "photo_ids": {"type": "array", "maxItems": 64, "items": {"type": "integer", "minimum": 1}}}}
PHOTO_UPLOAD = {"photo": "a JPEG, PNG or WebP image (re-encoded as JPEG, metadata stripped)"}

SEARCH_PARAMS = [
    {"name": "q", "schema": {"type": "string"}, "description": "words in title, brand, text"},
    {"name": "brand", "schema": {"type": "string"}},
    {"name": "category", "schema": {"type": "string", "enum": sorted(CATEGORIES)}},
    {"name": "size", "schema": {"type": "string"}},
    {"name": "condition", "schema": {"type": "string", "enum": list(CONDITIONS)}},
    {"name": "seller", "schema": {"type": "string"}, "description": "a closet's username"},
    {"name": "min_price_paise", "schema": {"type": "integer"}},
    {"name": "max_price_paise", "schema": {"type": "integer"}},
    {"name": "sort", "schema": {"type": "string",
                                "enum": ["newest", "price_low", "price_high",
                                         "recently_shared"]}},
    {"name": "cursor", "schema": {"type": "string"}, "description": "the previous page's next"},
    {"name": "limit", "schema": {"type": "integer", "minimum": 1, "maximum": 100}},
]


def photo_json(listing: Listing, photo) -> dict:
    return {"id": photo.id, "position": photo.position, "width": photo.width,
            "height": photo.height,
            "url": url_for("api.listings_photo_file",
                           listing_id=listing.id, photo_id=photo.id)}


def listing_json(listing: Listing, *, for_owner: bool = False) -> dict:
    body = {
        "id": listing.id, "seller_id": listing.seller_id, "title": listing.title,
        "description": listing.description, "brand": listing.brand,
        "category": listing.category, "size": listing.size, "condition": listing.condition,
        "colour": listing.colour, "original_price_paise": listing.original_price_paise,
        "price_paise": listing.price_paise, "status": listing.status,
        "authenticated": listing.is_authenticated,
        "certificate_id": listing.authentication_certificate if listing.is_authenticated
        else None,
        "photos": [photo_json(listing, p) for p in listing.photos],
        "published_at": listing.published_at.isoformat() if listing.published_at else None,
        "created_at": listing.created_at.isoformat(),
    }
    if for_owner:
        body["weight_grams"] = listing.weight_grams
        body["removed_reason"] = listing.removed_reason
    return body


def listing_summary(listing: Listing) -> dict:
    cover = listing.covershot
    return {"id": listing.id, "title": listing.title, "brand": listing.brand,
            "category": listing.category, "size": listing.size,
            "condition": listing.condition, "price_paise": listing.price_paise,
            "original_price_paise": listing.original_price_paise,
            "seller_id": listing.seller_id, "authenticated": listing.is_authenticated,
            "covershot": photo_json(listing, cover) if cover else None,
            "published_at": listing.published_at.isoformat() if listing.published_at
            else None}
