"""Pure scoring: a seller's counted history -> SellerTrust; a listing's signals -> ItemRisk.

No database here, so the recommender's benchmark and the tests can score generated
histories exactly as the product scores real ones.  A seller's score starts at the
neutral prior and each part moves it; `parts` holds every move, so the console can say
why a seller sits where it does.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from trust.types import ItemRisk, SellerCounts, SellerTier, SellerTrust
from trust.weights import TrustWeights
from vision.calibration import SHIPPED

NOT_LIVE_REASONS = {"removed": "removed", "sold": "sold", "draft": "not_published",
                    "pending_authentication": "awaiting_authentication"}


def score_seller(seller_id: int, counts: SellerCounts, weights: TrustWeights, *,
                 duplicate_precision: float = SHIPPED.precision) -> SellerTrust:
    """`duplicate_precision`: how often an open duplicate flag turns out right
    (vision.calibration); an open flag costs that share of a confirmed one's penalty."""
    defect_rate = _defect_rate(counts, weights)
    parts = {
        "order_history": _history_part(counts, defect_rate, weights),
        "ratings": -_rating_penalty(counts, weights),
        "counterfeit_verdicts": -weights.penalty_counterfeit_verdict * counts.counterfeit_verdicts,
        "strikes": -weights.penalty_strike * counts.strikes,
        "counterfeit_flags": -weights.penalty_counterfeit_flag * counts.counterfeit_flags,
        "duplicate_flags": -weights.penalty_duplicate_flag * counts.duplicate_flags,
        "open_duplicate_flags": -(_clamp(duplicate_precision) * weights.penalty_duplicate_flag
                                  * counts.open_duplicate_flags),
        "authenticated_sales": min(weights.bonus_authentic_cap,
                                   weights.bonus_authentic_verdict * counts.authentic_verdicts),
    }
    parts = {name: round(value, 4) + 0.0 for name, value in parts.items()}  # no "-0.0"
    score = _clamp(weights.neutral_score + sum(parts.values()))
    tier = _tier(counts, score, defect_rate, weights)
    return SellerTrust(seller_id=seller_id, score=round(score, 4), tier=tier,
                       confidence=round(_confidence(counts, weights), 4), parts=parts,
                       reasons=_seller_reasons(counts, parts, tier, defect_rate))


def _defect_rate(counts: SellerCounts, weights: TrustWeights) -> float:
    if counts.orders <= 0:
        return 0.0
    defects = (weights.weight_cases_lost * counts.cases_lost
               + weights.weight_cancellations * counts.cancellations
               + weights.weight_late_shipments * counts.late_shipments)
    return defects / counts.orders


def _quality(defect_rate: float, weights: TrustWeights) -> float:
    """1.0 with no defects, 0.9 at the top-rated limit, 0.6 at the standard, 0 at 5x it."""
    points = ((0.0, 1.0), (weights.defect_rate_top, 0.9), (weights.defect_rate_standard, 0.6),
              (5 * weights.defect_rate_standard, 0.0))
    for (x0, y0), (x1, y1) in zip(points, points[1:], strict=False):
        if defect_rate <= x1:
            return y0 if x1 == x0 else y0 + (y1 - y0) * (defect_rate - x0) / (x1 - x0)
    return 0.0


def _history_part(counts: SellerCounts, defect_rate: float, weights: TrustWeights) -> float:
    """Orders pull the score from the neutral prior towards their quality, as far as their
    number outweighs `prior_orders` pseudo-orders: no history, no move (Etsy's prior)."""
    n = counts.orders
    if n <= 0:
        return 0.0
    blended = (n * _quality(defect_rate, weights) + weights.prior_orders * weights.neutral_score) \
        / (n + weights.prior_orders)
    return blended - weights.neutral_score


def _rating_penalty(counts: SellerCounts, weights: TrustWeights) -> float:
    if counts.ratings <= 0:
        return 0.0
    average = counts.rating_sum / counts.ratings
    shortfall = max(0.0, min(1.0, (5.0 - average) / 4.0))
    return weights.weight_rating * shortfall * counts.ratings / (counts.ratings + 5)


def _confidence(counts: SellerCounts, weights: TrustWeights) -> float:
    return counts.orders / (counts.orders + weights.prior_orders) if counts.orders > 0 else 0.0


