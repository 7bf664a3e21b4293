"""Duplicate flags: what a verified match between two listings' photos means, recording
it once, the groups of flagged listings, and the analysts' confirm / dismiss.

Which side is the suspect: the later photo (higher id) is the copy of the earlier one,
whatever order a re-index visits them in, so a pair always gives the same flag.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from foundation import clock, events
from foundation.audit.services import record
from foundation.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from foundation.staff.models import StaffUser
from foundation.staff.permissions import Permission
from marketplace_core.listings.models import Listing, ListingPhoto, ListingStatus
from vision.flag_evidence import explained
from vision.models import ENGINE_VERSION, DuplicateFlag, FlagKind, FlagStatus

if TYPE_CHECKING:  # the image stack (FAISS, torch) stays out of the web process
    from vision.index import Match

# A seller taking their own listing down and putting the item up again is not fraud.
SELLER_WITHDRAWAL = "withdrawn_by_seller"
_ACTIVE = (ListingStatus.DRAFT, ListingStatus.LIVE, ListingStatus.PENDING_AUTHENTICATION)
NOTE_MAX = 500


def flag_kind(suspect: Listing, original: Listing) -> FlagKind | None:
    """What it means that `suspect` shows a copy of a photo of the earlier `original`."""
    if original.status == ListingStatus.REMOVED and original.removed_reason != SELLER_WITHDRAWAL:
        return FlagKind.RETURNING_REMOVED
    if suspect.seller_id != original.seller_id:
        return FlagKind.STOLEN_PHOTO
    if original.status in _ACTIVE and suspect.status in _ACTIVE:
        return FlagKind.SELLER_SPAM
    return None


def record_match(s: Session, photo: ListingPhoto, match: Match) -> DuplicateFlag | None:
    """Flag the verified match of `photo` (unless it is its own listing's photo, means
    nothing, or was flagged before); returns the new flag."""
    other = s.get(ListingPhoto, match.photo_id)
    if other is None or other.listing_id == photo.listing_id:
        return None
    suspect_photo, original_photo = sorted((photo, other), key=lambda p: p.id, reverse=True)
    suspect = s.get(Listing, suspect_photo.listing_id)
    original = s.get(Listing, original_photo.listing_id)
    kind = flag_kind(suspect, original)
    if kind is None or _already_flagged(s, suspect_photo.id, original_photo.id):
        return None
    flag = DuplicateFlag(
        kind=kind, status=FlagStatus.OPEN, listing_id=suspect.id, photo_id=suspect_photo.id,
        matched_listing_id=original.id, matched_photo_id=original_photo.id,
        group_id=_merged_group(s, suspect.id, original.id), score=round(match.score, 4),
        evidence={"alignment": match.alignment, "fired": list(match.fired),
                  "signals": match.signals, "engine_version": ENGINE_VERSION},
        created_at=clock.now())
    try:
        with s.begin_nested():   # another worker may record the same pair at once
            s.add(flag)
    except IntegrityError:
        return None
    events.emit(s, events.DuplicateFlagRecorded(flag_id=flag.id, listing_id=flag.listing_id))
    return flag


def _already_flagged(s: Session, photo_id: int, matched_photo_id: int) -> bool:
    return s.scalar(select(DuplicateFlag.id).where(
        DuplicateFlag.photo_id == photo_id,
        DuplicateFlag.matched_photo_id == matched_photo_id)) is not None


def _merged_group(s: Session, *listing_ids: int) -> int:
    """The group of these listings: the smallest listing id among them and every group
    they already belong to, those groups merged into it."""
    groups = set(s.scalars(select(DuplicateFlag.group_id).where(or_(
        DuplicateFlag.listing_id.in_(listing_ids),
        DuplicateFlag.matched_listing_id.in_(listing_ids)))))
    group = min(groups | set(listing_ids))
    stale = groups - {group}
    if stale:
        s.execute(update(DuplicateFlag).where(DuplicateFlag.group_id.in_(stale))
                  .values(group_id=group))
    return group


# --- reading ------------------------------------------------------------------------------

@dataclass(frozen=True)
class FlaggedGroup:
    group_id: int
    flags: list[DuplicateFlag]
    listings: dict[int, Listing]
    photos: dict[int, ListingPhoto]      # the flagged photos still there, by id


def open_groups(s: Session, *, kind: str | None = None, status: str = FlagStatus.OPEN,
                limit: int = 25) -> list[FlaggedGroup]:
    """The newest groups with flags in `status` (optionally of one kind), each with
    every flag of that status in the group, their listings and photos."""
    if status not in set(FlagStatus):
        raise ValidationFailed("Unknown flag status.", code="invalid_status",
                               fields={"status": ", ".join(FlagStatus)})
    if kind is not None and kind not in set(FlagKind):
        raise ValidationFailed("Unknown flag kind.", code="invalid_kind",
                               fields={"kind": ", ".join(FlagKind)})
    chosen = select(DuplicateFlag.group_id).where(DuplicateFlag.status == status)
    if kind is not None:
        chosen = chosen.where(DuplicateFlag.kind == kind)
    group_ids = list(s.scalars(chosen.group_by(DuplicateFlag.group_id)
                               .order_by(DuplicateFlag.group_id.desc()).limit(limit)))
    if not group_ids:
        return []
    flags = list(s.scalars(select(DuplicateFlag).where(
        DuplicateFlag.group_id.in_(group_ids), DuplicateFlag.status == status)
        .order_by(DuplicateFlag.id)))
    listing_ids = {i for f in flags for i in (f.listing_id, f.matched_listing_id)}
    photo_ids = {i for f in flags for i in (f.photo_id, f.matched_photo_id)}
    listings = {x.id: x for x in s.scalars(select(Listing).where(Listing.id.in_(listing_ids)))}
    photos = {p.id: p for p in s.scalars(select(ListingPhoto).where(
        ListingPhoto.id.in_(photo_ids)))}
    return [FlaggedGroup(group_id=g, flags=[f for f in flags if f.group_id == g],
                         listings=listings, photos=photos) for g in group_ids]


def flags_for_listing(s: Session, listing_id: int) -> list[DuplicateFlag]:
    """Every flag the listing is on (either side), newest first: for staff views."""
    return list(s.scalars(select(DuplicateFlag).where(or_(
        DuplicateFlag.listing_id == listing_id,
        DuplicateFlag.matched_listing_id == listing_id)).order_by(DuplicateFlag.id.desc())))


def flag_json(flag: DuplicateFlag) -> dict:
    return {"id": flag.id, "kind": flag.kind, "status": flag.status,
            "listing_id": flag.listing_id, "photo_id": flag.photo_id,
            "matched_listing_id": flag.matched_listing_id,
            "matched_photo_id": flag.matched_photo_id, "group_id": flag.group_id,
            "score": flag.score, "alignment": flag.evidence.get("alignment"),
            "evidence": explained(flag.evidence, flag.score),
            "created_at": flag.created_at.isoformat()}


# --- review -------------------------------------------------------------------------------

def review_flag(s: Session, actor: StaffUser, flag_id: int, decision: str,
                note: str = "") -> DuplicateFlag:
    """An analyst confirms or dismisses an open flag, audited as vision.flag_<decision>.
    Deciding is moderation: seeing flags (VISION_VIEW) is not enough."""
    if not actor.can(Permission.MARKETPLACE_MODERATE):
        raise PermissionDenied("Only moderators decide duplicate flags.",
                               code="not_a_moderator")
    targets = {"confirm": FlagStatus.CONFIRMED, "dismiss": FlagStatus.DISMISSED}
    if decision not in targets:
        raise ValidationFailed("Choose confirm or dismiss.", code="invalid_decision",
                               fields={"decision": "confirm or dismiss"})
    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        raise ValidationFailed(f"The note is too long (at most {NOTE_MAX} characters).",
                               code="note_too_long", fields={"note": f"at most {NOTE_MAX}"})
    flag = s.get(DuplicateFlag, flag_id)
    if flag is None:
        raise NotFound("No such duplicate flag.", code="flag_not_found")
    # A guarded UPDATE: of two analysts deciding the same flag at once, one wins.
    now = clock.now()
    changed = s.execute(update(DuplicateFlag).where(
        DuplicateFlag.id == flag_id, DuplicateFlag.status == FlagStatus.OPEN).values(
        status=targets[decision], reviewed_by=actor.id, reviewed_at=now,
        review_note=note or None)).rowcount
    if changed != 1:
        raise Conflict(f"This flag was already {flag.status}.", code="flag_already_reviewed")
    s.refresh(flag)
    record(s, actor, f"vision.flag_{decision}", "duplicate_flag", flag.id,
           before={"status": FlagStatus.OPEN},
           after={"status": flag.status, "note": note, "kind": flag.kind,
                  "listing_id": flag.listing_id, "matched_listing_id": flag.matched_listing_id})
    events.emit(s, events.DuplicateFlagReviewed(
        flag_id=flag.id, listing_id=flag.listing_id, status=str(flag.status)))
    return flag


def duplicate_flags_signal(s: Session, listing_id: int) -> list[dict]:
    """What reviewers see of this listing's duplicate flags (authentication's workspace)."""
    return [flag_json(f) for f in flags_for_listing(s, listing_id)]
