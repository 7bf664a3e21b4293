"""Offers on listings through the public API: every transition, every refusal, and an
accepted offer becoming an order with the agreed price held."""
from datetime import timedelta

import pytest

from foundation import clock
from foundation.config import ConfigError, Settings
from foundation.config import current as settings
from marketplace_core.ledger.models import LedgerTransaction
from marketplace_core.listings.models import Listing
from marketplace_core.offers.models import Offer, OfferEvent
from marketplace_core.orders.models import Order
from tests.builders import API
from tests.builders.members import register
from tests.builders.offers import act, live_listing, make_offer
from tests.builders.rows import count, row

PRICE = 200_000  # Rs 2,000


@pytest.fixture
def people(client, t0):
    return {"seller": register(client), "buyer": register(client), "other": register(client)}


@pytest.fixture
def listing_id(people):
    return live_listing(people["seller"], PRICE)


def offer_of(response) -> dict:
    assert response.status_code in (200, 201), response.json
    return response.json["offer"]


def history(offer: dict) -> list[tuple]:
    return [(h["from_state"], h["to_state"], h["amount_paise"], h["by"], h["reason"])
            for h in offer["history"]]


# --- the happy paths -------------------------------------------------------------------

def test_offer_counter_counter_and_the_sellers_acceptance_places_the_order(
        client, people, listing_id, t0):
    seller, buyer = people["seller"], people["buyer"]
    offer = offer_of(make_offer(client, buyer, listing_id, 120_000))
    assert offer["state"] == "pending_seller" and offer["waiting_for"] == "seller"
    assert offer["expires_at"] == (t0 + timedelta(hours=24)).isoformat()

    clock.freeze(t0 + timedelta(hours=2))
    offer = offer_of(act(client, seller, offer["id"], "counter", {"amount_paise": 180_000}))
    assert (offer["state"], offer["amount_paise"]) == ("pending_buyer", 180_000)
    assert offer["expires_at"] == (t0 + timedelta(hours=26)).isoformat()  # a fresh 24 h

    offer = offer_of(act(client, buyer, offer["id"], "counter", {"amount_paise": 150_000}))
    assert (offer["state"], offer["waiting_for"]) == ("pending_seller", "seller")

    response = act(client, seller, offer["id"], "accept")
    offer = offer_of(response)
    assert offer["state"] == "accepted" and offer["order_id"] == response.json["order"]["id"]
    assert history(offer) == [
        (None, "pending_seller", 120_000, "buyer", "offer_made"),
        ("pending_seller", "pending_buyer", 180_000, "seller", "seller_countered"),
        ("pending_buyer", "pending_seller", 150_000, "buyer", "buyer_countered"),
        ("pending_seller", "accepted", 150_000, "seller", "seller_accepted"),
    ]

    order = client.get(f"{API}/orders/{offer['order_id']}", headers=buyer["headers"]).json
    shipping = settings().ORDER_SHIPPING_FEE_PAISE
    assert order["source"] == "offer" and order["offer_id"] == offer["id"]
    assert order["items"][0]["price_paise"] == 150_000
    assert order["items_total_paise"] == 150_000 and order["discount_paise"] == 0
    assert order["payment_method"] == "test_card_ok"  # the one stored with the offer
    assert order["held_paise"] == order["captured_paise"] == 150_000 + shipping
    assert row(Listing, listing_id).status == "sold"


def test_the_buyer_accepts_a_counter_paying_with_another_method(client, people, listing_id):
    seller, buyer = people["seller"], people["buyer"]
    offer = offer_of(make_offer(client, buyer, listing_id, 110_000, "test_upi_ok"))
    act(client, seller, offer["id"], "counter", {"amount_paise": 170_000})
    response = act(client, buyer, offer["id"], "accept", {"payment_method": "test_card_ok"})
    assert response.status_code == 200, response.json
    order = client.get(f"{API}/orders/{response.json['order']['id']}",
                       headers=buyer["headers"]).json
    assert (order["payment_method"], order["items_total_paise"]) == ("test_card_ok", 170_000)
    assert order["held_paise"] == 170_000 + settings().ORDER_SHIPPING_FEE_PAISE


