"""Events the offers package emits (marketplace_core.events carries them), with payloads.

Notifications and analytics can react without this package knowing about them.
"""
from __future__ import annotations

OFFER_MADE = "offer.made"                    # offer_id (a buyer's offer or bundle offer)
OFFER_COUNTERED = "offer.countered"          # offer_id, by ("buyer" or "seller")
OFFER_ACCEPTED = "offer.accepted"            # offer_id, order_id
OFFER_CLOSED = "offer.closed"                # offer_id, state (declined, expired, ...)
OFFERS_SENT_TO_LIKERS = "offer.sent_to_likers"  # listing_id, offer_ids
BUNDLE_PURCHASED = "bundle.purchased"        # bundle_id, order_id
