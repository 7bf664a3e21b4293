"""The one place where Flask-Admin is closed: every console view inherits from here.

Flask-Admin lets everyone in by default and leaves CSRF to the application.
`StaffOnly.is_accessible` demands a signed-in, active staff member holding the
view's permission (and TOTP where policy requires it); model views default to
read-only, use FlaskForm (CSRF) for every form, and never count whole tables.
"""
from __future__ import annotations

from datetime import datetime

from flask import abort, redirect, url_for
from flask_admin import AdminIndexView, BaseView
from flask_admin.contrib.sqla import ModelView
from flask_admin.contrib.sqla.filters import FilterConverter
from flask_admin.model import filters, typefmt
from flask_wtf import FlaskForm

from console.security import current_path, current_staff, settings
from foundation import db
from foundation.staff.permissions import Permission


class StaffOnly:
    required_permission: Permission = Permission.CONSOLE_ACCESS

    def is_accessible(self) -> bool:
        staff = current_staff()
        if staff is None or not staff.can(self.required_permission):
            return False
        return staff.totp_enabled or not settings().totp_required

    def is_visible(self) -> bool:
        return self.is_accessible()

    def inaccessible_callback(self, name, **kwargs):
        staff = current_staff()
        if staff is None:
            return redirect(url_for("auth.sign_in", next=current_path()))
        if settings().totp_required and not staff.totp_enabled:
            return redirect(url_for("account.index"))
        abort(403)


class StaffView(StaffOnly, BaseView):
    """A custom console page."""


class ConsoleFilterConverter(FilterConverter):
    """Teach Flask-Admin's filters our aware-UTC datetime column type."""

    @filters.convert("utcdatetime")
    def conv_utc_datetime(self, column, name, **kwargs):
        return self.conv_datetime(column, name, **kwargs)


def _utc_minutes(_view, value, _name=None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC")


TYPE_FORMATTERS = {**typefmt.BASE_FORMATTERS, datetime: _utc_minutes}
DETAIL_TYPE_FORMATTERS = {**typefmt.DETAIL_FORMATTERS, datetime: _utc_minutes}


class StaffModelView(StaffOnly, ModelView):
    """A read-only, searchable list over a table; subclasses opt in to more."""

    form_base_class = FlaskForm
    filter_converter = ConsoleFilterConverter()
    column_type_formatters = TYPE_FORMATTERS
    column_type_formatters_detail = DETAIL_TYPE_FORMATTERS
    can_create = False
    can_edit = False
    can_delete = False
    can_view_details = True
    can_export = False
    simple_list_pager = True  # no COUNT(*) over large tables on every page
    page_size = 50
    can_set_page_size = True

    def __init__(self, model, **kwargs):
        super().__init__(model, db.session, **kwargs)


class ConsoleHomeView(StaffOnly, AdminIndexView):
    def inaccessible_callback(self, name, **kwargs):
        return StaffOnly.inaccessible_callback(self, name, **kwargs)

