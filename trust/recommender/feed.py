"""The online path of "Just Picked for You": per request, a few indexed reads.

1. The member's precomputed candidates (one row by primary key) and interest profile;
   a member with none (new, or joined since the batch) gets a cold-start set: the batch's
   popular listings plus their own interests read live.
2. Fresh listings published since the batch that match the member's interests (their
   brands, categories, followed closets), scored by the same ranker on content features.
3. Trust for the best candidates in one query (`trust.signals.services.load_trust`:
   current, so a verdict, a flag or a removal shows at the next request) and the pure
   re-ranking (`rerank.py`).
4. The shown listings with their cover photos (one query, plain columns) and the page's
   impressions: one RPUSH to Redis after the commit, written to the table in batches
   (`impressions.py`).

Seven round trips a request in all (token, member, candidates row with its ranker,
weights, fresh listings, trust, the shown listings); nothing is written.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
from sqlalchemy import bindparam, or_, select
from sqlalchemy.orm import Session

from foundation import clock
from marketplace_core.listings.models import Listing, ListingPhoto, ListingStatus
from trust.signals.services import current_weights, load_trust
from trust.types import ItemRisk, SellerTier, SellerTrust

from .catalogue import listing_embeddings, load_listings, size_key
from .features import FEATURES, CandidateAttributes, feature_matrix
from .impressions import buffer_page
from .interactions import load_follows, load_interactions
from .models import (
    MemberCandidates,
    RecommendationRun,
    RecommenderModel,
    RunKind,
    RunState,
)
from .profiles import MemberProfile, build_profiles
from .ranker import Ranker
from .rerank import Candidate, RankedPage, rank_without_trust, rerank

FRESH_LIMIT = 60
# Trust is loaded for the model's best candidates only: lifts are a few tens of percent,
# so an item below five pages deep would not reach the page anyway, and the trust lookup
# is most of a request's cost.
TRUST_POOL = 60
COLD_START_WINDOW = timedelta(days=14)
MAX_LIMIT = 60


@dataclass(frozen=True)
class CoverPhoto:
    id: int
    position: int
    width: int
    height: int


@dataclass(frozen=True)
class ListingCard:
    """What a page shows of a listing (the attributes `listing_summary` reads): plain
    columns and the cover photo in one query for the shown listings, no ORM entity."""
    id: int
    seller_id: int
    title: str
    brand: str
    category: str
    size: str
    condition: str
    price_paise: int
    original_price_paise: int | None
    published_at: datetime | None
    is_authenticated: bool
    covershot: CoverPhoto | None


@dataclass(frozen=True)
class Feed:
    member_id: int
    origin: str                     # precomputed | cold_start
    page: RankedPage                # with trust
    without_trust: RankedPage | None
    listings: dict[int, ListingCard]  # the listings of both pages
    items: dict[int, ItemRisk]
    sellers: dict[int, SellerTrust]
    weights_version: int
    candidates: int


def just_picked(s: Session, member_id: int, limit: int, *, record: bool = True,
                compare: bool = False, now: datetime | None = None) -> Feed:
    now = now or clock.now()
    origin, candidates = member_candidates(s, member_id, now, max(TRUST_POOL, 5 * limit))
    version, weights = current_weights(s)
    items, sellers = load_trust(s, [c.listing_id for c in candidates], weights)
    page = rerank(candidates, items, sellers, weights, limit)
    without = rank_without_trust(candidates, limit) if compare else None
    shown = {i.listing_id for i in page.items} | (
        {i.listing_id for i in without.items} if without else set())
    listings = _cards(s, shown)
    if record:
        record_impressions(s, member_id, page, items, sellers, now)
    return Feed(member_id, origin, page, without, listings, items, sellers, version,
                len(candidates))


def member_candidates(s: Session, member_id: int, now: datetime, pool: int = TRUST_POOL,
                      ) -> tuple[str, list[Candidate]]:
    row = s.execute(_CANDIDATES_ROW, {"member_id": member_id}).first()
    if row is not None:
        profile = MemberProfile.from_json(row.profile)
        stored = [Candidate(int(lid), int(seller), float(score), str(source))
                  for lid, seller, score, source in row.candidates]
        ranker = Ranker.from_json(row.ranker) if row.ranker is not None else None
        since, origin = row.data_until, "precomputed"
    else:
        profile = live_profile(s, member_id)
        run = _latest_precompute(s)
        ranker = _ranker(s, run.model_id) if run and run.model_id else None
        stored = _popular_candidates(s, profile, run, ranker, now)
        since, origin = now - COLD_START_WINDOW, "cold_start"
    known = {c.listing_id for c in stored} | profile.seen
    fresh = _fresh_candidates(s, profile, ranker, since, known, now)
    return origin, _best(_dedupe([*stored, *fresh]), pool)


# The hot path's fixed statements are built once (composing them per request cost about
# a millisecond of Python); only their parameters change.
_CANDIDATES_ROW = (
    select(MemberCandidates.candidates, MemberCandidates.profile,
           MemberCandidates.data_until, RecommenderModel.ranker)
    .outerjoin(RecommenderModel, RecommenderModel.id == MemberCandidates.model_id)
    .where(MemberCandidates.member_id == bindparam("member_id")))


def _dedupe(candidates: list[Candidate]) -> list[Candidate]:
    best: dict[int, Candidate] = {}
    for c in candidates:
        if c.listing_id not in best or c.score > best[c.listing_id].score:
            best[c.listing_id] = c
    return list(best.values())


def _best(candidates: list[Candidate], n: int) -> list[Candidate]:
    return sorted(candidates, key=lambda c: (-c.score, c.listing_id))[:n]


def _latest_precompute(s: Session) -> RecommendationRun | None:
    return s.scalars(select(RecommendationRun).where(
        RecommendationRun.kind == RunKind.PRECOMPUTE,
        RecommendationRun.state == RunState.SUCCEEDED.value)
        .order_by(RecommendationRun.id.desc()).limit(1)).first()


def _ranker(s: Session, model_id: int) -> Ranker | None:
    model = s.get(RecommenderModel, model_id)
    return Ranker.from_json(model.ranker) if model is not None else None


def live_profile(s: Session, member_id: int) -> MemberProfile:
    """A member the batch has not seen: their interests from their own few interactions,
    built as the batch builds everyone's (the same caps, and the taste vector of the
    photos they touched)."""
    events = load_interactions(s, member_id=member_id)
    follows = load_follows(s, member_id=member_id)
    cat = load_listings(s, {e.listing_id for e in events})
    return build_profiles(cat, events, follows).get(member_id) or MemberProfile()


def _popular_candidates(s: Session, profile: MemberProfile, run: RecommendationRun | None,
                        ranker: Ranker | None, now: datetime) -> list[Candidate]:
    if run is not None and run.popular:
        ids = [int(lid) for lid, _seller, _pop in run.popular if int(lid) not in profile.seen]
        popularity = {int(lid): float(pop) for lid, _seller, pop in run.popular}
    else:  # no batch has ever run: the newest live listings
        ids = list(s.scalars(select(Listing.id).where(Listing.status == ListingStatus.LIVE)
                             .order_by(Listing.published_at.desc()).limit(200)))
        popularity = {}
    rows = _rows(s, ids)
    return _score_rows(s, profile, rows, ranker, now, "popular", popularity)


def _fresh_candidates(s: Session, profile: MemberProfile, ranker: Ranker | None,
                      since: datetime, known: set[int], now: datetime) -> list[Candidate]:
    brands = profile.top(profile.brands, 6)
    categories = profile.top(profile.categories, 3)
    if not (brands or categories or profile.follows):
        return []
    rows = [r for r in s.execute(_FRESH_QUERY, {
        "status": ListingStatus.LIVE, "since": since, "now": now, "brands": list(brands),
        "categories": list(categories), "follows": sorted(profile.follows)})
        if r.id not in known]
    return _score_rows(s, profile, rows, ranker, now, "fresh", {})


_ROW_COLUMNS = (Listing.id, Listing.seller_id, Listing.brand_key, Listing.category,
                Listing.size, Listing.price_paise, Listing.published_at)
# Live listings published since the batch that match the member's brands, categories or
# followed closets (an empty list matches nothing), newest first.
_FRESH_QUERY = (
    select(*_ROW_COLUMNS)
    .where(Listing.status == bindparam("status"), Listing.published_at > bindparam("since"),
           Listing.published_at <= bindparam("now"),
           or_(Listing.brand_key.in_(bindparam("brands", expanding=True)),
               Listing.category.in_(bindparam("categories", expanding=True)),
               Listing.seller_id.in_(bindparam("follows", expanding=True))))
    .order_by(Listing.published_at.desc()).limit(FRESH_LIMIT))


def _rows(s: Session, ids: list[int]) -> list:
    if not ids:
        return []
    return list(s.execute(select(*_ROW_COLUMNS).where(
        Listing.id.in_(ids), Listing.status == ListingStatus.LIVE)))


def _score_rows(s: Session, profile: MemberProfile, rows: list, ranker: Ranker | None,
                now: datetime, source: str, popularity: dict[int, float]) -> list[Candidate]:
    if not rows:
        return []
    ids = np.asarray([r.id for r in rows], dtype=np.int64)
    embeddings = None
    if profile.taste is not None:
        found = listing_embeddings(s, ids.tolist())
        if found:
            embeddings = np.stack([found.get(int(i), np.zeros_like(profile.taste)) for i in ids])
    attrs = CandidateAttributes(
        listing_ids=ids, sellers=np.asarray([r.seller_id for r in rows]),
        brands=[r.brand_key for r in rows], categories=[r.category for r in rows],
        sizes=[size_key(r.category, r.size) for r in rows],
        log_prices=np.log(np.maximum(1, [r.price_paise for r in rows])),
        published=np.asarray([r.published_at.timestamp() if r.published_at else 0.0
                              for r in rows]),
        popularity=np.asarray([popularity.get(r.id, 0.0) for r in rows]),
        als=np.zeros(len(rows)), embeddings=embeddings)
    x = feature_matrix(profile, attrs, now.timestamp())
    scores = ranker.score(x) if ranker is not None else _unlearned_score(x)
    return [Candidate(int(r.id), int(r.seller_id), float(score), source)
            for r, score in zip(rows, scores, strict=True)]


def _unlearned_score(x: np.ndarray) -> np.ndarray:
    """Before any ranker is trained: interests first, then freshness, in (0, 1)."""
    col = {name: i for i, name in enumerate(FEATURES)}
    raw = (x[:, col["brand"]] + x[:, col["category"]] + 0.5 * x[:, col["followed"]]
           + 0.2 * x[:, col["recency"]] + 0.05 * x[:, col["popularity"]])
    return 0.05 + 0.9 * raw / (1.0 + raw)


_CARDS_QUERY = (
    select(Listing.id, Listing.seller_id, Listing.title, Listing.brand, Listing.category,
           Listing.size, Listing.condition, Listing.price_paise, Listing.original_price_paise,
           Listing.published_at, Listing.is_authenticated.label("authenticated"),
           ListingPhoto.id.label("photo_id"), ListingPhoto.position, ListingPhoto.width,
           ListingPhoto.height)
    .outerjoin(ListingPhoto, ListingPhoto.listing_id == Listing.id)
    .where(Listing.id.in_(bindparam("ids", expanding=True)))
    .order_by(Listing.id, ListingPhoto.position))


def _cards(s: Session, ids: set[int]) -> dict[int, ListingCard]:
    """The shown listings with their cover photo, in one query (a row per photo)."""
    if not ids:
        return {}
    cards: dict[int, ListingCard] = {}
    for row in s.execute(_CARDS_QUERY, {"ids": sorted(ids)}):
        if row.id in cards:
            continue   # a later photo: the first is the cover
        cover = (CoverPhoto(row.photo_id, row.position, row.width, row.height)
                 if row.photo_id is not None else None)
        cards[row.id] = ListingCard(
            id=row.id, seller_id=row.seller_id, title=row.title, brand=row.brand,
            category=row.category, size=row.size, condition=row.condition,
            price_paise=row.price_paise, original_price_paise=row.original_price_paise,
            published_at=row.published_at, is_authenticated=bool(row.authenticated),
            covershot=cover)
    return cards


def record_impressions(s: Session, member_id: int, page: RankedPage,
                       items: dict[int, ItemRisk], sellers: dict[int, SellerTrust],
                       now: datetime) -> None:
    """The page as served, for the exposure dashboard: buffered, written in batches."""
    if not page.items:
        return
    buffer_page(s, member_id, now, [
        (item.listing_id, item.seller_id, position, item.flagged,
         sellers[item.seller_id].tier.value if item.seller_id in sellers
         else SellerTier.NEW.value, item.source[:12])
        for position, item in enumerate(page.items, start=1)])
