"""The pure scoring, calibrated on the public thresholds in shared/domain.md: eBay's 0.5%
(top rated) and 2% (below standard) defect rates, Posh Ambassador's 4.5 stars, Etsy's
neutral prior for new sellers; and what each item signal does to an item's risk."""
from __future__ import annotations

import pytest

from trust.signals.scoring import DuplicateEvidence, score_item, score_seller
from trust.types import SellerCounts, SellerTier
from trust.weights import TrustWeights

W = TrustWeights()


def seller(**counts) -> object:
    return score_seller(7, SellerCounts(**counts), W)


def history(orders: int, *, lost: int = 0, stars: float | None = 5.0, **extra):
    ratings = orders // 2 if stars is not None else 0
    return seller(orders=orders, completed_orders=orders - lost, cases_lost=lost,
                  ratings=ratings, rating_sum=round(ratings * (stars or 0)),
                  account_age_days=400, **extra)


def test_a_new_seller_sits_at_the_neutral_prior_with_no_confidence():
    trust = seller(account_age_days=1)
    assert (trust.score, trust.tier, trust.confidence) == (W.neutral_score, SellerTier.NEW, 0)
    assert trust.is_new and all(value == 0 for value in trust.parts.values())
    assert "neutral prior" in trust.reasons[1]


def test_top_rated_at_half_a_percent_of_defects_and_4_5_stars():
    trust = history(200, lost=1, stars=4.8)
    assert trust.tier is SellerTier.TOP and trust.score > W.neutral_score
    assert trust.confidence > 0.9


def test_at_the_two_percent_standard_still_trusted_above_it_watched():
    assert history(200, lost=4).tier is SellerTier.TRUSTED      # 2.0%
    watched = history(200, lost=6)                             # 3.0%
    assert watched.tier is SellerTier.WATCH
    assert watched.score < history(200, lost=4).score < history(200, lost=1).score


def test_ratings_under_4_5_stars_keep_a_clean_seller_out_of_top():
    assert history(200, stars=4.4).tier is SellerTier.TRUSTED
    assert history(200, stars=4.4).parts["ratings"] < 0 == history(200, stars=5).parts["ratings"]


def test_a_confirmed_counterfeit_or_a_strike_makes_any_seller_risky():
    for extra in ({"counterfeit_verdicts": 1}, {"strikes": 1}):
        trust = history(200, stars=5, **extra)
        assert trust.tier is SellerTier.RISKY and trust.score < history(200).score


def test_confirmed_flags_lower_the_score_and_cost_the_top_tier():
    flagged = history(200, duplicate_flags=2, counterfeit_flags=1)
    assert flagged.tier is SellerTier.TRUSTED
    assert flagged.parts["duplicate_flags"] == pytest.approx(-2 * W.penalty_duplicate_flag)
    assert flagged.parts["counterfeit_flags"] == pytest.approx(-W.penalty_counterfeit_flag)


def test_a_new_seller_with_a_bad_start_is_watched_not_new():
    trust = seller(orders=5, cancellations=5)          # every order cancelled unshipped
    assert trust.tier is SellerTier.WATCH and trust.score < 0.5


def test_authenticated_sales_lift_up_to_the_cap():
    lifted = history(200, authentic_verdicts=100)
    assert lifted.parts["authenticated_sales"] == W.bonus_authentic_cap


def item(**overrides):
    values = dict(status="live", authenticated=False, counterfeit_verdict=False,
                  counterfeit_score=None, duplicates=(), weights=W)
    return score_item(3, 7, **{**values, **overrides})


def test_a_clean_live_item_is_shown_unflagged():
    risk = item()
    assert (risk.excluded, risk.flagged, risk.flag_confidence) == (False, False, 0.0)


@pytest.mark.parametrize("overrides, reason", [
    ({"counterfeit_verdict": True}, "confirmed_counterfeit"),
    ({"status": "removed"}, "removed"),
    ({"status": "sold"}, "sold"),
    ({"status": "pending_authentication"}, "awaiting_authentication"),
])
def test_never_shown(overrides, reason):
    risk = item(**overrides)
    assert (risk.excluded, risk.exclusion_reason) == (True, reason)


def test_counterfeit_risk_flags_at_the_review_level_with_its_probability():
    assert item(counterfeit_score=W.counterfeit_flag_score - 0.01).flagged is False
    risk = item(counterfeit_score=0.8)
    assert (risk.flagged, risk.flag_confidence) == (True, 0.8)


def _flag_factor(risk) -> float:
    return max(0.0, 1.0 - W.demotion_strength * risk.flag_confidence)


def test_duplicates_flag_by_their_status():
    assert item(duplicates=(DuplicateEvidence("dismissed", 0.99),)).flagged is False
    open_flag = item(duplicates=(DuplicateEvidence("open", 0.99),), duplicate_precision=0.6)
    assert (open_flag.flagged, open_flag.duplicate_flags) == (True, 1)
    assert item(duplicates=(DuplicateEvidence("confirmed", 0.7),)).flag_confidence == 1.0


@pytest.mark.parametrize("precision", [0.0, 0.3, 0.6, 0.95, 1.0])
def test_an_open_duplicate_demotes_by_its_precision_times_a_confirmed_one(precision):
    confirmed = item(duplicates=(DuplicateEvidence("confirmed", 0.99),))
    open_flag = item(duplicates=(DuplicateEvidence("open", 0.99),),
                     duplicate_precision=precision)
    confirmed_demotion = 1.0 - _flag_factor(confirmed)
    assert 1.0 - _flag_factor(open_flag) == pytest.approx(precision * confirmed_demotion,
                                                          abs=1e-3)
    assert f"precision {precision:.3f}" in open_flag.reasons[0]


def test_a_seller_pays_the_expected_penalty_for_open_flags_and_the_full_one_when_confirmed():
    clean = history(200)
    open_flags = score_seller(7, SellerCounts(orders=200, completed_orders=200, ratings=100,
                                              rating_sum=500, account_age_days=400,
                                              open_duplicate_flags=2), W,
                              duplicate_precision=0.6)
    confirmed = history(200, duplicate_flags=2)
    assert clean.score - open_flags.score == pytest.approx(0.6 * 2 * W.penalty_duplicate_flag,
                                                           abs=1e-4)
    assert clean.score - confirmed.score == pytest.approx(2 * W.penalty_duplicate_flag,
                                                          abs=1e-4)
    assert open_flags.tier is SellerTier.TOP      # an open flag is not evidence yet
    assert confirmed.tier is SellerTier.TRUSTED


def test_authenticated_items_say_so():
    risk = item(authenticated=True)
    assert risk.authenticated and "authenticated by Posh Authenticate" in risk.reasons
