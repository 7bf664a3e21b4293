"""What the exposure dashboard shows: who the feed's impressions went to.

Integrity is measured the way large platforms report it: the share of impressions that
landed on flagged items (Meta reports about 0.1% violating), by day, and the share by
seller tier (new sellers must keep their exposure).  Read from the impressions table
with one grouped query over the window, after flushing the pages buffered in Redis (so
the page shows what was served up to now, not up to the last periodic flush).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from foundation import clock

from .impressions import flush_impressions
from .models import FeedImpression, RecommendationRun
from .runs import recent_runs

WINDOW_DAYS = 14


@dataclass(frozen=True)
class DayExposure:
    day: date
    impressions: int
    flagged: int

    @property
    def flagged_share(self) -> float | None:
        return self.flagged / self.impressions if self.impressions else None


@dataclass(frozen=True)
class Exposure:
    days: list[DayExposure]
    by_tier: dict[str, int]                 # tier -> impressions in the window
    by_tier_per_day: dict[str, list[int]]   # tier -> impressions per day (as `days`)
    total: int
    flagged: int
    runs: list[RecommendationRun]

    @property
    def flagged_share(self) -> float | None:
        return self.flagged / self.total if self.total else None

    def tier_share(self, tier: str) -> float | None:
        return self.by_tier.get(tier, 0) / self.total if self.total else None


def exposure(s: Session, days: int = WINDOW_DAYS, now: datetime | None = None) -> Exposure:
    now = now or clock.now()
    flush_impressions(s)
    first = (now - timedelta(days=days - 1)).date()
    since = datetime.combine(first, datetime.min.time(), tzinfo=now.tzinfo)
    day_list = [first + timedelta(days=i) for i in range(days)]
    served_day = func.date(FeedImpression.served_at)
    totals: dict[date, list[int]] = {d: [0, 0] for d in day_list}
    tiers: dict[str, dict[date, int]] = {}
    for day, tier, flagged, count in s.execute(
            select(served_day, FeedImpression.seller_tier, FeedImpression.flagged, func.count())
            .where(FeedImpression.served_at >= since)
            .group_by(served_day, FeedImpression.seller_tier, FeedImpression.flagged)):
        key = day if isinstance(day, date) else date.fromisoformat(str(day))
        if key not in totals:
            continue
        totals[key][0] += count
        totals[key][1] += count if flagged else 0
        tiers.setdefault(tier, {})
        tiers[tier][key] = tiers[tier].get(key, 0) + count
    return Exposure(
        days=[DayExposure(d, *totals[d]) for d in day_list],
        by_tier={tier: sum(per_day.values()) for tier, per_day in sorted(tiers.items())},
        by_tier_per_day={tier: [per_day.get(d, 0) for d in day_list]
                         for tier, per_day in sorted(tiers.items())},
        total=sum(v[0] for v in totals.values()), flagged=sum(v[1] for v in totals.values()),
        runs=recent_runs(s, 8))
