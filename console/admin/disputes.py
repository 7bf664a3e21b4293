"""Not-as-described cases in the console: the agents' and leads' queue page and the case
workspace (the listing as sold beside both parties' evidence, one timeline, both parties'
history, the decision form, the approval form for leads, staff notes).

Every state change goes through disputes.claims or disputes.decisions (which check the
lease, the role and the idempotency key and write the audit rows); this module reads
through disputes.workspace (and vision.case_photos: the buyer's photos against the
listing's as sold), parses forms (rupees into exact paise) and turns domain
errors into messages on the page.  A refused POST rolls the unit of work back, so nothing
it touched is kept.
"""
from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from decimal import Decimal

from flask import flash, redirect, request, send_file, url_for
from flask_admin import expose
from sqlalchemy.orm import Session

from console.admin.authentication import readable_duration
from console.admin.base import StaffView
from console.admin.queues import LeasedQueueActions
from console.security import current_staff
from disputes import claims, decisions, workspace
from disputes.models import DECISION_REASONS, CaseState, DisputeCase, Outcome, Party
from foundation import clock, db
from foundation.config import current as settings
from foundation.errors import DomainError, ValidationFailed
from foundation.staff.permissions import Permission
from vision import case_photos

QUEUE_LABELS = {"review": "Review", "approval": "Approval"}
OUTCOME_LABELS = {
    Outcome.REFUND_WITH_RETURN: "Refund with return (prepaid label to the buyer)",
    Outcome.REFUND_WITHOUT_RETURN: "Refund without return",
    Outcome.SPLIT: "Split (part refund, the rest to the seller)",
    Outcome.RELEASE_TO_SELLER: "Release to the seller",
    Outcome.REQUEST_INFO: "Request information",
    Outcome.SEND_TO_AUTHENTICATION: "Send to authentication",
}
# Rupees as typed: digits, and at most two decimals (paise); nothing else.
RUPEES = re.compile(r"\d{1,12}(\.\d{1,2})?")
KEY_BYTES = 18
# Agents decide cases claimed from the review queue (leads approve from "approval"), so
# "decide and next" claims from there.
DECIDED_FROM_QUEUE = "review"
APPROVAL_QUEUE = "approval"  # an approval decided opens the next one, already claimed
PHOTO_MAX_AGE = 600


@dataclass
class DecisionForm:
    """What the agent typed, kept to re-fill the form after a refusal."""
    outcome: str = ""
    reason: str = ""
    refund_rupees: str = ""
    note: str = ""
    info_from: str = ""
    idempotency_key: str = ""
    lease_token: str = ""

    @classmethod
    def submitted(cls) -> DecisionForm:
        form = request.form
        return cls(**{name: form.get(name, "") for name in cls.__dataclass_fields__})

    def as_request(self) -> dict:
        """The decision as disputes.decisions.parse_decision reads it."""
        body = {"outcome": self.outcome, "reason": self.reason, "note": self.note,
                "idempotency_key": self.idempotency_key,
                "refund_paise": rupees_to_paise(self.refund_rupees)}
        if self.info_from:
            body["info_from"] = self.info_from
        return body


def rupees_to_paise(raw: str) -> int | None:
    """"1234.50" -> 123450, exactly (Decimal, never a float); blank -> None."""
    text = (raw or "").strip()
    if not text:
        return None
    if not RUPEES.fullmatch(text):
        raise ValidationFailed("Give the refund in rupees with at most two decimals, for "
                               "example 1234.50.", code="bad_amount",
                               fields={"refund_rupees": "rupees, at most 2 decimals"})
    return int(Decimal(text) * 100)


def new_idempotency_key() -> str:
    """One per rendered form: sending the same form twice decides once."""
    return "console-" + secrets.token_urlsafe(KEY_BYTES)


