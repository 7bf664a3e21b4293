"""Duplicates in the console: groups of listings whose photos are copies of each other,
shown together with the photos side by side, and the analysts' confirm / dismiss.

Reading needs VISION_VIEW; deciding is moderation, which vision.duplicates.review_flag
checks (and audits). A refused POST rolls back and re-renders with the reason.
"""
from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask_admin import expose

from console.admin.base import StaffView
from console.security import current_staff
from foundation import db
from foundation.errors import DomainError
from foundation.staff.permissions import Permission
from vision import duplicates
from vision.models import FlagKind, FlagStatus

KIND_LABELS = {
    FlagKind.STOLEN_PHOTO: "Stolen photo (another seller's)",
    FlagKind.RETURNING_REMOVED: "Removed listing coming back",
    FlagKind.SELLER_SPAM: "Same seller, near-duplicate listings",
}


class DuplicatesView(StaffView):
    required_permission = Permission.VISION_VIEW

    @expose("/")
    def index(self):
        return self._page()

    @expose("/<int:flag_id>/<decision>", methods=["POST"])
    def decide(self, flag_id: int, decision: str):
        s = db.session()
        try:
            flag = duplicates.review_flag(s, current_staff(), flag_id, decision,
                                          request.form.get("note", ""))
        except DomainError as exc:
            s.rollback()
            return self._page(error=exc, status=exc.status)
        flash(f"Flag {flag.id} {flag.status}.", "success")
        return redirect(url_for(".index", kind=request.args.get("kind") or None,
                                status=request.args.get("status") or None))

    def _page(self, *, error: DomainError | None = None, status: int = 200):
        kind = request.args.get("kind") or None
        shown_status = request.args.get("status") or FlagStatus.OPEN
        try:
            groups = duplicates.open_groups(db.session(), kind=kind, status=shown_status)
        except DomainError as exc:
            groups, error, status = [], exc, exc.status
        return self.render("console/vision_duplicates.html", groups=groups, kind=kind,
                           shown_status=shown_status, kinds=KIND_LABELS,
                           statuses=list(FlagStatus), error=error,
                           can_decide=current_staff().can(Permission.MARKETPLACE_MODERATE)
                           ), status
