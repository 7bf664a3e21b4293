"""Scoring listings and acting on the score.

`score_listings` is what the scoring jobs run: it computes the calibrated scores of a batch
of listings with the current model (their photos through the network together, one read
of the batch's listings, photos and stored scores), keeps each (one row per listing),
hands it to an open authentication review (the queue orders by it; a high risk raises the
priority), and pulls a live listing at or under the authentication threshold into review
when its risk reaches VISION_COUNTERFEIT_REVIEW_THRESHOLD (it leaves public view the way
an over-threshold listing does: marketplace_core.listings.services.hold_for_review).

The model that scores is the registry's champion of kind "counterfeit" (vision/modelops:
analysts train, evaluate, shadow and promote it), scored through `score_subjects` so a
shadow challenger is recorded beside it; the threshold analysts chose for the champion is
the one acted on. Before any promotion, an artifact installed with `install_model` (kept
in the instance folder so every worker sees it; the benchmark uses it) scores, with
VISION_COUNTERFEIT_REVIEW_THRESHOLD.
"""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from authentication import intake
from foundation import clock, events
from foundation.audit.services import record
from foundation.config import current as settings
from marketplace_core.listings import services as listings
from marketplace_core.listings.models import Listing, ListingStatus
from vision.counterfeit.features import photo_keys_of
from vision.counterfeit.kind import COUNTERFEIT, CounterfeitScorer
from vision.counterfeit.models import CounterfeitScore
from vision.modelops import scoring
from vision.modelops import services as registry
from vision.modelops.kinds import Score

RISK_REASON = "risk"
ACTOR = "system:vision"
_loaded: dict[str, tuple[float, CounterfeitScorer]] = {}


@dataclass(frozen=True)
class Outcome:
    listing_id: int
    status: str                       # scored | unchanged | no_model | not_scorable
    score: float | None = None
    held_for_review: bool = False


# --- the current model ------------------------------------------------------------------

def model_path() -> Path:
    return Path(settings().INSTANCE_PATH) / "vision" / "counterfeit-current.npz"


def install_model(artifact: bytes) -> CounterfeitScorer:
    """Make `artifact` the model every scorer uses (checked by loading it first)."""
    scorer = COUNTERFEIT.load(artifact)
    path = model_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".tmp")
    partial.write_bytes(artifact)
    os.replace(partial, path)  # readers see the old file or the new one, never half
    return scorer


@dataclass(frozen=True)
class CurrentModel:
    scorer: CounterfeitScorer
    threshold: float                  # a score at or above it is high risk
    promoted: bool                    # the registry's champion (else the installed file)

    def score(self, s: Session, listing_ids: list[int]) -> dict[int, Score]:
        if not listing_ids:
            return {}
        if self.promoted:   # through the registry, so a shadow is scored beside it
            return scoring.score_subjects(s, COUNTERFEIT.name, listing_ids)
        return self.scorer.score(s, listing_ids)


def current_model(s: Session) -> CurrentModel | None:
    """The promoted champion, else the installed model; None when there is neither."""
    champion = scoring.champion_scorer(s, COUNTERFEIT.name)
    if champion is not None:
        version, scorer = champion
        threshold = registry.threshold_of_version(
            s, version, default=settings().VISION_COUNTERFEIT_REVIEW_THRESHOLD)
        return CurrentModel(scorer, threshold, promoted=True)
    installed = installed_scorer()
    if installed is None:
        return None
    return CurrentModel(installed, settings().VISION_COUNTERFEIT_REVIEW_THRESHOLD,
                        promoted=False)


def installed_scorer() -> CounterfeitScorer | None:
    """The model installed with `install_model`; None before any was."""
    path = model_path()
    if not path.exists():
        return None
    stamp = path.stat().st_mtime
    cached = _loaded.get(str(path))
    if cached is None or cached[0] != stamp:
        cached = (stamp, COUNTERFEIT.load(path.read_bytes()))
        _loaded[str(path)] = cached
    return cached[1]


# --- scoring ----------------------------------------------------------------------------

def score_listing(s: Session, listing_id: int) -> Outcome:
    """Score one listing and act on it; running it twice changes nothing more."""
    return score_listings(s, [listing_id])[0]


def score_listings(s: Session, listing_ids: list[int]) -> list[Outcome]:
    """Score the listings and act on each, in the order given; a listing whose model,
    photos, price, brand and category are those of its stored score keeps it."""
    model = current_model(s)
    if model is None:
        return [Outcome(listing_id, "no_model") for listing_id in listing_ids]
    found = {listing.id: listing for listing in s.scalars(
        select(Listing).where(Listing.id.in_(listing_ids)))}
    keys = photo_keys_of(s, listing_ids)
    scorable = [found[i] for i in dict.fromkeys(listing_ids) if i in found and keys.get(i)
                and found[i].status not in (ListingStatus.REMOVED, ListingStatus.SOLD)]
    stored = {row.listing_id: row for row in s.scalars(select(CounterfeitScore).where(
        CounterfeitScore.listing_id.in_([listing.id for listing in scorable])))}
    digests = {listing.id: input_digest(model.scorer, listing, keys[listing.id])
               for listing in scorable}
    stale = [listing.id for listing in scorable
             if listing.id not in stored or stored[listing.id].input_digest != digests[listing.id]]
    fresh = model.score(s, stale)
    outcomes = {}
    for listing in scorable:
        row = stored.get(listing.id)
        if listing.id in fresh:
            row = _store_score(s, row, listing.id, fresh[listing.id], model.scorer.digest,
                               digests[listing.id])
        held = _act_on(s, listing, row, model.threshold)
        outcomes[listing.id] = Outcome(listing.id, "scored" if listing.id in fresh
                                       else "unchanged", row.score, held)
    return [outcomes.get(listing_id) or Outcome(listing_id, "not_scorable")
            for listing_id in listing_ids]


def score_of(s: Session, listing_id: int) -> CounterfeitScore | None:
    return s.get(CounterfeitScore, listing_id)


def _store_score(s: Session, row: CounterfeitScore | None, listing_id: int, result: Score,
                 model_digest: str, digest: str) -> CounterfeitScore:
    if row is None:
        row = CounterfeitScore(listing_id=listing_id)
        s.add(row)
    row.score, row.reasons = result.value, list(result.reasons)
    row.model_digest, row.input_digest, row.scored_at = model_digest, digest, clock.now()
    s.flush()
    events.emit(s, events.CounterfeitScored(listing_id=listing_id, score=row.score))
    return row


def input_digest(scorer: CounterfeitScorer, listing: Listing, keys: list[str]) -> str:
    """What a score depends on that can change under the listing: the model, the photos,
    the price and the brand (other listings' verdicts move slowly; a rescore picks them up)."""
    parts = [scorer.digest, str(listing.price_paise), listing.brand_key, listing.category,
             *keys]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()


def _act_on(s: Session, listing: Listing, row: CounterfeitScore, threshold: float) -> bool:
    risky = row.score >= threshold
    held = False
    if risky and listing.status == ListingStatus.LIVE \
            and listing.price_paise <= settings().AUTHENTICATION_THRESHOLD_PAISE:
        held = listings.hold_for_review(s, listing, RISK_REASON, ACTOR)
        if held:
            record(s, None, "listing.held_for_risk", "listing", listing.id,
                   before={"status": ListingStatus.LIVE},
                   after={"status": listing.status, "risk_score": row.score,
                          "reasons": list(row.reasons)}, actor_label=ACTOR)
    intake.record_risk(s, listing.id, row.score, list(row.reasons), high_risk=risky)
    return held
