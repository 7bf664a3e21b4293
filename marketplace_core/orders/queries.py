"""Reading orders for staff: what happened to an order, in order."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace_core.orders.models import OrderEvent


def order_events(s: Session, order_id: int) -> list[OrderEvent]:
    """Every transition of the order (and of its hold), oldest first."""
    return list(s.scalars(select(OrderEvent).where(OrderEvent.order_id == order_id)
                          .order_by(OrderEvent.id)))
