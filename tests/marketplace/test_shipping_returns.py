"""Return labels for not-as-described cases: issued only after delivery, one per order
and idempotent per case; their scans move the return parcel, announce "return shipped"
and "return delivered" once each and never touch the order; voiding; the simulated
carrier's --return; the member API; and the seller's outbound label left as it was."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from foundation import clock, db, events
from foundation.errors import Conflict, ValidationFailed
from marketplace_core.orders.models import Order
from marketplace_core.shipping import labels, webhook
from marketplace_core.shipping import services as shipping
from marketplace_core.shipping.carrier import SimulatedCarrier, in_process_transport
from marketplace_core.shipping.models import Shipment
from tests.builders import API
from tests.builders.members import register
from tests.builders.orders import T0
from tests.builders.orders import order_row as order_of
from tests.builders.shipping import (
    carrier_for,
    get_shipment,
    make_sale,
    shipment_of,
    sweep_late_shipments,
    tracking_events,
)
from tests.concurrency import all_at_once, postgresql_only

CASE = "NAD-000001"
WORKERS = 8
DELIVERED_AT = T0 + timedelta(days=1)
RETURN_AT = T0 + timedelta(days=2)


# --- helpers ----------------------------------------------------------------------------

def issue_return(order_id: int, case_ref: str = CASE) -> int:
    with db.unit_of_work() as s:
        return shipping.create_return_label(s, s.get(Order, order_id), case_ref).id


def void_return(order_id: int, reason: str = f"{CASE} closed") -> Shipment | None:
    with db.unit_of_work() as s:
        shipment = shipping.void_return_label(s, order_id, reason)
        if shipment is not None:
            s.expunge(shipment)
        return shipment


def return_of(order_id: int) -> Shipment:
    return shipment_of(order_id, "return")


def return_events(order_id: int, source: str | None = None) -> list:
    return tracking_events(order_id, source, direction="return")


def count_returns(order_id: int) -> int:
    with db.unit_of_work() as s:
        return s.scalar(select(func.count(Shipment.id)).where(
            Shipment.order_id == order_id, Shipment.direction == "return"))


def delivered_sale(client, **kwargs) -> dict:
    """A sale whose outbound parcel the carrier delivered (the order awaits acceptance)."""
    clock.freeze(T0)
    sale = make_sale(client, **kwargs)
    clock.freeze(DELIVERED_AT)
    carrier_for(client).advance(sale["order_id"], "delivered")
    assert order_of(sale["order_id"]).status == "delivered"
    clock.freeze(RETURN_AT)
    return sale


@pytest.fixture
def announced(monkeypatch) -> list[tuple[str, dict]]:
    """Every return and order event emitted during the test (handlers restored after)."""
    seen: list[tuple[str, dict]] = []
    for name in (events.ReturnShipped, events.ReturnDelivered, events.OrderDelivered):
        def recorder(_s, _name=name, **payload):
            seen.append((_name, payload))
        monkeypatch.setitem(events._handlers, name, [*events._handlers[name], recorder])
    return seen


# --- issuing the label ------------------------------------------------------------------

def test_no_return_label_before_the_parcel_was_delivered(client):
    clock.freeze(T0)
    sale = make_sale(client)
    with pytest.raises(Conflict) as placed:
        issue_return(sale["order_id"])
    assert placed.value.code == "not_delivered"
    carrier_for(client).advance(sale["order_id"], "out_for_delivery")
    with pytest.raises(Conflict) as shipped:
        issue_return(sale["order_id"])
    assert shipped.value.code == "not_delivered"
    assert count_returns(sale["order_id"]) == 0


def test_a_cancelled_order_gets_no_return_label(client):
    sale = make_sale(client)
    client.post(f"{API}/orders/{sale['order_id']}/cancel", json={"reason": "mistake"},
                headers=sale["buyer"]["headers"])
    with pytest.raises(Conflict) as refused:
        issue_return(sale["order_id"])
    assert refused.value.code == "not_delivered"
    assert count_returns(sale["order_id"]) == 0


def test_a_delivered_order_gets_a_prepaid_return_label_the_platform_pays(client):
    sale = delivered_sale(client, weight=3_000)   # heavy: the seller paid a surcharge
    outbound_before = shipment_of(sale["order_id"])
    shipment_id = issue_return(sale["order_id"])

    label = return_of(sale["order_id"])
    assert label.id == shipment_id
    assert (label.direction, label.case_ref, label.status, label.tier, label.weight_grams,
            label.surcharge_paise, label.label_created_at) == (
        "return", CASE, "label_created", "heavy", 3_000, 0, RETURN_AT)
    assert labels.is_tracking_number(label.tracking_number)
    assert label.tracking_number != outbound_before.tracking_number
    assert label.label_number != outbound_before.label_number
    [created] = return_events(sale["order_id"])
    assert (created.kind, created.source, created.to_status) == (
        "return_label_created", "platform", "label_created")
    assert CASE in created.description

    outbound = shipment_of(sale["order_id"])
    assert (outbound.status, outbound.version, outbound.surcharge_paise) == (
        "delivered", outbound_before.version, 9_900)
    assert order_of(sale["order_id"]).status == "delivered"


def test_issuing_again_for_the_same_case_returns_the_same_label(client):
    sale = delivered_sale(client)
    first = issue_return(sale["order_id"])
    clock.freeze(RETURN_AT + timedelta(hours=1))
    assert issue_return(sale["order_id"]) == first
    assert count_returns(sale["order_id"]) == 1
    assert [e.kind for e in return_events(sale["order_id"])] == ["return_label_created"]
    assert return_of(sale["order_id"]).label_created_at == RETURN_AT


def test_one_return_label_per_order_and_a_case_reference_is_required(client):
    sale = delivered_sale(client)
    first = issue_return(sale["order_id"])
    with pytest.raises(Conflict) as other_case:
        issue_return(sale["order_id"], "NAD-000002")
    assert other_case.value.code == "return_label_exists"
    other_sale = delivered_sale(client)
    for bad in ("", "   ", "x" * 65):
        with pytest.raises(ValidationFailed) as refused:
            issue_return(other_sale["order_id"], bad)
        assert refused.value.code == "bad_case_ref"
    assert count_returns(other_sale["order_id"]) == 0
    assert return_of(sale["order_id"]).id == first


def test_the_database_itself_refuses_a_second_label_in_the_same_direction(client):
    sale = delivered_sale(client)
    issue_return(sale["order_id"])
    with pytest.raises(IntegrityError):
        with db.unit_of_work() as s:
            s.add(Shipment(order_id=sale["order_id"], direction="return", case_ref="NAD-2",
                           tracking_number=labels.new_tracking_number(s),
                           label_number=labels.new_label_number(), tier="standard",
                           weight_grams=500, surcharge_paise=0))
            s.flush()
    assert count_returns(sale["order_id"]) == 1


# --- the return parcel's scans ----------------------------------------------------------

def test_return_scans_move_the_parcel_announce_each_step_once_and_leave_the_order(
        client, announced):
    sale = delivered_sale(client)
    order_before = order_of(sale["order_id"])
    shipment_id = issue_return(sale["order_id"])
    tracking = return_of(sale["order_id"]).tracking_number
    carrier = carrier_for(client)
    payload = {"order_id": sale["order_id"], "shipment_id": shipment_id}
    delivered = (events.OrderDelivered, {"order_id": sale["order_id"]})   # outbound's

    clock.freeze(RETURN_AT + timedelta(hours=3))
    picked_up = carrier.event(tracking, "in_transit")
    response = carrier.send(picked_up)
    assert response.ok and response.body["shipment_status"] == "in_transit"
    assert announced == [delivered, (events.ReturnShipped, payload)]
    assert carrier.send(picked_up).body["duplicate"] is True     # a redelivery
    assert carrier.scan(tracking, "exception", description="address unclear").ok
    clock.freeze(RETURN_AT + timedelta(days=1))
    assert carrier.scan(tracking, "out_for_delivery").ok
    assert announced == [delivered, (events.ReturnShipped, payload)]

    clock.freeze(RETURN_AT + timedelta(days=2))
    arrived = carrier.event(tracking, "delivered")
    assert carrier.send(arrived).body["shipment_status"] == "delivered"
    assert carrier.send(arrived).body["duplicate"] is True
    assert announced == [delivered, (events.ReturnShipped, payload),
                         (events.ReturnDelivered, payload)]

    label = return_of(sale["order_id"])
    assert (label.status, label.first_scan_at, label.delivered_at) == (
        "delivered", RETURN_AT + timedelta(hours=3), RETURN_AT + timedelta(days=2))
    assert [e.kind for e in return_events(sale["order_id"], "carrier")] == [
        "in_transit", "exception", "out_for_delivery", "delivered"]
    order = order_of(sale["order_id"])
    assert (order.status, order.shipped_at, order.delivered_at, order.version) == (
        "delivered", order_before.shipped_at, order_before.delivered_at,
        order_before.version)
    assert shipment_of(sale["order_id"]).delivered_at == DELIVERED_AT


def test_a_delivered_return_scan_that_overtakes_the_others_announces_both_in_order(
        client, announced):
    sale = delivered_sale(client)
    shipment_id = issue_return(sale["order_id"])
    tracking = return_of(sale["order_id"]).tracking_number
    carrier = carrier_for(client)
    clock.freeze(RETURN_AT + timedelta(days=3))
    assert carrier.scan(tracking, "delivered", at=RETURN_AT + timedelta(days=2)).ok
    late = carrier.scan(tracking, "in_transit", at=RETURN_AT + timedelta(hours=2))
    assert late.ok and late.body["applied"] is False
    payload = {"order_id": sale["order_id"], "shipment_id": shipment_id}
    assert announced == [(events.OrderDelivered, {"order_id": sale["order_id"]}),
                         (events.ReturnShipped, payload),
                         (events.ReturnDelivered, payload)]
    assert return_of(sale["order_id"]).first_scan_at == RETURN_AT + timedelta(hours=2)
    assert order_of(sale["order_id"]).status == "delivered"


def test_outbound_scans_still_ship_and_deliver_without_return_events(client, announced):
    delivered_sale(client)
    assert [name for name, _ in announced] == [events.OrderDelivered]


def test_a_scan_from_before_the_return_label_existed_is_refused(client):
    sale = delivered_sale(client)
    issue_return(sale["order_id"])
    refused = carrier_for(client).scan(return_of(sale["order_id"]).tracking_number,
                                       "in_transit", at=RETURN_AT - timedelta(minutes=1))
    assert (refused.status_code, refused.body["error"]["code"]) == (422, "bad_event_time")
    assert return_of(sale["order_id"]).status == "label_created"


# --- voiding ----------------------------------------------------------------------------

def test_voiding_an_unused_return_label_refuses_its_scans(client, announced):
    sale = delivered_sale(client)
    issue_return(sale["order_id"])
    clock.freeze(RETURN_AT + timedelta(days=5))
    voided = void_return(sale["order_id"])
    assert (voided.status, voided.voided_at) == ("voided", RETURN_AT + timedelta(days=5))
    assert void_return(sale["order_id"]).voided_at == voided.voided_at   # twice: no-op
    assert [e.kind for e in return_events(sale["order_id"])] == [
        "return_label_created", "return_label_voided"]

    refused = carrier_for(client).scan(voided.tracking_number, "in_transit")
    assert (refused.status_code, refused.body["error"]["code"]) == (409, "label_voided")
    assert return_events(sale["order_id"], "carrier") == []
    assert announced == [(events.OrderDelivered, {"order_id": sale["order_id"]})]
    with pytest.raises(Conflict) as again:
        issue_return(sale["order_id"])
    assert again.value.code == "return_label_voided"
    assert shipment_of(sale["order_id"]).status == "delivered"


def test_voiding_without_a_return_label_is_a_no_op(client):
    sale = delivered_sale(client)
    assert void_return(sale["order_id"]) is None
    assert count_returns(sale["order_id"]) == 0
    assert shipment_of(sale["order_id"]).status == "delivered"


def test_a_return_parcel_the_carrier_has_cannot_be_voided(client):
    sale = delivered_sale(client)
    issue_return(sale["order_id"])
    assert carrier_for(client).scan(return_of(sale["order_id"]).tracking_number,
                                    "in_transit").ok
    with pytest.raises(Conflict) as refused:
        void_return(sale["order_id"])
    assert refused.value.code == "illegal_transition"
    assert return_of(sale["order_id"]).status == "in_transit"


# --- the simulated carrier's --return ---------------------------------------------------

def _advance(app, *args: str):
    return app.test_cli_runner().invoke(args=["carrier", "advance", *args])


def test_advance_with_return_scans_the_return_parcel_only(app, client, announced):
    sale = delivered_sale(client)
    order_id = str(sale["order_id"])
    missing = _advance(app, order_id, "--to", "in_transit", "--return")
    assert missing.exit_code != 0 and "no return label" in missing.output

    issue_return(sale["order_id"])
    result = _advance(app, order_id, "--to", "delivered", "--return")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        f"order #{order_id}: {step} scan accepted (return shipment {step})"
        for step in ("in_transit", "out_for_delivery", "delivered")]
    scans = return_events(sale["order_id"], "carrier")
    assert [(e.kind, e.applied) for e in scans] == [
        ("in_transit", True), ("out_for_delivery", True), ("delivered", True)]
    assert scans[-1].location == "Delivered to the seller"
    assert [name for name, _ in announced] == [
        events.OrderDelivered, events.ReturnShipped, events.ReturnDelivered]

    again = _advance(app, order_id, "--to", "delivered", "--return")
    assert again.exit_code != 0 and "return parcel is already delivered" in again.output
    outbound = _advance(app, order_id, "--to", "delivered")
    assert outbound.exit_code != 0 and "Order #" in outbound.output
    assert "return" not in outbound.output
    assert order_of(sale["order_id"]).status == "delivered"


def test_advance_with_return_refuses_a_voided_return_label(app, client):
    sale = delivered_sale(client)
    issue_return(sale["order_id"])
    void_return(sale["order_id"])
    result = _advance(app, str(sale["order_id"]), "--to", "in_transit", "--return")
    assert result.exit_code != 0 and "return label was voided" in result.output
    assert return_events(sale["order_id"], "carrier") == []


# --- the member API ---------------------------------------------------------------------

def _get(client, sale: dict, path: str, who: str | dict | None):
    """GET as the sale's "buyer" or "seller", as another member, or (None) anonymously."""
    member = sale[who] if isinstance(who, str) else who
    headers = member["headers"] if member else {}
    return client.get(f"{API}/orders/{sale['order_id']}/{path}", headers=headers)


