"""A member's interests, from what they did: brands, categories, sizes, sellers, the
price band they shop in, what their photos look like, whom they follow.

Shares are weighted by the kind of interaction (a purchase says more than a share), so
that each affinity is "the part of this member's attention that went to X".  A profile
is stored beside the member's candidates as plain JSON so that the online path can score
fresh listings without the batch's arrays.
"""
from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .catalogue import EMBEDDING_DIM, Catalogue
from .interactions import Interaction

TOP_BRANDS, TOP_CATEGORIES, TOP_SIZES, TOP_SELLERS = 6, 3, 4, 8


@dataclass
class MemberProfile:
    brands: dict[str, float] = field(default_factory=dict)       # brand key -> share
    categories: dict[str, float] = field(default_factory=dict)
    sizes: dict[str, float] = field(default_factory=dict)        # "category|size" -> share
    sellers: dict[int, float] = field(default_factory=dict)
    follows: set[int] = field(default_factory=set)
    price_mean: float = 0.0                                        # of log(price in paise)
    price_sd: float = 1.0
    weight: float = 0.0                                            # total interaction weight
    taste: np.ndarray | None = None                                # projected embedding
    seen: set[int] = field(default_factory=set)                    # listing ids

    @property
    def is_empty(self) -> bool:
        return self.weight == 0 and not self.follows

    def top(self, shares: dict, n: int) -> list:
        return [key for key, _ in sorted(shares.items(), key=lambda kv: (-kv[1], str(kv[0])))
                [:n]]

    def to_json(self) -> dict[str, Any]:
        return {"brands": _rounded(self.brands), "categories": _rounded(self.categories),
                "sizes": _rounded(self.sizes),
                "sellers": {str(k): round(v, 4) for k, v in self.sellers.items()},
                "follows": sorted(self.follows), "price": [round(self.price_mean, 4),
                                                           round(self.price_sd, 4)],
                "weight": round(self.weight, 3),
                "taste": None if self.taste is None else [round(float(x), 4)
                                                          for x in self.taste]}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> MemberProfile:
        taste = data.get("taste")
        return cls(brands=dict(data.get("brands", {})),
                   categories=dict(data.get("categories", {})),
                   sizes=dict(data.get("sizes", {})),
                   sellers={int(k): v for k, v in data.get("sellers", {}).items()},
                   follows=set(data.get("follows", [])),
                   price_mean=data.get("price", [0.0, 1.0])[0],
                   price_sd=data.get("price", [0.0, 1.0])[1], weight=data.get("weight", 0.0),
                   taste=None if taste is None else np.asarray(taste, dtype=np.float32))


def _rounded(shares: dict[str, float]) -> dict[str, float]:
    return {k: round(v, 4) for k, v in shares.items()}


def build_profiles(cat: Catalogue, interactions: Iterable[Interaction],
                   follows: dict[int, set[int]]) -> dict[int, MemberProfile]:
    by_member: dict[int, list[tuple[int, float]]] = defaultdict(list)
    for i in interactions:
        position = cat.position.get(i.listing_id)
        if position is not None:
            by_member[i.member_id].append((position, i.weight))
    names = (_names(cat.brands.index), _names(cat.categories.index), _names(cat.sizes.index))
    profiles = {member: profile_of(cat, events, follows.get(member, set()), names)
                for member, events in by_member.items()}
    for member, followed in follows.items():
        profiles.setdefault(member, MemberProfile(follows=set(followed)))
    return profiles


def profile_of(cat: Catalogue, events: list[tuple[int, float]], follows: set[int],
               names: tuple[list[str], list[str], list[str]] | None = None) -> MemberProfile:
    brand_names, category_names, size_names = names or (
        _names(cat.brands.index), _names(cat.categories.index), _names(cat.sizes.index))
    brands: dict[str, float] = defaultdict(float)
    categories: dict[str, float] = defaultdict(float)
    sizes: dict[str, float] = defaultdict(float)
    sellers: dict[int, float] = defaultdict(float)
    total = 0.0
    prices, price_weights = [], []
    taste = np.zeros(EMBEDDING_DIM, dtype=np.float32)
    seen = set()
    for position, weight in events:
        total += weight
        brands[brand_names[cat.brand[position]]] += weight
        categories[category_names[cat.category[position]]] += weight
        sizes[size_names[cat.size[position]]] += weight
        sellers[int(cat.seller[position])] += weight
        prices.append(cat.log_price[position])
        price_weights.append(weight)
        if cat.has_embedding[position]:
            taste += weight * cat.embedding[position]
        seen.add(int(cat.ids[position]))
    profile = MemberProfile(follows=set(follows), weight=total, seen=seen)
    if total <= 0:
        return profile
    profile.brands = _top_shares(brands, total, TOP_BRANDS * 2)
    profile.categories = _top_shares(categories, total, TOP_CATEGORIES * 2)
    profile.sizes = _top_shares(sizes, total, TOP_SIZES * 2)
    profile.sellers = _top_shares(sellers, total, TOP_SELLERS * 2)
    mean = float(np.average(prices, weights=price_weights))
    variance = float(np.average((np.asarray(prices) - mean) ** 2, weights=price_weights))
    profile.price_mean, profile.price_sd = mean, math.sqrt(variance)
    norm = float(np.linalg.norm(taste))
    profile.taste = taste / norm if norm > 0 else None
    return profile


def _names(index: dict[str, int]) -> list[str]:
    names = [""] * len(index)
    for name, code in index.items():
        names[code] = name
    return names


def _top_shares(weights: dict, total: float, n: int) -> dict:
    ranked = sorted(weights.items(), key=lambda kv: (-kv[1], str(kv[0])))[:n]
    return {key: value / total for key, value in ranked}
