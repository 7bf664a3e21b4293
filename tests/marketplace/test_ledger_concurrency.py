"""Races on real PostgreSQL with real threads: requests that arrive together move money
exactly as if they had come one after the other.  (SQLite serialises writers and
ignores FOR UPDATE, so these run only where DATABASE_URL names PostgreSQL.)"""
from __future__ import annotations

from sqlalchemy import func, select

from foundation import db
from marketplace_core.ledger import accounts
from marketplace_core.ledger import services as ledger
from marketplace_core.ledger.models import Account, AccountKind, LedgerTransaction
from tests.concurrency import all_at_once, postgresql_only

pytestmark = postgresql_only("row locks and concurrent writers need PostgreSQL")

WORKERS = 8
BUYER, SELLER, PRICE = 101, 202, 100_000


def capture(order_id: int = 1) -> None:
    with db.unit_of_work() as s:
        ledger.capture_payment(s, order_id, BUYER, SELLER, PRICE, f"capture-{order_id}", "p")


def books() -> tuple[dict, list[str]]:
    with db.unit_of_work() as s:
        return ledger.order_money(s, 1), ledger.check_invariants(s)


def test_concurrent_refunds_never_exceed_what_is_held(app):
    capture()
    results = all_at_once(WORKERS, lambda s, i: ledger.refund_buyer(
        s, 1, 20_000, f"refund-{i}", "race").id)
    assert sum(isinstance(r, int) for r in results) == 5
    assert sorted(r for r in results if isinstance(r, str)) == ["funds_not_held"] * 3
    money, problems = books()
    assert (money["refunded_paise"], money["held_paise"], problems) == (PRICE, 0, [])


def test_concurrent_release_and_refund_let_exactly_one_win(app):
    capture()
    results = all_at_once(WORKERS, lambda s, i: (
        ledger.release_to_seller(s, 1, 20_000, 0, f"release-{i}") if i % 2
        else ledger.refund_buyer(s, 1, PRICE, f"refund-{i}", "race")).id)
    assert sum(isinstance(r, int) for r in results) == 1
    money, problems = books()
    assert money["released_paise"] + money["refunded_paise"] == PRICE
    assert problems == []


def test_one_key_sent_concurrently_moves_money_once(app):
    results = all_at_once(WORKERS, lambda s, i: ledger.capture_payment(
        s, 1, BUYER, SELLER, PRICE, "same-key", "pay_1").id)
    assert len(set(results)) == 1 and isinstance(results[0], int)
    with db.unit_of_work() as s:
        assert s.execute(select(func.count(LedgerTransaction.id))).scalar_one() == 1
    assert books()[0]["captured_paise"] == PRICE


def test_concurrent_payouts_pay_a_balance_once(app):
    capture()
    with db.unit_of_work() as s:
        ledger.release_to_seller(s, 1, 20_000, 0, "release-1")
    results = all_at_once(WORKERS, lambda s, i: ledger.start_payout(s, SELLER, f"payout-{i}").id)
    assert sum(isinstance(r, int) for r in results) == 1
    assert sorted(r for r in results if isinstance(r, str)) == ["nothing_to_pay_out"] * 7
    with db.unit_of_work() as s:
        assert (ledger.seller_balance(s, SELLER), ledger.payout_in_flight(s, SELLER)) == (
            0, 80_000)
        assert ledger.check_invariants(s) == []


def test_concurrent_first_use_creates_one_account(app):
    results = all_at_once(WORKERS, lambda s, i: accounts.get_or_create_account(
        s, AccountKind.SELLER_AVAILABLE, member_id=77).id)
    assert len(set(results)) == 1
    with db.unit_of_work() as s:
        assert s.execute(select(func.count(Account.id))).scalar_one() == 1
