"""Buyers racing for the same item on real PostgreSQL with real threads: exactly one
order, one charge; the others get 409 not_available and pay nothing.  (SQLite ignores
FOR UPDATE and serialises writers, so these run only where DATABASE_URL names
PostgreSQL.)"""
from __future__ import annotations

from sqlalchemy import func, select

from foundation import db
from marketplace_core.ledger.models import Hold, LedgerTransaction
from marketplace_core.listings.models import Listing
from marketplace_core.members.models import Member
from marketplace_core.orders import services
from marketplace_core.orders.models import Order
from tests.builders.members import make_member
from tests.builders.orders import PRICE, TOTAL, assert_books_sound, listing_status, new_sale
from tests.concurrency import all_at_once, postgresql_only

pytestmark = postgresql_only("the checkout race needs PostgreSQL's row locks and "
                             "concurrent writers; SQLite runs one writer at a time")

WORKERS = 6


def buy_as(buyer_id: int, listing_id: int, key: str):
    def work(s, _i):
        listing = s.get(Listing, listing_id)
        return services.place_order(s, s.get(Member, buyer_id), [(listing, PRICE)],
                                    source="buy_now", payment_method="test_card_ok",
                                    idempotency_key=key).id
    return work


def counts() -> tuple[int, int, int]:
    with db.unit_of_work() as s:
        return (s.scalar(select(func.count(Order.id))), s.scalar(select(func.count(Hold.id))),
                s.scalar(select(func.count(LedgerTransaction.id))))


def test_many_buyers_of_one_listing_make_exactly_one_order(app):
    sale = new_sale()
    buyers = [make_member(f"racer{i}") for i in range(WORKERS)]
    results = all_at_once(WORKERS, lambda s, i: buy_as(buyers[i], sale.listing, f"k{i}")(s, i))
    winners = [r for r in results if isinstance(r, int)]
    assert len(winners) == 1
    assert sorted(r for r in results if isinstance(r, str)) == ["not_available"] * (WORKERS - 1)
    assert counts() == (1, 1, 1)
    assert listing_status(sale.listing) == "sold"
    with db.unit_of_work() as s:
        assert s.get(Order, winners[0]).total_paise == TOTAL
    assert_books_sound()


def test_one_buyer_repeating_a_request_concurrently_is_charged_once(app):
    sale = new_sale()
    results = all_at_once(WORKERS, buy_as(sale.buyer, sale.listing, "double-tap"))
    assert len(set(results)) == 1 and isinstance(results[0], int)
    assert counts() == (1, 1, 1)
    assert_books_sound()
