"""The trust re-ranking rules, one by one, on plain values (no database)."""
from __future__ import annotations

import pytest

from trust.recommender.rerank import Candidate, rank_without_trust, rerank
from trust.signals.scoring import score_seller
from trust.types import ItemRisk, SellerCounts, SellerTier, SellerTrust
from trust.weights import TrustWeights

W = TrustWeights()


def _candidates(n: int, seller: int = 100) -> list[Candidate]:
    return [Candidate(listing_id=i, seller_id=seller, score=1.0 - i / 100, source="brand")
            for i in range(1, n + 1)]


def _plain(candidates, **overrides) -> dict[int, ItemRisk]:
    items = {c.listing_id: ItemRisk(c.listing_id, c.seller_id) for c in candidates}
    items.update(overrides)
    return items


def _new_seller(seller_id: int = 100) -> dict[int, SellerTrust]:
    return {seller_id: score_seller(seller_id, SellerCounts(), W)}


def test_excluded_and_unknown_items_never_reach_the_page():
    candidates = _candidates(5)
    items = _plain(candidates)
    items[1] = ItemRisk(1, 100, excluded=True, exclusion_reason="confirmed_counterfeit")
    items[2] = ItemRisk(2, 100, excluded=True, exclusion_reason="removed")
    del items[3]   # trust knows nothing of it: gone since the precompute
    page = rerank(candidates, items, _new_seller(), W, page_size=12)
    assert [i.listing_id for i in page.items] == [4, 5]
    assert {(r.listing_id, r.reason) for r in page.removed} == {
        (1, "confirmed_counterfeit"), (2, "removed"), (3, "unknown")}


def test_flagged_items_are_demoted_by_their_confidence():
    candidates = [Candidate(1, 100, 0.5, "als"), Candidate(2, 100, 0.5, "als"),
                  Candidate(3, 100, 0.2, "als")]
    items = _plain(candidates)
    items[1] = ItemRisk(1, 100, flagged=True, flag_confidence=0.9,
                        reasons=("counterfeit risk 0.90",))
    items[2] = ItemRisk(2, 100, flagged=True, flag_confidence=0.5)
    # the cap is the next test's business
    weights = TrustWeights(max_flagged_share=1.0, demotion_strength=0.9)
    page = rerank(candidates, items, _new_seller(), weights, page_size=3)
    by_id = {i.listing_id: i for i in page.items}
    assert by_id[1].score == pytest.approx(0.5 * (1 - 0.9 * 0.9))
    assert by_id[2].score == pytest.approx(0.5 * (1 - 0.9 * 0.5))
    assert [i.listing_id for i in page.items] == [2, 3, 1]
    assert by_id[1].adjustments[0].rule == "flagged"
    assert "counterfeit risk 0.90" in by_id[1].adjustments[0].detail


def test_by_default_a_near_certain_flag_zeroes_the_score():
    candidates = [Candidate(1, 100, 0.9, "als"), Candidate(2, 100, 0.1, "als")]
    items = _plain(candidates)
    items[1] = ItemRisk(1, 100, flagged=True, flag_confidence=0.95)
    page = rerank(candidates, items, _new_seller(), TrustWeights(max_flagged_share=1.0), 2)
    assert [(i.listing_id, i.score) for i in page.items] == [(2, pytest.approx(0.1)), (1, 0.0)]


def test_a_page_holds_at_most_its_share_of_flagged_items():
    candidates = _candidates(20)
    items = _plain(candidates)
    for i in (1, 2, 3):   # the three best candidates are flagged, barely
        items[i] = ItemRisk(i, 100, flagged=True, flag_confidence=0.01)
    page = rerank(candidates, items, _new_seller(), W, page_size=12)
    assert len(page.items) == 12
    assert [i.listing_id for i in page.items if i.flagged] == [1]
    assert page.capped == (2, 3)
    small = rerank(candidates, items, _new_seller(), W, page_size=6)
    assert not [i for i in small.items if i.flagged]   # 1/12 of 6 rounds down to none


def test_authenticated_items_and_top_sellers_are_lifted():
    candidates = [Candidate(1, 100, 0.50, "brand"), Candidate(2, 200, 0.50, "brand"),
                  Candidate(3, 300, 0.505, "brand")]
    items = _plain(candidates)
    items[1] = ItemRisk(1, 100, authenticated=True)
    top = SellerTrust(200, score=W.neutral_score, tier=SellerTier.TOP, confidence=1.0)
    sellers = {**_new_seller(100), 200: top, **_new_seller(300)}
    page = rerank(candidates, items, sellers, W, page_size=3)
    by_id = {i.listing_id: i for i in page.items}
    assert by_id[1].score == pytest.approx(0.5 * (1 + W.authenticated_lift))
    assert by_id[2].score == pytest.approx(0.5 * (1 + W.top_seller_lift))
    assert by_id[3].score == pytest.approx(0.505)
    assert [i.listing_id for i in page.items] == [1, 2, 3]


def test_a_new_seller_is_exactly_neutral_and_a_risky_one_sinks():
    new = score_seller(100, SellerCounts(), W)
    assert new.tier is SellerTier.NEW
    risky = score_seller(200, SellerCounts(orders=20, completed_orders=18, cases_lost=3,
                                           counterfeit_verdicts=1, strikes=1), W)
    assert risky.tier is SellerTier.RISKY
    candidates = [Candidate(1, 100, 0.4, "fresh"), Candidate(2, 200, 0.6, "als")]
    page = rerank(candidates, _plain(candidates), {100: new, 200: risky}, W, page_size=2)
    by_id = {i.listing_id: i for i in page.items}
    assert by_id[1].score == 0.4 and by_id[1].adjustments == ()
    assert {a.rule for a in by_id[2].adjustments} == {"seller_score", "risky_seller"}
    assert by_id[2].score < 0.6 * (1 - W.risky_seller_demotion)
    assert [i.listing_id for i in page.items] == [1, 2]


def test_without_trust_is_the_models_own_order():
    candidates = [Candidate(1, 1, 0.2, "a"), Candidate(2, 1, 0.9, "b"), Candidate(3, 1, 0.5, "c")]
    page = rank_without_trust(candidates, 2)
    assert [(i.listing_id, i.score, i.adjustments) for i in page.items] == [
        (2, 0.9, ()), (3, 0.5, ())]