def test_seller_declines_and_the_offer_is_closed(client, people, listing_id):
    offer = offer_of(make_offer(client, people["buyer"], listing_id, 120_000))
    offer = offer_of(act(client, people["seller"], offer["id"], "decline"))
    assert offer["state"] == "declined" and offer["waiting_for"] is None
    for member, action, body in ((people["seller"], "accept", None),
                                 (people["buyer"], "counter", {"amount_paise": 130_000}),
                                 (people["seller"], "decline", None)):
        response = act(client, member, offer["id"], action, body)
        assert response.status_code == 409 and response.json["error"]["code"] == \
            "illegal_transition"
    # The negotiation is over, so the buyer may start a new one.
    assert make_offer(client, people["buyer"], listing_id, 125_000).status_code == 201


def test_buyer_declines_a_counter(client, people, listing_id):
    offer = offer_of(make_offer(client, people["buyer"], listing_id, 120_000))
    act(client, people["seller"], offer["id"], "counter", {"amount_paise": 190_000})
    offer = offer_of(act(client, people["buyer"], offer["id"], "decline"))
    assert offer["state"] == "declined"
    assert history(offer)[-1] == ("pending_buyer", "declined", 190_000, "buyer",
                                  "buyer_declined")


def test_the_proposer_may_withdraw_but_not_the_side_whose_turn_it_is(client, people,
                                                                      listing_id):
    seller, buyer = people["seller"], people["buyer"]
    offer = offer_of(make_offer(client, buyer, listing_id, 120_000))
    refused = act(client, seller, offer["id"], "withdraw")
    assert refused.status_code == 409 and refused.json["error"]["code"] == "not_your_proposal"
    act(client, seller, offer["id"], "counter", {"amount_paise": 190_000})
    offer = offer_of(act(client, seller, offer["id"], "withdraw"))  # the seller's counter
    assert offer["state"] == "withdrawn"

    second = offer_of(make_offer(client, buyer, listing_id, 130_000))
    assert offer_of(act(client, buyer, second["id"], "withdraw"))["state"] == "withdrawn"


def test_only_the_side_whose_turn_it_is_may_answer(client, people, listing_id):
    seller, buyer = people["seller"], people["buyer"]
    offer = offer_of(make_offer(client, buyer, listing_id, 120_000))
    for action, body in (("accept", None), ("decline", None),
                         ("counter", {"amount_paise": 130_000})):
        response = act(client, buyer, offer["id"], action, body)
        assert response.status_code == 409 and response.json["error"]["code"] == \
            "not_your_turn", action
    act(client, seller, offer["id"], "counter", {"amount_paise": 190_000})
    response = act(client, seller, offer["id"], "accept")
    assert response.status_code == 409 and response.json["error"]["code"] == "not_your_turn"
    assert count(OfferEvent) == 2 and count(Order) == 0


def test_counters_must_fall_strictly_between_the_two_sides(client, people, listing_id):
    seller, buyer = people["seller"], people["buyer"]
    offer = offer_of(make_offer(client, buyer, listing_id, 120_000))
    for amount in (120_000, 119_000, PRICE, PRICE + 1):
        response = act(client, seller, offer["id"], "counter", {"amount_paise": amount})
        assert response.status_code == 422, amount
        assert response.json["error"]["fields"]["amount_paise"] == "between 120001 and 199999"
    act(client, seller, offer["id"], "counter", {"amount_paise": 160_000})
    for amount in (120_000, 160_000, 170_000):
        response = act(client, buyer, offer["id"], "counter", {"amount_paise": amount})
        assert response.status_code == 422, amount
    assert offer_of(act(client, buyer, offer["id"], "counter",
                        {"amount_paise": 120_001}))["state"] == "pending_seller"
    assert count(OfferEvent) == 3


