"""PoshPost labels: one per order at the sale, weight tiers and their surcharges, the
seller's upgrade, the printable label, voiding on cancellation and the late flag."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from foundation import clock, db
from foundation.config import ConfigError, Settings
from marketplace_core.shipping import labels
from marketplace_core.shipping.models import Shipment, TrackingEvent
from tests.builders import API
from tests.builders.listings import live_listing as publish_listing
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

# --- the label at the sale --------------------------------------------------------------

def test_a_sale_gets_one_prepaid_standard_label(client):
    clock.freeze(T0)
    sale = make_sale(client, weight=500)
    shipment = shipment_of(sale["order_id"])
    assert (shipment.status, shipment.tier, shipment.weight_grams,
            shipment.surcharge_paise) == ("label_created", "standard", 500, 0)
    assert labels.is_tracking_number(shipment.tracking_number)
    assert shipment.label_created_at == T0
    [created] = tracking_events(sale["order_id"])
    assert (created.kind, created.source) == ("label_created", "platform")

    seller_view = get_shipment(client, sale).json["shipment"]
    assert seller_view["tracking_number"] == shipment.tracking_number
    assert seller_view["label"]["number"] == shipment.label_number
    assert seller_view["label"]["surcharge_paise"] == 0
    assert seller_view["ship_by"] == (T0 + timedelta(days=3)).isoformat()
    assert seller_view["expected_delivery_at"] is None
    assert [t["tier"] for t in seller_view["upgrade_options"]] == [
        "heavy", "extra_heavy", "bulky"]
    assert [e["kind"] for e in seller_view["events"]] == ["label_created"]


def test_the_buyer_sees_the_tracking_but_not_the_sellers_costs_and_strangers_see_nothing(
        client):
    sale = make_sale(client)
    buyer_view = get_shipment(client, sale, "buyer").json["shipment"]
    assert labels.is_tracking_number(buyer_view["tracking_number"])
    assert "surcharge_paise" not in buyer_view["label"]
    assert "late" not in buyer_view and "upgrade_options" not in buyer_view
    stranger = register(client)
    response = client.get(f"{API}/orders/{sale['order_id']}/shipment",
                          headers=stranger["headers"])
    assert response.status_code == 404
    assert client.get(f"{API}/orders/{sale['order_id']}/shipment").status_code == 401


@pytest.mark.parametrize("weight, tier, surcharge", [
    (2268, "standard", 0),          # 5 lb: still standard
    (2269, "heavy", 9_900),
    (4536, "heavy", 9_900),
    (4537, "extra_heavy", 19_900),
    (9073, "bulky", 39_900),
])
def test_the_weight_picks_the_tier_and_the_seller_pays_its_surcharge_at_release(
        client, weight, tier, surcharge):
    sale = make_sale(client, weight=weight)
    shipment = shipment_of(sale["order_id"])
    assert (shipment.tier, shipment.surcharge_paise) == (tier, surcharge)


def test_a_bundle_label_weighs_every_item_together(client):
    from marketplace_core.listings.models import Listing
    from marketplace_core.members.models import Member
    from marketplace_core.orders import services as orders

    seller, buyer = register(client), register(client)
    ids = [publish_listing(client, seller, seed=n, price_paise=200_000,
                           weight_grams=1_500)["id"] for n in range(2)]
    with db.unit_of_work() as s:
        items = [(s.get(Listing, i), 200_000) for i in ids]
        order_id = orders.place_order(s, s.get(Member, buyer["id"]), items, source="bundle",
                                      bundle_id=1, payment_method="test_upi_ok",
                                      idempotency_key="bundle-1").id
    shipment = shipment_of(order_id)
    assert (shipment.weight_grams, shipment.tier, shipment.surcharge_paise) == (
        3_000, "heavy", 9_900)


def test_a_cheap_heavy_parcel_caps_the_surcharge_at_the_sellers_share(client):
    # Rs 100 sale: the flat Rs 49 commission leaves the seller Rs 51 = 5,100 paise.
    sale = make_sale(client, price=10_000, weight=3_000)
    shipment = shipment_of(sale["order_id"])
    assert (shipment.tier, shipment.surcharge_paise) == ("heavy", 5_100)
    assert "capped" in tracking_events(sale["order_id"])[0].description
    assert carrier_for(client).scan(shipment.tracking_number, "in_transit").ok
    assert order_of(sale["order_id"]).label_surcharge_paise == 5_100


def test_a_declined_payment_leaves_no_label_behind(client):
    seller, buyer = register(client), register(client)
    listing = publish_listing(client, seller)
    response = client.post(f"{API}/orders", json={"listing_id": listing["id"],
                                                  "payment_method": "test_card_declined"},
                           headers=buyer["headers"])
    assert response.status_code == 402
    with db.unit_of_work() as s:
        assert s.scalar(select(func.count(Shipment.id))) == 0
        assert s.scalar(select(func.count(TrackingEvent.id))) == 0


# --- upgrading the label --------------------------------------------------------------

def test_the_seller_upgrades_to_a_heavier_label_before_shipping(client):
    clock.freeze(T0)
    sale = make_sale(client, weight=2_000)
    before = shipment_of(sale["order_id"])
    response = client.post(f"{API}/orders/{sale['order_id']}/shipment/upgrade",
                           json={"tier": "extra_heavy"}, headers=sale["seller"]["headers"])
    assert response.status_code == 200, response.json
    body = response.json["shipment"]
    assert body["label"]["tier"] == "extra_heavy"
    assert body["label"]["surcharge_paise"] == 19_900
    assert body["label"]["number"] != before.label_number
    assert body["tracking_number"] == before.tracking_number
    assert [t["tier"] for t in body["upgrade_options"]] == ["bulky"]
    assert [e["kind"] for e in body["events"]] == ["label_created", "label_upgraded"]

    clock.freeze(T0 + timedelta(hours=5))
    assert carrier_for(client).scan(before.tracking_number, "in_transit").ok
    order = order_of(sale["order_id"])
    assert (order.status, order.label_surcharge_paise) == ("shipped", 19_900)


def _upgrade(client, sale, tier, who="seller"):
    return client.post(f"{API}/orders/{sale['order_id']}/shipment/upgrade",
                       json={"tier": tier}, headers=sale[who]["headers"])


def test_upgrade_refusals_change_nothing(client):
    sale = make_sale(client, weight=3_000)   # heavy already
    before = shipment_of(sale["order_id"])
    stranger = register(client)
    refusals = [
        (_upgrade(client, sale, "bulky", "buyer"), 403, "not_seller"),
        (client.post(f"{API}/orders/{sale['order_id']}/shipment/upgrade",
                     json={"tier": "bulky"}, headers=stranger["headers"]), 404, "not_found"),
        (_upgrade(client, sale, "gigantic"), 422, "unknown_tier"),
        (_upgrade(client, sale, "heavy"), 422, "not_an_upgrade"),
        (_upgrade(client, sale, "standard"), 422, "not_an_upgrade"),
        (client.post(f"{API}/orders/{sale['order_id']}/shipment/upgrade", json={},
                     headers=sale["seller"]["headers"]), 422, "validation_failed"),
        (client.post(f"{API}/orders/{sale['order_id']}/shipment/upgrade",
                     json={"tier": 3}, headers=sale["seller"]["headers"]), 422,
         "validation_failed"),
        (client.post(f"{API}/orders/999999/shipment/upgrade", json={"tier": "bulky"},
                     headers=sale["seller"]["headers"]), 404, "not_found"),
    ]
    for response, status, code in refusals:
        assert (response.status_code, response.json["error"]["code"]) == (status, code)
    after = shipment_of(sale["order_id"])
    assert (after.tier, after.label_number, after.surcharge_paise, after.version) == (
        before.tier, before.label_number, before.surcharge_paise, before.version)
    assert len(tracking_events(sale["order_id"])) == 1


def test_a_label_dearer_than_the_sale_earns_is_refused(client):
    sale = make_sale(client, price=30_000, weight=500)   # the seller keeps Rs 240
    response = _upgrade(client, sale, "bulky")           # Rs 399
    assert response.status_code == 422
    assert response.json["error"]["code"] == "surcharge_exceeds_share"
    assert shipment_of(sale["order_id"]).tier == "standard"


def test_no_upgrade_once_the_carrier_has_the_parcel(client):
    sale = make_sale(client)
    assert carrier_for(client).scan(shipment_of(sale["order_id"]).tracking_number,
                                    "in_transit").ok
    response = _upgrade(client, sale, "heavy")
    assert (response.status_code, response.json["error"]["code"]) == (
        409, "illegal_transition")
    assert shipment_of(sale["order_id"]).tier == "standard"
    assert get_shipment(client, sale).json["shipment"]["upgrade_options"] == []


# --- the printable label ----------------------------------------------------------------

def test_the_seller_prints_the_label_with_members_words_escaped(client):
    sale = make_sale(client)
    client.patch(f"{API}/me", json={"display_name": "<script>alert(1)</script>",
                                    "city": "Pune & Co"}, headers=sale["buyer"]["headers"])
    response = client.get(f"{API}/orders/{sale['order_id']}/shipment/label",
                          headers=sale["seller"]["headers"])
    assert response.status_code == 200
    assert response.mimetype == "image/svg+xml"
    svg = response.get_data(as_text=True)
    assert shipment_of(sale["order_id"]).tracking_number in svg
    assert "<script>" not in svg and "&lt;script&gt;" in svg and "Pune &amp; Co" in svg
    buyer = client.get(f"{API}/orders/{sale['order_id']}/shipment/label",
                       headers=sale["buyer"]["headers"])
    assert buyer.status_code == 403


# --- cancellation ---------------------------------------------------------------------

def test_a_cancelled_order_voids_its_label_and_refuses_further_scans(client):
    clock.freeze(T0)
    sale = make_sale(client)
    tracking = shipment_of(sale["order_id"]).tracking_number
    clock.freeze(T0 + timedelta(hours=1))
    response = client.post(f"{API}/orders/{sale['order_id']}/cancel",
                           json={"reason": "bought by mistake"},
                           headers=sale["buyer"]["headers"])
    assert response.status_code == 200, response.json
    shipment = shipment_of(sale["order_id"])
    assert (shipment.status, shipment.voided_at) == ("voided", T0 + timedelta(hours=1))
    assert [e.kind for e in tracking_events(sale["order_id"])] == [
        "label_created", "label_voided"]

    for step in ("in_transit", "delivered"):
        refused = carrier_for(client).scan(tracking, step)
        assert (refused.status_code, refused.body["error"]["code"]) == (409, "label_voided")
    assert tracking_events(sale["order_id"], source="carrier") == []
    assert order_of(sale["order_id"]).status == "cancelled"
    assert shipment_of(sale["order_id"]).status == "voided"
    document = client.get(f"{API}/orders/{sale['order_id']}/shipment/label",
                          headers=sale["seller"]["headers"])
    assert document.status_code == 409
    assert _upgrade(client, sale, "heavy").status_code == 409


# --- the late-shipment flag -------------------------------------------------------------

def test_the_sweep_flags_labels_without_a_scan_after_three_days_once(client):
    clock.freeze(T0)
    late, on_time = make_sale(client), make_sale(client)
    clock.freeze(T0 + timedelta(hours=20))
    assert carrier_for(client).scan(shipment_of(on_time["order_id"]).tracking_number,
                                    "in_transit").ok

    clock.freeze(T0 + timedelta(days=3) - timedelta(minutes=1))
    sweep_late_shipments()
    assert shipment_of(late["order_id"]).late_flagged_at is None

    clock.freeze(T0 + timedelta(days=3))
    sweep_late_shipments()
    sweep_late_shipments()
    assert shipment_of(late["order_id"]).late_flagged_at == T0 + timedelta(days=3)
    assert [e.kind for e in tracking_events(late["order_id"])].count("flagged_late") == 1
    assert shipment_of(on_time["order_id"]).late_flagged_at is None
    assert get_shipment(client, late).json["shipment"]["late"] is True
    assert get_shipment(client, on_time).json["shipment"]["late"] is False
    buyer_kinds = [e["kind"] for e in get_shipment(client, late, "buyer").json["shipment"]
                   ["events"]]
    assert "flagged_late" not in buyer_kinds


def test_a_first_scan_after_the_deadline_flags_the_shipment_even_without_a_sweep(client):
    clock.freeze(T0)
    sale = make_sale(client)
    clock.freeze(T0 + timedelta(days=4))
    assert carrier_for(client).scan(shipment_of(sale["order_id"]).tracking_number,
                                    "in_transit").ok
    assert shipment_of(sale["order_id"]).late_flagged_at == T0 + timedelta(days=4)
    sweep_late_shipments()
    assert [e.kind for e in tracking_events(sale["order_id"])].count("flagged_late") == 1


# --- configuration --------------------------------------------------------------------

@pytest.mark.parametrize("spec, message", [
    ("", "is not name:max_grams:surcharge_paise"),
    ("standard:2268:0", "no limit"),
    ("standard:2268:0,heavy:2268:100,bulky:*:200", "increase"),
    ("standard:2268:50,bulky:*:200", "first tier is free"),
    ("standard:2268:0,heavy:4536:300,bulky:*:200", "never decrease"),
    ("standard:2268:0,bulky:*:lots", "whole numbers"),
    ("standard:2268:0,standard:*:10", "names must differ"),
])
def test_bad_label_tiers_stop_start_up(tmp_path, spec, message):
    with pytest.raises(ConfigError, match=message):
        Settings.from_env(environ={"INSTANCE_PATH": str(tmp_path),
                                   "SHIPPING_LABEL_TIERS": spec})


def test_the_webhook_secret_is_generated_once_outside_production(tmp_path):
    first = Settings.from_env(environ={"INSTANCE_PATH": str(tmp_path)})
    second = Settings.from_env(environ={"INSTANCE_PATH": str(tmp_path)})
    assert first.CARRIER_WEBHOOK_SECRET == second.CARRIER_WEBHOOK_SECRET
    assert len(first.CARRIER_WEBHOOK_SECRET) >= 32
    assert first.CARRIER_WEBHOOK_SECRET != first.SECRET_KEY
    with pytest.raises(ConfigError, match="CARRIER_WEBHOOK_SECRET must differ"):
        Settings.from_env(environ={"INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "k" * 40,
                                   "CARRIER_WEBHOOK_SECRET": "k" * 40})