class DisputesQueueView(LeasedQueueActions, StaffView):
    required_permission = Permission.DISPUTES_HANDLE
    queue_labels = QUEUE_LABELS
    queue_permissions = claims.QUEUE_PERMISSION

    # --- pages ----------------------------------------------------------------------

    @expose("/")
    def index(self):
        s = db.session()
        staff = current_staff()
        return self.render("console/disputes_queue.html",
                           overview=workspace.queue_overview(s, staff),
                           queue_labels=QUEUE_LABELS,
                           can_approve=staff.can(Permission.DISPUTES_APPROVE_REFUND))

    @expose("/<int:case_id>")
    def workspace(self, case_id: int):
        return self._workspace(db.session(), case_id, DecisionForm())

    @expose("/<int:case_id>/photos/<int:photo_id>")
    def case_photo(self, case_id: int, photo_id: int):
        photo = workspace.case_photo(db.session(), case_id, photo_id)
        return send_file(workspace.stored_photo(photo.media_key), mimetype="image/jpeg",
                         max_age=PHOTO_MAX_AGE)

    @expose("/<int:case_id>/sold/<int:item>/<int:position>")
    def sold_photo(self, case_id: int, item: int, position: int):
        case = decisions.get_case(db.session(), case_id)
        key = workspace.snapshot_photo_key(case, item, position)
        return send_file(workspace.stored_photo(key), mimetype="image/jpeg", max_age=PHOTO_MAX_AGE)

    # --- actions --------------------------------------------------------------------

    def claim_next(self, s, staff, queue: str):
        return claims.claim_next(s, staff, queue)

    def load_row(self, s, row_id: int):
        return decisions.get_case(s, row_id)

    def workspace_url(self, row_id: int) -> str:
        return url_for(".workspace", case_id=row_id)

    @expose("/<int:case_id>/extend", methods=["POST"])
    def extend(self, case_id: int):
        return self._lease_action(case_id, claims.extend, "Your claim was extended.",
                                  back_to_workspace=True)

    @expose("/<int:case_id>/release", methods=["POST"])
    def release(self, case_id: int):
        return self._lease_action(case_id, claims.release, "Released back to its queue.")

    @expose("/<int:case_id>/decide", methods=["POST"])
    def decide(self, case_id: int):
        s = db.session()
        decisions.get_case(s, case_id)  # an unknown case is a 404 page, not a form message
        form = DecisionForm.submitted()
        try:
            result = decisions.decide(s, current_staff(), case_id,
                                      decisions.parse_decision(form.as_request()),
                                      form.lease_token)
        except DomainError as exc:
            s.rollback()
            return self._workspace(s, case_id, form, error=exc, status=exc.status)
        if result.replayed:
            # Sent twice: the first send already moved on; claiming again would hold two.
            flash("This decision was already recorded (the form was sent twice); nothing "
                  "changed.", "info")
            return redirect(url_for(".workspace", case_id=case_id))
        decided = (f"Case #{case_id}: {words(result.decision.outcome)} recorded; the case is "
                   f"now {words(result.case.state)}.")
        then = request.form.get("then", "")
        if then == "next":
            return self.open_next(DECIDED_FROM_QUEUE, decided)
        flash(decided, "success")
        if then == "queue":
            return redirect(url_for(".index"))
        return redirect(url_for(".workspace", case_id=case_id))

    @expose("/<int:case_id>/approval", methods=["POST"])
    def approval(self, case_id: int):
        s = db.session()
        decisions.get_case(s, case_id)
        choice = {"approve": True, "refuse": False}.get(request.form.get("approve", ""))
        try:
            result = decisions.review_approval(
                s, current_staff(), case_id, approve=choice,
                note=request.form.get("note", ""),
                lease_token=request.form.get("lease_token", ""))
        except DomainError as exc:
            s.rollback()
            return self._workspace(s, case_id, DecisionForm(), error=exc, status=exc.status,
                                   approval_note=request.form.get("note", ""))
        verb = "approved" if choice else "refused; the case went back to the agents"
        return self.open_next(APPROVAL_QUEUE, f"Case #{case_id}: the refund was {verb}. The "
                                              f"case is now {words(result.case.state)}.")

    @expose("/<int:case_id>/notes", methods=["POST"])
    def note(self, case_id: int):
        s = db.session()
        decisions.get_case(s, case_id)
        try:
            decisions.add_staff_note(s, current_staff(), case_id, request.form.get("body"))
        except DomainError as exc:
            s.rollback()
            flash(f"The note was not saved: {exc.message}", "danger")
        else:
            flash("Note added.", "success")
        return redirect(url_for(".workspace", case_id=case_id))

    # --- helpers used by the templates ------------------------------------------------

    def time_left(self, seconds: int | None) -> str:
        return readable_duration(seconds)

    def lease_left(self, case: DisputeCase) -> str:
        if case.lease_expires_at is None:
            return ""
        return readable_duration(int((case.lease_expires_at - clock.now()).total_seconds()))

    # --- internals --------------------------------------------------------------------

    def _workspace(self, s: Session, case_id: int, form: DecisionForm,
                   error: DomainError | None = None, status: int = 200,
                   approval_note: str = ""):
        staff = current_staff()
        w = workspace.workspace(s, case_id, staff)
        deciding = w.holds_lease and w.case.claimed_from == CaseState.UNDER_REVIEW
        approving = (w.holds_lease and w.case.claimed_from == CaseState.AWAITING_APPROVAL
                     and staff.can(Permission.DISPUTES_APPROVE_REFUND))
        return self.render(
            "console/disputes_workspace.html", w=w, c=w.case, form=form, error=error,
            field_errors=(error.fields if error else {}), deciding=deciding,
            approving=approving, approval_note=approval_note,
            idempotency_key=new_idempotency_key(), outcomes=OUTCOME_LABELS,
            reasons=DECISION_REASONS, parties=tuple(Party),
            comparison=case_photos.comparisons_of(s, case_id),
            comparing_on=settings().VISION_SIGN_ON_UPLOAD), status


def words(code: str | None) -> str:
    return (code or "").replace("_", " ")
