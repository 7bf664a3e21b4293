"""Verdicts and what they do to the request, the listing and the seller.

First review (claimed from queued or escalated):
    authentic         -> closed_authentic (listing approved), or awaiting_second_review
                         when the price is above SECOND_REVIEW_AUTHENTIC_PRICE_PAISE
    counterfeit       -> awaiting_second_review (always four eyes)
    needs_more_photos -> awaiting_photos (SLA paused, deadline timer armed)
    escalate          -> escalated (seniors only); from escalated -> awaiting_lead
Second review (a senior, never the first reviewer): authentic or counterfeit; agreeing
closes with that verdict, disagreeing goes to awaiting_lead.
Lead (never either earlier reviewer): authentic or counterfeit, final.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from authentication import claims, machine
from authentication.models import (
    CHECK_RESULTS,
    AuthenticationRequest,
    KnownCounterfeitPhoto,
    Reason,
    RequestState,
    ReviewDecision,
    Stage,
    Strike,
    Verdict,
    checklist_for,
)
from foundation import clock, events, jobs
from foundation.audit.services import record
from foundation.casework import ILLEGAL_TRANSITION, SYSTEM
from foundation.config import current as settings
from foundation.errors import Conflict, PermissionDenied, ValidationFailed
from foundation.staff.models import StaffUser
from foundation.staff.permissions import Permission
from marketplace_core.listings import services as listings
from marketplace_core.listings.models import Listing, ListingPhoto, ListingStatus
from marketplace_core.members import services as members
from marketplace_core.members.models import Member

# Named, not imported: authentication.tasks imports this module.
REJECT_UNANSWERED_PHOTO_REQUEST = jobs.named(
    "authentication.tasks.reject_unanswered_photo_request")

R = AuthenticationRequest
STAGE_OF_QUEUE_STATE = {RequestState.QUEUED: Stage.FIRST, RequestState.ESCALATED: Stage.FIRST,
                        RequestState.AWAITING_SECOND_REVIEW: Stage.SECOND,
                        RequestState.AWAITING_LEAD: Stage.LEAD}
VERDICTS_BY_STAGE = {
    Stage.FIRST: tuple(Verdict),
    Stage.SECOND: (Verdict.AUTHENTIC, Verdict.COUNTERFEIT),
    Stage.LEAD: (Verdict.AUTHENTIC, Verdict.COUNTERFEIT),
}
FINAL_VERDICTS = (Verdict.AUTHENTIC, Verdict.COUNTERFEIT)
# The reason codes a reviewer may give with each verdict, and how forms label them; the
# metrics and later accuracy checks group by them, so free text is refused.
REASON_CODES: dict[Verdict, tuple[tuple[str, str], ...]] = {
    Verdict.AUTHENTIC: (("all_points_consistent", "All points consistent"),
                        ("matches_references", "Matches the reference photos")),
    Verdict.COUNTERFEIT: (("logo_mismatch", "Logo does not match"),
                          ("stitching_mismatch", "Stitching does not match"),
                          ("hardware_mismatch", "Hardware does not match"),
                          ("serial_invalid", "Serial or date code invalid"),
                          ("materials_mismatch", "Materials do not match")),
    Verdict.NEEDS_MORE_PHOTOS: (("photos_unclear", "Photos unclear"),
                                ("detail_missing", "A needed detail is not shown")),
    Verdict.ESCALATE: (("outside_expertise", "Outside my expertise"),
                       ("uncertain", "Uncertain; a senior should look")),
}
ALL_REASON_CODES = frozenset(code for options in REASON_CODES.values() for code, _ in options)
NO_PHOTOS_REASON = "no_photos_provided"
COUNTERFEIT_REMOVAL_REASON = "counterfeit"


@dataclass(frozen=True)
class Decision:
    verdict: Verdict
    reason: str
    note: str = ""
    checklist: dict[str, str] = field(default_factory=dict)
    angles: tuple[str, ...] = ()


def decide(s: Session, staff: StaffUser, request: R, token: str, decision: Decision) -> R:
    """Record the holder's verdict and move the request on; refusals change nothing."""
    claims.require_lease(request, staff, token)
    stage = STAGE_OF_QUEUE_STATE[RequestState(request.claimed_from)]
    _require_role(staff, request, stage)
    if decision.verdict not in VERDICTS_BY_STAGE[stage]:
        raise Conflict(f"A {stage} review can only decide "
                       + ", ".join(VERDICTS_BY_STAGE[stage]) + ".", code=ILLEGAL_TRANSITION)
    _check_decision(request, decision)
    s.add(ReviewDecision(request_id=request.id, reviewer_id=staff.id, verdict=decision.verdict,
                         reason_code=decision.reason, note=decision.note,
                         checklist=dict(decision.checklist), angles=list(decision.angles),
                         stage=stage, created_at=clock.now()))
    s.flush()
    before = {"state": request.state, "claimed_from": request.claimed_from}
    _apply(s, staff, request, token, stage, decision)
    record(s, staff, "authentication.decision", "authentication_request", request.id,
           before=before, after={"state": request.state, "verdict": decision.verdict,
                                 "stage": stage, "reason": decision.reason})
    return request


