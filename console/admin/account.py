"""Your own account: two-factor set-up and your open sessions."""
from __future__ import annotations

from flask import flash, redirect, session, url_for
from flask_admin import expose
from sqlalchemy import select

from console.admin.base import StaffView
from console.forms import ConfirmForm, TotpForm
from console.security import SESSION_KEY, current_staff
from foundation import clock, db
from foundation.errors import DomainError
from foundation.staff import services as staff_services
from foundation.staff.models import StaffSession


class AccountView(StaffView):
    def is_accessible(self) -> bool:
        # Reachable before TOTP is set up, or staff could never satisfy the policy.
        return current_staff() is not None

    @expose("/", methods=["GET"])
    def index(self):
        staff = current_staff()
        sessions = db.session().scalars(
            select(StaffSession).where(StaffSession.staff_id == staff.id,
                                       StaffSession.revoked_at.is_(None),
                                       StaffSession.expires_at > clock.now())
            .order_by(StaffSession.created_at.desc())).all()
        secret = staff.totp_secret if not staff.totp_enabled else None
        return self.render("console/account.html", staff=staff, sessions=sessions,
                           secret=secret,
                           uri=staff_services.totp_uri(staff) if secret else None,
                           totp_form=TotpForm(), confirm_form=ConfirmForm())

    @expose("/totp/start", methods=["POST"])
    def totp_start(self):
        if ConfirmForm().validate_on_submit():
            try:
                staff_services.begin_totp_enrollment(db.session(), current_staff())
            except DomainError as exc:
                flash(exc.message, "warning")
        return redirect(url_for(".index"))

    @expose("/totp/confirm", methods=["POST"])
    def totp_confirm(self):
        form = TotpForm()
        if form.validate_on_submit():
            s = db.session()
            try:
                staff_services.confirm_totp(s, current_staff(), form.code.data)
            except DomainError as exc:
                s.rollback()
                flash(exc.message, "danger")
            else:
                flash("Two-factor sign-in is on.", "success")
        return redirect(url_for(".index"))

    @expose("/sessions/end-all", methods=["POST"])
    def end_all_sessions(self):
        if ConfirmForm().validate_on_submit():
            staff = current_staff()
            staff_services.revoke_all_sessions(db.session(), staff)
            staff_services.record_sign_out_everywhere(db.session(), staff)
            session.pop(SESSION_KEY, None)
            flash("Every session of yours has ended; sign in again.", "info")
            return redirect(url_for("auth.sign_in"))
        return redirect(url_for(".index"))
