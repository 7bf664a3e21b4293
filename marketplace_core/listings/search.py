"""Search and browse of live listings: filters, sorts and keyset pagination.

Only `status = 'live'` rows are ever returned, so nothing awaiting authentication,
sold or removed can leak into results.  Keyset cursors keep deep pages as cheap as the
first on a million rows (no OFFSET, no COUNT).
"""
from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.sql import ColumnElement

from foundation.errors import ValidationFailed
from marketplace_core.listings.models import Listing, ListingStatus

MAX_TERMS = 8
SORTS = {
    # name: (column, descending)
    "newest": (Listing.published_at, True),
    "price_low": (Listing.price_paise, False),
    "price_high": (Listing.price_paise, True),
    "recently_shared": (Listing.last_shared_at, True),
}


@dataclass(frozen=True)
class SearchQuery:
    q: str = ""
    brand: str | None = None
    category: str | None = None
    size: str | None = None
    condition: str | None = None
    seller_id: int | None = None
    min_price_paise: int | None = None
    max_price_paise: int | None = None
    sort: str = "newest"
    cursor: str | None = None
    limit: int = 24


def live_listings() -> ColumnElement[bool]:
    """The one filter for anything a buyer sees: search, feeds, closets, recommendations."""
    return Listing.status == ListingStatus.LIVE


def search(s: Session, query: SearchQuery) -> tuple[list[Listing], str | None]:
    if query.sort not in SORTS:
        raise ValidationFailed("Unknown sort.", fields={"sort": "one of: " + ", ".join(SORTS)})
    column, descending = SORTS[query.sort]
    statement = select(Listing).options(selectinload(Listing.photos)).where(
        live_listings(), *_filters(query))
    if query.cursor:
        statement = statement.where(_after(column, descending, _decode(query.cursor, column)))
    order = (column.desc(), Listing.id.desc()) if descending else (column.asc(), Listing.id.asc())
    rows = list(s.scalars(statement.order_by(*order).limit(query.limit + 1)))
    next_cursor = _encode(rows[query.limit - 1], column) if len(rows) > query.limit else None
    return rows[:query.limit], next_cursor


def _filters(query: SearchQuery) -> list[ColumnElement[bool]]:
    conditions = []
    terms = [t for t in query.q.lower().split() if t][:MAX_TERMS]
    for term in terms:
        escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        conditions.append(Listing.search_text.like(f"%{escaped}%", escape="\\"))
    if query.brand:
        conditions.append(Listing.brand_key == query.brand.strip().lower())
    if query.category:
        conditions.append(Listing.category == query.category)
    if query.size:
        conditions.append(Listing.size == query.size)
    if query.condition:
        conditions.append(Listing.condition == query.condition)
    if query.seller_id is not None:
        conditions.append(Listing.seller_id == query.seller_id)
    if query.min_price_paise is not None:
        conditions.append(Listing.price_paise >= query.min_price_paise)
    if query.max_price_paise is not None:
        conditions.append(Listing.price_paise <= query.max_price_paise)
    return conditions


def _after(column, descending: bool, key: tuple[Any, int]) -> ColumnElement[bool]:
    value, last_id = key
    if descending:
        return or_(column < value, and_(column == value, Listing.id < last_id))
    return or_(column > value, and_(column == value, Listing.id > last_id))


def _encode(listing: Listing, column) -> str:
    value = getattr(listing, column.key)
    if isinstance(value, datetime):
        value = value.isoformat()
    raw = json.dumps([value, listing.id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(cursor: str, column) -> tuple[Any, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        value, last_id = json.loads(raw)
        if not isinstance(last_id, int):
            raise ValueError
        if column.key in ("published_at", "last_shared_at"):
            value = datetime.fromisoformat(value)
        elif not isinstance(value, int):
            raise ValueError
    except (ValueError, TypeError, json.JSONDecodeError):
        raise ValidationFailed("That page cursor is not valid; start from the first page.",
                               fields={"cursor": "invalid"}) from None
    return value, last_id
