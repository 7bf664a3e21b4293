"""`flask carrier advance`: the simulated carrier's signed events, end to end."""
from __future__ import annotations

from datetime import timedelta

from foundation import clock
from marketplace_core.shipping.carrier import SimulatedCarrier, in_process_transport
from tests.builders.orders import T0
from tests.builders.orders import order_row as order_of
from tests.builders.shipping import make_sale, shipment_of, tracking_events


def _advance(app, order_id, to):
    return app.test_cli_runner().invoke(args=["carrier", "advance", str(order_id), "--to", to])


def test_advance_to_delivered_sends_every_scan_through_the_webhook(app, client):
    clock.freeze(T0)
    sale = make_sale(client)
    clock.freeze(T0 + timedelta(hours=8))
    result = _advance(app, sale["order_id"], "delivered")
    assert result.exit_code == 0, result.output
    assert [line.split(": ")[1].split(" ")[0] for line in result.output.splitlines()] == [
        "in_transit", "out_for_delivery", "delivered"]
    scans = tracking_events(sale["order_id"], source="carrier")
    assert [(e.kind, e.applied) for e in scans] == [
        ("in_transit", True), ("out_for_delivery", True), ("delivered", True)]
    assert all(e.carrier_event_id.startswith("evt_") for e in scans)
    order = order_of(sale["order_id"])
    assert (order.status, order.shipped_at, order.delivered_at) == (
        "delivered", T0 + timedelta(hours=8), T0 + timedelta(hours=8))


def test_advance_step_by_step_sends_only_the_missing_scans(app, client):
    sale = make_sale(client)
    assert _advance(app, sale["order_id"], "in_transit").exit_code == 0
    assert order_of(sale["order_id"]).status == "shipped"
    result = _advance(app, sale["order_id"], "out_for_delivery")
    assert result.exit_code == 0, result.output
    assert len(result.output.splitlines()) == 1
    assert shipment_of(sale["order_id"]).status == "out_for_delivery"
    assert order_of(sale["order_id"]).status == "shipped"


def test_advance_refuses_unknown_orders_and_impossible_steps_clearly(app, client):
    sale = make_sale(client)
    unknown = _advance(app, 999_999, "in_transit")
    assert unknown.exit_code != 0 and "no order #999999" in unknown.output
    bad_step = _advance(app, sale["order_id"], "teleported")
    assert bad_step.exit_code != 0 and "teleported" in bad_step.output
    assert _advance(app, sale["order_id"], "delivered").exit_code == 0
    backwards = _advance(app, sale["order_id"], "in_transit")
    assert backwards.exit_code != 0 and "already delivered" in backwards.output
    again = _advance(app, sale["order_id"], "delivered")
    assert again.exit_code != 0 and "already delivered" in again.output
    assert len(tracking_events(sale["order_id"], source="carrier")) == 3


def test_advance_refuses_a_cancelled_orders_voided_label(app, client):
    sale = make_sale(client)
    client.post(f"/api/v1/orders/{sale['order_id']}/cancel", json={"reason": "mistake"},
                headers=sale["buyer"]["headers"])
    result = _advance(app, sale["order_id"], "in_transit")
    assert result.exit_code != 0 and "voided" in result.output
    assert tracking_events(sale["order_id"], source="carrier") == []


def test_the_in_process_delivery_the_cli_uses_checks_the_signature(client):
    sale = make_sale(client)
    tracking = shipment_of(sale["order_id"]).tracking_number
    impostor = SimulatedCarrier(in_process_transport, secret="w" * 48)
    refused = impostor.scan(tracking, "in_transit")
    assert (refused.status_code, refused.body["error"]["code"]) == (401, "signature_invalid")
    assert order_of(sale["order_id"]).status == "placed"
    assert tracking_events(sale["order_id"], source="carrier") == []
    assert SimulatedCarrier(in_process_transport).scan(tracking, "in_transit").ok
    assert order_of(sale["order_id"]).status == "shipped"
