"""The listings as arrays: what every model and feature indexes by position.

One query reads what the recommender needs of every listing (brand, category, size,
price, seller, dates, status); strings become small integer codes so that pools and
affinities are dictionary lookups, not string compares.  Photo embeddings (vision's
EfficientNet-Lite0, 1280 floats) are projected to `EMBEDDING_DIM` dimensions with a fixed
random matrix: cosine similarity survives the projection closely (Johnson-Lindenstrauss)
and a member's taste vector becomes small enough to store beside their candidates.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace_core.listings.models import Listing, ListingStatus
from vision.models import PhotoSignature

EMBEDDING_DIM = 32
_SOURCE_DIM = 1280
_PROJECTION_SEED = 20261127


def projection() -> np.ndarray:
    rng = np.random.default_rng(_PROJECTION_SEED)
    return (rng.standard_normal((_SOURCE_DIM, EMBEDDING_DIM)) / np.sqrt(EMBEDDING_DIM)
            ).astype(np.float32)


def project_embeddings(raw: list[bytes]) -> np.ndarray:
    """Mean of the photos' embeddings, projected and normalised; zeros when none."""
    vectors = [np.frombuffer(b, dtype=np.float32) for b in raw if b]
    vectors = [v for v in vectors if v.shape[0] == _SOURCE_DIM]
    if not vectors:
        return np.zeros(EMBEDDING_DIM, dtype=np.float32)
    projected = np.mean(vectors, axis=0) @ projection()
    norm = float(np.linalg.norm(projected))
    return projected / norm if norm > 0 else projected


class Codes:
    """A string <-> small integer code table."""

    def __init__(self) -> None:
        self.index: dict[str, int] = {}

    def code(self, value: str) -> int:
        return self.index.setdefault(value, len(self.index))


@dataclass
class Catalogue:
    ids: np.ndarray                  # listing ids, ascending
    seller: np.ndarray
    brand: np.ndarray                # codes
    category: np.ndarray
    size: np.ndarray                 # code of (category, size)
    log_price: np.ndarray
    published: np.ndarray            # epoch seconds (0 when never published)
    ended: np.ndarray                # sold or removed at, epoch seconds (inf when not)
    live_now: np.ndarray             # bool: status is live
    embedding: np.ndarray            # (n, EMBEDDING_DIM), zeros where no photo is signed
    has_embedding: np.ndarray
    brands: Codes = field(default_factory=Codes)
    categories: Codes = field(default_factory=Codes)
    sizes: Codes = field(default_factory=Codes)
    position: dict[int, int] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.ids)

    def live_mask(self, at: datetime | None) -> np.ndarray:
        """Listings a buyer could see at `at` (now: the status itself)."""
        if at is None:
            return self.live_now.copy()
        t = at.timestamp()
        return (self.published > 0) & (self.published <= t) & (self.ended > t)


def size_key(category: str, size: str) -> str:
    return f"{category}|{size}"


_COLUMNS = (Listing.id, Listing.seller_id, Listing.brand_key, Listing.category, Listing.size,
            Listing.price_paise, Listing.published_at, Listing.sold_at, Listing.removed_at,
            Listing.status)


def load_catalogue(s: Session, *, with_embeddings: bool = True) -> Catalogue:
    """Every listing, for the batch."""
    cat = _catalogue_of(s.execute(select(*_COLUMNS).order_by(Listing.id)).all())
    if with_embeddings:
        _attach_embeddings(s, cat)
    return cat


def load_listings(s: Session, listing_ids: set[int]) -> Catalogue:
    """A few listings with their embeddings, as the batch would see them (the listings
    a member the batch has not seen has touched)."""
    if not listing_ids:
        return _catalogue_of([])
    cat = _catalogue_of(s.execute(select(*_COLUMNS).where(Listing.id.in_(listing_ids))
                                  .order_by(Listing.id)).all())
    _set_embeddings(cat, listing_embeddings(s, sorted(listing_ids)))
    return cat


def _catalogue_of(rows: list) -> Catalogue:
    brands, categories, sizes = Codes(), Codes(), Codes()
    n = len(rows)
    ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=n)
    return Catalogue(
        ids=ids,
        seller=np.fromiter((r[1] for r in rows), dtype=np.int64, count=n),
        brand=np.fromiter((brands.code(r[2]) for r in rows), dtype=np.int32, count=n),
        category=np.fromiter((categories.code(r[3]) for r in rows), dtype=np.int32, count=n),
        size=np.fromiter((sizes.code(size_key(r[3], r[4])) for r in rows), dtype=np.int32,
                         count=n),
        log_price=np.fromiter((np.log(max(1, r[5])) for r in rows), dtype=np.float64, count=n),
        published=np.fromiter((r[6].timestamp() if r[6] else 0.0 for r in rows),
                              dtype=np.float64, count=n),
        ended=np.fromiter((_ended(r[7], r[8]) for r in rows), dtype=np.float64, count=n),
        live_now=np.fromiter((r[9] == ListingStatus.LIVE for r in rows), dtype=bool, count=n),
        embedding=np.zeros((n, EMBEDDING_DIM), dtype=np.float32),
        has_embedding=np.zeros(n, dtype=bool),
        brands=brands, categories=categories, sizes=sizes,
        position={int(listing_id): i for i, listing_id in enumerate(ids)})


def _ended(sold_at: datetime | None, removed_at: datetime | None) -> float:
    times = [t.timestamp() for t in (sold_at, removed_at) if t is not None]
    return min(times) if times else float("inf")


def listing_embeddings(s: Session, listing_ids: list[int]) -> dict[int, np.ndarray]:
    """Projected embeddings of the listings that have signed photos."""
    if not listing_ids:
        return {}
    raw: dict[int, list[bytes]] = {}
    for listing_id, blob in s.execute(
            select(PhotoSignature.listing_id, PhotoSignature.embedding)
            .where(PhotoSignature.listing_id.in_(listing_ids),
                   PhotoSignature.embedding.is_not(None))):
        raw.setdefault(listing_id, []).append(blob)
    return {listing_id: project_embeddings(blobs) for listing_id, blobs in raw.items()}


def _attach_embeddings(s: Session, cat: Catalogue) -> None:
    signed = s.scalar(select(func.count()).select_from(PhotoSignature)
                      .where(PhotoSignature.embedding.is_not(None))) or 0
    if not signed:
        return
    ids = [int(i) for i in s.scalars(select(PhotoSignature.listing_id).distinct()
                                     .where(PhotoSignature.embedding.is_not(None)))]
    for chunk_start in range(0, len(ids), 500):
        _set_embeddings(cat, listing_embeddings(s, ids[chunk_start:chunk_start + 500]))


def _set_embeddings(cat: Catalogue, vectors: dict[int, np.ndarray]) -> None:
    for listing_id, vector in vectors.items():
        i = cat.position.get(listing_id)
        if i is not None:
            cat.embedding[i] = vector
            cat.has_embedding[i] = True
