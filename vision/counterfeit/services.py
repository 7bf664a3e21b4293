"""Scoring listings and acting on the score.

`score_listing` is what the scoring job runs: it computes the calibrated score with the
current model, keeps it (one row per listing), hands it to an open authentication review
(the queue orders by it; a high risk raises the priority), and pulls a live listing at or
under the authentication threshold into review when its risk reaches
VISION_COUNTERFEIT_REVIEW_THRESHOLD (it leaves public view the way an over-threshold
listing does: marketplace_core.listings.services.hold_for_review).

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

from sqlalchemy.orm import Session

from authentication import intake
from foundation import clock, events
from foundation.audit.services import record
from foundation.config import current as settings
from marketplace_core.listings import services as listings
from marketplace_core.listings.models import Listing, ListingStatus
from vision.counterfeit.features import photo_keys
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

    def score(self, s: Session, listing_id: int) -> Score:
        if self.promoted:   # through the registry, so a shadow is scored beside it
            return scoring.score_subjects(s, COUNTERFEIT.name, [listing_id])[listing_id]
        return self.scorer.score(s, [listing_id])[listing_id]


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
    model = current_model(s)
    listing = s.get(Listing, listing_id)
    if model is None:
        return Outcome(listing_id, "no_model")
    if listing is None or listing.status in (ListingStatus.REMOVED, ListingStatus.SOLD) \
            or not photo_keys(s, listing_id):
        return Outcome(listing_id, "not_scorable")
    row, fresh = _stored_score(s, model, listing)
    held = _act_on(s, listing, row, model.threshold)
    return Outcome(listing_id, "scored" if fresh else "unchanged", row.score, held)


def score_of(s: Session, listing_id: int) -> CounterfeitScore | None:
    return s.get(CounterfeitScore, listing_id)


def _stored_score(s: Session, model: CurrentModel, listing: Listing
                  ) -> tuple[CounterfeitScore, bool]:
    scorer = model.scorer
    digest = input_digest(s, scorer, listing)
    row = s.get(CounterfeitScore, listing.id)
    if row is not None and row.input_digest == digest:
        return row, False
    result = model.score(s, listing.id)
    if row is None:
        row = CounterfeitScore(listing_id=listing.id)
        s.add(row)
    row.score, row.reasons = result.value, list(result.reasons)
    row.model_digest, row.input_digest, row.scored_at = scorer.digest, digest, clock.now()
    s.flush()
    events.emit(s, events.CounterfeitScored(listing_id=listing.id, score=row.score))
    return row, True


def input_digest(s: Session, scorer: CounterfeitScorer, listing: Listing) -> str:
    """What a score depends on that can change under the listing: the model, the photos,
    the price and the brand (other listings' verdicts move slowly; a rescore picks them up)."""
    parts = [scorer.digest, str(listing.price_paise), listing.brand_key, listing.category,
             *photo_keys(s, listing.id)]
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
