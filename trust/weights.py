"""Trust weights: every number that turns signals into a score and a score into a rank.

Analysts change them from the console as versioned, audited settings
(`trust.signals` stores the versions); `TrustWeights()` holds the defaults.  Defaults are
calibrated on the public thresholds in shared/domain.md: eBay's 0.5% / 2% defect rates,
Amazon's 1% order defect rate, Etsy's 95% on-time shipping and neutral prior for new
sellers, Posh Ambassador's 4.5 stars.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from foundation.errors import ValidationFailed


@dataclass(frozen=True)
class TrustWeights:
    # --- the seller score ------------------------------------------------------------
    neutral_score: float = 0.7           # where a seller with no history sits
    prior_orders: float = 10.0           # pseudo-orders of the neutral prior (shrinkage)
    defect_rate_standard: float = 0.02   # above this defect rate: "watch" (eBay below standard)
    defect_rate_top: float = 0.005       # at most this for "top" (eBay Top Rated)
    top_min_orders: int = 10
    top_min_rating: float = 4.5          # Posh Ambassador
    new_max_orders: int = 3              # fewer completed orders than this: "new"
    weight_cases_lost: float = 1.0       # per order: a lost case is a full defect
    weight_cancellations: float = 0.5
    weight_late_shipments: float = 0.3
    weight_rating: float = 0.15          # how far ratings under 5 stars pull the score
    penalty_counterfeit_verdict: float = 0.25   # per confirmed counterfeit
    penalty_strike: float = 0.15
    penalty_counterfeit_flag: float = 0.05      # per live listing at review-level risk
    # Per confirmed duplicate flag; an open one costs this x the engine's calibrated
    # precision (vision.calibration), its expected cost, and a dismissed one nothing.
    penalty_duplicate_flag: float = 0.03
    bonus_authentic_verdict: float = 0.01       # per authenticated sale, capped below
    bonus_authentic_cap: float = 0.1
    # --- item flags --------------------------------------------------------------------
    counterfeit_flag_score: float = 0.5  # counterfeit risk at or above this flags the item
    # --- re-ranking --------------------------------------------------------------------
    # A flagged item's score x max(0, 1 - strength x confidence): at 1.1 a flag of confidence
    # 0.91 or more (a confirmed duplicate, a near-certain counterfeit risk) zeroes it, so it
    # fills a page only when nothing else can (bench/recommendations.py: 0.9 left 0.17% of
    # impressions on flagged items, 1.1 left 0.067%, at the same NDCG).
    demotion_strength: float = 1.1
    max_flagged_share: float = 0.0834    # flagged items per page at most (1 in 12)
    authenticated_lift: float = 0.15     # authenticated items x (1 + lift)
    # Small: a lift of 0.10 for top sellers pushed new sellers off fixed-size pages (they kept
    # 62% of their exposure in bench/recommendations.py; 102% at 0.02).
    top_seller_lift: float = 0.02
    seller_trust_weight: float = 0.5     # how far the seller score (vs the neutral) moves items
    risky_seller_demotion: float = 0.5

    def as_dict(self) -> dict[str, float]:
        return dataclasses.asdict(self)

    @classmethod
    def from_mapping(cls, values: dict[str, Any]) -> TrustWeights:
        """Defaults overlaid with `values`; unknown names and out-of-range numbers refused."""
        known = {f.name: f for f in dataclasses.fields(cls)}
        errors: dict[str, str] = {}
        parsed: dict[str, Any] = {}
        for name, raw in values.items():
            if name not in known:
                errors[name] = "unknown weight"
                continue
            parsed[name], problem = _parse_weight(known[name].type, raw)
            if problem:
                errors[name] = problem
        if errors:
            raise ValidationFailed("some trust weights are not valid", fields=errors)
        return cls(**parsed)


def _parse_weight(kind: Any, raw: Any) -> tuple[Any, str | None]:
    if isinstance(raw, bool):
        return None, "must be a number"
    try:
        value = int(raw) if kind in (int, "int") else float(raw)
    except (TypeError, ValueError):
        return None, "must be a number"
    if value != value or value in (float("inf"), float("-inf")):
        return None, "must be a finite number"
    if value < 0:
        return None, "must not be negative"
    if value > 1000:
        return None, "must be at most 1000"
    return value, None
