"""The fraud analysts' trust pages: sellers by tier and score, a seller's breakdown and
history, a listing's risk and history, and the trust weights as versioned settings.

Every page needs trust.view; changing the weights needs trust.manage and the CSRF token
the console checks on every form.  The POST parses the form, calls one service
(`trust.signals.services.set_weights`, which validates, versions and audits), and
redirects; a refusal rolls the request back and shows the messages per field.
"""
from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_admin import expose

from console import charts
from console.admin.base import StaffView
from console.security import current_staff
from foundation import db, short_cache
from foundation.errors import DomainError, ValidationFailed
from foundation.staff.permissions import Permission
from trust.signals import services
from trust.types import SellerTier
from trust.weights import TrustWeights
from vision.calibration import precision_in_force

PAGE_SIZE = 50


class TrustSellersView(StaffView):
    required_permission = Permission.TRUST_VIEW

    @expose("/")
    def index(self):
        tier = request.args.get("tier", "").strip()[:12] or None
        max_score = _float_arg("max_score")
        page = max(0, request.args.get("page", 0, type=int) or 0)
        s = db.session()
        try:
            rows = services.sellers_overview(s, tier=tier, max_score=max_score,
                                             limit=PAGE_SIZE + 1, offset=page * PAGE_SIZE)
        except ValidationFailed as exc:
            flash(exc.message, "error")
            rows, tier = services.sellers_overview(s, limit=PAGE_SIZE + 1), None
        return self.render("console/trust_sellers.html", rows=rows[:PAGE_SIZE],
                           more=len(rows) > PAGE_SIZE, page=page, tier=tier or "",
                           max_score=request.args.get("max_score", "")[:10],
                           tiers=[t.value for t in SellerTier], counts=short_cache.remembered(
                               "trust.tier_counts", lambda: services.tier_counts(s)))

    @expose("/sellers/<int:seller_id>")
    def seller(self, seller_id: int):
        detail = _or_404(services.seller_detail, seller_id)
        return self.render("console/trust_seller.html", d=detail,
                           chart=score_chart(detail["history"]))

    @expose("/listings/<int:listing_id>")
    def listing(self, listing_id: int):
        detail = _or_404(services.listing_detail, listing_id)
        return self.render("console/trust_listing.html", d=detail)


class TrustWeightsView(StaffView):
    required_permission = Permission.TRUST_VIEW

    @expose("/")
    def index(self):
        s = db.session()
        version, weights = services.current_weights(s)
        return self.render("console/trust_weights.html", version=version,
                           weights=weights.as_dict(), defaults=TrustWeights().as_dict(),
                           history=services.weights_history(s), can_manage=_can_manage(),
                           duplicate_precision=precision_in_force(s))

    @expose("/", methods=["POST"])
    def change(self):
        if not _can_manage():
            abort(403)
        s = db.session()
        current = services.current_weights(s)[1].as_dict()
        submitted = {name: request.form.get(name, "").strip()[:30] for name in current}
        changed = {name: value for name, value in submitted.items()
                   if value != "" and value != _shown(current[name])}
        try:
            row = services.set_weights(s, current_staff(), changed,
                                       request.form.get("note", "")[:1000])
        except DomainError as exc:
            db.session().rollback()
            fields = "; ".join(f"{k}: {v}" for k, v in exc.fields.items())
            flash(f"{exc.message}{' (' + fields + ')' if fields else ''} Nothing was changed.",
                  "error")
            return redirect(url_for(".index"), code=303)
        flash(f"Trust weights version {row.version} is in force; every seller and listing "
              "is being re-scored.", "success")
        return redirect(url_for(".index"))


def score_chart(history) -> object:
    """The seller's score over time (days since the first snapshot)."""
    if not history:
        return None
    start = history[0].computed_at
    points = [((row.computed_at - start).total_seconds() / 86400, row.score)
              for row in history]
    return charts.xy_chart([("score", points)], title="Trust score over time",
                           x_label="days since first scored", y_label="score",
                           x_range=None if len(points) > 1 else (0.0, 1.0),
                           markers=True, width=520, height=240)


def _shown(value) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _float_arg(name: str) -> float | None:
    raw = request.args.get(name, "").strip()[:10]
    try:
        return float(raw) if raw else None
    except ValueError:
        flash(f"{name.replace('_', ' ')} must be a number; ignored.", "error")
        return None


def _or_404(fn, key: int):
    try:
        return fn(db.session(), key)
    except DomainError as exc:
        if exc.status == 404:
            abort(404)
        raise


def _can_manage() -> bool:
    staff = current_staff()
    return staff is not None and staff.can(Permission.TRUST_MANAGE)
