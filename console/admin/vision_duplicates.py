"""Duplicates in the console: groups of listings whose photos are copies of each other,
shown together with the photos side by side, and the analysts' confirm / dismiss.

Reading needs VISION_VIEW; deciding is moderation, which vision.duplicates.review_flag
checks (and audits). A refused POST rolls back and re-renders with the reason.

A whole group can be confirmed or dismissed at once (keys c / d on the current group, j / k
to move); the page then offers an "Undo" (key u) for vision.group_review.UNDO_SECONDS,
remembered in the analyst's session.
"""
from __future__ import annotations

from datetime import timedelta

from flask import flash, redirect, request, session, url_for
from flask_admin import expose

from console.admin.base import StaffView
from console.security import current_staff
from foundation import clock, db
from foundation.errors import DomainError
from foundation.staff.permissions import Permission
from vision import duplicates, group_review
from vision.models import FlagKind, FlagStatus

UNDO_KEY = "duplicates_undo"
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

    @expose("/group/<int:group_id>/<decision>", methods=["POST"])
    def decide_group(self, group_id: int, decision: str):
        s = db.session()
        try:
            flags = group_review.review_group(s, current_staff(), group_id, decision)
        except DomainError as exc:
            s.rollback()
            return self._page(error=exc, status=exc.status)
        until = clock.now() + timedelta(seconds=group_review.UNDO_SECONDS)
        session[UNDO_KEY] = {"flag_ids": [f.id for f in flags], "decision": decision,
                             "group_id": group_id, "until": until.isoformat()}
        flash(f"Group of listing #{group_id}: {len(flags)} flag(s) {flags[0].status}.",
              "success")
        return redirect(self._back())

    @expose("/undo", methods=["POST"])
    def undo(self):
        s = db.session()
        try:
            flags = group_review.undo_group_review(
                s, current_staff(), request.form.get("flag_ids", ""),
                request.form.get("decision", ""))
        except DomainError as exc:
            s.rollback()
            session.pop(UNDO_KEY, None)
            return self._page(error=exc, status=exc.status)
        session.pop(UNDO_KEY, None)
        flash(f"Undone: {len(flags)} flag(s) open again.", "success")
        return redirect(self._back())

    def _back(self) -> str:
        return url_for(".index", kind=request.args.get("kind") or None,
                       status=request.args.get("status") or None)

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
                           can_decide=current_staff().can(Permission.MARKETPLACE_MODERATE),
                           undo=pending_undo()), status


def pending_undo() -> dict | None:
    """The group decision this analyst may still undo, if its window is open."""
    undo = session.get(UNDO_KEY)
    if not undo or clock.now().isoformat() >= undo.get("until", ""):
        return None
    return undo

