"""The carrier's signed webhook: every refusal writes nothing; duplicates and
out-of-order scans; scans that ship, deliver and (three days later) complete the order."""
from __future__ import annotations

import json
import secrets
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from foundation import clock, db, jobs
from marketplace_core.ledger import services as ledger
from marketplace_core.shipping.models import TrackingEvent
from marketplace_core.shipping.webhook import SIGNATURE_HEADER, sign
from tests.builders import API
from tests.builders.orders import T0
from tests.builders.orders import order_row as order_of
from tests.builders.shipping import (
    COMMISSION,
    PRICE,
    carrier_for,
    get_shipment,
    make_sale,
    shipment_of,
    tracking_events,
)

WEBHOOK = f"{API}/carrier/webhook"


def _post(client, body: bytes, header: str | None):
    headers = {SIGNATURE_HEADER: header} if header is not None else {}
    return client.post(WEBHOOK, data=body, headers=headers, content_type="application/json")


def _secret(app) -> str:
    return app.config["SETTINGS"].CARRIER_WEBHOOK_SECRET


def _now() -> int:
    return int(clock.now().timestamp())


def _event_count() -> int:
    with db.unit_of_work() as s:
        return s.scalar(select(func.count(TrackingEvent.id)).where(
            TrackingEvent.source == "carrier"))


@pytest.fixture
def placed(client):
    clock.freeze(T0)
    sale = make_sale(client)
    clock.freeze(T0 + timedelta(hours=6))
    carrier = carrier_for(client)
    sale["tracking"] = shipment_of(sale["order_id"]).tracking_number
    sale["event"] = carrier.event(sale["tracking"], "in_transit")
    sale["body"] = carrier.encode(sale["event"])
    return sale


# --- authenticating the carrier -------------------------------------------------------

def test_a_correctly_signed_scan_is_recorded_and_ships_the_order(app, client, placed):
    response = _post(client, placed["body"],
                     f"t={_now()},v1={sign(_secret(app), placed['body'], _now())}")
    assert response.status_code == 200, response.json
    assert response.json == {"event_id": placed["event"]["id"], "duplicate": False,
                             "applied": True, "shipment_status": "in_transit"}
    [scan] = tracking_events(placed["order_id"], source="carrier")
    assert (scan.kind, scan.carrier_event_id, scan.occurred_at, scan.applied) == (
        "in_transit", placed["event"]["id"], T0 + timedelta(hours=6), True)
    order = order_of(placed["order_id"])
    assert (order.status, order.shipped_at) == ("shipped", T0 + timedelta(hours=6))


def _refusals(secret: str, body: bytes, now: int) -> list[tuple[str, bytes, str | None, int,
                                                                 str]]:
    tampered = body.replace(b"in_transit", b"delivered")
    other_secret = secrets.token_urlsafe(48)
    good = sign(secret, body, now)
    return [
        ("missing", body, None, 401, "signature_missing"),
        ("empty", body, "", 401, "signature_missing"),
        ("forged", body, f"t={now},v1={secrets.token_hex(32)}", 401, "signature_invalid"),
        ("wrong secret", body, f"t={now},v1={sign(other_secret, body, now)}", 401,
         "signature_invalid"),
        ("tampered body", tampered, f"t={now},v1={good}", 401, "signature_invalid"),
        ("time moved", body, f"t={now + 1},v1={good}", 401, "signature_invalid"),
        ("stale", body, f"t={now - 301},v1={sign(secret, body, now - 301)}", 401,
         "signature_stale"),
        ("from the future", body, f"t={now + 301},v1={sign(secret, body, now + 301)}", 401,
         "signature_stale"),
        ("garbage", body, "garbage", 400, "signature_malformed"),
        ("no digest", body, f"t={now}", 400, "signature_malformed"),
        ("no time", body, f"v1={good}", 400, "signature_malformed"),
        ("time not a number", body, f"t=yesterday,v1={good}", 400, "signature_malformed"),
        ("negative time", body, f"t=-{now},v1={good}", 400, "signature_malformed"),
        ("two times", body, f"t={now},t={now},v1={good}", 400, "signature_malformed"),
        ("digest not hex", body, f"t={now},v1={'z' * 64}", 400, "signature_malformed"),
        ("short digest", body, f"t={now},v1={good[:40]}", 400, "signature_malformed"),
        ("huge header", body, f"t={now},v1={good}," + "x=y," * 400, 400,
         "signature_malformed"),
    ]


