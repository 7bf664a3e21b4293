"""What the counterfeit model looks at for one listing, read from the platform's own data.

- the photos: their EfficientNet-Lite0 embeddings (vision/embedding.py), averaged;
- how much closer the photos are to the known-counterfeit bank of the brand than to
  authenticated reference photos of the same brand and category;
- the price against the brand and category's median (authentication.workspace);
- the seller's history: strikes, earlier counterfeit verdicts, dispute losses, account age.

Nothing here reads the demo generator's ground truth. A listing's own verdicts never feed
its own features (its strikes and its banked photos are left out), so training on
verdicts does not leak the label into the inputs.
"""
from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from authentication.models import (
    AuthenticationRequest,
    KnownCounterfeitPhoto,
    ReviewDecision,
    Strike,
    Verdict,
)
from authentication.workspace import price_comparison, reference_listings
from disputes.models import REFUNDING_OUTCOMES, DisputeCase
from marketplace_core.listings.models import Listing, ListingPhoto
from marketplace_core.listings.photos import open_stored
from marketplace_core.media._opencv import cv2
from marketplace_core.members.models import Member
from vision.embedding import EMBEDDING_DIM, embed_batch

# The tabular features, in the order the model's weights use.
TABULAR = ("looks_like_known_fakes", "price_vs_norm", "seller_strikes",
           "seller_counterfeit_verdicts", "seller_account_age", "seller_dispute_losses")
BANK_LIMIT = 400            # newest known-counterfeit photos compared against
_CACHE_LIMIT = 4000         # embeddings kept per process (5 KiB each)


@dataclass(frozen=True)
class Label:
    listing_id: int
    counterfeit: bool
    decided_at: datetime


@dataclass(frozen=True)
class Evidence:
    listing_id: int
    embedding: np.ndarray           # mean photo embedding, L2-normalised (zeros: no photos)
    tabular: np.ndarray             # float32, one value per TABULAR name
    facts: dict[str, float]         # the same, in readable units, for the reasons


class PhotoEmbeddings:
    """Embeddings of stored photos by media key, computed once per process."""

    def __init__(self) -> None:
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()

    def of(self, keys: list[str]) -> np.ndarray:
        missing = [key for key in dict.fromkeys(keys) if key not in self._vectors]
        if missing:
            for key, vector in zip(missing, embed_batch([_load(k) for k in missing]),
                                   strict=True):
                self._vectors[key] = vector
        for key in keys:
            self._vectors.move_to_end(key)
        while len(self._vectors) > _CACHE_LIMIT:
            self._vectors.popitem(last=False)
        if not keys:
            return np.zeros((0, EMBEDDING_DIM), np.float32)
        return np.stack([self._vectors[key] for key in keys])


EMBEDDINGS = PhotoEmbeddings()


def _load(key: str) -> np.ndarray:
    # Stored photos were normalised by the media intake, so decoding them is safe.
    pixels = cv2.imdecode(np.fromfile(open_stored(key), np.uint8), cv2.IMREAD_COLOR)
    if pixels is None:
        raise ValueError(f"stored photo {key} does not decode")
    return pixels


# --- labels ---------------------------------------------------------------------------

def platform_labels(s: Session) -> list[Label]:
    """Each listing's latest authentic/counterfeit verdict by the authentication team,
    whatever the stage (first review, four eyes, lead) and whatever opened the review
    (publishing, a risk pull-in, or a buyer's "not authentic" dispute), oldest first."""
    rows = s.execute(
        select(AuthenticationRequest.listing_id, ReviewDecision.verdict,
               ReviewDecision.created_at)
        .join(AuthenticationRequest, AuthenticationRequest.id == ReviewDecision.request_id)
        .where(ReviewDecision.verdict.in_((Verdict.AUTHENTIC, Verdict.COUNTERFEIT)))
        .order_by(ReviewDecision.created_at, ReviewDecision.id))
    latest: dict[int, Label] = {}
    for listing_id, verdict, decided_at in rows:
        latest[listing_id] = Label(listing_id, verdict == Verdict.COUNTERFEIT, decided_at)
    return sorted(latest.values(), key=lambda label: (label.decided_at, label.listing_id))


# --- evidence -------------------------------------------------------------------------

def gather(s: Session, listing_ids: list[int],
           embeddings: PhotoEmbeddings | None = None) -> dict[int, Evidence]:
    """Each listing's evidence (the process's EMBEDDINGS cache unless `embeddings`)."""
    embeddings = EMBEDDINGS if embeddings is None else embeddings
    bank = _known_counterfeit_bank(s)
    found = list(s.scalars(select(Listing).where(Listing.id.in_(listing_ids))
                           .order_by(Listing.id)))
    keys = photo_keys_of(s, [listing.id for listing in found])
    # One batch through the network for every photo these listings need (cheaper per photo).
    embeddings.of([key for listing in found for key in keys.get(listing.id, ())])
    return {listing.id: evidence_for(s, listing, keys.get(listing.id, []), bank, embeddings)
            for listing in found}


