"""Admins manage staff accounts here; every change goes through the staff services
(which write the audit record) and takes effect on the account's sessions at once."""
from __future__ import annotations

from flask import flash, redirect, url_for
from flask_admin import expose
from sqlalchemy import select

from console.admin.base import StaffView
from console.forms import ChangeRoleForm, ConfirmForm, CreateStaffForm, ResetPasswordForm
from console.security import current_staff, settings
from foundation import clock, db
from foundation.errors import DomainError
from foundation.staff import services as staff_services
from foundation.staff.models import StaffUser
from foundation.staff.permissions import ROLE_LABELS, Permission


class StaffManagementView(StaffView):
    required_permission = Permission.STAFF_MANAGE

    @expose("/", methods=["GET", "POST"])
    def index(self):
        form = CreateStaffForm()
        if form.validate_on_submit():
            try:
                staff = staff_services.create_staff(
                    db.session(), settings(), email=form.email.data, role=form.role.data,
                    password=form.password.data, display_name=form.display_name.data,
                    actor=current_staff())
            except DomainError as exc:
                _show_error(form, exc)
            else:
                flash(f"Created {staff.email}.", "success")
                return redirect(url_for(".index"))
        members = db.session().scalars(select(StaffUser).order_by(StaffUser.email)).all()
        return self.render("console/staff.html", form=form, members=members,
                           role_labels={r.value: label for r, label in ROLE_LABELS.items()},
                           role_form=ChangeRoleForm(), confirm_form=ConfirmForm(),
                           password_form=ResetPasswordForm(), now=clock.now())

    @expose("/<int:staff_id>/role", methods=["POST"])
    def change_role(self, staff_id: int):
        form = ChangeRoleForm()
        return self._apply(form, staff_id, lambda s, staff: staff_services.change_role(
            s, current_staff(), staff, form.role.data), "Role changed; their sessions ended.")

    @expose("/<int:staff_id>/deactivate", methods=["POST"])
    def deactivate(self, staff_id: int):
        return self._apply(ConfirmForm(), staff_id, lambda s, staff: staff_services.set_active(
            s, current_staff(), staff, False), "Deactivated; every session ended.")

    @expose("/<int:staff_id>/activate", methods=["POST"])
    def activate(self, staff_id: int):
        return self._apply(ConfirmForm(), staff_id, lambda s, staff: staff_services.set_active(
            s, current_staff(), staff, True), "Reactivated.")

    @expose("/<int:staff_id>/password", methods=["POST"])
    def reset_password(self, staff_id: int):
        form = ResetPasswordForm()
        return self._apply(form, staff_id, lambda s, staff: staff_services.reset_password(
            s, settings(), current_staff(), staff, form.password.data),
            "Password reset; their sessions ended.")

    def _apply(self, form, staff_id: int, change, success: str):
        if not form.validate_on_submit():
            flash("The form was incomplete or expired; nothing changed.", "danger")
            return redirect(url_for(".index"))
        s = db.session()
        try:
            change(s, staff_services.get_staff(s, staff_id))
        except DomainError as exc:
            s.rollback()
            flash(exc.message, "danger")
        else:
            flash(success, "success")
        return redirect(url_for(".index"))


def _show_error(form, exc: DomainError) -> None:
    for name, message in exc.fields.items():
        field = getattr(form, name, None)
        if field is not None:
            field.errors = [*(field.errors or []), message]
    flash(exc.message, "danger")
