"""Ratings ("love notes"): the buyer rates a completed order, once, within 30 days."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from foundation import clock, events
from foundation.config import current as settings
from foundation.errors import Conflict, PermissionDenied, ValidationFailed
from marketplace_core.members.models import Member
from marketplace_core.orders.models import Order, OrderStatus, Rating

MAX_TEXT = 500


def rate_order(s: Session, order: Order, buyer: Member, *, stars: int, text: str = "",
               ) -> Rating:
    if buyer.id != order.buyer_id:
        raise PermissionDenied("Only the buyer can rate an order.", code="not_buyer")
    _check(stars, text)
    if order.status != OrderStatus.COMPLETED:
        raise Conflict("An order can be rated once it is completed.", code="not_completed")
    deadline = order.completed_at + timedelta(days=settings().RATING_WINDOW_DAYS)
    if clock.now() > deadline:
        raise Conflict("The time to rate this order has passed.", code="rating_window_closed")
    if _rating_of(s, order.id) is not None:
        raise Conflict("You have already rated this order.", code="already_rated")
    rating = Rating(order_id=order.id, buyer_id=buyer.id, seller_id=order.seller_id,
                    stars=stars, text=text.strip(), created_at=clock.now())
    s.add(rating)
    try:
        with s.begin_nested():
            s.flush()
    except IntegrityError:
        raise Conflict("You have already rated this order.", code="already_rated") from None
    events.emit(s, events.OrderRated(order_id=order.id, seller_id=order.seller_id))
    return rating


def rating_for(s: Session, order_id: int) -> Rating | None:
    return _rating_of(s, order_id)


def closet_ratings(s: Session, seller: Member, *, before_id: int | None = None,
                   limit: int = 20) -> tuple[list[tuple[Rating, Member]], int | None]:
    """A closet's love notes, newest first, each with the buyer who wrote it."""
    query = (select(Rating, Member).join(Member, Member.id == Rating.buyer_id)
             .where(Rating.seller_id == seller.id).order_by(Rating.id.desc()).limit(limit + 1))
    if before_id is not None:
        query = query.where(Rating.id < before_id)
    rows = [tuple(row) for row in s.execute(query).all()]
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (rows[-1][0].id if more else None)


def rating_summary(s: Session, seller: Member) -> dict:
    count, average = s.execute(select(func.count(Rating.id), func.avg(Rating.stars))
                               .where(Rating.seller_id == seller.id)).one()
    return {"count": count or 0,
            "average_stars": round(float(average), 2) if average is not None else None}


def _rating_of(s: Session, order_id: int) -> Rating | None:
    return s.execute(select(Rating).where(Rating.order_id == order_id)).scalar_one_or_none()


def _check(stars, text) -> None:
    problems = {}
    if type(stars) is not int or not 1 <= stars <= 5:
        problems["stars"] = "a whole number from 1 to 5"
    if not isinstance(text, str) or len(text.strip()) > MAX_TEXT:
        problems["text"] = f"at most {MAX_TEXT} characters"
    if problems:
        raise ValidationFailed("This rating cannot be saved.", fields=problems)
