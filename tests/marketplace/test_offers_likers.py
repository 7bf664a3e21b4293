"""Offers to likers: the seller's discounted offer to everyone who liked a listing; the
first liker to accept buys, the others find the item gone."""
from functools import partial

import pytest

from foundation import db
from foundation.config import current as settings
from marketplace_core.offers.models import Offer, OfferEvent
from marketplace_core.orders.models import Order
from tests.builders import API
from tests.builders.members import register
from tests.builders.offers import act, live_listing, make_offer
from tests.builders.rows import count, row
from tests.concurrency import results_in_threads
from tests.conftest import EXTERNAL_DB

PRICE = 200_000


@pytest.fixture
def seller(client, t0):
    return register(client)


@pytest.fixture
def listing_id(seller):
    return live_listing(seller, PRICE)


def likers(client, listing_id: int, how_many: int) -> list[dict]:
    members = [register(client) for _ in range(how_many)]
    for member in members:
        response = client.post(f"{API}/listings/{listing_id}/like", headers=member["headers"])
        assert response.status_code == 200, response.json
    return members


def send(client, seller: dict, listing_id: int, amount_paise: int):
    return client.post(f"{API}/listings/{listing_id}/offers-to-likers",
                       headers=seller["headers"], json={"amount_paise": amount_paise})


def offer_for(client, member: dict) -> dict:
    items = client.get(f"{API}/offers", headers=member["headers"]).json["items"]
    assert len(items) == 1
    return items[0]


def test_every_liker_gets_the_offer_and_the_first_to_accept_buys(client, seller, listing_id,
                                                                  t0):
    first, second, third = likers(client, listing_id, 3)
    bystander = register(client)
    response = send(client, seller, listing_id, 180_000)  # exactly 10% off
    assert response.status_code == 201, response.json
    assert response.json["sent"] == 3
    assert client.get(f"{API}/offers", headers=bystander["headers"]).json["items"] == []

    offers = {m["id"]: offer_for(client, m) for m in (first, second, third)}
    for member_id, offer in offers.items():
        assert (offer["state"], offer["origin"], offer["amount_paise"]) == \
            ("pending_buyer", "likers", 180_000)
        assert offer["buyer_id"] == member_id and offer["waiting_for"] == "buyer"

    won = act(client, second, offers[second["id"]]["id"], "accept",
              {"payment_method": "test_upi_ok"})
    assert won.status_code == 200, won.json
    order = client.get(f"{API}/orders/{won.json['order']['id']}",
                       headers=second["headers"]).json
    assert order["items_total_paise"] == 180_000
    assert order["held_paise"] == 180_000 + settings().ORDER_SHIPPING_FEE_PAISE

    for late in (first, third):
        refused = act(client, late, offers[late["id"]]["id"], "accept",
                      {"payment_method": "test_card_ok"})
        assert (refused.status_code, refused.json["error"]["code"]) == (409, "not_available")
        assert row(Offer, offers[late["id"]]["id"]).state == "superseded"
    assert count(Order) == 1


def test_a_liker_counters_and_the_seller_accepts(client, seller, listing_id):
    (liker,) = likers(client, listing_id, 1)
    send(client, seller, listing_id, 170_000)
    offer = offer_for(client, liker)
    without_method = act(client, liker, offer["id"], "counter", {"amount_paise": 150_000})
    assert without_method.status_code == 422  # the seller could not charge anything
    for amount in (99_999, 170_000):  # below the minimum offer; not below the seller's
        assert act(client, liker, offer["id"], "counter",
                   {"amount_paise": amount, "payment_method": "test_card_ok"}
                   ).status_code == 422
    countered = act(client, liker, offer["id"], "counter",
                    {"amount_paise": 150_000, "payment_method": "test_card_ok"})
    assert countered.json["offer"]["state"] == "pending_seller"
    accepted = act(client, seller, offer["id"], "accept")
    assert accepted.status_code == 200
    assert accepted.json["order"]["items_total_paise"] == 150_000


def test_likers_with_an_open_negotiation_keep_it(client, seller, listing_id):
    haggler, quiet = likers(client, listing_id, 2)
    own = make_offer(client, haggler, listing_id, 110_000).json["offer"]
    response = send(client, seller, listing_id, 175_000)
    assert response.json["sent"] == 1
    assert offer_for(client, quiet)["amount_paise"] == 175_000
    assert offer_for(client, haggler)["id"] == own["id"]
    assert row(Offer, own["id"]).state == "pending_seller"
    again = send(client, seller, listing_id, 170_000)  # everyone is busy now
    assert (again.status_code, again.json["error"]["code"]) == (409, "no_likers")


@pytest.mark.parametrize("amount, code", [(180_001, "liker_offer_too_high"),
                                          (PRICE, "liker_offer_too_high"),
                                          (99_999, "offer_below_minimum")])
def test_offers_to_likers_need_the_minimum_discount(client, seller, listing_id, amount, code):
    likers(client, listing_id, 1)
    response = send(client, seller, listing_id, amount)
    assert (response.status_code, response.json["error"]["code"]) == (422, code)
    assert count(Offer) == 0 and count(OfferEvent) == 0


def test_only_the_seller_of_a_live_liked_listing_may_send(client, seller, listing_id):
    (liker,) = likers(client, listing_id, 1)
    assert send(client, liker, listing_id, 170_000).status_code == 403
    lonely = live_listing(seller, PRICE)
    nobody = send(client, seller, lonely, 170_000)
    assert (nobody.status_code, nobody.json["error"]["code"]) == (409, "no_likers")
    client.post(f"{API}/listings/{listing_id}/withdraw", headers=seller["headers"])
    gone = send(client, seller, listing_id, 170_000)
    assert (gone.status_code, gone.json["error"]["code"]) == (409, "not_available")
    assert send(client, seller, 999_999, 170_000).status_code == 404
    assert count(Offer) == 0


@pytest.mark.skipif(not EXTERNAL_DB, reason="row locks and real concurrency need PostgreSQL")
def test_likers_accepting_at_the_same_moment_buy_the_item_exactly_once(client, seller,
                                                                        listing_id):
    members = likers(client, listing_id, 6)
    send(client, seller, listing_id, 180_000)
    offer_ids = {m["id"]: offer_for(client, m)["id"] for m in members}

    def accept(member: dict) -> tuple[int, str | None]:
        try:
            response = act(client, member, offer_ids[member["id"]], "accept",
                           {"payment_method": "test_card_ok"})
            return response.status_code, (response.json.get("error") or {}).get("code")
        finally:
            db.session.remove()

    outcomes = results_in_threads([partial(accept, member) for member in members])
    assert sorted(outcomes) == [(200, None)] + [(409, "not_available")] * (len(members) - 1)
    assert count(Order) == 1
    states = sorted(row(Offer, offer_id).state for offer_id in offer_ids.values())
    assert states == ["accepted"] + ["superseded"] * (len(members) - 1)