def test_the_minimum_offer_is_half_the_price_rounded_up(client, people):
    listing = live_listing(people["seller"], 199_999)  # half is 99,999.5 paise
    refused = make_offer(client, people["buyer"], listing, 99_999)
    assert refused.status_code == 422
    assert refused.json["error"]["code"] == "offer_below_minimum"
    assert refused.json["error"]["fields"] == {"amount_paise": "at least 100000"}
    assert make_offer(client, people["buyer"], listing, 100_000).status_code == 201


# --- refusals: a 4xx JSON error and nothing written --------------------------------------

def _not_live(client, people, kind: str) -> int:
    seller = people["seller"]
    if kind == "pending_authentication":  # over Rs 10,000 and not authenticated
        return live_listing(seller, settings().AUTHENTICATION_THRESHOLD_PAISE + 100)
    listing = live_listing(seller, PRICE)
    if kind == "removed":
        assert client.post(f"{API}/listings/{listing}/withdraw",
                           headers=seller["headers"]).status_code == 200
    if kind == "sold":
        response = client.post(f"{API}/orders", headers=people["other"]["headers"],
                               json={"listing_id": listing, "payment_method": "test_card_ok"})
        assert response.status_code == 201, response.json
    return listing


@pytest.mark.parametrize("kind", ["pending_authentication", "removed", "sold"])
def test_no_offer_on_a_listing_that_is_not_live(client, people, kind):
    listing = _not_live(client, people, kind)
    response = make_offer(client, people["buyer"], listing, 120_000)
    assert response.status_code == 404 and response.json["error"]["code"] == "not_found"
    assert count(Offer) == 0 and count(OfferEvent) == 0


@pytest.mark.parametrize("body, status, code", [
    ({"amount_paise": PRICE, "payment_method": "test_card_ok"}, 422, "offer_not_below_price"),
    ({"amount_paise": PRICE + 1, "payment_method": "test_card_ok"}, 422,
     "offer_not_below_price"),
    ({"amount_paise": 99_999, "payment_method": "test_card_ok"}, 422, "offer_below_minimum"),
    ({"amount_paise": 120_000, "payment_method": "cash_on_delivery"}, 422,
     "unknown_payment_method"),
    ({"amount_paise": 120_000}, 422, "validation_failed"),
    ({"amount_paise": "120000", "payment_method": "test_card_ok"}, 422, "validation_failed"),
    ({"amount_paise": True, "payment_method": "test_card_ok"}, 422, "validation_failed"),
    ({"amount_paise": -5, "payment_method": "test_card_ok"}, 422, "validation_failed"),
    ({"amount_paise": 120_000, "payment_method": "test_card_ok", "note": "hi"}, 422,
     "validation_failed"),
])
def test_bad_offers_are_refused_and_nothing_is_written(client, people, listing_id, body,
                                                       status, code):
    response = client.post(f"{API}/listings/{listing_id}/offers", json=body,
                           headers=people["buyer"]["headers"])
    assert (response.status_code, response.json["error"]["code"]) == (status, code)
    assert count(Offer) == 0 and count(OfferEvent) == 0


def test_no_offer_on_your_own_listing_without_sign_in_or_without_json(client, people,
                                                                       listing_id):
    own = make_offer(client, people["seller"], listing_id, 120_000)
    assert (own.status_code, own.json["error"]["code"]) == (409, "own_listing")
    anonymous = client.post(f"{API}/listings/{listing_id}/offers",
                            json={"amount_paise": 120_000, "payment_method": "test_card_ok"})
    assert anonymous.status_code == 401
    not_json = client.post(f"{API}/listings/{listing_id}/offers", data="amount=1",
                           headers=people["buyer"]["headers"])
    assert not_json.status_code == 400 and "error" in not_json.json
    missing = make_offer(client, people["buyer"], 999_999, 120_000)
    assert missing.status_code == 404
    assert count(Offer) == 0


def test_one_open_negotiation_per_buyer_per_listing(client, people, listing_id):
    first = offer_of(make_offer(client, people["buyer"], listing_id, 120_000))
    again = make_offer(client, people["buyer"], listing_id, 130_000)
    assert again.status_code == 409
    assert again.json["error"]["code"] == "offer_already_active"
    assert again.json["error"]["fields"] == {"offer_id": str(first["id"])}
    # Another buyer negotiates independently.
    assert make_offer(client, people["other"], listing_id, 130_000).status_code == 201
    assert count(Offer) == 2


