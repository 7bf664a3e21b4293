"""Order timers, sweeps and the payout run.

Timers fire at a deadline keyed on (purpose, order, deadline); each re-checks the
order's state and the clock, so an early, late or repeated run is harmless.  The
sweeps find what a lost timer would have done and enqueue the same jobs.
"""
from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import select

from foundation import clock, db, jobs
from foundation.config import current as settings
from marketplace_core.orders import payouts, services
from marketplace_core.orders.models import Order, OrderStatus

log = logging.getLogger(__name__)
SWEEP_BATCH = 500
# How often the beat looks for overdue orders and due payouts; the rules themselves
# (21 days, 3 days, the payout interval) come from settings.


@jobs.job(queue="scheduled")
def auto_cancel_order(order_id: int) -> bool:
    return services.auto_cancel_if_due(db.session(), order_id)


@jobs.job(queue="scheduled")
def auto_accept_order(order_id: int) -> bool:
    return services.auto_accept_if_due(db.session(), order_id)


@jobs.job(queue="scheduled")
def sweep_orders() -> None:
    """Catch lost timers: unshipped orders past day 21, delivered orders past the
    acceptance window and not held by a case."""
    s = db.session()
    now = clock.now()
    cancel_before = now - timedelta(days=settings().ORDER_AUTO_CANCEL_DAYS)
    accept_before = now - timedelta(days=settings().ORDER_AUTO_ACCEPT_DAYS)
    overdue_placed = s.execute(
        select(Order.id).where(Order.status == OrderStatus.PLACED,
                               Order.placed_at <= cancel_before)
        .order_by(Order.id).limit(SWEEP_BATCH)).scalars().all()
    overdue_delivered = s.execute(
        select(Order.id).where(Order.status == OrderStatus.DELIVERED,
                               Order.on_hold.is_(False), Order.delivered_at <= accept_before)
        .order_by(Order.id).limit(SWEEP_BATCH)).scalars().all()
    for order_id in overdue_placed:
        auto_cancel_order.enqueue(order_id)
    for order_id in overdue_delivered:
        auto_accept_order.enqueue(order_id)
    if overdue_placed or overdue_delivered:
        log.info("order sweep: %d to cancel, %d to accept", len(overdue_placed),
                 len(overdue_delivered))


@jobs.job(queue="scheduled")
def run_payouts() -> None:
    """Start this slot's payouts: each moves the money to in flight and records its bank
    transfer in the outbox, in the same transaction (the outbox delivers and settles it)."""
    payouts.start_due_payouts(db.session())