def test_unsigned_forged_stale_and_malformed_events_are_refused_and_write_nothing(
        app, client, placed):
    cases = _refusals(_secret(app), placed["body"], _now())
    for name, body, header, status, code in cases:
        response = _post(client, body, header)
        assert (response.status_code, response.json["error"]["code"]) == (status, code), name
    assert _event_count() == 0
    assert shipment_of(placed["order_id"]).status == "label_created"
    assert order_of(placed["order_id"]).status == "placed"


def test_the_replay_window_is_five_minutes_to_the_second(app, client, placed):
    then = _now() - 300
    response = _post(client, placed["body"],
                     f"t={then},v1={sign(_secret(app), placed['body'], then)}")
    assert response.status_code == 200, response.json


def test_a_rotated_secret_may_be_sent_beside_the_new_one(app, client, placed):
    now, body = _now(), placed["body"]
    header = (f"t={now},v1={sign('the-old-secret-' + 'x' * 30, body, now)},"
              f"v1={sign(_secret(app), body, now)}")
    assert _post(client, body, header).status_code == 200


@pytest.mark.parametrize("change, status, code", [
    (lambda e: "not json at all", 400, "malformed_json"),
    (lambda e: [e], 400, "malformed_json"),
    (lambda e: b"\xff\xfe{}", 400, "malformed_json"),
    (lambda e: {**e, "extra": 1}, 422, "validation_failed"),
    (lambda e: {k: v for k, v in e.items() if k != "id"}, 422, "validation_failed"),
    (lambda e: {**e, "status": "teleported"}, 422, "validation_failed"),
    (lambda e: {**e, "tracking_number": "PP000000000XX"}, 422, "validation_failed"),
    (lambda e: {**e, "tracking_number": "PP123456785IN"}, 404, "unknown_tracking_number"),
    (lambda e: {**e, "occurred_at": "2025-01-06T16:00:00"}, 422, "bad_event_time"),
    (lambda e: {**e, "occurred_at": "last tuesday"}, 422, "bad_event_time"),
    (lambda e: {**e, "occurred_at": "2025-01-06T16:06:00+00:00"}, 422, "bad_event_time"),
    (lambda e: {**e, "occurred_at": "2025-01-06T09:59:59+00:00"}, 422, "bad_event_time"),
    (lambda e: {**e, "location": "x" * 81}, 422, "validation_failed"),
    (lambda e: {**e, "id": "evt with spaces"}, 422, "validation_failed"),
])
def test_a_signed_but_bad_event_is_refused_and_writes_nothing(app, client, placed, change,
                                                              status, code):
    changed = change(placed["event"])
    body = changed if isinstance(changed, bytes) else (
        changed.encode() if isinstance(changed, str) else json.dumps(changed).encode())
    response = _post(client, body, f"t={_now()},v1={sign(_secret(app), body, _now())}")
    assert (response.status_code, response.json["error"]["code"]) == (status, code)
    assert _event_count() == 0
    assert order_of(placed["order_id"]).status == "placed"


def test_a_body_over_the_limit_is_413(app, client, placed):
    body = json.dumps({**placed["event"], "description": "x" * 20_000}).encode()
    response = _post(client, body, f"t={_now()},v1={sign(_secret(app), body, _now())}")
    assert response.status_code == 413
    assert _event_count() == 0


# --- idempotency and order ------------------------------------------------------------

def test_a_redelivered_event_is_acknowledged_and_changes_nothing(client, placed):
    carrier = carrier_for(client)
    first = carrier.send(placed["event"])
    clock.freeze(clock.now() + timedelta(minutes=2))
    again = carrier.send(placed["event"])   # signed afresh, as a retry would be
    assert first.ok and again.ok
    assert again.body["duplicate"] is True and again.body["applied"] is False
    assert len(tracking_events(placed["order_id"], source="carrier")) == 1
    assert order_of(placed["order_id"]).shipped_at == T0 + timedelta(hours=6)


def test_a_reused_event_id_with_other_content_is_refused(client, placed):
    carrier = carrier_for(client)
    assert carrier.send(placed["event"]).ok
    other = carrier.send({**placed["event"], "status": "delivered"})
    assert (other.status_code, other.body["error"]["code"]) == (409, "event_id_reused")
    assert shipment_of(placed["order_id"]).status == "in_transit"
    assert len(tracking_events(placed["order_id"], source="carrier")) == 1


