"""Reactions to the orders' events: a label at the sale, voided at a cancellation."""
from __future__ import annotations

from sqlalchemy.orm import Session

from marketplace_core.orders.models import Order
from marketplace_core.shipping import services


def create_label_for_sale(s: Session, order_id: int) -> None:
    order = s.get(Order, order_id)
    if order is not None:  # an announcement about no order has nothing to ship
        services.create_label(s, order)


def void_label_of_cancelled_order(s: Session, order_id: int, reason: str) -> None:
    services.void_label(s, order_id, f"order cancelled: {reason}")
