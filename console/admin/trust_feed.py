"""The console's view of "Just Picked for You" (Trust menu, trust.view):

- Member feed: pick a member; their page with trust and without it side by side, each
  item with its source, its model score and every trust adjustment, plus what trust
  removed and what the flagged-items cap held back.  A look is not an impression.
- Exposure: the share of impressions on flagged items per day and by seller tier
  (SVG charts), and the batch runs with their progress; trust.manage may start a
  precompute (audited; CSRF like every console form).
"""
from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask_admin import expose

from console import charts
from console.admin.base import StaffView
from console.security import current_staff
from foundation import db
from foundation.errors import DomainError, PermissionDenied
from foundation.staff.permissions import Permission
from marketplace_core.members.models import Member
from trust.recommender import exposure, feed, runs, schemas

REFRESH_SECONDS = 3


class TrustFeedView(StaffView):
    required_permission = Permission.TRUST_VIEW

    @expose("/")
    def index(self):
        raw = request.args.get("member", "").strip()[:40]
        s = db.session()
        member, page, error = None, None, None
        if raw:
            member = _find_member(s, raw)
            if member is None:
                error = f"No member {raw!r} (give an id or a username)."
            else:
                served = feed.just_picked(s, member.id, 12, record=False, compare=True)
                page = schemas.staff_feed_json(served)
        return self.render("console/trust_feed.html", query=raw, member=member, page=page,
                           error=error)


def _find_member(s, raw: str) -> Member | None:
    if raw.isdigit():
        return s.get(Member, int(raw))
    return s.query(Member).filter(Member.username == raw).one_or_none()


class TrustExposureView(StaffView):
    required_permission = Permission.TRUST_VIEW

    @expose("/")
    def index(self):
        seen = exposure.exposure(db.session())
        labels = [d.day.isoformat() for d in seen.days]
        busy = any(r.state in ("pending", "running") for r in seen.runs)
        return self.render(
            "console/trust_exposure.html", e=seen, refresh=REFRESH_SECONDS if busy else None,
            can_manage=_can_manage(),
            flagged_chart=charts.line_chart(
                labels, [("impressions", [d.impressions for d in seen.days]),
                         ("on flagged items", [d.flagged for d in seen.days])],
                title="Feed impressions per day, and those on flagged items"),
            tier_chart=charts.share_bars(
                [(tier, seen.tier_share(tier), f"{count} impressions")
                 for tier, count in seen.by_tier.items()],
                title="Share of impressions by seller tier"),
            tier_days_chart=charts.line_chart(
                labels, list(seen.by_tier_per_day.items()),
                title="Impressions per day by seller tier"))

    @expose("/precompute", methods=["POST"])
    def precompute(self):
        if not _can_manage():
            raise PermissionDenied("Your role lacks the trust.manage permission.")
        try:
            run = runs.start_run(db.session(), "precompute",
                                 f"staff:{current_staff().id}", staff=current_staff())
        except DomainError as exc:
            db.session().rollback()
            flash(exc.message, "error")
            return redirect(url_for(".index"))
        flash(f"Precompute run {run.id} is queued.", "success")
        return redirect(url_for(".index"))


def _can_manage() -> bool:
    staff = current_staff()
    return staff is not None and staff.can(Permission.TRUST_MANAGE)
