"""Checkout: buy now through the API, place_order for offers and bundles, and what each
refusal leaves behind (nothing).  The helpers here are shared by the other
test_orders_* modules."""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from foundation import clock, db, events
from foundation.errors import Conflict, PermissionDenied, ValidationFailed
from marketplace_core.ledger import services as ledger
from marketplace_core.ledger.models import Entry, Hold, IdempotencyKey, LedgerTransaction
from marketplace_core.listings import services as listing_services
from marketplace_core.listings.models import Listing, ListingEvent
from marketplace_core.members import services as member_services
from marketplace_core.members.models import Member
from marketplace_core.orders import payments, services
from marketplace_core.orders.models import Order, OrderEvent, OrderItem
from marketplace_core.orders.payments import PaymentDeclined
from tests.marketplace.db_helpers import listing_through_services

# A Monday morning in the past, so that RQ (which schedules by the real clock) finds
# every timer already due and the jobs themselves must check the frozen clock.
T0 = datetime(2025, 1, 6, 10, 0, tzinfo=UTC)
PRICE = 150_000          # Rs 1,500
SHIPPING = 7_900         # the default flat PoshPost fee
TOTAL = PRICE + SHIPPING
COMMISSION = 30_000      # 20% of the price


# --- helpers shared by the order tests --------------------------------------------------

def make_member(username: str) -> int:
    with db.unit_of_work() as s:
        return member_services.register(s, email=f"{username}@example.in", username=username,
                                        password="a-long-password").id


def headers_for(member_id: int) -> dict[str, str]:
    """A fresh bearer token at the (possibly frozen) current time."""
    with db.unit_of_work() as s:
        raw = member_services.issue_token(s, s.get(Member, member_id))
    return {"Authorization": f"Bearer {raw}"}


def live_listing(seller_id: int, price: int = PRICE, weight: int = 500,
                 title: str = "Banarasi silk saree") -> int:
    return listing_through_services(seller_id, {
        "title": title, "brand": "Nalli", "category": "sarees", "size": "Free size",
        "condition": "like_new", "price_paise": price, "weight_grams": weight})


@dataclass
class Sale:
    buyer: int
    seller: int
    listing: int

    @property
    def buyer_headers(self) -> dict[str, str]:
        return headers_for(self.buyer)

    @property
    def seller_headers(self) -> dict[str, str]:
        return headers_for(self.seller)


_names = iter(range(1, 10_000))


def new_sale(price: int = PRICE) -> Sale:
    n = next(_names)
    seller = make_member(f"seller{n}")
    return Sale(buyer=make_member(f"buyer{n}"), seller=seller,
                listing=live_listing(seller, price))


def buy(client, sale: Sale, *, method: str = "test_card_ok", key: str | None = None,
        listing_id: int | None = None, headers: dict | None = None):
    body = {"listing_id": listing_id or sale.listing, "payment_method": method}
    if key is not None:
        body["idempotency_key"] = key
    return client.post("/api/v1/orders", json=body, headers=headers or sale.buyer_headers)


def place(sale: Sale, *, source: str = "buy_now", listings: list[int] | None = None,
          prices: list[int] | None = None, **kwargs) -> int:
    """place_order as the offers and bundles code calls it; returns the order id."""
    with db.unit_of_work() as s:
        ids = listings or [sale.listing]
        rows = [s.get(Listing, i) for i in ids]
        items = list(zip(rows, prices or [r.price_paise for r in rows], strict=True))
        kwargs.setdefault("payment_method", "test_upi_ok")
        kwargs.setdefault("idempotency_key", secrets.token_hex(8))
        return services.place_order(s, s.get(Member, sale.buyer), items, source=source,
                                    **kwargs).id


def placed_order(sale: Sale, **kwargs) -> int:
    return place(sale, **kwargs)


def run(fn, order_id: int, *args, **kwargs):
    """Run a service on the order in its own unit of work, as a request or job would."""
    with db.unit_of_work() as s:
        result = fn(s, s.get(Order, order_id), *args, **kwargs)
        return getattr(result, "status", result)


def order_row(order_id: int) -> Order:
    with db.unit_of_work() as s:
        order = s.get(Order, order_id)
        s.expunge(order)
        return order


def status_of(order_id: int) -> str:
    return order_row(order_id).status


