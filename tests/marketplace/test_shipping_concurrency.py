"""Races on real PostgreSQL with real threads: a carrier retry racing the original
delivery, and a scan racing the buyer's cancellation.  (SQLite serialises writers and
ignores FOR UPDATE, so these run only where DATABASE_URL names PostgreSQL.)"""
from __future__ import annotations

import os
from datetime import timedelta

import pytest

from foundation import clock
from marketplace_core.members.models import Member
from marketplace_core.orders import services as orders
from marketplace_core.orders.models import Order
from marketplace_core.shipping import webhook
from marketplace_core.shipping.carrier import SimulatedCarrier, in_process_transport
from tests.marketplace.test_ledger_concurrency import WORKERS, all_at_once
from tests.marketplace.test_shipping import (
    T0,
    make_sale,
    order_of,
    shipment_of,
    tracking_events,
)

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not os.environ.get("DATABASE_URL", "").startswith("postgresql"),
                       reason="row locks and concurrent writers need PostgreSQL"),
]


def test_one_event_delivered_concurrently_is_recorded_once(client):
    clock.freeze(T0)
    sale = make_sale(client)
    clock.freeze(T0 + timedelta(hours=2))
    carrier = SimulatedCarrier(in_process_transport)
    body = carrier.encode(carrier.event(shipment_of(sale["order_id"]).tracking_number,
                                        "in_transit"))
    header = carrier.headers_for(body)[webhook.SIGNATURE_HEADER]
    results = all_at_once(lambda s, i: webhook.receive(s, body, header)["duplicate"])
    assert sorted(results) == [False] + [True] * (WORKERS - 1)
    assert len(tracking_events(sale["order_id"], source="carrier")) == 1
    assert order_of(sale["order_id"]).status == "shipped"


def test_a_scan_racing_the_cancellation_lets_exactly_one_win(client):
    clock.freeze(T0)
    sale = make_sale(client)
    clock.freeze(T0 + timedelta(hours=1))
    carrier = SimulatedCarrier(in_process_transport)
    body = carrier.encode(carrier.event(shipment_of(sale["order_id"]).tracking_number,
                                        "in_transit"))
    header = carrier.headers_for(body)[webhook.SIGNATURE_HEADER]

    def work(s, i):
        if i % 2:
            return webhook.receive(s, body, header)["shipment_status"]
        order = s.get(Order, sale["order_id"])
        return orders.cancel_by_buyer(s, order, s.get(Member, sale["buyer"]["id"]),
                                      "changed my mind").status

    results = all_at_once(work)
    order, shipment = order_of(sale["order_id"]), shipment_of(sale["order_id"])
    if order.status == "cancelled":
        assert shipment.status == "voided"
        assert tracking_events(sale["order_id"], source="carrier") == []
        assert set(results) == {"cancelled", "illegal_transition", "label_voided"}
    else:
        assert (order.status, shipment.status) == ("shipped", "in_transit")
        assert len(tracking_events(sale["order_id"], source="carrier")) == 1
        assert set(results) == {"in_transit", "illegal_transition"}
