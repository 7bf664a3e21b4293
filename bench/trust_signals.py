"""How long does a full trust recompute take, and what does the feed's loader cost a page?

    INSTANCE_PATH=... DATABASE_URL=... python -m bench.trust_signals [--page 300] \
        [--calls 200] [--json bench/out/trust_signals.json]

Runs against the configured database (a seeded demo: `flask seed --listings N`).  It
times `recompute_all` twice in one run (the first writes history where a value changed;
the second, the anchor, finds everything unchanged and must append nothing), then
`load_trust` on pages of live listings (p50 and p99), and the per-seller GROUP BY counting
alone for every seller.
"""
from __future__ import annotations

import argparse
import time

from sqlalchemy import func, select

from bench.common import percentiles, write_json


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--page", type=int, default=300)
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--json", default=None)
    args = parser.parse_args()

    from console import create_app
    from foundation import db
    from foundation.config import Settings
    from marketplace_core.listings.models import Listing
    from trust.signals import counting, recompute, services
    from trust.signals.models import ItemRiskSnapshot, SellerTrustSnapshot

    app = create_app(Settings.from_env())
    result: dict = {}
    with app.app_context(), db.unit_of_work() as s:
        def history_rows() -> int:
            return sum(s.scalar(select(func.count()).select_from(m)) or 0
                       for m in (SellerTrustSnapshot, ItemRiskSnapshot))

        for label in ("recompute_all_first", "recompute_all_again"):
            before = history_rows()
            started = time.perf_counter()
            done = recompute.recompute_all(s, f"bench {label}")
            seconds = time.perf_counter() - started
            result[label] = {"subjects": done.done, "seconds": round(seconds, 3),
                             "ms_per_subject": round(1000 * seconds / max(done.done, 1), 3),
                             "history_rows_added": history_rows() - before}
        sellers = list(s.scalars(select(Listing.seller_id).distinct()))
        started = time.perf_counter()
        counting.seller_counts(s, sellers, services.current_weights(s)[1])
        result["count_every_seller_ms"] = round(1000 * (time.perf_counter() - started), 1)
        live = list(s.scalars(select(Listing.id).where(Listing.status == "live")))
        timings = []
        for call in range(args.calls):
            start = (call * 37) % max(1, len(live) - args.page)
            page = live[start:start + args.page]
            started = time.perf_counter()
            services.load_trust(s, page)
            timings.append(1000 * (time.perf_counter() - started))
        result["load_trust"] = {"page": args.page, "live_listings": len(live),
                                "sellers": len(sellers), **percentiles(timings)}
    print(result)
    if args.json:
        write_json(args.json, result)


if __name__ == "__main__":
    main()
