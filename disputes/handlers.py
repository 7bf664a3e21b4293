"""What disputes hear from the marketplace and from authentication (in-process events)."""
from __future__ import annotations

from sqlalchemy.orm import Session

from disputes import authentication_link, returns  # noqa: F401  (subscribes on import)
from marketplace_core import events


@events.on(events.RETURN_SHIPPED)
def _return_shipped(s: Session, order_id: int, **_: object) -> None:
    returns.return_shipped(s, order_id)


@events.on(events.RETURN_DELIVERED)
def _return_delivered(s: Session, order_id: int, **_: object) -> None:
    returns.return_delivered(s, order_id)
