"""Reading stored trust: what the feed and the console ask for.

`load_trust` is on the feed's hot path: one indexed query (listings outer-joined to their
stored risk and their sellers' stored trust) for a page's candidates.
A listing or seller with no stored row yet is scored from what is known without history
(the listing's own status; a new seller's neutral prior), never left out.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from foundation import clock, jobs
from foundation.audit.services import record
from foundation.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from foundation.staff.models import StaffUser
from foundation.staff.permissions import Permission
from marketplace_core.listings.models import Listing
from marketplace_core.members.models import Member
from trust.types import ItemRisk, SellerCounts, SellerTier, SellerTrust
from trust.weights import TrustWeights

from .models import (
    ItemRiskRecord,
    ItemRiskSnapshot,
    SellerTrustRecord,
    SellerTrustSnapshot,
    TrustWeightsVersion,
)
from .scoring import NOT_LIVE_REASONS, score_item, score_seller

# Named, not imported: trust.signals.tasks (through recompute) imports this module.
RESCORE_ALL_TRUST = jobs.named("trust.signals.tasks.rescore_all_trust")


def current_weights(s: Session) -> tuple[int, TrustWeights]:
    """The weights in force and their version (0: the defaults, never changed).

    Read on every feed request, so an analyst's change applies at the next one: one
    indexed row as plain columns (validating its dozen numbers costs about 0.1 ms, less
    than keeping a cache right across databases)."""
    latest = s.execute(_LATEST_WEIGHTS).first()
    if latest is None:
        return 0, TrustWeights()
    return latest.version, TrustWeights.from_mapping(latest.weights)


_LATEST_WEIGHTS = (select(TrustWeightsVersion.version, TrustWeightsVersion.weights)
                   .order_by(TrustWeightsVersion.version.desc()).limit(1))
ITEM_COLUMNS = (ItemRiskRecord.listing_id, ItemRiskRecord.excluded,
                ItemRiskRecord.exclusion_reason, ItemRiskRecord.flagged,
                ItemRiskRecord.flag_confidence, ItemRiskRecord.counterfeit_score,
                ItemRiskRecord.duplicate_flags, ItemRiskRecord.reasons)
SELLER_COLUMNS = (SellerTrustRecord.seller_id, SellerTrustRecord.score, SellerTrustRecord.tier,
                  SellerTrustRecord.confidence, SellerTrustRecord.parts,
                  SellerTrustRecord.reasons)
CONFIRMED_COUNTERFEIT = "confirmed_counterfeit"


def load_trust(s: Session, listing_ids: Iterable[int], weights: TrustWeights | None = None,
               ) -> tuple[dict[int, ItemRisk], dict[int, SellerTrust]]:
    """The risk of each listing and the trust of their sellers, as stored, in one query:
    each listing's status of the moment outer-joined to its stored risk and its seller's
    stored trust.  Plain column rows, not ORM objects (and never the seller's `counts`):
    this is the feed's hot path."""
    ids = sorted(set(listing_ids))
    if not ids:
        return {}, {}
    weights = weights or current_weights(s)[1]
    rows = s.execute(_TRUST_QUERY, {"ids": ids}).all()
    items, sellers = {}, {}
    for row in rows:
        stored = _Prefixed(row, "item_") if row.item_listing_id is not None else None
        items[row.id] = _item_risk(row, stored, weights)
        if row.seller_id not in sellers:
            sellers[row.seller_id] = (
                _seller_trust(_Prefixed(row, "seller_")) if row.seller_seller_id is not None
                else score_seller(row.seller_id, SellerCounts(), weights))
    return items, sellers


# A flag, not the timestamp: parsing 60 datetimes on SQLite was a millisecond a request.
_AUTHENTICATED = Listing.is_authenticated.label("authenticated")
_ITEM_LABELLED = tuple(c.label(f"item_{c.key}") for c in ITEM_COLUMNS)
_SELLER_LABELLED = tuple(c.label(f"seller_{c.key}") for c in SELLER_COLUMNS)
# Built once: composing this select on every request was about a millisecond of Python.
_TRUST_QUERY = (
    select(Listing.id, Listing.seller_id, Listing.status, _AUTHENTICATED,
           *_ITEM_LABELLED, *_SELLER_LABELLED)
    .select_from(Listing)
    .outerjoin(ItemRiskRecord, ItemRiskRecord.listing_id == Listing.id)
    .outerjoin(SellerTrustRecord, SellerTrustRecord.seller_id == Listing.seller_id)
    .where(Listing.id.in_(bindparam("ids", expanding=True))))


class _Prefixed:
    """The stored record's columns inside a joined row (labelled `<prefix><name>`)."""
    __slots__ = ("_row", "_prefix")

    def __init__(self, row: Any, prefix: str):
        self._row, self._prefix = row, prefix

    def __getattr__(self, name: str) -> Any:
        return getattr(self._row, self._prefix + name)


def load_sellers(s: Session, seller_ids: Iterable[int], weights: TrustWeights | None = None,
                 ) -> dict[int, SellerTrust]:
    ids = sorted(set(seller_ids))
    if not ids:
        return {}
    weights = weights or current_weights(s)[1]
    stored = {row.seller_id: row for row in s.execute(
        select(*SELLER_COLUMNS).where(SellerTrustRecord.seller_id.in_(ids)))}
    return {seller_id: (_seller_trust(stored[seller_id]) if seller_id in stored
                        else score_seller(seller_id, SellerCounts(), weights))
            for seller_id in ids}


def _item_risk(listing, record, weights: TrustWeights) -> ItemRisk:
    """The stored risk, except that the listing's status right now always wins: a listing
    removed or sold a moment ago is out of the feed, and one relisted a moment ago back in
    it, before any job has run.  Only a confirmed counterfeit stays out whatever the status."""
    if record is None:
        return score_item(listing.id, listing.seller_id, status=listing.status,
                          authenticated=bool(listing.authenticated),
                          counterfeit_verdict=False, counterfeit_score=None, duplicates=(),
                          weights=weights)
    if record.exclusion_reason == CONFIRMED_COUNTERFEIT:
        exclusion = CONFIRMED_COUNTERFEIT
    elif listing.status == "live":
        exclusion = None
    else:
        exclusion = NOT_LIVE_REASONS.get(listing.status, "not_live")
    return ItemRisk(listing_id=listing.id, seller_id=listing.seller_id,
                    excluded=exclusion is not None, exclusion_reason=exclusion,
                    flagged=record.flagged, flag_confidence=record.flag_confidence,
                    authenticated=bool(listing.authenticated),
                    counterfeit_score=record.counterfeit_score,
                    duplicate_flags=record.duplicate_flags, reasons=tuple(record.reasons))


def _seller_trust(record) -> SellerTrust:
    return SellerTrust(seller_id=record.seller_id, score=record.score,
                       tier=SellerTier(record.tier), confidence=record.confidence,
                       parts=dict(record.parts), reasons=tuple(record.reasons))


# --- weights as versioned, audited settings ------------------------------------------------

NOTE_MAX = 500


def set_weights(s: Session, staff: StaffUser, values: dict[str, Any], note: str,
                ) -> TrustWeightsVersion:
    """A new version of the weights: the ones in force overlaid with `values`, validated
    (422 with a message per field), audited as trust.weights_change, and a re-score of
    every seller and listing queued for after the commit."""
    if not staff.can(Permission.TRUST_MANAGE):
        raise PermissionDenied("Changing trust weights needs trust.manage.",
                               code="not_allowed")
    note = _checked_note(note)
    if not isinstance(values, dict) or not values:
        raise ValidationFailed("Give at least one weight to change.", code="no_weights",
                               fields={"weights": "an object of weight names and numbers"})
    version, before = current_weights(s)
    after = TrustWeights.from_mapping({**before.as_dict(), **values})
    changed = {name: value for name, value in after.as_dict().items()
               if before.as_dict()[name] != value}
    if not changed:
        raise ValidationFailed("These are the weights in force already.",
                               code="weights_unchanged",
                               fields={name: "unchanged" for name in values})
    row = TrustWeightsVersion(version=version + 1, weights=after.as_dict(), note=note,
                              created_by_staff_id=staff.id, created_at=clock.now())
    try:
        with s.begin_nested():   # two analysts saving at once: one version each, or 409
            s.add(row)
    except IntegrityError:
        raise Conflict("Someone changed the weights meanwhile; reload and try again.",
                       code="weights_changed") from None
    record(s, staff, "trust.weights_change", "trust_weights", row.version,
           before={name: before.as_dict()[name] for name in changed},
           after={**changed, "note": note})
    RESCORE_ALL_TRUST.enqueue(f"weights v{row.version}")
    return row


def _checked_note(note: Any) -> str:
    note = note.strip() if isinstance(note, str) else ""
    if not note:
        raise ValidationFailed("Say why the weights change.", code="note_required",
                               fields={"note": "required"})
    if len(note) > NOTE_MAX:
        raise ValidationFailed(f"The note is too long (at most {NOTE_MAX} characters).",
                               code="note_too_long", fields={"note": f"at most {NOTE_MAX}"})
    return note


@dataclass(frozen=True)
class WeightsChange:
    version: int
    created_at: Any
    created_by: str
    note: str
    changed: dict[str, tuple[float, float]]   # name -> (before, after)
    weights: dict[str, float]


def weights_history(s: Session, limit: int = 50) -> list[WeightsChange]:
    """The versions, newest first, each with what it changed against the one before."""
    rows = list(s.execute(select(TrustWeightsVersion, StaffUser.email)
                          .outerjoin(StaffUser,
                                     StaffUser.id == TrustWeightsVersion.created_by_staff_id)
                          .order_by(TrustWeightsVersion.version.desc()).limit(limit + 1)))
    changes = []
    for index, (row, email) in enumerate(rows[:limit]):
        earlier = rows[index + 1][0].weights if index + 1 < len(rows) \
            else TrustWeights().as_dict()
        changed = {name: (earlier.get(name), value) for name, value in row.weights.items()
                   if earlier.get(name) != value}
        changes.append(WeightsChange(version=row.version, created_at=row.created_at,
                                     created_by=email or "system", note=row.note,
                                     changed=changed, weights=dict(row.weights)))
    return changes


# --- read models for the console and the staff API -----------------------------------------

def seller_detail(s: Session, seller_id: int, history_limit: int = 200) -> dict[str, Any]:
    member = s.get(Member, seller_id)
    if member is None:
        raise NotFound("No such member.", code="member_not_found")
    record_row = s.get(SellerTrustRecord, seller_id)
    weights = current_weights(s)[1]
    trust = _seller_trust(record_row) if record_row else \
        score_seller(seller_id, SellerCounts(), weights)
    history = list(s.scalars(select(SellerTrustSnapshot)
                             .where(SellerTrustSnapshot.seller_id == seller_id)
                             .order_by(SellerTrustSnapshot.computed_at.desc(),
                                       SellerTrustSnapshot.id.desc())
                             .limit(history_limit)))
    flagged = list(s.execute(
        select(ItemRiskRecord, Listing.title, Listing.status)
        .join(Listing, Listing.id == ItemRiskRecord.listing_id)
        .where(ItemRiskRecord.seller_id == seller_id,
               (ItemRiskRecord.flagged.is_(True)) | (ItemRiskRecord.excluded.is_(True))
               & (ItemRiskRecord.exclusion_reason == "confirmed_counterfeit"))
        .order_by(ItemRiskRecord.flag_confidence.desc()).limit(100)))
    return {
        "seller_id": seller_id, "username": member.username, "trust": trust,
        "counts": dict(record_row.counts) if record_row else {},
        "computed_at": record_row.computed_at if record_row else None,
        "weights_version": record_row.weights_version if record_row else None,
        "history": list(reversed(history)),
        "flagged_listings": [{"listing_id": risk.listing_id, "title": title, "status": status,
                              "flag_confidence": risk.flag_confidence,
                              "excluded": risk.excluded, "reasons": list(risk.reasons)}
                             for risk, title, status in flagged],
    }


def listing_detail(s: Session, listing_id: int, history_limit: int = 200) -> dict[str, Any]:
    listing = s.get(Listing, listing_id)
    if listing is None:
        raise NotFound("No such listing.", code="listing_not_found")
    items, _ = load_trust(s, [listing_id])
    stored = s.get(ItemRiskRecord, listing_id)
    history = list(s.scalars(select(ItemRiskSnapshot)
                             .where(ItemRiskSnapshot.listing_id == listing_id)
                             .order_by(ItemRiskSnapshot.computed_at.desc(),
                                       ItemRiskSnapshot.id.desc())
                             .limit(history_limit)))
    return {"listing_id": listing_id, "title": listing.title, "status": listing.status,
            "seller_id": listing.seller_id, "risk": items[listing_id],
            "computed_at": stored.computed_at if stored else None,
            "history": list(reversed(history))}


def sellers_overview(s: Session, *, tier: str | None = None, max_score: float | None = None,
                     limit: int = 100, offset: int = 0) -> list[tuple[SellerTrustRecord, str]]:
    """Stored seller scores, lowest first (the ones to look at), with usernames.

    The page is cut from the scores alone (an index-only walk of (score, seller_id) or
    (tier, score, seller_id)); only its rows are then joined to members, so a deep page
    does not join every seller it skips."""
    query = select(SellerTrustRecord.seller_id)
    if tier:
        if tier not in {t.value for t in SellerTier}:
            raise ValidationFailed("Unknown tier.", code="unknown_tier",
                                   fields={"tier": ", ".join(t.value for t in SellerTier)})
        query = query.where(SellerTrustRecord.tier == tier)
    if max_score is not None:
        query = query.where(SellerTrustRecord.score <= max_score)
    order = (SellerTrustRecord.score, SellerTrustRecord.seller_id)
    page = query.order_by(*order).limit(limit).offset(offset).subquery()
    rows = s.execute(select(SellerTrustRecord, Member.username)
                     .join(page, page.c.seller_id == SellerTrustRecord.seller_id)
                     .join(Member, Member.id == SellerTrustRecord.seller_id)
                     .order_by(*order)).all()
    return [(row[0], row[1]) for row in rows]


def tier_counts(s: Session) -> dict[str, int]:
    counts = dict(s.execute(select(SellerTrustRecord.tier, func.count())
                            .group_by(SellerTrustRecord.tier)).all())
    return {tier.value: counts.get(tier.value, 0) for tier in SellerTier}
