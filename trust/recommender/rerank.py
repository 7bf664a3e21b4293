"""Re-ranking with trust: a pure function from scored candidates to a page with reasons.

No database and no clock, so the rules can be tested one by one, benchmarked, and shown
to analysts exactly as they ran.  The rules, in order:

1. Hard removal: an excluded item (confirmed counterfeit, failed authentication, removed,
   sold or otherwise not live) never reaches a page; an item trust knows nothing of is
   treated as removed, since it may have disappeared since the precompute.
2. Demotion of flagged items, weighted by how sure the evidence is:
   score x (1 - demotion_strength x flag_confidence).
3. Lifts: authenticated items x (1 + authenticated_lift); top sellers x (1 + top_seller_lift).
4. A seller below the neutral prior demotes their items by seller_trust_weight x
   (score - neutral) x confidence; risky sellers are demoted by risky_seller_demotion on
   top.  Above the prior only the top tier lifts (3.).  A new seller gets no adjustment
   at all: no history is not a penalty (Etsy's neutral prior), and since sellers with a
   good history are not all lifted, no history does not become a relative penalty either.
5. A page holds at most floor(max_flagged_share x page size) flagged items; the rest wait.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from trust.types import ItemRisk, SellerTier, SellerTrust
from trust.weights import TrustWeights


@dataclass(frozen=True)
class Candidate:
    listing_id: int
    seller_id: int
    score: float          # the model's score (higher is better), before trust
    source: str           # where the candidate came from: als, brand, category, ...


@dataclass(frozen=True)
class Adjustment:
    rule: str             # flagged, authenticated, top_seller, seller_score, risky_seller
    factor: float         # the score was multiplied by this
    detail: str


@dataclass(frozen=True)
class RankedItem:
    listing_id: int
    seller_id: int
    source: str
    base_score: float
    score: float
    adjustments: tuple[Adjustment, ...] = ()
    flagged: bool = False


@dataclass(frozen=True)
class Removed:
    listing_id: int
    reason: str


@dataclass(frozen=True)
class RankedPage:
    items: tuple[RankedItem, ...]
    removed: tuple[Removed, ...] = ()
    capped: tuple[int, ...] = ()      # flagged items held back by the page cap


def rank_without_trust(candidates: Sequence[Candidate], page_size: int) -> RankedPage:
    """The model's own order: what the page would be if trust did nothing."""
    ordered = sorted(candidates, key=_model_order)
    return RankedPage(items=tuple(
        RankedItem(c.listing_id, c.seller_id, c.source, c.score, c.score)
        for c in ordered[:page_size]))


def rerank(candidates: Sequence[Candidate], items: Mapping[int, ItemRisk],
           sellers: Mapping[int, SellerTrust], weights: TrustWeights,
           page_size: int) -> RankedPage:
    """Factors are computed as plain floats for every candidate (a seller's once); the
    explanations are written only for the items that make the page, which keeps a few
    hundred candidates well under a millisecond."""
    removed: list[Removed] = []
    seller_factors: dict[int, float] = {}
    scored: list[tuple[float, float, int, Candidate, ItemRisk]] = []
    for candidate in candidates:
        risk = items.get(candidate.listing_id)
        if risk is None or risk.excluded:
            reason = "unknown" if risk is None else (risk.exclusion_reason or "excluded")
            removed.append(Removed(candidate.listing_id, reason))
            continue
        factor = seller_factors.get(candidate.seller_id)
        if factor is None:
            factor = _product(_seller_adjustments(sellers.get(candidate.seller_id), weights))
            seller_factors[candidate.seller_id] = factor
        if risk.flagged and risk.flag_confidence > 0:
            factor *= _flag_factor(risk, weights)
        if risk.authenticated:
            factor *= 1.0 + weights.authenticated_lift
        scored.append((-candidate.score * factor, -candidate.score, candidate.listing_id,
                       candidate, risk))
    scored.sort(key=lambda row: row[:3])
    page, capped = _fill_page(scored, page_size, max_flagged(weights, page_size))
    return RankedPage(items=tuple(_explained(row, sellers, weights) for row in page),
                      removed=tuple(removed), capped=tuple(capped))


def _product(adjustments: Sequence[Adjustment]) -> float:
    factor = 1.0
    for adjustment in adjustments:
        factor *= adjustment.factor
    return factor


def _flag_factor(risk: ItemRisk, weights: TrustWeights) -> float:
    return max(0.0, 1.0 - weights.demotion_strength * risk.flag_confidence)


def _explained(row, sellers: Mapping[int, SellerTrust], weights: TrustWeights) -> RankedItem:
    negative_score, _, _, candidate, risk = row
    return RankedItem(candidate.listing_id, candidate.seller_id, candidate.source,
                      candidate.score, -negative_score,
                      _adjustments(risk, sellers.get(candidate.seller_id), weights),
                      risk.flagged)


def max_flagged(weights: TrustWeights, page_size: int) -> int:
    # A small epsilon so that 1/12 of 12 is 1, not 0.99999.
    return math.floor(weights.max_flagged_share * page_size + 1e-9)


def _fill_page(ranked: list[tuple], page_size: int,
               flagged_allowed: int) -> tuple[list[tuple], list[int]]:
    page: list[tuple] = []
    capped: list[int] = []
    for row in ranked:
        if len(page) == page_size:
            break
        risk = row[4]
        if risk.flagged:
            if flagged_allowed <= 0:
                capped.append(risk.listing_id)
                continue
            flagged_allowed -= 1
        page.append(row)
    return page, capped


def _adjustments(risk: ItemRisk, seller: SellerTrust | None,
                 weights: TrustWeights) -> tuple[Adjustment, ...]:
    found: list[Adjustment] = []
    if risk.flagged and risk.flag_confidence > 0:
        factor = _flag_factor(risk, weights)
        why = "; ".join(risk.reasons) or "flagged"
        found.append(Adjustment("flagged", factor,
                                f"{why} (confidence {risk.flag_confidence:.2f})"))
    if risk.authenticated:
        found.append(Adjustment("authenticated", 1.0 + weights.authenticated_lift,
                                "authenticated by Posh Authenticate"))
    found.extend(_seller_adjustments(seller, weights))
    return tuple(found)


def _seller_adjustments(seller: SellerTrust | None, weights: TrustWeights
                        ) -> list[Adjustment]:
    if seller is None or seller.tier is SellerTier.NEW:
        return []  # the neutral prior: exactly no change
    found: list[Adjustment] = []
    # Below the neutral prior the seller's score demotes; above it only the top tier lifts,
    # so that the sellers with history do not crowd out those without (a lift for every
    # seller above the prior is a penalty for every new seller).
    move = min(0.0, weights.seller_trust_weight * (seller.score - weights.neutral_score)
               * seller.confidence)
    if move <= -1e-6:
        found.append(Adjustment("seller_score", max(0.0, 1.0 + move),
                                f"seller score {seller.score:.2f} ({seller.tier.value}, "
                                f"confidence {seller.confidence:.2f})"))
    if seller.tier is SellerTier.TOP:
        found.append(Adjustment("top_seller", 1.0 + weights.top_seller_lift, "top seller"))
    elif seller.tier is SellerTier.RISKY:
        found.append(Adjustment("risky_seller", max(0.0, 1.0 - weights.risky_seller_demotion),
                                "; ".join(seller.reasons) or "risky seller"))
    return found


def _model_order(candidate: Candidate) -> tuple[float, int]:
    return (-candidate.score, candidate.listing_id)
