"""Bundles: the seller's discount, exact paise, one order and one shipment, items that
stop being live, and one offer for the whole bundle."""
import dataclasses

import pytest

from foundation.config import current as settings
from foundation.config import install
from marketplace_core.ledger.models import LedgerTransaction
from marketplace_core.listings.models import Listing
from marketplace_core.offers import pricing
from marketplace_core.offers.models import Bundle, BundleItem, Offer, SellerBundleDiscount
from marketplace_core.orders.models import Order
from tests.builders import API
from tests.builders.members import register
from tests.builders.offers import act, live_listing
from tests.builders.rows import count, row

PRICES = (33_333, 45_001, 99_999)  # subtotal 178,333 paise


@pytest.fixture
def seller(client, t0):
    member = register(client)
    response = client.put(f"{API}/me/bundle-discount", headers=member["headers"],
                          json={"percent": 15, "min_items": 3})
    assert response.status_code == 200, response.json
    return member


@pytest.fixture
def buyer(client, t0):
    return register(client)


@pytest.fixture
def items(seller):
    return [live_listing(seller, price) for price in PRICES]


def new_bundle(client, buyer: dict, seller: dict, listing_ids=()) -> dict:
    response = client.post(f"{API}/bundles", headers=buyer["headers"],
                           json={"seller_id": seller["id"]})
    assert response.status_code in (200, 201), response.json
    bundle = response.json["bundle"]
    for listing_id in listing_ids:
        added = client.post(f"{API}/bundles/{bundle['id']}/items/{listing_id}",
                            headers=buyer["headers"])
        assert added.status_code == 200, added.json
        bundle = added.json["bundle"]
    return bundle


def get_bundle(client, member: dict, bundle_id: int) -> dict:
    response = client.get(f"{API}/bundles/{bundle_id}", headers=member["headers"])
    assert response.status_code == 200, response.json
    return response.json["bundle"]


def buy(client, buyer: dict, bundle_id: int, key: str = "bundle-key-1",
        method: str = "test_card_ok"):
    return client.post(f"{API}/bundles/{bundle_id}/buy", headers=buyer["headers"],
                       json={"payment_method": method, "idempotency_key": key})


# --- the discount ----------------------------------------------------------------------

def test_the_discount_is_rounded_down_to_the_paisa(app):
    price = pricing.bundle_price(list(PRICES), 15, 3)
    # 178,333 x 15 / 100 = 26,749.95 paise: the buyer gets 26,749, never a fraction more.
    assert (price.subtotal_paise, price.discount_paise, price.total_paise) == \
        (178_333, 26_749, 151_584)
    assert pricing.bundle_price([10_001, 10_001, 10_001], 10, 3).discount_paise == 3_000
    assert pricing.bundle_price([100_000, 100_000], 15, 3).discount_paise == 0  # too few
    assert pricing.bundle_price([100_000] * 3, 0, 2).total_paise == 300_000
    install(dataclasses.replace(settings(), BUNDLE_DISCOUNT_MAX_PERCENT=10))
    capped = pricing.bundle_price([100_000] * 3, 15, 3)  # the cap was lowered later
    assert (capped.discount_percent, capped.discount_paise) == (10, 30_000)


def test_the_seller_sets_a_discount_within_the_cap(client, t0):
    member = register(client)
    url = f"{API}/me/bundle-discount"
    assert client.get(url, headers=member["headers"]).json == {"percent": 0, "min_items": 2}
    for body in ({"percent": 31, "min_items": 3}, {"percent": 15, "min_items": 1},
                 {"percent": -1, "min_items": 3}, {"percent": 15},
                 {"percent": 15, "min_items": 26}, {"percent": "15", "min_items": 3}):
        response = client.put(url, headers=member["headers"], json=body)
        assert response.status_code == 422, body
    assert count(SellerBundleDiscount) == 0
    assert client.put(url, headers=member["headers"],
                      json={"percent": 30, "min_items": 2}).status_code == 200
    assert client.get(url, headers=member["headers"]).json == {"percent": 30, "min_items": 2}


# --- building and buying ---------------------------------------------------------------

def test_a_bundle_shows_its_price_before_and_after_the_discount(client, buyer, seller, items):
    bundle = new_bundle(client, buyer, seller, items[:2])
    assert bundle["price"]["subtotal_paise"] == 78_334
    assert bundle["price"]["discount_paise"] == 0  # 15% needs 3 items
    bundle = new_bundle(client, buyer, seller, items[2:])  # the same open bundle
    assert [i["listing_id"] for i in bundle["items"]] == items
    assert {k: bundle["price"][k] for k in ("item_count", "subtotal_paise",
                                             "discount_percent", "discount_paise",
                                             "total_paise")} == \
        {"item_count": 3, "subtotal_paise": 178_333, "discount_percent": 15,
         "discount_paise": 26_749, "total_paise": 151_584}
    removed = client.delete(f"{API}/bundles/{bundle['id']}/items/{items[0]}",
                            headers=buyer["headers"])
    assert removed.json["bundle"]["price"]["total_paise"] == 145_000
    assert get_bundle(client, seller, bundle["id"])["price"]["total_paise"] == 145_000
    assert count(Bundle) == 1


