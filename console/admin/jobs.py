"""Queue health: depth per queue (drawn), workers, and failed jobs with requeue."""
from __future__ import annotations

from flask import abort, flash, redirect, url_for
from flask_admin import expose

from console.admin.base import StaffView
from console.charts import bar_chart
from console.forms import ConfirmForm
from console.security import current_staff
from foundation import db, jobs
from foundation.audit.services import record
from foundation.staff.permissions import Permission

SERIES = ("queued", "started", "scheduled", "failed")


class JobsView(StaffView):
    required_permission = Permission.JOBS_VIEW

    @expose("/")
    def index(self):
        try:
            health = jobs.health()
        except Exception as exc:  # noqa: BLE001 - show Redis trouble instead of a 500
            return self.render("console/jobs.html", health=None, error=str(exc))
        chart = bar_chart([(q["name"], {k: q[k] for k in SERIES}) for q in health["queues"]],
                          SERIES, title="Jobs per queue")
        return self.render("console/jobs.html", health=health, chart=chart, error=None,
                           can_manage=current_staff().can(Permission.JOBS_MANAGE),
                           form=ConfirmForm())

    @expose("/failed/<job_id>/requeue", methods=["POST"])
    def requeue(self, job_id: str):
        if not current_staff().can(Permission.JOBS_MANAGE):
            abort(403)
        if not ConfirmForm().validate_on_submit():
            flash("The form expired; nothing changed.", "danger")
            return redirect(url_for(".index"))
        try:
            jobs.requeue_failed(job_id)
        except LookupError:
            flash("That job is no longer in the failed list.", "warning")
            return redirect(url_for(".index"))
        record(db.session(), current_staff(), "jobs.requeue", "rq_job", job_id)
        flash("Job requeued.", "success")
        return redirect(url_for(".index"))
