"""The ranker's features of a (member, listing) pair, the same in the batch and online.

Everything is relative to the member's profile: how much of their attention went to the
listing's brand, category and size, how well its price fits their band, whether they
follow or have bought from the seller, how close its photos are to the photos they liked,
plus the collaborative signal (ALS) and what the listing is on its own (popularity,
freshness).  A fresh listing has no ALS factor and no popularity; the content features
carry it.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .profiles import MemberProfile

FEATURES = ("als", "brand", "category", "size", "price_fit", "followed", "seller",
            "popularity", "recency", "taste", "brand_x_category", "category_x_size",
            "no_history")
RECENCY_DAYS = 14.0


@dataclass
class CandidateAttributes:
    """Column-wise attributes of a member's candidates."""
    listing_ids: np.ndarray
    sellers: np.ndarray
    brands: Sequence[str]
    categories: Sequence[str]
    sizes: Sequence[str]            # "category|size"
    log_prices: np.ndarray
    published: np.ndarray           # epoch seconds
    popularity: np.ndarray          # recent weighted interactions
    als: np.ndarray                 # ALS score (0 where the listing has no factors)
    embeddings: np.ndarray | None   # (n, d) projected, zeros where none


def feature_matrix(profile: MemberProfile, c: CandidateAttributes, now_ts: float,
                   ) -> np.ndarray:
    n = len(c.listing_ids)
    brand = np.fromiter((profile.brands.get(b, 0.0) for b in c.brands), float, count=n)
    category = np.fromiter((profile.categories.get(x, 0.0) for x in c.categories), float,
                           count=n)
    size = np.fromiter((profile.sizes.get(x, 0.0) for x in c.sizes), float, count=n)
    seller = np.fromiter((profile.sellers.get(int(x), 0.0) for x in c.sellers), float,
                         count=n)
    followed = np.fromiter((float(int(x) in profile.follows) for x in c.sellers), float,
                           count=n)
    if profile.weight > 0:
        spread = profile.price_sd ** 2 + 0.25
        price_fit = np.exp(-((c.log_prices - profile.price_mean) ** 2) / (2 * spread))
    else:
        price_fit = np.zeros(n)
    age_days = np.maximum(0.0, (now_ts - c.published) / 86400.0)
    recency = np.exp(-age_days / RECENCY_DAYS)
    if profile.taste is not None and c.embeddings is not None:
        taste = np.clip(c.embeddings @ profile.taste, -1.0, 1.0)
    else:
        taste = np.zeros(n)
    no_history = np.full(n, float(profile.weight == 0))
    return np.column_stack([
        c.als, brand, category, size, price_fit, followed, seller,
        np.log1p(c.popularity), recency, taste, brand * category, category * size,
        no_history]).astype(np.float64)