def _tier(counts: SellerCounts, score: float, defect_rate: float,
          weights: TrustWeights) -> SellerTier:
    if counts.counterfeit_verdicts or counts.strikes or score < 0.3:
        return SellerTier.RISKY
    if counts.completed_orders < weights.new_max_orders and counts.orders < weights.top_min_orders:
        # Too little history to judge: the neutral prior, unless what little there is
        # already pulled the score below the line (a new seller is not punished for
        # having no history, but is for a bad one).
        return SellerTier.WATCH if score < 0.5 else SellerTier.NEW
    if defect_rate > weights.defect_rate_standard or score < 0.5:
        return SellerTier.WATCH
    rating_ok = counts.ratings == 0 or counts.rating_sum / counts.ratings >= weights.top_min_rating
    # An open duplicate flag is not yet evidence: it costs its expected share of the score
    # (above) and nothing more, so it does not cost the top tier either.
    clean = not (counts.counterfeit_flags or counts.duplicate_flags)
    if (counts.completed_orders >= weights.top_min_orders
            and defect_rate <= weights.defect_rate_top and rating_ok and clean):
        return SellerTier.TOP
    return SellerTier.TRUSTED


def _seller_reasons(counts: SellerCounts, parts: dict[str, float], tier: SellerTier,
                    defect_rate: float) -> tuple[str, ...]:
    lines = [f"tier {tier.value}"]
    if tier is SellerTier.NEW:
        lines.append("little history yet: held at the neutral prior")
    if counts.orders:
        lines.append(f"defect rate {defect_rate:.1%} over {counts.orders} orders")
    for name, value in sorted(parts.items(), key=lambda item: item[1]):
        if value <= -0.005:
            lines.append(f"{name.replace('_', ' ')} {value:+.2f}")
    if parts.get("authenticated_sales", 0) > 0:
        lines.append(f"authenticated sales {parts['authenticated_sales']:+.2f}")
    return tuple(lines)


@dataclass(frozen=True)
class DuplicateEvidence:
    status: str          # open | confirmed | dismissed (vision.models.FlagStatus)
    score: float         # the verified match score


def score_item(listing_id: int, seller_id: int, *, status: str, authenticated: bool,
               counterfeit_verdict: bool, counterfeit_score: float | None,
               duplicates: Sequence[DuplicateEvidence], weights: TrustWeights,
               duplicate_precision: float = SHIPPED.precision) -> ItemRisk:
    live_duplicates = [d for d in duplicates if d.status != "dismissed"]
    exclusion = _exclusion(status, counterfeit_verdict)
    confidence, reasons = _flag_confidence(counterfeit_score, live_duplicates, weights,
                                           _clamp(duplicate_precision))
    if exclusion:
        reasons = [f"never shown: {exclusion.replace('_', ' ')}", *reasons]
    if authenticated:
        reasons.append("authenticated by Posh Authenticate")
    return ItemRisk(listing_id=listing_id, seller_id=seller_id, excluded=exclusion is not None,
                    exclusion_reason=exclusion, flagged=confidence > 0,
                    flag_confidence=round(confidence, 4), authenticated=authenticated,
                    counterfeit_score=counterfeit_score, duplicate_flags=len(live_duplicates),
                    reasons=tuple(reasons))


def _exclusion(status: str, counterfeit_verdict: bool) -> str | None:
    if counterfeit_verdict:
        return "confirmed_counterfeit"
    if status != "live":
        return NOT_LIVE_REASONS.get(status, "not_live")
    return None


def _flag_confidence(counterfeit_score: float | None, duplicates: Sequence[DuplicateEvidence],
                     weights: TrustWeights, duplicate_precision: float
                     ) -> tuple[float, list[str]]:
    """How sure the evidence is: a confirmed duplicate is certain, an open one worth its
    expected demotion (below), a counterfeit risk at review level its calibrated
    probability."""
    confidence, reasons = 0.0, []
    if counterfeit_score is not None and counterfeit_score >= weights.counterfeit_flag_score:
        confidence = counterfeit_score
        reasons.append(f"counterfeit risk {counterfeit_score:.2f}")
    for duplicate in duplicates:
        if duplicate.status == "confirmed":
            confidence = 1.0
            reasons.append(f"confirmed duplicate photo ({duplicate.score:.3f})")
        else:
            confidence = max(confidence, _open_duplicate_confidence(duplicate_precision, weights))
            reasons.append(f"open duplicate photo ({duplicate.score:.3f}), weighed at the "
                           f"engine's precision {duplicate_precision:.3f}")
    return _clamp(confidence), reasons


def _open_duplicate_confidence(precision: float, weights: TrustWeights) -> float:
    """The confidence whose demotion (1 - demotion_strength x confidence, floored at 0) is
    `precision` times a confirmed flag's: its expected demotion.  The score of the match
    says nothing here: every flag has already passed the threshold the precision was
    measured at."""
    strength = weights.demotion_strength
    if strength <= 0:
        return precision
    return precision * min(1.0, strength) / strength


def _clamp(value: float) -> float:
    return max(0.0, min(1.0, value))