def listing_status(listing_id: int) -> str:
    with db.unit_of_work() as s:
        return s.get(Listing, listing_id).status


def money(order_id: int) -> dict[str, int]:
    with db.unit_of_work() as s:
        return ledger.order_money(s, order_id)


def assert_books_sound() -> None:
    """The ledger's own invariants, and held + released + refunded == captured for every
    order."""
    with db.unit_of_work() as s:
        assert ledger.check_invariants(s) == []
        for order_id in s.scalars(select(Order.id)):
            m = ledger.order_money(s, order_id)
            assert m["held_paise"] + m["released_paise"] + m["refunded_paise"] \
                == m["captured_paise"], (order_id, m)


def row_counts() -> dict[str, int]:
    with db.unit_of_work() as s:
        return {model.__name__: s.scalar(select(func.count()).select_from(model))
                for model in (Order, OrderItem, OrderEvent, LedgerTransaction, Entry, Hold,
                              IdempotencyKey, ListingEvent)}


def event_kinds(order_id: int) -> list[str]:
    with db.unit_of_work() as s:
        return list(s.scalars(select(OrderEvent.kind).where(OrderEvent.order_id == order_id)
                              .order_by(OrderEvent.id)))


def ship_and_deliver(order_id: int, *, delivered_at: datetime) -> None:
    clock.freeze(delivered_at - timedelta(days=1))
    run(services.mark_shipped, order_id, clock.now())
    clock.freeze(delivered_at)
    run(services.mark_delivered, order_id, clock.now())


def fresh_provider(monkeypatch) -> payments.SimulatedPaymentProvider:
    """The simulated provider; its store lives in the test's own instance folder, so what
    reached it is that test's."""
    fresh = payments.SimulatedPaymentProvider()
    monkeypatch.setitem(payments._installed, "provider", fresh)
    return fresh


def record_order_events(monkeypatch) -> list[tuple[str, dict]]:
    """Record the order events emitted during one test (handlers restored after it)."""
    seen: list[tuple[str, dict]] = []
    for name in (events.OrderPlaced, events.OrderDelivered, events.OrderCompleted,
                 events.OrderCancelled):
        def recorder(_s, _name=name, **payload):
            seen.append((_name, payload))
        monkeypatch.setitem(events._handlers, name, [*events._handlers[name], recorder])
    return seen


@pytest.fixture
def provider(monkeypatch) -> payments.SimulatedPaymentProvider:
    return fresh_provider(monkeypatch)


@pytest.fixture
def emitted(monkeypatch) -> list[tuple[str, dict]]:
    return record_order_events(monkeypatch)


# --- buy now ------------------------------------------------------------------------------

def test_buy_now_captures_the_payment_into_held_funds_and_sells_the_listing(client, emitted):
    clock.freeze(T0)
    sale = new_sale()
    response = buy(client, sale)
    assert response.status_code == 201, response.get_json()
    order = response.get_json()
    assert order["status"] == "placed"
    assert (order["items_total_paise"], order["shipping_paise"], order["total_paise"]) == \
        (PRICE, SHIPPING, TOTAL)
    assert (order["captured_paise"], order["held_paise"], order["released_paise"],
            order["refunded_paise"]) == (TOTAL, TOTAL, 0, 0)
    assert order["items"] == [{"listing_id": sale.listing, "title": "Banarasi silk saree",
                               "price_paise": PRICE}]
    assert order["payment_method"] == "test_card_ok"
    assert order["deadlines"]["accidental_cancel_until"] == (T0 + timedelta(hours=3)).isoformat()
    assert order["deadlines"]["auto_cancel_at"] == (T0 + timedelta(days=21)).isoformat()
    assert listing_status(sale.listing) == "sold"
    # Nobody else can see or buy a sold item.
    other = make_member("browser")
    assert client.get(f"/api/v1/listings/{sale.listing}",
                      headers=headers_for(other)).status_code == 404
    assert event_kinds(order["id"]) == ["placed"]
    assert emitted == [(events.OrderPlaced, {"order_id": order["id"]})]
    assert_books_sound()


def test_the_seller_sees_the_order_and_its_weight_but_not_the_payment_method(client):
    sale = new_sale()
    order_id = buy(client, sale).get_json()["id"]
    seen = client.get(f"/api/v1/orders/{order_id}", headers=sale.seller_headers).get_json()
    assert seen["status"] == "placed"
    assert seen["weight_grams"] == 500
    assert "payment_method" not in seen
    assert seen["captured_paise"] == TOTAL


