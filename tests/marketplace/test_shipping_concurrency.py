"""Races on real PostgreSQL with real threads: a carrier retry racing the original
delivery, and a scan racing the buyer's cancellation.  (SQLite serialises writers and
ignores FOR UPDATE, so these run only where DATABASE_URL names PostgreSQL.)"""
from __future__ import annotations

from datetime import timedelta

from foundation import clock
from marketplace_core.members.models import Member
from marketplace_core.orders import services as orders
from marketplace_core.orders.models import Order
from marketplace_core.shipping import webhook
from marketplace_core.shipping.carrier import SimulatedCarrier, in_process_transport
from tests.builders.orders import T0
from tests.builders.orders import order_row as order_of
from tests.builders.shipping import make_sale, shipment_of, tracking_events
from tests.concurrency import all_at_once, postgresql_only

pytestmark = postgresql_only("row locks and concurrent writers need PostgreSQL")

WORKERS = 8


def signed_in_transit_scan(order_id: int) -> tuple[bytes, str]:
    """The carrier's webhook body saying the order's parcel is in transit, and its
    signature header."""
    carrier = SimulatedCarrier(in_process_transport)
    body = carrier.encode(carrier.event(shipment_of(order_id).tracking_number, "in_transit"))
    return body, carrier.headers_for(body)[webhook.SIGNATURE_HEADER]


def test_one_event_delivered_concurrently_is_recorded_once(client):
    clock.freeze(T0)
    sale = make_sale(client)
    clock.freeze(T0 + timedelta(hours=2))
    body, header = signed_in_transit_scan(sale["order_id"])
    results = all_at_once(WORKERS, lambda s, i: webhook.receive(s, body, header)["duplicate"])
    assert sorted(results) == [False] + [True] * (WORKERS - 1)
    assert len(tracking_events(sale["order_id"], source="carrier")) == 1
    assert order_of(sale["order_id"]).status == "shipped"


def test_a_scan_racing_the_cancellation_lets_exactly_one_win(client):
    clock.freeze(T0)
    sale = make_sale(client)
    clock.freeze(T0 + timedelta(hours=1))
    body, header = signed_in_transit_scan(sale["order_id"])

    def work(s, i):
        if i % 2:
            return webhook.receive(s, body, header)["shipment_status"]
        order = s.get(Order, sale["order_id"])
        return orders.cancel_by_buyer(s, order, s.get(Member, sale["buyer"]["id"]),
                                      "changed my mind").status

    results = all_at_once(WORKERS, work)
    order, shipment = order_of(sale["order_id"]), shipment_of(sale["order_id"])
    if order.status == "cancelled":
        assert shipment.status == "voided"
        assert tracking_events(sale["order_id"], source="carrier") == []
        assert set(results) == {"cancelled", "illegal_transition", "label_voided"}
    else:
        assert (order.status, shipment.status) == ("shipped", "in_transit")
        assert len(tracking_events(sale["order_id"], source="carrier")) == 1
        assert set(results) == {"in_transit", "illegal_transition"}