def test_no_return_label_is_a_clear_404_for_buyer_and_seller(client):
    sale = delivered_sale(client)
    for who in ("buyer", "seller"):
        for path in ("return-shipment", "return-label"):
            response = _get(client, sale, path, who)
            assert (response.status_code, response.json["error"]["code"]) == (
                404, "no_return_label"), (who, path)


def test_buyer_and_seller_follow_the_return_and_only_the_buyer_gets_the_label(client):
    sale = delivered_sale(client)
    issue_return(sale["order_id"])
    label = return_of(sale["order_id"])
    buyer_view = _get(client, sale, "return-shipment", "buyer").json["shipment"]
    assert (buyer_view["direction"], buyer_view["status"], buyer_view["tracking_number"]) == (
        "return", "label_created", label.tracking_number)
    assert buyer_view["label"]["document_url"].endswith(
        f"/orders/{sale['order_id']}/return-label")
    assert [e["kind"] for e in buyer_view["events"]] == ["return_label_created"]
    assert "surcharge_paise" not in buyer_view["label"]

    clock.freeze(RETURN_AT + timedelta(hours=4))
    assert carrier_for(client).scan(label.tracking_number, "in_transit").ok
    seller_view = _get(client, sale, "return-shipment", "seller").json["shipment"]
    assert seller_view["status"] == "in_transit"
    assert seller_view["first_scan_at"] == (RETURN_AT + timedelta(hours=4)).isoformat()
    assert seller_view["expected_delivery_at"] is not None
    assert "document_url" not in seller_view["label"]
    assert [e["kind"] for e in seller_view["events"]] == ["return_label_created",
                                                          "in_transit"]

    # The outbound endpoints still mean the seller's parcel.
    outbound = get_shipment(client, sale).json["shipment"]
    assert outbound["tracking_number"] == shipment_of(sale["order_id"]).tracking_number
    assert outbound["status"] == "delivered"
    assert "return_label_created" not in [e["kind"] for e in outbound["events"]]


