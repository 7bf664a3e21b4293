"""A seller's money: balance while orders are held, after release, and scheduled payouts
to a (simulated) bank, including a bank that refuses."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from foundation import clock, db, jobs
from marketplace_core.ledger.models import Payout
from marketplace_core.members.models import Member
from marketplace_core.orders import payouts, services, tasks
from marketplace_core.orders.models import Order
from marketplace_core.outbox import dispatch
from tests.marketplace.test_orders import (
    COMMISSION,
    PRICE,
    T0,
    TOTAL,
    assert_books_sound,
    headers_for,
    live_listing,
    new_sale,
    place,
    ship_and_deliver,
)

EARNED = PRICE - COMMISSION
GOOD_ACCOUNT = {"account_number": "50100123456789", "ifsc": "HDFC0001234"}
FAILING_ACCOUNT = {"account_number": "000012345678", "ifsc": "SBIN0000001"}


def completed_sale(sale=None):
    sale = sale or new_sale()
    clock.freeze(T0)
    order_id = place(sale)
    ship_and_deliver(order_id, delivered_at=T0 + 2 * 86400 * timedelta(seconds=1))
    with db.unit_of_work() as s:
        services.accept(s, s.get(Order, order_id), s.get(Member, sale.buyer))
    return sale, order_id


def balance(client, member_id: int) -> dict:
    response = client.get("/api/v1/me/balance", headers=headers_for(member_id))
    assert response.status_code == 200
    return response.get_json()["balance"]


def set_account(client, member_id: int, account: dict):
    return client.put("/api/v1/me/payout-account", json=account,
                      headers=headers_for(member_id))


def run_payouts_at(moment) -> None:
    clock.freeze(moment)
    tasks.run_payouts.enqueue_now()
    jobs.run_pending()


def payout_rows(member_id: int) -> list[tuple[int, str]]:
    with db.unit_of_work() as s:
        return [(p.amount_paise, p.state) for p in s.scalars(
            select(Payout).where(Payout.member_id == member_id).order_by(Payout.id))]


def test_the_balance_shows_held_orders_as_pending_then_available_after_acceptance(client):
    clock.freeze(T0)
    sale = new_sale()
    order_id = place(sale)
    assert balance(client, sale.seller) == {"available_paise": 0, "pending_paise": TOTAL,
                                            "in_flight_paise": 0}
    ship_and_deliver(order_id, delivered_at=T0 + timedelta(days=2))
    client.post(f"/api/v1/orders/{order_id}/accept", headers=headers_for(sale.buyer))
    assert balance(client, sale.seller) == {"available_paise": EARNED, "pending_paise": 0,
                                            "in_flight_paise": 0}
    # The buyer has no earnings.
    assert balance(client, sale.buyer)["available_paise"] == 0


def test_scheduled_payout_sends_the_available_balance_to_the_bank(client):
    sale, _ = completed_sale()
    response = set_account(client, sale.seller, GOOD_ACCOUNT)
    assert response.status_code == 200
    assert response.get_json()["payout_account"] == {"account_number": "••••6789",
                                                     "ifsc": "HDFC0001234"}
    run_payouts_at(T0 + timedelta(days=3))
    assert payout_rows(sale.seller) == [(EARNED, "paid")]
    assert balance(client, sale.seller) == {"available_paise": 0, "pending_paise": 0,
                                            "in_flight_paise": 0}
    listed = client.get("/api/v1/me/payouts", headers=headers_for(sale.seller)).get_json()
    assert [(p["amount_paise"], p["state"]) for p in listed["items"]] == [(EARNED, "paid")]
    assert_books_sound()


def test_a_started_payout_shows_as_in_flight_until_the_bank_answers(client):
    sale, _ = completed_sale()
    set_account(client, sale.seller, GOOD_ACCOUNT)
    with db.unit_of_work() as s:
        started = payouts.start_due_payouts(s)
    assert len(started) == 1
    assert balance(client, sale.seller) == {"available_paise": 0, "pending_paise": 0,
                                            "in_flight_paise": EARNED}
    assert_books_sound()
    with db.unit_of_work() as s:
        assert dispatch.send_payout(s, started[0]) == "paid"
    with db.unit_of_work() as s:
        assert dispatch.send_payout(s, started[0]) == "paid"  # a repeat changes nothing
    assert balance(client, sale.seller)["in_flight_paise"] == 0
    assert_books_sound()


def test_a_refused_transfer_returns_the_money_to_the_available_balance(client):
    sale, _ = completed_sale()
    set_account(client, sale.seller, FAILING_ACCOUNT)
    run_payouts_at(T0 + timedelta(days=3))
    assert payout_rows(sale.seller) == [(EARNED, "failed")]
    assert balance(client, sale.seller) == {"available_paise": EARNED, "pending_paise": 0,
                                            "in_flight_paise": 0}
    listed = client.get("/api/v1/me/payouts", headers=headers_for(sale.seller)).get_json()
    assert listed["items"][0]["failure_reason"] == "account closed or invalid"
    assert_books_sound()
    # The seller fixes the account; the next scheduled run pays.
    set_account(client, sale.seller, GOOD_ACCOUNT)
    run_payouts_at(T0 + timedelta(days=4))
    assert payout_rows(sale.seller) == [(EARNED, "failed"), (EARNED, "paid")]
    assert balance(client, sale.seller)["available_paise"] == 0
    assert_books_sound()


def test_one_payout_per_seller_per_period_however_often_the_run_repeats(client):
    sale, _ = completed_sale()
    set_account(client, sale.seller, GOOD_ACCOUNT)
    moment = T0 + timedelta(days=3)
    run_payouts_at(moment)
    # A second sale released within the same period waits for the next one.
    listing = live_listing(sale.seller, title="Second saree")
    sale.listing = listing
    completed_sale(sale)
    run_payouts_at(moment + timedelta(hours=1))
    assert payout_rows(sale.seller) == [(EARNED, "paid")]
    run_payouts_at(moment + timedelta(hours=24))
    assert payout_rows(sale.seller) == [(EARNED, "paid"), (EARNED, "paid")]
    assert_books_sound()


def test_a_seller_without_a_payout_account_keeps_the_balance(client):
    sale, _ = completed_sale()
    run_payouts_at(T0 + timedelta(days=3))
    assert payout_rows(sale.seller) == []
    assert balance(client, sale.seller)["available_paise"] == EARNED
    assert client.get("/api/v1/me/balance",
                      headers=headers_for(sale.seller)).get_json()["payout_account"] is None


@pytest.mark.parametrize("account", [
    {}, {"account_number": "12345", "ifsc": "HDFC0001234"},
    {"account_number": "50100123456789", "ifsc": "HDFC1001234"},
    {"account_number": "5010012345678a", "ifsc": "HDFC0001234"},
    {"account_number": 50100123456789, "ifsc": "HDFC0001234"},
])
def test_bad_bank_details_are_422_and_stored_nowhere(client, account):
    sale = new_sale()
    assert set_account(client, sale.seller, account).status_code == 422
    with db.unit_of_work() as s:
        assert payouts.payout_account(s, sale.seller) is None


def test_payouts_are_listed_newest_first_with_a_cursor(client):
    sale, _ = completed_sale()
    set_account(client, sale.seller, FAILING_ACCOUNT)
    for day in (3, 4, 5):
        run_payouts_at(T0 + timedelta(days=day))
    with db.unit_of_work() as s:
        assert s.scalar(select(func.count(Payout.id))) == 3
    headers = headers_for(sale.seller)
    first = client.get("/api/v1/me/payouts?limit=2", headers=headers).get_json()
    rest = client.get(f"/api/v1/me/payouts?limit=2&cursor={first['next']}",
                      headers=headers).get_json()
    ids = [p["id"] for p in first["items"] + rest["items"]]
    assert ids == sorted(ids, reverse=True) and len(ids) == 3 and rest["next"] is None
    assert client.get("/api/v1/me/payouts").status_code == 401