def test_buying_a_bundle_is_one_order_at_the_discounted_total(client, buyer, seller, items):
    bundle = new_bundle(client, buyer, seller, items)
    response = buy(client, buyer, bundle["id"])
    assert response.status_code == 201, response.json
    order = client.get(f"{API}/orders/{response.json['order']['id']}",
                       headers=buyer["headers"]).json
    shipping = settings().ORDER_SHIPPING_FEE_PAISE
    assert (order["source"], order["bundle_id"]) == ("bundle", bundle["id"])
    assert sorted(i["listing_id"] for i in order["items"]) == items
    assert (order["items_total_paise"], order["discount_paise"]) == (178_333, 26_749)
    assert order["total_paise"] == order["held_paise"] == 151_584 + shipping  # one shipment
    assert all(row(Listing, listing).status == "sold" for listing in items)
    assert response.json["bundle"]["state"] == "purchased"

    again = buy(client, buyer, bundle["id"])  # a retried request: the same order
    assert again.status_code == 200 and again.json["order"]["id"] == order["id"]
    other_key = buy(client, buyer, bundle["id"], key="bundle-key-2")
    assert (other_key.status_code, other_key.json["error"]["code"]) == (409, "bundle_closed")
    assert count(Order) == 1
    # A new bundle with the same seller starts empty.
    assert new_bundle(client, buyer, seller)["id"] != bundle["id"]


def test_an_item_sold_meanwhile_fails_the_purchase_cleanly_then_is_dropped(
        client, buyer, seller, items):
    bundle = new_bundle(client, buyer, seller, items)
    rival = register(client)
    sold = client.post(f"{API}/orders", headers=rival["headers"],
                       json={"listing_id": items[1], "payment_method": "test_card_ok"})
    assert sold.status_code == 201

    refused = buy(client, buyer, bundle["id"])
    assert (refused.status_code, refused.json["error"]["code"]) == (409, "not_available")
    assert "Nothing was charged" in refused.json["error"]["message"]
    assert refused.json["error"]["fields"] == {"listing_ids": str(items[1])}
    assert count(Order, Order.buyer_id == buyer["id"]) == 0
    assert count(LedgerTransaction) == 1  # the rival's capture only
    assert [row(Listing, i).status for i in items] == ["live", "sold", "live"]
    assert row(Bundle, bundle["id"]).state == "open"

    bundle = get_bundle(client, buyer, bundle["id"])
    assert [i["listing_id"] for i in bundle["items"]] == [items[0], items[2]]
    (dropped,) = bundle["dropped_items"]
    assert (dropped["listing_id"], dropped["reason"]) == (items[1], "sold")
    assert bundle["messages"] == [dropped["message"]]
    assert "was sold to someone else and has been removed from your bundle" in \
        dropped["message"]
    assert bundle["price"]["total_paise"] == 133_332  # two items: no discount now
    assert get_bundle(client, buyer, bundle["id"])["messages"] == []  # told once

    bought = buy(client, buyer, bundle["id"], key="bundle-key-2")
    assert bought.status_code == 201
    assert bought.json["order"]["items_total_paise"] == 133_332


def test_a_declined_payment_leaves_the_bundle_as_it_was(client, buyer, seller, items):
    bundle = new_bundle(client, buyer, seller, items)
    response = buy(client, buyer, bundle["id"], method="test_card_declined")
    assert (response.status_code, response.json["error"]["code"]) == (402, "payment_declined")
    assert row(Bundle, bundle["id"]).state == "open" and count(Order) == 0
    assert count(LedgerTransaction) == 0
    assert all(row(Listing, listing).status == "live" for listing in items)


