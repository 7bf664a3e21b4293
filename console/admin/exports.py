"""Analysts' CSV exports: a page listing those the role may use, and the downloads."""
from __future__ import annotations

from flask import Response, abort, request
from flask_admin import expose

from console import exports
from console.admin.base import StaffView
from console.security import current_staff, settings
from foundation import db


class ExportsView(StaffView):
    @expose("/")
    def index(self):
        period = exports.Period.parse(None, None)
        return self.render("console/exports.html",
                           exports=exports.available_to(current_staff()), period=period)

    @expose("/<export>.csv")
    def download(self, export: str):
        if export not in exports.EXPORTS:
            abort(404)
        period = exports.Period.parse(request.args.get("from"), request.args.get("to"))
        text, _ = exports.export_csv(db.session(), current_staff(), export, period,
                                     settings().EXPORT_MAX_ROWS)
        filename = f"{export}-{period.start.isoformat()}-{period.end.isoformat()}.csv"
        return Response(text, mimetype="text/csv", headers={
            "Content-Disposition": f'attachment; filename="{filename}"'})
