"""Posh Authenticate in the console: the reviewer's queue page and the workspace for a
held request.

Every state change goes through authentication.claims or authentication.decisions (which
check the lease and the role and write the audit rows); this module only reads what a
reviewer needs to see, parses forms and turns domain errors into form messages.  A
refused POST rolls the unit of work back, so nothing it touched is kept.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from statistics import median

from flask import flash, redirect, request, url_for
from flask_admin import expose
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from authentication import claims, decisions, machine
from authentication.models import (
    CHECK_RESULTS,
    CLOSED_STATES,
    AuthenticationRequest,
    ReviewDecision,
    Verdict,
    checklist_for,
)
from authentication.models import RequestState as S
from console.admin.base import StaffView
from console.security import current_staff, settings
from foundation import clock, db
from foundation.errors import Conflict, DomainError, ValidationFailed
from foundation.staff.models import StaffUser
from foundation.staff.permissions import Permission
from marketplace_core.listings.models import Listing, ListingStatus
from marketplace_core.members.models import Member

R = AuthenticationRequest
QUEUE_LABELS = {"review": "Review", "second_review": "Second review", "lead": "Lead"}
REFERENCE_LIMIT = 6
MEDIAN_SAMPLE = 500
HISTORY_LIMIT = 20
MAX_NOTE = 2000
MAX_ANGLES = 12
# Reason codes offered in the decision form, per verdict.
REASON_CODES: dict[str, tuple[tuple[str, str], ...]] = {
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
REASON_CODE_VALUES = {code for options in REASON_CODES.values() for code, _ in options}


@dataclass
class DecisionForm:
    """What the reviewer typed, kept to re-fill the form after a refusal."""
    verdict: str = ""
    reason: str = ""
    note: str = ""
    angles: str = ""
    checklist: dict[str, str] | None = None


class AuthenticationQueueView(StaffView):
    required_permission = Permission.AUTHENTICATION_REVIEW

    # --- pages ----------------------------------------------------------------------

    @expose("/")
    def index(self):
        s = db.session()
        staff = current_staff()
        queues = usable_queues(staff)
        items = {name: claims.visible_items(s, staff, name) for name in queues}
        held = claims.held_by(s, staff)
        shown = [r for rows in items.values() for r in rows] + held
        return self.render("console/authentication_queue.html", counts=state_counts(s),
                           queues=queues, queue_labels=QUEUE_LABELS, items=items, held=held,
                           listings=listings_by_id(s, [r.listing_id for r in shown]))

    @expose("/<int:request_id>")
    def workspace(self, request_id: int):
        s = db.session()
        return self._workspace(s, claims.get_request(s, request_id), DecisionForm())

    # --- actions --------------------------------------------------------------------

    @expose("/claim", methods=["POST"])
    def claim(self):
        queue = request.form.get("queue", "review")
        s = db.session()
        try:
            claimed = claims.claim_next(s, current_staff(), queue)
        except Conflict as exc:  # already holding as many as allowed: a message, no change
            s.rollback()
            flash(exc.message, "warning")
            return redirect(url_for(".index"))
        if claimed is None:
            flash(f"Nothing in the {QUEUE_LABELS.get(queue, queue)} queue for you now.",
                  "info")
            return redirect(url_for(".index"))
        return redirect(url_for(".workspace", request_id=claimed.id))

    @expose("/<int:request_id>/extend", methods=["POST"])
    def extend(self, request_id: int):
        return self._lease_action(request_id, claims.extend, "Your claim was extended.",
                                  back_to_workspace=True)

    @expose("/<int:request_id>/release", methods=["POST"])
    def release(self, request_id: int):
        return self._lease_action(request_id, claims.release, "Released back to its queue.")

    @expose("/<int:request_id>/skip", methods=["POST"])
    def skip(self, request_id: int):
        return self._lease_action(request_id, partial(claims.release, skip=True),
                                  "Skipped: it will not be offered to you for a while.")

    @expose("/<int:request_id>/decide", methods=["POST"])
    def decide(self, request_id: int):
        s = db.session()
        staff = current_staff()
        held = claims.get_request(s, request_id)
        form = submitted_decision(held)
        try:
            decision = parse_decision(form, held)
            decisions.decide(s, staff, held, request.form.get("lease_token", ""), decision)
        except DomainError as exc:
            s.rollback()
            return self._workspace(s, claims.get_request(s, request_id), form,
                                   error=exc, status=exc.status)
        flash(f"Request #{held.id}: {form.verdict.replace('_', ' ')} recorded; it is now "
              f"{held.state.replace('_', ' ')}.", "success")
        return redirect(url_for(".index"))

    # --- helpers used by the templates ------------------------------------------------

    def sla_left(self, r: R) -> str:
        return readable_duration(machine.seconds_left(r, clock.now()))

    def senior_only(self, r: R) -> bool:
        return (r.senior_only or r.state == S.ESCALATED
                or r.price_paise > settings().SENIOR_REVIEW_PRICE_PAISE)

    def lease_left(self, r: R) -> str:
        if r.lease_expires_at is None:
            return ""
        return readable_duration(int((r.lease_expires_at - clock.now()).total_seconds()))

    # --- internals --------------------------------------------------------------------

    def _lease_action(self, request_id: int, action, done: str, *,
                      back_to_workspace: bool = False):
        s = db.session()
        try:
            action(s, current_staff(), claims.get_request(s, request_id),
                   request.form.get("lease_token", ""))
        except DomainError as exc:
            s.rollback()
            flash(exc.message, "danger")
            return redirect(url_for(".index"))
        flash(done, "success")
        if back_to_workspace:
            return redirect(url_for(".workspace", request_id=request_id))
        return redirect(url_for(".index"))

    def _workspace(self, s: Session, r: R, form: DecisionForm,
                   error: DomainError | None = None, status: int = 200):
        staff = current_staff()
        listing = s.get(Listing, r.listing_id)
        return self.render(
            "console/authentication_workspace.html", r=r, listing=listing, form=form,
            error=error, field_errors=(error.fields if error else {}),
            holds=holds_lease(r, staff), stage_verdicts=stage_verdicts(r),
            points=checklist_for(r.category), results=CHECK_RESULTS,
            reason_codes=REASON_CODES, references=reference_listings(s, listing),
            seller=seller_history(s, r), price=price_comparison(s, listing),
            decisions=earlier_decisions(s, r)), status


# --- reading what the pages show ----------------------------------------------------------

def usable_queues(staff: StaffUser) -> list[str]:
    return [name for name, permission in claims.QUEUE_PERMISSION.items()
            if staff.can(permission)]


def state_counts(s: Session) -> dict[str, int]:
    counts = dict(s.execute(select(R.state, func.count()).where(R.state.not_in(CLOSED_STATES))
                            .group_by(R.state)).all())
    return {state.value: counts.get(state.value, 0) for state in S
            if state not in CLOSED_STATES}


def listings_by_id(s: Session, ids: list[int]) -> dict[int, Listing]:
    if not ids:
        return {}
    return {listing.id: listing for listing in s.scalars(
        select(Listing).where(Listing.id.in_(set(ids))).options(selectinload(Listing.photos)))}


def holds_lease(r: R, staff: StaffUser) -> bool:
    return (r.state == S.CLAIMED and r.claimed_by == staff.id
            and r.lease_expires_at is not None and r.lease_expires_at > clock.now())


def stage_verdicts(r: R) -> tuple[str, ...]:
    if r.claimed_from is None:
        return ()
    stage = decisions.STAGE_OF_QUEUE_STATE.get(S(r.claimed_from))
    return tuple(decisions.VERDICTS_BY_STAGE.get(stage, ()))


def reference_listings(s: Session, listing: Listing) -> list[Listing]:
    """Authenticated live listings of the same brand and category, newest first."""
    return list(s.scalars(select(Listing).where(
        Listing.status == ListingStatus.LIVE, Listing.authenticated_at.is_not(None),
        Listing.brand_key == listing.brand_key, Listing.category == listing.category,
        Listing.id != listing.id).order_by(Listing.authenticated_at.desc(), Listing.id.desc())
        .options(selectinload(Listing.photos)).limit(REFERENCE_LIMIT)))


def price_comparison(s: Session, listing: Listing) -> dict:
    """The listing's price against the median of live listings of its brand and category."""
    prices = list(s.scalars(select(Listing.price_paise).where(
        Listing.status == ListingStatus.LIVE, Listing.brand_key == listing.brand_key,
        Listing.category == listing.category, Listing.id != listing.id)
        .order_by(Listing.id.desc()).limit(MEDIAN_SAMPLE)))
    if not prices:
        return {"median": None, "sample": 0, "ratio": None}
    middle = int(median(prices))
    return {"median": middle, "sample": len(prices),
            "ratio": round(listing.price_paise / middle, 2) if middle else None}