def test_the_buyer_prints_a_return_label_from_themselves_to_the_seller(client):
    sale = delivered_sale(client)
    issue_return(sale["order_id"])
    response = _get(client, sale, "return-label", "buyer")
    assert response.status_code == 200
    assert response.mimetype == "image/svg+xml"
    assert "no-store" in response.headers["Cache-Control"]
    svg = response.get_data(as_text=True)
    assert return_of(sale["order_id"]).tracking_number in svg
    assert "PREPAID RETURN" in svg
    sender = svg.index(f"@{sale['buyer']['username']}")
    recipient = svg.index(f"@{sale['seller']['username']}")
    assert svg.index("FROM") < sender < svg.index(">TO<") < recipient

    seller = _get(client, sale, "return-label", "seller")
    assert (seller.status_code, seller.json["error"]["code"]) == (403, "not_buyer")


def test_strangers_learn_nothing_about_a_return(client):
    sale = delivered_sale(client)
    issue_return(sale["order_id"])
    stranger = register(client)
    for path in ("return-shipment", "return-label"):
        response = _get(client, sale, path, stranger)
        assert (response.status_code, response.json["error"]["code"]) == (404, "not_found")
        assert _get(client, sale, path, None).status_code == 401
    missing = client.get(f"{API}/orders/999999/return-shipment",
                         headers=sale["buyer"]["headers"])
    assert missing.status_code == 404