# --- checks ---------------------------------------------------------------------------

def _require_role(staff: StaffUser, request: R, stage: Stage) -> None:
    if stage == Stage.FIRST:
        needs_senior = (request.claimed_from == RequestState.ESCALATED or request.senior_only
                        or request.price_paise > settings().SENIOR_REVIEW_PRICE_PAISE)
        if needs_senior and not claims.is_senior(staff):
            raise PermissionDenied("Only a senior authenticator may decide this item.",
                                   code="wrong_role")
    elif stage == Stage.SECOND:
        if not staff.can(Permission.AUTHENTICATION_SECOND_REVIEW):
            raise PermissionDenied("A second review needs a senior authenticator.",
                                   code="wrong_role")
        if request.first_reviewer_id == staff.id:
            raise PermissionDenied("Nobody may second their own decision.",
                                   code="own_decision")
    else:
        if not staff.can(Permission.AUTHENTICATION_LEAD):
            raise PermissionDenied("Only a lead decides disagreements.", code="wrong_role")
        if staff.id in (request.first_reviewer_id, request.second_reviewer_id):
            raise PermissionDenied("A lead may not decide a request they reviewed.",
                                   code="own_decision")


def reason_codes(verdict: Verdict) -> tuple[str, ...]:
    return tuple(code for code, _ in REASON_CODES.get(verdict, ()))


def _check_reason(decision: Decision) -> None:
    allowed = reason_codes(decision.verdict)
    if decision.reason not in allowed:
        raise ValidationFailed(f"{decision.reason!r} is not one of the reasons for the "
                               f"verdict {decision.verdict.replace('_', ' ')}.",
                               code="bad_reason",
                               fields={"reason": "one of: " + ", ".join(allowed)})


def _check_decision(request: R, decision: Decision) -> None:
    _check_reason(decision)
    points = checklist_for(request.category)
    problems: dict[str, str] = {}
    for point, result in decision.checklist.items():
        if point not in points:
            problems[f"checklist.{point}"] = "does not apply to " + request.category
        elif result not in CHECK_RESULTS:
            problems[f"checklist.{point}"] = "one of: " + ", ".join(CHECK_RESULTS)
    if decision.verdict in FINAL_VERDICTS:
        for point in points:
            if point not in decision.checklist:
                problems[f"checklist.{point}"] = "required for a final verdict"
    if decision.verdict == Verdict.AUTHENTIC and "fail" in decision.checklist.values():
        problems["checklist"] = "an authentic verdict cannot have a failed point"
    if decision.verdict == Verdict.NEEDS_MORE_PHOTOS and request.reason == Reason.DISPUTE:
        raise Conflict("The item is with the buyer: judge it from the listing's and the "
                       "buyer's photos, or escalate.", code="not_for_dispute")
    if decision.verdict == Verdict.NEEDS_MORE_PHOTOS and not decision.angles:
        problems["angles"] = "name the angles the seller must photograph"
    if problems:
        raise ValidationFailed("The decision is incomplete.", fields=problems)


