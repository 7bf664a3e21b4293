"""Listings through the public API: drafts, photos, publishing, the authentication gate,
search, and bad input that writes nothing."""
import io

import pytest
from sqlalchemy import func, select

from foundation import db
from marketplace_core.listings.models import Listing, ListingEvent, ListingPhoto
from tests.builders.listings import (
    create_listing,
    listing_body,
    live_listing,
    search_ids,
    upload_photo,
)
from tests.builders.members import register
from tests.builders.photos import jpeg_bytes

THRESHOLD = 1_000_000  # Rs 10,000.00 in paise


def rows(model) -> int:
    db.session.remove()
    return db.session().scalar(select(func.count()).select_from(model))


def test_a_seller_lists_an_item_and_buyers_find_it(client):
    seller, buyer = register(client), register(client)
    listing = create_listing(client, seller)
    assert listing["status"] == "draft"
    assert client.get(f"/api/v1/listings/{listing['id']}",
                      headers=buyer["headers"]).status_code == 404
    photo = upload_photo(client, seller, listing["id"])
    assert photo.status_code == 201
    published = client.post(f"/api/v1/listings/{listing['id']}/publish",
                            headers=seller["headers"])
    assert published.json["status"] == "live"
    seen = client.get(f"/api/v1/listings/{listing['id']}", headers=buyer["headers"]).json
    assert seen["photos"][0]["url"].endswith(f"/photos/{photo.json['id']}")
    image = client.get(seen["photos"][0]["url"])
    assert image.status_code == 200 and image.mimetype == "image/jpeg"
    assert listing["id"] in search_ids(client, q="banarasi emerald")


def test_exactly_ten_thousand_rupees_goes_live(client):
    seller = register(client)
    listing = live_listing(client, seller, price_paise=THRESHOLD)
    assert listing["status"] == "live"
    assert listing["id"] in search_ids(client)


def test_one_paisa_over_the_threshold_is_invisible_everywhere(client):
    seller, buyer = register(client), register(client)
    listing = live_listing(client, seller, price_paise=THRESHOLD + 1, brand="Maison Vellore",
                           category="handbags", size="One size", title="Quilted flap bag")
    assert listing["status"] == "pending_authentication"
    listing_id = listing["id"]
    assert client.get(f"/api/v1/listings/{listing_id}").status_code == 404
    assert client.get(f"/api/v1/listings/{listing_id}", headers=buyer["headers"]).status_code \
        == 404
    photo_url = f"/api/v1/listings/{listing_id}/photos/{listing['photos'][0]['id']}"
    assert client.get(photo_url).status_code == 404
    for params in ({}, {"q": "quilted"}, {"brand": "maison vellore"}, {"category": "handbags"},
                   {"min_price_paise": THRESHOLD}, {"sort": "price_high"},
                   {"seller": seller["username"]}):
        assert listing_id not in search_ids(client, **params), params
    # the seller still sees their own listing and its state
    own = client.get(f"/api/v1/listings/{listing_id}", headers=seller["headers"])
    assert own.json["status"] == "pending_authentication"


def test_raising_a_live_price_over_the_threshold_takes_it_out_of_sight(client):
    seller = register(client)
    listing = live_listing(client, seller, price_paise=900_000)
    response = client.patch(f"/api/v1/listings/{listing['id']}",
                            json={"price_paise": THRESHOLD + 100}, headers=seller["headers"])
    assert response.json["status"] == "pending_authentication"
    assert listing["id"] not in search_ids(client)
    assert client.get(f"/api/v1/listings/{listing['id']}").status_code == 404
    back = client.patch(f"/api/v1/listings/{listing['id']}", json={"price_paise": 800_000},
                        headers=seller["headers"])
    assert back.json["status"] == "live"


