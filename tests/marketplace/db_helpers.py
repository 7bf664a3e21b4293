"""Helpers that work beneath the public API: listings made through the listings services
(a stored media key is all a listing needs; photo bytes are the media tests' business),
rows read straight from the database in a fresh session."""
from __future__ import annotations

import secrets

from sqlalchemy import func, select

from foundation import db
from marketplace_core.listings import services as listing_services
from marketplace_core.members.models import Member


def listing_through_services(seller_id: int, fields: dict, *, publish: bool = True,
                             media_key: str | None = None, width: int = 800,
                             height: int = 1000) -> int:
    """A listing of the seller with one photo, published unless told otherwise."""
    with db.unit_of_work() as s:
        seller = s.get(Member, seller_id)
        listing = listing_services.create_draft(s, seller, fields)
        listing_services.add_photo(s, seller, listing,
                                   media_key=media_key or secrets.token_hex(32),
                                   width=width, height=height)
        if publish:
            listing_services.publish(s, seller, listing)
        return listing.id


def count(model, *conditions) -> int:
    db.session.remove()
    with db.unit_of_work() as s:
        return s.scalar(select(func.count()).select_from(model).where(*conditions)) or 0


def row(model, key):
    db.session.remove()
    with db.unit_of_work() as s:
        found = s.get(model, key)
        if found is not None:
            s.expunge(found)
        return found
