"""Reading stored trust: what the feed and the console ask for.

`load_trust` is on the feed's hot path: two indexed lookups for a page's candidates.
A listing or seller with no stored row yet is scored from what is known without history
(the listing's own status; a new seller's neutral prior), never left out.
"""
from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace_core.listings.models import Listing
from trust.types import ItemRisk, SellerCounts, SellerTier, SellerTrust
from trust.weights import TrustWeights

from .models import ItemRiskRecord, SellerTrustRecord, TrustWeightsVersion
from .scoring import score_item, score_seller


def current_weights(s: Session) -> tuple[int, TrustWeights]:
    """The weights in force and their version (0: the defaults, never changed)."""
    latest = s.scalars(select(TrustWeightsVersion)
                       .order_by(TrustWeightsVersion.version.desc()).limit(1)).first()
    if latest is None:
        return 0, TrustWeights()
    return latest.version, TrustWeights.from_mapping(latest.weights)


def load_trust(s: Session, listing_ids: Iterable[int], weights: TrustWeights | None = None,
               ) -> tuple[dict[int, ItemRisk], dict[int, SellerTrust]]:
    ids = sorted(set(listing_ids))
    if not ids:
        return {}, {}
    weights = weights or current_weights(s)[1]
    listings = s.execute(select(Listing.id, Listing.seller_id, Listing.status,
                                Listing.authenticated_at).where(Listing.id.in_(ids))).all()
    stored = {row.listing_id: row for row in s.scalars(
        select(ItemRiskRecord).where(ItemRiskRecord.listing_id.in_(ids)))}
    items = {row.id: _item_risk(row, stored.get(row.id), weights) for row in listings}
    return items, load_sellers(s, {row.seller_id for row in listings}, weights)


def load_sellers(s: Session, seller_ids: Iterable[int], weights: TrustWeights | None = None,
                 ) -> dict[int, SellerTrust]:
    ids = sorted(set(seller_ids))
    if not ids:
        return {}
    weights = weights or current_weights(s)[1]
    stored = {row.seller_id: row for row in s.scalars(
        select(SellerTrustRecord).where(SellerTrustRecord.seller_id.in_(ids)))}
    return {seller_id: (_seller_trust(stored[seller_id]) if seller_id in stored
                        else score_seller(seller_id, SellerCounts(), weights))
            for seller_id in ids}


def _item_risk(listing, record: ItemRiskRecord | None, weights: TrustWeights) -> ItemRisk:
    """The stored risk, except that the listing's status right now always wins: a listing
    removed or sold a moment ago is out of the feed before any job has run."""
    if record is None:
        return score_item(listing.id, listing.seller_id, status=listing.status,
                          authenticated=listing.authenticated_at is not None,
                          counterfeit_verdict=False, counterfeit_score=None, duplicates=(),
                          weights=weights)
    exclusion = record.exclusion_reason if record.excluded else None
    if listing.status != "live" and exclusion is None:
        exclusion = score_item(listing.id, listing.seller_id, status=listing.status,
                               authenticated=False, counterfeit_verdict=False,
                               counterfeit_score=None, duplicates=(),
                               weights=weights).exclusion_reason
    return ItemRisk(listing_id=listing.id, seller_id=listing.seller_id,
                    excluded=exclusion is not None, exclusion_reason=exclusion,
                    flagged=record.flagged, flag_confidence=record.flag_confidence,
                    authenticated=listing.authenticated_at is not None,
                    counterfeit_score=record.counterfeit_score,
                    duplicate_flags=record.duplicate_flags, reasons=tuple(record.reasons))


def _seller_trust(record: SellerTrustRecord) -> SellerTrust:
    return SellerTrust(seller_id=record.seller_id, score=record.score,
                       tier=SellerTier(record.tier), confidence=record.confidence,
                       parts=dict(record.parts), reasons=tuple(record.reasons))
