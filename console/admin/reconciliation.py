"""Money > Reconciliation: what the ledger says went out against what the payment
provider and the bank received, the discrepancies with their age, the effects by state
(drawn), and dead effects with an audited retry."""
from __future__ import annotations

from flask import abort, flash, redirect, url_for
from flask_admin import expose

from console.admin.base import StaffView
from console.charts import bar_chart
from console.forms import ConfirmForm
from console.security import current_staff
from foundation import db
from foundation.errors import DomainError
from foundation.staff.permissions import Permission
from marketplace_core.outbox import reconcile, services
from marketplace_core.outbox.models import EffectState

STATES = tuple(str(state) for state in EffectState)


class ReconciliationView(StaffView):
    required_permission = Permission.RECONCILIATION_VIEW

    @expose("/")
    def index(self):
        s = db.session()
        result = reconcile.reconcile(s)
        chart = bar_chart([(kind, counts) for kind, counts in result["effects"].items()],
                          STATES, title="Effects by state")
        return self.render("console/reconciliation.html", result=result, chart=chart,
                           latest=reconcile.latest_run(s), form=ConfirmForm(),
                           can_retry=current_staff().can(Permission.RECONCILIATION_RETRY))

    @expose("/effects/<int:effect_id>/retry", methods=["POST"])
    def retry(self, effect_id: int):
        if not current_staff().can(Permission.RECONCILIATION_RETRY):
            abort(403)
        if not ConfirmForm().validate_on_submit():
            flash("The form expired; nothing changed.", "danger")
            return redirect(url_for(".index"))
        try:
            effect = services.retry_dead(db.session(), effect_id, current_staff())
        except DomainError as exc:
            flash(str(exc), "warning")
            return redirect(url_for(".index"))
        flash(f"{effect.reference} will be sent again.", "success")
        return redirect(url_for(".index"))
