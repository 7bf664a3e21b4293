"""Order events become notifications for the buyer and the seller."""
from __future__ import annotations

from datetime import timedelta

from foundation import clock, db, events
from marketplace_core.orders import services as orders
from marketplace_core.social.models import Notification
from tests.builders import API
from tests.builders.rows import count
from tests.builders.social import T0, kinds, make_listing, notifications, register


def _buy(client, buyer, listing_id) -> int:
    response = client.post(f"{API}/orders", headers=buyer.headers,
                           json={"listing_id": listing_id, "payment_method": "test_card_ok"})
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def test_a_sale_delivery_and_acceptance_notify_the_right_side(client):
    clock.freeze(T0)
    seller, buyer = register(client, "seller"), register(client, "buyer")
    listing_id = make_listing(seller)

    order_id = _buy(client, buyer, listing_id)
    with db.unit_of_work() as s:
        order = orders.get_order(s, order_id)
        orders.mark_shipped(s, order)
        orders.mark_delivered(s, order)
    clock.freeze(T0 + timedelta(hours=1))
    accepted = client.post(f"{API}/orders/{order_id}/accept", headers=buyer.headers)

    assert accepted.status_code == 200, accepted.get_json()
    sold = notifications(client, seller)["items"]
    assert [(n["kind"], n["listing_id"], n["payload"]["order_id"]) for n in sold] == [
        ("order_completed", listing_id, order_id), ("order_placed", listing_id, order_id)]
    assert sold[1]["actor"]["username"] == "buyer"
    assert sold[1]["payload"]["title"] == "Banarasi silk saree"
    assert kinds(client, buyer) == ["order_delivered"]


def test_a_buyer_cancelling_tells_only_the_seller(client):
    clock.freeze(T0)
    seller, buyer = register(client, "seller"), register(client, "buyer")
    order_id = _buy(client, buyer, make_listing(seller))

    cancelled = client.post(f"{API}/orders/{order_id}/cancel", headers=buyer.headers,
                            json={"reason": "Bought by mistake"})

    assert cancelled.status_code == 200, cancelled.get_json()
    latest = notifications(client, seller)["items"][0]
    assert (latest["kind"], latest["payload"]["reason"]) == (
        "order_cancelled", "Bought by mistake")
    assert kinds(client, buyer) == []


def test_order_events_announced_twice_or_for_unknown_orders_notify_once_or_not_at_all(app,
                                                                                    client):
    clock.freeze(T0)
    seller, buyer = register(client, "seller"), register(client, "buyer")
    order_id = _buy(client, buyer, make_listing(seller))

    with db.unit_of_work() as s:
        events.emit(s, events.OrderPlaced(order_id=order_id))
        events.emit(s, events.OrderPlaced(order_id=987_654))
        events.emit(s, events.OrderCancelled(order_id=987_654, reason="gone"))

    assert kinds(client, seller) == ["order_placed"]
    assert count(Notification) == 1
