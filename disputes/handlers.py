"""What disputes hear from the marketplace and from authentication (in-process events)."""
from __future__ import annotations

from sqlalchemy.orm import Session

from disputes import returns


def mark_return_in_transit(s: Session, order_id: int, **_: object) -> None:
    returns.return_shipped(s, order_id)


def open_inspection_window(s: Session, order_id: int, **_: object) -> None:
    returns.return_delivered(s, order_id)