def test_a_voided_return_label_cannot_be_printed(client):
    sale = delivered_sale(client)
    issue_return(sale["order_id"])
    void_return(sale["order_id"])
    response = _get(client, sale, "return-label", "buyer")
    assert (response.status_code, response.json["error"]["code"]) == (409, "label_voided")
    body = _get(client, sale, "return-shipment", "buyer").json["shipment"]
    assert body["status"] == "voided"
    assert [e["kind"] for e in body["events"]] == ["return_label_created",
                                                   "return_label_voided"]


# --- races (PostgreSQL: SQLite serialises writers and ignores FOR UPDATE) ----------------

def on_postgresql(test):
    for mark in postgresql_only("row locks and concurrent writers need PostgreSQL"):
        test = mark(test)
    return test


@on_postgresql
def test_a_return_label_issued_concurrently_for_one_case_is_issued_once(client):
    sale = delivered_sale(client)
    results = all_at_once(WORKERS, lambda s, i: shipping.create_return_label(
        s, s.get(Order, sale["order_id"]), CASE).id)
    assert len(set(results)) == 1 and isinstance(results[0], int)
    assert count_returns(sale["order_id"]) == 1
    assert [e.kind for e in return_events(sale["order_id"])] == ["return_label_created"]


@on_postgresql
def test_the_first_return_scan_racing_the_void_lets_exactly_one_win(client, announced):
    sale = delivered_sale(client)
    issue_return(sale["order_id"])
    carrier = SimulatedCarrier(in_process_transport)
    body = carrier.encode(carrier.event(return_of(sale["order_id"]).tracking_number,
                                        "in_transit"))
    header = carrier.headers_for(body)[webhook.SIGNATURE_HEADER]

    def work(s, i):
        if i % 2:
            return webhook.receive(s, body, header)["shipment_status"]
        return shipping.void_return_label(s, sale["order_id"], "case closed").status

    results = all_at_once(WORKERS, work)
    shipped = [name for name, _ in announced if name == events.ReturnShipped]
    if return_of(sale["order_id"]).status == "voided":
        assert set(results) == {"voided", "label_voided"}
        assert return_events(sale["order_id"], "carrier") == [] and shipped == []
    else:
        assert set(results) == {"in_transit", "illegal_transition"}
        assert len(return_events(sale["order_id"], "carrier")) == 1
        assert shipped == [events.ReturnShipped]


# --- the seller's label is left alone --------------------------------------------------

def test_the_late_shipment_sweep_never_flags_a_return_label(client):
    sale = delivered_sale(client)
    issue_return(sale["order_id"])
    clock.freeze(RETURN_AT + timedelta(days=10))
    sweep_late_shipments()
    assert return_of(sale["order_id"]).late_flagged_at is None
    assert "flagged_late" not in [e.kind for e in return_events(sale["order_id"])]
    assert shipment_of(sale["order_id"]).late_flagged_at is None


def test_the_documented_api_lists_the_return_endpoints(client):
    paths = client.get(f"{API}/openapi.json").json["paths"]
    assert "get" in paths["/api/v1/orders/{order_id}/return-shipment"]
    assert "get" in paths["/api/v1/orders/{order_id}/return-label"]