def test_only_the_parties_see_or_answer_an_offer(client, people, listing_id):
    offer = offer_of(make_offer(client, people["buyer"], listing_id, 120_000))
    stranger = people["other"]
    assert client.get(f"{API}/offers/{offer['id']}", headers=stranger["headers"]).status_code \
        == 404
    for action in ("accept", "decline", "withdraw"):
        assert act(client, stranger, offer["id"], action).status_code == 404
    seen_by_seller = client.get(f"{API}/offers/{offer['id']}",
                                headers=people["seller"]["headers"]).json["offer"]
    assert "payment_method" not in seen_by_seller  # the buyer's business
    assert seen_by_seller["your_side"] == "seller"
    assert client.get(f"{API}/offers/{offer['id']}").status_code == 401
    assert count(OfferEvent) == 1


# --- acceptance that cannot happen leaves the offer as it was ---------------------------

def test_a_declined_payment_leaves_the_offer_pending_and_charges_nothing(client, people,
                                                                         listing_id):
    seller, buyer = people["seller"], people["buyer"]
    offer = offer_of(make_offer(client, buyer, listing_id, 120_000, "test_card_declined"))
    response = act(client, seller, offer["id"], "accept")
    assert response.status_code == 402
    assert response.json["error"]["code"] == "payment_declined"
    after = row(Offer, offer["id"])
    assert (after.state, after.order_id) == ("pending_seller", None)
    assert count(Order) == 0 and count(LedgerTransaction) == 0
    assert row(Listing, listing_id).status == "live"
    assert count(OfferEvent) == 1

    # The buyer answers a counter with the declined card, then with a good one.
    act(client, seller, offer["id"], "counter", {"amount_paise": 180_000})
    declined = act(client, buyer, offer["id"], "accept",
                   {"payment_method": "test_card_declined"})
    assert declined.status_code == 402 and row(Offer, offer["id"]).state == "pending_buyer"
    accepted = act(client, buyer, offer["id"], "accept", {"payment_method": "test_upi_ok"})
    assert accepted.status_code == 200 and count(Order) == 1


def test_the_seller_sends_no_payment_method_and_the_buyer_needs_one(client, people,
                                                                    listing_id):
    offer = offer_of(make_offer(client, people["buyer"], listing_id, 120_000))
    response = act(client, people["seller"], offer["id"], "accept",
                   {"payment_method": "test_card_ok"})
    assert response.status_code == 422 and count(Order) == 0
    sellers_method = act(client, people["seller"], offer["id"], "counter",
                         {"amount_paise": 150_000, "payment_method": "test_card_ok"})
    assert sellers_method.status_code == 422
    assert row(Offer, offer["id"]).state == "pending_seller"


def test_an_item_bought_meanwhile_supersedes_open_offers(client, people, listing_id):
    offer = offer_of(make_offer(client, people["buyer"], listing_id, 120_000))
    bought = client.post(f"{API}/orders", headers=people["other"]["headers"],
                         json={"listing_id": listing_id, "payment_method": "test_card_ok"})
    assert bought.status_code == 201
    after = offer_of(client.get(f"{API}/offers/{offer['id']}",
                                headers=people["buyer"]["headers"]))
    assert after["state"] == "superseded"
    assert history(after)[-1] == ("pending_seller", "superseded", 120_000, "system",
                                  "item_sold")
    response = act(client, people["seller"], offer["id"], "accept")
    assert (response.status_code, response.json["error"]["code"]) == (409, "not_available")
    assert count(Order) == 1


def test_a_withdrawn_listing_supersedes_open_offers(client, people, listing_id):
    offer = offer_of(make_offer(client, people["buyer"], listing_id, 120_000))
    client.post(f"{API}/listings/{listing_id}/withdraw", headers=people["seller"]["headers"])
    assert row(Offer, offer["id"]).state == "superseded"