# --- effects --------------------------------------------------------------------------

def _apply(s: Session, staff: StaffUser, request: R, token: str, stage: Stage,
           decision: Decision) -> None:
    verdict = decision.verdict
    if stage == Stage.FIRST:
        _apply_first(s, staff, request, token, decision)
    elif stage == Stage.SECOND:
        if verdict == request.first_verdict:
            _close(s, staff, request, token, verdict)
        else:
            _move(s, staff, request, token, RequestState.AWAITING_LEAD, "reviewers_disagree",
                  {"second_reviewer_id": staff.id, "second_verdict": verdict})
    else:
        _close(s, staff, request, token, verdict)


def _apply_first(s: Session, staff: StaffUser, request: R, token: str,
                 decision: Decision) -> None:
    verdict = decision.verdict
    pending = {"first_reviewer_id": staff.id, "first_verdict": verdict}
    if verdict == Verdict.AUTHENTIC:
        if request.price_paise > settings().SECOND_REVIEW_AUTHENTIC_PRICE_PAISE:
            _move(s, staff, request, token, RequestState.AWAITING_SECOND_REVIEW,
                  "authentic_high_value", pending)
        else:
            _close(s, staff, request, token, verdict)
    elif verdict == Verdict.COUNTERFEIT:
        _move(s, staff, request, token, RequestState.AWAITING_SECOND_REVIEW,
              "counterfeit_first", pending)
    elif verdict == Verdict.NEEDS_MORE_PHOTOS:
        _ask_for_photos(s, staff, request, token, decision.angles)
    elif request.claimed_from == RequestState.ESCALATED:
        _move(s, staff, request, token, RequestState.AWAITING_LEAD, "escalated_to_lead", pending)
    else:
        _move(s, staff, request, token, RequestState.ESCALATED, "escalated", {"senior_only": True})


def _move(s: Session, staff: StaffUser, request: R, token: str, to: RequestState, reason: str,
          values: dict | None = None) -> None:
    """Move the request on under the reviewer's lease, which it leaves."""
    claims.LEASES.move(s, staff, request, token, to, reason=reason,
                       values={**claims.unclaimed(), **(values or {})})


def _ask_for_photos(s: Session, staff: StaffUser, request: R, token: str,
                    angles: tuple[str, ...]) -> None:
    now = clock.now()
    due = now + timedelta(hours=settings().AUTHENTICATION_PHOTOS_DEADLINE_HOURS)
    _move(s, staff, request, token, RequestState.AWAITING_PHOTOS, "needs_more_photos",
          {**machine.clock_paused(request, now), "requested_angles": list(angles),
           "photos_due_at": due})
    _arm_photo_timer(request.id, due)


def _arm_photo_timer(request_id: int, due: datetime) -> None:
    REJECT_UNANSWERED_PHOTO_REQUEST.enqueue(
        request_id, due.isoformat(), at=due,
        job_id=jobs.timer_id("photos", "authentication_request", request_id, due))


def _close(s: Session, staff: StaffUser, request: R, token: str, verdict: Verdict) -> None:
    _apply_verdict(s, staff, request, token, verdict)
    events.emit(s, events.VerdictRecorded(
        request_id=request.id, listing_id=request.listing_id, seller_id=request.seller_id,
        verdict=str(verdict)))


