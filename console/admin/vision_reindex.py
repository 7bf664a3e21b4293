"""Re-indexing from the console: the saved duplicate index's state, the runs with their
progress, and a button that starts one (vision.reindex.request_run checks the permission
and audits). Seeing runs needs
VISION_VIEW; starting one needs VISION_MANAGE_MODELS, the same as training a model."""
from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask_admin import expose

from console.admin.base import StaffView
from console.security import current_staff
from foundation import db
from foundation.errors import DomainError
from foundation.staff.permissions import Permission
from vision import index_store, reindex
from vision.models import RunState

REFRESH_SECONDS = 5


class ReindexView(StaffView):
    required_permission = Permission.VISION_VIEW

    @expose("/")
    def index(self):
        return self._page()

    @expose("/start", methods=["POST"])
    def start(self):
        s = db.session()
        try:
            run = reindex.request_run(s, current_staff(),
                                      recompute_all=request.form.get("recompute_all") == "1")
        except DomainError as exc:
            s.rollback()
            return self._page(error=exc, status=exc.status)
        flash(f"Re-index run {run.id} queued.", "success")
        return redirect(url_for(".index"))

    def _page(self, *, error: DomainError | None = None, status: int = 200):
        runs = reindex.recent_runs(db.session())
        busy = any(run.state in (RunState.PENDING, RunState.RUNNING) for run in runs)
        return self.render("console/vision_reindex.html", runs=runs, error=error,
                           saved=index_store.saved_status(),
                           refresh=REFRESH_SECONDS if busy else None,
                           can_start=current_staff().can(Permission.VISION_MANAGE_MODELS),
                           ), status
