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

from flask import flash, redirect, request, url_for
from flask_admin import expose

from authentication import claims, decisions, machine
from authentication import workspace as reading
from authentication.models import (
    CHECK_RESULTS,
    AuthenticationRequest,
    RequestState,
    Verdict,
    checklist_for,
)
from console.admin.base import StaffView
from console.admin.queues import LeasedQueueActions
from console.security import current_staff, settings
from foundation import clock, db
from foundation.errors import DomainError, ValidationFailed
from foundation.staff.permissions import Permission

R = AuthenticationRequest
QUEUE_LABELS = {"review": "Review", "second_review": "Second review", "lead": "Lead"}
MAX_NOTE = 2000
MAX_ANGLES = 12


@dataclass
class DecisionForm:
    """What the reviewer typed, kept to re-fill the form after a refusal."""
    verdict: str = ""
    reason: str = ""
    note: str = ""
    angles: str = ""
    checklist: dict[str, str] | None = None


class AuthenticationQueueView(LeasedQueueActions, StaffView):
    required_permission = Permission.AUTHENTICATION_REVIEW
    queue_labels = QUEUE_LABELS
    queue_permissions = claims.QUEUE_PERMISSION

    # --- pages ----------------------------------------------------------------------

    @expose("/")
    def index(self):
        overview = reading.queue_overview(db.session(), current_staff())
        return self.render("console/authentication_queue.html", counts=overview.counts,
                           queues=overview.queues, queue_labels=QUEUE_LABELS,
                           items=overview.items, held=overview.held,
                           listings=overview.listings)

    @expose("/<int:request_id>")
    def workspace(self, request_id: int):
        return self._workspace(request_id, DecisionForm())

    # --- actions --------------------------------------------------------------------

    def claim_next(self, s, staff, queue: str):
        return claims.claim_next(s, staff, queue)

    def load_row(self, s, row_id: int):
        return claims.get_request(s, row_id)

    def workspace_url(self, row_id: int) -> str:
        return url_for(".workspace", request_id=row_id)

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
        queue = queue_claimed_from(held)
        try:
            decision = parse_decision(form, held)
            decisions.decide(s, staff, held, request.form.get("lease_token", ""), decision)
        except DomainError as exc:
            s.rollback()
            return self._workspace(request_id, form, error=exc, status=exc.status)
        decided = (f"Request #{held.id}: {form.verdict.replace('_', ' ')} recorded; it is now "
                   f"{held.state.replace('_', ' ')}.")
        if request.form.get("then") == "queue":
            flash(decided, "success")
            return redirect(url_for(".index"))
        return self.open_next(queue, decided)

    # --- helpers used by the templates ------------------------------------------------

    def sla_left(self, r: R) -> str:
        return readable_duration(machine.seconds_left(r, clock.now()))

    def senior_only(self, r: R) -> bool:
        return (r.senior_only or r.state == RequestState.ESCALATED
                or r.price_paise > settings().SENIOR_REVIEW_PRICE_PAISE)

    def lease_left(self, r: R) -> str:
        if r.lease_expires_at is None:
            return ""
        return readable_duration(int((r.lease_expires_at - clock.now()).total_seconds()))

    # --- internals --------------------------------------------------------------------

    def _workspace(self, request_id: int, form: DecisionForm,
                   error: DomainError | None = None, status: int = 200):
        seen = reading.workspace(db.session(), request_id, current_staff())
        return self.render(
            "console/authentication_workspace.html", r=seen.request, listing=seen.listing,
            form=form, error=error, field_errors=(error.fields if error else {}),
            holds=seen.holds_lease, stage_verdicts=seen.stage_verdicts,
            points=seen.checklist, results=CHECK_RESULTS,
            reason_codes=decisions.REASON_CODES, references=seen.references,
            seller=seen.seller, price=seen.price, decisions=seen.decisions,
            duplicate_flags=seen.signals.get("duplicate_flags", [])), status


# --- formatting -----------------------------------------------------------------------------

def readable_duration(seconds: int | None) -> str:
    if seconds is None:
        return "—"
    overdue = seconds < 0
    minutes = abs(seconds) // 60
    hours, minutes = divmod(minutes, 60)
    text = f"{hours}h {minutes:02d}m" if hours else f"{minutes}m"
    return f"overdue by {text}" if overdue else text


def queue_claimed_from(r: R) -> str:
    """The queue the reviewer took `r` from: "decide and next" claims from the same one."""
    if r.claimed_from is None:
        return "review"
    return claims.QUEUE_OF_STATE.get(RequestState(r.claimed_from), "review")


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
    if form.reason not in decisions.ALL_REASON_CODES:
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