def test_bundle_refusals(client, buyer, seller, items):
    other_seller = register(client)
    elsewhere = live_listing(other_seller, 50_000)
    own = client.post(f"{API}/bundles", headers=seller["headers"],
                      json={"seller_id": seller["id"]})
    assert (own.status_code, own.json["error"]["code"]) == (409, "own_listing")
    assert client.post(f"{API}/bundles", headers=buyer["headers"],
                       json={"seller_id": 999_999}).status_code == 404
    assert client.post(f"{API}/bundles", headers=buyer["headers"],
                       json={"seller_id": "me"}).status_code == 422
    bundle = new_bundle(client, buyer, seller)
    url = f"{API}/bundles/{bundle['id']}"
    wrong = client.post(f"{url}/items/{elsewhere}", headers=buyer["headers"])
    assert (wrong.status_code, wrong.json["error"]["code"]) == (409, "other_seller")
    client.post(f"{API}/listings/{items[0]}/withdraw", headers=seller["headers"])
    assert client.post(f"{url}/items/{items[0]}", headers=buyer["headers"]).status_code == 404
    assert client.delete(f"{url}/items/{items[1]}", headers=buyer["headers"]).status_code \
        == 404
    empty = buy(client, buyer, bundle["id"])
    assert (empty.status_code, empty.json["error"]["code"]) == (409, "bundle_empty")
    stranger = register(client)
    assert client.get(url, headers=stranger["headers"]).status_code == 404
    assert client.post(f"{url}/items/{items[1]}", headers=stranger["headers"]).status_code \
        == 404
    assert client.post(f"{url}/items/{items[1]}", headers=seller["headers"]).status_code \
        == 403
    for body in ({"payment_method": "test_card_ok"}, {"idempotency_key": "k"},
                 {"payment_method": "cheque", "idempotency_key": "k"}):
        assert client.post(f"{url}/buy", headers=buyer["headers"], json=body).status_code \
            == 422
    assert count(BundleItem) == 0 and count(Order) == 0


# --- one offer for the whole bundle ----------------------------------------------------

def test_a_bundle_offer_is_negotiated_and_accepted_into_one_order(client, buyer, seller,
                                                                  items):
    bundle = new_bundle(client, buyer, seller, items)
    url = f"{API}/bundles/{bundle['id']}/offers"
    too_high = client.post(url, headers=buyer["headers"],
                           json={"amount_paise": 151_584, "payment_method": "test_card_ok"})
    assert too_high.status_code == 422  # not below the discounted total
    too_low = client.post(url, headers=buyer["headers"],
                          json={"amount_paise": 75_791, "payment_method": "test_card_ok"})
    assert too_low.status_code == 422  # half of 151,584 is 75,792
    response = client.post(url, headers=buyer["headers"],
                           json={"amount_paise": 120_000, "payment_method": "test_card_ok"})
    assert response.status_code == 201, response.json
    offer = response.json["offer"]
    assert (offer["origin"], offer["bundle_id"], offer["list_price_paise"]) == \
        ("bundle", bundle["id"], 151_584)
    assert get_bundle(client, buyer, bundle["id"])["open_offer_id"] == offer["id"]
    locked = client.delete(f"{API}/bundles/{bundle['id']}/items/{items[0]}",
                           headers=buyer["headers"])
    assert (locked.status_code, locked.json["error"]["code"]) == (409,
                                                                  "bundle_has_open_offer")
    second = client.post(url, headers=buyer["headers"],
                         json={"amount_paise": 130_000, "payment_method": "test_card_ok"})
    assert (second.status_code, second.json["error"]["code"]) == (409, "offer_already_active")

    act(client, seller, offer["id"], "counter", {"amount_paise": 140_000})
    accepted = act(client, buyer, offer["id"], "accept")
    assert accepted.status_code == 200, accepted.json
    order = client.get(f"{API}/orders/{accepted.json['order']['id']}",
                       headers=buyer["headers"]).json
    assert (order["source"], order["offer_id"], order["bundle_id"]) == \
        ("offer", offer["id"], bundle["id"])
    assert order["items_total_paise"] - order["discount_paise"] == 140_000  # the agreed price
    assert order["held_paise"] == 140_000 + settings().ORDER_SHIPPING_FEE_PAISE
    assert row(Bundle, bundle["id"]).state == "purchased"
    assert count(Order) == 1


def test_a_bundle_offer_whose_item_sold_meanwhile_cannot_be_accepted(client, buyer, seller,
                                                                     items):
    bundle = new_bundle(client, buyer, seller, items)
    offer = client.post(f"{API}/bundles/{bundle['id']}/offers", headers=buyer["headers"],
                        json={"amount_paise": 120_000, "payment_method": "test_card_ok"}
                        ).json["offer"]
    rival = register(client)
    client.post(f"{API}/orders", headers=rival["headers"],
                json={"listing_id": items[2], "payment_method": "test_card_ok"})
    refused = act(client, seller, offer["id"], "accept")
    assert (refused.status_code, refused.json["error"]["code"]) == (409, "not_available")
    assert row(Offer, offer["id"]).state == "superseded"
    assert count(Order, Order.buyer_id == buyer["id"]) == 0
    assert [row(Listing, i).status for i in items] == ["live", "live", "sold"]
    # The bundle is editable again once the item is dropped.
    assert len(get_bundle(client, buyer, bundle["id"])["items"]) == 2