def test_relisting_and_photo_changes_go_back_through_the_gate(client, staff, app):
    from foundation.staff.models import StaffUser
    from marketplace_core.listings import services

    seller = register(client)
    listing = live_listing(client, seller, price_paise=THRESHOLD + 50_000)
    staff_id, _, _ = staff("authenticator")
    with db.unit_of_work() as s:
        services.approve_authentication(s, s.get(Listing, listing["id"]),
                                        actor=s.get(StaffUser, staff_id))
    shown = client.get(f"/api/v1/listings/{listing['id']}").json
    assert shown["status"] == "live" and shown["authenticated"] and shown["certificate_id"]
    assert upload_photo(client, seller, listing["id"], seed=7).status_code == 201
    assert client.get(f"/api/v1/listings/{listing['id']}").status_code == 404  # re-review
    with db.unit_of_work() as s:
        services.approve_authentication(s, s.get(Listing, listing["id"]),
                                        actor=s.get(StaffUser, staff_id))
    client.post(f"/api/v1/listings/{listing['id']}/withdraw", headers=seller["headers"])
    relisted = client.post(f"/api/v1/listings/{listing['id']}/relist",
                           headers=seller["headers"])
    assert relisted.json["status"] == "pending_authentication"
    assert listing["id"] not in search_ids(client)


@pytest.mark.parametrize("overrides, field", [
    ({"price_paise": -100}, "price_paise"),
    ({"price_paise": 0}, "price_paise"),
    ({"price_paise": 10**11}, "price_paise"),
    ({"price_paise": "4500"}, "price_paise"),
    ({"price_paise": 4500.5}, "price_paise"),
    ({"price_paise": True}, "price_paise"),
    ({"price_paise": 50}, "price_paise"),
    ({"title": ""}, "title"),
    ({"title": 42}, "title"),
    ({"category": "spaceships"}, "category"),
    ({"size": "XXXXXL"}, "size"),
    ({"condition": "mint"}, "condition"),
    ({"seller_id": 99}, "seller_id"),
])
def test_bad_listing_input_is_refused_and_nothing_is_written(client, overrides, field):
    seller = register(client)
    response = client.post("/api/v1/listings", json=listing_body(**overrides),
                           headers=seller["headers"])
    assert response.status_code == 422, response.json
    assert field in response.json["error"]["fields"]
    assert rows(Listing) == 0


def test_missing_fields_and_bodies(client):
    seller = register(client)
    missing = client.post("/api/v1/listings", json={"title": "x y z"}, headers=seller["headers"])
    assert missing.status_code == 422
    assert {"brand", "category", "size", "condition", "price_paise"} <= set(
        missing.json["error"]["fields"])
    assert client.post("/api/v1/listings", data="{", content_type="application/json",
                       headers=seller["headers"]).status_code == 400
    assert client.post("/api/v1/listings", json=listing_body()).status_code == 401
    assert rows(Listing) == 0


def test_someone_elses_listing_cannot_be_touched(client):
    seller, other = register(client), register(client)
    draft = create_listing(client, seller)
    live = live_listing(client, seller, seed=3)
    for listing_id, expected in ((draft["id"], 404), (live["id"], 403)):
        assert client.patch(f"/api/v1/listings/{listing_id}", json={"price_paise": 20_000},
                            headers=other["headers"]).status_code == expected
        assert upload_photo(client, other, listing_id).status_code == expected
        assert client.post(f"/api/v1/listings/{listing_id}/withdraw",
                           headers=other["headers"]).status_code == expected
    db.session.remove()
    assert db.session().get(Listing, live["id"]).price_paise == 450_000
    assert rows(ListingPhoto) == 1


@pytest.mark.parametrize("payload, code", [
    (b"", "empty_file"),
    (b"%PDF-1.4 not an image", "unsupported_format"),
    (b"GIF89a" + b"\x00" * 100, "unsupported_format"),
    (jpeg_bytes(1)[:400], "truncated_or_corrupt"),
])
def test_bad_photos_are_refused_with_their_code(client, payload, code):
    seller = register(client)
    listing = create_listing(client, seller)
    response = client.post(f"/api/v1/listings/{listing['id']}/photos",
                           headers=seller["headers"],
                           data={"photo": (io.BytesIO(payload), "x.jpg", "image/jpeg")},
                           content_type="multipart/form-data")
    assert response.status_code in (413, 415, 422), response.json
    assert response.json["error"]["code"] == code
    assert rows(ListingPhoto) == 0


