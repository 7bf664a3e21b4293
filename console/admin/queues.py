"""What every leased review queue in the console shares: "claim next" (from one queue, or
from the first of the reviewer's queues that has work), "decide and next", and the lease
actions (extend, release), turned into flash messages and redirects.

A queue view mixes this in and says which queues it has (and the permission each needs),
how to claim, how to load one of its rows and where that row's workspace is; the services
(over foundation.leases) check the role and the lease and write the audit rows.  A refusal
rolls the unit of work back.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import flash, redirect, request, url_for
from flask_admin import expose
from sqlalchemy.orm import Session

from console.security import current_staff
from foundation import db
from foundation.errors import Conflict, DomainError
from foundation.staff.models import StaffUser
from foundation.staff.permissions import Permission

LeaseAction = Callable[[Session, StaffUser, Any, str], Any]


class LeasedQueueActions:
    queue_labels: dict[str, str] = {}
    queue_permissions: dict[str, Permission] = {}  # in the order "claim first" tries them

    def claim_next(self, s: Session, staff: StaffUser, queue: str) -> Any | None:
        raise NotImplementedError

    def load_row(self, s: Session, row_id: int) -> Any:
        raise NotImplementedError

    def workspace_url(self, row_id: int) -> str:
        raise NotImplementedError

    @expose("/claim", methods=["POST"])
    def claim(self):
        queue = request.form.get("queue", "review")
        s = db.session()
        try:
            claimed = self.claim_next(s, current_staff(), queue)
        except Conflict as exc:  # already holding as many as allowed: a message, no change
            s.rollback()
            flash(exc.message, "warning")
            return redirect(url_for(".index"))
        if claimed is None:
            flash(f"Nothing in the {self.queue_labels.get(queue, queue)} queue for you now.",
                  "info")
            return redirect(url_for(".index"))
        return redirect(self.workspace_url(claimed.id))

    @expose("/claim-first", methods=["POST"])
    def claim_first(self):
        """The next item of the first queue this reviewer may claim that has one, opened."""
        s = db.session()
        staff = current_staff()
        for queue in self.claimable_queues(staff):
            try:
                claimed = self.claim_next(s, staff, queue)
            except Conflict as exc:
                s.rollback()
                flash(exc.message, "warning")
                return redirect(url_for(".index"))
            if claimed is not None:
                return redirect(self.workspace_url(claimed.id))
        flash("Nothing waiting for you in any of your queues.", "info")
        return redirect(url_for(".index"))

    def claimable_queues(self, staff: StaffUser) -> list[str]:
        return [queue for queue, permission in self.queue_permissions.items()
                if staff.can(permission)]

    def open_next(self, queue: str, decided: str):
        """After a decision: commit it, then claim the next item of the same queue for
        the reviewer and open it; with none (or no room for another claim), the queue
        page.  The decision stands whatever happens to the claim."""
        s = db.session()
        s.commit()
        flash(decided, "success")
        try:
            claimed = self.claim_next(s, current_staff(), queue)
        except DomainError as exc:
            s.rollback()
            flash(f"Not claiming another: {exc.message}", "warning")
            return redirect(url_for(".index"))
        if claimed is None:
            flash(f"The {self.queue_labels.get(queue, queue)} queue has nothing more for you "
                  f"now.", "info")
            return redirect(url_for(".index"))
        return redirect(self.workspace_url(claimed.id))

    def _lease_action(self, row_id: int, action: LeaseAction, done: str, *,
                      back_to_workspace: bool = False):
        s = db.session()
        try:
            action(s, current_staff(), self.load_row(s, row_id),
                   request.form.get("lease_token", ""))
        except DomainError as exc:
            s.rollback()
            flash(exc.message, "danger")
            return redirect(url_for(".index"))
        flash(done, "success")
        return redirect(self.workspace_url(row_id) if back_to_workspace else url_for(".index"))