def test_a_listing_sent_back_to_authentication_cannot_be_sold_by_offer(client, people,
                                                                       listing_id):
    seller = people["seller"]
    offer = offer_of(make_offer(client, people["buyer"], listing_id, 120_000))
    over = settings().AUTHENTICATION_THRESHOLD_PAISE + 1
    response = client.patch(f"{API}/listings/{listing_id}", json={"price_paise": over},
                            headers=seller["headers"])
    assert response.json["status"] == "pending_authentication"
    refused = act(client, seller, offer["id"], "accept")
    assert (refused.status_code, refused.json["error"]["code"]) == (409, "not_available")
    assert row(Offer, offer["id"]).state == "pending_seller" and count(Order) == 0


# --- reading ---------------------------------------------------------------------------

def test_listing_offers_by_role_and_state(client, people, listing_id):
    seller, buyer, other = people["seller"], people["buyer"], people["other"]
    first = offer_of(make_offer(client, buyer, listing_id, 120_000))
    second = offer_of(make_offer(client, other, listing_id, 130_000))
    act(client, seller, first["id"], "decline")

    def ids(member, **params):
        response = client.get(f"{API}/offers", headers=member["headers"], query_string=params)
        assert response.status_code == 200, response.json
        return [item["id"] for item in response.json["items"]]

    assert ids(seller, role="seller") == [second["id"], first["id"]]
    assert ids(seller, role="seller", state="active") == [second["id"]]
    assert ids(seller, role="seller", state="declined") == [first["id"]]
    assert ids(buyer) == [first["id"]]
    assert ids(seller, role="buyer") == []
    page = client.get(f"{API}/offers", headers=seller["headers"],
                      query_string={"role": "seller", "limit": 1}).json
    assert page["next"] == second["id"]
    assert ids(seller, role="seller", before=page["next"]) == [first["id"]]
    for params in ({"role": "admin"}, {"state": "haggling"}, {"limit": 0}):
        response = client.get(f"{API}/offers", headers=seller["headers"], query_string=params)
        assert response.status_code == 422, params


def test_the_endpoints_are_documented(client):
    paths = client.get(f"{API}/openapi.json").json["paths"]
    for path, method in (("/api/v1/listings/{listing_id}/offers", "post"),
                         ("/api/v1/offers", "get"), ("/api/v1/offers/{offer_id}", "get"),
                         ("/api/v1/offers/{offer_id}/accept", "post"),
                         ("/api/v1/offers/{offer_id}/decline", "post"),
                         ("/api/v1/offers/{offer_id}/counter", "post"),
                         ("/api/v1/listings/{listing_id}/offers-to-likers", "post"),
                         ("/api/v1/me/bundle-discount", "put"),
                         ("/api/v1/me/bundle-discount", "get"),
                         ("/api/v1/bundles", "post"), ("/api/v1/bundles/{bundle_id}", "get"),
                         ("/api/v1/bundles/{bundle_id}/items/{listing_id}", "post"),
                         ("/api/v1/bundles/{bundle_id}/items/{listing_id}", "delete"),
                         ("/api/v1/bundles/{bundle_id}/buy", "post"),
                         ("/api/v1/bundles/{bundle_id}/offers", "post")):
        assert method in paths[path], (path, method)


@pytest.mark.parametrize("name, value", [("OFFER_MIN_PERCENT_OF_PRICE", 0),
                                         ("OFFER_MIN_PERCENT_OF_PRICE", 100),
                                         ("LIKER_OFFER_MIN_DISCOUNT_PERCENT", 0),
                                         ("BUNDLE_DISCOUNT_MAX_PERCENT", 100),
                                         ("OFFER_EXPIRY_HOURS", 0), ("OFFER_FLOOR_PAISE", -1),
                                         ("BUNDLE_MAX_ITEMS", 0)])
def test_offer_rules_are_validated_at_start_up(name, value):
    with pytest.raises(ConfigError, match=name):
        Settings.from_env(environ={}, SECRET_KEY="k" * 40, **{name: value})