def seller_history(s: Session, r: R) -> dict:
    earlier = list(s.scalars(select(R).where(R.seller_id == r.seller_id, R.id != r.id)
                             .order_by(R.id.desc()).limit(HISTORY_LIMIT)))
    return {"member": s.get(Member, r.seller_id), "requests": earlier,
            "listings": listings_by_id(s, [e.listing_id for e in earlier]),
            "strikes": decisions.strike_count(s, r.seller_id)}


def earlier_decisions(s: Session, r: R) -> list[ReviewDecision]:
    return list(s.scalars(select(ReviewDecision).where(ReviewDecision.request_id == r.id)
                          .order_by(ReviewDecision.id)))


def readable_duration(seconds: int | None) -> str:
    if seconds is None:
        return "—"
    overdue = seconds < 0
    minutes = abs(seconds) // 60
    hours, minutes = divmod(minutes, 60)
    text = f"{hours}h {minutes:02d}m" if hours else f"{minutes}m"
    return f"overdue by {text}" if overdue else text


# --- parsing the decision form --------------------------------------------------------------

def submitted_decision(r: R) -> DecisionForm:
    form = request.form
    return DecisionForm(
        verdict=form.get("verdict", ""), reason=form.get("reason", ""),
        note=form.get("note", ""), angles=form.get("angles", ""),
        checklist={point: form[f"check_{point}"] for point in checklist_for(r.category)
                   if form.get(f"check_{point}")})


def parse_decision(form: DecisionForm, r: R) -> decisions.Decision:
    problems: dict[str, str] = {}
    if form.verdict not in {v.value for v in Verdict}:
        problems["verdict"] = "choose a verdict"
    if form.reason not in REASON_CODE_VALUES:
        problems["reason"] = "choose a reason"
    if len(form.note) > MAX_NOTE:
        problems["note"] = f"at most {MAX_NOTE} characters"
    angles = tuple(a.strip()[:40] for a in form.angles.split(",") if a.strip())
    if len(angles) > MAX_ANGLES:
        problems["angles"] = f"at most {MAX_ANGLES} angles"
    if problems:
        raise ValidationFailed("The decision is incomplete.", fields=problems)
    return decisions.Decision(verdict=Verdict(form.verdict), reason=form.reason,
                              note=form.note.strip(), checklist=dict(form.checklist or {}),
                              angles=angles)
