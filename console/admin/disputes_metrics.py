"""Disputes metrics: volume, outcomes, resolution time, SLA, refunds, agents' throughput
and the case rates that become trust signals, over a range of days."""
from __future__ import annotations

from datetime import date

from flask import request
from flask_admin import expose

from console.admin.base import StaffView
from console.charts import bar_chart, line_chart, share_bars
from disputes import metrics
from foundation import db
from foundation.errors import ValidationFailed
from foundation.staff.permissions import Permission

DEFAULT_RANGE_DAYS = 30
# The charts leave about 16 characters for a label; the tables beside them say it in full.
SHORT_LABELS = {
    "undisclosed_damage": "damage", "wrong_or_missing_item": "wrong or missing",
    "not_as_described": "not as described", "not_authentic": "not authentic",
    "closed_refunded": "refunded", "closed_split": "split", "closed_released": "released",
    "closed_withdrawn": "withdrawn", "refund_with_return": "refund + return",
    "refund_without_return": "refund only", "split": "split",
    "release_to_seller": "release", "request_info": "request info",
    "send_to_authentication": "authentication",
}


def short(code: str) -> str:
    return SHORT_LABELS.get(code, code.replace("_", " "))


def parse_range(raw_from: str | None, raw_to: str | None) -> tuple[metrics.DateRange,
                                                                      str | None]:
    """The range asked for, or the last DEFAULT_RANGE_DAYS days and a message saying why
    the one asked for was not used."""
    default = metrics.last_days(DEFAULT_RANGE_DAYS)
    if not raw_from and not raw_to:
        return default, None
    try:
        first = date.fromisoformat(raw_from or "")
        last = date.fromisoformat(raw_to or "")
    except ValueError:
        return default, ("Give both dates as YYYY-MM-DD; showing the last "
                         f"{DEFAULT_RANGE_DAYS} days.")
    try:
        return metrics.DateRange(first, last), None
    except ValidationFailed as exc:
        return default, f"{exc.message} Showing the last {DEFAULT_RANGE_DAYS} days."


def hours(seconds: int | None) -> str:
    if seconds is None:
        return "n/a"
    return f"{seconds / 3600:.1f} h"


def charts_for(figures: dict) -> dict:
    volume, outcomes = figures["volume"], figures["outcomes"]
    refunds, throughput = figures["refunds"], figures["throughput"]
    sla, rates = figures["sla"], figures["case_rates"]
    return {
        "volume": bar_chart([(short(reason), {"cases": n})
                             for reason, n in volume["by_reason"].items()], ("cases",),
                            title="Cases opened per reason"),
        "outcomes": bar_chart([(short(state), {"closed": n})
                               for state, n in outcomes["by_state"].items()], ("closed",),
                              title="Cases closed per outcome"),
        "decisions": bar_chart([(short(outcome), {"decisions": n})
                                for outcome, n in outcomes["decisions_by_outcome"].items()],
                               ("decisions",), title="Decisions per outcome"),
        "refunds": line_chart(refunds["days"],
                              [("refunded (Rs)", [p // 100 for p in refunds["paise"]])],
                              title="Refunds paid per day, in rupees"),
        "throughput": line_chart(throughput["days"],
                                 [(a["name"], a["counts"]) for a in throughput["agents"]],
                                 title="Decisions per agent per day"),
        "rates": share_bars([
            ("SLA met", sla["share"], f"{sla['met']} of {sla['closed']}"),
            ("Orders disputed", rates["cases_per_order"],
             f"{rates['cases']} of {rates['orders']}"),
            ("Cases won by buyers", (rates["won_by_buyers"] / rates["cases"]
                                     if rates["cases"] else None),
             f"{rates['won_by_buyers']} of {rates['cases']}"),
        ], title="Service level and case rates"),
        "sellers": share_bars([
            (s["username"], s["lost_per_order"], f"{s['lost']} lost of {s['orders_sold']}")
            for s in rates["sellers"]], title="Cases lost per order sold, worst sellers"),
    }


class DisputesMetricsView(StaffView):
    required_permission = Permission.DISPUTES_METRICS

    @expose("/")
    def index(self):
        dates, message = parse_range(request.args.get("from"), request.args.get("to"))
        figures = metrics.summary(db.session(), dates)
        return self.render("console/disputes_metrics.html", figures=figures,
                           charts=charts_for(figures), dates=dates, message=message,
                           hours=hours)