def test_a_stranger_gets_404_for_someone_elses_order(client):
    sale = new_sale()
    order_id = buy(client, sale).get_json()["id"]
    stranger = headers_for(make_member("nosy"))
    assert client.get(f"/api/v1/orders/{order_id}", headers=stranger).status_code == 404
    assert client.get("/api/v1/orders/999999", headers=stranger).status_code == 404
    for action in ("cancel", "accept"):
        response = client.post(f"/api/v1/orders/{order_id}/{action}", json={"reason": "x"},
                               headers=stranger)
        assert response.status_code == 404
    assert client.get(f"/api/v1/orders/{order_id}").status_code == 401


def test_a_declined_card_leaves_no_order_no_sold_listing_and_no_money_behind(client):
    sale = new_sale()
    before = row_counts()
    response = buy(client, sale, method="test_card_declined")
    assert response.status_code == 402
    assert response.get_json()["error"]["code"] == "payment_declined"
    assert row_counts() == before
    assert listing_status(sale.listing) == "live"
    assert_books_sound()
    # The same buyer pays with UPI instead, and it works.
    assert buy(client, sale, method="test_upi_ok").status_code == 201


def test_a_declined_card_undoes_its_work_even_when_the_caller_commits(app):
    """The offers code may catch the refusal and record it; nothing of the order stays."""
    sale = new_sale()
    before = row_counts()
    with db.unit_of_work() as s:
        listing = s.get(Listing, sale.listing)
        with pytest.raises(PaymentDeclined):
            services.place_order(s, s.get(Member, sale.buyer), [(listing, 120_000)],
                                 source="offer", offer_id=7,
                                 payment_method="test_card_declined", idempotency_key="k1")
    assert row_counts() == before
    assert listing_status(sale.listing) == "live"


def test_a_failure_after_the_capture_voids_it_at_the_provider(app, monkeypatch, provider):
    sale = new_sale()
    before = row_counts()

    def broken_handler(_s, **_payload):
        raise RuntimeError("a subscriber failed")

    monkeypatch.setitem(events._handlers, events.OrderPlaced, [broken_handler])
    with pytest.raises(RuntimeError):
        place(sale)
    assert len(provider.received_voids()) == 1
    assert row_counts() == before
    assert listing_status(sale.listing) == "live"


def test_a_failure_after_the_writes_undoes_them_even_when_the_caller_commits(app, monkeypatch,
                                                                             provider):
    sale = new_sale()
    before = row_counts()

    def broken_handler(_s, **_payload):
        raise Conflict("a subscriber refused", code="refused")

    monkeypatch.setitem(events._handlers, events.OrderPlaced, [broken_handler])
    with db.unit_of_work() as s:
        with pytest.raises(Conflict):
            services.place_order(s, s.get(Member, sale.buyer),
                                 [(s.get(Listing, sale.listing), PRICE)], source="buy_now",
                                 payment_method="test_card_ok", idempotency_key="k")
    assert row_counts() == before
    assert listing_status(sale.listing) == "live"
    assert len(provider.received_voids()) == 1


@pytest.mark.parametrize("method", ["cash_on_delivery", "TEST_CARD_OK", ""])
def test_an_unknown_payment_method_is_422_and_writes_nothing(client, method):
    sale = new_sale()
    before = row_counts()
    response = buy(client, sale, method=method)
    assert response.status_code == 422
    assert "payment_method" in response.get_json()["error"]["fields"]
    assert row_counts() == before
    assert listing_status(sale.listing) == "live"


def test_the_same_idempotency_key_returns_the_same_order_without_a_second_charge(client):
    sale = new_sale()
    first = buy(client, sale, key="tap-1")
    assert first.status_code == 201
    captures = row_counts()["LedgerTransaction"]
    again = buy(client, sale, key="tap-1")
    assert again.status_code == 200
    assert again.get_json()["id"] == first.get_json()["id"]
    assert row_counts()["LedgerTransaction"] == captures
    assert money(first.get_json()["id"])["captured_paise"] == TOTAL