def _apply_verdict(s: Session, staff: StaffUser, request: R, token: str,
                   verdict: Verdict) -> None:
    listing = s.get(Listing, request.listing_id)
    if request.reason == Reason.DISPUTE:
        _close_dispute_review(s, staff, request, token, verdict, listing)
        return
    if verdict == Verdict.AUTHENTIC:
        _move(s, staff, request, token, RequestState.CLOSED_AUTHENTIC, "authentic")
        listings.approve_authentication(s, listing, actor=staff,
                                        certificate=f"PA-{request.id:08d}")
        return
    _move(s, staff, request, token, RequestState.CLOSED_COUNTERFEIT, "counterfeit")
    _bank_photos(s, request, listing)
    if listing.status not in (ListingStatus.REMOVED, ListingStatus.SOLD):
        listings.remove_by_staff(s, listing, actor=staff, reason=COUNTERFEIT_REMOVAL_REASON)
    _strike(s, staff, request)


def _close_dispute_review(s: Session, staff: StaffUser, request: R, token: str,
                          verdict: Verdict, listing: Listing) -> None:
    """A sold item a buyer called not authentic: the listing stays sold either way; a
    counterfeit still strikes the seller and banks the photos.  The case hears the
    verdict through the DisputeVerdictGiven event and decides the money."""
    if verdict == Verdict.AUTHENTIC:
        _move(s, staff, request, token, RequestState.CLOSED_AUTHENTIC, "authentic_after_dispute")
    else:
        _move(s, staff, request, token, RequestState.CLOSED_COUNTERFEIT,
              "counterfeit_after_dispute")
        _bank_photos(s, request, listing)
        _strike(s, staff, request)
    events.emit(s, events.DisputeVerdictGiven(
        request_id=request.id, listing_id=request.listing_id, verdict=str(verdict)))


def _bank_photos(s: Session, request: R, listing: Listing) -> None:
    keys = s.scalars(select(ListingPhoto.media_key).where(
        ListingPhoto.listing_id == listing.id).order_by(ListingPhoto.position))
    for key in dict.fromkeys(keys):
        s.add(KnownCounterfeitPhoto(media_key=key, listing_id=listing.id,
                                    request_id=request.id, created_at=clock.now()))
    s.flush()


def _strike(s: Session, staff: StaffUser, request: R) -> None:
    s.add(Strike(seller_id=request.seller_id, request_id=request.id, created_at=clock.now()))
    s.flush()
    strikes = strike_count(s, request.seller_id)
    seller = s.get(Member, request.seller_id)
    if strikes >= settings().STRIKES_BEFORE_RESTRICTION and not seller.selling_restricted:
        members.set_selling_restricted(s, seller, restricted=True, actor=staff,
                                       reason=f"{strikes} counterfeit strikes")


def strike_count(s: Session, seller_id: int) -> int:
    return s.scalar(select(func.count()).where(Strike.seller_id == seller_id)) or 0


# --- timers ---------------------------------------------------------------------------

def reject_for_missing_photos(s: Session, request_id: int,
                              deadline: datetime | None = None) -> bool:
    """The seller did not answer a photo request in time: reject and remove the listing.
    A stale timer (photos arrived, a newer request, not yet due) does nothing."""
    request = s.get(R, request_id)
    if request is None or request.state != RequestState.AWAITING_PHOTOS:
        return False
    if deadline is not None and request.photos_due_at != deadline:
        return False
    if request.photos_due_at is None or request.photos_due_at > clock.now():
        return False
    if not machine.try_transition(s, request, RequestState.CLOSED_REJECTED, actor=SYSTEM,
                                  reason=NO_PHOTOS_REASON,
                                  conditions=(R.photos_due_at <= clock.now(),)):
        return False
    listing = s.get(Listing, request.listing_id)
    if listing.status not in (ListingStatus.REMOVED, ListingStatus.SOLD):
        listings.remove_by_staff(s, listing, actor=None, reason=NO_PHOTOS_REASON)
    return True


def overdue_photo_request_ids(s: Session, limit: int = 500) -> list[int]:
    return list(s.scalars(select(R.id).where(
        R.state == RequestState.AWAITING_PHOTOS, R.photos_due_at <= clock.now())
        .order_by(R.photos_due_at).limit(limit)))