def test_an_oversized_upload_is_413_and_nothing_is_written(client, settings):
    seller = register(client)
    listing = create_listing(client, seller)
    huge = b"\xff\xd8\xff" + b"\x00" * (settings.MAX_UPLOAD_BYTES + 100_000)
    response = client.post(f"/api/v1/listings/{listing['id']}/photos",
                           headers=seller["headers"],
                           data={"photo": (io.BytesIO(huge), "x.jpg", "image/jpeg")},
                           content_type="multipart/form-data")
    assert response.status_code == 413
    assert response.json["error"]["code"] == "request_entity_too_large"
    assert rows(ListingPhoto) == 0


def test_photo_upload_without_the_field_is_422(client):
    seller = register(client)
    listing = create_listing(client, seller)
    response = client.post(f"/api/v1/listings/{listing['id']}/photos",
                           headers=seller["headers"], data={},
                           content_type="multipart/form-data")
    assert response.status_code == 422 and "photo" in response.json["error"]["fields"]


def test_publishing_needs_a_photo_and_a_draft(client):
    seller = register(client)
    listing = create_listing(client, seller)
    no_photo = client.post(f"/api/v1/listings/{listing['id']}/publish",
                           headers=seller["headers"])
    assert no_photo.status_code == 409 and no_photo.json["error"]["code"] == "no_photos"
    upload_photo(client, seller, listing["id"])
    client.post(f"/api/v1/listings/{listing['id']}/publish", headers=seller["headers"])
    again = client.post(f"/api/v1/listings/{listing['id']}/publish", headers=seller["headers"])
    assert again.status_code == 409 and again.json["error"]["code"] == "illegal_transition"
    transitions = db.session().scalars(select(ListingEvent.to_status).where(
        ListingEvent.listing_id == listing["id"]).order_by(ListingEvent.id)).all()
    assert transitions == ["draft", "live"]


def test_photo_order_decides_the_covershot(client):
    seller = register(client)
    listing = create_listing(client, seller)
    first = upload_photo(client, seller, listing["id"], 1).json["id"]
    second = upload_photo(client, seller, listing["id"], 2).json["id"]
    response = client.put(f"/api/v1/listings/{listing['id']}/photos/order",
                          json={"photo_ids": [second, first]}, headers=seller["headers"])
    assert [p["id"] for p in response.json["photos"]] == [second, first]
    bad = client.put(f"/api/v1/listings/{listing['id']}/photos/order",
                     json={"photo_ids": [second]}, headers=seller["headers"])
    assert bad.status_code == 422


def test_search_filters_sorts_and_pages(client):
    seller = register(client)
    prices = [120_000, 340_000, 560_000, 780_000, 910_000]
    ids = [live_listing(client, seller, seed=i, price_paise=p)["id"]
           for i, p in enumerate(prices)]
    live_listing(client, seller, seed=9, category="sneakers", size="UK 8", brand="Arcadia",
                 title="Court sneakers")
    assert search_ids(client, category="sarees", sort="price_low") == ids
    assert search_ids(client, category="sarees", sort="price_high") == ids[::-1]
    assert search_ids(client, min_price_paise=300_000, max_price_paise=800_000,
                      category="sarees", sort="price_low") == ids[1:4]
    assert len(search_ids(client, brand="ARCADIA")) == 1
    assert len(search_ids(client, size="UK 8")) == 1
    first = client.get("/api/v1/listings", query_string={"limit": 2, "sort": "price_low",
                                                         "category": "sarees"}).json
    second = client.get("/api/v1/listings", query_string={
        "limit": 2, "sort": "price_low", "category": "sarees", "cursor": first["next"]}).json
    third = client.get("/api/v1/listings", query_string={
        "limit": 2, "sort": "price_low", "category": "sarees", "cursor": second["next"]}).json
    paged = [i["id"] for page in (first, second, third) for i in page["items"]]
    assert paged == ids and third["next"] is None


@pytest.mark.parametrize("params", [
    {"min_price_paise": "cheap"}, {"limit": 0}, {"limit": 1000}, {"sort": "random"},
    {"cursor": "garbage!"}, {"cursor": "WzEsMl0"},
])
def test_bad_search_parameters_are_422(client, params):
    response = client.get("/api/v1/listings", query_string=params)
    assert response.status_code == 422, response.json
