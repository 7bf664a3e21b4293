"""Reactions to the marketplace's events: an item that sold or left the site closes the
open offers that need it (directly or through a bundle), in the same transaction.
"""
from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace_core.offers import machine
from marketplace_core.offers.models import ACTIVE_STATES, BundleItem, Offer
from marketplace_core.orders.models import OrderItem


def close_offers_on_sold_items(s: Session, order_id: int) -> None:
    listing_ids = list(s.scalars(select(OrderItem.listing_id)
                                 .where(OrderItem.order_id == order_id)))
    supersede_for_listings(s, listing_ids, "item_sold")


def close_offers_on_removed_listing(s: Session, listing_id: int, reason: str) -> None:
    supersede_for_listings(s, [listing_id], "listing_removed")


def supersede_for_listings(s: Session, listing_ids: Sequence[int], reason: str) -> int:
    """Close every open offer that needs one of these listings, directly or as part of
    a bundle; the accepted offer behind an order is no longer open, so it stays."""
    if not listing_ids:
        return 0
    bundles_with_them = select(BundleItem.bundle_id).where(
        BundleItem.listing_id.in_(listing_ids), BundleItem.dropped_at.is_(None))
    offers = s.scalars(select(Offer).where(
        Offer.state.in_(ACTIVE_STATES),
        Offer.listing_id.in_(listing_ids) | Offer.bundle_id.in_(bundles_with_them))
        .order_by(Offer.id)).all()
    return machine.supersede(s, offers, reason)
