"""A whole duplicate group decided at once, and the short-lived undo of that decision.

    review_group(s, analyst, group_id, "confirm")   # every open flag of the group
    undo_group_review(s, analyst, flag_ids, "confirm")

Each flag goes through vision.duplicates.review_flag, so a group decision is exactly the
decisions one by one (the moderation check, the guarded update, one audit row and one
event per flag). The undo puts the flags back to open, only for the analyst who decided
them, only while they still have that decision, and only within UNDO_SECONDS: after
that, or once anyone else touched a flag, the decision stands and is changed the usual
way. Each flag reopened is audited as vision.flag_undo and announced (trust recomputes).
"""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from foundation import clock, events
from foundation.audit.services import record
from foundation.errors import Conflict, PermissionDenied, ValidationFailed
from foundation.staff.models import StaffUser
from foundation.staff.permissions import Permission
from vision import duplicates
from vision.models import DuplicateFlag, FlagStatus

UNDO_SECONDS = 120
DECIDED_STATUS = {"confirm": FlagStatus.CONFIRMED, "dismiss": FlagStatus.DISMISSED}
MAX_FLAGS = 500   # an undo names the flags it reopens; more than a group ever holds


def review_group(s: Session, actor: StaffUser, group_id: int, decision: str,
                 note: str = "") -> list[DuplicateFlag]:
    """Confirm or dismiss every open flag of the group; 409 when none is open."""
    require_moderator(actor)
    flag_ids = list(s.scalars(select(DuplicateFlag.id).where(
        DuplicateFlag.group_id == group_id, DuplicateFlag.status == FlagStatus.OPEN)
        .order_by(DuplicateFlag.id)))
    if not flag_ids:
        raise Conflict("This group has no open flag left (someone decided it already).",
                       code="group_already_reviewed")
    return [duplicates.review_flag(s, actor, flag_id, decision, note) for flag_id in flag_ids]


def undo_group_review(s: Session, actor: StaffUser, flag_ids: str,
                      decision: str) -> list[DuplicateFlag]:
    """Reopen the flags `actor` just decided with `decision`: all of them or none.
    `flag_ids` as the undo form sends them: "3,4,5"."""
    require_moderator(actor)
    status = _decided_status(decision)
    flag_ids = parsed_flag_ids(flag_ids)
    since = clock.now() - timedelta(seconds=UNDO_SECONDS)
    reopened = s.execute(update(DuplicateFlag).where(
        DuplicateFlag.id.in_(flag_ids), DuplicateFlag.status == status,
        DuplicateFlag.reviewed_by == actor.id, DuplicateFlag.reviewed_at >= since)
        .values(status=FlagStatus.OPEN, reviewed_by=None, reviewed_at=None,
                review_note=None)).rowcount
    if reopened != len(set(flag_ids)):  # the caller rolls back the ones that did change
        raise Conflict(f"Too late to undo: the decision is older than {UNDO_SECONDS} "
                       "seconds, or a flag was changed since. It stands.",
                       code="undo_expired")
    flags = list(s.scalars(select(DuplicateFlag).where(DuplicateFlag.id.in_(flag_ids))
                           .order_by(DuplicateFlag.id)
                           .execution_options(populate_existing=True)))
    for flag in flags:
        _announce_reopened(s, actor, flag, status)
    return flags


def require_moderator(actor: StaffUser) -> None:
    if not actor.can(Permission.MARKETPLACE_MODERATE):
        raise PermissionDenied("Only moderators decide duplicate flags.",
                               code="not_a_moderator")


def parsed_flag_ids(raw: object) -> list[int]:
    """"3,4,5" -> [3, 4, 5]; anything else (or too many) is refused with a reason."""
    parts = [part.strip() for part in raw.split(",")] if isinstance(raw, str) else []
    if not parts or len(parts) > MAX_FLAGS or not all(
            part.isdigit() and len(part) <= 12 for part in parts):
        raise ValidationFailed("Say which flags to reopen.", code="invalid_flags",
                               fields={"flag_ids": f"1 to {MAX_FLAGS} comma-separated ids"})
    return [int(part) for part in parts]


def _decided_status(decision: str) -> FlagStatus:
    if decision not in DECIDED_STATUS:
        raise ValidationFailed("Choose confirm or dismiss.", code="invalid_decision",
                               fields={"decision": "confirm or dismiss"})
    return DECIDED_STATUS[decision]


def _announce_reopened(s: Session, actor: StaffUser, flag: DuplicateFlag,
                       undone: FlagStatus) -> None:
    record(s, actor, "vision.flag_undo", "duplicate_flag", flag.id,
           before={"status": undone}, after={"status": flag.status, "kind": flag.kind,
                                             "listing_id": flag.listing_id})
    events.emit(s, events.DuplicateFlagReviewed(
        flag_id=flag.id, listing_id=flag.listing_id, status=str(flag.status)))
