"""The recommender's state at a point in time, the two baselines and our candidates.

`build_state` reads nothing from the database: it takes the catalogue, the interactions
before `at` and the follows, and fits what every method needs (profiles, recent
popularity, implicit ALS).  Then:

- `recommend_popularity`: the most interacted-with live listings of the last 14 days.
- `recommend_als`: implicit's ALS (the baseline), over live listings only.
- `candidates_for` + `score_candidates`: OURS.  Candidates come from the member's interests
  (ALS neighbours, their brands, categories, sizes, followed closets and sellers they
  bought from, plus what is popular), each half the most popular and half the newest of
  its pool so that fresh listings with no interactions get in; the learned ranker
  (`ranker.py`) scores them on the features of `features.py`.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
from scipy.sparse import csr_matrix
from threadpoolctl import threadpool_limits

from .catalogue import Catalogue
from .features import CandidateAttributes, feature_matrix
from .interactions import Interaction
from .profiles import (
    TOP_BRANDS,
    TOP_CATEGORIES,
    TOP_SELLERS,
    TOP_SIZES,
    MemberProfile,
    build_profiles,
)
from .ranker import Ranker

POPULARITY_DAYS = 14
POOL_SIZE = 24            # per pool: half the most popular, half the newest
ALS_CANDIDATES = 80
POPULAR_CANDIDATES = 40


@dataclass(frozen=True)
class AlsParams:
    factors: int = 48
    regularization: float = 0.1
    alpha: float = 2.0
    iterations: int = 12
    seed: int = 7


@dataclass
class State:
    cat: Catalogue
    at_ts: float
    live: np.ndarray                         # bool per catalogue position
    profiles: dict[int, MemberProfile]
    popularity: np.ndarray                   # per position
    user_index: dict[int, int]
    user_items: csr_matrix
    user_factors: np.ndarray
    item_factors: np.ndarray
    pools: dict[str, dict[object, np.ndarray]] = field(default_factory=dict)
    popular: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    names: dict[str, list[str]] = field(default_factory=dict)
    _als_model: object | None = None

    def als_scores(self, member_id: int, positions: np.ndarray) -> np.ndarray:
        u = self.user_index.get(member_id)
        if u is None or not len(positions):
            return np.zeros(len(positions))
        return self.item_factors[positions] @ self.user_factors[u]


def build_state(cat: Catalogue, interactions: list[Interaction], follows: dict[int, set[int]],
                at: datetime | None, *, at_ts: float | None = None,
                als: AlsParams = AlsParams()) -> State:
    """Everything fitted on the interactions strictly before `at` (None: all, now)."""
    now_ts = at.timestamp() if at is not None else (at_ts or _latest(interactions))
    past = [i for i in interactions if at is None or i.at < at]
    live = cat.live_mask(at)
    profiles = build_profiles(cat, past, follows)
    popularity = _recent_popularity(cat, past, now_ts)
    user_index, user_items = _user_items(cat, past)
    model = _fit_als(user_items, als)
    state = State(cat=cat, at_ts=now_ts, live=live, profiles=profiles, popularity=popularity,
                  user_index=user_index, user_items=user_items,
                  user_factors=np.asarray(model.user_factors) if model else np.zeros((0, 1)),
                  item_factors=(np.asarray(model.item_factors) if model
                                else np.zeros((len(cat), 1))),
                  names={"brand": _names(cat.brands.index),
                         "category": _names(cat.categories.index),
                         "size": _names(cat.sizes.index)},
                  _als_model=model)
    _build_pools(state)
    return state


def _latest(interactions: list[Interaction]) -> float:
    return max((i.at.timestamp() for i in interactions), default=0.0)


def _names(index: dict[str, int]) -> list[str]:
    names = [""] * len(index)
    for name, code in index.items():
        names[code] = name
    return names


def _recent_popularity(cat: Catalogue, past: list[Interaction], now_ts: float) -> np.ndarray:
    popularity = np.zeros(len(cat))
    since = now_ts - POPULARITY_DAYS * 86400
    for i in past:
        if i.at.timestamp() >= since:
            position = cat.position.get(i.listing_id)
            if position is not None:
                popularity[position] += i.weight
    return popularity


def _user_items(cat: Catalogue, past: list[Interaction]) -> tuple[dict[int, int], csr_matrix]:
    weights: dict[tuple[int, int], float] = defaultdict(float)
    user_index: dict[int, int] = {}
    for i in past:
        position = cat.position.get(i.listing_id)
        if position is None:
            continue
        u = user_index.setdefault(i.member_id, len(user_index))
        weights[(u, position)] += i.weight
    if not weights:
        return user_index, csr_matrix((0, len(cat)), dtype=np.float32)
    rows, cols = zip(*weights.keys(), strict=True)
    return user_index, csr_matrix((np.fromiter(weights.values(), np.float32), (rows, cols)),
                                  shape=(len(user_index), len(cat)))


def _fit_als(user_items: csr_matrix, params: AlsParams):
    # implicit runs its own loops and asks for one BLAS thread inside them (it warns and
    # slows down otherwise); numpy is loaded by now, so the limit is set at run time.
    if user_items.shape[0] < 2 or user_items.nnz == 0:
        return None
    from implicit.cpu.als import AlternatingLeastSquares  # the batch's import, off the request path

    with threadpool_limits(1, "blas"):
        model = AlternatingLeastSquares(factors=params.factors,
                                        regularization=params.regularization,
                                        alpha=params.alpha, iterations=params.iterations,
                                        random_state=params.seed, num_threads=1)
        model.fit(user_items, show_progress=False)
    return model


def _build_pools(state: State) -> None:
    cat, live = state.cat, np.flatnonzero(state.live)
    state.popular = live[np.lexsort((-cat.published[live], -state.popularity[live]))][:200]
    for name, codes in (("brand", cat.brand), ("category", cat.category), ("size", cat.size),
                        ("seller", cat.seller)):
        state.pools[name] = _pools_by(codes, live, state.popularity, cat.published)


def _pools_by(codes: np.ndarray, live: np.ndarray, popularity: np.ndarray,
              published: np.ndarray) -> dict[object, np.ndarray]:
    half = POOL_SIZE // 2
    by_popular = live[np.lexsort((-published[live], -popularity[live], codes[live]))]
    by_new = live[np.lexsort((-published[live], codes[live]))]
    pools: dict[object, np.ndarray] = {}
    for ordered in (by_popular, by_new):
        group_codes = codes[ordered]
        starts = np.flatnonzero(np.r_[True, group_codes[1:] != group_codes[:-1]])
        ends = np.r_[starts[1:], len(ordered)]
        for start, end in zip(starts, ends, strict=True):
            key = int(group_codes[start])
            head = ordered[start:min(end, start + half)]
            pools[key] = head if key not in pools else np.unique(np.r_[pools[key], head])
    return pools


# --- the baselines ----------------------------------------------------------------------

def recommend_popularity(state: State, member_id: int, n: int) -> list[int]:
    seen = state.profiles.get(member_id, MemberProfile()).seen
    return [int(state.cat.ids[p]) for p in state.popular
            if int(state.cat.ids[p]) not in seen][:n]


def recommend_als(state: State, member_id: int, n: int) -> list[int]:
    u = state.user_index.get(member_id)
    if u is None or state._als_model is None:
        return recommend_popularity(state, member_id, n)
    live = np.flatnonzero(state.live)
    scores = state.item_factors[live] @ state.user_factors[u]
    seen = state.profiles[member_id].seen
    order = np.argsort(-scores)
    found = []
    for p in live[order[:n + len(seen) + 1]]:
        listing_id = int(state.cat.ids[p])
        if listing_id not in seen:
            found.append(listing_id)
        if len(found) == n:
            break
    return found


# --- ours ------------------------------------------------------------------------------

def candidates_for(state: State, member_id: int) -> tuple[np.ndarray, list[str]]:
    """Positions of the member's candidates and where each came from (first source wins)."""
    profile = state.profiles.get(member_id, MemberProfile())
    sources: dict[int, str] = {}

    def add(positions, source: str) -> None:
        for p in positions:
            sources.setdefault(int(p), source)

    add(_als_top(state, member_id), "als")
    cat_ids = state.cat
    for seller in sorted(profile.follows)[:TOP_SELLERS * 2]:
        add(state.pools["seller"].get(seller, ()), "followed")
    for brand in profile.top(profile.brands, TOP_BRANDS):
        add(state.pools["brand"].get(cat_ids.brands.index.get(brand, -1), ()), "brand")
    for size in profile.top(profile.sizes, TOP_SIZES):
        add(state.pools["size"].get(cat_ids.sizes.index.get(size, -1), ()), "size")
    for category in profile.top(profile.categories, TOP_CATEGORIES):
        add(state.pools["category"].get(cat_ids.categories.index.get(category, -1), ()),
            "category")
    for seller in profile.top(profile.sellers, TOP_SELLERS // 2):
        add(state.pools["seller"].get(seller, ()), "seller")
    add(state.popular[:POPULAR_CANDIDATES], "popular")
    seen_positions = {state.cat.position[x] for x in profile.seen if x in state.cat.position}
    kept = [(p, source) for p, source in sources.items() if p not in seen_positions]
    positions = np.fromiter((p for p, _ in kept), dtype=np.int64, count=len(kept))
    return positions, [source for _, source in kept]


def _als_top(state: State, member_id: int) -> np.ndarray:
    u = state.user_index.get(member_id)
    if u is None or state._als_model is None:
        return np.zeros(0, dtype=np.int64)
    live = np.flatnonzero(state.live)
    scores = state.item_factors[live] @ state.user_factors[u]
    k = min(ALS_CANDIDATES, len(live))
    top = np.argpartition(-scores, k - 1)[:k] if k else np.zeros(0, dtype=np.int64)
    return live[top[np.argsort(-scores[top])]]


def attributes(state: State, member_id: int, positions: np.ndarray) -> CandidateAttributes:
    cat = state.cat
    has = cat.has_embedding[positions]
    return CandidateAttributes(
        listing_ids=cat.ids[positions], sellers=cat.seller[positions],
        brands=[state.names["brand"][c] for c in cat.brand[positions]],
        categories=[state.names["category"][c] for c in cat.category[positions]],
        sizes=[state.names["size"][c] for c in cat.size[positions]],
        log_prices=cat.log_price[positions], published=cat.published[positions],
        popularity=state.popularity[positions], als=state.als_scores(member_id, positions),
        embeddings=cat.embedding[positions] if has.any() else None)


def member_features(state: State, member_id: int) -> tuple[np.ndarray, np.ndarray, list[str]]:
    positions, sources = candidates_for(state, member_id)
    profile = state.profiles.get(member_id, MemberProfile())
    x = feature_matrix(profile, attributes(state, member_id, positions), state.at_ts)
    return positions, x, sources


def score_candidates(state: State, ranker: Ranker, member_id: int, n: int,
                     ) -> list[tuple[int, int, float, str]]:
    """Our top `n` for the member: (listing id, seller id, score, source), best first."""
    positions, x, sources = member_features(state, member_id)
    if not len(positions):
        return []
    scores = ranker.score(x)
    order = np.argsort(-scores, kind="stable")[:n]
    cat = state.cat
    return [(int(cat.ids[positions[i]]), int(cat.seller[positions[i]]), float(scores[i]),
             sources[i]) for i in order]