def test_the_same_idempotency_key_for_another_request_is_409(client):
    sale = new_sale()
    assert buy(client, sale, key="tap-2").status_code == 201
    other_listing = live_listing(sale.seller, title="Chikankari kurta")
    before = row_counts()
    for response in (buy(client, sale, key="tap-2", listing_id=other_listing),
                     buy(client, sale, key="tap-2", method="test_upi_ok")):
        assert response.status_code == 409
        assert response.get_json()["error"]["code"] == "idempotency_key_reused"
    assert row_counts() == before
    assert listing_status(other_listing) == "live"


def test_an_idempotency_key_belongs_to_one_buyer(client):
    sale = new_sale()
    assert buy(client, sale, key="same").status_code == 201
    other = Sale(buyer=make_member("secondbuyer"), seller=sale.seller,
                 listing=live_listing(sale.seller))
    assert buy(client, other, key="same").status_code == 201


def test_a_sold_listing_cannot_be_bought_again_and_nothing_is_charged(client):
    sale = new_sale()
    assert buy(client, sale).status_code == 201
    late = headers_for(make_member("latecomer"))
    before = row_counts()
    response = buy(client, sale, headers=late)
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "not_available"
    assert row_counts() == before


def test_the_seller_cannot_buy_their_own_listing(client):
    sale = new_sale()
    response = buy(client, sale, headers=sale.seller_headers)
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "own_listing"
    assert listing_status(sale.listing) == "live"


def test_listings_buyers_cannot_see_cannot_be_bought(client, settings):
    sale = new_sale()
    with db.unit_of_work() as s:
        seller = s.get(Member, sale.seller)
        draft = listing_services.create_draft(s, seller, {
            "title": "Draft kurta", "brand": "Fabindia", "category": "kurtas", "size": "M",
            "condition": "good", "price_paise": 90_000}).id
    # Above the authentication threshold and not authenticated: never live.
    expensive = live_listing(sale.seller, price=settings.AUTHENTICATION_THRESHOLD_PAISE + 100)
    assert listing_status(expensive) == "pending_authentication"
    for listing_id in (draft, expensive, 987654):
        response = buy(client, sale, listing_id=listing_id)
        assert response.status_code == 404, listing_id
    assert listing_status(expensive) == "pending_authentication"


@pytest.mark.parametrize("body", [
    {}, {"listing_id": "12", "payment_method": "test_card_ok"},
    {"listing_id": 1, "payment_method": 5}, {"listing_id": 0, "payment_method": "test_card_ok"},
    {"listing_id": 1, "payment_method": "test_card_ok", "coupon": "FREE"},
    {"listing_id": 1, "payment_method": "test_card_ok", "idempotency_key": "a b"},
    {"listing_id": 1, "payment_method": "test_card_ok", "idempotency_key": "k" * 101},
    {"listing_id": True, "payment_method": "test_card_ok"},
])
def test_bad_buy_now_requests_are_422(client, body):
    sale = new_sale()
    response = client.post("/api/v1/orders", json=body, headers=sale.buyer_headers)
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "validation_failed"


def test_a_body_that_is_not_json_is_a_4xx_json_error(client):
    sale = new_sale()
    response = client.post("/api/v1/orders", data="listing_id=1",
                           headers=sale.buyer_headers)
    assert 400 <= response.status_code < 500
    assert "error" in response.get_json()


def test_a_buy_now_price_that_changed_under_the_buyer_is_refused(app):
    sale = new_sale()
    with pytest.raises(Conflict) as refused:
        place(sale, prices=[PRICE - 1])
    assert refused.value.code == "price_changed"
    assert listing_status(sale.listing) == "live"


# --- place_order for offers and bundles --------------------------------------------------

def test_an_offer_order_sells_at_the_offered_price(app):
    sale = new_sale()
    order_id = place(sale, source="offer", offer_id=41, prices=[120_000])
    order = order_row(order_id)
    assert (order.source, order.offer_id, order.items_total_paise, order.total_paise) == \
        ("offer", 41, 120_000, 120_000 + SHIPPING)
    assert money(order_id)["captured_paise"] == 120_000 + SHIPPING
    assert_books_sound()


