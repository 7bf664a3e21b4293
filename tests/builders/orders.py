"""Sales and orders through the orders services, read back in a fresh session, with the
ledger's books checked the way every order test checks them."""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from foundation import clock, db
from marketplace_core.ledger import services as ledger
from marketplace_core.listings.models import Listing
from marketplace_core.members.models import Member
from marketplace_core.orders import services
from marketplace_core.orders.models import Order, OrderEvent
from tests.builders.listings import listing_through_services
from tests.builders.members import headers_for, make_member

# A Monday morning in the past, so that RQ (which schedules by the real clock) finds
# every timer already due and the jobs themselves must check the frozen clock.
T0 = datetime(2025, 1, 6, 10, 0, tzinfo=UTC)
PRICE = 150_000          # Rs 1,500
SHIPPING = 7_900         # the default flat PoshPost fee
TOTAL = PRICE + SHIPPING
COMMISSION = 30_000      # 20% of the price


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


def run(fn, order_id: int, *args, **kwargs):
    """Run a service on the order in its own unit of work, as a request or job would."""
    with db.unit_of_work() as s:
        result = fn(s, s.get(Order, order_id), *args, **kwargs)
        return getattr(result, "status", result)


def ship_and_deliver(order_id: int, *, delivered_at: datetime) -> None:
    clock.freeze(delivered_at - timedelta(days=1))
    run(services.mark_shipped, order_id, clock.now())
    clock.freeze(delivered_at)
    run(services.mark_delivered, order_id, clock.now())


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


def event_kinds(order_id: int) -> list[str]:
    with db.unit_of_work() as s:
        return list(s.scalars(select(OrderEvent.kind).where(OrderEvent.order_id == order_id)
                              .order_by(OrderEvent.id)))


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