def evidence_for(s: Session, listing: Listing, keys: list[str],
                 bank: list[tuple[int, str, str]], embeddings: PhotoEmbeddings) -> Evidence:
    own = embeddings.of(keys)
    mean = own.mean(axis=0) if len(own) else np.zeros(EMBEDDING_DIM, np.float32)
    mean = mean / max(float(np.linalg.norm(mean)), 1e-6)
    facts = {"looks_like_known_fakes": _closer_to_fakes(s, listing, own, bank, embeddings),
             **_price_facts(s, listing), **seller_facts(s, listing)}
    tabular = np.array([
        facts["looks_like_known_fakes"],
        math.log(facts["price_ratio"]) if facts["price_ratio"] else 0.0,
        facts["strikes"], facts["counterfeit_verdicts"],
        math.log1p(facts["account_age_days"]), facts["dispute_losses"]], np.float32)
    return Evidence(listing.id, mean.astype(np.float32), tabular, facts)


def photo_keys(s: Session, listing_id: int) -> list[str]:
    return photo_keys_of(s, [listing_id]).get(listing_id, [])


def photo_keys_of(s: Session, listing_ids: list[int]) -> dict[int, list[str]]:
    """Each listing's photo keys in order (a listing without photos has no entry), in one
    query."""
    keys: dict[int, list[str]] = {}
    for listing_id, key in s.execute(
            select(ListingPhoto.listing_id, ListingPhoto.media_key)
            .where(ListingPhoto.listing_id.in_(listing_ids))
            .order_by(ListingPhoto.listing_id, ListingPhoto.position)):
        keys.setdefault(listing_id, []).append(key)
    return keys


def _known_counterfeit_bank(s: Session) -> list[tuple[int, str, str]]:
    """(listing id, brand key, media key) of the newest banked counterfeit photos."""
    return list(s.execute(
        select(KnownCounterfeitPhoto.listing_id, Listing.brand_key,
               KnownCounterfeitPhoto.media_key)
        .join(Listing, Listing.id == KnownCounterfeitPhoto.listing_id)
        .order_by(KnownCounterfeitPhoto.id.desc()).limit(BANK_LIMIT)))


def _closer_to_fakes(s: Session, listing: Listing, own: np.ndarray,
                     bank: list[tuple[int, str, str]], embeddings: PhotoEmbeddings) -> float:
    """Best cosine to a banked fake of the brand minus best cosine to an authenticated
    item of the brand and category; 0 when either side has nothing to compare."""
    fakes = [key for listing_id, brand, key in bank
             if brand == listing.brand_key and listing_id != listing.id]
    references = [photo.media_key for ref in reference_listings(s, listing)
                  for photo in ref.photos]
    if not len(own) or not fakes or not references:
        return 0.0
    to_fakes = float((own @ embeddings.of(fakes).T).max())
    to_references = float((own @ embeddings.of(references).T).max())
    return to_fakes - to_references


def _price_facts(s: Session, listing: Listing) -> dict[str, float]:
    comparison = price_comparison(s, listing)
    return {"price_ratio": float(comparison.ratio or 0.0)}


def seller_facts(s: Session, listing: Listing) -> dict[str, float]:
    """The seller's record, leaving out anything about this listing itself."""
    seller = s.get(Member, listing.seller_id)
    own_requests = select(AuthenticationRequest.id).where(
        AuthenticationRequest.listing_id == listing.id)
    strikes = s.scalar(select(func.count()).select_from(Strike).where(
        Strike.seller_id == seller.id, Strike.request_id.not_in(own_requests)))
    verdicts = s.scalar(
        select(func.count(func.distinct(AuthenticationRequest.listing_id)))
        .join(ReviewDecision, ReviewDecision.request_id == AuthenticationRequest.id)
        .where(AuthenticationRequest.seller_id == seller.id,
               AuthenticationRequest.listing_id != listing.id,
               ReviewDecision.verdict == Verdict.COUNTERFEIT))
    losses = s.scalar(select(func.count()).select_from(DisputeCase).where(
        DisputeCase.seller_id == seller.id, DisputeCase.listing_id != listing.id,
        DisputeCase.outcome.in_(REFUNDING_OUTCOMES)))
    age = max(0.0, (listing.created_at - seller.created_at).total_seconds() / 86_400)
    return {"strikes": float(strikes or 0), "counterfeit_verdicts": float(verdicts or 0),
            "dispute_losses": float(losses or 0), "account_age_days": age}