def test_scans_arriving_out_of_order_only_move_the_shipment_forward(client, placed):
    carrier, tracking = carrier_for(client), placed["tracking"]
    day1, day2, day3 = (T0 + timedelta(days=n) for n in (1, 2, 3))
    clock.freeze(day3 + timedelta(hours=1))
    delivered = carrier.scan(tracking, "delivered", at=day3)
    assert delivered.body["applied"] is True
    order = order_of(placed["order_id"])
    assert (order.status, order.shipped_at, order.delivered_at) == ("delivered", day3, day3)

    late_ofd = carrier.scan(tracking, "out_for_delivery", at=day2)
    late_transit = carrier.scan(tracking, "in_transit", at=day1)
    for late in (late_ofd, late_transit):
        assert late.ok and (late.body["applied"], late.body["shipment_status"]) == (
            False, "delivered")
    shipment = shipment_of(placed["order_id"])
    assert (shipment.status, shipment.first_scan_at, shipment.delivered_at) == (
        "delivered", day1, day3)
    assert order_of(placed["order_id"]).status == "delivered"
    timeline = get_shipment(client, placed, "buyer").json["shipment"]["events"]
    assert [e["kind"] for e in timeline] == [
        "label_created", "in_transit", "out_for_delivery", "delivered"]


def test_out_for_delivery_before_in_transit_ships_the_order_at_its_own_time(client, placed):
    carrier, tracking = carrier_for(client), placed["tracking"]
    at = T0 + timedelta(hours=5)
    assert carrier.scan(tracking, "out_for_delivery", at=at).body["applied"] is True
    order = order_of(placed["order_id"])
    assert (order.status, order.shipped_at) == ("shipped", at)
    assert carrier.scan(tracking, "in_transit", at=at - timedelta(hours=2)).ok
    assert shipment_of(placed["order_id"]).status == "out_for_delivery"


def test_a_carrier_exception_shows_until_a_later_scan(client, placed):
    carrier, tracking = carrier_for(client), placed["tracking"]
    assert carrier.scan(tracking, "in_transit", at=T0 + timedelta(hours=1)).ok
    assert carrier.scan(tracking, "exception", at=T0 + timedelta(hours=2),
                        description="address not found").ok
    assert get_shipment(client, placed, "buyer").json["shipment"]["exception"] is True
    assert carrier.scan(tracking, "out_for_delivery", at=T0 + timedelta(hours=3)).ok
    assert get_shipment(client, placed, "buyer").json["shipment"]["exception"] is False
    stale = carrier.scan(tracking, "exception", at=T0 + timedelta(hours=2, minutes=30))
    assert stale.body["applied"] is False
    assert get_shipment(client, placed, "buyer").json["shipment"]["exception"] is False


def test_a_scan_in_the_future_within_the_clock_tolerance_counts_as_now(client, placed):
    now = clock.now()
    assert carrier_for(client).scan(placed["tracking"], "in_transit",
                                    at=now + timedelta(minutes=4)).ok
    assert order_of(placed["order_id"]).shipped_at == now


# --- the whole road: shipped, delivered, accepted, paid ---------------------------------

def test_scans_ship_and_deliver_and_three_days_later_the_seller_is_paid(client):
    clock.freeze(T0)
    sale = make_sale(client, weight=3_000)   # heavy: Rs 99 surcharge
    tracking = shipment_of(sale["order_id"]).tracking_number
    carrier = carrier_for(client)
    shipped_at, delivered_at = T0 + timedelta(days=1), T0 + timedelta(days=3)

    clock.freeze(shipped_at + timedelta(minutes=1))
    assert carrier.scan(tracking, "in_transit", at=shipped_at).ok
    order = order_of(sale["order_id"])
    assert (order.status, order.shipped_at, order.label_surcharge_paise) == (
        "shipped", shipped_at, 9_900)
    view = get_shipment(client, sale, "buyer").json["shipment"]
    assert view["expected_delivery_at"] == (shipped_at + timedelta(days=4)).isoformat()

    clock.freeze(delivered_at - timedelta(hours=3))
    assert carrier.scan(tracking, "out_for_delivery").ok
    clock.freeze(delivered_at)
    assert carrier.scan(tracking, "delivered").ok
    order = order_of(sale["order_id"])
    assert (order.status, order.delivered_at) == ("delivered", delivered_at)

    clock.freeze(delivered_at + timedelta(days=3))
    jobs.run_pending()
    order = order_of(sale["order_id"])
    assert (order.status, order.completed_by) == ("completed", "system")
    with db.unit_of_work() as s:
        assert ledger.seller_balance(s, sale["seller"]["id"]) == PRICE - COMMISSION - 9_900
        assert ledger.order_money(s, sale["order_id"])["held_paise"] == 0
