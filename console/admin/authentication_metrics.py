"""Authentication metrics: the queue now, the SLA, reviewers' output, agreement, accuracy."""
from __future__ import annotations

from flask import request
from flask_admin import expose

from authentication import metrics
from console.admin.base import StaffView
from console.charts import bar_chart, line_chart, share_bars
from foundation import db
from foundation.staff.permissions import Permission

WINDOW_CHOICES = (1, 7, 14, 30, 90)
DEFAULT_WINDOW_DAYS = 7


def parse_window_days(raw: str | None) -> tuple[int, str | None]:
    """The window asked for, or the default and a message saying why it was not used."""
    if raw is None or raw == "":
        return DEFAULT_WINDOW_DAYS, None
    if raw.isdigit() and int(raw) in WINDOW_CHOICES:
        return int(raw), None
    return DEFAULT_WINDOW_DAYS, ("The window must be one of "
                                 + ", ".join(map(str, WINDOW_CHOICES))
                                 + f" days; showing {DEFAULT_WINDOW_DAYS}.")


def charts_for(figures: dict) -> dict:
    depth = figures["queue_depth"]
    daily = figures["decisions_per_day"]
    mix = figures["verdict_mix"]
    sla, agreed, accuracy = figures["sla"], figures["agreement"], figures["accuracy"]
    verdicts = tuple(mix["by_verdict"])
    return {
        "queue": bar_chart([(state, {"items": n}) for state, n in depth.items()],
                           ("items",), title="Open requests per state"),
        "daily": line_chart(daily["days"], [(r["name"], r["counts"])
                                             for r in daily["reviewers"]],
                            title="Decisions per reviewer per day"),
        "mix": bar_chart(list(mix["by_stage"].items()), verdicts,
                         title="Verdicts per review stage"),
        "rates": share_bars([
            ("SLA met", sla["share"], f"{sla['met']} of {sla['closed']}"),
            ("Second review agreed", agreed["rate"],
             f"{agreed['agreed']} of {agreed['second_reviews']}"),
            ("First verdicts upheld", accuracy["accuracy"],
             f"{accuracy['checked'] - accuracy['against']} of {accuracy['checked']}"),
        ], title="Service level and agreement"),
        "accuracy": share_bars([
            (r["name"], r["accuracy"], f"{r['against']} overturned of {r['checked']}")
            for r in accuracy["reviewers"]], title="Accuracy per reviewer"),
    }


class AuthenticationMetricsView(StaffView):
    required_permission = Permission.AUTHENTICATION_METRICS

    @expose("/")
    def index(self):
        days, message = parse_window_days(request.args.get("days"))
        figures = metrics.summary(db.session(), days)
        return self.render("console/authentication_metrics.html", figures=figures,
                           charts=charts_for(figures), days=days, choices=WINDOW_CHOICES,
                           message=message)
