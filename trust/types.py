"""The values that pass between trust signals and the recommender.

`trust.signals` computes them (and stores them with their history); the recommender's
re-ranking reads them and nothing else, so that it can be exercised, benchmarked and
explained without a database.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass, field


class SellerTier(enum.StrEnum):
    TOP = "top"            # long clean history, high ratings: lifted
    TRUSTED = "trusted"    # enough history, nothing wrong
    NEW = "new"            # too little history to judge: the neutral prior, never punished
    WATCH = "watch"        # defects above the platform's standard: demoted
    RISKY = "risky"        # confirmed counterfeits or strikes: strongly demoted


@dataclass(frozen=True)
class SellerCounts:
    """What a seller's history holds, counted; the input of the seller score."""
    orders: int = 0                    # orders placed on the seller's listings
    completed_orders: int = 0
    cancellations: int = 0             # cancelled by the seller or for not shipping
    late_shipments: int = 0
    cases_lost: int = 0                # not-as-described cases refunded (fully or split)
    counterfeit_verdicts: int = 0      # authentication verdicts of "counterfeit"
    authentic_verdicts: int = 0
    strikes: int = 0                   # active authentication strikes
    counterfeit_flags: int = 0         # live listings with a counterfeit risk at review level
    duplicate_flags: int = 0           # confirmed duplicate-photo flags
    open_duplicate_flags: int = 0      # duplicate-photo flags no analyst has decided yet
    ratings: int = 0
    rating_sum: int = 0                # stars, 1..5 each
    account_age_days: int = 0


@dataclass(frozen=True)
class SellerTrust:
    seller_id: int
    score: float                       # 0..1; a new seller sits at the neutral prior
    tier: SellerTier
    confidence: float                  # 0..1: how much history the score rests on
    parts: dict[str, float] = field(default_factory=dict)   # part name -> its contribution
    reasons: tuple[str, ...] = ()      # human lines, most important first

    @property
    def is_new(self) -> bool:
        return self.tier is SellerTier.NEW


@dataclass(frozen=True)
class ItemRisk:
    listing_id: int
    seller_id: int
    # Never shown: confirmed counterfeit, failed authentication, removed or not live.
    excluded: bool = False
    exclusion_reason: str | None = None
    # Suspected or confirmed: a duplicate flag, a counterfeit risk at review level.
    # `flag_confidence` (0..1) is how sure the evidence is; demotion scales with it (an open
    # duplicate flag's is set so that it demotes by its calibrated precision times what a
    # confirmed one does).
    flagged: bool = False
    flag_confidence: float = 0.0
    authenticated: bool = False        # passed Posh Authenticate
    counterfeit_score: float | None = None
    duplicate_flags: int = 0
    reasons: tuple[str, ...] = ()