def test_a_bundle_is_one_order_with_one_shipping_fee_and_the_discount(app):
    sale = new_sale()
    kurta = live_listing(sale.seller, price=80_000, weight=300, title="Kurta")
    jutti = live_listing(sale.seller, price=60_000, weight=700, title="Juttis")
    order_id = place(sale, source="bundle", bundle_id=9,
                     listings=[sale.listing, kurta, jutti], discount_paise=43_500)
    with db.unit_of_work() as s:
        order = s.get(Order, order_id)
        assert order.items_total_paise == PRICE + 140_000
        assert order.total_paise == PRICE + 140_000 - 43_500 + SHIPPING
        assert order.total_weight_grams == 500 + 300 + 700
        assert sorted(i.listing_id for i in order.items) == sorted([sale.listing, kurta, jutti])
    assert {listing_status(i) for i in (sale.listing, kurta, jutti)} == {"sold"}
    assert_books_sound()


def test_a_bundle_with_one_item_already_sold_sells_nothing(client):
    sale = new_sale()
    kurta = live_listing(sale.seller, price=80_000, title="Kurta")
    rival = Sale(buyer=make_member("rival"), seller=sale.seller, listing=kurta)
    assert buy(client, rival).status_code == 201
    before = row_counts()
    with pytest.raises(Conflict) as refused:
        place(sale, source="bundle", bundle_id=3, listings=[sale.listing, kurta])
    assert refused.value.code == "not_available"
    assert row_counts() == before
    assert listing_status(sale.listing) == "live"


@pytest.mark.parametrize("kwargs, field", [
    ({"source": "offer"}, "offer_id"),
    ({"source": "bundle"}, "bundle_id"),
    ({"source": "gift"}, "source"),
    ({"source": "buy_now", "offer_id": 3}, "source"),
    ({"source": "offer", "offer_id": 3, "discount_paise": PRICE}, "discount_paise"),
    ({"source": "offer", "offer_id": 3, "discount_paise": -1}, "discount_paise"),
    ({"source": "offer", "offer_id": 3, "prices": [0]}, "items"),
    ({"source": "offer", "offer_id": 3, "idempotency_key": ""}, "idempotency_key"),
])
def test_place_order_refuses_malformed_requests(app, kwargs, field):
    sale = new_sale()
    with pytest.raises(ValidationFailed) as refused:
        place(sale, **kwargs)
    assert field in refused.value.fields
    assert listing_status(sale.listing) == "live"


def test_one_order_holds_one_sellers_items(app):
    sale = new_sale()
    elsewhere = live_listing(make_member("otherseller"))
    with pytest.raises(ValidationFailed) as refused:
        place(sale, source="bundle", bundle_id=1, listings=[sale.listing, elsewhere])
    assert refused.value.code == "several_sellers"
    assert {listing_status(sale.listing), listing_status(elsewhere)} == {"live"}


def test_place_order_refuses_the_sellers_own_listing(app):
    sale = new_sale()
    with db.unit_of_work() as s, pytest.raises(PermissionDenied):
        services.place_order(s, s.get(Member, sale.seller), [(s.get(Listing, sale.listing),
                                                              PRICE)],
                             source="buy_now", payment_method="test_card_ok",
                             idempotency_key="x")


# --- listing orders -----------------------------------------------------------------------

def test_orders_are_listed_by_role_newest_first_with_a_cursor(client):
    sale = new_sale()
    ids = []
    for n in range(3):
        listing = live_listing(sale.seller, title=f"Saree {n}")
        ids.append(buy(client, sale, listing_id=listing).get_json()["id"])
    buyer = sale.buyer_headers
    first = client.get("/api/v1/orders?role=buyer&limit=2", headers=buyer).get_json()
    assert [o["id"] for o in first["items"]] == ids[::-1][:2]
    rest = client.get(f"/api/v1/orders?role=buyer&limit=2&cursor={first['next']}",
                      headers=buyer).get_json()
    assert [o["id"] for o in rest["items"]] == [ids[0]] and rest["next"] is None
    sold = client.get("/api/v1/orders?role=seller", headers=sale.seller_headers).get_json()
    assert sorted(o["id"] for o in sold["items"]) == sorted(ids)
    assert client.get("/api/v1/orders?role=seller", headers=buyer).get_json()["items"] == []


@pytest.mark.parametrize("query", ["role=admin", "limit=0", "limit=101", "cursor=abc",
                                   "cursor=-4"])
def test_bad_order_list_queries_are_422(client, query):
    sale = new_sale()
    response = client.get(f"/api/v1/orders?{query}", headers=sale.buyer_headers)
    assert response.status_code == 422
