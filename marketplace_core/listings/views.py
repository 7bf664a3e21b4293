"""Listing API: drafts, edits, photos, publishing, and search of live listings."""
from __future__ import annotations

from flask import jsonify, request, send_file

from foundation import db
from foundation.errors import DomainError, NotFound, ValidationFailed
from foundation.schema import query_int, validate
from foundation.web import json_body
from marketplace_core.api import api_route, current_member
from marketplace_core.listings import photos, schemas, search, services
from marketplace_core.members.services import get_by_username

TAG = "Listings"


@api_route("/listings", "POST", summary="Create a draft listing", tag=TAG,
           body=schemas.CREATE, responses={201: "the draft", 422: "bad fields"})
def create_listing():
    data = validate(schemas.CREATE, json_body())
    listing = services.create_draft(db.session(), current_member(), data)
    return jsonify(schemas.listing_json(listing, for_owner=True)), 201


@api_route("/listings/<int:listing_id>", "PATCH", summary="Edit your listing", tag=TAG,
           body=schemas.UPDATE,
           responses={200: "the listing (a price raised over the threshold sends it to "
                           "authentication)", 409: "sold or removed"})
def update_listing(listing_id: int):
    data = validate(schemas.UPDATE, json_body(), partial=True)
    s = db.session()
    listing = services.get_owned(s, listing_id, current_member())
    services.update_listing(s, current_member(), listing, data)
    return jsonify(schemas.listing_json(listing, for_owner=True))


@api_route("/listings/<int:listing_id>", "GET", summary="A listing (404 unless live, "
           "except to its seller)", tag=TAG, auth="optional")
def get_listing(listing_id: int):
    listing = services.get_for_viewer(db.session(), listing_id, current_member())
    owner = current_member() is not None and current_member().id == listing.seller_id
    return jsonify(schemas.listing_json(listing, for_owner=owner))


@api_route("/listings/<int:listing_id>/photos", "POST", summary="Upload a photo "
           "(multipart field 'photo'); the first is the covershot", tag=TAG,
           multipart=schemas.PHOTO_UPLOAD,
           responses={201: "the photo", 413: "too large", 415: "not an image",
                      422: "rejected image"})
def upload_photo(listing_id: int):
    s = db.session()
    listing = services.get_owned(s, listing_id, current_member())
    upload = request.files.get("photo")
    if upload is None:
        raise ValidationFailed("Send the image in the multipart field 'photo'.",
                               fields={"photo": "required"})
    stored = photos.store_upload(upload.read(), upload.mimetype)
    photo = services.add_photo(s, current_member(), listing, media_key=stored.key,
                               width=stored.width, height=stored.height)
    return jsonify(schemas.photo_json(listing, photo)), 201


@api_route("/listings/<int:listing_id>/photos/<int:photo_id>", "DELETE",
           summary="Remove a photo", tag=TAG)
def delete_photo(listing_id: int, photo_id: int):
    s = db.session()
    listing = services.get_owned(s, listing_id, current_member())
    services.remove_photo(s, current_member(), listing, photo_id)
    return "", 204


@api_route("/listings/<int:listing_id>/photos/order", "PUT",
           summary="Reorder photos (the first becomes the covershot)", tag=TAG,
           body=schemas.REORDER)
def reorder_photos(listing_id: int):
    data = validate(schemas.REORDER, json_body())
    s = db.session()
    listing = services.get_owned(s, listing_id, current_member())
    services.reorder_photos(s, current_member(), listing, data["photo_ids"])
    return jsonify(schemas.listing_json(listing, for_owner=True))


@api_route("/listings/<int:listing_id>/photos/<int:photo_id>", "GET",
           summary="A photo's JPEG (same visibility as the listing)", tag=TAG,
           auth="optional")
def photo_file(listing_id: int, photo_id: int):
    s = db.session()
    listing = services.get_for_viewer(s, listing_id, current_member())
    photo = next((p for p in listing.photos if p.id == photo_id), None)
    stored = photos.open_stored(photo.media_key) if photo is not None else None
    if stored is None or not stored.is_file():
        raise NotFound("No such photo.")
    return send_file(stored, mimetype="image/jpeg", max_age=3600, etag=photo.media_key)


@api_route("/listings/<int:listing_id>/publish", "POST", summary="Publish a draft: live, "
           "or pending_authentication above the threshold", tag=TAG,
           responses={200: "the listing", 409: "not a draft, or no photos"})
def publish(listing_id: int):
    s = db.session()
    listing = services.get_owned(s, listing_id, current_member())
    services.publish(s, current_member(), listing)
    return jsonify(schemas.listing_json(listing, for_owner=True))


@api_route("/listings/<int:listing_id>/withdraw", "POST", summary="Take your listing down",
           tag=TAG)
def withdraw(listing_id: int):
    s = db.session()
    listing = services.get_owned(s, listing_id, current_member())
    services.withdraw(s, current_member(), listing)
    return jsonify(schemas.listing_json(listing, for_owner=True))


@api_route("/listings/<int:listing_id>/relist", "POST", summary="Put a withdrawn listing "
           "back up (reviewed again above the threshold)", tag=TAG)
def relist(listing_id: int):
    s = db.session()
    listing = services.get_owned(s, listing_id, current_member())
    services.relist(s, current_member(), listing)
    return jsonify(schemas.listing_json(listing, for_owner=True))


@api_route("/listings", "GET", summary="Search live listings", tag=TAG, auth="optional",
           query=schemas.SEARCH_PARAMS)
def search_listings():
    args = request.args
    seller_id = None
    if args.get("seller"):
        try:
            seller_id = get_by_username(db.session(), args["seller"]).id
        except DomainError:
            return jsonify({"items": [], "next": None})
    query = search.SearchQuery(
        q=args.get("q", "")[:200], brand=args.get("brand"), category=args.get("category"),
        size=args.get("size"), condition=args.get("condition"), seller_id=seller_id,
        min_price_paise=query_int(args, "min_price_paise"),
        max_price_paise=query_int(args, "max_price_paise"),
        sort=args.get("sort", "newest"), cursor=args.get("cursor"),
        limit=query_int(args, "limit", minimum=1, maximum=100, default=24))
    rows, next_cursor = search.search(db.session(), query)
    return jsonify({"items": [schemas.listing_summary(r) for r in rows], "next": next_cursor})
