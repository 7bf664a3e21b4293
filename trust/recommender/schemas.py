"""JSON shapes of the feed for members and for staff."""
from __future__ import annotations

from typing import Any

from marketplace_core.listings.schemas import listing_summary

from .feed import Feed
from .rerank import RankedItem, RankedPage

LIMIT_QUERY = [{"name": "limit", "schema": {"type": "integer", "minimum": 1, "maximum": 60},
                "description": "items on the page (default 12)"}]

SOURCE_WORDS = {"als": "members with your taste liked it", "brand": "a brand you like",
                "category": "a category you shop", "size": "in your size",
                "followed": "from a closet you follow", "seller": "from a seller you bought from",
                "popular": "popular right now", "fresh": "new, and matches your interests"}


def member_item(feed: Feed, item: RankedItem) -> dict[str, Any]:
    listing = feed.listings[item.listing_id]
    return {**listing_summary(listing), "reason": SOURCE_WORDS.get(item.source, item.source)}


def member_feed_json(feed: Feed) -> dict[str, Any]:
    return {"items": [member_item(feed, item) for item in feed.page.items
                      if item.listing_id in feed.listings]}


def staff_item(feed: Feed, item: RankedItem, position: int) -> dict[str, Any]:
    listing = feed.listings.get(item.listing_id)
    seller = feed.sellers.get(item.seller_id)
    return {"position": position, "listing_id": item.listing_id,
            "title": listing.title if listing else None,
            "price_paise": listing.price_paise if listing else None,
            "seller_id": item.seller_id, "seller_tier": seller.tier.value if seller else "new",
            "source": item.source, "reason": SOURCE_WORDS.get(item.source, item.source),
            "base_score": round(item.base_score, 6), "score": round(item.score, 6),
            "flagged": item.flagged,
            "adjustments": [{"rule": a.rule, "factor": round(a.factor, 4), "detail": a.detail}
                            for a in item.adjustments]}


def staff_page_json(feed: Feed, page: RankedPage) -> list[dict[str, Any]]:
    return [staff_item(feed, item, n) for n, item in enumerate(page.items, start=1)]


def staff_feed_json(feed: Feed) -> dict[str, Any]:
    return {"member_id": feed.member_id, "origin": feed.origin,
            "candidates": feed.candidates, "weights_version": feed.weights_version,
            "with_trust": staff_page_json(feed, feed.page),
            "without_trust": staff_page_json(feed, feed.without_trust)
            if feed.without_trust else [],
            "removed": [{"listing_id": r.listing_id, "reason": r.reason}
                        for r in feed.page.removed],
            "capped": list(feed.page.capped)}
