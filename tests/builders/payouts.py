"""Sellers' earnings on their way to the bank: a completed sale, a payout account, a run."""
from __future__ import annotations

from datetime import timedelta

from foundation import clock, db, jobs
from marketplace_core.members.models import Member
from marketplace_core.orders import services, tasks
from marketplace_core.orders.models import Order
from tests.builders.members import headers_for
from tests.builders.orders import COMMISSION, PRICE, T0, new_sale, place, ship_and_deliver

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


def set_account(client, member_id: int, account: dict):
    return client.put("/api/v1/me/payout-account", json=account,
                      headers=headers_for(member_id))


def run_payouts_at(moment) -> None:
    clock.freeze(moment)
    tasks.run_payouts.enqueue_now()
    jobs.run_pending()
